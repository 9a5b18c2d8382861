"""What a ``files`` cursor holds, and how a read decides where to start from it.

A read is a *pass* over one file, from top to bottom, returning the records it wants page by
page. Between pages the cursor holds the byte offset to ``seek`` to — the file is never loaded
or re-read just to skip what was returned — plus a guard: hashes of the file's first bytes and
of the bytes just before the offset. If either differs when the next page is read, the file
was truncated or replaced in the middle of the pass, the offset is meaningless, and the pass
restarts from the top with a warning (records of that pass may then come twice; none is lost).

The last page's cursor is a *checkpoint*: the file's length at that point, the number of
records, the latest ``updated_at`` seen (the watermark) and a hash of everything read. A read
from a checkpoint hashes the same prefix of the file again:

* same prefix → the file was only appended to: seek to the old end and return everything
  after it (the usual case for exports that append, and "nothing new" costs one hash pass);
* different prefix → the file was rewritten (most ERP exports regenerate it): scan it all and
  return records whose ``updated_at`` is later than the watermark, and records without
  ``updated_at`` whose position is past the old record count (they cannot be compared).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import BinaryIO, Literal

from pydantic import BaseModel, ConfigDict

from ._records import Mark

GUARD_BYTES = 1024
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


class Position(BaseModel):
    """``Cursor.position`` of the files connector (stored as JSON by the core)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    format: Literal["jsonl", "csv", "none"] = "none"
    """The format the offsets refer to; ``none`` when the file did not exist."""
    checkpoint: bool = False
    """False: in the middle of a pass. True: a pass ended here."""
    offset: int = 0
    line: int = 1
    row: int = 0
    since: datetime | None = None
    """Pass filter: records with ``updated_at`` later than this (None: every record)."""
    new_from_row: int | None = None
    """Pass filter for records without ``updated_at``: those at this row or later (None: all)."""
    seen: datetime | None = None
    """The latest ``updated_at`` of this pass so far (at a checkpoint: the watermark)."""
    guard: str = ""
    """Mid-pass: hash of the file's head and of the bytes just before ``offset``."""
    prefix: str = ""
    """Checkpoint: hash of the file's first ``offset`` bytes."""

    @property
    def mark(self) -> Mark:
        return Mark(self.offset, self.line, self.row)

    def wants(self, updated_at: datetime | None, row: int) -> bool:
        """Does this pass return a record with this ``updated_at`` at this row?"""
        if updated_at is None:
            return self.new_from_row is None or row >= self.new_from_row
        return self.since is None or aware(updated_at) > self.since


def aware(stamp: datetime) -> datetime:
    """Timestamps without an offset are taken as UTC, so that they compare with the rest."""
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(aware(a), aware(b))


def prefix_sha(fh: BinaryIO, length: int) -> str:
    """sha256 of the first ``length`` bytes (read in 256 KiB chunks, never all at once)."""
    digest = hashlib.sha256()
    fh.seek(0)
    remaining = length
    while remaining > 0:
        chunk = fh.read(min(remaining, 1 << 18))
        if not chunk:
            break
        digest.update(chunk)
        remaining -= len(chunk)
    return digest.hexdigest()


def guard_sha(fh: BinaryIO, offset: int) -> str:
    """Hash of the head of the file and of the bytes just before ``offset``: a truncated or
    replaced file almost surely changes one of them (a CSV header lives in the head)."""
    digest = hashlib.sha256()
    fh.seek(0)
    digest.update(fh.read(min(offset, GUARD_BYTES)))
    fh.seek(max(0, offset - GUARD_BYTES))
    digest.update(fh.read(min(offset, GUARD_BYTES)))
    return digest.hexdigest()


Start = tuple[Position, int, str | None]
"""Where a pass starts, and a log level and message about it (None: nothing unusual)."""


def start_from(position: Position | None, fmt: Literal["jsonl", "csv"], fh: BinaryIO,
               size: int) -> Start:
    """Resolve a stored position against the file as it is now."""
    if position is None:
        return Position(format=fmt), logging.DEBUG, None
    same_format = position.format in (fmt, "none")
    if position.checkpoint:
        if same_format and size >= position.offset \
                and prefix_sha(fh, position.offset) == position.prefix:
            # Appended to (or unchanged): everything after the old end is new.
            return Position(format=fmt, offset=position.offset, line=position.line,
                            row=position.row, seen=position.seen), logging.DEBUG, None
        why = "was rewritten" if same_format else f"is now {fmt}, was {position.format}"
        since = position.seen.isoformat() if position.seen else "none"
        return (Position(format=fmt, since=position.seen, new_from_row=position.row,
                         seen=position.seen), logging.INFO,
                f"the file {why} since the last checkpoint; scanning it all for records "
                f"updated after {since}")
    if same_format and size >= position.offset and position.offset > 0 \
            and guard_sha(fh, position.offset) == position.guard:
        return position, logging.DEBUG, None
    restart = Position(format=fmt, since=position.since, new_from_row=position.new_from_row,
                       seen=position.since)
    return restart, logging.WARNING, ("the file was truncated or replaced in the middle of a "
                                      "read; restarting this pass from the top (records of "
                                      "this pass may be returned again)")
