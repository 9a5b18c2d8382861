"""The in-process webhook worker: a thread per app that drains pending deliveries.

The receiver answers as soon as a delivery is stored and then wakes this worker
(:meth:`DeliveryWorker.notify`); the worker claims and processes deliveries with
:func:`shoploop.jobs.process_deliveries` until none is pending, then sleeps until the next
notification or ``poll_seconds`` (which also picks up deliveries stored by another process, or
left by a worker that died). It is the default *dispatcher*. With the celery backend
(``webhook_processing = "auto"`` or ``"queue"``) the app gets :class:`QueueDispatch`, which
sends the ``webhooks-process`` job to the workers; with ``"external"``
:class:`ExternalDispatch`, which does nothing — ``shoploop webhooks process`` from cron does
the work. :func:`dispatcher_of` picks one.

A thread, not an asyncio task: processing runs synchronous hooks, SQLAlchemy and connector
calls, which must not block the event loop the receiver answers on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shoploop.jobs import ProcessResult

    from ._app import WebState

log = logging.getLogger("shoploop.webhooks")


class DeliveryDispatch(Protocol):
    """What the receiver hands accepted deliveries to."""

    def notify(self) -> None:
        """A delivery was stored (processing may start now)."""
        ...

    def stop(self) -> None:
        """The app shuts down."""
        ...


class ExternalDispatch:
    """``webhook_processing = "external"``: deliveries wait in the store for another worker."""

    def notify(self) -> None:
        return None

    def stop(self) -> None:
        return None


class _Background:
    """One daemon thread started on first ``notify`` and woken by each; ``stop`` ends it.
    Subclasses implement ``_run`` (waiting on ``_wake``, leaving once ``_stopping`` is set)."""

    _name = "shoploop-background"

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name,
                                                daemon=True)
                self._thread.start()

    def notify(self) -> None:
        self.start()
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError


class QueueDispatch(_Background):
    """Sends the ``webhooks-process`` job to the Celery workers after deliveries were stored.

    One task per burst, not per delivery: a sender thread sends when woken and then waits
    ``coalesce_seconds`` before it can send again; deliveries stored meanwhile are claimed by
    the task already sent (it processes until none is pending) or by the next one. Claims in
    the store make a task too many harmless. A broker that is down loses nothing: the
    deliveries stay pending for the next task or ``shoploop webhooks process``."""

    _name = "shoploop-webhook-queue"

    def __init__(self, state: WebState, *, coalesce_seconds: float = 0.25) -> None:
        super().__init__()
        self._state = state
        self._coalesce = coalesce_seconds
        self.sent = 0
        """Tasks sent (for the tests and the log)."""

    def _run(self) -> None:
        from shoploop.jobs import job_sender

        send = job_sender(self._state.config)
        while True:
            self._wake.wait()
            if self._stopping.is_set():
                return
            self._wake.clear()
            try:
                send("webhooks-process")
                self.sent += 1
            except Exception:  # the broker is down: the deliveries wait in the store
                log.exception("could not send the webhooks-process job to the queue")
            self._stopping.wait(self._coalesce)


def dispatcher_of(state: WebState, on_result: Callable[[ProcessResult], None] | None = None
                  ) -> DeliveryDispatch:
    """The dispatcher ``[web] webhook_processing`` asks for (``auto``: the queue with the
    celery backend, a worker thread otherwise)."""
    mode = state.settings.webhook_processing
    if mode == "auto":
        mode = "queue" if state.config.jobs.backend == "celery" else "in_process"
    if mode == "queue":
        return QueueDispatch(state)
    if mode == "in_process":
        return DeliveryWorker(state, on_result=on_result)
    return ExternalDispatch()


class DeliveryWorker(_Background):
    """Processes deliveries in one background thread (see the module docs)."""

    _name = "shoploop-webhooks"

    def __init__(self, state: WebState, *, poll_seconds: float = 5.0, batch: int = 100,
                 on_result: Callable[[ProcessResult], None] | None = None) -> None:
        super().__init__()
        self._state = state
        self._poll = poll_seconds
        self._batch = batch
        self._on_result = on_result

    def _run(self) -> None:
        from shoploop._connections import Connections
        from shoploop.jobs import process_deliveries

        state = self._state
        with Connections(state.config, state.host.connectors) as connections:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    result = process_deliveries(
                        state.host, state.config, state.store, connections,
                        limit=self._batch, max_attempts=state.settings.webhook_max_attempts,
                        clock=state.clock)
                except Exception:  # keep the worker alive; the deliveries stay stored
                    log.exception("processing webhook deliveries failed; retrying in %ss",
                                  self._poll)
                    self._wake.wait(self._poll)
                    continue
                if self._on_result is not None:
                    self._on_result(result)
                if result.processed == 0:
                    # Nothing pending, or only failures: those wait for the next round
                    # instead of spending their attempts in a tight loop.
                    self._wake.wait(self._poll)
