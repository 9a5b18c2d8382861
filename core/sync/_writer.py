"""Writing one target: full batches, each an intent before it is sent and settled after.

A :class:`TargetWriter` is a thread fed by that target's planner through a short queue, so
writes start with the first full batch and memory holds a few batches, not the run's changes.
Each batch is recorded as ``pending`` before it is sent; its outcome, the target's new
confirmed state (``sync_target_state``), the mirror patch and the audit rows commit in one
transaction afterwards (:mod:`._state`). Sending and recording are split: the writer thread
only records the intent and talks to the target, and hands each answered batch to its
recorder thread, which settles every batch waiting in one transaction under the job's store
lock — so the next batch goes out while the last one is recorded, and the writer never queues
for the lock behind a planner's flush just to settle. Nothing is weakened: an intent is still
committed before its batch is sent, and a batch sent but not yet settled when the process
dies stays ``pending`` exactly as before (the next run reconciles it).

A target that becomes unreachable stops the writer: the batch in flight stays pending (the
next run re-plans it) and later batches are dropped. A requested stop
(:class:`shoploop._interrupt.StopToken`, the first Ctrl-C) lets the batch in flight settle
and drops the later ones the same way: the next run plans them again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shoploop.hooks import (
    AttributeChange,
    AuthError,
    ConnectorError,
    CustomerDraft,
    UnreachableError,
    WriteResult,
    WriteStatus,
)
from shoploop.store import record_intent, settle_batch

from .._interrupt import StopToken
from ._plan import Change
from ._state import (
    CONFIRMED,
    FAILED,
    merge_sent,
    patch_mirror,
    record_changes,
)
from ._values import is_clear

log = logging.getLogger("shoploop.sync")

QUEUED_BATCHES = 4
"""Batches a planner may run ahead of its writer (memory, not speed: one is enough to keep
the writer busy)."""
UNRECORDED_BATCHES = 16
"""Answered batches the writer may send ahead of its recorder before it waits for it."""

_Answered = tuple[int, list[Change], list[tuple[WriteStatus, str]]]


@dataclass
class _Creation:
    """Drafts the planner waits on: the writer thread creates them between two batches."""

    drafts: list[CustomerDraft]
    results: list[WriteResult] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


class TargetWriter(threading.Thread):
    def __init__(self, store: Any, lock: threading.Lock, connector: Any, run_id: str,
                 target: str, progress: Callable[[str, int, int], None] | None,
                 stop: StopToken | None = None) -> None:
        super().__init__(name=f"sync-write-{target}", daemon=True)
        self.store, self.lock, self.connector = store, lock, connector
        self.run_id, self.target, self.progress = run_id, target, progress
        self.stop = stop
        self.size = max(1, int(connector.attribute_batch_size))
        self.counts: Counter[str] = Counter()
        self.error: BaseException | None = None
        self.planned = 0  # changes handed over so far (the progress bar's total)
        self.done = 0
        self._queue: queue.Queue[list[Change] | _Creation | None] = queue.Queue(QUEUED_BATCHES)
        self._pending: list[Change] = []
        self._answered: queue.Queue[_Answered | None] = queue.Queue(UNRECORDED_BATCHES)
        self._recorder = threading.Thread(target=self._record, name=f"sync-record-{target}",
                                          daemon=True)

    # -- the planner's side --------------------------------------------------------------------

    def add(self, changes: Sequence[Change]) -> None:
        """Queue changes; full batches go out as soon as they are complete."""
        self._pending.extend(changes)
        self.planned += len(changes)
        while len(self._pending) >= self.size:
            self._queue.put(self._pending[:self.size])
            del self._pending[:self.size]

    def create(self, drafts: Sequence[CustomerDraft]) -> list[WriteResult]:
        """Create customers in the target, in the connector's batches, from the writer's
        thread (the one that talks to the target); one result per draft."""
        request = _Creation(list(drafts))
        self._queue.put(request)
        request.done.wait()
        return request.results

    def finish(self) -> None:
        """Send what is left (one last, partial batch) and wait until everything is settled."""
        if self._pending:
            self._queue.put(self._pending)
            self._pending = []
        self._queue.put(None)
        self.join()

    # -- the writer thread ---------------------------------------------------------------------

    def run(self) -> None:
        self._recorder.start()
        try:
            while (batch := self._queue.get()) is not None:
                if isinstance(batch, _Creation):
                    self._create(batch)
                    continue
                if self.error is not None or (self.stop is not None and self.stop.requested):
                    continue  # unreachable, or asked to stop: drain so the planner never blocks
                try:
                    self._write(batch)
                except BaseException as exc:  # reported by the job, per target
                    self._failed(exc)
        finally:
            self._answered.put(None)  # the recorder settles what was answered, then ends
            self._recorder.join()

    def _failed(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
            log.error("writing to %s stopped: %s", self.target, exc)

    def _write(self, batch: list[Change]) -> None:
        with self.lock, self.store.session() as session:
            batch_id = record_intent(session, self.run_id, self.target, [
                {"customer": c.customer, "key": c.key, "new": c.new} for c in batch])
        self.counts["batches"] += 1
        try:
            results = self.connector.write_customer_attributes([
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
        self._answered.put((batch_id, batch, statuses))

    def _create(self, request: _Creation) -> None:
        drafts, results = request.drafts, request.results
        try:
            size = max(1, int(self.connector.customer_batch_size))
            while self.error is None and len(results) < len(drafts):
                batch = drafts[len(results):len(results) + size]
                self.counts["create_requests"] += 1
                try:
                    answered = self.connector.create_customers(batch)
                except (UnreachableError, AuthError):
                    raise
                except ConnectorError as exc:
                    answered = [_refused(str(exc))] * len(batch)
                if len(answered) != len(batch):
                    answered = [_refused(f"the connector answered {len(answered)} results "
                                         f"for {len(batch)} drafts")] * len(batch)
                results += answered
        except BaseException as exc:  # reported by the job, per target
            self.error = exc
            log.error("creating customers in %s stopped: %s", self.target, exc)
        finally:  # the planner waits on every draft's answer, whatever happened
            reason = f"writing to {self.target!r} stopped: {self.error}"
            results += [_refused(reason)] * (len(drafts) - len(results))
            request.done.set()

    # -- the recorder thread -------------------------------------------------------------------

    def _record(self) -> None:
        """Settle answered batches until the writer ends: all that are waiting at once."""
        ended = record_failed = False
        while not ended:
            answered = [item] if (item := self._answered.get()) is not None else []
            ended = item is None
            while not ended:
                try:
                    item = self._answered.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    ended = True
                else:
                    answered.append(item)
            if not answered:
                continue
            if record_failed:
                continue  # recording already failed: these stay pending, like after a crash
            try:
                self._settle(answered)
            except BaseException as exc:  # the store broke: stop sending, report per target
                record_failed = True
                self._failed(exc)

    def _settle(self, answered: Sequence[_Answered]) -> None:
        landed: dict[str, dict[str, Any]] = {}  # customer → {key: new}: state and mirror
        rows = []
        outcome: Counter[str] = Counter()
        settled: list[tuple[int, str]] = []
        for batch_id, batch, statuses in answered:
            failed = 0
            for change, (status, message) in zip(batch, statuses, strict=True):
                change.status, change.message = status.value, message
                outcome[{"conflict": "conflicts"}.get(status.value, status.value)] += 1
                failed += status is WriteStatus.FAILED
                if status is WriteStatus.WRITTEN and is_clear(change.new, change.old):
                    outcome["cleared"] += 1
                if status in (WriteStatus.WRITTEN, WriteStatus.UNCHANGED):
                    landed.setdefault(change.customer, {})[change.key] = change.new
                rows.append(change.audit() | {"run_id": self.run_id, "batch_id": batch_id})
            settled.append((batch_id, FAILED if failed == len(batch) else CONFIRMED))
        with self.lock:
            if self.stop is not None and self.stop.aborted:
                return  # the run was recorded without them: they stay pending, as after a kill
            with self.store.session() as session:
                merge_sent(session, self.target, self.run_id, landed)
                patch_mirror(session, self.target, landed)
                record_changes(session, rows)
                for batch_id, settled_as in settled:
                    settle_batch(session, batch_id, settled_as)
            # under the lock: what an aborted run records is exactly the batches confirmed
            self.counts.update(outcome)
        self.done += sum(len(batch) for _id, batch, _statuses in answered)
        if self.progress is not None:
            self.progress(self.target, self.done, self.planned)


def _refused(message: str) -> WriteResult:
    return WriteResult(customer_id="", status=WriteStatus.FAILED, message=message)
