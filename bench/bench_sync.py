"""Benchmark the customer-attribute sync: ERP → Shopify + WooCommerce emulators, three runs.

    .venv/bin/python bench/bench_sync.py [--customers 100000] [--restore-rate 1000] [--bucket 10000]

The three emulators run in this process (seeded from the same demo merchant, so the same people
exist in each); the sync job runs as ``python -m shoploop sync customers --json`` in a child
process against a SQLite store, so its peak memory (``ru_maxrss`` of that child alone, through
``_measure.py``) is measured without the emulators' data.

1. first full sync (everything written): wall time against the rate-limit floor, measured in
   the same process from the Shopify emulator's cost counter — the points the run spent minus
   the bucket's initial content, divided by the restore rate. WooCommerce and the ERP emulator
   have no rate limit (floor 0) and the targets are written in parallel, so the floor of the
   run is Shopify's. No client can finish sooner without exceeding the rate limit; goal ≤ 1.2.
2. 1 % of the ERP customers get a new ``customer_group`` (the ERP emulator's ``touch``): write
   requests per target (Shopify ``metafieldsSet`` calls, WooCommerce ``/customers/batch``
   calls) against ceil(changed / batch size).
3. nothing changed: 0 write requests per target.

``BENCH_SYNC_DEBUG=1`` prints every run's emulator counters and import rows;
``BENCH_SYNC_WRAP=script.py`` runs the job as ``python script.py sync customers --json`` (a
profiler that runs ``shoploop`` in-process).

Shopify's budget defaults to the Plus plan (bucket 10,000 points, 1,000 points/s); Standard
(1,000 / 100) makes the first run of 100k customers take over an hour by design.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shoploop import load_plugins
from shoploop.demo import SYNC_MAPPING
from shoploop.demo_data import DemoMerchant
from shoploop.hooks import EmulatorOptions

SEED = 7
MEMORY_GOAL_MB = 500.0
RATIO_GOAL = 1.2


def write_requests(stats: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Write requests per target since the last reset: Shopify mutations that write values,
    WooCommerce batch calls (single PUTs counted too, should the adapter ever send them)."""
    shop = stats["shop"]
    woo = stats["woo"]
    return {"shop": int(shop.get("calls.metafieldsSet", 0) + shop.get("calls.tagsAdd", 0)
                        + shop.get("calls.tagsRemove", 0)),
            "woo": int(woo.get("writes", 0))}


def run_job(workdir: Path, env: dict[str, str]) -> tuple[dict[str, Any], float, float, float]:
    """One ``shoploop sync customers --json`` in a child process: (report, wall s, peak MB,
    CPU s). Started through ``_measure.py``: a child started straight from this process
    would report this process's peak (see there)."""
    started = time.perf_counter()
    measured = workdir / "job.rusage.json"
    with (workdir / "job.stderr").open("ab") as stderr:
        # BENCH_SYNC_WRAP: a script run instead of ``-m shoploop`` (a profiler, say)
        wrap = [env["BENCH_SYNC_WRAP"]] if env.get("BENCH_SYNC_WRAP") else ["-m", "shoploop"]
        child = subprocess.run([sys.executable, str(Path(__file__).with_name("_measure.py")),
                                str(measured), sys.executable, *wrap, "sync", "customers",
                                "--json"], cwd=workdir, env=env, stdout=subprocess.PIPE,
                               stderr=stderr, check=False)
    wall = time.perf_counter() - started
    usage = json.loads(measured.read_text())
    if child.returncode not in (0, 1):
        sys.exit(f"sync exited {child.returncode}; see {workdir / 'job.stderr'}\n"
                 f"{child.stdout.decode()[-2000:]}")
    return json.loads(child.stdout), wall, usage["peak_mb"], usage["cpu_s"]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--restore-rate", type=float, default=1000.0,
                        help="Shopify points/s (Standard 100, Advanced 200, Plus 1000)")
    parser.add_argument("--bucket", type=float, default=10_000.0,
                        help="Shopify bucket points (Standard 1000, Plus 10000)")
    parser.add_argument("--changed", type=float, default=0.01,
                        help="share of ERP customers changed before the second run")
    parser.add_argument("--runs", type=int, default=3, choices=(1, 2, 3),
                        help="stop after this many runs (profiling)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    host = load_plugins()
    extra = {"shopify": {"bucket": str(args.bucket), "restore_rate": str(args.restore_rate)}}
    names = {"erp": "erp", "shop": "shopify", "woo": "woocommerce"}
    emulators: dict[str, Any] = {}
    workdir = Path(tempfile.mkdtemp(prefix="bench_sync_"))
    print(f"# seeding 3 emulators with {args.customers:,} customers (seed {SEED}) …", flush=True)
    started = time.perf_counter()
    try:
        for conn, kind in names.items():
            emulators[conn] = host.emulators.emulators[kind].factory(EmulatorOptions(
                customers=0, seed=SEED, faults=0.0, extra=extra.get(kind, {})))
        # Customers only: the mapped attributes are ERP-mastered, so the job reads no orders,
        # and generating 100k customers' order history would take minutes.
        people = list(DemoMerchant(seed=SEED, customers=args.customers).iter_customers())
        emulators["erp"].load(customers=people)
        emulators["shop"].data.load(customers=people)
        emulators["woo"].data.seed(people, [], [])
        for e in emulators.values():
            e.start()
        print(f"# seeded in {time.perf_counter() - started:.1f} s; work dir {workdir}",
              flush=True)
        blocks = [emulators[c].connection_block(c) for c in names]
        # A first full read of 100k customers page by page costs ~25 points each; as a bulk
        # operation it costs a few points in all (docs/shopify.md, bulk_threshold).
        # The emulator answers bulkOperationRunQuery after building the export (Shopify starts
        # it in the background): at 100k on a busy machine that outlasts the default 30 s
        # timeout, and the retried start is refused "already in progress".
        blocks[1] += "bulk_threshold = 1000\ntimeout = 300\n"
        (workdir / "shoploop.toml").write_text("\n".join([
            f'[store]\nurl = "sqlite:///{workdir / "sync.db"}"\n', SYNC_MAPPING, *blocks]))
        env = dict(os.environ, SHOPLOOP_CONFIG=str(workdir / "shoploop.toml"))
        for e in emulators.values():
            env.update(e.environment())
        subprocess.run([sys.executable, "-m", "shoploop", "db", "upgrade"], cwd=workdir,
                       env=env, check=True, capture_output=True)
        shop = emulators["shop"]
        batch = {"shop": 25, "woo": 100}  # metafieldsSet max, WooCommerce batch max
        print(f"# shopify budget: bucket {args.bucket:g} points, restore rate "
              f"{args.restore_rate:g} points/s (Plus: 10000 / 1000; Standard: 1000 / 100)")
        rows: list[tuple[str, str, str, bool]] = []
        peak = 0.0
        runs = ("first full sync", f"{args.changed:.0%} changed", "nothing changed")
        changed = 0
        for number, label in enumerate(runs[:args.runs]):
            if number == 1:
                erp = emulators["erp"]
                customers = sorted(erp.tables["Customer"]._rows)
                changed = max(1, round(len(customers) * args.changed))
                # touch() changes the values; the modified stamp is a value like any other
                stamp = datetime.now(UTC).isoformat()
                for pk in random.Random(SEED).sample(customers, changed):
                    erp.touch("Customer", str(pk[0]), {"Customer_Posting_Group": "BENCH",
                                                       "Last_Modified_Date_Time": stamp})
            for e in emulators.values():
                e.stats.reset()
            # a full bucket at the start: the floor subtracts exactly this content
            shop.bucket = type(shop.bucket)(args.bucket, args.restore_rate)
            print(f"# run {number + 1}: {label} …", flush=True)
            report, wall, memory, cpu = run_job(workdir, env)
            peak = max(peak, memory)
            stats = {c: e.stats.snapshot() for c, e in emulators.items()}
            if os.environ.get("BENCH_SYNC_DEBUG"):
                print(json.dumps({"stats": stats, "imports": report["imports"]}, default=str))
            writes = write_requests(stats)
            cost = stats["shop"].get("cost", 0)
            floor = max(0.0, (cost - args.bucket) / args.restore_rate)
            targets = report["targets"]
            phases = "  ".join(f"{k} {v:.1f}" for k, v in report.get("seconds", {}).items())
            print(f"  phases (s): {phases}  job CPU {cpu:.1f} s")
            print(f"  wall {wall:.1f} s  exit {report['exit_code']}  peak RSS {memory:.0f} MB  "
                  f"shopify cost {cost:,} points (throttled {stats['shop'].get('throttled', 0)})"
                  f"  floor {floor:.1f} s")
            for error in report.get("errors", []):
                print(f"  ERROR {error['connection']} ({error['kind']}): {error['error']}")
            for t in ("shop", "woo"):
                s = targets.get(t, {})
                print(f"  {t}: read {s.get('read', 0):,} matched {s.get('matched', 0):,} "
                      f"changed {s.get('changed', 0):,} written {s.get('written', 0):,} "
                      f"failed {s.get('failed', 0)} unmatched {s.get('unmatched', 0)} "
                      f"ambiguous {s.get('ambiguous', 0)}; write requests {writes[t]:,} "
                      f"({stats[t].get('requests', 0):,} requests in all)")
            if number == 0:
                ratio = wall / floor if floor else math.inf
                rows.append(("first sync wall / floor", f"{wall:.1f} s / {floor:.1f} s = "
                             f"{ratio:.2f}", f"≤ {RATIO_GOAL}", ratio <= RATIO_GOAL))
            else:
                for t in ("shop", "woo"):
                    value = targets.get(t, {}).get("changed", 0) if number == 1 else 0
                    goal = math.ceil(value / batch[t]) if number == 1 else 0
                    rows.append((f"{label}: {t} write requests",
                                 f"{writes[t]:,} (values changed {value:,})",
                                 f"≤ {goal:,}" if number == 1 else "0",
                                 writes[t] <= goal))
                    if number == 1:
                        rows.append((f"{label}: {t} values changed", f"{value:,}",
                                     f"= {changed:,} customers", value == changed))
            rows.append((f"{label}: job wall time", f"{wall:.1f} s", "—", True))
        rows.append(("peak memory of the job process", f"{peak:.0f} MB",
                     f"< {MEMORY_GOAL_MB:.0f} MB", peak < MEMORY_GOAL_MB))
        print(f"\n{args.customers:,} customers, ERP → Shopify + WooCommerce")
        print(f"{'figure':<40} {'measured':<34} {'goal':<22} ")
        for name, value, goal, ok in rows:
            print(f"{name:<40} {value:<34} {goal:<22} {verdict(ok) if goal != '—' else ''}")
    finally:
        for e in emulators.values():
            e.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
