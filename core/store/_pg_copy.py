"""PostgreSQL fast path: ``COPY`` instead of multi-row ``INSERT`` statements.

psycopg parses every bound statement client-side; a 1000-row ``INSERT … VALUES`` with 15k
placeholders costs more there than on the server. ``COPY`` streams rows instead:

* plain inserts (order lines) ``COPY`` straight into the table;
* upserts ``COPY`` into a temporary staging table (one per connection and target, created
  once), then run one ``WITH staged AS (DELETE FROM stage RETURNING …) INSERT … SELECT …
  ON CONFLICT DO UPDATE … RETURNING``, which leaves the stage empty for the next page.

Values arrive encoded (:func:`._bulk.encode_rows`: each column type's SQLAlchemy bind
processor already applied), so both paths store exactly what an ordinary ``INSERT`` would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import Table
from sqlalchemy.orm import Session

from ._bulk import Values


def _dbapi(session: Session) -> psycopg.Connection[Any]:
    raw = session.connection().connection.dbapi_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(f"COPY needs a psycopg 3 connection, got {type(raw).__name__}")
    return raw


def _copy(session: Session, table_sql: str, columns: Sequence[str],
          values: Sequence[Values]) -> None:
    quote = session.get_bind().dialect.identifier_preparer.quote
    sql = f"COPY {table_sql} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with _dbapi(session).cursor() as cursor, cursor.copy(sql.encode()) as copy:
        write = copy.write_row
        for row in values:
            write(row)


def copy_insert(session: Session, target: Table, columns: Sequence[str],
                values: Sequence[Values]) -> None:
    """Insert ``values`` (encoded tuples, :func:`._bulk.encode_rows`) into ``target`` with
    ``COPY`` (no conflict handling)."""
    if not values:
        return
    session.flush()
    preparer = session.get_bind().dialect.identifier_preparer
    _copy(session, preparer.format_table(target), columns, values)


def copy_upsert(
    session: Session, target: Table, columns: Sequence[str], values: Sequence[Values], *,
    key: Sequence[str], update_columns: Sequence[str], returning: bool,
) -> list[tuple[str, int]]:
    """Upsert ``values`` (encoded tuples in ``columns`` order) through a staging table;
    returns ``(external_id, id)`` of the rows inserted or updated when ``returning``.
    Unchanged rows (same ``content_hash``) are left alone."""
    if not values:
        return []
    session.flush()
    preparer = session.get_bind().dialect.identifier_preparer
    quote = preparer.quote
    table_sql = preparer.format_table(target)
    stage = quote(f"_shoploop_stage_{target.name}")
    column_list = ", ".join(quote(c) for c in columns)
    with _dbapi(session).cursor() as cursor:
        # One staging table per connection and target, kept (temporary tables live as long
        # as the connection): creating one per page cost a catalog write and its TRUNCATE a
        # new file, both per page. The upsert below empties it itself; ON COMMIT DELETE ROWS
        # only guards against rows a failed statement left behind.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
            f"SELECT {column_list} FROM {table_sql} WITH NO DATA".encode()
        )
    _copy(session, stage, columns, values)
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in update_columns)
    sql = (
        f"WITH staged AS (DELETE FROM {stage} RETURNING {column_list}) "
        f"INSERT INTO {table_sql} AS t ({column_list}) SELECT {column_list} FROM staged "
        f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {updates} "
        f"WHERE t.content_hash IS DISTINCT FROM EXCLUDED.content_hash"
    )
    with _dbapi(session).cursor() as cursor:
        if not returning:
            cursor.execute(sql.encode())
            return []
        cursor.execute(f"{sql} RETURNING t.external_id, t.id".encode())
        return [(str(external), int(row_id)) for external, row_id in cursor.fetchall()]
