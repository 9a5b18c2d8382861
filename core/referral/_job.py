"""``run_referrals``: the periodic job, and the survey answer the survey page records."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from shoploop.hooks import HookContext, ShoploopError
from shoploop.store import Store, get_survey, opt_out, transition

from .._plugins import PluginHost
from ._engine import (
    Loop,
    RunReport,
    attribute_orders,
    invite_satisfied,
    schedule_surveys,
    send_surveys,
)
from ._experiment import ReferralArms
from ._links import link_secret, verify_survey_token
from ._revoke import reverse_refunded
from ._rewards import (
    qualify_referrals,
    reconcile_interrupted,
    reward_qualified,
    thank_advocates,
)
from ._settings import ReferralSettings

if TYPE_CHECKING:
    from shoploop.experiments import ExperimentSettings

PHASES = (reconcile_interrupted, schedule_surveys, send_surveys, invite_satisfied,
          attribute_orders, qualify_referrals, reward_qualified,
          # Reversals before thank-yous: a reward refunded before its thank-you went out is
          # taken back without thanking the advocate for it first.
          reverse_refunded, thank_advocates)


def run_referrals(host: PluginHost, store: Store, settings: ReferralSettings, now: datetime, *,
                  context: HookContext, dry_run: bool = False,
                  environ: Mapping[str, str] | None = None,
                  experiments: Mapping[str, ExperimentSettings] | None = None) -> RunReport:
    """One run of the loop (idempotent: a second run at the same ``now`` does nothing new).
    ``context`` comes from the core's hook-context factory; its connectors are the shops and
    the ERP the loop writes to. ``dry_run`` writes nothing anywhere and counts what it would
    do. ``experiments`` (the config's): referral experiments' arms change survey delays and
    rewards (docs/experiments.md)."""
    report = RunReport(now=now, dry_run=dry_run)
    if not settings.enabled:
        report.problems.append("[referral] enabled = false: nothing done")
        return report
    loop = Loop(host=host, store=store, settings=settings, context=context, report=report,
                environ=environ, arms=ReferralArms(experiments or {}, dry_run=dry_run))
    for phase in PHASES:
        phase(loop)
    return report


class AnswerError(ShoploopError):
    """A survey answer that cannot be taken (out of range, survey not open)."""

    error_code = "answer_invalid"
    exit_code = 2


def record_answer(store: Store, settings: ReferralSettings, token: str, *, score: int,
                  comment: str = "", now: datetime,
                  environ: Mapping[str, str] | None = None) -> str:
    """Take a survey answer (1 to 5 and a comment) from a signed link's token; returns the
    survey id. A forged or expired token raises ``LinkError``; a second answer is refused."""
    survey_id = verify_survey_token(link_secret(settings, environ), token, now)
    if not 1 <= score <= 5:
        raise AnswerError(f"a score must be 1 to 5, not {score}", remedy="choose 1 to 5")
    with store.session() as session:
        survey = get_survey(session, survey_id)
        if survey is None or survey.status != "sent":
            raise AnswerError("this survey is closed or was answered already",
                              remedy="nothing to do; thank you")
        transition(session, "survey", survey_id, "answered", now=now,
                   cause=f"answered {score} on the survey page", score=score,
                   comment=comment[:2000] or None, answered_at=now)
    return survey_id


def record_opt_out(store: Store, settings: ReferralSettings, token: str, *, now: datetime,
                   environ: Mapping[str, str] | None = None) -> str:
    """The survey link's opt-out: no more surveys or invitations to this e-mail address."""
    survey_id = verify_survey_token(link_secret(settings, environ), token, now)
    with store.session() as session:
        survey = get_survey(session, survey_id)
        if survey is None:
            raise AnswerError("unknown survey", remedy="use the link from the e-mail")
        if survey.email:
            opt_out(session, survey.email, cause=f"opt-out link of survey {survey_id}",
                    now=now)
        if survey.status == "sent":
            transition(session, "survey", survey_id, "skipped", now=now, cause="opted out")
    return survey_id
