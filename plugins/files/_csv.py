"""The CSV shape of the four streams: flat columns that a spreadsheet or an ERP export can
produce, mapped onto the nested models of ``shoploop.hooks``.

* One column per scalar field, named like the field (``id``, ``email``, ``updated_at``, …).
  An empty cell is "no value" (the field's default, usually null). Cells are taken as written:
  like the models, the reader trims nothing (a sync tool must not alter values silently).
* List fields (``tags``, ``discount_codes``) are one cell, items separated by ``;``; empty
  items are dropped.
* ``attributes`` become one ``attr.<key>`` column per key. A cell holding JSON (``42``,
  ``true``, ``null``, ``["a","b"]``, ``"007"``) is that value; any other text is a string.
* Customer addresses become ``billing.*``, ``shipping.*`` (and ``other.*``) columns; at most
  one address of each kind, present when any of its cells is filled.
* Orders have one row per line item, with ``line.*`` columns for the item and the order's own
  columns repeated (or left empty) on its further rows; the rows of one order must be
  consecutive. An order without items is one row with empty ``line.*`` cells.

Unknown columns are an error rather than silently dropped: an operator who exports
``Branche`` expects it to arrive, and should rename it ``attr.Branche``.
"""

from __future__ import annotations

import csv
import json
import typing
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel, ValidationError

from shoploop.hooks import Address, AttributeValue, LineItem

from ._records import (
    Limits,
    Located,
    MalformedHeader,
    MalformedRecord,
    Mark,
    UndecodableLine,
    describe,
    physical_lines,
)

LIST_SEPARATOR = ";"
ATTR = "attr."
LINE = "line."
ADDRESS_KINDS = ("billing", "shipping", "other")
ADDRESS_FIELDS = tuple(name for name in Address.model_fields if name != "kind")
LINE_FIELDS = tuple(LineItem.model_fields)


@dataclass(frozen=True)
class Shape:
    """How one model is laid out in columns, derived from its fields (so the CSV shape follows
    the contract when a field is added)."""

    fields: tuple[str, ...]
    lists: frozenset[str]
    nested: frozenset[str]  # addresses, lines, attributes

    @classmethod
    def of(cls, model: type[BaseModel]) -> Shape:
        nested = frozenset({"addresses", "lines", "attributes"} & set(model.model_fields))
        lists = frozenset(name for name, info in model.model_fields.items()
                          if name not in nested and typing.get_origin(info.annotation) is list)
        return cls(tuple(model.model_fields), lists, nested)

    def known(self, column: str) -> bool:
        prefix, _, rest = column.partition(".")
        if not rest:
            return column in self.fields and column not in self.nested
        if prefix in ADDRESS_KINDS:
            return "addresses" in self.nested and rest in ADDRESS_FIELDS
        if prefix == "line":
            return "lines" in self.nested and rest in LINE_FIELDS
        return prefix == "attr" and "attributes" in self.nested

    def header_problem(self, header: Sequence[str]) -> str | None:
        unknown = [column for column in header if not self.known(column)]
        if unknown:
            hint = f"; to import it as an attribute, name it {ATTR}{unknown[0]}" \
                if "attributes" in self.nested else ""
            return f"unknown column(s) {', '.join(map(repr, unknown))}{hint}"
        duplicates = sorted({column for column in header if header.count(column) > 1})
        if duplicates:
            return f"duplicate column(s) {', '.join(map(repr, duplicates))}"
        if "id" not in header:
            return "the header has no 'id' column"
        return None


# -- reading ----------------------------------------------------------------------------------


def parse_attribute(cell: str) -> AttributeValue:
    """``42`` → 42, ``true`` → True, ``null`` → None, ``["a"]`` → ["a"], ``"42"`` → "42";
    text that is not such JSON stays text (``NaN`` included)."""
    try:
        value = json.loads(cell, parse_constant=_reject)
    except ValueError:
        return cell
    if value is None or isinstance(value, str | bool | int | float):
        return typing.cast(AttributeValue, value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return cell


def _reject(constant: str) -> None:
    raise ValueError(constant)


def row_fields(shape: Shape, header: Sequence[str], cells: Sequence[str]) -> dict[str, Any]:
    """One row's record fields (line item and address cells included, not yet grouped)."""
    data: dict[str, Any] = {}
    for column, cell in zip(header, cells, strict=True):
        if cell == "":
            continue
        if column.startswith(ATTR):
            data.setdefault("attributes", {})[column[len(ATTR):]] = parse_attribute(cell)
        elif column in shape.lists:
            data[column] = [item for item in cell.split(LIST_SEPARATOR) if item]
        elif "." in column:
            prefix, _, name = column.partition(".")
            data.setdefault(prefix, {})[name] = cell
        else:
            data[column] = cell
    addresses = [{"kind": kind, **data.pop(kind)} for kind in ADDRESS_KINDS if kind in data]
    if addresses:
        data["addresses"] = addresses
    return data


def read_csv(fh: BinaryIO, model: type[BaseModel], start: Mark, encoding: str,
             delimiter: str, limits: Limits) -> Iterator[Located]:
    """Records of a CSV file from ``start`` (offset 0: just after the header)."""
    shape = Shape.of(model)
    rows = _rows(fh, Mark(), encoding, delimiter, limits)
    header, header_end = next(((cells, end) for cells, _, end in rows), ([], Mark()))
    rows.close()
    if not header:
        return
    problem = shape.header_problem(header)
    if problem:
        raise MalformedHeader(problem)
    begin = Mark(header_end.offset, header_end.line, 0) if start.offset == 0 else start
    grouped = "lines" in shape.nested
    group: list[tuple[dict[str, Any], Mark]] = []
    row = begin.row
    for cells, here, end in _rows(fh, begin, encoding, delimiter, limits):
        here = Mark(here.offset, here.line, row)
        if len(cells) != len(header):
            raise MalformedRecord(here.line, f"{len(cells)} fields, but the header has "
                                  f"{len(header)}", here)
        fields = row_fields(shape, header, cells)
        if not fields.get("id"):
            raise MalformedRecord(here.line, "the 'id' cell is empty", here)
        if grouped and group and fields["id"] != group[0][0]["id"]:
            row += 1
            yield _record(model, group, Mark(here.offset, here.line, row))
            group = []
            here = Mark(here.offset, here.line, row)
        group.append((fields, here))
        if not grouped:
            row += 1
            yield _record(model, group, Mark(end.offset, end.line, row))
            group = []
    if group:
        yield _record(model, group, Mark(end.offset, end.line, row + 1))


def _record(model: type[BaseModel], group: list[tuple[dict[str, Any], Mark]],
            end: Mark) -> Located:
    data, start = dict(group[0][0]), group[0][1]
    if "lines" in model.model_fields:
        data.pop("line", None)
        data["lines"] = [fields["line"] for fields, _ in group if fields.get("line")]
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        lines = f" (lines {start.line}-{group[-1][1].line})" if len(group) > 1 else ""
        raise MalformedRecord(start.line, f"not a valid {model.__name__}{lines}: "
                              f"{describe(exc)}", start) from None
    return Located(record, start, end)


def _rows(fh: BinaryIO, begin: Mark, encoding: str, delimiter: str,
          limits: Limits) -> Generator[tuple[list[str], Mark, Mark], None, None]:
    """``(cells, start, end)`` per CSV row; a quoted cell may span physical lines. The csv
    module pulls one line at a time, so after each row the line source knows where it ends,
    and a row (its lines so far) longer than ``max_record_bytes`` is refused as it grows."""
    at = {"offset": begin.offset, "line": begin.line}
    # The csv module's own cap on a field (131,072 characters, process-wide) would refuse a
    # long field before our limit with a message naming no key; a field is never longer than
    # its record, so our record limit is the one that applies.
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_record_bytes))

    def lines() -> Iterator[str]:
        for raw, _, end, line in physical_lines(fh, begin, limits.max_line_bytes):
            if end - at["start"] > limits.max_record_bytes:
                first = at["first_line"]
                raise MalformedRecord(
                    first, f"the record starting on line {first} is more than "
                    f"max_record_bytes ({limits.max_record_bytes:,}) long (an unclosed quote?)",
                    Mark(at["start"], first),
                    remedy="if it is a real record, raise max_record_bytes in the "
                           "connection's config; otherwise fix the export")
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UndecodableLine(line, encoding, exc,
                                      Mark(at["offset"], at["line"])) from None
            at["offset"], at["line"] = end, line + 1
            yield text

    reader = csv.reader(lines(), delimiter=delimiter, strict=True)
    while True:
        start = Mark(at["offset"], at["line"])
        at["start"], at["first_line"] = start.offset, start.line
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise MalformedRecord(start.line, f"invalid CSV: {exc}", start) from None
        if cells:  # a blank line is no row
            yield cells, start, Mark(at["offset"], at["line"])


# -- writing ----------------------------------------------------------------------------------


def format_attribute(value: AttributeValue) -> str:
    """The inverse of :func:`parse_attribute`: a string that would read back as something
    else (``42``, ``true``, empty) is written as a JSON string."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if parse_attribute(value) != value \
            or not value else value
    return json.dumps(value, ensure_ascii=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _list_cell(column: str, items: list[str]) -> str:
    for item in items:
        if LIST_SEPARATOR in item or not item:
            raise ValueError(f"{column} item {item!r} cannot be written to CSV (empty, or "
                             f"contains {LIST_SEPARATOR!r})")
    return LIST_SEPARATOR.join(items)


def flatten(model: type[BaseModel], record: BaseModel) -> list[dict[str, str]]:
    """The CSV rows of one record (orders: one per line item)."""
    shape = Shape.of(model)
    data = record.model_dump(mode="json")
    row: dict[str, str] = {}
    for name in shape.fields:
        value = data[name]
        if name == "attributes":
            row.update({f"{ATTR}{key}": format_attribute(v) for key, v in value.items()})
        elif name == "addresses":
            for address in value:
                kind = address.pop("kind")
                if f"{kind}.{ADDRESS_FIELDS[0]}" in row:
                    raise ValueError(f"record {data['id']!r} has two {kind} addresses; CSV "
                                     "holds one per kind")
                if not any(address.values()):
                    raise ValueError(f"record {data['id']!r} has an empty {kind} address")
                row.update({f"{kind}.{key}": _cell(v) for key, v in address.items()})
        elif name in shape.lists:
            row[name] = _list_cell(name, value)
        elif name != "lines":
            row[name] = _cell(value)
    if "lines" not in shape.nested or not data["lines"]:
        return [row]
    return [{**row, **{f"{LINE}{key}": _cell(v) for key, v in line.items()}}
            for line in data["lines"]]


def header_for(model: type[BaseModel], rows: Iterable[dict[str, str]]) -> list[str]:
    """Columns in the model's field order; attribute columns sorted; all address kinds used."""
    shape = Shape.of(model)
    seen = {column for row in rows for column in row}
    header: list[str] = []
    for name in shape.fields:
        if name == "attributes":
            header.extend(sorted(c for c in seen if c.startswith(ATTR)))
        elif name == "addresses":
            kinds = [k for k in ADDRESS_KINDS if k != "other" or f"other.{ADDRESS_FIELDS[0]}"
                     in seen]
            header.extend(f"{kind}.{field}" for kind in kinds for field in ADDRESS_FIELDS)
        elif name == "lines":
            header.extend(f"{LINE}{field}" for field in LINE_FIELDS)
        else:
            header.append(name)
    return header


def write_csv(path: Path, model: type[BaseModel], records: Iterable[BaseModel],
              delimiter: str = ",") -> int:
    """Write records in the CSV shape above; returns how many. Raises ``ValueError`` for a
    record CSV cannot hold (two billing addresses, a tag containing ``;``)."""
    rows = [flatten(model, record) for record in records]
    header = header_for(model, (row for group in rows for row in group))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, header, delimiter=delimiter, lineterminator="\r\n",
                                restval="")
        writer.writeheader()
        for group in rows:
            writer.writerows(group)
    return len(rows)
