"""Record digests: what a connector last delivered of each record of a full-scan stream.

A platform that cannot filter a list by modification (WooCommerce's ``/customers``) is scanned
whole every time, and the connector delivers only the records whose digest differs from the one
stored here. The connector saves a page's digests once the caller has taken the page — when the
caller passes that page's cursor back — so a crash before the caller committed the page
re-delivers it, and nothing is lost (``docs/woocommerce.md``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._dialect import one_of, upsert_insert
from ._schema import table
from ._store import Store

_CHUNK = 500


def load_record_digests(session: Session, connection: str, stream: str,
                        external_ids: Collection[str]) -> dict[str, str]:
    """external id → stored digest, for those of ``external_ids`` that have one."""
    digests = table("record_digests")
    ids = list(dict.fromkeys(external_ids))
    found: dict[str, str] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(digests.c.external_id, digests.c.digest).where(
                digests.c.connection == connection, digests.c.stream == stream,
                one_of(session, digests.c.external_id, ids[start:start + _CHUNK])))
        found.update((external_id, digest) for external_id, digest in rows)
    return found


def save_record_digests(session: Session, connection: str, stream: str,
                        digests: Mapping[str, str]) -> None:
    """Store external id → digest (insert or replace), in the caller's transaction."""
    if not digests:
        return
    insert = upsert_insert(session, table("record_digests"))
    statement = insert.on_conflict_do_update(
        index_elements=["connection", "stream", "external_id"],
        set_={"digest": insert.excluded.digest})
    session.execute(statement, [
        {"connection": connection, "stream": stream, "external_id": external_id,
         "digest": digest} for external_id, digest in digests.items()])


class StoredRecordDigests:
    """:class:`shoploop.hooks.RecordDigests` of one connection, in ``store`` (each call its own
    short transaction: connectors call it between their requests, not inside the mirror's)."""

    def __init__(self, store: Store, connection: str) -> None:
        self.store, self.connection = store, connection

    def __repr__(self) -> str:
        return f"StoredRecordDigests({self.connection!r})"

    def get(self, stream: str, external_ids: Collection[str]) -> dict[str, str]:
        with self.store.session() as session:
            return load_record_digests(session, self.connection, stream, external_ids)

    def put(self, stream: str, digests: Mapping[str, str]) -> None:
        with self.store.session() as session:
            save_record_digests(session, self.connection, stream, digests)
