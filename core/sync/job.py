"""``sync_customers``: one run of the customer-attribute sync, from import to audit trail.

1. ``before_sync`` (a plugin may abort); batches a dead job left *pending* become
   *interrupted* and their changes are re-planned (sent again only where the target still
   lacks them: the adapters compare before they write).
2. Import: the customers of every master and target (and, for derived attributes, the orders
   and installed base of every connection) into the mirror, incrementally, one thread per
   connection.
3. Plan (:mod:`._plan`): identities, then values against the target state.
4. Write: per target (one thread each), full batches of the connector's batch size; each
   batch is recorded as an intent before it is sent, and its outcome committed with the
   target state, the mirror patch and the audit rows in one transaction.
5. ``after_sync`` / ``on_sync_error``; the run's summary goes into ``sync_runs``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shoploop.hooks import (
    AttributeChange,
    AuthError,
    Capability,
    ConnectorError,
    HookContext,
    SyncRun,
    UnreachableError,
    WriteStatus,
)

from .._config import Config
from .._connections import Connections
from .._plugins import PluginHost
from ._lock import exclusive_run
from ._mapping import SyncMapping, resolve_mapping
from ._plan import Change, Planner, Side, TargetPlan, derived_target, master_values
from ._settings import DERIVED, SyncSettings
from ._state import (
    CONFIRMED,
    FAILED,
    bind_many,
    interrupt_pending,
    load_bindings,
    load_customers,
    load_sent,
    patch_mirror,
    record_changes,
    record_intent,
    save_sent,
    settle_batch,
)

log = logging.getLogger("shoploop.sync")

JOB = "sync.customers"
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_UNREACHABLE = 0, 1, 2, 3
SUMMARY_KEYS = ("read", "matched", "changed", "written", "skipped", "conflicts", "failed",
                "unmatched", "ambiguous", "unchanged", "in_sync", "erased")
Progress = Callable[[str, int, int], None]
"""``progress(target, done, total)`` after each batch."""


@dataclass
class SyncOptions:
    only_from: str | None = None
    only_to: Sequence[str] | None = None
    dry_run: bool = False
    full: bool = False
    progress: Progress | None = None
    diff_limit: int | None = None


@dataclass
class SyncReport:
    """The outcome of one run; ``as_dict()`` is what ``--json`` prints."""

    run_id: str
    dry_run: bool
    targets: dict[str, dict[str, int]] = field(default_factory=dict)
    imports: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    resumed_batches: int = 0
    batches: dict[str, int] = field(default_factory=dict)
    diff: list[dict[str, Any]] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""

    @property
    def exit_code(self) -> int:
        if any(e["kind"] == "unreachable" for e in self.errors):
            return EXIT_UNREACHABLE
        if self.errors or any(t.get("failed") for t in self.targets.values()):
            return EXIT_FAILED
        return EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        totals = {key: sum(counts.get(key, 0) for counts in self.targets.values())
                  for key in SUMMARY_KEYS}
        return {"run_id": self.run_id, "job": JOB, "dry_run": self.dry_run,
                "ok": self.exit_code == EXIT_OK, "exit_code": self.exit_code, **totals,
                "started_at": self.started_at, "finished_at": self.finished_at,
                "targets": self.targets, "batches": self.batches,
                "resumed_batches": self.resumed_batches, "imports": self.imports,
                "errors": self.errors, **({"diff": self.diff} if self.dry_run else {})}


def _error(exc: BaseException, where: str) -> dict[str, str]:
    kind = "unreachable" if isinstance(exc, (UnreachableError, AuthError)) else "failed"
    return {"connection": where, "kind": kind, "error": str(exc) or type(exc).__name__}


class SyncJob:
    def __init__(self, host: PluginHost, config: Config, store: Any,
                 connections: Connections, options: SyncOptions) -> None:
        self.host, self.config, self.store = host, config, store
        self.connections, self.options = connections, options
        settings = SyncSettings.model_validate(config.raw.get("sync", {}))
        self.mapping: SyncMapping = resolve_mapping(
            config, settings, host.connectors, host.transforms,
            only_from=options.only_from, only_to=options.only_to)
        self.lock = threading.Lock()  # one writer transaction at a time (SQLite)
        self.now = datetime.now(UTC)

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> SyncReport:
        with exclusive_run(self.store):
            return self._locked_run()

    def _locked_run(self) -> SyncReport:
        from sqlalchemy import update

        from shoploop.store import FAILED as RUN_FAILED
        from shoploop.store import RUNNING, SUCCEEDED, SyncRunRecord, finish_run, start_run

        mapping = self.mapping
        with self.store.session() as session:
            # We hold the lock, so a run still marked running died (SIGKILL, power loss).
            session.execute(update(SyncRunRecord).where(
                SyncRunRecord.job == JOB, SyncRunRecord.status == RUNNING).values(
                status="interrupted"))
            run_id = start_run(session, JOB, summary={"dry_run": self.options.dry_run,
                                                      "targets": mapping.targets})
        report = SyncReport(run_id=run_id, dry_run=self.options.dry_run,
                            started_at=self.now.isoformat())
        context = HookContext(config=self.config.raw, connectors=_LazyConnectors(
            self.connections), store=self.store, now=self.now)
        # The connection masters ("erp"); "derived" only when no connection is a master.
        sources = [m for m in mapping.masters if m != DERIVED] or [DERIVED]
        run = SyncRun(run_id=run_id, job=JOB, source=",".join(sources),
                      targets=mapping.targets, dry_run=self.options.dry_run)
        try:
            self.host.call("before_sync", isolate=False, context=context, run=run)
            self._run(report, context)
        except BaseException as exc:
            report.errors.append(_error(exc, "run"))
            report.finished_at = datetime.now(UTC).isoformat()
            with self.store.session() as session:
                finish_run(session, run_id, status=RUN_FAILED, summary=report.as_dict())
            self.host.call("on_sync_error", context=context,
                           run=run.model_copy(update={"summary": report.as_dict()}), error=exc)
            raise
        report.finished_at = datetime.now(UTC).isoformat()
        summary = report.as_dict()
        with self.store.session() as session:
            finish_run(session, run_id, status=SUCCEEDED if report.exit_code == EXIT_OK
                       else RUN_FAILED, summary={k: v for k, v in summary.items()
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
        failed = self._import(report)
        masters = [m for m in mapping.masters if m != DERIVED]
        if any(m in failed for m in masters):
            return
        targets = [t for t in mapping.targets if t not in failed]
        sides = self._load_sides([*masters, *targets])
        plans: dict[str, TargetPlan] = {}
        new_bindings: list[tuple[str, str, str]] = []
        sent: dict[str, dict[str, dict[str, Any]]] = {}
        derived = self._derived(context) if DERIVED in mapping.masters else None
        for target in targets:
            with self.store.session() as session:
                sent[target] = load_sent(session, target)
            planner = Planner(mapping, sides[target], sent[target], forced[target])
            for master in masters:
                if not mapping.rules_for(master, target):
                    continue
                side = sides[master]
                for ext, found in planner.match_master(side).items():
                    record = side.customers[ext]
                    planner.plan_values(master, ext, found, record.updated_at,
                                        master_values(mapping, side, target, ext, record))
            if derived is not None and mapping.rules_for(DERIVED, target):
                self._plan_derived(planner, derived, sides)
            new_bindings += planner.new_bindings
            plans[target] = planner.plan
        self._record_plan(report, plans, new_bindings, sent)
        if self.options.dry_run:
            return
        with ThreadPoolExecutor(max_workers=max(1, len(plans))) as pool:
            futures = {t: pool.submit(self._write, report.run_id, plan, sent[t], sides[t])
                       for t, plan in plans.items()}
        for target, future in futures.items():
            error = future.exception()
            if error is not None:
                report.errors.append(_error(error, target))
                log.error("writing to %s stopped: %s", target, error)
        for target, plan in plans.items():
            report.targets[target] = {k: plan.counts.get(k, 0) for k in SUMMARY_KEYS}
            report.batches[target] = plan.counts.get("batches", 0)

    # -- steps ---------------------------------------------------------------------------------

    def _import(self, report: SyncReport) -> set[str]:
        from shoploop.jobs import mirror_stream

        mapping = self.mapping
        jobs: list[tuple[str, Any]] = [(name, "customers") for name in mapping.connections]
        if DERIVED in mapping.masters:
            for capability, stream in ((Capability.READ_ORDERS, "orders"),
                                       (Capability.READ_INSTALLED_BASE, "installed_base")):
                jobs += [(name, stream) for name in self.connections.with_capability(capability)
                         if mapping.derived_from is None or name in mapping.derived_from]
        for name in dict.fromkeys(name for name, _ in jobs):
            self.connections[name]  # build in this thread: a factory error is a config error

        def one(name: str, stream: Any) -> dict[str, Any]:
            row: dict[str, Any] = {"connection": name, "stream": stream}
            try:
                result = mirror_stream(self.connections[name], self.store, connection=name,
                                       stream=stream, full=self.options.full)
                row.update(ok=True, read=result.read, inserted=result.inserted,
                           updated=result.updated)
            except ConnectorError as exc:
                row.update(ok=False, error=str(exc), kind=_error(exc, name)["kind"])
            return row

        by_connection: dict[str, list[tuple[str, Any]]] = {}
        for name, stream in jobs:
            by_connection.setdefault(name, []).append((name, stream))

        def serial(items: list[tuple[str, Any]]) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            for name, stream in items:  # a connection that failed once is not asked again
                rows.append(one(name, stream))
                if not rows[-1]["ok"]:
                    break
            return rows

        with ThreadPoolExecutor(max_workers=max(1, len(by_connection))) as pool:
            for rows in pool.map(serial, by_connection.values()):
                report.imports += rows
        failed: set[str] = set()
        for row in report.imports:
            if not row["ok"] and row["connection"] not in failed:  # one error per connection
                failed.add(row["connection"])
                report.errors.append({"connection": row["connection"], "kind": row["kind"],
                                      "error": row["error"]})
        return failed

    def _load_sides(self, names: Sequence[str]) -> dict[str, Side]:
        from shoploop.store import erased_external_id_hashes, erased_internal_ids

        sides: dict[str, Side] = {}
        with self.store.session() as session:
            for name in dict.fromkeys(names):
                sides[name] = Side(name, load_customers(session, name),
                                   load_bindings(session, name),
                                   erased_external_id_hashes(session, name),
                                   erased_internal_ids(session, name))
        return sides

    def _derived(self, context: HookContext) -> list[tuple[list[tuple[str, str]],
                                                           dict[str, Any]]]:
        from shoploop.attributes.profiles import build_profile_members
        from shoploop.combine import derive_attributes

        rows = []
        with self.store.session() as session:
            for profile, members in build_profile_members(session, as_of=self.now):
                if members:
                    rows.append((members, derive_attributes(self.host, context, profile)))
        return rows

    def _plan_derived(self, planner: Planner, derived: Sequence[tuple[
            list[tuple[str, str]], dict[str, Any]]], sides: dict[str, Side]) -> None:
        rules = self.mapping.rules_for(DERIVED, planner.target.name)
        bindings = {name: side.bindings for name, side in sides.items()}
        for members, values in derived:
            planner.plan.counts["read"] += 1
            found, problem = derived_target(members, planner.target, bindings)
            person = members[0][1]
            if found is None:
                status = "ambiguous" if "share" in problem or "several" in problem \
                    else "unmatched"
                if any(conn == planner.target.name for conn, _ in members) or status == \
                        "ambiguous":
                    planner.plan.find(status, DERIVED, person, problem)
                else:
                    planner.plan.counts["not_in_target"] += 1
                continue
            planner.plan.counts["matched"] += 1
            planner.plan_values(DERIVED, f"{members[0][0]}/{person}", found, None,
                                [(rule, rule.key, values.get(rule.field)) for rule in rules])

    def _record_plan(self, report: SyncReport, plans: dict[str, TargetPlan],
                     new_bindings: list[tuple[str, str, str]],
                     sent: dict[str, dict[str, dict[str, Any]]]) -> None:
        dry = self.options.dry_run
        with self.store.session() as session:
            if not dry:
                bind_many(session, new_bindings)
            for target, plan in plans.items():
                if not dry and plan.adopt:
                    save_sent(session, target, report.run_id, plan.adopt)
                    sent[target].update(plan.adopt)
                rows = [f.audit() | {"run_id": report.run_id} for f in plan.findings]
                if dry:
                    rows += [c.audit() | {"run_id": report.run_id} for c in plan.changes]
                record_changes(session, rows)
                report.targets[target] = {k: plan.counts.get(k, 0) for k in SUMMARY_KEYS}
        if dry:
            changes = [c for plan in plans.values() for c in plan.changes]
            limit = self.options.diff_limit
            report.diff = [{"target": c.target, "customer": c.customer, "key": c.key,
                            "old": c.old, "new": c.new, "source": c.source,
                            "source_id": c.source_id}
                           for c in (changes if limit is None else changes[:limit])]

    def _write(self, run_id: str, plan: TargetPlan, sent: dict[str, dict[str, Any]],
               side: Side) -> None:
        connector = self.connections[plan.target]
        size = max(1, int(connector.attribute_batch_size))
        total, done = len(plan.changes), 0
        for start in range(0, total, size):
            batch = plan.changes[start:start + size]
            with self.lock, self.store.session() as session:
                batch_id = record_intent(session, run_id, plan.target, [
                    {"customer": c.customer, "key": c.key, "new": c.new} for c in batch])
            plan.counts["batches"] += 1
            try:
                results = connector.write_customer_attributes([
                    AttributeChange(customer_id=c.customer, key=c.key, new=c.new, old=c.old,
                                    source=c.source) for c in batch])
                statuses = [(r.status, r.message) for r in results]
                if len(statuses) != len(batch):
                    statuses = [(WriteStatus.FAILED, f"the connector answered {len(results)} "
                                 f"results for {len(batch)} changes")] * len(batch)
            except (UnreachableError, AuthError):
                raise  # the batch stays pending: the next run re-plans it
            except ConnectorError as exc:
                statuses = [(WriteStatus.FAILED, str(exc))] * len(batch)
            self._settle(run_id, batch_id, plan, batch, statuses, sent, side)
            done += len(batch)
            if self.options.progress is not None:
                self.options.progress(plan.target, done, total)

    def _settle(self, run_id: str, batch_id: int, plan: TargetPlan, batch: Sequence[Change],
                statuses: Sequence[tuple[WriteStatus, str]], sent: dict[str, dict[str, Any]],
                side: Side) -> None:
        touched: set[str] = set()
        patched: dict[str, dict[str, Any]] = {}  # customer → {key: new}, for the mirror
        rows = []
        outcome: Counter[str] = Counter()
        for change, (status, message) in zip(batch, statuses, strict=True):
            change.status, change.message = status.value, message
            counter = {"conflict": "conflicts"}.get(status.value, status.value)
            outcome[counter] += 1
            if status in (WriteStatus.WRITTEN, WriteStatus.UNCHANGED):
                sent.setdefault(change.customer, {})[change.key] = change.new
                record = side.customers[change.customer]
                record.data.setdefault("attributes", {})[change.key] = change.new
                touched.add(change.customer)
                patched.setdefault(change.customer, {})[change.key] = change.new
            rows.append(change.audit() | {"run_id": run_id, "batch_id": batch_id})
        with self.lock, self.store.session() as session:
            save_sent(session, plan.target, run_id, {c: sent[c] for c in touched})
            patch_mirror(session, plan.target, patched)
            record_changes(session, rows)
            settle_batch(session, batch_id, FAILED if outcome["failed"] == len(batch)
                         else CONFIRMED)
        plan.counts.update(outcome)


class _LazyConnectors(Mapping[str, Any]):
    """``HookContext.connectors``: builds a connection's connector when a plugin asks."""

    def __init__(self, connections: Connections) -> None:
        self._connections = connections

    def __getitem__(self, name: str) -> Any:
        return self._connections[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._connections)

    def __len__(self) -> int:
        return len(self._connections.config.connections)


def sync_customers(host: PluginHost, config: Config, store: Any, connections: Connections,
                   options: SyncOptions | None = None) -> SyncReport:
    """Run the customer-attribute sync once (see the module docstring)."""
    return SyncJob(host, config, store, connections, options or SyncOptions()).run()
