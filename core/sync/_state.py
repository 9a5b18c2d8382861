"""The sync job's tables: bindings in bulk, target state, intent batches, the audit trail.

Everything a confirmed batch changes locally — the batch's status, what the target now holds
(``sync_target_state``), the mirror's copy of the target's values and the audit rows — is
written in one transaction, so after a crash either all of it is there or the batch is still
``pending`` and its changes are planned again.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session

from shoploop.store import (
    INTENT_CONFIRMED,
    INTENT_FAILED,
    INTENT_INTERRUPTED,
    INTENT_PENDING,
    SyncBatch,
    SyncChangeRecord,
    bind_identities,
    one_of,
    resolve_external_ids,
    resolve_internal_ids,
    table,
    upsert_insert,
    utcnow,
)

from ._settings import CUSTOMER_FIELDS

CUSTOMER = "customer"
# The intent batches (record_intent, settle_batch, interrupt_pending) are the store's, shared
# with ``reco publish``; each job resumes only its own kind.
PENDING, CONFIRMED = INTENT_PENDING, INTENT_CONFIRMED
INTERRUPTED, FAILED = INTENT_INTERRUPTED, INTENT_FAILED
_CHUNK = 500


@dataclass(slots=True)
class MirroredCustomer:
    external_id: str
    data: dict[str, Any]
    updated_at: datetime | None


_KEPT = frozenset((*CUSTOMER_FIELDS, "attributes"))


def _slim(data: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a mirrored record the sync reads (``CUSTOMER_FIELDS`` and attributes), keys
    interned: three sides of 100k full records (addresses, nulls, a key string per record)
    held over 1 GB. Absent and null read the same through ``.get``."""
    slim: dict[str, Any] = {}
    for key, value in data.items():
        if value is None or key not in _KEPT:
            continue
        if key == "attributes" and isinstance(value, dict):
            value = {sys.intern(k): v for k, v in value.items()}
        slim[sys.intern(key)] = value
    return slim


def bind_many(session: Session, rows: Sequence[tuple[str, str, str]]) -> None:
    """Store (connection, external id, internal id) customer bindings the planner checked
    against the loaded bindings (:func:`shoploop.store.bind_identities`: one already stored
    as given is skipped — the targets' planners each commit the master bindings they rely on;
    a clash with a concurrent job rolls the whole transaction back)."""
    bind_identities(session, CUSTOMER, rows)


def customer_chunks(store: Any, connection: str, size: int,
                    ) -> Iterator[list[MirroredCustomer]]:
    """The mirror's customers of ``connection`` (slimmed), ``size`` at a time in external-id
    order; each chunk in a short transaction of its own (keyset paging), so a long run holds
    neither every record nor an open read transaction."""
    customers = table("customers")
    last: str | None = None
    while True:
        query = select(customers.c.external_id, customers.c.data,
                       customers.c.source_updated_at).where(
            customers.c.connection == connection)
        if last is not None:
            query = query.where(customers.c.external_id > last)
        with store.session() as session:
            rows = session.execute(query.order_by(customers.c.external_id).limit(size)).all()
        if not rows:
            return
        yield [MirroredCustomer(ext, _slim(data), updated) for ext, data, updated in rows]
        last = rows[-1][0]


def customers_of(session: Session, connection: str,
                 external_ids: Iterable[str]) -> dict[str, MirroredCustomer]:
    """The given customers of ``connection`` from the mirror, slimmed."""
    customers = table("customers")
    found: dict[str, MirroredCustomer] = {}
    for chunk in _chunks(external_ids):
        for ext, data, updated in session.execute(
                select(customers.c.external_id, customers.c.data, customers.c.source_updated_at)
                .where(customers.c.connection == connection,
                       one_of(session, customers.c.external_id, chunk))):
            found[ext] = MirroredCustomer(ext, _slim(data), updated)
    return found


def bindings_of(session: Session, connection: str,
                external_ids: Iterable[str]) -> dict[str, str]:
    """external id → internal id of the given customers of ``connection`` that are bound."""
    return resolve_internal_ids(session, connection, CUSTOMER, external_ids)


def bound_to(session: Session, connection: str, internal_ids: Iterable[str]) -> dict[str, str]:
    """internal id → external id of ``connection``'s customers bound to the given ids."""
    return resolve_external_ids(session, connection, CUSTOMER, internal_ids)


def sent_of(session: Session, connection: str,
            external_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """external id → {key: value} the target last confirmed, for the given customers."""
    state = table("sync_target_state")
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(external_ids):
        found.update((a, b) for a, b in session.execute(
            select(state.c.external_id, state.c.sent).where(
                state.c.connection == connection,
                one_of(session, state.c.external_id, chunk))))
    return found


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    values = list(dict.fromkeys(values))
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def merge_sent(session: Session, connection: str, run_id: str,
               values: Mapping[str, Mapping[str, Any]]) -> None:
    """Record what the target now holds: the given {key: value} of each customer merged into
    its confirmed state (read and written in the caller's transaction)."""
    if not values:
        return
    current = sent_of(session, connection, values)
    now = utcnow()
    insert = upsert_insert(session, table("sync_target_state"))
    statement = insert.on_conflict_do_update(
        index_elements=["connection", "external_id"],
        set_={"sent": insert.excluded.sent, "run_id": insert.excluded.run_id,
              "updated_at": insert.excluded.updated_at})
    rows = [{"connection": connection, "external_id": ext,
             "sent": {**current.get(ext, {}), **new}, "run_id": run_id, "updated_at": now}
            for ext, new in values.items()]
    for start in range(0, len(rows), _CHUNK):
        session.execute(statement, rows[start:start + _CHUNK])


def patch_mirror(session: Session, connection: str,
                 attributes: Mapping[str, Mapping[str, Any]]) -> None:
    """Store the target's new values (external id → {key: value}) in the attributes of the
    mirror's copy, so the next run compares against what the target holds now, not what it
    held when it was last read. Read and merged here, in the caller's transaction: the job
    holds slimmed records only (:func:`customer_chunks`)."""
    if not attributes:
        return
    mirror = table("customers")
    current = {ext: data for ext, data in session.execute(
        select(mirror.c.external_id, mirror.c.data).where(
            mirror.c.connection == connection, mirror.c.external_id.in_(list(attributes)))
        .with_for_update())}
    rows = []
    for ext, values in attributes.items():
        data = dict(current.get(ext) or {})
        if not data:
            continue  # erased or never mirrored: nothing to patch
        data["attributes"] = {**(data.get("attributes") or {}), **values}
        rows.append({"b_connection": connection, "b_external_id": ext, "b_data": data})
    if not rows:
        return
    statement = update(mirror).where(and_(
        mirror.c.connection == bindparam("b_connection"),
        mirror.c.external_id == bindparam("b_external_id"))).values(data=bindparam("b_data"))
    session.connection().execute(statement, rows)


def record_changes(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    now = utcnow()
    insert = table("sync_changes").insert()
    prepared = [{"customer_external_id": None, "source_external_id": None, "attr_key": None,
                 "old": None, "new": None, "message": "", "batch_id": None, "recorded_at": now,
                 **row} for row in rows]
    for start in range(0, len(prepared), 2000):
        session.execute(insert, prepared[start:start + 2000])


def changes_of_run(session: Session, run_id: str, *, status: str | None = None,
                   limit: int | None = None) -> list[SyncChangeRecord]:
    query = select(SyncChangeRecord).where(SyncChangeRecord.run_id == run_id)
    if status is not None:
        query = query.where(SyncChangeRecord.status == status)
    query = query.order_by(SyncChangeRecord.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def batches_of_run(session: Session, run_id: str) -> list[SyncBatch]:
    return list(session.scalars(select(SyncBatch).where(SyncBatch.run_id == run_id)
                                .order_by(SyncBatch.id)))


def change_counts(session: Session, run_id: str) -> list[tuple[str, str | None, str, int]]:
    """(target connection, attribute, status, count) of one run's audit rows, grouped in the
    database — a run of 100k changes is counted without reading its rows."""
    rows = session.execute(
        select(SyncChangeRecord.connection, SyncChangeRecord.attr_key, SyncChangeRecord.status,
               func.count())
        .where(SyncChangeRecord.run_id == run_id)
        .group_by(SyncChangeRecord.connection, SyncChangeRecord.attr_key,
                  SyncChangeRecord.status)
        .order_by(SyncChangeRecord.connection, SyncChangeRecord.attr_key,
                  SyncChangeRecord.status))
    return [(str(c), a, str(s), int(n)) for c, a, s, n in rows]
