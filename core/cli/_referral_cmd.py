"""``shoploop referral run | show | funnel``: the referral loop's periodic job and its ledger.

Exit codes (docs/cli.md): 0 ok · 1 the run finished with problems (a message no channel
delivered, a reward waiting for an identity binding, …; all retried on the next run) ·
2 configuration or usage error (a bad ``--now``, no link-signing secret, an unknown code or
customer for ``show``) · 3 a system unreachable or refusing the credentials.
Heavy imports stay inside the commands so ``shoploop --help`` stays fast.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer

from ._errors import UsageError
from ._state import State, console, print_json

FUNNEL = ("surveyed", "answered", "satisfied", "invited", "referred_orders", "qualified",
          "rewarded")


def parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--now {value!r} is not an ISO date or date-time",
                         remedy="write e.g. --now 2026-03-01 or --now 2026-03-01T09:00:00Z"
                         ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def funnel_rates(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Each stage with its count and its rate of the stage before (None for the first)."""
    rows: list[dict[str, Any]] = []
    previous: int | None = None
    for stage in FUNNEL:
        count = counts.get(stage, 0)
        rate = None if previous is None else (round(count / previous, 4) if previous else 0.0)
        rows.append({"stage": stage, "count": count, "rate": rate})
        previous = count
    return rows


def register(app: typer.Typer) -> None:
    referral = typer.Typer(help="Referral rewards: satisfaction survey → invitation → "
                                "attribution → exactly-once reward (docs/referrals.md).",
                           no_args_is_help=True)
    app.add_typer(referral, name="referral")

    @referral.command("run")
    def run(
        ctx: typer.Context,
        now: str | None = typer.Option(None, "--now", help="Run as of this time (ISO; "
                                                           "simulated time, for demos and "
                                                           "tests)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Count what would happen; "
                                                              "send and write nothing."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON summary object."),
    ) -> None:
        """The periodic job: due surveys, invitations and codes, attribution, qualification,
        rewards, thank-yous and reversals. Idempotent and cron-able."""
        from shoploop._connections import Connections
        from shoploop._context import hook_context
        from shoploop.referral import run_referrals
        from shoploop.store import Store

        state: State = ctx.obj
        config = state.config()
        when = parse_now(now)
        with Store(config.store_url) as store, \
                Connections(config, state.host.connectors) as connections:
            report = run_referrals(state.host, store, config.referral, when,
                                   context=hook_context(config, connections, store=store,
                                                        now=when),
                                   dry_run=dry_run)
        summary = report.as_dict()
        if as_json:
            print_json(summary)
        else:
            mode = "dry run" if dry_run else f"run {report.run_id}"
            console.print(f"referral {mode} as of {when:%Y-%m-%d %H:%M} UTC")
            for key, value in summary["counts"].items():
                console.print(f"  {key}: {value}", highlight=False)
            for problem in report.problems:
                console.print(f"[yellow]problem:[/] {problem}", highlight=False)
        if report.problems:
            raise typer.Exit(1)

    @referral.command("show")
    def show(
        ctx: typer.Context,
        what: str = typer.Argument(..., metavar="CODE|CUSTOMER",
                                   help="A referral code, or a customer's id in any shop."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """A code's or a customer's ledger: surveys, codes, referrals, rewards, and every
        transition with its cause and time (rejections with their reasons)."""
        from shoploop.store import Store

        state: State = ctx.obj
        with Store(state.config().store_url) as store, store.session() as session:
            found = ledger_of(session, what)
        if not found["codes"] and not found["surveys"]:
            raise UsageError(f"no referral code or customer {what!r} in the ledger",
                             remedy="check the code, or give the customer's id in its shop")
        if as_json:
            print_json(found)
            return
        for section in ("surveys", "codes", "referrals", "rewards"):
            for entry in found[section]:
                console.print(f"[bold]{section[:-1]} {entry['id']}[/] {entry['status']}",
                              highlight=False)
                for step in entry["history"]:
                    console.print(f"  {step['at']}  {step['from'] or '·'} → {step['to']}: "
                                  f"{step['cause']}", highlight=False, soft_wrap=True)

    @referral.command("funnel")
    def funnel(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """surveyed → answered → satisfied → invited → referred orders → qualified →
        rewarded, each with its rate of the stage before (the seed's 37 % / half)."""
        from shoploop.store import Store, referral_funnel

        state: State = ctx.obj
        with Store(state.config().store_url) as store, store.session() as session:
            rows = funnel_rates(referral_funnel(session))
        if as_json:
            print_json({"funnel": rows})
            return
        for row in rows:
            rate = "" if row["rate"] is None else f"  {row['rate']:.1%}"
            console.print(f"{row['stage']:>16}  {row['count']:>7}{rate}", highlight=False)

    _ = run, show, funnel  # registered by the decorators


def ledger_of(session: Any, what: str) -> dict[str, list[dict[str, Any]]]:
    from sqlalchemy import select

    from shoploop.store import (
        ReferralCodeRecord,
        ReferralSurveyRecord,
        find_code,
        ledger_history,
        referrals_of_code,
        reward_of_referral,
    )

    def entry(entity: str, key: str, status: str, **extra: Any) -> dict[str, Any]:
        history = [{"at": h.at.isoformat(), "from": h.from_state, "to": h.to_state,
                    "cause": h.cause} for h in ledger_history(session, entity, key)]
        return {"id": key, "status": status, **extra, "history": history}

    code = find_code(session, what)
    codes = [code] if code is not None else list(session.scalars(select(ReferralCodeRecord)
                                                  .where(ReferralCodeRecord
                                                         .customer_external_id == what)))
    surveys = list(session.scalars(select(ReferralSurveyRecord).where(
        ReferralSurveyRecord.customer_external_id == (code.customer_external_id if code
                                                       else what))))
    referrals = [r for c in codes for r in referrals_of_code(session, c.code)]
    rewards = [w for r in referrals if (w := reward_of_referral(session, r.id)) is not None]
    return {
        "surveys": [entry("survey", s.id, s.status, connection=s.connection,
                          score=s.score) for s in surveys],
        "codes": [entry("code", c.code, c.status, connection=c.connection,
                        customer=c.customer_external_id) for c in codes],
        "referrals": [entry("referral", r.id, r.status, order=r.order_external_id,
                            reasons=r.reasons) for r in referrals],
        "rewards": [entry("reward", w.id, w.status, kind=w.kind, reference=w.reference)
                    for w in rewards],
    }
