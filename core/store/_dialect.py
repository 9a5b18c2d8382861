"""Dialect-specific ``INSERT … ON CONFLICT`` for the two supported backends."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, String, Table, any_, func, literal, literal_column, select
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


def one_of(
    session: Session, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN (values)`` of strings or integers, always with one bound parameter instead
    of one per value: on PostgreSQL ``column = ANY(:array)`` (psycopg would otherwise parse a
    thousand placeholders client-side each time), on SQLite ``column IN (SELECT value FROM
    json_each(:json))`` (SQLAlchemy otherwise builds, renders and binds a thousand parameters
    per statement: half the cost of a mirror page's hash lookup). Both still use the index."""
    if backend_of(session) == "postgresql":
        return column == any_(literal(list(values), postgresql.ARRAY(column.type)))
    return column.in_(select(literal_column("value")).select_from(
        func.json_each(literal(json.dumps(list(values)), String()))))
