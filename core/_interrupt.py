"""Honest Ctrl-C for long jobs: a stop token the job checks at its safe points.

The first SIGINT or SIGTERM asks the job to stop at its next safe point (after the batch in
flight, between import pages, between planning chunks): :meth:`StopToken.requested` turns
true and the job finishes what it has started, records itself ``interrupted`` with its true
counts and returns. A second signal aborts at once: :class:`Aborted` is raised in the main
thread (where Python runs signal handlers), the job records what it knows and the CLI exits.
What an abort leaves half done — a batch sent but not settled — is an intent the next run
reconciles, as after a SIGKILL.

    token = StopToken()
    with token.installed(on_first=print_notice):   # main thread only; no-op elsewhere
        run_job(..., stop=token)
    raise SystemExit(token.exit_code or 0)

Exit codes follow the shell's convention, 128 + the signal's number: 130 for SIGINT, 143 for
SIGTERM (docs/cli.md).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Aborted(BaseException):
    """A second signal: stop now. A ``BaseException``, like ``KeyboardInterrupt``, so no
    ``except Exception`` on the way swallows it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.summary: dict[str, Any] | None = None
        """What the job recorded before it let the abort through (its ``--json`` summary)."""
        super().__init__(f"aborted by {signal_name(signum)}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopToken:
    """Set once a stop is requested; checked by the job between its safe steps. Thread-safe
    (an :class:`threading.Event`), so planners, writer threads and import lanes share one."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._aborted = threading.Event()
        self.signum: int | None = None

    def request(self, signum: int = signal.SIGINT) -> None:
        """Ask the job to stop at its next safe point (what the first signal does)."""
        if self.signum is None:
            self.signum = signum
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def abort(self) -> None:
        """The job is recording itself after :class:`Aborted`: its threads must not commit
        anything more (what they finish is reconciled by the next run)."""
        self._event.set()
        self._aborted.set()

    @property
    def aborted(self) -> bool:
        return self._aborted.is_set()

    @property
    def exit_code(self) -> int | None:
        """128 + the signal that asked for the stop; None while no stop was requested."""
        return None if self.signum is None else 128 + self.signum

    @property
    def reason(self) -> str:
        return "" if self.signum is None else signal_name(self.signum)

    @contextmanager
    def installed(self, on_first: Callable[[int], None] | None = None,
                  on_second: Callable[[int], None] | None = None) -> Iterator[StopToken]:
        """SIGINT and SIGTERM handlers for the block: the first signal requests a stop (then
        ``on_first(signum)``), the next raises :class:`Aborted` (after ``on_second``). The
        previous handlers come back afterwards. Signal handlers can only be set in the main
        thread; elsewhere (a worker, a test's thread) this installs nothing."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        aborting: list[int] = []

        def handle(signum: int, _frame: FrameType | None) -> None:
            if not self.requested:
                self.request(signum)
                if on_first is not None:
                    on_first(signum)
                return
            if aborting:
                return  # already on its way out: let it record the run
            aborting.append(signum)
            if on_second is not None:
                on_second(signum)
            raise Aborted(signum)

        previous = {signum: signal.signal(signum, handle) for signum in SIGNALS}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


__all__ = ["SIGNALS", "Aborted", "StopToken", "signal_name"]
