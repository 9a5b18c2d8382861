"""Benchmark the Shopify adapter: write customer attributes for 10,000 customers through the
emulator over real sockets, then write them again (everything unchanged).

    .venv/bin/python bench/bench_shopify.py [--customers N] [--restore-rate R] [--bucket B]

Baseline, measured in the same process: the floor the emulator's leaky bucket sets — the points
the run actually spent, minus the bucket's initial content, divided by the restore rate. No
client can finish sooner without exceeding the rate limit; the ratio wall/floor says how close
the adapter's throttle gets to saturating the budget (1.0 = perfect) on this machine.
"""

from __future__ import annotations

import argparse
import math
import os
import time

from shoploop.demo_data import DemoMerchant
from shoploop.hooks import AttributeChange, EmulatorOptions, WriteStatus
from shoploop.plugins.shopify import ShopifyConfig, ShopifyConnector
from shoploop.plugins.shopify.emulator import SECRET, TOKEN, ShopifyEmulator, numeric_id


def run(customers: int, restore_rate: float, bucket: float) -> None:
    os.environ["SHOPLOOP_BENCH_SHOPIFY_TOKEN"] = TOKEN
    os.environ["SHOPLOOP_BENCH_SHOPIFY_SECRET"] = SECRET
    emulator = ShopifyEmulator(EmulatorOptions(customers=0, extra={
        "bucket": str(bucket), "restore_rate": str(restore_rate)})).start()
    try:
        emulator.data.load(customers=DemoMerchant(seed=1, customers=customers).iter_customers())
        settings = ShopifyConfig(type="shopify", shop=f"127.0.0.1:{emulator.port}",
                                 scheme="http",
                                 access_token_env="SHOPLOOP_BENCH_SHOPIFY_TOKEN",
                                 client_secret_env="SHOPLOOP_BENCH_SHOPIFY_SECRET")
        connector = ShopifyConnector("bench", settings)
        ids = [str(numeric_id("Customer", f"C{n:06d}")) for n in range(1, customers + 1)]
        changes = [AttributeChange(customer_id=i, key=key, new=f"{key}-{i}")
                   for i in ids for key in ("rfm_segment", "lifecycle_stage")]
        print(f"customers: {customers:,}  changes: {len(changes):,}  bucket: {bucket:g} points"
              f"  restore rate: {restore_rate:g} points/s")
        for label in ("first write", "rewrite (all unchanged)"):
            emulator.stats.reset()
            emulator.bucket = type(emulator.bucket)(bucket, restore_rate)  # a full bucket
            started = time.perf_counter()
            statuses: dict[WriteStatus, int] = {}
            size = connector.attribute_batch_size
            for start in range(0, len(changes), size):
                for result in connector.write_customer_attributes(changes[start:start + size]):
                    statuses[result.status] = statuses.get(result.status, 0) + 1
            wall = time.perf_counter() - started
            stats = emulator.stats.snapshot()
            floor = max(0.0, (stats["cost"] - bucket) / restore_rate)
            ratio = wall / floor if floor else math.nan
            print(f"{label}: {wall:6.2f} s  requests {stats['requests']:,}  metafieldsSet "
                  f"{stats.get('calls.metafieldsSet', 0):,} (ceil(changes/25) = "
                  f"{math.ceil(len(changes) / 25):,})  cost {stats['cost']:,} points  "
                  f"THROTTLED {stats.get('graphql_throttled', 0)}  "
                  f"statuses {dict((k.value, v) for k, v in statuses.items())}")
            print(f"  floor set by the restore rate: {floor:6.2f} s  ratio wall/floor: "
                  f"{ratio:.2f}  ({stats['requests'] / wall:.0f} requests/s)")
        connector.close()
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--restore-rate", type=float, default=2000.0,
                        help="points/s (Shopify Plus: 1000; default: twice that, to keep the "
                             "benchmark short)")
    parser.add_argument("--bucket", type=float, default=2000.0)
    args = parser.parse_args()
    run(args.customers, args.restore_rate, args.bucket)


if __name__ == "__main__":
    main()
