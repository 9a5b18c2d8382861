"""The ``[reco]`` table: how the data pool is unified and the model built.

Pure pydantic (the config loader imports it at start-up and validates it once into
``Config.reco``); checks that need the connections run when a model is built.

    [reco]
    product_key = "sku"                 # or "id", or "attributes.<name>" (an ERP item number)
    order_sources = ["erp", "shop"]     # default: every connection with mirrored orders
    min_support = 3                     # bought together in at least 3 orders

    [reco.placements.product_page]      # the rules per placement (_rules_settings)
    rules = { price_band = 1.5 }
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._rules_settings import PlacementSettings, RuleSettings, placements_with_defaults

_KEY = re.compile(r"^(sku|id|attributes\.[A-Za-z0-9_.-]+)$")
_FAMILY_KEY = re.compile(r"^(category|vendor|attributes\.[A-Za-z0-9_.-]+)$")

OrderStatus = Literal["pending", "paid", "fulfilled", "cancelled", "refunded",
                      "partially_refunded"]
COUNTED_STATUSES: tuple[OrderStatus, ...] = ("paid", "fulfilled", "partially_refunded")


class RecoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_key: str = Field(
        default="sku",
        description='What makes products of different connections the same product: "sku", '
                    '"id" (the external id; for connections that share ids) or '
                    '"attributes.<name>" (e.g. the ERP item number a shop keeps in an '
                    "attribute).")
    order_sources: list[str] | None = Field(
        default=None,
        description="Connections whose mirrored orders form the history; default: all. Name "
                    "only the ERP when the shops' orders are transferred into it, so no "
                    "order counts twice.")
    statuses: list[OrderStatus] = Field(
        default_factory=lambda: list[OrderStatus](COUNTED_STATUSES),
        description="Order statuses that count as a purchase.")
    min_support: int = Field(
        default=3, ge=1, description="Bought together in at least this many orders before "
                                     "the pair is scored at all.")
    min_llr: float = Field(
        default=3.84, ge=0, description="Least log-likelihood ratio (G²) a pair needs; 3.84 "
                                        "is significance at 5 % for one degree of freedom.")
    confidence_prior: float = Field(
        default=5.0, ge=0,
        description="Orders of the partner's base rate a pair's confidence is smoothed with: "
                    "score = (together + m·P(b)) / (orders with the anchor + m).")
    neighbours: int = Field(
        default=50, ge=1, le=1000, description="Products kept per product (the best by G²).")
    min_repeats: int = Field(
        default=3, ge=3, description="Orders of one product by one customer (on separate "
                                     "days) before its purchase interval is trusted.")
    due_window: float = Field(
        default=0.2, ge=0, lt=1,
        description="Due when the days since the last order reach (1 - due_window) times the "
                    "customer's median interval.")
    lapsed_after: float = Field(
        default=3.0, gt=1, description="No longer due after this many median intervals "
                                       "without an order: the customer stopped buying it.")
    keep_models: int = Field(default=3, ge=1, description="Model versions kept in the store.")
    # -- upsell (_upsell.py) ---------------------------------------------------------------
    upsell_family: list[str] = Field(
        default_factory=lambda: ["category", "attributes.family"], min_length=1,
        description='What makes products one family: "category", "vendor" or '
                    '"attributes.<name>". Products with the same values of these (a missing '
                    "value counts as a value) are one family; a product with none has none.")
    upsell_min_ratio: float = Field(
        default=1.1, gt=1, description="An upsell costs at least this times the anchor.")
    upsell_max_ratio: float = Field(
        default=2.0, gt=1, description="An upsell costs at most this times the anchor.")
    upsell_alternatives: int = Field(
        default=3, ge=1, le=50, description="Premium alternatives kept per product (the "
                                            "nearest in price that add something).")
    upsell_weight: float = Field(
        default=0.5, gt=0, le=1, description="The score of an alternative at the bottom of "
                                             "the price band (half of it at the top).")
    upsell_ignore: list[str] = Field(
        default_factory=lambda: ["upsell_ids", "cross_sell_ids", "premium_of", "fits",
                                 "industries", "price_band", "segment"],
        description="Product attributes that place a product in the catalogue rather than say "
                    "what it does: never compared.")
    # -- popular in the customer's segment (_segments.py) -------------------------------------
    segment_keys: list[str] = Field(
        default_factory=lambda: ["industry", "customer_group", "lifecycle_stage"],
        description='Customer attributes that name a segment ("kind" is the b2b/b2c field); '
                    "read from every connection's mirrored customers.")
    segment_prior: float = Field(
        default=20.0, ge=0, description="Customers of overall popularity a segment's share "
                                        "is smoothed with: small segments lean on it.")
    segment_min_buyers: int = Field(
        default=3, ge=1, description="Customers of the segment who bought a product before it "
                                     "is popular there.")
    segment_products: int = Field(
        default=50, ge=1, le=1000, description="Products kept per segment (and overall).")
    segment_returning_weight: float = Field(
        default=1.0, ge=0, le=1, description="Score factor for customers with an order "
                                             "history: the fallback gives way to their own.")
    # -- spare parts and services due (_installed.py) -------------------------------------------
    spare_part_fits: str = Field(
        default="fits", min_length=1,
        description="Product attribute listing the machines a spare part or service fits: "
                    "their product ids in the same connection or their product keys.")
    service_categories: list[str] = Field(
        default_factory=lambda: ["services"],
        description="Categories whose fitting products are services (kind service); the "
                    "others are spare parts (kind spare_part).")
    service_interval_attribute: str = Field(
        default="service_interval_days", min_length=1,
        description="Machine product attribute with the service interval in days, for "
                    "equipment the ERP names no interval for.")
    service_window: float = Field(
        default=0.1, ge=0, lt=1, description="Due from (1 - service_window) of the service "
                                             "interval since the last service or install.")
    service_lapsed_after: float = Field(
        default=3.0, gt=1, description="No longer offered after this many intervals without "
                                       "a service: the machine is likely gone.")
    service_weight: float = Field(
        default=0.9, gt=0, le=1, description="The score of a part for equipment that is due "
                                             "now (less while it is only nearly due).")
    placements: dict[str, PlacementSettings] = Field(
        default_factory=dict, validate_default=True,  # the defaults merged in, validated
        description="The rules per placement (product_page, cart, email, …); see "
                    "``_rules_settings``.")

    @field_validator("placements", mode="before")
    @classmethod
    def _placement_defaults(cls, value: object) -> object:
        return placements_with_defaults(value)

    @field_validator("product_key")
    @classmethod
    def _known_key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError('expected "sku", "id" or "attributes.<name>"')
        return value

    @field_validator("upsell_family")
    @classmethod
    def _known_family_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not _FAMILY_KEY.match(key):
                raise ValueError(f'{key!r}: expected "category", "vendor" or '
                                 '"attributes.<name>"')
        return value

    @model_validator(mode="after")
    def _band(self) -> RecoSettings:
        if self.upsell_max_ratio <= self.upsell_min_ratio:
            raise ValueError("upsell_max_ratio must be above upsell_min_ratio")
        return self

    def rules_for(self, placement: str) -> RuleSettings:
        """The rules of ``placement``; a placement never configured gets the defaults."""
        found = self.placements.get(placement)
        return found.rules if found is not None else RuleSettings()

    @model_validator(mode="after")
    def _no_repeats(self) -> RecoSettings:
        if self.order_sources is not None and len(set(self.order_sources)) != len(
                self.order_sources):
            raise ValueError("order_sources lists a connection twice")
        return self


def check_against_connections(settings: RecoSettings, connections: Iterable[str], *,
                              file: str | None = None) -> None:
    """Raise a ``ConfigError`` naming ``reco.order_sources`` when it lists a connection the
    config does not have (the one check that needs the connections)."""
    from shoploop._registry import did_you_mean
    from shoploop.hooks import ConfigError

    known = list(connections)
    for index, name in enumerate(settings.order_sources or ()):
        if name not in known:
            raise ConfigError(
                f"no connection named {name!r}" + did_you_mean(name, known)
                + f"; configured: {', '.join(known) or 'none'}",
                file=file, key=f"reco.order_sources.{index}",
                remedy="name a [connections.<name>] table, or remove the entry")
