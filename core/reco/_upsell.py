"""*Upsell*: the premium alternatives of each product, within its family and a price band.

Per connection (prices, categories and attributes are each connection's own), products are
grouped into **families** by ``[reco] upsell_family`` (category and the ``family`` attribute by
default; a missing value counts as a value, so a category's products without a family
attribute are one family). Within a family and one currency, an alternative is **premium**
when it costs ``upsell_min_ratio`` to ``upsell_max_ratio`` times the anchor (1.1 to 2 by default)
*and* adds something (:func:`gains`): a feature the anchor lacks, an attribute it has no value
for, or a higher number. Price alone is no upgrade. Each product keeps its
``upsell_alternatives`` nearest-priced premium alternatives; only active products are offered.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

SCAN_LIMIT = 500
"""Alternatives in the price band looked at per product (the nearest first); bounds the fit
on huge families without changing the answer for any realistic one."""
REASON_GAINS = 3
"""Additions named in a reason; a customer reads three, not twelve."""
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}

Upsells = dict[str, dict[str, list[str]]]
"""connection → product id → its premium alternatives' ids, nearest in price first."""


def family_of(record: Mapping[str, Any], keys: Sequence[str]) -> tuple[str | None, ...] | None:
    """The family of one product record (JSON of ``Product``), None when it names none."""
    attributes = record.get("attributes") or {}
    values: list[str | None] = []
    for key in keys:
        value = attributes.get(key.removeprefix("attributes.")) if key.startswith(
            "attributes.") else record.get(key)
        values.append(None if value is None or isinstance(value, (list, dict))
                      else str(value).strip().casefold() or None)
    return None if all(v is None for v in values) else tuple(values)


def price_of(record: Mapping[str, Any]) -> Decimal | None:
    try:
        price = Decimal(str(record.get("price")))
    except InvalidOperation:
        return None
    return price if price.is_finite() and price > 0 else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "."))
        except ValueError:
            return None
    return None


def _words(key: str) -> str:
    return key.replace("_", " ")


def gains(anchor: Mapping[str, Any], alternative: Mapping[str, Any],
          ignore: Sequence[str]) -> list[str]:
    """What ``alternative``'s attributes add over ``anchor``'s, in words: list entries the
    anchor's list lacks ("dual boiler"), a true flag the anchor lacks ("steam wand"), a higher
    number ("boiler litres 1.8 (0.8)"), a value the anchor has none for ("warranty: 3
    years") — in that order, each by key (stored records keep no key order: PostgreSQL's
    JSONB sorts them). Attributes that only differ (a colour) add nothing."""
    entries: list[str] = []
    flags: list[str] = []
    higher: list[str] = []
    new: list[str] = []
    for key in sorted(alternative):
        value = alternative[key]
        if key in ignore or value is None:
            continue
        own = anchor.get(key)
        if isinstance(value, list):
            mine = {str(v).casefold() for v in own} if isinstance(own, list) else set()
            entries += [str(v) for v in value if str(v).casefold() not in mine]
        elif isinstance(value, bool):
            if value and own is not True:
                flags.append(_words(key))
        elif own is None or own == "":
            if str(value).strip():
                new.append(f"{_words(key)}: {value}")
        else:
            more, less = _number(value), _number(own)
            if more is not None and less is not None and more > less:
                higher.append(f"{_words(key)} {value} ({own})")
    return list(dict.fromkeys([*entries, *flags, *higher, *new]))


def _active(record: Mapping[str, Any]) -> bool:
    return bool(record.get("status", "active") == "active")


def fit_upsells(records: Mapping[str, Mapping[str, Mapping[str, Any]]], *,
                family: Sequence[str], min_ratio: float, max_ratio: float,
                alternatives: int, ignore: Sequence[str]) -> Upsells:
    """The premium alternatives of every product of every connection (see the module docs)."""
    out: Upsells = {}
    for connection, products in records.items():
        groups: dict[tuple[Any, ...], list[tuple[Decimal, str]]] = {}
        for product_id, record in products.items():
            key = family_of(record, family)
            price = price_of(record)
            if key is not None and price is not None:
                groups.setdefault((*key, record.get("currency") or ""), []).append(
                    (price, product_id))
        found: dict[str, list[str]] = {}
        for members in groups.values():
            if len(members) < 2:
                continue
            members.sort()
            prices = [price for price, _ in members]
            for price, product_id in members:
                low = bisect_left(prices, price * Decimal(str(min_ratio)))
                high = bisect_right(prices, price * Decimal(str(max_ratio)))
                own = products[product_id].get("attributes") or {}
                chosen: list[str] = []
                for _, other in members[low:min(high, low + SCAN_LIMIT)]:
                    record = products[other]
                    if _active(record) and gains(own, record.get("attributes") or {},
                                                 ignore):
                        chosen.append(other)
                        if len(chosen) == alternatives:
                            break
                if chosen:
                    found[product_id] = chosen
        if found:
            out[connection] = found
    return out


def _money(amount: Decimal, currency: str, language: str) -> str:
    text = f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"
    if language == "de":
        return f"{text.replace('.', ',')} {SYMBOLS.get(currency, currency)}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def reasons(name: str, added: Sequence[str], difference: Decimal,
            currency: str) -> dict[str, str]:
    """"Espresso machine Pro 3: dual boiler, PID; +€200" (the attributes' own words; the
    first ``REASON_GAINS``, then how many more — the evidence lists them all)."""
    shown, more = ", ".join(added[:REASON_GAINS]), len(added) - REASON_GAINS
    what_en = shown + (f" and {more} more" if more > 0 else "")
    what_de = shown + (f" und {more} weitere" if more > 0 else "")
    return {"en": f"{name}: {what_en}; +{_money(difference, currency, 'en')}",
            "de": f"{name}: {what_de}; {_money(difference, currency, 'de')} mehr"}
