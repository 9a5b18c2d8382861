"""The run's imports, in lanes (see :class:`ImportLanes`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from shoploop.hooks import Capability, ConnectorError

from ._report import SyncReport, error_row, phase
from ._settings import DERIVED

if TYPE_CHECKING:
    from shoploop.jobs import MirrorStream

    from .job import ImportProgress, SyncJob


class ImportLanes:
    """The run's imports in lanes: each master in a lane of its own, the targets (and other
    connections derived attributes read) one after another in the mapping's order, so the
    first target's pipeline starts as early as possible — importing every connection at once
    only makes them compete for the CPU. A master's lane goes on to count its shared match-key
    values (:meth:`SyncJob.shared_key_values`) while the targets are still being read. Each
    connection's streams run in order; a connection that failed once is not asked again."""

    def __init__(self, job: SyncJob, report: SyncReport) -> None:
        self.job, self.report = job, report
        mapping = job.mapping
        streams: dict[str, list[MirrorStream]] = {}
        order = [*(m for m in mapping.masters if m != DERIVED), *mapping.targets,
                 *mapping.connections]
        for name in dict.fromkeys(order):
            if name in mapping.connections:
                streams[name] = ["customers"]
        if DERIVED in mapping.masters:
            derived_streams: tuple[tuple[Capability, MirrorStream], ...] = (
                (Capability.READ_ORDERS, "orders"),
                (Capability.READ_INSTALLED_BASE, "installed_base"))
            for capability, stream in derived_streams:
                for name in job.connections.with_capability(capability):
                    if mapping.derived_from is None or name in mapping.derived_from:
                        streams.setdefault(name, []).append(stream)
        self.streams = streams
        self.done = {name: threading.Event() for name in streams}
        self.failed: set[str] = set()
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.crash: BaseException | None = None
        self.started = time.perf_counter()
        masters = [m for m in mapping.masters if m != DERIVED]
        self.lanes = [[m] for m in masters] + [[n for n in streams if n not in masters]]
        self._pool = ThreadPoolExecutor(max_workers=len(self.lanes),
                                        thread_name_prefix="sync-import")

    def start(self) -> None:
        for lane in self.lanes:
            self._pool.submit(self._lane, lane)

    def _lane(self, names: list[str]) -> None:
        for name in names:
            self._connection(name)
        if names and names[0] in self.job.master_bindings and names[0] not in self.failed:
            try:
                self.job.shared_key_values(names[0])
            except BaseException as exc:  # a store error: re-raised by join()
                self.crash = exc

    def wait(self, names: Sequence[str]) -> None:
        for name in names:
            if name in self.done:
                self.done[name].wait()

    def join(self) -> None:
        self._pool.shutdown(wait=True)
        for name in self.streams:  # in the mapping's order, whatever finished first
            self.report.imports += self.rows.get(name, [])
        phase(self.report, "import", self.started)
        if self.crash is not None:
            raise self.crash

    def _connection(self, name: str) -> None:
        from shoploop.jobs import mirror_stream

        rows = self.rows.setdefault(name, [])
        try:
            for stream in self.streams[name]:
                row: dict[str, Any] = {"connection": name, "stream": stream}
                started = time.perf_counter()
                shown = _Shown(self.job.options.import_progress, name, stream)
                try:
                    result = mirror_stream(self.job.connections[name], self.job.store,
                                           connection=name, stream=stream,
                                           full=self.job.options.full, on_page=shown.page,
                                           on_total=shown.total)
                    row.update(ok=True, read=result.read, inserted=result.inserted,
                               updated=result.updated)
                except ConnectorError as exc:
                    row.update(ok=False, error=str(exc), kind=error_row(exc, name)["kind"])
                finally:
                    shown.finish(row.get("ok", False))
                row["seconds"] = round(time.perf_counter() - started, 3)
                rows.append(row)
                if not row["ok"]:
                    self.failed.add(name)
                    self.report.errors.append({"connection": name, "kind": row["kind"],
                                               "error": row["error"]})
                    break
        except BaseException as exc:  # a store error: re-raised by join(); waiters go on
            self.failed.add(name)
            self.crash = exc
        finally:
            self.done[name].set()


class _Shown:
    """One import's calls of ``SyncOptions.import_progress`` (none when it is not set)."""

    def __init__(self, report: ImportProgress | None, connection: str, stream: str) -> None:
        self.report, self.connection, self.stream = report, connection, stream
        self.read = 0
        self.expected: int | None = None
        self._send(None)

    def total(self, expected: int) -> None:
        self.expected = expected
        self._send(None)

    def page(self, items: int) -> None:
        self.read += items
        self._send(None)

    def finish(self, ok: bool) -> None:
        self._send("done" if ok else "failed")

    def _send(self, outcome: str | None) -> None:
        if self.report is not None:
            self.report(self.connection, self.stream, self.read, self.expected, outcome)
