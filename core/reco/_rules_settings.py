"""The rules' settings per placement: ``[reco.placements.<name>] rules = {...}``.

Validated once, with the rest of ``[reco]``, when the config is read; a model stores the
settings it was built with (the manual file's rows included), and the rules read them from
there — so a lookup needs no config and no file, and changing a rule takes ``reco build``.

    [reco.placements.product_page]
    rules = { price_band = 1.5, max_per_category = 2, consumables = ["Coffee"] }

    [reco.placements.cart.rules]
    exclude_categories = ["Spare parts"]
    manual_file = "reco-rules.csv"      # anchor,product,action[,factor][,connection][,reason]

A placement not named keeps its defaults (:data:`PLACEMENT_DEFAULTS`); a key not set keeps
that placement's default.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shoploop.hooks._models import RecommendationKind

ANY_ANCHOR = "*"
MANUAL_COLUMNS = ("anchor", "product", "action", "factor", "connection", "reason")
GIFT_CARD_MARKERS = ["gift card", "gift cards", "gift-card", "giftcard", "gift voucher",
                     "gutschein", "geschenkgutschein", "geschenkkarte"]


class ManualRule(BaseModel):
    """One row of the merchant's own list: pin, boost (or damp) or block ``product``
    wherever ``anchor`` is the request's product or in its cart (``*``: every request)."""

    model_config = ConfigDict(extra="forbid")

    anchor: str = Field(default=ANY_ANCHOR, min_length=1,
                        description='The anchor product\'s id, or "*" for every request.')
    product: str = Field(min_length=1, description="The recommended product's id.")
    action: Literal["pin", "boost", "block"]
    factor: float | None = Field(default=None, gt=0, description="Score multiplier; boost "
                                                                 "only (< 1 damps).")
    connection: str | None = Field(default=None, min_length=1, description="Whose ids the row "
                                   "uses; default: every connection.")
    reason: str | None = Field(default=None, min_length=1,
                               description="Shown with the rule's verdict.")
    source: str = Field(default="config", description="Where the row comes from "
                                                      "(file:line), for reasons.")

    @model_validator(mode="after")
    def _factor_for_boost(self) -> ManualRule:
        if self.action == "boost" and self.factor is None:
            raise ValueError("a boost needs a factor (e.g. 1.5; below 1 damps)")
        if self.action != "boost" and self.factor is not None:
            raise ValueError(f"factor applies to boost only, not to {self.action}")
        return self


class RuleSettings(BaseModel):
    """What the built-in rules do in one placement."""

    model_config = ConfigDict(extra="forbid")

    out_of_stock: bool = Field(default=True, description="Veto products whose stock is "
                               "tracked and ≤ 0, unless their record allows backorders.")
    unpublished: bool = Field(default=True, description="Veto draft and archived products.")
    zero_price: bool = Field(default=True, description="Veto products with a price of 0.")
    gift_cards: bool = Field(default=True, description="Veto gift cards (category or tag "
                             "among gift_card_markers, or a gift_card attribute).")
    gift_card_markers: list[str] = Field(default_factory=lambda: list(GIFT_CARD_MARKERS),
                                         description="Categories/tags that mark a gift card "
                                                     "(case-insensitive).")
    already_bought: bool = Field(default=True, description="Veto products the customer "
                                 "bought before, except replenishment and consumables.")
    consumables: list[str] = Field(default_factory=list, description="Categories/tags of "
                                   "products bought again and again (case-insensitive): "
                                   "never vetoed as already bought.")
    price_band: float | None = Field(default=1.0, gt=0, description="Complements cost at most "
                                     "this times the anchor's price (the dearest anchor of a "
                                     "cart); none: no band.")
    price_band_exempt: list[RecommendationKind] = Field(
        default_factory=lambda: list[RecommendationKind](["upsell", "replacement",
                                                          "replenishment"]),
        description="Kinds the band never applies to (the upsell is the dearer alternative).")
    include_categories: list[str] = Field(default_factory=list, description="Only products of "
                                          "these categories (case-insensitive); empty: all.")
    exclude_categories: list[str] = Field(default_factory=list, description="Never products "
                                          "of these categories (case-insensitive).")
    max_per_category: int | None = Field(default=None, ge=1, description="At most this many "
                                         "recommendations of one category; none: no cap.")
    manual: list[ManualRule] = Field(default_factory=list, description="Pin / boost / block "
                                     "rows (see ManualRule).")
    manual_file: Path | None = Field(default=None, exclude=True, description="A CSV file of "
                                     "more rows (relative to the config file); read once, when "
                                     "the config is read, into ``manual``.")

    @field_validator("gift_card_markers", "consumables", "include_categories",
                     "exclude_categories")
    @classmethod
    def _folded(cls, values: list[str]) -> list[str]:
        return [value.strip().casefold() for value in values if value.strip()]

    @model_validator(mode="after")
    def _read_manual_file(self, info: ValidationInfo) -> RuleSettings:
        if self.manual_file is not None:
            base = (info.context or {}).get("base_dir")
            path = self.manual_file if self.manual_file.is_absolute() or base is None \
                else Path(base) / self.manual_file
            self.manual = [*self.manual, *read_manual_file(path)]
        return self


class PlacementSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: RuleSettings = Field(default_factory=RuleSettings)


PLACEMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    # A product page: complements no dearer than the product, a varied list.
    "product_page": {"price_band": 1.0, "max_per_category": 3},
    # A cart: add-ons no dearer than the dearest item, even more varied (less room).
    "cart": {"price_band": 1.0, "max_per_category": 2},
    # An e-mail names no anchor (no band); a few categories, nothing bought before.
    "email": {"price_band": None, "max_per_category": 2},
}


def placements_with_defaults(value: Any) -> Any:
    """The configured placements over :data:`PLACEMENT_DEFAULTS`, key by key (a ``before``
    validator of ``RecoSettings.placements``; anything malformed is left to validation)."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        return value
    merged: dict[str, Any] = {name: {"rules": dict(rules)}
                              for name, rules in PLACEMENT_DEFAULTS.items()}
    for name, table in value.items():
        if not isinstance(table, dict) or not isinstance(table.get("rules", {}), dict):
            merged[name] = table
            continue
        base = merged.get(name, {"rules": {}})
        merged[name] = {**table, "rules": {**base["rules"], **table.get("rules", {})}}
    return merged


class ManualFileError(ValueError):
    """A row of a manual rules file is malformed (the message names the file and line)."""


def read_manual_file(path: Path) -> list[ManualRule]:
    """The rows of a CSV file with a header naming some of :data:`MANUAL_COLUMNS`
    (``anchor``, ``product`` and ``action`` required; ``#`` lines are comments)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ManualFileError(f"cannot read the manual rules file {path}: "
                              f"{exc.strerror or exc}") from exc
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return []
    header_line, header = lines[0][0], next(csv.reader([lines[0][1]]))
    columns = [column.strip().lower() for column in header]
    unknown = [c for c in columns if c not in MANUAL_COLUMNS]
    missing = [c for c in ("anchor", "product", "action") if c not in columns]
    if unknown or missing:
        raise ManualFileError(
            f"{path}:{header_line}: the header must name anchor, product, action and "
            f"optionally factor, connection, reason"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else ""))
    rules: list[ManualRule] = []
    for number, line in lines[1:]:
        cells = next(csv.reader([line]))
        if len(cells) > len(columns):
            raise ManualFileError(f"{path}:{number}: {len(cells)} cells, the header names "
                                  f"{len(columns)} ({', '.join(columns)})")
        row = {column: cell.strip() for column, cell in zip(columns, cells, strict=False)
               if cell.strip()}
        try:
            rules.append(ManualRule.model_validate({**row, "source": f"{path.name}:{number}"}))
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            raise ManualFileError(f"{path}:{number}: " + (f"{key}: " if key else "")
                                  + message) from None
    return rules
