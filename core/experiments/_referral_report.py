"""A referral experiment's report: per arm the exposed customers, their surveys, answers,
satisfied answers and qualified referrals, the rewards' value, each arm against the control,
and the fixed-horizon verdict (docs/experiments.md).

Only *mature* customers count in the rates: those exposed at least the longest survey delay
of any arm plus the survey link's validity ago. Before that a long-delay arm's customers have
not been asked yet, and comparing them with a short-delay arm would measure the calendar,
not the arm. Referrals keep arriving after that (a code is valid for months): give the
experiment a ``stop`` far enough out, and read ``referral_rate`` at it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ._report import _as_comparison, _comparison, _iso
from ._settings import ExperimentSettings
from ._stats import two_proportions, verdict

if TYPE_CHECKING:
    from shoploop.referral import ReferralSettings

_METRICS = (("answered_units", "answer_rate"), ("satisfied_units", "satisfied_rate"),
            ("referring_units", "referral_rate"))
QUALIFIED = frozenset({"qualified", "rewarded", "reversed"})
"""Referral states that passed qualification (a reversal came after the reward)."""


@dataclass
class ReferralArm:
    variant: str
    units: int = 0
    mature_units: int = 0
    surveyed_units: int = 0
    answered_units: int = 0
    satisfied_units: int = 0
    referring_units: int = 0
    """Mature units with at least one qualified referral."""
    referrals: int = 0
    qualified_referrals: int = 0
    rewards: dict[str, Decimal] = field(default_factory=dict)
    """The issued rewards' value per currency (percentages are not summed)."""

    def as_dict(self) -> dict[str, Any]:
        def rate(count: int) -> float | None:
            return count / self.mature_units if self.mature_units else None

        return {"variant": self.variant, "units": self.units,
                "mature_units": self.mature_units, "surveyed_units": self.surveyed_units,
                "answered_units": self.answered_units,
                "satisfied_units": self.satisfied_units,
                "referring_units": self.referring_units, "referrals": self.referrals,
                "qualified_referrals": self.qualified_referrals,
                "answer_rate": rate(self.answered_units),
                "satisfied_rate": rate(self.satisfied_units),
                "referral_rate": rate(self.referring_units),
                "reward_value": {c: str(v) for c, v in sorted(self.rewards.items())}}


def maturity(settings: ExperimentSettings, referral: ReferralSettings) -> timedelta:
    """How long after exposure a customer counts: the longest delay of any arm (an arm
    without one uses the loop's) plus the time the survey link stays open."""
    delays = [v.survey_delay_days if v.survey_delay_days is not None
              else referral.survey_delay_days for v in settings.variants]
    delays += [c.survey_delay_days for c in referral.connections.values()
               if c.survey_delay_days is not None]
    return timedelta(days=max(delays) + referral.link_valid_days)


def referral_experiment_report(session: Session, name: str, settings: ExperimentSettings,
                               referral: ReferralSettings, now: datetime) -> dict[str, Any]:
    """The report of referral experiment ``name`` as of ``now`` (a JSON-ready dict)."""
    from shoploop.store import experiment_assignments, referral_loop_of_people

    arms = {v.name: ReferralArm(v.name) for v in settings.variants}
    exposed: dict[str, tuple[str, datetime]] = {}
    mature_by = now - maturity(settings, referral)
    for assignment in experiment_assignments(session, name):
        arm = arms.setdefault(assignment.variant, ReferralArm(assignment.variant))
        arm.units += 1
        if assignment.first_exposed_at <= mature_by:
            arm.mature_units += 1
            exposed[assignment.unit_key] = (assignment.variant, assignment.first_exposed_at)
    surveys, referrals = referral_loop_of_people(session, exposed)
    reached: dict[str, set[str]] = defaultdict(set)
    for survey in surveys:  # the surveys that follow the exposure, not earlier ones
        variant, at = exposed[survey.customer_key]
        if survey.due_at < at:
            continue
        for stage, hit in (("surveyed", survey.sent), ("answered", survey.answered),
                           ("satisfied", survey.invited)):
            if hit:
                reached[stage].add(survey.customer_key)
    for found in referrals:
        variant, at = exposed[found.customer_key]
        if found.placed_at < at:
            continue
        arm = arms[variant]
        arm.referrals += 1
        if found.status in QUALIFIED:
            arm.qualified_referrals += 1
            reached["referring"].add(found.customer_key)
        if found.reward_value is not None and found.reward_kind != "gift_order" \
                and found.reward_currency:
            arm.rewards[found.reward_currency] = (arm.rewards.get(found.reward_currency,
                                                                  Decimal(0))
                                                  + found.reward_value)
    for stage, units in reached.items():
        for unit in units:
            arm = arms[exposed[unit][0]]
            setattr(arm, f"{stage}_units", getattr(arm, f"{stage}_units") + 1)
    return _assemble(name, settings, list(arms.values()), now, mature_by)


def _assemble(name: str, settings: ExperimentSettings, arms: list[ReferralArm],
              now: datetime, mature_by: datetime) -> dict[str, Any]:
    control, alpha = arms[0], settings.alpha
    comparisons: list[dict[str, Any]] = [
        {"variant": arm.variant, "against": control.variant, "metrics": [
        _comparison(two_proportions(getattr(control, stage), control.mature_units,
                                    getattr(arm, stage), arm.mature_units, alpha=alpha),
                    metric) for stage, metric in _METRICS]} for arm in arms[1:]]
    planned = settings.planned_per_arm()
    smallest = min(arm.mature_units for arm in arms)
    stopped = settings.stop is not None and now >= settings.stop
    verdicts = []
    for arm, compared in zip(arms[1:], comparisons, strict=True):
        primary = next(m for m in compared["metrics"]
                       if m["metric"] == settings.primary_metric)
        reading = verdict(_as_comparison(primary, alpha), control=control.variant,
                          treatment=arm.variant, smallest_arm=smallest,
                          planned_per_arm=planned, stopped=stopped)
        verdicts.append({"variant": arm.variant, "status": reading.status,
                         "winner": reading.winner, "message": reading.message})
    return {
        "experiment": name, "kind": "referral", "as_of": now.isoformat(),
        "unit": settings.unit, "primary_metric": settings.primary_metric,
        "running": settings.active(now), "start": _iso(settings.start),
        "stop": _iso(settings.stop), "mature_before": mature_by.isoformat(),
        "alpha": alpha, "power": settings.power,
        "minimum_detectable_effect": settings.minimum_detectable_effect,
        "planned_units_per_arm": planned, "smallest_arm_units": smallest,
        "arms": [arm.as_dict() for arm in arms], "comparisons": comparisons,
        "verdicts": verdicts}
