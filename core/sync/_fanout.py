"""What a fanned-out sync does once, before its per-target lanes: bind the masters' customers.

A run binds a master customer to a new internal id when it first matches it in a target. Two
lanes (runs of different targets, side by side on Celery workers) meeting the same new master
customer would each make an id, and the second commit would fail on the unique binding (its
chunk rolled back, the lane retried). So the fan-out gives every mirrored master customer
without one its internal id first, after the masters' imports; the lanes then find them stored
and bind only their own target's customers. Binding again binds nothing: a redelivered
fan-out repeats this harmlessly.
"""

from __future__ import annotations

import uuid
from typing import Any

from ._lock import exclusive_binding
from ._mapping import SyncMapping
from ._settings import DERIVED
from ._state import bind_many, bindings_of, customer_chunks

CHUNK = 5000
"""Master customers bound per transaction."""


def bind_masters(store: Any, mapping: SyncMapping) -> dict[str, int]:
    """Give each mirrored customer of ``mapping``'s connection masters that has no internal
    id one; per master, how many were bound now (0 once all are)."""
    bound: dict[str, int] = {}
    with exclusive_binding(store):
        for master in mapping.masters:
            if master == DERIVED:
                continue
            bound[master] = 0
            for records in customer_chunks(store, master, CHUNK):
                exts = [record.external_id for record in records]
                with store.session() as session:
                    known = bindings_of(session, master, exts)
                    new = [(master, ext, uuid.uuid4().hex) for ext in exts if ext not in known]
                    bind_many(session, new)
                bound[master] += len(new)
    return bound
