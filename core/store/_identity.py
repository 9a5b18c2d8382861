"""Cross-system identity bindings: (connection, entity type, external id) ↔ internal id.

An internal id names one real-world entity (a person, a product) across connections; each
connection knows it by at most one external id, and each external id belongs to exactly one
internal id. Both directions are unique in the database, so a binding is never guessed twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._dialect import one_of, upsert_insert
from ._errors import IdentityConflictError
from ._schema import IdentityBinding, table
from ._types import utcnow

_BATCH = 500


def new_internal_id() -> str:
    return uuid.uuid4().hex


def resolve_internal_id(
    session: Session, connection: str, entity_type: str, external_id: str
) -> str | None:
    """The internal id bound to this external id, or None."""
    return session.scalar(
        select(IdentityBinding.internal_id).where(
            IdentityBinding.connection == connection,
            IdentityBinding.entity_type == entity_type,
            IdentityBinding.external_id == external_id,
        )
    )


def resolve_internal_ids(
    session: Session, connection: str, entity_type: str, external_ids: Iterable[str]
) -> dict[str, str]:
    """Bulk :func:`resolve_internal_id`: external id → internal id for those that are bound."""
    return _bulk_lookup(session, connection, entity_type, external_ids, by="external_id")


def resolve_external_ids(
    session: Session, connection: str, entity_type: str, internal_ids: Iterable[str]
) -> dict[str, str]:
    """The other direction in bulk: internal id → ``connection``'s external id, for those of
    the given internal ids that ``connection`` knows."""
    return _bulk_lookup(session, connection, entity_type, internal_ids, by="internal_id")


def _bulk_lookup(session: Session, connection: str, entity_type: str, ids: Iterable[str], *,
                 by: Literal["external_id", "internal_id"]) -> dict[str, str]:
    """``connection``'s bindings of ``ids`` (external or internal, as ``by`` says) → the other
    id, queried ``_BATCH`` ids at a time."""
    wanted = list(dict.fromkeys(ids))
    other = "internal_id" if by == "external_id" else "external_id"
    bindings = table("identity_bindings")
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _BATCH):
        rows = session.execute(
            select(bindings.c[by], bindings.c[other]).where(
                IdentityBinding.connection == connection,
                IdentityBinding.entity_type == entity_type,
                one_of(session, bindings.c[by], wanted[start : start + _BATCH]),
            )
        )
        found.update({key: value for key, value in rows})
    return found


def bind_identities(
    session: Session, entity_type: str, rows: Sequence[tuple[str, str, str]]
) -> None:
    """Bulk :func:`bind_identity` of (connection, external id, internal id) rows the caller
    checked against the bindings it loaded: a row already stored as given is skipped, so
    binding the same rows again is a no-op. Anything else that clashes with a stored binding
    — or with a concurrent writer — fails on the unique constraints and rolls the caller's
    transaction back: a binding is never changed silently."""
    by_connection: dict[str, list[str]] = {}
    for connection, external, _internal in rows:
        by_connection.setdefault(connection, []).append(external)
    stored = {(connection, external, internal)
              for connection, externals in by_connection.items()
              for external, internal in resolve_internal_ids(
                  session, connection, entity_type, externals).items()}
    new = [row for row in dict.fromkeys(rows) if row not in stored]
    if not new:
        return
    now = utcnow()
    insert = upsert_insert(session, table("identity_bindings"))
    for start in range(0, len(new), _BATCH):
        session.execute(insert, [
            {"connection": connection, "entity_type": entity_type, "external_id": external,
             "internal_id": internal, "created_at": now}
            for connection, external, internal in new[start : start + _BATCH]])


def external_ids_for(session: Session, entity_type: str, internal_id: str) -> dict[str, str]:
    """Every connection's external id for one internal id: ``{connection: external_id}``."""
    rows = session.execute(
        select(IdentityBinding.connection, IdentityBinding.external_id).where(
            IdentityBinding.entity_type == entity_type,
            IdentityBinding.internal_id == internal_id,
        )
    )
    return {connection: external for connection, external in rows}


def _external_for(
    session: Session, connection: str, entity_type: str, internal_id: str
) -> str | None:
    return session.scalar(
        select(IdentityBinding.external_id).where(
            IdentityBinding.connection == connection,
            IdentityBinding.entity_type == entity_type,
            IdentityBinding.internal_id == internal_id,
        )
    )


def bind_identity(
    session: Session,
    connection: str,
    entity_type: str,
    external_id: str,
    internal_id: str | None = None,
) -> str:
    """Bind ``external_id`` in ``connection`` to ``internal_id`` (a new one when None) and
    return the internal id it is bound to. Idempotent: binding the same pair again is a no-op.

    Raises :class:`IdentityConflictError` when the external id is already bound to another
    internal id, or the internal id already has another external id in this connection.
    Safe under concurrency: the database's unique constraints decide, never a race.
    """
    key = f"{entity_type} {external_id!r} in connection {connection!r}"
    existing = resolve_internal_id(session, connection, entity_type, external_id)
    if existing is None:
        candidate = internal_id or new_internal_id()
        statement = upsert_insert(session, table("identity_bindings")).values(
            connection=connection, entity_type=entity_type, external_id=external_id,
            internal_id=candidate, created_at=utcnow(),
        ).on_conflict_do_nothing()
        session.execute(statement)
        existing = resolve_internal_id(session, connection, entity_type, external_id)
        if existing is None:  # the internal id is taken by another external id here
            other = _external_for(session, connection, entity_type, candidate)
            raise IdentityConflictError(
                f"cannot bind {key} to {candidate!r}: that internal id is already bound to "
                f"external id {other!r} in the same connection"
            )
    if internal_id is not None and existing != internal_id:
        raise IdentityConflictError(
            f"{key} is already bound to {existing!r}, not {internal_id!r}"
        )
    return existing
