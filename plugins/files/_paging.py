"""One page of one stream: stream the file from the cursor's offset, keep what the pass wants.

``has_more`` is exact: after a full page the reader looks for the *next* wanted record and
points the cursor at its first byte, so a caller never gets an empty last page, and a file
whose last page is full ends with ``has_more=False`` on that page.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel

from ._csv import read_csv
from ._emails import without_invalid_email
from ._position import EMPTY_SHA, Position, guard_sha, later, prefix_sha, start_from
from ._records import Limits, Located, MalformedRecord, Mark, read_jsonl

log = logging.getLogger("shoploop.plugins.files")


@dataclass(frozen=True)
class Source:
    """A stream's file as the connector found it (``path`` None: no file, no records)."""

    label: str  # "[connection] customers" for log lines
    model: type[BaseModel]
    path: Path | None
    format: Literal["jsonl", "csv"]
    encoding: str
    delimiter: str
    limits: Limits = field(default_factory=Limits)

    def records(self, fh: BinaryIO, start: Mark) -> Iterator[Located]:
        if self.format == "csv":
            return read_csv(fh, self.model, start, self.encoding, self.delimiter, self.limits)
        return read_jsonl(fh, self.model, start, self.encoding, self.limits)


@dataclass(frozen=True)
class PageResult:
    items: list[BaseModel]
    position: Position
    has_more: bool
    warnings: tuple[str, ...] = ()
    """Per kept record with a value left out: ``<file>:<line>: record <id>: why``."""


def read_page(source: Source, position: Position | None, page_size: int) -> PageResult:
    """Up to ``page_size`` records the pass wants, and where the next read starts.

    Raises ``MalformedRecord`` for a record that cannot be read when no record precedes it on
    this page; otherwise the page ends before it and the next read raises, so the records
    before a bad line are not held back by it."""
    if source.path is None:
        if position is not None and position.checkpoint:
            # Keep it: an export that deletes the file before writing it anew must not make
            # the next run return everything again.
            return PageResult([], position, False)
        since = position.since if position is not None else None
        return PageResult([], Position(checkpoint=True, prefix=EMPTY_SHA, seen=since), False)
    with source.path.open("rb") as fh:
        start, level, note = start_from(position, source.format, fh,
                                        os.fstat(fh.fileno()).st_size)
        if note:
            log.log(level, "%s: %s: %s", source.label, source.path, note)
        return _scan(source, fh, start, page_size)


def _scan(source: Source, fh: BinaryIO, start: Position, page_size: int) -> PageResult:
    items: list[BaseModel] = []
    warnings: list[str] = []
    seen = start.seen
    end = start.mark
    records = source.records(fh, start.mark)
    while True:
        try:
            located = next(records, None)
        except MalformedRecord as exc:
            if not items:
                raise
            return PageResult(items, _resume_at(fh, start, exc.start, seen), True,
                              tuple(warnings))
        if located is None:
            break
        stamp = getattr(located.record, "updated_at", None)
        if start.wants(stamp, located.start.row):
            if len(items) == page_size:  # the next wanted record exists: stop before it
                return PageResult(items, _resume_at(fh, start, located.start, seen), True,
                                  tuple(warnings))
            record, problem = without_invalid_email(located.record)
            if problem is not None:
                warnings.append(f"{source.path}:{located.start.line}: record "
                                f"{getattr(record, 'id', '?')!r}: {problem}; kept without it")
            items.append(record)
        seen = later(seen, stamp)
        end = located.end
    checkpoint = Position(format=start.format, checkpoint=True, offset=end.offset,
                          line=end.line, row=end.row, seen=seen,
                          prefix=prefix_sha(fh, end.offset))
    return PageResult(items, checkpoint, False, tuple(warnings))


def _resume_at(fh: BinaryIO, start: Position, mark: Mark,
               seen: datetime | None) -> Position:
    """The mid-pass position of ``mark``; the pass's filters carry over."""
    return start.model_copy(update={
        "offset": mark.offset, "line": mark.line, "row": mark.row, "seen": seen,
        "guard": guard_sha(fh, mark.offset), "checkpoint": False, "prefix": "",
    })

