"""An experiment's report: per arm the exposed units, their events and attributed orders,
each treatment compared with the control, and the fixed-horizon verdict (docs/experiments.md).

Attribution: an order line of the unit's person counts for the arm when the same product (the
same id in the same connection, or the same SKU — the ERP's order of a product shown in the
shop) was shown to the unit (an impression) at most ``attribution_window_days`` before the
order, both ends included. Refunds are subtracted pro rata of the order's total; a fully
refunded order adds nothing and does not convert. Revenue stays in the order's currency: a
figure per currency, never a sum across currencies.

Besides the attributed figures, the report counts every purchase of the unit's person within
the window after its first exposure (``order_conversion``, ``order_revenue_per_exposure``):
the fair metric for a hold-out arm, which shows nothing and so is attributed nothing.

Every rate is per exposed unit, not per impression: a unit's impressions are not independent
trials, so a per-impression test would overstate the evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ._settings import ExperimentSettings
from ._stats import Comparison, two_proportions, verdict, welch_from_sums

PURCHASE_STATUSES = frozenset({"paid", "fulfilled", "partially_refunded"})
"""Orders that count as a purchase (the attributes' definition, docs/attributes.md)."""
REVENUE_STATUSES = PURCHASE_STATUSES | {"refunded"}


@dataclass
class ArmFigures:
    variant: str
    units: int = 0
    impressions: int = 0
    clicks: int = 0
    add_to_carts: int = 0
    clicked_units: int = 0
    converted_units: int = 0
    attributed_lines: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)
    """Net attributed revenue per currency."""
    revenue_squares: dict[str, float] = field(default_factory=dict)
    """Sum over units of the squared per-unit revenue, per currency (for Welch)."""
    ordering_units: int = 0
    """Units whose person bought anything within the window after the first exposure."""
    order_revenue: dict[str, Decimal] = field(default_factory=dict)
    order_revenue_squares: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def rate(count: int) -> float | None:
            return count / self.units if self.units else None

        return {
            "variant": self.variant, "units": self.units, "impressions": self.impressions,
            "clicks": self.clicks, "add_to_carts": self.add_to_carts,
            "clicked_units": self.clicked_units, "converted_units": self.converted_units,
            "ctr": rate(self.clicked_units), "conversion": rate(self.converted_units),
            "attributed_lines": self.attributed_lines,
            "revenue": {c: str(v) for c, v in sorted(self.revenue.items())},
            "revenue_per_exposure": {c: float(v) / self.units if self.units else None
                                     for c, v in sorted(self.revenue.items())},
            "ordering_units": self.ordering_units,
            "order_conversion": rate(self.ordering_units),
            "order_revenue": {c: str(v) for c, v in sorted(self.order_revenue.items())},
            "order_revenue_per_exposure": {
                c: float(v) / self.units if self.units else None
                for c, v in sorted(self.order_revenue.items())}}


def _number(value: Any) -> float | None:
    """A float for JSON: nan (an empty arm) becomes None."""
    number = float(value)
    return None if number != number else number


def _comparison(found: Comparison, metric: str, currency: str | None = None) -> dict[str, Any]:
    return {"metric": metric, **({"currency": currency} if currency else {}),
            **{key: _number(getattr(found, key)) for key in (
                "control", "treatment", "difference", "low", "high", "relative_lift",
                "p_value")},
            "significant": bool(found.significant)}


def line_net(total: Decimal, order_total: Decimal, refunded: Decimal, status: str) -> Decimal:
    """A line's revenue after the order's refunds, spread pro rata over its lines."""
    if status not in REVENUE_STATUSES or status == "refunded" or order_total <= 0:
        return Decimal(0)
    kept = max(order_total - refunded, Decimal(0)) / order_total
    return (total * kept).quantize(Decimal("0.01"))


def experiment_report(session: Session, name: str, settings: ExperimentSettings,
                      now: datetime) -> dict[str, Any]:
    """The report of experiment ``name`` as of ``now`` (a JSON-ready dict)."""
    from shoploop.store import (
        customer_order_lines,
        experiment_assignments,
        experiment_events,
        product_skus,
    )

    assignments = experiment_assignments(session, name)
    arms = {v.name: ArmFigures(v.name) for v in settings.variants}
    variant_of: dict[str, str] = {}
    for assignment in assignments:
        arm = arms.setdefault(assignment.variant, ArmFigures(assignment.variant))
        arm.units += 1
        variant_of[assignment.unit_key] = assignment.variant
    # Impressions per unit: (connection, product) → times; the SKU for cross-system matches.
    shown: dict[str, dict[tuple[str, str], list[datetime]]] = defaultdict(
        lambda: defaultdict(list))
    clicked: set[str] = set()
    for event in experiment_events(session, name):
        if event.unit_key not in variant_of:
            continue
        arm = arms[variant_of[event.unit_key]]
        if event.type == "impression":
            arm.impressions += 1
            shown[event.unit_key][(event.connection, event.product_external_id)].append(
                event.occurred_at)
        elif event.type == "click":
            arm.clicks += 1
            clicked.add(event.unit_key)
        else:
            arm.add_to_carts += 1
    for unit in clicked:
        arms[variant_of[unit]].clicked_units += 1
    skus = product_skus(session, [p for per_unit in shown.values() for p in per_unit])
    window = timedelta(days=settings.attribution_window_days)
    units_of_person: dict[str, list[str]] = defaultdict(list)
    for assignment in assignments:
        if assignment.customer_key is not None:
            units_of_person[assignment.customer_key].append(assignment.unit_key)
    first = min((a.first_exposed_at for a in assignments), default=now)
    exposed_at = {a.unit_key: a.first_exposed_at for a in assignments}
    attributed, ordered = _Outcomes(), _Outcomes()
    for line in customer_order_lines(session, units_of_person, since=first):
        net = line_net(line.unit_price * line.quantity, line.order_total,
                       line.refunded_total, line.status)
        for unit in units_of_person[line.customer_key]:
            if exposed_at[unit] <= line.placed_at <= exposed_at[unit] + window:
                ordered.add(unit, line.currency, net, line.status)
            if _shown_before(shown.get(unit, {}), skus, line.connection,
                             line.product_external_id, line.sku, line.placed_at, window):
                arms[variant_of[unit]].attributed_lines += 1
                attributed.add(unit, line.currency, net, line.status)
    for unit in attributed.converted:
        arms[variant_of[unit]].converted_units += 1
    for unit in ordered.converted:
        arms[variant_of[unit]].ordering_units += 1
    for arm in arms.values():
        arm.revenue, arm.revenue_squares = attributed.per_arm(variant_of, arm.variant)
        arm.order_revenue, arm.order_revenue_squares = ordered.per_arm(variant_of, arm.variant)
    return _assemble(name, settings, list(arms.values()), now)


@dataclass
class _Outcomes:
    """Per unit: net revenue per currency, and whether the unit bought (a purchase)."""

    revenue: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(
        Decimal))
    converted: set[str] = field(default_factory=set)

    def add(self, unit: str, currency: str, net: Decimal, status: str) -> None:
        self.revenue[(unit, currency)] += net
        if status in PURCHASE_STATUSES:
            self.converted.add(unit)

    def per_arm(self, variant_of: dict[str, str], variant: str) -> tuple[
            dict[str, Decimal], dict[str, float]]:
        """The arm's revenue per currency and sum of squared per-unit revenue."""
        total: dict[str, Decimal] = {}
        squares: dict[str, float] = {}
        for (unit, currency), value in self.revenue.items():
            if variant_of[unit] == variant:
                total[currency] = total.get(currency, Decimal(0)) + value
                squares[currency] = squares.get(currency, 0.0) + float(value) ** 2
        return total, squares


def _shown_before(shown: dict[tuple[str, str], list[datetime]], skus: dict[tuple[str, str], str],
                  connection: str, product: str | None, sku: str | None, placed_at: datetime,
                  window: timedelta) -> bool:
    for (where, shown_product), times in shown.items():
        same = (where == connection and shown_product == product) or (
            sku is not None and skus.get((where, shown_product)) == sku)
        if same and any(at <= placed_at <= at + window for at in times):
            return True
    return False


def _assemble(name: str, settings: ExperimentSettings, arms: Sequence[ArmFigures],
              now: datetime) -> dict[str, Any]:
    control = arms[0]
    alpha = settings.alpha
    currencies = sorted({c for arm in arms for c in (*arm.revenue, *arm.order_revenue)})
    comparisons: list[dict[str, Any]] = []
    for arm in arms[1:]:
        found: list[dict[str, Any]] = [
            _comparison(two_proportions(control.clicked_units, control.units,
                                        arm.clicked_units, arm.units, alpha=alpha), "ctr"),
            _comparison(two_proportions(control.converted_units, control.units,
                                        arm.converted_units, arm.units, alpha=alpha),
                        "conversion"),
            _comparison(two_proportions(control.ordering_units, control.units,
                                        arm.ordering_units, arm.units, alpha=alpha),
                        "order_conversion")]
        for currency in currencies:
            found.append(_comparison(welch_from_sums(
                float(control.revenue.get(currency, 0)),
                control.revenue_squares.get(currency, 0.0), control.units,
                float(arm.revenue.get(currency, 0)), arm.revenue_squares.get(currency, 0.0),
                arm.units, alpha=alpha), "revenue_per_exposure", currency))
            found.append(_comparison(welch_from_sums(
                float(control.order_revenue.get(currency, 0)),
                control.order_revenue_squares.get(currency, 0.0), control.units,
                float(arm.order_revenue.get(currency, 0)),
                arm.order_revenue_squares.get(currency, 0.0), arm.units, alpha=alpha),
                "order_revenue_per_exposure", currency))
        comparisons.append({"variant": arm.variant, "against": control.variant,
                            "metrics": found})
    planned = settings.planned_per_arm()
    smallest = min(arm.units for arm in arms)
    stopped = settings.stop is not None and now >= settings.stop
    main_currency = max(currencies, key=lambda c: sum(
        a.revenue.get(c, 0) + a.order_revenue.get(c, 0) for a in arms), default=None)
    verdicts = []
    for arm, compared in zip(arms[1:], comparisons, strict=True):
        metric = settings.primary_metric
        primary = next((m for m in compared["metrics"] if m["metric"] == metric
                        and m.get("currency") in (None, main_currency)), None)
        if primary is None:  # revenue with no revenue yet
            verdicts.append({"variant": arm.variant, "status": "not_yet_at_horizon"
                             if not stopped else "underpowered", "winner": None,
                             "message": "no attributed revenue yet; no winner is declared"})
            continue
        reading = verdict(_as_comparison(primary, alpha), control=control.variant,
                          treatment=arm.variant, smallest_arm=smallest,
                          planned_per_arm=planned, stopped=stopped)
        verdicts.append({"variant": arm.variant, "status": reading.status,
                         "winner": reading.winner, "message": reading.message})
    return {
        "experiment": name, "as_of": now.isoformat(), "unit": settings.unit,
        "placements": settings.placements, "primary_metric": settings.primary_metric,
        "running": settings.active(now), "start": _iso(settings.start),
        "stop": _iso(settings.stop), "attribution_window_days":
            settings.attribution_window_days,
        "alpha": alpha, "power": settings.power,
        "minimum_detectable_effect": settings.minimum_detectable_effect,
        "planned_units_per_arm": planned, "smallest_arm_units": smallest,
        "main_currency": main_currency,
        "arms": [arm.as_dict() for arm in arms], "comparisons": comparisons,
        "verdicts": verdicts}


def _as_comparison(found: dict[str, Any], alpha: float) -> Comparison:
    import numpy as np

    def value(key: str) -> Any:
        return np.float64(np.nan if found[key] is None else found[key])

    return Comparison(value("control"), value("treatment"), value("difference"),
                      value("low"), value("high"), value("p_value"), alpha)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
