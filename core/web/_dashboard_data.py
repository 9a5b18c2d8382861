"""What the dashboard shows, read from the store and the connections (blocking: the routes run
these in the thread pool).

Only ``shoploop.store``'s public functions and the sync's public audit reader are used; every
value is plain data for the templates, and nothing secret is read: run summaries, audit rows,
model summaries and ``Connector.check()`` answers (their texts pass through the log's
redaction anyway, which knows every secret a connector resolved).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shoploop._config import Config
    from shoploop._registry import ConnectorRegistry
    from shoploop.store import Store

CHANGES_SHOWN = 500
"""At most this many audit rows on a run's page (the counts cover all of them)."""


@dataclass(frozen=True)
class RunRow:
    id: str
    job: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    dry_run: bool
    written: int
    cleared: int
    failed: int

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def _target_totals(summary: dict[str, Any], key: str) -> int:
    targets = summary.get("targets")
    if isinstance(targets, dict):
        return sum(int(t.get(key, 0) or 0) for t in targets.values() if isinstance(t, dict))
    return int(summary.get(key, 0) or 0)


def _row(record: Any) -> RunRow:
    summary = record.summary if isinstance(record.summary, dict) else {}
    return RunRow(id=record.id, job=record.job, started_at=record.started_at,
                  finished_at=record.finished_at, status=record.status,
                  dry_run=bool(summary.get("dry_run", False)),
                  written=_target_totals(summary, "written"),
                  cleared=_target_totals(summary, "cleared"),
                  failed=_target_totals(summary, "failed"))


def run_history(store: Store, *, job: str | None = None, limit: int = 50) -> list[RunRow]:
    """The newest runs (of ``job``, else of every job), newest first."""
    from shoploop.store import recent_runs

    with store.session() as session:
        return [_row(record) for record in recent_runs(session, job=job, limit=limit)]


def run_jobs(store: Store) -> list[str]:
    """The jobs among the latest 500 runs (the runs page's filter)."""
    from shoploop.store import recent_runs

    with store.session() as session:
        return sorted({record.job for record in recent_runs(session, limit=500)})


@dataclass(frozen=True)
class RunDetail:
    run: RunRow
    summary: dict[str, Any]
    by_status: list[tuple[str, int]]
    by_attribute: list[tuple[str, int]]
    """("target · attribute", changes) over every status."""
    total: int
    """Audit rows of the run with the chosen status (all statuses: every row)."""
    changes: list[dict[str, Any]]
    batches: list[dict[str, Any]]
    statuses: list[str] = field(default_factory=list)


def run_detail(store: Store, run_id: str, *, status: str | None = None,
               limit: int = CHANGES_SHOWN) -> RunDetail | None:
    """One run with its audit trail's counts and its first ``limit`` changes (of ``status``
    when given); None when there is no such run."""
    from shoploop.store import get_run
    from shoploop.sync.audit import batches_of_run, change_counts, changes_of_run

    with store.session() as session:
        record = get_run(session, run_id)
        if record is None:
            return None
        counts = change_counts(session, run_id)
        by_status: Counter[str] = Counter()
        by_attribute: Counter[str] = Counter()
        for target, attribute, row_status, n in counts:
            by_status[row_status] += n
            by_attribute[f"{target} · {attribute or '(identity)'}"] += n
        changes = [{"target": c.connection,
                    "customer": c.customer_external_id or f"({c.source}/{c.source_external_id})",
                    "attribute": c.attr_key or "", "old": _shown(c.old), "new": _shown(c.new),
                    "status": c.status, "note": c.message}
                   for c in changes_of_run(session, run_id, status=status, limit=limit)]
        batches = [{"id": b.id, "target": b.connection, "size": b.size, "status": b.status}
                   for b in batches_of_run(session, run_id)]
        summary = record.summary if isinstance(record.summary, dict) else {}
        return RunDetail(run=_row(record), summary=summary,
                         by_status=sorted(by_status.items(), key=lambda kv: -kv[1]),
                         by_attribute=sorted(by_attribute.items(), key=lambda kv: -kv[1]),
                         total=by_status[status] if status else sum(by_status.values()),
                         changes=changes, batches=batches, statuses=sorted(by_status))


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass(frozen=True)
class ModelRow:
    version: int
    built_at: datetime
    figures: list[tuple[str, int]]
    """(message key of the label, value): the page translates the labels."""
    strategies: list[str]
    rules: list[str]


_FIGURES = (
    # (message key of the label, where the build summary keeps the figure)
    ("figure_orders", ("bought_together", "orders")),
    ("figure_pairs", ("bought_together", "pairs")),
    ("figure_products_with_partners", ("bought_together", "products_with_partners")),
    ("figure_repeat_purchases", ("repeats", "purchases")),
    ("figure_repurchased_products", ("repeats", "repurchased_products")),
    ("figure_products_with_upsells", ("upsell", "products_with_upsells")),
    ("figure_segments_with_products", ("segments", "segments_with_products")),
    ("figure_installed_equipment", ("installed_base", "equipment")),
)


def _figure(summary: dict[str, Any], path: tuple[str, str]) -> int | None:
    section = summary.get(path[0])
    value = section.get(path[1]) if isinstance(section, dict) else None
    return int(value) if isinstance(value, int | float) else None


def reco_models(store: Store) -> list[ModelRow]:
    """Every stored model (newest first) with the figures of its build summary."""
    from shoploop.store import reco_model_versions

    with store.session() as session:
        versions = reco_model_versions(session)
    rows = []
    for version, built_at, summary in versions:
        figures = [(label, value) for label, path in _FIGURES
                   if (value := _figure(summary, path)) is not None]
        rows.append(ModelRow(version=version, built_at=built_at, figures=figures,
                             strategies=[str(s) for s in summary.get("strategies", [])],
                             rules=[str(r) for r in summary.get("rules", [])]))
    return rows


def placements(config: Config) -> list[tuple[str, dict[str, Any]]]:
    """The placements (the built-in ones included) with the rules they set beyond the
    defaults (docs/recommendations.md, Rules)."""
    return [(name, {key: _shown(value) for key, value in
                    placement.rules.model_dump(exclude_defaults=True).items()})
            for name, placement in sorted(config.reco.placements.items())]


@dataclass(frozen=True)
class HealthRow:
    name: str
    type: str
    reachable: bool
    authorised: bool
    detail: str
    warnings: list[str]

    @property
    def healthy(self) -> bool:
        return self.reachable and self.authorised


def connection_health(config: Config, registry: ConnectorRegistry) -> list[HealthRow]:
    """Each configured connection's ``check()``, all at once (each bounded by its own
    timeouts); a connector that cannot even be built is reported, not raised."""
    from shoploop._connections import Connections
    from shoploop._logging import redact
    from shoploop.hooks import ConnectionCheck, ShoploopError

    names = sorted(config.connections)
    with Connections(config, registry) as connections:
        def check(name: str) -> ConnectionCheck:
            try:
                result: ConnectionCheck = connections[name].check()
                return result
            except ShoploopError as exc:
                return ConnectionCheck(reachable=False, authorised=False, detail=str(exc))
            except Exception as exc:  # check() must never raise; a broken plugin is shown
                return ConnectionCheck(reachable=False, authorised=False,
                                       detail=f"check() raised {type(exc).__name__}")

        if names:
            # Build the connectors first, one at a time (building is not thread-safe), then
            # check them in parallel: a slow system does not hold up the others.
            for name in names:
                with contextlib.suppress(ShoploopError):  # check() reports it below
                    connections[name]
            with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
                results = list(pool.map(check, names))
        else:
            results = []
    return [HealthRow(name=name, type=config.connections[name].type,
                      reachable=result.reachable, authorised=result.authorised,
                      detail=redact(result.detail),
                      warnings=[redact(w) for w in result.warnings])
            for name, result in zip(names, results, strict=True)]
