"""The referral loop: satisfaction survey → invitation → attribution → qualification →
exactly-once reward (docs/referrals.md).

The engine is a plain function over (host, store, settings, clock) — :func:`run_referrals` —
so the CLI (``shoploop referral run``), the web app and a Celery task call the same thing. The
survey page calls :func:`record_answer` / :func:`record_opt_out` with the signed link's token
(:func:`verify_survey_token`).
"""

from __future__ import annotations

from ._engine import RunReport
from ._job import AnswerError, record_answer, record_opt_out, run_referrals
from ._links import LinkError, link_secret, survey_link, survey_token, verify_survey_token
from ._messages import render_message
from ._settings import (
    CapSettings,
    ConnectionReferralSettings,
    FriendOfferSettings,
    ReferralSettings,
    RewardPolicySettings,
    SmtpSettings,
    referral_settings_from,
)
from .builtin import normalised_email

__all__ = [
    "AnswerError", "CapSettings", "ConnectionReferralSettings", "FriendOfferSettings",
    "LinkError", "ReferralSettings", "RewardPolicySettings", "RunReport", "SmtpSettings",
    "link_secret", "normalised_email", "record_answer", "record_opt_out",
    "referral_settings_from", "render_message", "run_referrals", "survey_link",
    "survey_token", "verify_survey_token",
]
