"""Benchmark the WooCommerce adapter against its emulator (real sockets on loopback).

    .venv/bin/python bench/bench_woocommerce.py [--customers 10000] [--sample 1000]

For 10k demo customers it prints requests, TCP connections and wall time of

* a full customer read (``read_customers`` page by page, 100 per page),
* writing one attribute for every customer (``write_customer_attributes`` in batches of 100),
* the incremental re-read that follows (hash change detection),

and compares each with a baseline measured in the same process against the same emulator: the
``woocommerce`` package used as documented (one ``requests.request`` — one new connection — per
call): the same list calls for the read, and one ``PUT /customers/<id>`` per customer for the
write (measured on ``--sample`` customers and scaled, labelled as such). Ratios, not absolute
seconds, are what stays comparable on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from woocommerce import API  # type: ignore[import-untyped]

from shoploop.hooks import AttributeChange
from shoploop.plugins.woocommerce import WooCommerceConfig, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator


def counted(emulator: WooCommerceEmulator, work: Callable[[], Any]) -> tuple[float, int, int]:
    before = emulator.stats.snapshot()
    started = time.perf_counter()
    work()
    wall = time.perf_counter() - started
    after = emulator.stats.snapshot()
    return (wall, int(after["requests"] - before["requests"]),
            int(after["connections"] - before["connections"]))


def row(label: str, figures: tuple[float, int, int], baseline: tuple[float, int, int],
        note: str = "") -> None:
    wall, requests, connections = figures
    b_wall, b_requests, b_connections = baseline
    print(f"{label:<34} {requests:>7} req {connections:>6} conn {wall:>8.2f} s   | baseline "
          f"{b_requests:>7} req {b_connections:>6} conn {b_wall:>8.2f} s{note}   "
          f"ratio {wall / b_wall:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000,
                        help="customers written one by one for the write baseline")
    args = parser.parse_args()
    print(f"# seeding the emulator with {args.customers} demo customers …", flush=True)
    emulator = WooCommerceEmulator.from_demo(customers=args.customers).start()
    try:
        config = WooCommerceConfig.model_validate({
            "type": "woocommerce", "url": emulator.url, "consumer_key_env": "K",
            "consumer_secret_env": "S"})
        connector = WooCommerceConnector("bench", config,
                                         environ={"K": emulator.key, "S": emulator.secret})
        plain = API(url=emulator.url, consumer_key=emulator.key,
                    consumer_secret=emulator.secret, version="wc/v3", timeout=30)
        pages = -(-args.customers // 100)

        cursor_box: list[Any] = [None]

        def read_all() -> None:
            cursor = None
            while True:
                page = connector.read_customers(cursor)
                cursor = page.cursor
                if not page.has_more:
                    break
            cursor_box[0] = cursor

        def plain_read() -> None:
            for number in range(1, pages + 1):
                plain.get("customers", params={"per_page": 100, "page": number,
                                               "role": "all"}).raise_for_status()

        print(f"# {args.customers} customers, {pages} pages of 100", flush=True)
        row("full read", counted(emulator, read_all), counted(emulator, plain_read))

        ids = sorted(emulator.data.customers)
        changes = [AttributeChange(customer_id=str(i), key="lifecycle_stage", new="retention")
                   for i in ids]

        def write_all() -> None:
            for start in range(0, len(changes), 100):
                connector.write_customer_attributes(changes[start:start + 100])

        def plain_write() -> None:
            for number in ids[:args.sample]:
                plain.put(f"customers/{number}", {"meta_data": [
                    {"key": "shoploop_bench_plain", "value": "x"}]}).raise_for_status()

        batches_before = emulator.stats.get("batch_requests")
        write = counted(emulator, write_all)
        batches = int(emulator.stats.get("batch_requests") - batches_before)
        b_wall, b_req, b_conn = counted(emulator, plain_write)
        scale = len(ids) / max(1, min(args.sample, len(ids)))
        row("write 1 attribute per customer", write,
            (b_wall * scale, int(b_req * scale), int(b_conn * scale)),
            f" (x{scale:g} of {min(args.sample, len(ids))} measured)")
        print(f"{'':<34} {batches} batch requests (ceil(changes/100) = {-(-len(changes) // 100)})")

        def reread() -> None:
            cursor = cursor_box[0]
            changed = 0
            while True:
                page = connector.read_customers(cursor)
                changed += len(page.items)
                cursor = page.cursor
                if not page.has_more:
                    break
            print(f"# incremental re-read after the write: {changed} changed customers")

        row("incremental re-read", counted(emulator, reread), counted(emulator, plain_read))
        connector.close()
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
