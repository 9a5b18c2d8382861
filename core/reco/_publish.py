"""``reco publish``: every product's recommendations into its platform's own fields.

For each target connection and each of its products in the newest model, the lookup API
(:func:`shoploop.reco.recommend`, placement ``product_page``) gives the recommendations and
the connector says which native fields they fill (``recommendation_fields``: WooCommerce
``cross_sell_ids`` / ``upsell_ids``, Shopify's ``complementary_products`` /
``related_products``).

**Only changed lists are written.** The comparison base is what shoploop last had confirmed
for the product (``reco_published``), not the mirror: the mirror is as old as the last import
(and does not hold Shopify's metafields at all), while the confirmed lists are exactly what the
platform was left holding by us. Only for a product shoploop never published does the mirror
stand in (WooCommerce's import carries ``upsell_ids`` / ``cross_sell_ids``): lists already
there are not counted as changes, and the dry run shows what a first publish replaces. A list
someone edits by hand on the platform after shoploop published it is therefore not
overwritten until our list for that product changes. Each connector compares with what the
product holds before it writes, so a list that is already there is ``unchanged``, not written.

**One run at a time.** A publishing run holds the store's lock for ``reco publish``
(:func:`shoploop.store.exclusive_lock`, freed when the process dies), so a pending batch it
finds was left by a dead run, not by one still sending.

**Never twice, resumable.** Changed products go out in the connector's batches through the
store's intent batches (``kind="reco_publish"``, the mechanism the sync uses): a batch is
``pending`` before it is sent; its outcome and the confirmed lists commit in one transaction.
A run that dies leaves its batch pending; the next run marks it interrupted and, since those
products' confirmed lists did not change, plans them again — the connector then finds a list
that did land and writes it no second time.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shoploop._plugins import PluginHost
from shoploop.hooks import (
    AuthError,
    Capability,
    ConnectorError,
    HookContext,
    PublishesRecommendationLists,
    PublishResult,
    Recommendation,
    RecommendationRequest,
    ShoploopError,
    UnreachableError,
    WriteStatus,
)
from shoploop.store import (
    FAILED,
    INTENT_CONFIRMED,
    INTENT_FAILED,
    INTERRUPTED,
    SUCCEEDED,
    Store,
    close_stale_runs,
    exclusive_lock,
    finish_run,
    interrupt_pending,
    live_run,
    new_run_id,
    published_lists,
    record_intent,
    record_published,
    settle_batch,
    start_run,
)

from ._api import rank
from ._model import Model

log = logging.getLogger("shoploop.reco")

JOB = "reco.publish"
KIND = "reco_publish"
"""The intent batches' kind (``sync_batches.kind``)."""
PUBLISHED_PER_PRODUCT = 10
"""Recommendations looked up per product (Shopify's storefront shows at most 10 per list)."""
FALLBACK_FIELD = "recommendations"
"""The one list of a connector that only implements ``publish_recommendations``."""
KEPT_FAILURES = 20
_PG_PUBLISH_LOCK = 0x5B05C02  # int4, beside the sync's 0x5B05C01


class PublishRunning(ShoploopError):
    """Another ``reco publish`` holds the store's publishing lock."""

    error_code = "reco_publish_running"


class PublishTargetError(ShoploopError):
    """A named target cannot be published to."""

    error_code = "reco_publish_target"
    exit_code = 2


@dataclass
class PublishOptions:
    dry_run: bool = False
    targets: Sequence[str] | None = None
    """Connection names; default: every connection that publishes and has products."""


@dataclass
class TargetReport:
    counts: Counter[str] = field(default_factory=Counter)
    """products, changed, written, unchanged, failed, batches, resumed_batches."""
    failures: list[dict[str, str]] = field(default_factory=list)


@dataclass
class PublishReport:
    run_id: str | None
    dry_run: bool
    model_version: int
    targets: dict[str, TargetReport] = field(default_factory=dict)
    diff: list[dict[str, Any]] = field(default_factory=list)
    """Dry run only: one row per changed field (connection, product_id, field, old, new)."""

    @property
    def failed(self) -> int:
        return sum(t.counts["failed"] for t in self.targets.values())

    def as_dict(self) -> dict[str, Any]:
        return {"ok": not self.failed, "run_id": self.run_id, "dry_run": self.dry_run,
                "model_version": self.model_version,
                "targets": {name: {**{k: t.counts[k] for k in (
                    "products", "changed", "written", "unchanged", "failed", "batches",
                    "resumed_batches")}, "failures": t.failures}
                    for name, t in self.targets.items()},
                **({"diff": self.diff} if self.dry_run else {})}


@dataclass
class _Planned:
    product_id: str
    lists: dict[str, list[str]]
    recommendations: list[Recommendation]


def choose_targets(model: Model, connections: Any, wanted: Sequence[str] | None) -> list[str]:
    """The target connections: the named ones (each checked), or every connection that can
    publish and has products in the model."""
    publishing = set(connections.with_capability(Capability.PUBLISH_RECOMMENDATIONS))
    if wanted is None:
        return [name for name in model.connections if name in publishing]
    for name in wanted:
        if name not in set(connections):
            raise PublishTargetError(f"no connection {name!r} in the configuration",
                                     remedy="name a [connections.NAME] of the config file")
        if name not in publishing:
            raise PublishTargetError(
                f"connection {name!r} cannot publish recommendations",
                remedy="publish to a shop connection (shopify, woocommerce)")
        if name not in model.connections:
            raise PublishTargetError(
                f"model version {model.version} has no products of connection {name!r}",
                remedy=f"import its products (`shoploop import products {name}`) and run "
                       "`shoploop reco build`")
    return list(dict.fromkeys(wanted))


def publish(host: PluginHost, store: Store, connections: Any, model: Model,
            options: PublishOptions, *, context: HookContext | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> PublishReport:
    """Publish (or, with ``dry_run``, diff) every target's product lists; see the module.
    One publishing run per store at a time (a dry run only reads and takes no lock)."""
    targets = choose_targets(model, connections, options.targets)
    report = PublishReport(None, options.dry_run, model.version,
                           {name: TargetReport() for name in targets})
    if options.dry_run:
        _publish_all(host, store, connections, model, report, targets, context, progress)
        return report
    with exclusive_lock(store, key=_PG_PUBLISH_LOCK, file_suffix="reco-publish-lock",
                        busy=_busy):
        # We hold the lock: a run still marked running, and its pending batches, died.
        close_stale_runs(store, by="a reco publish", jobs=[JOB])
        run_id = new_run_id()
        with live_run(store, run_id):
            _locked_publish(host, store, connections, model, report, targets, context,
                            progress, run_id)
    return report


def _locked_publish(host: PluginHost, store: Store, connections: Any, model: Model,
                    report: PublishReport, targets: Sequence[str],
                    context: HookContext | None,
                    progress: Callable[[str, int, int], None] | None, run_id: str) -> None:
    """The run itself, under the publish lock and its own liveness lock."""
    with store.session() as session:
        report.run_id = start_run(session, JOB, run_id=run_id,
                                  summary={"targets": targets,
                                           "model_version": model.version})
        for batch in interrupt_pending(session, targets, kind=KIND):
            report.targets[batch.connection].counts["resumed_batches"] += 1
    status = FAILED
    try:
        _publish_all(host, store, connections, model, report, targets, context, progress)
        status = SUCCEEDED
    except KeyboardInterrupt:
        status = INTERRUPTED
        raise
    finally:
        with store.session() as session:
            finish_run(session, report.run_id, status=status, summary=report.as_dict())


def _publish_all(host: PluginHost, store: Store, connections: Any, model: Model,
                 report: PublishReport, targets: Sequence[str], context: HookContext | None,
                 progress: Callable[[str, int, int], None] | None) -> None:
    for name in targets:
        _Target(host, store, connections[name], name, model, report, context, progress).run()


def _busy() -> PublishRunning:
    return PublishRunning("another `shoploop reco publish` is running against this store",
                          remedy="wait for it to finish; schedule runs so they do not overlap")


class _Target:
    """One target connection: plan product by product, write full batches as they fill."""

    def __init__(self, host: PluginHost, store: Store, connector: Any, name: str, model: Model,
                 report: PublishReport, context: HookContext | None,
                 progress: Callable[[str, int, int], None] | None) -> None:
        self.host, self.store, self.connector, self.name = host, store, connector, name
        self.model, self.report, self.context, self.progress = model, report, context, progress
        self.target = report.targets[name]
        self.batched = isinstance(connector, PublishesRecommendationLists)
        self.size = max(1, int(connector.publish_batch_size)) if self.batched else 1

    def run(self) -> None:
        product_ids = list(self.model.product_records[self.name])
        pending: list[_Planned] = []
        done = 0
        for chunk in _chunks(product_ids, 500):
            with self.store.session() as session:
                confirmed = published_lists(session, self.name, chunk)
            for product_id in chunk:
                planned = self._plan(product_id)
                self.target.counts["products"] += 1
                old = confirmed.get(product_id) or self._mirrored(product_id, planned.lists)
                if _same(old, planned.lists):
                    continue
                self.target.counts["changed"] += 1
                if self.report.dry_run:
                    self.report.diff.extend(
                        {"connection": self.name, "product_id": product_id, "field": key,
                         "old": list(old.get(key) or []), "new": ids}
                        for key, ids in planned.lists.items()
                        if list(old.get(key) or []) != ids)
                    continue
                pending.append(planned)
                if len(pending) == self.size:
                    self._write(pending)
                    pending = []
            done += len(chunk)
            if self.progress is not None:
                self.progress(self.name, done, len(product_ids))
        if pending:
            self._write(pending)

    def _mirrored(self, product_id: str, lists: Mapping[str, Any]) -> dict[str, Any]:
        """For a product shoploop never published: the lists the platform held when it was
        last imported, where the import carries them (WooCommerce's ``upsell_ids`` /
        ``cross_sell_ids`` are product attributes; Shopify's metafields are not mirrored)."""
        record = self.model.product_records[self.name].get(product_id) or {}
        attributes = record.get("attributes") or {}
        return {key: [str(i) for i in attributes[key]] for key in lists
                if isinstance(attributes.get(key), list)}

    def _plan(self, product_id: str) -> _Planned:
        request = RecommendationRequest(connection=self.name, product_id=product_id,
                                        placement="product_page", k=PUBLISHED_PER_PRODUCT)
        recommendations = rank(self.host, self.model, request,
                               context=self.context).recommendations
        if self.batched:
            lists = {k: [str(i) for i in v] for k, v in
                     self.connector.recommendation_fields(recommendations).items()}
        else:
            lists = {FALLBACK_FIELD: list(dict.fromkeys(r.product_id for r in recommendations))}
        return _Planned(product_id, lists, recommendations)

    def _write(self, batch: Sequence[_Planned]) -> None:
        with self.store.session() as session:
            batch_id = record_intent(session, self.report.run_id or "", self.name,
                                     [{"product": p.product_id, "lists": p.lists}
                                      for p in batch], kind=KIND)
        self.target.counts["batches"] += 1
        try:
            if self.batched:
                results = self.connector.publish_recommendation_lists(
                    {p.product_id: p.lists for p in batch})
            else:
                results = [self.connector.publish_recommendations(p.product_id,
                                                                  p.recommendations)
                           for p in batch]
            if len(results) != len(batch):
                results = [_failed(p.product_id, f"the connector answered {len(results)} "
                                                 f"results for {len(batch)} products")
                           for p in batch]
        except (UnreachableError, AuthError):
            raise  # the batch stays pending: the next run plans it again
        except ConnectorError as exc:
            results = [_failed(p.product_id, str(exc)) for p in batch]
        landed: dict[str, dict[str, list[str]]] = {}
        for planned, result in zip(batch, results, strict=True):
            status = result.status
            self.target.counts[status.value] += 1
            if status in (WriteStatus.WRITTEN, WriteStatus.UNCHANGED):
                landed[planned.product_id] = planned.lists
            elif len(self.target.failures) < KEPT_FAILURES:
                self.target.failures.append({"product_id": planned.product_id,
                                             "message": result.message})
                log.warning("publishing %s product %s failed: %s", self.name,
                            planned.product_id, result.message)
        with self.store.session() as session:
            record_published(session, self.name, self.report.run_id or "", landed)
            settle_batch(session, batch_id, INTENT_FAILED if not landed else INTENT_CONFIRMED)


def _same(old: Mapping[str, Any], new: Mapping[str, list[str]]) -> bool:
    return all(list(old.get(key) or []) == ids for key, ids in new.items())


def _failed(product_id: str, message: str) -> PublishResult:
    return PublishResult(product_id=product_id, status=WriteStatus.FAILED, message=message)


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
