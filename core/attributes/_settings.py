"""The ``[attributes]`` config table: thresholds of the built-in derived attributes.

Kept in its own small module (no store, no SQLAlchemy) because the config loader imports it
at start-up and ``shoploop --help`` must stay fast.
"""

from __future__ import annotations

from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, model_validator


def _ascending(name: str, values: list[int]) -> None:
    if len(values) != 4 or any(b <= a for a, b in pairwise(values)):
        raise ValueError(f"{name} must be 4 strictly ascending numbers, got {values}")


class AttributeSettings(BaseModel):
    """Thresholds of the lifecycle stage and the RFM scores (all optional; docs/attributes.md)."""

    model_config = ConfigDict(extra="forbid")

    at_risk_after_days: int = Field(default=180, gt=0,
                                    description="Days since the last order before 'at_risk'.")
    lapsed_after_days: int = Field(default=365, gt=0,
                                   description="Days since the last order before 'lapsed'.")
    loyal_min_orders: int = Field(default=5, ge=2, description="Orders that make a buyer 'loyal'.")
    advocate_min_referrals: int = Field(default=1, ge=1,
                                        description="Successful referrals that make an 'advocate'.")
    recency_days: list[int] = Field(default_factory=lambda: [30, 90, 180, 365],
                                    description="Upper bounds (days) of R scores 5, 4, 3, 2.")
    frequency_orders: list[int] = Field(default_factory=lambda: [2, 3, 5, 10],
                                        description="Lower bounds (orders) of F scores 2, 3, 4, 5.")
    monetary: list[int] = Field(default_factory=lambda: [100, 250, 500, 1000],
                                description="Lower bounds (revenue) of M scores 2, 3, 4, 5.")

    @model_validator(mode="after")
    def _check(self) -> AttributeSettings:
        if self.lapsed_after_days <= self.at_risk_after_days:
            raise ValueError("lapsed_after_days must be greater than at_risk_after_days")
        _ascending("recency_days", self.recency_days)
        _ascending("frequency_orders", self.frequency_orders)
        _ascending("monetary", self.monetary)
        return self
