"""``shoploop referral run | show | funnel``: the referral loop's periodic job and its ledger.

Exit codes (docs/cli.md): 0 ok · 1 the run finished with problems (a message no channel
delivered, a reward waiting for an identity binding, …; all retried on the next run) ·
2 configuration or usage error (a bad ``--now``, no link-signing secret, an unknown code or
customer for ``show``) · 3 a system unreachable or refusing the credentials.
Heavy imports stay inside the commands so ``shoploop --help`` stays fast.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from ._errors import UsageError
from ._state import State, console, print_json


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
                                   dry_run=dry_run, experiments=config.experiments)
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
        from shoploop.referral import ledger_of
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
        from shoploop.referral import funnel_rates
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
