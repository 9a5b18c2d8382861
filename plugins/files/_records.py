"""Streams, where their files are, and reading JSON Lines with byte positions.

A reader yields each record together with *where it ends* in the file: the byte offset (so a
cursor can ``seek`` there instead of re-reading everything before it), the physical line number
(so an error after a resume still names the right line) and the record's index (row).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, NamedTuple

from pydantic import BaseModel, ValidationError

from shoploop.hooks import Customer, InstalledEquipment, Order, Product

Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")
BOM = b"\xef\xbb\xbf"

STREAMS: dict[str, type[BaseModel]] = {
    "customers": Customer,
    "orders": Order,
    "products": Product,
    "installed_base": InstalledEquipment,
}
"""Stream name (and file stem) → the model each record of it is."""


class Mark(NamedTuple):
    """A position between two records: byte offset, physical line number, record index.
    (Named tuples, not frozen dataclasses: three of these objects per record read, and a
    frozen dataclass pays an ``object.__setattr__`` per field.)"""

    offset: int = 0
    line: int = 1
    row: int = 0


class Located(NamedTuple):
    """A record read from a file, with the positions before and after it."""

    record: BaseModel
    start: Mark
    end: Mark


@dataclass(frozen=True)
class Limits:
    """The largest line and record a read accepts (``max_line_bytes`` / ``max_record_bytes``
    of the connection): an export with a runaway line must fail with a clear error, not make
    the reader hold hundreds of megabytes."""

    max_line_bytes: int = 1 << 20
    max_record_bytes: int = 1 << 20


class MalformedRecord(Exception):
    """A record could not be read; ``start`` is where it begins, ``line`` the line to fix.
    ``remedy`` says what to do when it is not "fix or remove the line"."""

    def __init__(self, line: int, reason: str, start: Mark, remedy: str = "") -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
        self.start = start
        self.remedy = remedy


class UndecodableLine(MalformedRecord):
    """A line's bytes are not text in the configured ``encoding``: nearly always the whole
    file is in another encoding (a cp1252 export read as utf-8), rarely one damaged line."""

    def __init__(self, line: int, encoding: str, error: UnicodeDecodeError, start: Mark) -> None:
        super().__init__(line, f"not valid {encoding}: {error.reason}", start)
        self.encoding = encoding


class MalformedHeader(MalformedRecord):
    """A CSV header names unknown or duplicate columns, or no ``id``: no record of the file
    can be read until the header is fixed (removing it would not help)."""

    def __init__(self, problem: str) -> None:
        super().__init__(1, f"{problem} (header)", Mark())


class AmbiguousFormat(Exception):
    """``format = "auto"`` and both a ``.jsonl`` and a ``.csv`` file exist for one stream."""


def locate(data_dir: Path, stream: str, configured: str) -> tuple[Path, Format] | None:
    """The file serving ``stream`` and its format, or None when there is none (no records).

    With ``auto``, exactly one of ``<stream>.jsonl`` / ``<stream>.csv`` may exist: silently
    preferring one would read a stale export while the operator updates the other."""
    candidates = [fmt for fmt in FORMATS if configured in ("auto", fmt)]
    found = [(data_dir / f"{stream}.{fmt}", fmt) for fmt in candidates
             if (data_dir / f"{stream}.{fmt}").exists()]
    if len(found) > 1:
        raise AmbiguousFormat(f"both {stream}.jsonl and {stream}.csv exist in {data_dir}")
    return found[0] if found else None


def describe(error: ValidationError) -> str:
    """The first problem of a pydantic error on one line: ``lines.0.quantity: must be ≥ 0``."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"


def physical_lines(fh: BinaryIO, start: Mark, max_line_bytes: int
                   ) -> Iterator[tuple[bytes, int, int, int]]:
    """``(line, start offset, end offset, line number)`` from ``start`` to the end of the file;
    a UTF-8 byte-order mark at the very start is dropped from the text but counted in offsets.

    A line longer than ``max_line_bytes`` raises ``MalformedRecord`` without being held in
    memory: ``readline`` is bounded, and the rest of the line is only counted."""
    fh.seek(start.offset)
    offset, line = start.offset, start.line
    while raw := fh.readline(max_line_bytes + 1):
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            size = len(raw) + _rest_of_line(fh)
            raise MalformedRecord(
                line, f"the line is {size:,} bytes long, more than max_line_bytes "
                f"({max_line_bytes:,})", Mark(offset, line),
                remedy=f"if line {line} is a real record, raise max_line_bytes in the "
                       "connection's config; otherwise fix the export")
        end = offset + len(raw)
        yield (raw[len(BOM):] if offset == 0 and raw.startswith(BOM) else raw), offset, end, line
        offset, line = end, line + 1


def _rest_of_line(fh: BinaryIO, chunk: int = 1 << 16) -> int:
    """Bytes up to and including the next newline (or the end of the file), counted in
    bounded chunks."""
    count = 0
    while piece := fh.read(chunk):
        newline = piece.find(b"\n")
        if newline >= 0:
            return count + newline + 1
        count += len(piece)
    return count


def read_jsonl(fh: BinaryIO, model: type[BaseModel], start: Mark, encoding: str,
               limits: Limits) -> Iterator[Located]:
    """Records of a JSON Lines file: one ``model.model_dump(mode="json")`` object per line
    (parsed and validated in one step by pydantic's JSON parser); blank lines are skipped.
    A last line without a newline is accepted only if it is complete JSON (an exporter that
    was cut off leaves invalid JSON, which is reported)."""
    row = start.row
    for raw, offset, end, line in physical_lines(fh, start, limits.max_line_bytes):
        text = raw.strip()
        if not text:
            continue
        here = Mark(offset, line, row)
        try:
            record = model.model_validate_json(text.decode(encoding))
        except UnicodeDecodeError as exc:
            raise UndecodableLine(line, encoding, exc, here) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                cut = "" if raw.endswith(b"\n") else " (cut off: no newline at the end of the file)"
                detail = first.get("ctx", {}).get("error", first["msg"])
                reason = f"invalid JSON: {detail}{cut}"
            elif first["type"] == "model_type":
                reason = "expected a JSON object"
            else:
                reason = f"not a valid {model.__name__}: {describe(exc)}"
            raise MalformedRecord(line, reason, here) from None
        row += 1
        yield Located(record, here, Mark(end, line + 1, row))


def write_jsonl(path: Path, records: Iterator[BaseModel] | list[BaseModel]) -> int:
    """Write records as JSON Lines, the format the reader expects; returns how many."""
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n")
            count += 1
    return count
