"""``shoploop sync customers | history | show``: the ERP admin's scheduled job and its audit.

Exit codes (docs/sync.md): 0 ok · 1 some records failed (or a plugin aborted the run) · 2
configuration error, or a run refused by a safety check (a mapped field no master record has,
a mass clear) · 3 a system unreachable or unauthorised · 130 / 143 stopped by SIGINT /
SIGTERM. Heavy imports stay inside the commands so ``shoploop --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer
from rich.markup import escape

from ._errors import JobFailedError, UsageError
from ._invocation import shoploop_command
from ._progress import board
from ._state import State, console, console_err, print_json
from ._tables import ReadableTable

SUMMARY_COLUMNS = ("read", "matched", "created", "changed", "to_clear", "written", "cleared",
                   "skipped", "conflicts", "failed", "unmatched", "ambiguous")
STOPPING = ("{signal}: stopping after the batch in flight; press Ctrl-C again to abort now "
            "(the run is recorded as interrupted and the next run resumes it)\n")
ABORTING = "{signal} again: aborting now\n"


def _show(value: Any) -> str:
    if value is None:
        return "∅"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _print_summary(report: dict[str, Any]) -> None:
    title = "sync customers" + (" (dry run: nothing written)" if report["dry_run"] else "")
    # One row per count, one column per target: a handful of targets fits 80 columns, where
    # ten count columns did not.
    targets = list(report["targets"])
    table = ReadableTable(title, [("", "left"), *((t, "right") for t in targets)])
    for column in SUMMARY_COLUMNS:
        table.add_row(column, *(f"{report['targets'][t].get(column, 0):,}" for t in targets))
    console.print(table)
    for target, counts in report["targets"].items():
        if report["dry_run"] and counts.get("to_clear"):
            by_attribute = report.get("clears", {}).get(target, {})
            console.print(f"would clear {counts['to_clear']} values in {target}"
                          + (" (" + ", ".join(f"{a} {n}" for a, n in by_attribute.items())
                             + ")" if by_attribute else ""))
        elif counts.get("cleared"):
            console.print(f"cleared {counts['cleared']} values in {target}")
    for error in report["errors"]:
        console_err.print(f"[red]{error['kind']}:[/] {error['connection']}: "
                          f"{escape(error['error'])}")
    if report.get("interrupted"):
        console_err.print(f"[yellow]interrupted[/] ({report['interrupted']}): "
                          f"{report['written']} values written; run `shoploop sync customers` "
                          "again to resume")
    batches = ", ".join(f"{t} {n}" for t, n in report["batches"].items()) or "none"
    console.print(f"run {report['run_id']} · batches: {batches} · "
                  f"resumed {report['resumed_batches']} · `{shoploop_command()} sync show "
                  f"{report['run_id'][:8]}` lists every change")


def _print_diff(diff: list[dict[str, Any]]) -> None:
    table = ReadableTable("would change", [(c, "left") for c in (
        "target", "customer", "attribute", "old", "new", "from")])
    for row in diff:
        table.add_row(row["target"], row["customer"], row["key"], _show(row["old"]),
                      _show(row["new"]), f"{row['source']}/{row['source_id'] or '-'}")
    console.print(table)


def _abort(exc: Any, as_json: bool) -> None:
    """The second Ctrl-C: say what was recorded and leave at once — the pipeline's threads
    are not waited for (a batch they had sent stays an intent the next run reconciles)."""
    summary = exc.summary or {}
    if as_json and summary:
        print_json(summary)
    written = summary.get("written", 0)
    run = str(summary.get("run_id", ""))[:8]
    console_err.print(f"[bold red]aborted[/] ({exc}): run {run or '?'} recorded as "
                      f"interrupted, {written} values written; a batch in flight stays "
                      "pending and the next `shoploop sync customers` resumes it")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exc.exit_code)


def _store(state: State) -> Any:
    from shoploop.store import Store

    return Store(state.config().store_url)


def _find_run(session: Any, prefix: str) -> Any:
    from sqlalchemy import select

    from shoploop.store import SyncRunRecord

    runs = list(session.scalars(select(SyncRunRecord).where(
        SyncRunRecord.id.startswith(prefix)).limit(2)))
    if len(runs) != 1:
        raise UsageError(f"{'no' if not runs else 'more than one'} run starting with {prefix!r}",
                         remedy="pick a run id (or a longer prefix) from `shoploop sync history`")
    return runs[0]


def register(app: typer.Typer) -> None:
    sync = typer.Typer(help="Customer-attribute sync between the ERP and the shops.",
                       no_args_is_help=True)
    app.add_typer(sync, name="sync")

    @sync.command("customers")
    def customers(
        ctx: typer.Context,
        source: str | None = typer.Option(None, "--from", help="Only attributes whose master "
                                          "is this connection (or 'derived')."),
        to: str | None = typer.Option(None, "--to", help="Only these targets (comma-separated)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the changes; write "
                                     "nothing remotely."),
        full: bool = typer.Option(False, "--full", help="Re-read every connection from the "
                              "beginning (ignore stored cursors)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON summary object."),
        limit: int = typer.Option(200, "--diff-limit", min=0,
                                  help="Rows of the dry-run diff to print."),
        allow_mass_clear: bool = typer.Option(
            False, "--allow-mass-clear", help="Write even if the run clears more than "
            "sync.max_clear_share of a target's values (refused otherwise, exit 2)."),
    ) -> None:
        """Sync the mapped customer attributes from their masters into every target.

        The first Ctrl-C (or SIGTERM) stops after the batch in flight (exit 130 / 143); a
        second one aborts at once."""
        from shoploop._connections import Connections
        from shoploop._interrupt import Aborted, StopToken, signal_name
        from shoploop.hooks import ShoploopError
        from shoploop.sync.job import SyncJob, SyncOptions

        state: State = ctx.obj
        config = state.config()
        targets = [t.strip() for t in to.split(",") if t.strip()] if to else None
        shown = board()

        def imported(connection: str, stream: str, read: int, expected: int | None,
                     outcome: str | None) -> None:
            key = f"import {connection} {stream}"
            shown.update(key, description=key, completed=read, total=expected)
            if outcome is not None:
                shown.finish(key, failed=outcome == "failed")

        def planned(target: str, done: int, total: int) -> None:
            key = f"plan → {target}"
            shown.update(key, description=f"{key} (customers)", completed=done, total=total)
            if done >= total:
                shown.finish(key)

        def written(target: str, done: int, total: int) -> None:
            key = f"write → {target}"
            shown.update(key, description=f"{key} (changes)", completed=done, total=total)

        def notice(template: str) -> Any:
            # os.write: a signal handler must not re-enter a buffered stream mid-write
            return lambda signum: os.write(2, template.format(
                signal=signal_name(signum)).encode())

        stop = StopToken()
        options = SyncOptions(only_from=source, only_to=targets, dry_run=dry_run, full=full,
                              diff_limit=None if as_json else limit, progress=written,
                              plan_progress=planned, import_progress=imported,
                              allow_mass_clear=allow_mass_clear, stop=stop)
        with Connections(config, state.host.connectors) as connections, _store(state) as store, \
                stop.installed(on_first=notice(STOPPING), on_second=notice(ABORTING)):
            job = SyncJob(state.host, config, store, connections, options)
            try:
                with shown:
                    report = job.run()
            except Aborted as exc:
                _abort(exc, as_json)
            except ShoploopError:
                raise  # the CLI's error path: its message, remedy and exit code (._errors)
            except Exception as exc:  # a plugin's before_sync veto, a store failure, …
                raise JobFailedError(f"sync failed: {type(exc).__name__}: {exc}") from exc
        summary = report.as_dict()
        if as_json:
            print_json(summary)
        else:
            if dry_run:
                _print_diff(summary.get("diff", []))
            _print_summary(summary)
        raise typer.Exit(report.exit_code)

    @sync.command("history")
    def history(
        ctx: typer.Context,
        limit: int = typer.Option(20, "--limit", min=1),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """The latest sync runs, newest first."""
        from shoploop.store import recent_runs
        from shoploop.sync.job import JOB

        with _store(ctx.obj) as store, store.session() as session:
            runs = [{"run_id": r.id, "started_at": r.started_at.isoformat(),
                     "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                     "status": r.status, "dry_run": r.summary.get("dry_run", False),
                     "targets": r.summary.get("targets", {})}
                    for r in recent_runs(session, job=JOB, limit=limit)]
        if as_json:
            print_json({"runs": runs})
            return
        table = ReadableTable("sync runs", [
            ("run", "left"), ("started", "left"), ("status", "left"), ("dry", "left"),
            ("written", "right"), ("cleared", "right"), ("failed", "right")])
        for run in runs:
            targets = run["targets"] if isinstance(run["targets"], dict) else {}
            table.add_row(run["run_id"][:8], run["started_at"][:19], run["status"],
                          "yes" if run["dry_run"] else "",
                          *(str(sum(t.get(key, 0) for t in targets.values()))
                            for key in ("written", "cleared", "failed")))
        console.print(table)

    @sync.command("show")
    def show(
        ctx: typer.Context,
        run: str = typer.Argument(..., help="A run id or its first characters."),
        status: str | None = typer.Option(None, "--status", help="Only changes with this "
                                          "status (written, failed, conflict, unmatched, …)."),
        limit: int = typer.Option(1000, "--limit", min=1),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """One run's summary and its changes (customer, attribute, target, old → new)."""
        from shoploop.sync.audit import batches_of_run, changes_of_run

        with _store(ctx.obj) as store, store.session() as session:
            record = _find_run(session, run)
            changes: list[dict[str, Any]] = [
                {"target": c.connection, "customer": c.customer_external_id,
                        "key": c.attr_key, "old": c.old, "new": c.new, "status": c.status,
                        "message": c.message, "source": c.source,
                        "source_id": c.source_external_id, "batch": c.batch_id}
                       for c in changes_of_run(session, record.id, status=status, limit=limit)]
            batches = [{"id": b.id, "target": b.connection, "size": b.size,
                        "status": b.status} for b in batches_of_run(session, record.id)]
            data = {"run_id": record.id, "status": record.status,
                    "started_at": record.started_at.isoformat(),
                    "finished_at": record.finished_at.isoformat() if record.finished_at
                    else None, "summary": record.summary, "batches": batches,
                    "changes": changes}
        if as_json:
            print_json(data)
            return
        summary = data["summary"] if isinstance(data["summary"], dict) else {}
        totals = " · ".join(f"{summary.get(key, 0)} {label}" for key, label in (
            ("written", "written"), ("cleared", "cleared"), ("failed", "failed")))
        console.print(f"run {data['run_id']} · {data['status']} · started "
                      f"{data['started_at'][:19]} · {len(batches)} batches · {totals}")
        table = ReadableTable("changes", [(c, "left") for c in (
            "target", "customer", "attribute", "old", "new", "status", "note")])
        for c in changes:
            table.add_row(str(c["target"]), str(c["customer"] or
                                                f"({c['source']}/{c['source_id']})"),
                          str(c["key"] or ""), _show(c["old"]), _show(c["new"]),
                          str(c["status"]), str(c["message"]))
        console.print(table)
