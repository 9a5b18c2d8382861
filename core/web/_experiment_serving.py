"""Experiments at serving time (docs/experiments.md): the request's unit gets its variant —
stored at its first exposure — and the variant changes the request before it is ranked.

A unit's variant is remembered per app (bounded), so a unit's later requests cost no store
round trip; the store's row stays the authority across processes (the first insert wins).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._app import WebState

if TYPE_CHECKING:
    from shoploop.experiments import ExperimentSettings, VariantSettings
    from shoploop.hooks import Recommendation, RecommendationRequest

_REMEMBERED = 10_000
"""Most (experiment, request identity) → variant answers an app keeps."""


@dataclass(frozen=True)
class Arm:
    """The experiment a request is in and the variant it gets."""

    experiment: str
    variant: VariantSettings


@dataclass
class _Memory:
    variants: OrderedDict[tuple[str, str, str | None, str | None], str] = field(
        default_factory=OrderedDict)


def running_experiment(state: WebState, placement: str,
                       now: datetime) -> tuple[str, ExperimentSettings] | None:
    """The experiment running on ``placement`` at ``now`` (the config allows at most one)."""
    for name, settings in state.config.experiments.items():
        if placement in settings.placements and settings.active(now):
            return name, settings
    return None


def arm_of(state: WebState, name: str, settings: ExperimentSettings, *, connection: str,
           customer: str | None, visitor: str | None, now: datetime) -> Arm | None:
    """The request's arm, recording the unit's first exposure; None when the request names
    no unit of the experiment's kind (it is served as if there were no experiment and not
    counted). Blocking
    (store I/O): call it in a thread."""
    from shoploop.experiments import exposed_variant, unit_of

    if not (visitor if settings.unit == "visitor" else customer):
        return None  # no unit of this kind: decided without the store
    memory = state.extras.get(__name__)
    if not isinstance(memory, _Memory):
        memory = state.extras[__name__] = _Memory()
    key = (name, connection, customer, visitor)
    variant = memory.variants.get(key)
    if variant is None:
        with state.store.session() as session:
            unit = unit_of(session, settings, connection=connection, customer_id=customer,
                           visitor_id=visitor)
            if unit is None:
                return None
            variant = exposed_variant(session, name, settings, unit, now)
        memory.variants[key] = variant
        while len(memory.variants) > _REMEMBERED:
            memory.variants.popitem(last=False)
    found = next((v for v in settings.variants if v.name == variant), None)
    # A variant removed from the config after units were exposed to it: serve the control.
    return Arm(name, found if found is not None else settings.control)


def varied_request(ask: RecommendationRequest, variant: VariantSettings,
                   max_k: int) -> RecommendationRequest:
    """The request the variant ranks: its ``k``, its rule set (the rules of another
    placement), and with a blend the most candidates, re-weighted by :func:`blended`."""
    changes: dict[str, object] = {}
    if variant.k is not None:
        changes["k"] = variant.k
    if variant.rules is not None:
        changes["placement"] = variant.rules
    if variant.blend is not None:
        changes["k"] = max_k
    return ask.model_copy(update=changes) if changes else ask


def blended(recommendations: list[Recommendation], variant: VariantSettings,
            k: int) -> list[Recommendation]:
    """Scores times the variant's factor per strategy (0 drops it), best first, top ``k``.
    Sorted stably, so equal scores keep the ranking's order."""
    if variant.blend is None:
        return recommendations[:k]
    factors = variant.blend
    weighted = [(item.score * factors.get(item.strategy, 1.0), n, item)
                for n, item in enumerate(recommendations)]
    weighted = [entry for entry in weighted if entry[0] > 0]
    weighted.sort(key=lambda entry: (-entry[0], entry[1]))
    return [item.model_copy(update={"score": min(score, 1.0)})
            for score, _, item in weighted[:k]]


def event_tags(state: WebState, events: list[dict[str, object]]) -> None:
    """Tag the events that name an experiment with the unit's stored variant and unit key,
    in place (the store's assignment decides, not the reporter). An event whose unit was never
    exposed, or whose experiment is no longer configured, is stored untagged. Blocking."""
    from shoploop.experiments import unit_of
    from shoploop.store import stored_assignment

    tagged = [event for event in events if event.get("experiment")]
    if not tagged:
        return
    # One look-up per unit, not per event: a report holds many events of few units.
    found: dict[tuple[str, str, str | None, str | None], Any] = {}
    with state.store.session() as session:
        for event in tagged:
            name = str(event["experiment"])
            key = (name, str(event["connection"]), _text(event.get("customer")),
                   _text(event.get("visitor")))
            if key not in found:
                settings = state.config.experiments.get(name)
                unit = None if settings is None else unit_of(
                    session, settings, connection=key[1], customer_id=key[2],
                    visitor_id=key[3])
                found[key] = None if unit is None else stored_assignment(session, name,
                                                                         unit.key)
            stored = found[key]
            if stored is None:
                event["experiment"] = None
                continue
            event["variant"], event["unit_key"] = stored.variant, stored.unit_key


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
