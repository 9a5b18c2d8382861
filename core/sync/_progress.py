"""Progress of a target's planning, for the CLI's bars and lines (``SyncOptions``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shoploop.store import count_mirrored


class PlanProgress:
    """Counts a target's planned master customers (then derived rows) against their total:
    the mirrored customers of its masters, counted once when planning starts (the imports are
    over by then), and the derived rows once they are computed."""

    def __init__(self, report: Callable[[str, int, int], None] | None, target: str,
                 store: Any, masters: Sequence[str]) -> None:
        self.report, self.target = report, target
        self.done = 0
        self.total = 0
        if report is None or not masters:
            return
        with store.session() as session:
            self.total = count_mirrored(session, "customers", masters)
        report(target, 0, self.total)

    def add(self, rows: int) -> None:
        """More to plan (the derived rows)."""
        self.total += rows
        if self.report is not None:
            self.report(self.target, self.done, self.total)

    def advance(self, planned: int) -> None:
        self.done += planned
        if self.report is not None:
            self.report(self.target, self.done, self.total)
