"""Referral experiments in the loop (docs/experiments.md): an arm may change the survey's
delay (``survey_delay_days``) and the advocate's reward (``referral_reward``).

The unit is the customer — the identity-bound person, so the ERP's customer and the same
person in two shops are one unit. A customer is exposed when the loop first sees a paid order
of theirs *placed while the experiment runs*: that order starts the loop (the survey follows
it), so its time is the first exposure, and the arm is stored then. Orders placed outside the
experiment's dates keep the loop's own settings. The reward follows the stored arm even after
the experiment stopped: the invitation promised it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from shoploop.experiments import ExperimentSettings, VariantSettings, assign
from shoploop.hooks import ExperimentArm


@dataclass
class ReferralArms:
    """One run's view of the referral experiments, with a cache of the units it resolved."""

    experiments: Mapping[str, ExperimentSettings]
    dry_run: bool = False
    _units: dict[tuple[str, str], str] = field(default_factory=dict)
    _chosen: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.experiments = {name: settings for name, settings in self.experiments.items()
                            if settings.kind == "referral"}

    def _unit(self, session: Session, connection: str, customer_id: str) -> str:
        from shoploop.store import customer_key

        found = self._units.get((connection, customer_id))
        if found is None:
            found = self._units[(connection, customer_id)] = customer_key(
                session, connection, customer_id)
        return found

    def variant_for_order(self, session: Session, connection: str, customer_id: str,
                          placed_at: datetime) -> VariantSettings | None:
        """The arm an order placed at ``placed_at`` runs under (stored at the customer's
        first exposure), or None: no referral experiment was running then."""
        from shoploop.store import record_assignment, stored_assignment

        running = next(((name, settings) for name, settings in self.experiments.items()
                        if settings.active(placed_at)), None)
        if running is None:
            return None
        name, settings = running
        unit = self._unit(session, connection, customer_id)
        chosen = self._chosen.get((name, unit))
        if chosen is None:
            stored = stored_assignment(session, name, unit)
            if stored is not None:
                chosen = stored.variant
            elif self.dry_run:
                chosen = assign(name, settings, unit)
            else:
                chosen = record_assignment(session, experiment=name, unit_kind="customer",
                                           unit_key=unit, variant=assign(name, settings, unit),
                                           customer_key=unit, at=placed_at).variant
            self._chosen[(name, unit)] = chosen
        return next((v for v in settings.variants if v.name == chosen), None)

    def arm_of_advocate(self, session: Session, connection: str,
                        customer_id: str) -> ExperimentArm | None:
        """The advocate's latest stored arm of a referral experiment (None: never in one)."""
        from shoploop.store import stored_assignment

        if not self.experiments:
            return None
        unit = self._unit(session, connection, customer_id)
        found = [(stored, settings) for name, settings in self.experiments.items()
                 if (stored := stored_assignment(session, name, unit)) is not None]
        if not found:
            return None
        stored, settings = max(found, key=lambda pair: pair[0].first_exposed_at)
        variant = next((v for v in settings.variants if v.name == stored.variant), None)
        return ExperimentArm(experiment=stored.experiment, variant=stored.variant,
                             reward_value=variant.referral_reward if variant else None)
