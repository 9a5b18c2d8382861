"""Page-at-a-time writes that skip SQLAlchemy's per-row parameter handling.

For an ``executemany`` SQLAlchemy builds a parameter dict per row and runs every value through
its type's bind processor again (``construct_params``, ``_init_compiled``); for a 1000-record
mirror page that cost more than SQLite's own work (profile in docs/sync.md#speed). Here rows
are encoded once into tuples — through the *same* bind processors, so what lands in the
database is exactly what an ordinary ``INSERT`` would store — and written with one statement
per page straight on the session's DBAPI connection (so inside the session's transaction):

* SQLite: one multi-row ``INSERT … VALUES (…), (…) [ON CONFLICT … DO UPDATE] [RETURNING]``
  per page (split only where SQLite's bound-parameter limit requires);
* PostgreSQL: ``COPY`` (see ``_pg_copy``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from operator import itemgetter
from typing import Any

from pydantic_core import TzInfo
from sqlalchemy import JSON, Dialect, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from ._rows import RawJSON, Row
from ._types import UTCDateTime

Values = tuple[Any, ...]
_Process = Callable[[Any], Any]
_NOTHING = object()


_FIXED_OFFSET_ZONES: tuple[type[tzinfo], ...] = (timezone, TzInfo)
"""Time zones whose offset does not depend on the date (pydantic parses ``Z``/``+02:00`` into
``TzInfo``; ``datetime.UTC`` is a ``timezone``): their offset is looked up once per zone."""
_ZERO = timedelta(0)
_offsets: dict[tzinfo, timedelta] = {}


def _fixed_offset(zone: tzinfo) -> timedelta | None:
    if type(zone) not in _FIXED_OFFSET_ZONES:  # exact types: a subclass may have rules
        return None
    offset = _offsets.get(zone)
    if offset is None:
        offset = zone.utcoffset(None)
        if offset is not None and len(_offsets) < 256:  # a handful in practice; bounded
            _offsets[zone] = offset
    return offset


def sqlite_utc_text(value: Any) -> str | None:
    """What :class:`._types.UTCDateTime` then SQLite's ``DATETIME`` bind processor make of
    ``value`` (UTC wall time, ``YYYY-MM-DD HH:MM:SS.ffffff``) in one step: the two generic
    processors were a tenth of a mirror page's time. For the usual fixed-offset zones
    (``Z``, ``+02:00``) the offset is subtracted directly instead of ``astimezone`` and
    ``replace``, the bulk of what was left. Equality with the generic processors is tested
    with random times and zones (tests/store/test_bulk.py)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    zone = value.tzinfo
    if zone is None:
        text: str = value.isoformat(" ", "microseconds")
        return text
    offset = _fixed_offset(zone)
    if offset is None:  # a zone with rules (zoneinfo) or a custom tzinfo: the generic way
        value = value.astimezone(UTC).replace(tzinfo=None)
    elif offset:
        value = value.replace(tzinfo=None) - offset
    else:
        value = value.replace(tzinfo=None)
    text = value.isoformat(" ", "microseconds")
    return text


def _json_text(generic: _Process) -> _Process:
    """The JSON columns' processor, short-cut for the mirror's ``RawJSON`` (the text the row
    builder serialised once); anything else through the engine's serializer as before."""
    def process(value: Any) -> Any:
        return str(value) if type(value) is RawJSON else generic(value)
    return process


def _processor(column: Any, dialect: Dialect) -> _Process | None:
    if dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
        return sqlite_utc_text
    generic = column.type.dialect_impl(dialect).bind_processor(dialect)
    if generic is not None and isinstance(column.type, JSON | JSONB):
        return _json_text(generic)
    return generic  # type: ignore[no-any-return]


@lru_cache(maxsize=256)
def _processors(dialect: Dialect, target: Table, columns: tuple[str, ...],
                ) -> tuple[_Process | None, ...]:
    return tuple(_processor(target.c[name], dialect) for name in columns)


def encode_rows(session: Session, target: Table, columns: Sequence[str],
                rows: Sequence[Row]) -> list[Values]:
    """``rows`` as tuples in ``columns`` order, each value through its column's bind
    processor. A value that is the very object of the previous row's (``connection``, the
    page's ``mirrored_at``) reuses that row's processed value instead of converting again."""
    if not rows:
        return []
    dialect = session.get_bind().dialect
    processors = _processors(dialect, target, tuple(columns))
    converted = [(i, process) for i, process in enumerate(processors) if process is not None]
    pick: Callable[[Row], Values] = itemgetter(*columns) if len(columns) > 1 else (
        lambda row: (row[columns[0]],))
    if not converted:
        return [pick(row) for row in rows]
    last_in: list[Any] = [_NOTHING] * len(columns)
    last_out: list[Any] = [None] * len(columns)
    encoded: list[Values] = []
    for row in rows:
        out = list(pick(row))
        for i, process in converted:
            value = out[i]
            if value is last_in[i]:
                out[i] = last_out[i]
            else:
                out[i] = last_out[i] = process(value)
                last_in[i] = value
        encoded.append(tuple(out))
    return encoded


def _sqlite(session: Session) -> sqlite3.Connection:
    raw = session.connection().connection.dbapi_connection
    if not isinstance(raw, sqlite3.Connection):
        raise TypeError(f"expected an sqlite3 connection, got {type(raw).__name__}")
    return raw


def _rows_per_statement(raw: sqlite3.Connection, width: int) -> int:
    # SQLITE_LIMIT_VARIABLE_NUMBER is 32766 since SQLite 3.32 (999 before); ask the library.
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, limit // max(1, width))


def sqlite_insert(
    session: Session, target: Table, columns: Sequence[str], values: Sequence[Values], *,
    key: Sequence[str] = (), update_columns: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``values`` (tuples in ``columns`` order) into ``target`` with multi-row
    ``INSERT`` statements. With ``key``: ``ON CONFLICT (key) DO UPDATE`` the
    ``update_columns``, only where ``content_hash`` differs (an unchanged row is not
    rewritten). With ``returning``: those columns of every row inserted or updated."""
    if not values:
        return []
    session.flush()
    raw = _sqlite(session)
    quote = session.get_bind().dialect.identifier_preparer.quote
    table_sql = session.get_bind().dialect.identifier_preparer.format_table(target)
    head = f"INSERT INTO {table_sql} ({', '.join(quote(c) for c in columns)}) VALUES "
    tail = ""
    if key:
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in update_columns)
        tail += (f" ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {updates}"
                 f" WHERE {table_sql}.content_hash IS NOT excluded.content_hash")
    if returning:
        tail += f" RETURNING {', '.join(quote(c) for c in returning)}"
    one = "(" + ", ".join("?" * len(columns)) + ")"
    per = _rows_per_statement(raw, len(columns))
    found: list[tuple[Any, ...]] = []
    cursor = raw.cursor()
    try:
        for start in range(0, len(values), per):
            chunk = values[start:start + per]
            cursor.execute(head + ", ".join([one] * len(chunk)) + tail,
                           [value for row in chunk for value in row])
            if returning:
                found += cursor.fetchall()
    finally:
        cursor.close()
    return found
