"""The ``[experiments.NAME]`` table: what varies, the variants and their shares, the unit.

    [experiments.k_test]
    unit = "customer"                  # visitor | customer | account
    placements = ["product_page"]
    primary_metric = "conversion"      # ctr | conversion | revenue_per_exposure |
                                       # order_conversion | order_revenue_per_exposure
    baseline_rate = 0.03               # the planned sample size comes from it (docs)
    [[experiments.k_test.variants]]
    name = "control"
    share = 0.5
    [[experiments.k_test.variants]]
    name = "k8"
    share = 0.5
    k = 8
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
REFERRAL_METRICS = ("referral_rate", "answer_rate")
"""Per customer: a qualified referral / an answered survey (docs/experiments.md)."""
PLACEMENT_METRICS = ("ctr", "conversion", "revenue_per_exposure", "order_conversion",
                     "order_revenue_per_exposure")


class VariantSettings(BaseModel):
    """One arm; unset fields keep the placement's normal behaviour."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=_NAME.pattern)
    share: float = Field(gt=0, le=1)
    k: int | None = Field(default=None, ge=1, le=100)
    blend: dict[str, float] | None = Field(
        default=None, description="Score factor per strategy name (0 drops the strategy); "
                                  "strategies not named keep factor 1.")
    rules: str | None = Field(
        default=None, description="Rank with the rules of this [reco.placements.<name>] "
                                  "table instead of the placement's own.")
    placement_enabled: bool = True
    referral_reward: Decimal | None = Field(
        default=None, gt=0, description="The advocate's reward in this arm: the amount, or "
                                         "the percentage of a percentage policy.")
    survey_delay_days: int | None = Field(default=None, ge=0, le=365)

    @property
    def varies_referral(self) -> bool:
        return self.referral_reward is not None or self.survey_delay_days is not None

    @property
    def varies_recommendations(self) -> bool:
        return (self.k is not None or self.blend is not None or self.rules is not None
                or not self.placement_enabled)


class ExperimentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: Literal["visitor", "customer", "account"] = "visitor"
    placements: list[str] = Field(default_factory=list)
    variants: list[VariantSettings] = Field(min_length=2)
    start: datetime | None = None
    stop: datetime | None = None
    primary_metric: Literal["ctr", "conversion", "revenue_per_exposure", "order_conversion",
                            "order_revenue_per_exposure", "answer_rate", "referral_rate"
                            ] = "conversion"
    attribution_window_days: int = Field(default=7, ge=1, le=90)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0.5, lt=1)
    minimum_detectable_effect: float = Field(
        default=0.1, gt=0, description="Relative change of the primary metric the test is "
                                       "planned to detect (0.1: +10 %).")
    baseline_rate: float | None = Field(
        default=None, gt=0, lt=1, description="The control's expected CTR or conversion per "
                                              "exposed unit; plans the sample size.")
    baseline_revenue_mean: float | None = Field(default=None, gt=0)
    baseline_revenue_sd: float | None = Field(
        default=None, gt=0, description="Revenue per exposed unit: mean and standard "
                                        "deviation; plan revenue_per_exposure's sample size.")

    @model_validator(mode="after")
    def _check(self) -> ExperimentSettings:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique, got {names}; rename the duplicate")
        total = sum(v.share for v in self.variants)
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ValueError(f"variant shares must sum to 1, got {total:g}; adjust the shares")
        if self.start and self.stop and self.stop <= self.start:
            raise ValueError("stop must be after start; fix the dates or drop stop")
        for name in ("start", "stop"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:  # TOML local date-times
                setattr(self, name, moment.replace(tzinfo=UTC))
        return self._check_kind()

    def _check_kind(self) -> ExperimentSettings:
        """A referral experiment varies the referral loop for customers; a recommendation
        experiment varies placements. One experiment does not mix them: its units would be
        exposed at two different moments (the order vs the storefront request)."""
        referral = any(v.varies_referral for v in self.variants)
        if referral and any(v.varies_recommendations for v in self.variants):
            raise ValueError("an experiment varies either the referral loop (referral_reward, "
                             "survey_delay_days) or recommendations (k, blend, rules, "
                             "placement_enabled), not both; split it into two experiments")
        if not referral:
            if self.primary_metric in REFERRAL_METRICS:
                raise ValueError(f"primary_metric {self.primary_metric!r} measures the "
                                 "referral loop, but no variant sets referral_reward or "
                                 "survey_delay_days; use one of: "
                                 + ", ".join(m for m in PLACEMENT_METRICS))
            return self
        if self.unit != "customer":
            raise ValueError(f"a referral experiment's unit is the customer (the loop "
                             f"surveys and rewards customers), not {self.unit!r}; set "
                             "unit = \"customer\"")
        if self.placements:
            raise ValueError("a referral experiment varies the loop, not a placement; drop "
                             "placements")
        if "primary_metric" not in self.model_fields_set:
            self.primary_metric = "referral_rate"
        elif self.primary_metric not in REFERRAL_METRICS:
            raise ValueError(f"primary_metric {self.primary_metric!r} measures placements; a "
                             "referral experiment uses one of: " + ", ".join(REFERRAL_METRICS))
        return self

    @property
    def kind(self) -> Literal["referral", "recommendations"]:
        """What the experiment varies (checked at validation: never both)."""
        return ("referral" if any(v.varies_referral for v in self.variants)
                else "recommendations")

    @property
    def control(self) -> VariantSettings:
        """The first variant: what the others are compared with."""
        return self.variants[0]

    def active(self, now: datetime) -> bool:
        """Started (or no start) and not stopped at ``now``."""
        return ((self.start is None or self.start <= now)
                and (self.stop is None or now < self.stop))

    def planned_per_arm(self) -> int | None:
        """Units per arm the primary metric needs (None: no baseline configured)."""
        from ._stats import sample_size_means, sample_size_proportions

        mde, alpha, power = self.minimum_detectable_effect, self.alpha, self.power
        if self.primary_metric.endswith("revenue_per_exposure"):
            if self.baseline_revenue_mean is None or self.baseline_revenue_sd is None:
                return None
            return sample_size_means(self.baseline_revenue_sd,
                                     self.baseline_revenue_mean * mde, alpha=alpha,
                                     power=power)
        if self.baseline_rate is None:
            return None
        return sample_size_proportions(self.baseline_rate, mde, alpha=alpha, power=power)


def _overlap(a: ExperimentSettings, b: ExperimentSettings) -> bool:
    far_past, far_future = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    return ((a.start or far_past) < (b.stop or far_future)
            and (b.start or far_past) < (a.stop or far_future))


def experiment_problems(experiments: dict[str, ExperimentSettings],
                        placements: Iterable[str]) -> list[tuple[str, str, str]]:
    """Checks across tables: (key, problem, fix) for names, rule sets that name no
    ``[reco.placements.<name>]`` and placements two running experiments share (a unit would
    be in both, and neither comparison would be clean)."""
    known = sorted(placements)
    problems: list[tuple[str, str, str]] = []
    for name, settings in experiments.items():
        if not _NAME.match(name):
            problems.append((f"experiments.{name}", "experiment names are lower-case "
                             "letters, digits, '_' and '-', starting with a letter",
                             "rename the table"))
        for i, variant in enumerate(settings.variants):
            if variant.rules is not None and variant.rules not in known:
                problems.append((f"experiments.{name}.variants.{i}.rules",
                                 f"no [reco.placements.{variant.rules}] table",
                                 f"use one of: {', '.join(known)}, or add the table"))
    names = sorted(experiments)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = experiments[first], experiments[second]
            if a.kind == b.kind == "referral" and _overlap(a, b):
                problems.append((f"experiments.{second}", f"experiments {first!r} and "
                                 f"{second!r} both vary the referral loop at the same time "
                                 "(a customer would be in both)",
                                 "give them non-overlapping start/stop dates"))
            shared = sorted(set(a.placements) & set(b.placements))
            if shared and _overlap(a, b):
                problems.append((f"experiments.{second}.placements",
                                 f"placement {shared[0]!r} is in experiments {first!r} and "
                                 f"{second!r} at the same time",
                                 "give them different placements or non-overlapping "
                                 "start/stop dates"))
    return problems
