"""The ``[experiments.NAME]`` table: what varies, the variants and their shares, the unit.

    [experiments.k_test]
    unit = "customer"                  # visitor | customer | account
    placements = ["product_page"]
    primary_metric = "conversion"      # ctr | conversion | revenue_per_exposure
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
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


class VariantSettings(BaseModel):
    """One arm; unset fields keep the placement's normal behaviour."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=_NAME.pattern)
    share: float = Field(gt=0, le=1)
    k: int | None = Field(default=None, ge=1, le=100)
    blend: dict[str, float] | None = None
    rules: str | None = None
    placement_enabled: bool = True
    referral_reward: float | None = Field(default=None, ge=0)
    survey_delay_days: int | None = Field(default=None, ge=0)


class ExperimentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: Literal["visitor", "customer", "account"] = "visitor"
    placements: list[str] = Field(default_factory=list)
    variants: list[VariantSettings] = Field(min_length=2)
    start: datetime | None = None
    stop: datetime | None = None
    primary_metric: Literal["ctr", "conversion", "revenue_per_exposure"] = "conversion"
    attribution_window_days: int = Field(default=7, ge=1, le=90)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0.5, lt=1)
    minimum_detectable_effect: float = Field(default=0.1, gt=0)

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
        return self
