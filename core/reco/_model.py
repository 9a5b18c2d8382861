"""``Model``: a built recommendation model, in memory, and its compact stored form.

Everything a lookup needs is in here — the unified products and their ids per connection,
each connection's product records (the :class:`ProductTable` strategies look products up
in), the customers' ids per connection, and the strategies' statistics — so serving a
request never goes to the store. Stored as one blob: ``numpy.savez_compressed`` of the arrays
plus one JSON document of the id maps (no pickle: a stored model is data, never code).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from ._cooccurrence import Neighbours
from ._installed import InstalledBase
from ._intervals import Intervals
from ._lookup import ProductTable
from ._purchases import Purchases
from ._repeats import Repeats
from ._segments import SegmentPopularity
from ._upsell import Upsells

FORMAT = 1
"""The blob's format; a model of another format is rebuilt, never misread."""


@dataclass
class Model:
    """A built model. ``version`` is the store's (0 before it is saved)."""

    built_at: datetime
    product_keys: list[str]
    product_members: list[dict[str, list[str]]]
    product_records: dict[str, dict[str, dict[str, Any]]]
    customer_ids: list[str]
    customer_members: list[dict[str, str]]
    bought_together: Neighbours
    intervals: Intervals
    settings: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    upsell: Upsells = field(default_factory=dict)
    """connection → product id → premium alternatives (``_upsell``)."""
    segments: SegmentPopularity | None = None
    """What each customer segment buys (``_segments``); None in models built before it."""
    installed_base: InstalledBase | None = None
    """The ERP's installed base and the parts fitting each machine (``_installed``)."""
    purchases: Purchases | None = None
    """Who bought what (the *already bought* rule); None in a model stored without it."""
    repeats: Repeats | None = None
    """Per customer, every product bought, with the learned timing (*buy again*)."""
    _by_external: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _customer_by_external: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _tables: dict[str, ProductTable] = field(default_factory=dict, repr=False)
    _in_most_orders: list[int] | None = field(default=None, repr=False)
    _ids_in: dict[str, tuple[list[str | None], Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for index, members in enumerate(self.product_members):
            for connection, ids in members.items():
                for external_id in ids:
                    self._by_external[(connection, external_id)] = index
        for index, customer in enumerate(self.customer_members):
            for connection, external_id in customer.items():
                self._customer_by_external[(connection, external_id)] = index

    # -- lookups ------------------------------------------------------------------------------

    @property
    def connections(self) -> list[str]:
        """Connections with products in the model."""
        return sorted(self.product_records)

    def products(self, connection: str) -> ProductTable:
        """The product lookup of ``connection`` (empty for a connection without products)."""
        table = self._tables.get(connection)
        if table is None:
            table = self._tables[connection] = ProductTable(
                connection, records=self.product_records.get(connection, {}))
        return table

    def product_index(self, connection: str, product_id: str) -> int | None:
        return self._by_external.get((connection, product_id))

    def product_id(self, index: int, connection: str) -> str | None:
        """The product's id in ``connection``, or None when that connection does not sell it.
        Of several products with one key there, the first id."""
        ids = self.product_members[index].get(connection)
        return ids[0] if ids else None

    def ids_in(self, connection: str) -> tuple[list[str | None], Any]:
        """Per product index its id in ``connection`` (:meth:`product_id`) and a boolean
        array of the products it sells: built once per connection, so a lookup maps its
        candidates without a dict lookup per product."""
        found = self._ids_in.get(connection)
        if found is None:
            ids = [self.product_id(index, connection) for index in range(len(self.product_members))]
            sold = np.fromiter((i is not None for i in ids), dtype=bool, count=len(ids))
            found = self._ids_in[connection] = (ids, sold)
        return found

    def product_name(self, index: int, connection: str) -> str:
        """A name for reasons: the connection's own, else any connection's, else the key."""
        own = self.product_id(index, connection)
        if own is not None:
            return str(self.product_records[connection][own].get("name") or own)
        for other, ids in self.product_members[index].items():
            return str(self.product_records[other][ids[0]].get("name") or ids[0])
        return self.product_keys[index]

    def in_most_orders(self, limit: int) -> list[int]:
        """The products in the most orders, best first (ties by index); computed once."""
        if self._in_most_orders is None:
            counts = self.bought_together.orders_with
            ranked = np.lexsort((np.arange(len(counts)), -counts.astype(np.int64)))
            self._in_most_orders = ranked[counts[ranked] > 0].tolist()
        return self._in_most_orders[:limit]

    def customer_index(self, connection: str, customer_id: str) -> int | None:
        return self._customer_by_external.get((connection, customer_id))

    # -- stored form --------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        maps = {
            "built_at": self.built_at.isoformat(), "product_keys": self.product_keys,
            "product_members": self.product_members, "product_records": self.product_records,
            "customer_ids": self.customer_ids, "customer_members": self.customer_members,
            "settings": self.settings, "summary": self.summary,
            "bought_together_orders": self.bought_together.orders,
            "upsell": self.upsell,
        }
        if self.segments is not None:
            maps["segments"] = {"labels": self.segments.labels,
                                "customers": self.segments.customers,
                                "by_external": self.segments.by_external}
        if self.installed_base is not None:
            maps["installed_base"] = {"by_external": self.installed_base.by_external}
        if self.repeats is not None:
            maps["repeats"] = {"usual_gap": self.repeats.usual_gap}
        arrays: dict[str, Any] = {
            "maps": np.frombuffer(json.dumps(maps, separators=(",", ":"), default=str)
                                  .encode(), dtype=np.uint8)}
        tables: list[tuple[str, Any]] = [("bt", self.bought_together), ("iv", self.intervals)]
        if self.segments is not None:
            tables.append(("sg", self.segments))
        if self.installed_base is not None:
            tables.append(("ib", self.installed_base))
        if self.purchases is not None:
            tables.append(("pu", self.purchases))
        if self.repeats is not None:
            tables.append(("rp", self.repeats))
        for prefix, table in tables:
            for name, value in vars(table).items():
                if isinstance(value, np.ndarray):
                    arrays[f"{prefix}_{name}"] = value
        out = io.BytesIO()
        np.savez_compressed(out, allow_pickle=False, **arrays)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes, *, version: int = 0) -> Model:
        with np.load(io.BytesIO(payload), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        maps = json.loads(arrays.pop("maps").tobytes())

        def table(prefix: str) -> dict[str, Any]:
            return {name.removeprefix(prefix): value for name, value in arrays.items()
                    if name.startswith(prefix)}

        segments = maps.get("segments")
        installed = maps.get("installed_base")
        repeats = maps.get("repeats")
        return cls(
            built_at=datetime.fromisoformat(maps["built_at"]),
            product_keys=maps["product_keys"], product_members=maps["product_members"],
            product_records=maps["product_records"], customer_ids=maps["customer_ids"],
            customer_members=maps["customer_members"],
            bought_together=Neighbours(orders=int(maps["bought_together_orders"]),
                                       **table("bt_")),
            intervals=Intervals(**table("iv_")), settings=maps["settings"],
            summary=maps["summary"], version=version, upsell=maps.get("upsell", {}),
            segments=None if segments is None else SegmentPopularity(**segments,
                                                                     **table("sg_")),
            installed_base=None if installed is None else InstalledBase(**installed,
                                                                        **table("ib_")),
            purchases=Purchases(**table("pu_")) if "pu_indptr" in arrays else None,
            repeats=None if repeats is None else Repeats(**repeats, **table("rp_")),
        )
