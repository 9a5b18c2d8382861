"""The referral loop: satisfaction survey → invitation → attribution → qualification →
exactly-once reward (docs/referrals.md).

The engine is a plain function over (host, store, settings, clock), so the CLI
(``shoploop referral run``), the web app and a Celery task call the same thing.
"""

from __future__ import annotations

from ._settings import (
    CapSettings,
    ConnectionReferralSettings,
    FriendOfferSettings,
    ReferralSettings,
    RewardPolicySettings,
    SmtpSettings,
    referral_settings_from,
)

__all__ = [
    "CapSettings", "ConnectionReferralSettings", "FriendOfferSettings", "ReferralSettings",
    "RewardPolicySettings", "SmtpSettings", "referral_settings_from",
]
