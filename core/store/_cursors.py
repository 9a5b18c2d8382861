"""Sync cursors: where each (connection, stream) read stands, as the connector's JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shoploop.hooks import Cursor

from ._dialect import upsert_insert
from ._schema import SyncCursor, table
from ._types import utcnow


def load_cursor(session: Session, connection: str, stream: str) -> Cursor | None:
    """The stored cursor of ``stream`` in ``connection``; None before the first read."""
    position = session.scalar(
        select(SyncCursor.position).where(
            SyncCursor.connection == connection, SyncCursor.stream == stream
        )
    )
    return None if position is None else Cursor(stream=stream, position=position)


def save_cursor(
    session: Session, connection: str, cursor: Cursor, *, stream: str | None = None
) -> None:
    """Store ``cursor`` for ``connection`` under ``stream`` (default ``cursor.stream``).

    Call it in the same session (transaction) as the writes the cursor accounts for, so the
    cursor only advances when those are durable.
    """
    position: dict[str, Any] = cursor.model_dump(mode="json")["position"]
    statement = upsert_insert(session, table("sync_cursors")).values(
        connection=connection, stream=stream or cursor.stream, position=position,
        updated_at=utcnow(),
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["connection", "stream"],
            set_={"position": statement.excluded.position,
                  "updated_at": statement.excluded.updated_at},
        )
    )


def delete_cursor(session: Session, connection: str, stream: str) -> bool:
    """Forget a stream's cursor (the next read starts from the beginning)."""
    result = session.execute(
        delete(SyncCursor).where(SyncCursor.connection == connection, SyncCursor.stream == stream)
    )
    return bool(getattr(result, "rowcount", 0))
