"""Built-in derived attributes: order count, revenue, last order date, lifecycle stage, RFM.

An ordinary plugin, registered through the ``shoploop`` entry-point group like third-party
ones, so it can be disabled (``SHOPLOOP_DISABLE_PLUGINS=attributes``) or overridden: a
``tryfirst`` plugin returning the same key wins (``customer_attributes`` merges, first wins).
Thresholds come from the ``[attributes]`` config table (``context.config``).
"""

from __future__ import annotations

from typing import Any

from shoploop.hooks import AttributeValue, CustomerProfile, HookContext, hookimpl

from ._rules import (
    days_since,
    frequency_score,
    last_order_at,
    lifecycle_stage,
    monetary_score,
    purchases,
    recency_score,
    revenue,
    rfm_segment,
)
from ._settings import AttributeSettings


def settings_from(config: Any) -> AttributeSettings:
    """The validated ``[attributes]`` table of a raw config mapping (defaults when absent)."""
    raw = config.get("attributes", {}) if hasattr(config, "get") else {}
    return AttributeSettings.model_validate(raw or {})


def referral_count(profile: CustomerProfile) -> int:
    """Successful referrals: the ``referral_count`` attribute (the referral ledger will feed it)."""
    value = profile.attributes.get("referral_count",
                                   profile.customer.attributes.get("referral_count"))
    if isinstance(value, bool) or value is None or isinstance(value, list):
        return 0
    try:
        return int(value)
    except ValueError:
        return 0


def compute(profile: CustomerProfile, now: Any, settings: AttributeSettings
            ) -> dict[str, AttributeValue]:
    """The built-in attributes of one profile as of ``now``."""
    bought = purchases(profile.orders)
    count = len(bought)
    amount = revenue(profile.orders)
    last = last_order_at(profile.orders)
    since = None if last is None else days_since(last, now)
    stage = lifecycle_stage(count, since, referral_count(profile), settings)
    result: dict[str, AttributeValue] = {
        "order_count": count,
        "revenue": str(amount),
        "last_order_date": None if last is None else last.date().isoformat(),
        "lifecycle_stage": stage,
        "rfm_score": None,
        "rfm_segment": None,
    }
    if since is not None:
        r, f, m = (recency_score(since, settings), frequency_score(count, settings),
                   monetary_score(amount, settings))
        result["rfm_score"] = f"{r}{f}{m}"
        result["rfm_segment"] = rfm_segment(r, f)
    return result


@hookimpl
def customer_attributes(context: HookContext, profile: CustomerProfile
                        ) -> dict[str, AttributeValue]:
    return compute(profile, context.now, settings_from(context.config))
