"""The entity mapping: which SOAP operation reads a page, how filter and bookmark are passed,
which operation updates, and which SOAP field becomes which domain field.

Every section is typed; a field may be written as a plain element name (``email = "E_Mail"``)
or as a table (``company = { field = "Name", transform = "strip" }``). Transforms are looked up
in the transform registry (``shoploop plugins`` lists them) when the connector is built.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Strict):
    """One SOAP element ↔ one domain field. ``value`` instead of ``field``: a constant."""

    field: str | None = None
    value: Any = None
    transform: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    write_transform: str | None = Field(
        default=None, description="Applied to the domain value before it is sent (writes).")
    write_options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"field": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _field_or_value(self) -> FieldSpec:
        if (self.field is None) == (self.value is None):
            raise ValueError("give either `field` (a SOAP element) or `value` (a constant)")
        return self


FieldMap = dict[str, FieldSpec]


class ReadSpec(_Strict):
    """How one page of records is asked for. Defaults are NAV's ``ReadMultiple``."""

    operation: str = "ReadMultiple"
    records_path: str = Field(
        default="", description="Dotted path from the operation's result to the record list.")
    size_param: str = "setSize"
    bookmark_param: str = Field(default="bookmarkKey",
                                description="Parameter (dotted path) that continues a read.")
    bookmark_field: str = Field(
        default="Key", description="Element of the last record whose value continues the read.")
    filter_param: str | None = Field(
        default="filter", description="NAV-style list of {field, criteria} filters; None: none.")
    filter_field: str = "Field"
    filter_criteria: str = "Criteria"
    match_all_field: str | None = Field(
        default=None, description="When a read has no condition but the WSDL requires a "
                                  "filter (NAV's ReadMultiple), one filter on this field with "
                                  "an empty criteria is sent: it matches every record. None: "
                                  "the id field (a reward's document_number_field).")
    match_all_criteria: str = Field(
        default="", description="The criteria of that filter: empty sets no filter on the "
                                "field (NAV filter convention; see docs/erp-soap.md).")
    since_param: str | None = Field(
        default=None, description="Parameter (dotted path) taking the modified-since watermark "
                                  "when the ERP has no filter list.")


class EntityMapping(_Strict):
    """One stream (customers, orders, products, installed base) on one SOAP service."""

    wsdl: str | None = Field(
        default=None, description="This stream's own WSDL (URL or file); None: the connection's. "
                                  "{page} is replaced by `page` (NAV publishes one per page).")
    page: str | None = Field(default=None, description="NAV page service name (preset).")
    service: str | None = Field(default=None, description="WSDL service; None: the first.")
    port: str | None = None
    page_size: int = Field(default=100, gt=0)
    id_field: str = Field(description="Element holding the record's id (the primary key).")
    key_field: str | None = Field(
        default="Key", description="Element with the concurrency key sent back on update.")
    modified_field: str | None = Field(
        default=None, description="Last-modified element: incremental reads filter on it. "
                                  "Without one, every read is a full scan with hash-based "
                                  "change detection.")
    modified_lookback: float = Field(
        default=300.0, ge=0,
        description="Seconds an incremental pass reaches back before the newest stamp of the "
                    "last one: a record saved during a long pass may carry an older stamp than "
                    "records read after it. Records already returned with the same stamp are "
                    "skipped, so nothing comes twice.")
    read: ReadSpec = Field(default_factory=ReadSpec)
    update_operation: str | None = None
    update_element: str | None = Field(
        default=None, description="Parameter wrapping the record in the update call "
                                  "(NAV: the page name); None: fields are the parameters.")
    update_multiple_operation: str | None = Field(
        default=None, description="Batch update of several records in one call (NAV: "
                                  "UpdateMultiple); on any fault each record is written alone.")
    update_multiple_element: str | None = Field(
        default=None, description="Parameter holding the list (NAV: <page>_List).")
    update_result_path: str = ""
    fields: FieldMap = Field(default_factory=dict)
    attributes: FieldMap = Field(default_factory=dict)
    document_field: str | None = Field(
        default=None, description="Orders from lines: lines with one value form one order.")
    line_fields: FieldMap = Field(default_factory=dict)
    concurrency_fault: str = Field(
        default=r"(?i)other user has modified|modified by another user|row version",
        description="Regular expression recognising the ERP's optimistic-concurrency fault.")


class RewardMapping(_Strict):
    """How a reward document (credit note or free-of-charge order) is created and found."""

    wsdl: str | None = None
    page: str | None = None
    service: str | None = None
    port: str | None = None
    create_operation: str = "Create"
    create_element: str | None = None
    create_result_path: str = ""
    read: ReadSpec = Field(default_factory=ReadSpec)
    document_number_field: str = "No"
    external_number_field: str = Field(
        default="External_Document_No",
        description="Where the idempotency key goes: the reward is found again by it.")
    external_number_length: int = Field(default=35, gt=8,
                                        description="NAV: Code[35]; longer keys are hashed.")
    fields: dict[str, str] = Field(
        default_factory=dict, description="Reward field (recipient_customer_id, amount, "
                                          "currency, note, product_id, quantity, date) → element.")
    constants: dict[str, Any] = Field(
        default_factory=dict, description="Element → fixed value on every document (a gift "
                                          "order's Unit_Price = 0, a reason code, …).")


class ErpMapping(_Strict):
    customers: EntityMapping | None = None
    orders: EntityMapping | None = None
    products: EntityMapping | None = None
    installed_base: EntityMapping | None = None
    rewards: dict[Literal["credit_note", "gift_order"], RewardMapping] = Field(
        default_factory=dict)
    reward_kind: Literal["credit_note", "gift_order"] = Field(
        default="credit_note", description="What a reward of another kind is issued as.")

    @field_validator("orders")
    @classmethod
    def _orders_have_lines(cls, value: EntityMapping | None) -> EntityMapping | None:
        if value is not None and value.document_field and not value.line_fields:
            raise ValueError("orders read from lines (document_field) need line_fields")
        return value

    def transform_names(self) -> set[str]:
        names: set[str] = set()
        for entity in (self.customers, self.orders, self.products, self.installed_base):
            if entity is None:
                continue
            for spec in (*entity.fields.values(), *entity.attributes.values(),
                         *entity.line_fields.values()):
                names.update(n for n in (spec.transform, spec.write_transform) if n)
        return names
