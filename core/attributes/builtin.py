"""Built-in derived attributes: order count, revenue, last order date, lifecycle stage, RFM,
and from the referral ledger satisfaction score, advocate status and referral count.

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
    """Successful referrals: the ledger's (qualified or rewarded), else — for referrals made
    outside shoploop — a ``referral_count`` attribute some connection holds."""
    if profile.referral.successful:
        return profile.referral.successful
    value = profile.attributes.get("referral_count",
                                   profile.customer.attributes.get("referral_count"))
    if isinstance(value, bool) or value is None or isinstance(value, list):
        return 0
    try:
        return int(value)
    except ValueError:
        return 0


def advocate_status(profile: CustomerProfile) -> str | None:
    """How far the person went in the referral loop: ``advocate`` (a friend's order earned
    a reward), ``referred`` (a friend's order is attributed to their code), ``invited`` (they
    hold a code); None when the ledger knows no code of theirs."""
    standing = profile.referral
    if standing.rewarded:
        return "advocate"
    if standing.referrals:
        return "referred"
    return "invited" if standing.codes else None


def compute(profile: CustomerProfile, now: Any, settings: AttributeSettings
            ) -> dict[str, AttributeValue]:
    """The built-in attributes of one profile as of ``now``."""
    bought = purchases(profile.orders)
    count = len(bought)
    amount = revenue(profile.orders)
    last = last_order_at(profile.orders)
    since = None if last is None else days_since(last, now)
    referrals = referral_count(profile)
    stage = lifecycle_stage(count, since, referrals, settings)
    result: dict[str, AttributeValue] = {
        "order_count": count,
        "revenue": str(amount),
        "last_order_date": None if last is None else last.date().isoformat(),
        "lifecycle_stage": stage,
        "rfm_score": None,
        "rfm_segment": None,
        "satisfaction_score": profile.referral.satisfaction_score,
        "advocate_status": advocate_status(profile),
        # Only for people in the loop (or counted elsewhere): not a 0 for every customer.
        "referral_count": referrals if referrals or profile.referral.codes else None,
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
