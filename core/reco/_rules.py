"""The built-in rules' verdicts: plain functions over one request's :class:`Case`.

Each built-in rule plugin (``rule_*.py``, on ``recommendation_patches``) calls one function
here; the *diversity* rule calls the others too, so a candidate another built-in rule vetoes
does not take a place in its category's count. Every verdict's reason is written for the
merchant (``reco show`` prints it as "vetoed X: <rule>: <reason>").

The settings are the ones the model was built with (``Model.settings``, validated once per
model): a lookup needs no config file, and a changed rule takes effect with ``reco build``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shoploop.hooks import (
    Product,
    ProductLookup,
    Recommendation,
    RecommendationPatch,
    RecommendationRequest,
)

from ._rules_settings import ANY_ANCHOR, RuleSettings
from ._settings import RecoSettings

_BACKORDER_ATTRIBUTES = ("backorders", "allow_backorder", "allow_backorders",
                         "inventory_policy")
"""Product attributes that may say the product sells while out of stock (no adapter maps them
yet; a merchant's attribute or a future mapping does): WooCommerce's ``backorders``
("no" | "notify" | "yes", https://woocommerce.github.io/woocommerce-rest-api-docs/#product-properties),
Shopify's variant ``inventoryPolicy`` ("DENY" | "CONTINUE",
https://shopify.dev/docs/api/admin-graphql/latest/enums/ProductVariantInventoryPolicy), or a
plain flag."""
_BACKORDER_YES = {"yes", "notify", "true", "1", "continue"}
_GIFT_CARD_ATTRIBUTES = ("gift_card", "is_gift_card", "isGiftCard")

_cached: tuple[Any, RecoSettings] | None = None


def settings_of(model: Any) -> RecoSettings:
    """The model's settings, validated once per model object (the last model asked for is
    kept; a process serves one model at a time)."""
    global _cached
    cached = _cached
    if cached is not None and cached[0] is model:
        return cached[1]
    raw = getattr(model, "settings", None)
    settings = RecoSettings.model_validate(raw) if isinstance(raw, dict) else RecoSettings()
    _cached = (model, settings)
    return settings


@dataclass(frozen=True)
class Case:
    """One request as the rules see it."""

    request: RecommendationRequest
    candidates: Sequence[Recommendation]
    products: ProductLookup
    model: Any
    rules: RuleSettings
    verdicts: dict[str, list[RecommendationPatch]] = field(default_factory=dict, repr=False)
    """Each rule's patches once computed (the diversity rule reuses the others')."""

    @classmethod
    def of(cls, request: RecommendationRequest, candidates: Sequence[Recommendation],
           products: ProductLookup, model: Any) -> Case:
        """The case of one hook call; the rules of one call share it (the core passes every
        plugin the same objects), so no rule's verdicts are computed twice."""
        global _last_case
        last = _last_case
        if last is not None and last.candidates is candidates and last.request is request \
                and last.products is products and last.model is model:
            return last
        case = cls(request, candidates, products, model,
                   settings_of(model).rules_for(request.placement))
        _last_case = case
        return case

    def product(self, product_id: str) -> Product | None:
        return self.products.get(product_id)

    def verdict(self, rule: Callable[[Case], list[RecommendationPatch]]
                ) -> list[RecommendationPatch]:
        found = self.verdicts.get(rule.__name__)
        if found is None:
            found = self.verdicts[rule.__name__] = rule(self)
        return found


_last_case: Case | None = None


def _veto(product_id: str, reason: str) -> RecommendationPatch:
    return RecommendationPatch(product_id=product_id, action="veto", reason=reason)


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def _labels(product: Product) -> set[str]:
    """The product's category and tags, case-folded, for list matching."""
    found = {tag.strip().casefold() for tag in product.tags}
    if product.category:
        found.add(product.category.strip().casefold())
    return found


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().casefold() in
                             _BACKORDER_YES)


def _gift_card_marks(product: Product, rules: RuleSettings) -> str:
    """What marks ``product`` as a gift card ("" when nothing does)."""
    labels = sorted(_labels(product) & set(rules.gift_card_markers))
    if labels:
        return f"category/tag {', '.join(map(repr, labels))}"
    attributes = product.attributes
    flags = [key for key in _GIFT_CARD_ATTRIBUTES if attributes and _truthy(attributes.get(key))]
    return f"attribute {flags[0]}" if flags else ""


def product_state(case: Case) -> list[RecommendationPatch]:
    """Out of stock (unless backorders are allowed), unpublished, no price, gift cards."""
    rules, patches = case.rules, []
    for candidate in case.candidates:
        product = case.product(candidate.product_id)
        if product is None:
            continue
        if rules.unpublished and product.status != "active":
            patches.append(_veto(product.id, f"not published (status {product.status})"))
        elif rules.out_of_stock and product.stock is not None and product.stock <= 0 and \
                not any(_truthy(product.attributes.get(key)) for key in _BACKORDER_ATTRIBUTES):
            patches.append(_veto(product.id, f"out of stock (stock {product.stock}, no "
                                             "backorders)"))
        elif rules.zero_price and product.price <= 0:
            price = _money(product.price, product.currency)
            patches.append(_veto(product.id, f"no price ({price})"))
        elif rules.gift_cards and (marks := _gift_card_marks(product, rules)):
            patches.append(_veto(product.id, f"a gift card ({marks})"))
    return patches


def _replenishment(candidate: Recommendation) -> bool:
    """Proposed as a replenishment — by the winning strategy or any other (the merge keeps
    every strategy's kind in ``evidence["strategies"]``)."""
    if candidate.kind == "replenishment":
        return True
    voices = candidate.evidence.get("strategies")
    return isinstance(voices, dict) and any(
        isinstance(voice, dict) and voice.get("kind") == "replenishment"
        for voice in voices.values())


def already_bought(case: Case) -> list[RecommendationPatch]:
    """Products the request's customer bought before, except replenishment candidates (due
    again) and consumables (``consumables`` categories/tags)."""
    model, request = case.model, case.request
    purchases = getattr(model, "purchases", None)
    if not case.rules.already_bought or request.customer_id is None or purchases is None:
        return []
    customer = model.customer_index(request.connection, request.customer_id)
    if customer is None:
        return []
    consumables = set(case.rules.consumables)
    asked = [c for c in case.candidates if not _replenishment(c)]
    indices = [model.product_index(request.connection, c.product_id) for c in asked]
    days = purchases.last_bought_many(customer, [-1 if i is None else i for i in indices])
    patches = []
    for candidate, day in zip(asked, days, strict=True):
        if day is None:
            continue
        product = case.product(candidate.product_id)
        if product is not None and _labels(product) & consumables:
            continue
        when = datetime.fromtimestamp(day * 86_400, UTC).date().isoformat()
        patches.append(_veto(candidate.product_id, f"the customer already bought it (last on "
                                                   f"{when}) and it is not a consumable"))
    return patches


def price_band(case: Case) -> list[RecommendationPatch]:
    """Complements cost at most ``price_band`` x the anchor's price (the dearest anchor)."""
    factor = case.rules.price_band
    if factor is None:
        return []
    anchors = [p for p in case.products.many(case.request.anchors).values() if p.price > 0]
    if not anchors:
        return []
    anchor = max(anchors, key=lambda p: p.price)
    limit = anchor.price * Decimal(str(factor))
    exempt = set(case.rules.price_band_exempt)
    patches = []
    for candidate in case.candidates:
        if candidate.kind in exempt:
            continue
        product = case.product(candidate.product_id)
        if product is not None and product.price > limit:
            patches.append(_veto(product.id, (
                f"costs {_money(product.price, product.currency)}, more than {factor:g} x "
                f"{anchor.name}'s {_money(anchor.price, anchor.currency)} (the price band of "
                f"{case.request.placement})")))
    return patches


def categories(case: Case) -> list[RecommendationPatch]:
    """Only ``include_categories`` (when set), never ``exclude_categories``."""
    include, exclude = set(case.rules.include_categories), set(case.rules.exclude_categories)
    if not include and not exclude:
        return []
    placement, patches = case.request.placement, []
    for candidate in case.candidates:
        product = case.product(candidate.product_id)
        if product is None:
            continue
        category = (product.category or "").strip().casefold()
        if category and category in exclude:
            patches.append(_veto(product.id, f"category {product.category!r} is excluded on "
                                             f"{placement}"))
        elif include and category not in include:
            patches.append(_veto(product.id, (
                f"category {product.category or 'none'!r} is not one of {placement}'s "
                f"categories ({', '.join(sorted(include))})")))
    return patches


def manual(case: Case) -> list[RecommendationPatch]:
    """The merchant's pin / boost / block rows whose anchor is the request's (or ``*``)."""
    anchors, connection = set(case.request.anchors), case.request.connection
    wanted = {c.product_id for c in case.candidates}
    patches = []
    for row in case.rules.manual:
        if row.product not in wanted or (row.anchor != ANY_ANCHOR and row.anchor not in anchors) \
                or (row.connection is not None and row.connection != connection):
            continue
        where = "every request" if row.anchor == ANY_ANCHOR else f"product {row.anchor}"
        because = f"; {row.reason}" if row.reason else ""
        origin = f" ({row.source})"
        if row.action == "block":
            patches.append(_veto(row.product, f"blocked by the merchant for {where}"
                                              f"{because}{origin}"))
        elif row.action == "pin":
            patches.append(RecommendationPatch(
                product_id=row.product, action="pin",
                reason=f"pinned by the merchant for {where}{because}{origin}"))
        else:
            assert row.factor is not None  # the settings require it for a boost
            verb = "boosted" if row.factor >= 1 else "damped"
            patches.append(RecommendationPatch(
                product_id=row.product, action="boost", factor=row.factor,
                reason=f"{verb} x{row.factor:g} by the merchant for {where}{because}{origin}"))
    return patches


def diversity(case: Case) -> list[RecommendationPatch]:
    """At most ``max_per_category`` of one category, counted in the order the core ranks
    (the merchant's pins first, then by score with the merchant's boosts) over the
    candidates no other built-in rule vetoes. Products without a category are not capped."""
    cap = case.rules.max_per_category
    if cap is None:
        return []
    vetoed: set[str] = set()
    pinned: set[str] = set()
    factor: dict[str, float] = {}
    for rule in (product_state, already_bought, price_band, categories, manual):
        for patch in case.verdict(rule):
            if patch.action == "veto":
                vetoed.add(patch.product_id)
            elif patch.action == "pin":
                pinned.add(patch.product_id)
            else:
                factor[patch.product_id] = factor.get(patch.product_id, 1.0) * patch.factor
    ranked = sorted((c for c in case.candidates if c.product_id not in vetoed),
                    key=lambda c: (c.product_id not in pinned,
                                   -c.score * factor.get(c.product_id, 1.0), c.product_id))
    seen: dict[str, int] = {}
    patches = []
    for candidate in ranked:
        product = case.product(candidate.product_id)
        if product is None or not product.category:
            continue
        key = product.category.strip().casefold()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > cap:
            patches.append(_veto(product.id, (
                f"already {cap} of category {product.category!r} ranked higher (at most "
                f"{cap} per category on {case.request.placement})")))
    return patches
