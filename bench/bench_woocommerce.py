"""Benchmark the WooCommerce adapter against its emulator (real sockets on loopback).

    .venv/bin/python bench/bench_woocommerce.py [--customers 10000] [--sample 1000]
                                                [--scale 10000,100000]

For 10k demo customers it prints requests, TCP connections and wall time of

* a full customer read (``read_customers`` page by page, 100 per page),
* writing one attribute for every customer (``write_customer_attributes`` in batches of 100),
* the incremental re-read that follows (digest change detection),

and compares each with a baseline measured in the same process against the same emulator: the
``woocommerce`` package used as documented (one ``requests.request`` — one new connection — per
call): the same list calls for the read, and one ``PUT /customers/<id>`` per customer for the
write (measured on ``--sample`` customers and scaled, labelled as such). Ratios, not absolute
seconds, are what stays comparable on a busy 2-core machine.

Then, per size of ``--scale``, the import as a sync runs it (``mirror_stream`` into a SQLite
store, digests in its ``record_digests``): the first import, a nothing-changed import and one
after 1 % of the customers changed, with the cost per page; and the ratio of the largest size
to the smallest (the scan is linear when it is about their ratio: goal <= 11x for 10x). The
customers are the demo merchant's first 10,000, repeated with new ids and e-mails (generating
100k demo customers takes minutes; the scan's cost does not depend on who they are).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from typing import Any

from woocommerce import API  # type: ignore[import-untyped]

from shoploop.demo_data import DemoMerchant
from shoploop.hooks import AttributeChange
from shoploop.jobs import mirror_stream
from shoploop.plugins.woocommerce import WooCommerceConfig, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.store import Store

IMPORT_RATIO_GOAL = 11.0
NOTHING_CHANGED_100K_GOAL_S = 60.0


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


def connect(emulator: WooCommerceEmulator) -> WooCommerceConnector:
    config = WooCommerceConfig.model_validate({
        "type": "woocommerce", "url": emulator.url, "consumer_key_env": "K",
        "consumer_secret_env": "S"})
    return WooCommerceConnector("bench", config,
                                environ={"K": emulator.key, "S": emulator.secret})


def scaled_customers(base: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """``size`` customers: ``base`` repeated, each copy with its own ids and e-mails."""
    return [{**c, "id": f"{c['id']}-{n // len(base)}",
             "email": f"r{n // len(base)}.{c.get('email') or 'x@example.com'}"}
            for n, c in ((n, base[n % len(base)]) for n in range(size))]


def import_at(size: int, base: list[dict[str, Any]]) -> dict[str, float]:
    """First import, nothing changed, 1 % changed: seconds (and ms per page) at ``size``."""
    print(f"# seeding the emulator with {size} customers …", flush=True)
    emulator = WooCommerceEmulator.from_records(customers=scaled_customers(base, size)).start()
    figures: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as folder, \
                Store(f"sqlite:///{folder}/store.db") as store:
            store.upgrade()
            pages = -(-size // 100)
            for label, prepare in (("first import", None), ("nothing changed", None),
                                   ("1 % changed", "touch")):
                if prepare:
                    for number in range(1, size + 1, 100):
                        emulator.app._update("customers", {"id": number,
                                                           "first_name": "Bench-touched"})
                connector = connect(emulator)  # each import a new process would make
                started = time.perf_counter()
                result = mirror_stream(connector, store, connection="woo", stream="customers")
                wall = time.perf_counter() - started
                connector.close()
                figures[label] = wall
                print(f"{size:>7} {label:<16} {wall:>8.2f} s  {wall / pages * 1000:>6.2f} ms/page"
                      f"  delivered {result.read:>7}  inserted {result.inserted:>7}  "
                      f"updated {result.updated:>5}", flush=True)
    finally:
        emulator.stop()
    return figures


def import_scaling(sizes: list[int]) -> None:
    print("# import as a sync runs it: mirror_stream into SQLite, 100 customers per page")
    base = list(DemoMerchant(seed=1, customers=min(10_000, min(sizes))).iter_customers())
    runs = {size: import_at(size, base) for size in sizes}
    small, large = min(sizes), max(sizes)
    if small == large:
        return
    factor = large / small
    for label in ("first import", "nothing changed", "1 % changed"):
        ratio = runs[large][label] / runs[small][label]
        print(f"{label:<16} {large} / {small}: {ratio:.1f}x for {factor:g}x the customers "
              f"(goal <= {IMPORT_RATIO_GOAL * factor / 10:g}x)")
    if large >= 100_000:
        wall = runs[large]["nothing changed"]
        print(f"nothing changed at {large}: {wall:.1f} s "
              f"(goal < {NOTHING_CHANGED_100K_GOAL_S:g} s at 100k)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000,
                        help="customers written one by one for the write baseline")
    parser.add_argument("--scale", default="10000,100000",
                        help="sizes of the import scaling runs, comma-separated ('' skips)")
    args = parser.parse_args()
    print(f"# seeding the emulator with {args.customers} demo customers …", flush=True)
    emulator = WooCommerceEmulator.from_demo(customers=args.customers).start()
    try:
        connector = connect(emulator)
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
    if args.scale:
        import_scaling([int(size) for size in args.scale.split(",")])


if __name__ == "__main__":
    main()
