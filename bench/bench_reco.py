"""Benchmark the recommendation model: fit time, peak memory and in-process lookup latency on
synthetic order histories of two shapes.

    .venv/bin/python bench/bench_reco.py                 # 1M orders x 50k products, both shapes
    BENCH_RECO_SCALE=0.05 .venv/bin/python bench/bench_reco.py   # a quick run (50k x 2.5k)

- **B2C**: about 4 lines per order, 200k customers, mildly skewed popularity;
- **B2B**: about 20 lines per order, 20k customers, Zipf popularity (s = 1.1).

Orders draw half their lines from a "theme" (a group of 25 related products) and half from
the whole catalogue, so there are real pairs to find. Each shape runs in its own process
(``_measure.py``), so its peak RSS is its own.

Baseline, measured in the same process on the same order-by-product matrix: ``implicit``'s
``CosineRecommender(K=20).fit`` (item-item cosine, the 20 nearest neighbours per product), a
bench-only dependency (``pip install implicit``; CPU wheels from PyPI, no GPU or toolchain).
Our fit computes more: the co-occurrence counts, Dunning's G² for every pair and the best
partners per product, plus every customer's purchase intervals. The ratio is
``fit_model / implicit``; the goal is ≤ 1.0.

Lookups: ``recommend`` with the built-in strategies (no rules), for a product page, a
customer and a cart of three, 2,000 requests each; p50 and p99 in milliseconds, of the wall
time and of the thread's CPU time (on a shared machine a wall p99 is mostly waiting for a core).

Memory: the peak RSS of the shape's whole process, and the fit's own peak above the process's
RSS when it started, beside the order history's arrays.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SHAPES: dict[str, dict[str, float]] = {
    "b2c": {"lines": 4.0, "customers": 200_000, "zipf": 0.8},
    "b2b": {"lines": 20.0, "customers": 20_000, "zipf": 1.1},
}
ORDERS, PRODUCTS, THEME = 1_000_000, 50_000, 25
LOOKUPS = 2000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _rss_mb() -> float:
    """The process's resident memory now (``ru_maxrss`` is only its peak)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _pool_mb(pool: Any) -> float:
    """The order history's arrays: what the fit reads (the product records aside)."""
    return sum(getattr(pool, name).nbytes for name in
               ("order_customer", "order_day", "line_order", "line_product")) / 2**20


def synthetic_pool(shape: str, scale: float, seed: int = 0) -> Any:
    """A :class:`Pool` of ``ORDERS x scale`` orders over ``PRODUCTS x scale`` products."""
    from shoploop.reco import Pool, PoolReport

    spec = SHAPES[shape]
    rng = np.random.default_rng(seed)
    n_orders = max(1000, int(ORDERS * scale))
    n_products = max(500, int(PRODUCTS * scale))
    n_customers = max(100, int(spec["customers"] * scale))
    sizes = 1 + rng.poisson(spec["lines"] - 1, n_orders)
    line_order = np.repeat(np.arange(n_orders, dtype=np.int32), sizes)
    weights = 1.0 / np.arange(1, n_products + 1) ** spec["zipf"]
    weights /= weights.sum()
    popular = rng.permutation(n_products)  # popularity rank → product
    from_catalogue = popular[rng.choice(n_products, size=len(line_order), p=weights)]
    themes = rng.integers(0, n_products // THEME, n_orders)
    from_theme = themes[line_order] * THEME + rng.integers(0, THEME, len(line_order))
    line_product = np.where(rng.random(len(line_order)) < 0.5, from_theme,
                            from_catalogue).astype(np.int32)
    order_customer = rng.integers(0, n_customers, n_orders).astype(np.int32)
    order_day = np.sort(rng.integers(19_000, 19_730, n_orders)).astype(np.int32)
    ids = [str(n) for n in range(n_products)]
    records = {"shop": {i: {"id": i, "sku": f"P-{i}", "name": f"Product {i}", "price": "9.90"}
                        for i in ids}}
    return Pool(product_keys=[f"P-{i}" for i in ids],
                product_members=[{"shop": [i]} for i in ids], product_records=records,
                customer_ids=[f"shop:{n}" for n in range(n_customers)],
                customer_members=[{"shop": str(n)} for n in range(n_customers)],
                order_customer=order_customer, order_day=order_day,
                line_order=line_order, line_product=line_product,
                report=PoolReport(product_key="sku", orders=n_orders,
                                  lines=len(line_order)))


def implicit_fit_seconds(pool: Any) -> float | None:
    try:
        from implicit.nearest_neighbours import CosineRecommender
    except ImportError:
        return None
    from scipy import sparse

    matrix = sparse.csr_matrix(
        (np.ones(len(pool.line_order), dtype=np.float32), (pool.line_order, pool.line_product)),
        shape=(pool.n_orders, pool.n_products))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    started = time.perf_counter()
    CosineRecommender(K=20).fit(matrix, show_progress=False)
    return time.perf_counter() - started


def lookup_latency(model: Any, pool: Any, seed: int = 1) -> dict[str, dict[str, float]]:
    from shoploop import load_plugins
    from shoploop._context import hook_context
    from shoploop.hooks import RecommendationRequest
    from shoploop.reco import recommend

    host = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "bought_together,buy_again"})
    rng = np.random.default_rng(seed)
    context = hook_context(None, None, now=datetime(2024, 1, 15, tzinfo=UTC))
    # Anchors as shoppers meet them: drawn from the order lines, so popular products more.
    lines = rng.choice(pool.line_product, size=LOOKUPS * 4)
    customers = rng.choice(pool.order_customer, size=LOOKUPS)
    requests = {
        "product": [RecommendationRequest(connection="shop", product_id=str(p))
                    for p in lines[:LOOKUPS]],
        "customer": [RecommendationRequest(connection="shop", customer_id=str(c),
                                           placement="email") for c in customers],
        "cart": [RecommendationRequest(connection="shop", placement="cart",
                                       cart=[str(p) for p in lines[n:n + 3]])
                 for n in range(LOOKUPS, LOOKUPS * 4, 3)][:LOOKUPS],
    }
    found: dict[str, dict[str, float]] = {}
    for kind, batch in requests.items():
        recommend(host, model, batch[0], context=context)  # first-use imports out of the way
        took, cpu = [], []
        for request in batch:
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            recommend(host, model, request, context=context)
            took.append(time.perf_counter_ns() - started)
            cpu.append(time.thread_time_ns() - started_cpu)
        ms, cpu_ms = np.asarray(took) / 1e6, np.asarray(cpu) / 1e6
        # Wall time is what a caller waits; on a shared machine its p99 is mostly the
        # time the process was not scheduled, so the thread's CPU time is printed beside it.
        found[kind] = {"p50_ms": round(float(np.percentile(ms, 50)), 3),
                       "p99_ms": round(float(np.percentile(ms, 99)), 3),
                       "cpu_p50_ms": round(float(np.percentile(cpu_ms, 50)), 3),
                       "cpu_p99_ms": round(float(np.percentile(cpu_ms, 99)), 3)}
    return found


def run_shape(shape: str, scale: float) -> dict[str, Any]:
    from shoploop.reco import RecoSettings, fit_model

    started = time.perf_counter()
    pool = synthetic_pool(shape, scale)
    generated, peak_before, rss_before = time.perf_counter() - started, _peak_mb(), _rss_mb()
    started = time.perf_counter()
    model = fit_model(pool, RecoSettings(), lambda: datetime.now(UTC))
    fit = time.perf_counter() - started
    peak_fit = _peak_mb()
    baseline = implicit_fit_seconds(pool)
    return {
        "shape": shape, "orders": pool.n_orders, "products": pool.n_products,
        "lines": len(pool.line_order), "customers": len(pool.customer_ids),
        "generate_s": round(generated, 2), "fit_s": round(fit, 2),
        "implicit_cosine_fit_s": None if baseline is None else round(baseline, 2),
        "ratio": None if not baseline else round(fit / baseline, 2),
        "pairs": len(model.bought_together.partner),
        "peak_mb_before_fit": round(peak_before), "peak_mb_after_fit": round(peak_fit),
        "rss_mb_before_fit": round(rss_before), "dataset_mb": round(_pool_mb(pool)),
        # What the fit itself added on top of the process at its start (the data set in it).
        "fit_peak_mb": round(peak_fit - rss_before),
        "lookups": lookup_latency(model, pool),
    }


def main() -> None:
    scale = float(os.environ.get("BENCH_RECO_SCALE", "1.0"))
    if len(sys.argv) == 3 and sys.argv[1] == "--shape":
        print(json.dumps(run_shape(sys.argv[2], scale)))
        return
    for shape in SHAPES:
        # The machine is shared: its load beside the figures says how far to trust them.
        print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        with tempfile.TemporaryDirectory() as work:
            usage = Path(work) / "usage.json"
            done = subprocess.run([sys.executable, str(HERE / "_measure.py"), str(usage),
                                   sys.executable, __file__, "--shape", shape],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"bench_reco {shape} failed:\n{done.stderr}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            peak = json.loads(usage.read_text())["peak_mb"]
        ratio = (f"{result['ratio']:.2f}x implicit CosineRecommender(K=20).fit "
                 f"({result['implicit_cosine_fit_s']} s)" if result["ratio"] is not None
                 else "implicit not installed: no ratio")
        print(f"reco {shape}: {result['orders']:,} orders x {result['products']:,} products, "
              f"{result['lines']:,} lines: fit {result['fit_s']} s = {ratio}; "
              f"{result['pairs']:,} pairs")
        print(f"  peak RSS {peak:,.0f} MB (the whole run, baseline and lookups too); the fit's "
              f"own peak {result['fit_peak_mb']:,} MB above the {result['rss_mb_before_fit']:,}"
              f" MB before it, on an order history of {result['dataset_mb']:,} MB of arrays")
        for kind, figures in result["lookups"].items():
            print(f"  lookup {kind:8} p50 {figures['p50_ms']:.3f} ms · "
                  f"p99 {figures['p99_ms']:.3f} ms (CPU p50 {figures['cpu_p50_ms']:.3f} · "
                  f"p99 {figures['cpu_p99_ms']:.3f} ms)")


if __name__ == "__main__":
    main()
