"""Dialect-specific ``INSERT … ON CONFLICT`` for the two supported backends."""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ._errors import StoreError

UpsertInsert: TypeAlias = sqlite.Insert | postgresql.Insert


def backend_of(session: Session) -> str:
    return session.get_bind().dialect.name


def upsert_insert(session: Session, table: Table) -> UpsertInsert:
    """An ``INSERT`` for ``table`` that supports ``on_conflict_do_update/nothing``."""
    backend = backend_of(session)
    if backend == "sqlite":
        return sqlite.insert(table)
    if backend == "postgresql":
        return postgresql.insert(table)
    raise StoreError(f"unsupported database backend {backend!r}",
                     remedy="use SQLite or PostgreSQL")
