"""The attribute changes file: an append-only JSON Lines log of attribute writes.

Each entry is one written value::

    {"customer_id": "C-1", "key": "lifecycle_stage", "value": "retention", "old": "action",
     "source": "erp", "idempotency_key": "…", "written_at": "2025-03-01T12:00:00+00:00",
     "connection": "erp_files"}

Idempotent: a change whose value equals the last value logged for (customer, key) is answered
``unchanged`` and not logged again, so re-running a sync after a crash writes nothing twice.
The last values are indexed from the file itself (not kept elsewhere), so a new process, or
another process appending to the same file, is taken into account.

Crash safety: a batch is encoded first and appended with a single ``write`` on an ``O_APPEND``
descriptor, then flushed to disk with ``fsync`` before any result is returned. A writer killed
during that write can at worst leave a cut-off last line; the index skips such a fragment (with a
warning naming its line) and the next batch starts on a fresh line, so it never merges with a
fragment into one corrupt entry.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from shoploop.hooks import AttributeChange, AttributeValue, WriteResult, WriteStatus

try:  # POSIX: serialise writers of one file across processes
    import fcntl
except ImportError:  # pragma: no cover - Windows: single writer per file
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("shoploop.plugins.files")

Clock = Callable[[], datetime]


def canonical(value: AttributeValue) -> str:
    """Compare values by their JSON text: ``1``, ``1.0`` and ``true`` are three values."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class ChangesFile:
    """Appends attribute changes to ``path``; one instance per connector."""

    def __init__(self, path: Path, connection: str, clock: Clock | None = None) -> None:
        self.path = path
        self.connection = connection
        self.clock = clock or (lambda: datetime.now(UTC))
        self._last: dict[tuple[str, str], str] = {}
        self._indexed = 0  # bytes of the file reflected in _last (always at a line end)
        self._line = 1  # line number at _indexed, for warnings

    def write(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        """Append the changes whose value differs from the last one logged; one result each,
        in order. Raises ``OSError`` (the connector maps it) with nothing appended."""
        with self._locked() as fd:
            self._catch_up(fd)
            pending: dict[tuple[str, str], str] = {}
            entries: list[str] = []
            results: list[WriteResult] = []
            written_at = self.clock().isoformat()
            for change in changes:
                pair = (change.customer_id, change.key)
                value = canonical(change.new)
                if pending.get(pair, self._last.get(pair)) == value:
                    results.append(WriteResult(customer_id=change.customer_id, key=change.key,
                                               status=WriteStatus.UNCHANGED))
                    continue
                pending[pair] = value
                entries.append(self._entry(change, written_at))
                results.append(WriteResult(customer_id=change.customer_id, key=change.key,
                                           status=WriteStatus.WRITTEN))
            if entries:
                size = os.fstat(fd).st_size
                torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
                data = ("\n" if torn else "") + "".join(entries)
                _append(fd, data.encode("utf-8"))
                os.fsync(fd)
                self._catch_up(fd)  # indexes exactly what is now in the file, ours included
        return results

    def _entry(self, change: AttributeChange, written_at: str) -> str:
        return json.dumps({
            "customer_id": change.customer_id, "key": change.key, "value": change.new,
            "old": change.old, "source": change.source,
            "idempotency_key": change.idempotency_key, "written_at": written_at,
            "connection": self.connection,
        }, ensure_ascii=False) + "\n"

    @contextmanager
    def _locked(self) -> Iterator[int]:
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def _catch_up(self, fd: int) -> None:
        """Index complete lines appended since the last call (by anyone). A file that became
        shorter was replaced: index it again from the start."""
        size = os.fstat(fd).st_size
        if size < self._indexed:
            log.warning("[%s] %s is shorter than before (replaced?); re-reading it",
                        self.connection, self.path)
            self._last.clear()
            self._indexed, self._line = 0, 1
        offset = self._indexed
        with os.fdopen(os.dup(fd), "rb") as fh:
            fh.seek(offset)
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # a cut-off last line: not indexed; the next write starts anew
                self._index_line(raw)
                offset += len(raw)
                self._line += 1
        self._indexed = offset

    def _index_line(self, raw: bytes) -> None:
        if not raw.strip():
            return
        try:
            entry = json.loads(raw)
            pair = (str(entry["customer_id"]), str(entry["key"]))
            self._last[pair] = canonical(entry["value"])
        except (ValueError, KeyError, TypeError):
            log.warning("[%s] %s line %d is not a complete change entry (left by an "
                        "interrupted write?); ignoring it", self.connection, self.path,
                        self._line)

    def forget(self) -> None:
        """Drop the in-memory index (``close()``); the next write re-reads the file."""
        self._last.clear()
        self._indexed, self._line = 0, 1


def _append(fd: int, data: bytes) -> None:
    """Append ``data``; a regular file takes it in one ``write``, the loop covers signals."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
