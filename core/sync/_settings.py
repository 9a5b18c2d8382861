"""The ``[sync]`` table: which connection is master for which attribute, where it goes.

Pure pydantic (the config loader imports it at start-up). Checks that need the connections
and the transform registry — does the master exist, can the target write attributes, is the
transform installed — run in :func:`shoploop.sync.plan.build_plan`, with the same key paths.

    [sync]
    match_keys = ["email", "vat_id", "customer_number"]
    link_attribute = "customer_number"      # the ERP number, written into every shop

    [sync.attributes.customer_group]
    master = "erp"                          # a connection, or "derived"
    field = "customer_group"                # the master's field or attribute; default: the name
    transform = "map"
    options = { values = { "10" = "retail", "20" = "wholesale" } }
    policy = "master_wins"                  # or "newest_wins", "keep_non_empty"
    targets = ["shop", "woo"]               # or a table per target (key, transform, options)
    allow_clear = false                     # true: an empty master value may clear the target's
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DERIVED = "derived"
"""The master of attributes computed by ``customer_attributes`` plugins from the mirror."""

Policy = Literal["master_wins", "newest_wins", "keep_non_empty"]
MatchKey = Literal["email", "vat_id", "customer_number"]

CUSTOMER_FIELDS = (
    "email", "first_name", "last_name", "company", "phone", "kind", "customer_number",
    "vat_id", "accepts_marketing", "tags",
)
"""Fields of ``Customer`` a mapping may read besides its ``attributes``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetSpec(_Strict):
    """How one target receives the attribute."""

    key: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="The attribute's key in the target (Shopify metafield or tag attribute, "
                    "WooCommerce meta key without the prefix, ERP attribute of the mapping); "
                    "default: the attribute's name. This is how a value is renamed.")
    transform: str | None = Field(default=None, description="Applied after the master's one.")
    options: dict[str, Any] = Field(default_factory=dict)


class AttributeSpec(_Strict):
    master: str = Field(min_length=1, description='A connection name, or "derived".')
    field: str | None = Field(
        default=None, min_length=1,
        description="Where the master holds the value: a customer field (email, kind, vat_id, "
                    "…) or one of its attributes; default: the attribute's name.")
    transform: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    policy: Policy = "master_wins"
    allow_clear: bool = Field(
        default=False,
        description="Let empty master values clear what the targets hold, even when no "
                    "customer of the master has the field (a run refuses such a field as "
                    "a misspelling otherwise), and leave this attribute's clears out of "
                    "the mass-clear guard (sync.max_clear_share).")
    targets: dict[str, TargetSpec] | None = Field(
        default=None, description="Target connections; default: every other connection that "
                                  "writes customer attributes.")

    @field_validator("targets", mode="before")
    @classmethod
    def _list_of_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not all(isinstance(name, str) for name in value):
                raise ValueError("a list of targets holds connection names")
            if len(set(value)) != len(value):
                raise ValueError("a target is listed twice")
            return {name: {} for name in value}
        return value


class SyncSettings(_Strict):
    match_keys: list[MatchKey] = Field(
        default_factory=lambda: list[MatchKey](["email"]),
        description="Tried in order after bindings and the link attribute; a key that matches "
                    "several customers in a target is reported as ambiguous, never guessed.")
    link_attribute: str | None = Field(
        default="customer_number", min_length=1, max_length=64,
        description="Attribute written into each shop holding the link master's customer "
                    "number, so the link survives e-mail changes; empty to disable.")
    link_master: str | None = Field(
        default=None, description="Whose customer number is the link; default: the master "
                                  "of the mapped attributes when there is exactly one.")
    create_missing: list[str] = Field(
        default_factory=list,
        description="Targets in which customers of the master with no match are created.")
    derived_from: list[str] | None = Field(
        default=None,
        description="Connections whose orders and installed base feed derived attributes; "
                    "default: every connection that reads them. Name only the ERP when the "
                    "shops' orders are transferred into it, so no order counts twice.")
    max_clear_share: float = Field(
        default=0.1, ge=0.0, le=1.0,
        description="The mass-clear guard: a run that would clear more than this share of "
                    "the values a target holds for the mapped keys (of the customers it "
                    "compares) is refused before anything is written, unless run with "
                    "--allow-mass-clear. Attributes with allow_clear = true do not count.")
    min_mass_clear: int = Field(
        default=10, ge=1,
        description="Fewer clears than this in a target are never a mass clear (so one "
                    "emptied value in a small shop does not block the run).")
    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)

    @field_validator("link_attribute", mode="before")
    @classmethod
    def _empty_disables(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _unique_match_keys(self) -> SyncSettings:
        if len(set(self.match_keys)) != len(self.match_keys):
            raise ValueError("match_keys lists a key twice")
        return self
