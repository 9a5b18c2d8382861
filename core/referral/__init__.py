"""The referral loop: satisfaction survey → invitation → attribution → qualification →
exactly-once reward (docs/referrals.md).

The engine is a plain function over (host, store, settings, clock) — :func:`run_referrals` —
so the CLI (``shoploop referral run``), the web app and a Celery task call the same thing. The
survey page calls :func:`record_answer` / :func:`record_opt_out` with the signed link's token
(:func:`verify_survey_token`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._emails import normalised_email
from ._links import (
    LinkError,
    LinkExpiredError,
    link_secret,
    survey_link,
    survey_token,
    verify_survey_token,
)
from ._settings import (
    CapSettings,
    ConnectionReferralSettings,
    FriendOfferSettings,
    OutboxSettings,
    ReferralSettings,
    RewardPolicySettings,
    SmtpSettings,
    referral_settings_from,
)

if TYPE_CHECKING:
    from ._engine import RunReport
    from ._job import AnswerError, record_answer, record_opt_out, run_referrals
    from ._ledger_view import FUNNEL, funnel_rates, ledger_of
    from ._messages import render_message

# The built-in plugins (``builtin``, ``smtp``) load with every ``shoploop`` call, and importing
# them imports this package: the engine (SQLAlchemy, the store) and Jinja2 load on first use
# only, so ``shoploop --help`` stays fast (tests/core/test_plugin_loading.py keeps it so).
_LAZY = {"RunReport": "._engine", "AnswerError": "._job", "record_answer": "._job",
         "record_opt_out": "._job", "run_referrals": "._job", "render_message": "._messages",
         "FUNNEL": "._ledger_view", "funnel_rates": "._ledger_view", "ledger_of": "._ledger_view"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "FUNNEL", "AnswerError", "CapSettings", "ConnectionReferralSettings", "FriendOfferSettings",
    "LinkError", "LinkExpiredError", "OutboxSettings", "ReferralSettings",
    "RewardPolicySettings", "RunReport", "SmtpSettings",
    "funnel_rates", "ledger_of", "link_secret", "normalised_email", "record_answer",
    "record_opt_out",
    "referral_settings_from", "render_message", "run_referrals", "survey_link",
    "survey_token", "verify_survey_token",
]
