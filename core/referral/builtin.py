"""The built-in referral plugins: fraud rules (``check_referral``), the configurable reward
policy (``referral_reward``, ``trylast``) and the order detector (``referral_detection``).

Ordinary plugins (entry point ``referral``), so they can be disabled
(``SHOPLOOP_DISABLE_PLUGINS=referral``) or outranked: a ``tryfirst`` policy answers first, and
any plugin's rejecting finding rejects. Settings come from ``[referral]`` (``context.config``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from shoploop.hooks import (
    Address,
    HookContext,
    Order,
    Referral,
    ReferralDetection,
    ReferralFinding,
    RewardSpec,
    hookimpl,
)

from ._emails import normalised_email
from ._settings import referral_settings_from

LANDING_KEYS = ("shoploop_ref", "ref")


def _address_key(address: Address) -> tuple[str, str, str] | None:
    if not address.line1 or not address.postal_code:
        return None
    street = re.sub(r"[^a-z0-9]", "", address.line1.lower().replace("straße", "str")
                    .replace("strasse", "str"))
    return street, address.postal_code.replace(" ", "").lower(), (address.country or "").lower()


def _vat(value: str | None) -> str | None:
    return re.sub(r"[^A-Z0-9]", "", value.upper()) if value else None


@hookimpl
def check_referral(context: HookContext, referral: Referral) -> list[ReferralFinding]:
    settings = referral_settings_from(context.config)
    findings: list[ReferralFinding] = []

    def reject(rule: str, reason: str) -> None:
        findings.append(ReferralFinding(rule=rule, rejects=True, reason=reason))

    advocate, referred = (normalised_email(referral.advocate_email),
                          normalised_email(referral.referred_email))
    if advocate and advocate == referred:
        reject("self_referral", f"the referred e-mail reaches the advocate's mailbox "
                                f"({referred})")
    shared = {c for c, i in referral.advocate_bindings.items()
              if referral.referred_bindings.get(c) == i}
    if referral.referred_customer_id == referral.advocate_customer_id or shared:
        reject("same_customer", "advocate and referred customer are the same customer"
                                + (f" in {sorted(shared)}" if shared else ""))
    advocate_places = {k for a in referral.advocate_addresses if (k := _address_key(a))}
    if any(_address_key(a) in advocate_places for a in referral.referred_addresses):
        reject("same_address", "the referred order goes to the advocate's address")
    if _vat(referral.advocate_vat_id) and _vat(referral.advocate_vat_id) == _vat(
            referral.referred_vat_id):
        reject("same_vat_id", f"both customers have the VAT id {referral.referred_vat_id}")
    if referral.referred_prior_orders > 0:
        reject("existing_customer", f"the referred customer ordered before "
                                    f"({referral.referred_prior_orders} earlier orders)")
    if referral.created_at is not None:
        caps = settings.caps
        since_period = referral.created_at - timedelta(days=caps.period_days)
        in_period = [t for t in referral.advocate_referral_times if t > since_period]
        if len(in_period) >= caps.per_advocate:
            reject("cap_per_advocate", f"the advocate has {len(in_period)} referrals in the "
                                       f"last {caps.period_days} days (cap "
                                       f"{caps.per_advocate})")
        since_burst = referral.created_at - timedelta(hours=caps.velocity_hours)
        burst = [t for t in referral.advocate_referral_times if t > since_burst]
        if len(burst) >= caps.velocity_count:
            reject("velocity", f"{len(burst) + 1} referrals of one advocate within "
                               f"{caps.velocity_hours} hours (at most "
                               f"{caps.velocity_count})")
    return findings


@hookimpl(trylast=True)
def referral_reward(context: HookContext, referral: Referral) -> RewardSpec | None:
    policy = referral_settings_from(context.config).reward
    if not policy.enabled:
        return None
    amount = None if policy.percentage is not None else policy.amount
    percentage = policy.percentage
    arm = referral.experiment
    if arm is not None and arm.reward_value is not None:  # the arm's promise (experiments)
        if percentage is not None:
            percentage = float(arm.reward_value)
        elif amount is not None:
            amount = arm.reward_value
    return RewardSpec(kind=policy.kind, recipient_customer_id=referral.advocate_customer_id,
                      recipient_email=referral.advocate_email, amount=amount,
                      percentage=percentage, product_id=policy.product_id,
                      currency=policy.currency, note=policy.note)


@hookimpl
def referral_detection(order: Order, connection: str) -> list[ReferralDetection]:
    found = [ReferralDetection(code=code, via="code", evidence=f"{connection}: discount code")
             for code in order.discount_codes if code.strip()]
    for key in LANDING_KEYS:  # note attributes (Shopify) / order meta (WooCommerce)
        value = order.attributes.get(key)
        if isinstance(value, str) and value.strip():
            found.append(ReferralDetection(code=value.strip(), via="landing",
                                           evidence=f"{connection}: order attribute {key!r}"))
    landing = order.attributes.get("landing_site")
    if isinstance(landing, str) and "?" in landing:
        for key in LANDING_KEYS:
            for value in parse_qs(urlsplit(landing).query).get(key, []):
                found.append(ReferralDetection(code=value, via="landing",
                                               evidence=f"{connection}: landing_site"))
    return found
