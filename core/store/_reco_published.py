"""What ``reco publish`` last had confirmed per product: the comparison base of the next run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._dialect import one_of, upsert_insert
from ._schema import table
from ._types import utcnow

_CHUNK = 500


def published_lists(session: Session, connection: str,
                    product_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """product id → {native field: [product ids]} last confirmed for ``connection``'s given
    products (absent: never published)."""
    published = table("reco_published")
    ids = list(dict.fromkeys(product_ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        found.update((p, dict(lists)) for p, lists in session.execute(
            select(published.c.product_external_id, published.c.lists).where(
                published.c.connection == connection,
                one_of(session, published.c.product_external_id,
                       ids[start:start + _CHUNK]))))
    return found


def record_published(session: Session, connection: str, run_id: str,
                     lists: Mapping[str, Mapping[str, Any]]) -> None:
    """Record product id → {field: [ids]} as what ``connection`` now holds (in the caller's
    transaction, with the batch that wrote it)."""
    if not lists:
        return
    insert = upsert_insert(session, table("reco_published"))
    statement = insert.on_conflict_do_update(
        index_elements=["connection", "product_external_id"],
        set_={"lists": insert.excluded.lists, "run_id": insert.excluded.run_id,
              "published_at": insert.excluded.published_at})
    now = utcnow()
    session.execute(statement, [
        {"connection": connection, "product_external_id": product_id, "lists": dict(fields),
         "run_id": run_id, "published_at": now} for product_id, fields in lists.items()])
