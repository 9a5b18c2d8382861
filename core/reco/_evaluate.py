"""Offline evaluation: two protocols over the store's order history (docs/recommendations.md,
"Evaluation").

One fixed split (``_split``): each customer with two or more baskets has the last one held
out; the model is fitted on the rest with :func:`fit_model`, exactly as ``reco build`` fits
it. Then, over at most ``sample`` held-out baskets (a seeded sample, reported):

- **next basket**: recommend for the customer (placement ``email``, asked on the day of the
  held-out basket); the truth is that basket's products, split into *repeat* (the customer
  bought them in the training part) and *explore* (new to them);
- **in basket** ("bought together"): for a held-out basket with two or more products, one
  anchor product (seeded choice) is asked for (placement ``product_page``); the truth is the
  rest of the basket.

Each strategy answers alone (a plugin host holding only that strategy, through the same
``rank`` path), the blend answers with every plugin of ``host`` (strategies and rules, as the
web asks), the *blend without rules* with all of its strategies and none of its rules (so a
rule's cost is visible), and baselines computed from the same training part answer too:
popularity and per-customer purchase frequency (next basket); popularity, co-occurrence
confidence and basket cosine (in basket).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from shoploop._context import hook_context
from shoploop._plugins import PluginHost, new_host
from shoploop.hooks import RecommendationRequest
from shoploop.store import Store

from ._api import rank
from ._arrays import unique_sorted
from ._build import Clock, fit_model
from ._days import DAY_SECONDS
from ._metrics import Means
from ._model import Model
from ._pool import Pool, load_pool
from ._settings import RecoSettings
from ._split import last_baskets, without_orders

SAMPLE = 2000
"""Held-out baskets evaluated per protocol by default (a seeded sample when there are more)."""
BLEND = "blend"
BLEND_WITHOUT_RULES = "blend_without_rules"
NEXT_BASKET_BASELINES = ("popularity", "purchase_frequency")
IN_BASKET_BASELINES = ("popularity", "co_occurrence_confidence", "basket_cosine")

IntArray = npt.NDArray[np.int64]
Ranker = Callable[[int], list[int]]


@dataclass(frozen=True)
class _Baskets:
    """Distinct products per order, CSR-style."""

    indptr: IntArray
    products: IntArray

    @classmethod
    def of(cls, pool: Pool) -> _Baskets:
        pairs = unique_sorted(pool.line_order.astype(np.int64) * pool.n_products
                              + pool.line_product)
        order, product = pairs // max(pool.n_products, 1), pairs % max(pool.n_products, 1)
        indptr = np.concatenate(([0], np.cumsum(np.bincount(order, minlength=pool.n_orders))))
        return cls(indptr=indptr.astype(np.int64), products=product)

    def __getitem__(self, order: int) -> list[int]:
        return [int(p) for p in self.products[self.indptr[order]:self.indptr[order + 1]]]


class _History:
    """What the baselines know, from the training pool only."""

    def __init__(self, train: Pool) -> None:
        from scipy import sparse

        n_products = max(train.n_products, 1)
        pairs = unique_sorted(train.line_order.astype(np.int64) * n_products
                              + train.line_product)
        order, product = pairs // n_products, pairs % n_products
        self.baskets = sparse.csr_matrix((np.ones(len(pairs), dtype=np.int32), (order, product)),
                                         shape=(train.n_orders, train.n_products))
        self.by_product = self.baskets.tocsc()
        self.orders_with = np.asarray(self.by_product.getnnz(axis=0), dtype=np.int64)
        ranked = np.lexsort((np.arange(train.n_products), -self.orders_with))
        self.popular: list[int] = ranked[self.orders_with[ranked] > 0].tolist()
        # Per customer: products by the orders they were in (then the latest first).
        customer = train.order_customer[order].astype(np.int64)
        known = customer >= 0
        customer, product, day = customer[known], product[known], train.order_day[order][known]
        key = customer * n_products + product
        by_key = np.lexsort((day, key))
        key, day = key[by_key], day[by_key]
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1]))) \
            if len(key) else np.zeros(0, dtype=np.int64)
        counts = np.diff(np.concatenate((starts, [len(key)])))
        ends = starts + counts - 1
        pair, last = key[starts], day[ends] if len(key) else day
        who, what = pair // n_products, pair % n_products
        ranked_pairs = np.lexsort((what, -last, -counts, who))
        who, what = who[ranked_pairs], what[ranked_pairs]
        n_customers = len(train.customer_ids)
        self._customer_indptr = np.concatenate(
            ([0], np.cumsum(np.bincount(who, minlength=n_customers)))).astype(np.int64)
        self._customer_products = what

    def bought_by(self, customer: int) -> list[int]:
        """The customer's products, most often bought first (ties: the latest first)."""
        span = slice(int(self._customer_indptr[customer]),
                     int(self._customer_indptr[customer + 1]))
        return [int(p) for p in self._customer_products[span]]

    def popular_except(self, excluded: int, k: int) -> list[int]:
        return [p for p in self.popular[:k + 1] if p != excluded][:k]

    def together(self, anchor: int, k: int) -> tuple[list[int], list[int]]:
        """Products bought with ``anchor`` in the training baskets, ranked by co-occurrence
        confidence (``together / orders with the anchor``: the anchor's count is the same for
        all, so by ``together``) and by basket cosine (``together / √(n_anchor · n_other)``);
        ties by product. Only products bought with it at least once."""
        orders = self.by_product.indices[self.by_product.indptr[anchor]:
                                         self.by_product.indptr[anchor + 1]]
        partners, together = np.unique(self.baskets[orders].indices, return_counts=True)
        mine = partners != anchor
        partners, together = partners[mine], together[mine].astype(np.float64)
        confidence = np.lexsort((partners, -together))[:k]
        cosine = together / np.sqrt(float(self.orders_with[anchor])
                                    * self.orders_with[partners])
        by_cosine = np.lexsort((partners, -cosine))[:k]
        return partners[confidence].tolist(), partners[by_cosine].tolist()


def _strategy_hosts(host: PluginHost) -> dict[str, PluginHost]:
    """One plugin host per strategy of ``host``, holding that strategy's plugin alone (no
    other strategy, no rule): the strategy as it answers by itself."""
    names = sorted({impl.plugin_name for impl in
                    host.pm.hook.recommendation_candidates.get_hookimpls()})
    hosts: dict[str, PluginHost] = {}
    for name in names:
        alone = new_host(strict=host.strict)
        alone.register(host.pm.get_plugin(name), name=name)
        hosts[name] = alone
    return hosts


def _without_rules(host: PluginHost) -> PluginHost:
    """``host`` itself when it has no rule, else a host with its strategies' plugins only."""
    rules = {impl.plugin_name for impl in host.pm.hook.recommendation_patches.get_hookimpls()}
    if not rules:
        return host
    alone = new_host(strict=host.strict)
    for name in sorted({impl.plugin_name for impl in
                        host.pm.hook.recommendation_candidates.get_hookimpls()} - rules):
        alone.register(host.pm.get_plugin(name), name=name)
    return alone


def _sample(cases: IntArray, sample: int, rng: np.random.Generator) -> IntArray:
    if len(cases) <= sample:
        return cases
    return np.sort(rng.choice(cases, size=sample, replace=False))


def _engine(hosts: dict[str, PluginHost], model: Model, k: int,
            ) -> Callable[[RecommendationRequest, datetime], dict[str, list[int]]]:
    """Ask every host in ``hosts`` the same request; answers as unified product indices."""

    def ask(request: RecommendationRequest, now: datetime) -> dict[str, list[int]]:
        context = hook_context(None, None, now=now)
        answers: dict[str, list[int]] = {}
        asked: dict[int, list[int]] = {}  # a host named twice (no rules) answers once
        for name, host in hosts.items():
            if id(host) not in asked:
                ranked = rank(host, model, request, context=context).recommendations
                indices = (model.product_index(request.connection, r.product_id)
                           for r in ranked)
                asked[id(host)] = [index for index in indices if index is not None][:k]
            answers[name] = asked[id(host)]
        return answers

    return ask


def _moment(day: int) -> datetime:
    """Noon of ``day`` (``_days.day_of``), UTC."""
    return datetime.fromtimestamp(day * DAY_SECONDS, UTC) + timedelta(hours=12)


def _rows(means: dict[str, Means], kinds: dict[str, str]) -> list[dict[str, Any]]:
    return [{"recommender": name, "kind": kinds[name], **m.as_dict()}
            for name, m in means.items()]


def _next_basket(ask: Callable[[RecommendationRequest, datetime], dict[str, list[int]]],
                 model: Model, pool: Pool, history: _History, baskets: _Baskets,
                 held: IntArray, k: int) -> dict[str, Means]:
    means: dict[str, Means] = {}
    for order in held.tolist():
        customer = int(pool.order_customer[order])
        members = model.customer_members[customer]
        connection = next((c for c in sorted(members) if c in model.product_records), None)
        truth = baskets[order]
        bought = history.bought_by(customer)
        repeat = set(bought).intersection(truth)
        answers: dict[str, list[int]] = {"popularity": history.popular[:k],
                                         "purchase_frequency": bought[:k]}
        if connection is not None:
            request = RecommendationRequest(connection=connection,
                                            customer_id=members[connection],
                                            placement="email", k=k)
            answers.update(ask(request, _moment(int(pool.order_day[order]))))
        for name, ranked in answers.items():
            means.setdefault(name, Means()).case(ranked, set(truth), k, repeat=repeat)
    return means


def _in_basket(ask: Callable[[RecommendationRequest, datetime], dict[str, list[int]]],
               model: Model, pool: Pool, history: _History, baskets: _Baskets,
               held: IntArray, k: int, rng: np.random.Generator) -> dict[str, Means]:
    means: dict[str, Means] = {}
    for order in held.tolist():
        basket = baskets[order]
        anchor = basket[int(rng.integers(len(basket)))]
        truth = set(basket) - {anchor}
        confidence, cosine = history.together(anchor, k)
        answers: dict[str, list[int]] = {
            "popularity": history.popular_except(anchor, k),
            "co_occurrence_confidence": confidence, "basket_cosine": cosine}
        members = model.product_members[anchor]
        if members:
            connection = min(members)
            request = RecommendationRequest(connection=connection,
                                            product_id=members[connection][0],
                                            placement="product_page", k=k)
            answers.update(ask(request, _moment(int(pool.order_day[order]))))
        for name, ranked in answers.items():
            means.setdefault(name, Means()).case(ranked, truth, k)
    return means


def _ordered(means: dict[str, Means], names: Sequence[str]) -> dict[str, Means]:
    return {name: means.get(name, Means()) for name in names}


def evaluate_pool(host: PluginHost, pool: Pool, settings: RecoSettings, clock: Clock, *,
                  k: int = 10, sample: int = SAMPLE, seed: int = 0) -> dict[str, Any]:
    """Both protocols over ``pool`` (see the module docs); one JSON-ready document."""
    if k < 1 or sample < 1:
        raise ValueError("k and sample must be at least 1")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    held = last_baskets(pool)
    train = without_orders(pool, held)
    model = fit_model(train, settings, clock)
    fitted = time.perf_counter()
    history = _History(train)
    baskets = _Baskets.of(pool)
    strategies = _strategy_hosts(host)
    hosts = {**strategies, BLEND: host, BLEND_WITHOUT_RULES: _without_rules(host)}
    ask = _engine(hosts, model, k)
    kinds = {**dict.fromkeys(strategies, "strategy"), BLEND: "blend",
             BLEND_WITHOUT_RULES: "blend",
             **dict.fromkeys(NEXT_BASKET_BASELINES + IN_BASKET_BASELINES, "baseline")}

    next_cases = _sample(held, sample, rng)
    sizes = np.diff(baskets.indptr)[held]
    in_candidates = held[sizes >= 2]
    in_cases = _sample(in_candidates, sample, rng)
    next_means = _ordered(_next_basket(ask, model, pool, history, baskets, next_cases, k),
                          [*strategies, BLEND, BLEND_WITHOUT_RULES, *NEXT_BASKET_BASELINES])
    in_means = _ordered(_in_basket(ask, model, pool, history, baskets, in_cases, k, rng),
                        [*strategies, BLEND, BLEND_WITHOUT_RULES, *IN_BASKET_BASELINES])

    blend_recall = next_means[BLEND].as_dict().get("recall", 0.0)
    frequency_recall = next_means["purchase_frequency"].as_dict().get("recall", 0.0)
    blend_hit = in_means[BLEND].as_dict().get("hit_rate", 0.0)
    bare_recall = next_means[BLEND_WITHOUT_RULES].as_dict().get("recall", 0.0)
    bare_hit = in_means[BLEND_WITHOUT_RULES].as_dict().get("hit_rate", 0.0)
    best_name = max(IN_BASKET_BASELINES,
                    key=lambda name: (in_means[name].as_dict().get("hit_rate", 0.0), name))
    best_hit = in_means[best_name].as_dict().get("hit_rate", 0.0)
    return {
        "ok": True, "k": k, "sample": sample, "seed": seed,
        "split": {"orders": pool.n_orders, "training_orders": train.n_orders,
                  "held_out_baskets": len(held), "customers": len(pool.customer_ids),
                  "products": pool.n_products,
                  "protocol": "each customer's last basket held out (customers with two or "
                              "more baskets); the model fitted on the rest"},
        "strategies": list(strategies),
        "next_basket": {"cases": len(held), "evaluated": len(next_cases),
                        "results": _rows(next_means, kinds)},
        "in_basket": {"cases": len(in_candidates), "evaluated": len(in_cases),
                      "results": _rows(in_means, kinds)},
        # Without a case there is nothing to meet or miss: ``met`` is None then.
        "goals": {
            "next_basket_recall": {"blend": blend_recall, "blend_without_rules": bare_recall,
                                   "purchase_frequency": frequency_recall,
                                   "met": blend_recall >= frequency_recall
                                   if len(next_cases) else None},
            "in_basket_hit_rate": {"blend": blend_hit, "blend_without_rules": bare_hit,
                                   "best_baseline": best_name,
                                   "baseline": best_hit,
                                   "met": blend_hit >= best_hit if len(in_cases) else None},
        },
        "seconds": {"fit": round(fitted - started, 3),
                    "total": round(time.perf_counter() - started, 3)},
    }


def evaluate(host: PluginHost, store: Store, settings: RecoSettings, clock: Clock, *,
             k: int = 10, sample: int = SAMPLE, seed: int = 0) -> dict[str, Any]:
    """``shoploop reco evaluate``: read the store's mirror into one pool (as ``reco build``
    does) and run :func:`evaluate_pool` on it. Nothing is written."""
    return evaluate_pool(host, load_pool(store, settings), settings, clock, k=k,
                         sample=sample, seed=seed)
