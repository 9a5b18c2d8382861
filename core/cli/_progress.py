"""Progress of long commands, on stderr only (stdout stays the result, or one JSON document).

On an interactive terminal: Rich bars with a count, a total and an ETA when the total is known.
Otherwise (piped, cron, CI): plain lines at a bounded rate — one when a task starts or ends (a
phase change) and at most one per task every ``SHOPLOOP_PROGRESS_INTERVAL`` seconds (default 10;
0 turns the lines off) — so a piped run shows it is alive without flooding a CI log.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from ._state import console_err

DEFAULT_INTERVAL = 10.0


def interactive() -> bool:
    return console_err.is_terminal and not os.environ.get("CI")


def line_interval() -> float:
    """Seconds between two progress lines of one task when not on a terminal (0: none)."""
    value = os.environ.get("SHOPLOOP_PROGRESS_INTERVAL", "")
    try:
        return max(0.0, float(value)) if value else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


@dataclass
class _Task:
    description: str
    total: int | None
    started: float
    completed: int = 0
    printed: float = 0.0
    bar: TaskID | None = None
    finished: bool = False


def describe(description: str, completed: int, total: int | None, seconds: float,
             *, finished: str = "") -> str:
    """``erp customers: 1,200/5,000 (24 %) · 40/s · ETA 0:01:35`` — one progress line;
    ``finished``: ``"done"`` or ``"failed"`` for the last one."""
    rate = completed / seconds if seconds > 0 else 0.0
    text = f"{description}: {completed:,}"
    if total is not None:
        text += f"/{total:,}"
        if total:
            text += f" ({min(100, completed * 100 // total)} %)"
    if finished == "failed":
        return f"{text} · failed after {timedelta(seconds=round(seconds))}"
    if finished:
        return f"{text} · done in {timedelta(seconds=round(seconds))}"
    if rate:
        text += f" · {rate:,.0f}/s"
        if total is not None and total > completed:
            text += f" · ETA {timedelta(seconds=round((total - completed) / rate))}"
    return text


@dataclass
class ProgressBoard:
    """Named tasks shown as bars (``interactive``) or as rate-limited lines on ``console``.
    Thread-safe: sync reports from its import, planning and writer threads."""

    interactive: bool
    console: Console = field(default_factory=lambda: console_err)
    interval: float = DEFAULT_INTERVAL
    clock: Callable[[], float] = time.monotonic
    _tasks: dict[str, _Task] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _bars: Progress | None = None

    def __enter__(self) -> ProgressBoard:
        if self.interactive:
            self._bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeRemainingColumn(),
                                  console=self.console, transient=True)
            self._bars.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:  # what is still open ended with the run
            for key in list(self._tasks):
                self.finish(key)
        if self._bars is not None:
            self._bars.__exit__(kind, error, trace)
            self._bars = None

    def update(self, key: str, *, description: str | None = None, completed: int | None = None,
               advance: int = 0, total: int | None = None) -> None:
        """Start task ``key`` (its first update names it) or move it on."""
        with self._lock:
            now = self.clock()
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = _Task(description or key, total, now, printed=now)
                if self._bars is not None:
                    task.bar = self._bars.add_task(escape(task.description), total=total)
                else:
                    self._line(describe(task.description, 0, total, 0.0)
                               if total is not None else f"{task.description}: started")
            if description is not None:
                task.description = description
            counted = task.total is None and total is not None  # a line says the total
            if total is not None:
                task.total = total
            task.completed = completed if completed is not None else task.completed + advance
            if task.bar is not None and self._bars is not None:
                self._bars.update(task.bar, completed=task.completed, total=task.total,
                                  description=escape(task.description))
            elif counted or (self.interval and now - task.printed >= self.interval):
                task.printed = now
                self._line(describe(task.description, task.completed, task.total,
                                    now - task.started))

    def finish(self, key: str, *, total: int | None = None, failed: bool = False) -> None:
        """The task is over (its count is final); a line says so when not on a terminal."""
        with self._lock:
            task = self._tasks.get(key)
            if task is None or task.finished:
                return
            task.finished = True
            if total is not None:
                task.total = total
            if task.bar is not None and self._bars is not None:
                self._bars.update(task.bar, completed=task.completed,
                                  total=task.total if task.total is not None else task.completed)
            else:
                self._line(describe(task.description, task.completed, task.total,
                                    self.clock() - task.started,
                                    finished="failed" if failed else "done"))

    def _line(self, text: str) -> None:
        if self.interval:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)


def board() -> ProgressBoard:
    """The board for this process: bars on a terminal, lines otherwise."""
    return ProgressBoard(interactive=interactive(), interval=line_interval())


class Tracker:
    """One task of a board: ``advance(n)`` after each page, ``set_total(n)`` when counted."""

    def __init__(self, board: ProgressBoard, key: str) -> None:
        self.board, self.key = board, key

    def advance(self, n: int) -> None:
        self.board.update(self.key, advance=n)

    def set_total(self, total: int) -> None:
        self.board.update(self.key, total=total)

    def __call__(self, n: int) -> None:
        self.advance(n)


@contextmanager
def progress(description: str, total: int | None = None,
             shown: ProgressBoard | None = None) -> Iterator[Tracker]:
    """One task on ``shown`` (default: a board of its own) for the ``with`` block."""
    if shown is None:
        with board() as own, progress(description, total, own) as tracker:
            yield tracker
        return
    shown.update(description, description=description, total=total)
    try:
        yield Tracker(shown, description)
    except BaseException:
        shown.finish(description, failed=True)
        raise
    shown.finish(description)
