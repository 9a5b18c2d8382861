"""What a run reports: the summary (``--json``), exit codes, error rows and phase times."""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass, field
from typing import Any

from shoploop.hooks import AuthError, UnreachableError

log = logging.getLogger("shoploop.sync")

JOB = "sync.customers"
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_UNREACHABLE = 0, 1, 2, 3
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
"""A run stopped by Ctrl-C / SIGTERM: 128 + the signal's number, as the shell reports it."""
SUMMARY_KEYS = ("read", "matched", "created", "changed", "to_clear", "written", "cleared",
                "skipped", "conflicts", "failed", "unmatched", "ambiguous", "unchanged",
                "in_sync", "erased")
"""``to_clear``: planned changes that remove a value the target holds (part of ``changed``);
``cleared``: those written (part of ``written``)."""


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
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall seconds per phase (import, plan, write:<target>): where a slow run spends."""
    clears: dict[str, dict[str, int]] = field(default_factory=dict)
    """target → attribute → planned clears the mass-clear guard counted."""
    interrupted: str = ""
    """The signal that stopped the run (SIGINT, SIGTERM); empty if it was not stopped."""
    interrupt_exit: int = 0
    fanout: str | None = None
    """The Celery fan-out this run is a lane of (``SyncOptions.fanout``)."""
    worker: str | None = None
    """The Celery worker that ran it."""
    repeated: bool = False
    """A lane sent again whose fan-out's run had already succeeded: it did nothing
    (``run_id`` is that run's)."""

    def labels(self) -> dict[str, Any]:
        """The Celery keys of the summary (none for a run in process)."""
        return {key: value for key, value in (("fanout", self.fanout), ("worker", self.worker),
                                              ("repeated", self.repeated or None)) if value}

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return self.interrupt_exit
        if any(e["kind"] in ("unreachable", "unauthorised") for e in self.errors):
            return EXIT_UNREACHABLE
        if any(e["kind"] == "refused" for e in self.errors):
            return EXIT_CONFIG
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
                "clears": self.clears, "interrupted": self.interrupted or None,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
                "errors": self.errors, **({"diff": self.diff} if self.dry_run else {}),
                **self.labels()}


def error_row(exc: BaseException, where: str) -> dict[str, str]:
    # A system that answers 401/403 is reachable: say what is wrong (both exit 3).
    kind = ("unauthorised" if isinstance(exc, AuthError) else
            "unreachable" if isinstance(exc, UnreachableError) else "failed")
    return {"connection": where, "kind": kind, "error": str(exc) or type(exc).__name__}


def phase(report: SyncReport, name: str, started: float) -> float:
    """Record a phase's wall time; logs it with the process's peak memory so far."""
    now = time.perf_counter()
    report.seconds[name] = now - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    log.info("%s took %.1f s (peak memory so far %.0f MB)", name, now - started, peak)
    return now
