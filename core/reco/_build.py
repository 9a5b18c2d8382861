"""The model build: a plain function over (host, store, settings, clock).

The CLI (``shoploop reco build``), a scheduler or a Celery task call the same function: read
the mirror into one pool, fit the built-in strategies' statistics, store the model as the next
version (keeping the newest ``keep_models``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shoploop._plugins import PluginHost
from shoploop.store import Store, save_reco_model

from ._cooccurrence import fit_bought_together
from ._installed import fit_installed_base
from ._intervals import Intervals, fit_intervals
from ._model import FORMAT, Model
from ._pool import Pool, load_pool
from ._purchase_days import PurchaseDays, purchase_days
from ._purchases import Purchases, fit_purchases
from ._repeats import Repeats, fit_repeats
from ._segments import fit_segments
from ._settings import RecoSettings
from ._upsell import fit_upsells

log = logging.getLogger("shoploop.reco")

Clock = Callable[[], datetime]
Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as each of the build's steps finishes."""

STEPS = ("read the order history", "bought together", "purchase intervals", "store the model")


@dataclass(frozen=True)
class BuildResult:
    version: int
    model: Model
    summary: dict[str, Any]


def _fit_lines(pool: Pool, settings: RecoSettings
               ) -> tuple[PurchaseDays, Intervals, Purchases, Repeats]:
    # One sort of the lines into (customer, product, day) purchases feeds the intervals, who
    # bought what (the already-bought rule), buy again's timing and the segments' buyers.
    days = purchase_days(pool.order_customer, pool.order_day, pool.line_order,
                         pool.line_product, pool.n_products)
    intervals = fit_intervals(days, len(pool.customer_ids), min_repeats=settings.min_repeats)
    purchases = fit_purchases(days, len(pool.customer_ids))
    # Every product each customer bought, with timing learned from the history (buy again).
    repeats = fit_repeats(days, pool.order_customer, pool.order_day, len(pool.customer_ids),
                          pool.n_products)
    return days, intervals, purchases, repeats


def fit_model(pool: Pool, settings: RecoSettings, clock: Clock, *,
              done: Callable[[int, float], None] | None = None) -> Model:
    """Fit every statistic of the model on ``pool`` — a pure function of its arguments, no
    store: ``build_model`` calls it on the whole mirror, the evaluation on a training part
    of it. ``done(step, began)`` is told as each of the fitting :data:`STEPS` finishes."""
    began = time.perf_counter()
    neighbours = fit_bought_together(pool.line_order, pool.line_product, pool.n_products,
                                     min_support=settings.min_support,
                                     min_llr=settings.min_llr,
                                     neighbours=settings.neighbours)
    if done is not None:
        done(1, began)
    began = time.perf_counter()
    days, intervals, purchases, repeats = _fit_lines(pool, settings)
    if done is not None:
        done(2, began)
    upsell = fit_upsells(pool.product_records, family=settings.upsell_family,
                         min_ratio=settings.upsell_min_ratio,
                         max_ratio=settings.upsell_max_ratio,
                         alternatives=settings.upsell_alternatives,
                         ignore=settings.upsell_ignore)
    segments = fit_segments(pool.segments, pool.customer_ids, pool.customer_members, days,
                            pool.n_products,
                            prior=settings.segment_prior,
                            min_buyers=settings.segment_min_buyers,
                            keep=settings.segment_products)
    installed = fit_installed_base(pool.equipment, pool.product_keys, pool.product_members,
                                   pool.product_records, fits=settings.spare_part_fits,
                                   service_categories=settings.service_categories,
                                   interval_attribute=settings.service_interval_attribute)
    summary: dict[str, Any] = {
        "pool": pool.report.as_dict(),
        "bought_together": {"orders": neighbours.orders, "pairs": len(neighbours.partner),
                            "products_with_partners": int(
                                (neighbours.indptr[1:] > neighbours.indptr[:-1]).sum())},
        "intervals": {"repeat_purchases": len(intervals.product),
                      "customers": int((intervals.indptr[1:] > intervals.indptr[:-1]).sum())},
        "repeats": {"purchases": len(repeats.product),
                    "repurchased_products": int(repeats.repurchased.sum()),
                    # The learned timing factors (docs/recommendations.md, Buy again).
                    "timing_own_interval": [round(float(f), 3) for f in repeats.timing_own],
                    "timing_usual_gap": [round(float(f), 3) for f in repeats.timing_usual]},
        "upsell": {"products_with_upsells": sum(len(m) for m in upsell.values())},
        "segments": {"segments": len(segments.labels),
                     "segments_with_products": int(
                         (segments.indptr[1:] > segments.indptr[:-1]).sum()),
                     "customers": segments.customers},
        "installed_base": {"equipment": len(installed.product),
                           "with_interval": int((installed.interval_days > 0).sum()),
                           "machines_with_parts": int(
                               (installed.parts_indptr[1:] > installed.parts_indptr[:-1]).sum())},
    }
    return Model(built_at=clock(), product_keys=pool.product_keys,
                 product_members=pool.product_members, product_records=pool.product_records,
                 customer_ids=pool.customer_ids, customer_members=pool.customer_members,
                 bought_together=neighbours, intervals=intervals,
                 settings=settings.model_dump(mode="json"), summary=summary,
                 upsell=upsell, segments=segments, installed_base=installed,
                 purchases=purchases, repeats=repeats)


def build_model(host: PluginHost, store: Store, settings: RecoSettings, clock: Clock, *,
                progress: Progress | None = None) -> BuildResult:
    """Build a model from the store's mirror and store it as the next version.

    ``host`` names the strategies that will answer from it (in the summary); ``clock`` gives
    the build's time (tests pass a fixed one)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def done(step: int, began: float) -> None:
        timings[STEPS[step]] = round(time.perf_counter() - began, 3)
        if progress is not None:
            progress(STEPS[step], step + 1, len(STEPS))

    began = time.perf_counter()
    pool = load_pool(store, settings)
    done(0, began)
    model = fit_model(pool, settings, clock, done=done)
    summary = model.summary
    summary["strategies"] = sorted({impl.plugin_name for impl in
                                    host.pm.hook.recommendation_candidates.get_hookimpls()})
    summary["rules"] = sorted({impl.plugin_name for impl in
                               host.pm.hook.recommendation_patches.get_hookimpls()})
    began = time.perf_counter()
    payload = model.to_bytes()
    with store.session() as session:
        model.version = save_reco_model(session, payload=payload, built_at=model.built_at,
                                        format=FORMAT, summary=summary,
                                        keep=settings.keep_models)
    done(3, began)
    summary.update(version=model.version, built_at=model.built_at.isoformat(),
                   bytes=len(payload), seconds=round(time.perf_counter() - started, 3),
                   timings=timings)
    log.info("built recommendation model %d: %d products, %d orders, %d pairs",
             model.version, pool.n_products, pool.n_orders, len(model.bought_together.partner))
    return BuildResult(version=model.version, model=model, summary=summary)
