"""Progress display: a bar on an interactive terminal, nothing in CI or when piped."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from ._state import console_err


def interactive() -> bool:
    return console_err.is_terminal and not os.environ.get("CI")


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``; draws only on an interactive terminal."""
    if not interactive():
        yield lambda _n: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), console=console_err, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
