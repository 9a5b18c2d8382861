"""``sync_customers``: one run of the customer-attribute sync, from import to audit trail.

1. ``before_sync`` (a plugin may abort); batches a dead job left *pending* become
   *interrupted* and their changes are re-planned (sent again only where the target still
   lacks them: the adapters compare before they write).
2. Import (:mod:`._imports`): the customers of every master and target (and, for derived
   attributes, the orders and installed base of every connection) into the mirror,
   incrementally, in lanes: each master alone, the targets one after another.
3. Per target, as soon as it and its masters are imported, a pipeline: an index of the
   target, then the master's customers ``CHUNK`` at a time — identities and values
   (:mod:`._plan`), the chunk's bindings, adopted state and findings committed — and full
   batches handed to the target's writer thread (:mod:`._writer`), which records each as an
   intent, sends it and settles it in one transaction. Two guards (:mod:`._guard`): before
   planning, a mapped master field none of the master's customers has is refused as a
   misspelling; and the clears are held until every target is planned, so a run that would
   clear a large share of a target's values clears nothing (its other changes go out as
   planned, the pipeline keeps writing while it plans).
4. ``after_sync`` / ``on_sync_error``; the run's summary goes into ``sync_runs``, with the
   counts as far as they got also when the run failed or was aborted.

A stop request (``SyncOptions.stop``, the CLI's first Ctrl-C or SIGTERM) is honoured at the
next safe point — between import pages, between planning chunks, after the batch in flight —
and the run is recorded ``interrupted``; a later run resumes it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shoploop.hooks import (
    HookContext,
    SyncRun,
)
from shoploop.store import interrupt_pending, live_run, new_run_id

from .._config import Config
from .._connections import Connections
from .._context import hook_context
from .._interrupt import Aborted, StopToken
from .._plugins import PluginHost
from ._create import create_missing
from ._guard import WriteGate, clears_of
from ._imports import ImportLanes
from ._lock import exclusive_run
from ._mapping import SyncMapping, resolve_mapping
from ._plan import (
    Change,
    Chunk,
    MasterBindings,
    Planner,
    build_index,
    derived_target,
    master_values,
)
from ._progress import PlanProgress
from ._report import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    JOB,
    SUMMARY_KEYS,
    SyncReport,
    error_row,
    phase,
)
from ._settings import DERIVED
from ._shared import RunShared
from ._state import (
    MirroredCustomer,
    bind_many,
    bindings_of,
    bound_to,
    customer_chunks,
    customers_of,
    merge_sent,
    record_changes,
    sent_of,
)
from ._writer import TargetWriter

if TYPE_CHECKING:
    pass

log = logging.getLogger("shoploop.sync")

CHUNK = 1000
"""Master customers planned at a time (memory: a chunk's records, not the run's)."""
Progress = Callable[[str, int, int], None]
"""``progress(target, done, total)`` after each batch; ``plan_progress(target, planned,
total)`` after each planned chunk (master customers, then derived rows)."""
ImportProgress = Callable[[str, str, int, "int | None", "str | None"], None]
"""``import_progress(connection, stream, read, expected, outcome)`` when an import starts
(read 0), after each page (outcome None) and when it ends (outcome ``"done"`` or
``"failed"``); ``expected`` is the connector's count, or None."""


@dataclass
class SyncOptions:
    only_from: str | None = None
    only_to: Sequence[str] | None = None
    dry_run: bool = False
    full: bool = False
    progress: Progress | None = None
    diff_limit: int | None = None
    plan_progress: Progress | None = None
    import_progress: ImportProgress | None = None
    allow_mass_clear: bool = False
    """Let the run clear more than ``sync.max_clear_share`` of a target's values."""
    stop: StopToken | None = None
    """Checked at the job's safe points; the CLI installs it as the SIGINT/SIGTERM handler."""
    fanout: str | None = None
    """The fan-out this run is a lane of (the ``shoploop.sync`` task's id, which a
    redelivered task keeps): in the run's summary; once a run of this fan-out succeeded for
    the targets, a lane sent again (a redelivered fan-out) does nothing and writes nothing."""
    worker: str | None = None
    """Who runs it (a Celery worker's node name): in the run's summary."""


class SyncJob:
    def __init__(self, host: PluginHost, config: Config, store: Any,
                 connections: Connections, options: SyncOptions) -> None:
        self.host, self.config, self.store = host, config, store
        self.connections, self.options = connections, options
        self.mapping: SyncMapping = resolve_mapping(
            config, config.sync, host.connectors, host.transforms,
            only_from=options.only_from, only_to=options.only_to)
        self.lock = threading.Lock()  # one writer transaction at a time (SQLite)
        self.now = datetime.now(UTC)
        self.master_bindings = {m: MasterBindings(m) for m in self.mapping.masters
                                if m != DERIVED}
        self.shared = RunShared(host, store, self.mapping, str(config.path or "<defaults>"),
                                self.now)
        self.stop = options.stop or StopToken()
        self.gate = WriteGate(self.mapping.targets, self.mapping, self.stop,
                              allow_mass_clear=options.allow_mass_clear)
        self.live: dict[str, tuple[Planner, TargetWriter | None]] = {}
        """Each target's planner and writer once started: the counts a failed or aborted run
        records."""

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> SyncReport:
        with exclusive_run(self.store, self.mapping.targets):
            # Under the lock: the run this lane repeats has either finished or never ran.
            done = self._done_in_fanout()
            if done is not None:
                log.info("sync lane of %s for %s already ran (run %s): nothing to do",
                         self.options.fanout, ", ".join(self.mapping.targets), done)
                return SyncReport(run_id=done, dry_run=self.options.dry_run,
                                  fanout=self.options.fanout, worker=self.options.worker,
                                  repeated=True)
            run_id = new_run_id()
            with live_run(self.store, run_id):  # its row is seen dead if this process dies
                return self._locked_run(run_id)

    def _done_in_fanout(self) -> str | None:
        """The id of a succeeded run of this run's fan-out covering its targets, if any."""
        from sqlalchemy import select

        from shoploop.store import SUCCEEDED, SyncRunRecord

        if self.options.fanout is None or self.options.dry_run:
            return None
        with self.store.session() as session:
            for record in session.scalars(select(SyncRunRecord).where(
                    SyncRunRecord.job == JOB, SyncRunRecord.status == SUCCEEDED,
                    SyncRunRecord.summary["fanout"].as_string() == self.options.fanout)):
                if set(self.mapping.targets) <= set((record.summary or {}).get("targets", ())):
                    return str(record.id)
        return None

    def _locked_run(self, run_id: str) -> SyncReport:
        from shoploop.store import FAILED as RUN_FAILED
        from shoploop.store import (
            INTERRUPTED,
            SUCCEEDED,
            close_stale_runs,
            finish_run,
            of_targets,
            start_run,
        )

        mapping = self.mapping
        # We hold our targets' locks, so a run of one of them still marked running died
        # (SIGKILL, power loss); its own liveness lock says so too, and a run of other
        # targets only (another lane) is left alone.
        close_stale_runs(self.store, by=f"a sync of {', '.join(mapping.targets)}", jobs=[JOB],
                         match=of_targets(mapping.targets))
        with self.store.session() as session:
            report = SyncReport(run_id="", dry_run=self.options.dry_run,
                                started_at=self.now.isoformat(), fanout=self.options.fanout,
                                worker=self.options.worker)
            report.run_id = start_run(session, JOB, run_id=run_id, summary={
                "dry_run": self.options.dry_run, "targets": mapping.targets,
                **report.labels()})
        context = hook_context(self.config, self.connections, store=self.store, now=self.now)
        # The connection masters ("erp"); "derived" only when no connection is a master.
        sources = [m for m in mapping.masters if m != DERIVED] or [DERIVED]
        run = SyncRun(run_id=run_id, job=JOB, source=",".join(sources),
                      targets=mapping.targets, dry_run=self.options.dry_run)
        try:
            self.host.call("before_sync", isolate=False, context=context, run=run)
            self._run(report, context)
        except BaseException as exc:
            # Under the writers' lock: an aborted run's writer may be settling a batch. Once
            # the stop is marked aborted no writer settles another, so the counts recorded
            # are exactly the batches confirmed; the others stay pending for the next run.
            with self.lock:
                if isinstance(exc, Aborted):
                    self.stop.abort()
                self._collect(report)
            if isinstance(exc, Aborted):  # the second Ctrl-C: the counts as far as known
                report.interrupted, report.interrupt_exit = str(exc), exc.exit_code
            else:
                report.errors.append(error_row(exc, "run"))
            report.finished_at = datetime.now(UTC).isoformat()
            with self.store.session() as session:
                finish_run(session, run_id, status=INTERRUPTED if report.interrupted
                           else RUN_FAILED, summary=report.as_dict())
            if isinstance(exc, Aborted):
                exc.summary = report.as_dict()
            self.host.call("on_sync_error", context=context,
                           run=run.model_copy(update={"summary": report.as_dict()}), error=exc)
            raise
        if self.stop.requested:
            report.interrupted = self.stop.reason
            report.interrupt_exit = self.stop.exit_code or 130
        report.finished_at = datetime.now(UTC).isoformat()
        summary = report.as_dict()
        status = INTERRUPTED if report.interrupted else \
            SUCCEEDED if report.exit_code == EXIT_OK else RUN_FAILED
        with self.store.session() as session:
            finish_run(session, run_id, status=status, summary={k: v for k, v in summary.items()
                                                 if k != "diff"})
        self.host.call("after_sync", context=context,
                       run=run.model_copy(update={"summary": summary}))
        return report

    def _run(self, report: SyncReport, context: HookContext) -> None:
        mapping = self.mapping
        forced: dict[str, set[tuple[str, str]]] = {t: set() for t in mapping.targets}
        if not self.options.dry_run:
            with self.store.session() as session:
                for batch in interrupt_pending(session, mapping.targets):
                    report.resumed_batches += 1
                    forced[batch.connection].update(
                        (item["customer"], item["key"]) for item in batch.changes["items"])
        for name in mapping.connections:
            self.connections[name]  # build here: a factory error is a config error
        imports = ImportLanes(self, report)
        imports.start()
        # One pipeline per target, started as soon as its masters and itself are imported.
        # Not `with`: its exit waits for every thread, and an abort (Aborted, the second
        # Ctrl-C) must return at once.
        pool = ThreadPoolExecutor(max_workers=max(1, len(mapping.targets)),
                                  thread_name_prefix="sync-target")
        try:
            futures = {t: pool.submit(self._target, report, t, forced[t], imports, context)
                       for t in mapping.targets}
            imports.join()
            for future in futures.values():
                future.exception()  # wait for every pipeline before reading its counts
        finally:
            pool.shutdown(wait=False)
        self._collect(report)
        for target, future in futures.items():
            future.result()  # a planning error fails the run
            if target in self.gate.refusals:
                report.errors.append({"connection": target, "kind": "refused", "error": (
                    "a real run would be refused: " if self.options.dry_run else "refused: ")
                    + self.gate.refusals[target]})
            writer = self.live.get(target, (None, None))[1]
            if writer is not None and writer.error is not None:
                report.errors.append(error_row(writer.error, target))

    def _collect(self, report: SyncReport) -> None:
        """The targets' counts so far into ``report`` (also while their threads still run:
        each Counter is copied in one step)."""
        live = dict(self.live)
        for target in self.mapping.targets:  # the mapping's order, whoever started first
            if target not in live:
                continue
            planner, writer = live[target]
            counts = Counter(dict(planner.plan.counts))
            if writer is not None:
                counts.update(dict(writer.counts))
            report.targets[target] = {k: counts.get(k, 0) for k in SUMMARY_KEYS}
            report.batches[target] = counts.get("batches", 0)
        report.clears = clears_of({t: live[t][0].plan for t in self.mapping.targets
                                   if t in live})

    # -- one target ----------------------------------------------------------------------------

    def _target(self, report: SyncReport, target: str, forced: set[tuple[str, str]],
                imports: ImportLanes, context: HookContext) -> None:
        """Plan ``target`` (its writer sending the changes while planning goes on), then — once
        every target is planned and the mass-clear guard lets them (:class:`WriteGate`) —
        hand the held clears to its writer too and wait until everything settles."""
        try:
            planned = self._plan_target(report, target, forced, imports, context)
        except BaseException:
            self.gate.arrive(target, None, failed=True)  # no held clear is written anywhere
            writer = self.live.get(target, (None, None))[1]
            if writer is not None:
                writer.finish()
            raise
        if planned is None:
            self.gate.arrive(target, None)
            return
        planner, writer, held = planned
        started = time.perf_counter()
        try:
            if self.gate.arrive(target, planner.plan) and writer is not None:
                writer.add(held)
        finally:
            held.clear()
            if writer is not None:
                writer.finish()
            phase(report, f"write:{target}", started)

    def _plan_target(self, report: SyncReport, target: str, forced: set[tuple[str, str]],
                     imports: ImportLanes, context: HookContext,
                     ) -> tuple[Planner, TargetWriter | None, list[Change]] | None:
        """The target's planner, its writer (started: it creates customers and writes
        changes while planning goes on) and the clears held for the guard; None if it or a
        master could not be imported."""
        from shoploop.store import (
            erased_email_hashes,
            erased_external_id_hashes,
            erased_internal_ids,
        )

        mapping = self.mapping
        masters = [m for m in mapping.masters if m != DERIVED and mapping.rules_for(m, target)]
        derived = DERIVED in mapping.masters and bool(mapping.rules_for(DERIVED, target))
        waited = time.perf_counter()
        # derived values come from every connection's orders
        imports.wait(list(mapping.connections) if derived else [*masters, target])
        if imports.failed & {*masters, target}:
            return None  # reported by the import; a target that can't be read is left out
        if self.stop.requested:
            return None  # an import ended early: nothing to plan from
        for master in masters:
            self.shared.check_fields(master)
        started = phase(report, f"wait:{target}", waited)
        with self.store.session() as session:
            erased = erased_external_id_hashes(session, target)
            erased_people = erased_internal_ids(session, target)
            erased_emails = erased_email_hashes(session, target)
        index = build_index(mapping, target, customer_chunks(self.store, target, 5 * CHUNK),
                            erased, erased_people, erased_emails)
        log.info("indexed %s's %d customers in %.1f s", target, len(index.exists),
                 time.perf_counter() - started)
        planner = Planner(mapping, index, forced, create=target in mapping.create_missing)
        planning = PlanProgress(self.options.plan_progress, target, self.store, masters)
        writer = None
        if not self.options.dry_run:
            writer = TargetWriter(self.store, self.lock, self.connections[target],
                                  report.run_id, target, self.options.progress, self.stop)
            writer.start()
        self.live[target] = (planner, writer)
        held: list[Change] | None = None if self.options.dry_run else []
        for master in masters:
            shared = self.shared.shared_key_values(master)
            for records in customer_chunks(self.store, master, CHUNK):
                if self.stop.requested:
                    break
                self._plan_master_chunk(planner, writer, master, records, shared)
                self._flush(report, planner, writer, held)
                planning.advance(len(records))
        if derived and not self.stop.requested:
            rows = self.shared.derived(context)
            planning.add(len(rows))
            for start in range(0, len(rows), CHUNK):
                if self.stop.requested:
                    break
                self._plan_derived_chunk(planner, rows[start:start + CHUNK])
                self._flush(report, planner, writer, held)
                planning.advance(min(CHUNK, len(rows) - start))
        phase(report, f"plan:{target}", started)
        return planner, writer, held or []

    def _plan_master_chunk(self, planner: Planner, writer: TargetWriter | None, master: str,
                           records: list[MirroredCustomer],
                           shared: dict[str, dict[str, int]]) -> None:
        target = planner.target.name
        bindings = self.master_bindings[master]
        exts = [r.external_id for r in records]
        attempts = {r.external_id: planner.attempts(master, r.external_id, r, shared)
                    for r in records}
        candidates = {c for tried in attempts.values() for key, value, _n in tried
                      if value is not None for c in planner.target.candidates(key, value)}
        with self.store.session() as session:
            master_bound = bindings.merged(bindings_of(session, master, exts), exts)
            chunk = Chunk(master_bound, bound_to(session, target, set(master_bound.values())),
                          {**bindings_of(session, target, candidates),
                           **planner.bound_in_run})
        matched = planner.match(bindings, records, attempts, chunk)
        with self.store.session() as session:
            chunk.records = customers_of(session, target, matched.values())
            chunk.sent = sent_of(session, target, matched.values())
        if planner.to_create:
            matched |= create_missing(planner, bindings, chunk,
                                      writer.create if writer is not None else None,
                                      lambda ids: self._bound(target, ids))
        for record in records:
            found = matched.get(record.external_id)
            if found is not None:
                planner.plan_values(chunk, master, record.external_id, found, record.updated_at,
                                    master_values(self.mapping, master, target,
                                                  record.external_id, record))

    def _bound(self, target: str, customers: list[str]) -> dict[str, str]:
        with self.store.session() as session:
            return bindings_of(session, target, customers)

    def _plan_derived_chunk(self, planner: Planner, rows: Sequence[tuple[
            list[tuple[str, str]], dict[str, Any]]]) -> None:
        target = planner.target
        rules = self.mapping.rules_for(DERIVED, target.name)
        by_connection: dict[str, set[str]] = {}
        for members, _values in rows:
            for conn, ext in members:
                by_connection.setdefault(conn, set()).add(ext)
        with self.store.session() as session:
            bindings: dict[tuple[str, str], str] = {}
            for conn, exts in by_connection.items():
                stored = bindings_of(session, conn, exts)
                if conn in self.master_bindings:
                    stored = self.master_bindings[conn].merged(stored, exts)
                bindings.update(((conn, ext), internal) for ext, internal in stored.items())
            by_internal = bound_to(session, target.name, set(bindings.values()))
        found_for: list[tuple[str, list[tuple[str, str]], dict[str, Any]]] = []
        for members, values in rows:
            planner.plan.counts["read"] += 1
            found, status, problem = derived_target(members, target, bindings, by_internal)
            person = members[0][1]
            if found is None:
                if any(conn == target.name for conn, _ in members) or status == "ambiguous":
                    planner.plan.find(status, DERIVED, person, problem)
                else:
                    planner.plan.counts["not_in_target"] += 1
                continue
            planner.plan.counts["matched"] += 1
            found_for.append((found, members, values))
        with self.store.session() as session:
            chunk = Chunk({}, {}, {}, customers_of(session, target.name,
                                                   (f for f, _m, _v in found_for)),
                          sent_of(session, target.name, (f for f, _m, _v in found_for)))
        for found, members, values in found_for:
            planner.plan_values(chunk, DERIVED, f"{members[0][0]}/{members[0][1]}", found, None,
                                [(rule, rule.key, values.get(rule.field)) for rule in rules])

    def _flush(self, report: SyncReport, planner: Planner, writer: TargetWriter | None,
               held: list[Change] | None) -> None:
        """Commit a chunk's bindings, adopted state and findings; hand its changes to the
        writer, except the clears the guard counts, which wait in ``held`` until every target
        is planned (a dry run has neither: its changes go into the diff)."""
        plan, dry = planner.plan, self.options.dry_run
        rows = [f.audit() | {"run_id": report.run_id} for f in plan.findings]
        if dry:
            rows += [c.audit() | {"run_id": report.run_id} for c in plan.changes]
            # not committed in a dry run: remembered so later chunks don't bind them again
            planner.bound_in_run.update((ext, internal) for conn, ext, internal
                                        in planner.new_bindings if conn == plan.target)
        with self.lock, self.store.session() as session:
            if not dry:
                bind_many(session, planner.new_bindings)
                merge_sent(session, plan.target, report.run_id, plan.adopt)
            record_changes(session, rows)
        planner.new_bindings.clear()
        plan.adopt.clear()
        plan.findings.clear()
        if writer is not None and held is not None:
            held.extend(c for c in plan.changes if c.guarded)
            writer.add([c for c in plan.changes if not c.guarded])
        else:
            limit = self.options.diff_limit
            with self.lock:
                room = len(plan.changes) if limit is None else max(0, limit - len(report.diff))
                report.diff += [{"target": c.target, "customer": c.customer, "key": c.key,
                                 "old": c.old, "new": c.new, "source": c.source,
                                 "source_id": c.source_id} for c in plan.changes[:room]]
        plan.changes = []


def sync_customers(host: PluginHost, config: Config, store: Any, connections: Connections,
                   options: SyncOptions | None = None) -> SyncReport:
    """Run the customer-attribute sync once (see the module docstring)."""
    return SyncJob(host, config, store, connections, options or SyncOptions()).run()


__all__ = ["CHUNK", "EXIT_CONFIG", "EXIT_FAILED", "EXIT_OK", "EXIT_UNREACHABLE", "JOB",
           "SUMMARY_KEYS", "SyncJob", "SyncOptions", "SyncReport", "sync_customers"]
