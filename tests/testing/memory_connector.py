"""An in-memory connector that honours the contract, and broken variants of it.

The conformance kit's own tests run the kit against these through ``pytester``: the correct one
must pass every test, each broken one must make the kit report the failure it was built to
show. The module is copied into pytester's directory, so it imports only shoploop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shoploop.hooks import (
    AttributeChange,
    BatchLimitError,
    Capability,
    ConnectionCheck,
    Cursor,
    IssuedReward,
    Page,
    RevokedReward,
    RewardSpec,
    UnreachableError,
    WriteResult,
    WriteStatus,
)
from shoploop.testing import ConformanceDataset

CAPABILITIES = frozenset({
    Capability.READ_CUSTOMERS, Capability.READ_ORDERS, Capability.READ_PRODUCTS,
    Capability.READ_INSTALLED_BASE, Capability.WRITE_CUSTOMER_ATTRIBUTES,
    Capability.ISSUE_REWARDS,
})


class MemoryConnector:
    """Serves a dataset from memory. Cursor: ``index`` of the next record to look at, ``since``
    (emit only records updated later) and ``seen`` (the latest ``updated_at`` so far)."""

    step_back = 0  # broken variants: re-deliver (1) or skip (-1) a record at page boundaries

    def __init__(self, name: str, dataset: ConformanceDataset | None, *, page_size: int = 10,
                 attribute_batch_size: int = 25) -> None:
        self.name = name
        self.dataset = dataset
        self.page_size = page_size
        self.attribute_batch_size = attribute_batch_size
        self.written: dict[tuple[str, str], Any] = {}
        self.rewards: dict[str, IssuedReward] = {}
        self.revoked: set[str] = set()
        self.issued = 0

    # -- basics -------------------------------------------------------------------------------

    def check(self) -> ConnectionCheck:
        if self.dataset is None:
            return ConnectionCheck(reachable=False, authorised=False, detail="no dataset")
        return ConnectionCheck(reachable=True, authorised=True)

    def close(self) -> None:
        return None

    def _source(self, operation: str) -> ConformanceDataset:
        if self.dataset is None:
            raise UnreachableError("the memory is gone", connection=self.name,
                                   operation=operation)
        return self.dataset

    # -- reads --------------------------------------------------------------------------------

    def _page(self, stream: str, cursor: Cursor | None) -> Page[Any]:
        records = self._source(f"read_{stream}").records(stream)
        position = cursor.position if cursor else {}
        since = _parse(position.get("since"))
        seen = _parse(position.get("seen")) or since
        index = int(position.get("index", 0))
        matching = [i for i in range(index, len(records))
                    if since is None or _stamp(records[i]) > since]
        taken = matching[:self.page_size]
        for i in taken:
            stamp = _stamp(records[i])
            seen = stamp if seen is None or stamp > seen else seen
        items = [records[i] for i in taken]
        rest = matching[self.page_size:]
        if rest:
            next_index = max(0, rest[0] - self.step_back)
            state = {"index": next_index, "since": _iso(since), "seen": _iso(seen)}
            return Page(items=items, cursor=Cursor(stream=stream, position=state), has_more=True)
        checkpoint = self.checkpoint(seen)
        return Page(items=items, cursor=Cursor(stream=stream, position=checkpoint),
                    has_more=False)

    def checkpoint(self, seen: datetime | None) -> dict[str, Any]:
        return {"index": 0, "since": _iso(seen), "seen": _iso(seen)}

    def read_customers(self, cursor: Cursor | None = None) -> Page[Any]:
        return self._page("customers", cursor)

    def read_orders(self, cursor: Cursor | None = None) -> Page[Any]:
        return self._page("orders", cursor)

    def read_products(self, cursor: Cursor | None = None) -> Page[Any]:
        return self._page("products", cursor)

    def read_installed_base(self, cursor: Cursor | None = None) -> Page[Any]:
        return self._page("installed_base", cursor)

    # -- writes -------------------------------------------------------------------------------

    def check_batch(self, changes: Sequence[AttributeChange]) -> None:
        if len(changes) > self.attribute_batch_size:
            raise BatchLimitError(f"{len(changes)} changes > {self.attribute_batch_size}",
                                  connection=self.name, operation="write_customer_attributes")

    def write_customer_attributes(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        self._source("write_customer_attributes")
        self.check_batch(changes)
        results = []
        for change in changes:
            pair = (change.customer_id, change.key)
            unchanged = pair in self.written and self.written[pair] == change.new
            self.written[pair] = change.new
            results.append(WriteResult(customer_id=change.customer_id, key=change.key,
                                       status=self.status(unchanged)))
        return results

    def status(self, unchanged: bool) -> WriteStatus:
        return WriteStatus.UNCHANGED if unchanged else WriteStatus.WRITTEN

    def issue_reward(self, spec: RewardSpec) -> IssuedReward:
        self._source("issue_reward")
        if spec.idempotency_key not in self.rewards:
            self.issued += 1
            self.rewards[spec.idempotency_key] = IssuedReward(
                idempotency_key=spec.idempotency_key, kind=spec.kind,
                reference=f"GIFT-{self.issued:04d}", connection=self.name)
        return self.rewards[spec.idempotency_key]

    def find_reward(self, idempotency_key: str) -> IssuedReward | None:
        self._source("find_reward")
        return self.rewards.get(idempotency_key)

    def revoke_reward(self, idempotency_key: str) -> RevokedReward:
        self._source("revoke_reward")
        if idempotency_key not in self.rewards:
            return RevokedReward(idempotency_key=idempotency_key, outcome="gone")
        self.revoked.add(idempotency_key)
        return RevokedReward(idempotency_key=idempotency_key, outcome="revoked",
                             reference=self.rewards[idempotency_key].reference)


def _stamp(record: BaseModel) -> datetime:
    stamp = getattr(record, "updated_at", None)
    assert isinstance(stamp, datetime)
    return stamp


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# -- broken variants, each breaking one promise ----------------------------------------------


class DuplicatesAtPageBoundary(MemoryConnector):
    step_back = 1


class LosesAtPageBoundary(MemoryConnector):
    step_back = -1


class IgnoresBatchLimit(MemoryConnector):
    def check_batch(self, changes: Sequence[AttributeChange]) -> None:
        return None


class NotIdempotent(MemoryConnector):
    def status(self, unchanged: bool) -> WriteStatus:
        return WriteStatus.WRITTEN


class RaisesRawOSError(MemoryConnector):
    def _source(self, operation: str) -> ConformanceDataset:
        if self.dataset is None:
            raise OSError(111, "Connection refused")
        return self.dataset


class CheckpointRestartsFromScratch(MemoryConnector):
    def checkpoint(self, seen: datetime | None) -> dict[str, Any]:
        return {"index": 0}


class TrailingEmptyPage(MemoryConnector):
    """Says has_more=True on the last full page and then returns an empty page, like paging
    APIs that cannot know the end in advance."""

    def _page(self, stream: str, cursor: Cursor | None) -> Page[Any]:
        if cursor is not None and cursor.position.get("drained"):
            return Page(items=[], cursor=Cursor(stream=stream, position=self.checkpoint(
                _parse(cursor.position.get("seen")))), has_more=False)
        page = super()._page(stream, cursor)
        if page.has_more or not page.items:
            return page
        position = {**page.cursor.position, "drained": True}
        return Page(items=page.items, cursor=Cursor(stream=stream, position=position),
                    has_more=True)


class ReissuesRewards(MemoryConnector):
    def issue_reward(self, spec: RewardSpec) -> IssuedReward:
        self.rewards.pop(spec.idempotency_key, None)
        return super().issue_reward(spec)


class RevokesOnlyOnce(MemoryConnector):
    """Forgets that it revoked: a repeated revoke reports the reward as used."""

    def revoke_reward(self, idempotency_key: str) -> RevokedReward:
        if idempotency_key in self.revoked:
            return RevokedReward(idempotency_key=idempotency_key, outcome="redeemed")
        return super().revoke_reward(idempotency_key)


FLAVOURS: dict[str, type[MemoryConnector]] = {
    cls.__name__: cls for cls in (
        MemoryConnector, DuplicatesAtPageBoundary, LosesAtPageBoundary, IgnoresBatchLimit,
        NotIdempotent, RaisesRawOSError, CheckpointRestartsFromScratch, TrailingEmptyPage,
        ReissuesRewards, RevokesOnlyOnce,
    )
}
