"""Benchmark the customer-attribute sync: ERP → Shopify + WooCommerce emulators, three runs.

    .venv/bin/python bench/bench_sync.py [--plan standard|plus] [--customers 10000]
                                         [--sizes 10000,100000]

The three emulators run in this process (seeded from the same demo merchant, so the same people
exist in each); the sync job runs as ``python -m shoploop sync customers --json`` in a child
process against a SQLite store, so its peak memory (``ru_maxrss`` of that child alone, through
``_measure.py``) is measured without the emulators' data.

1. first full sync (everything written): wall time against the *write floor* — the points the
   necessary writes cost (``metafieldsSet``: 10 points per call of 25 values, ⌈changed / 25⌉
   calls) plus what the import's reads cost (the bulk export, counts, paged reads: measured,
   per root field, by the Shopify emulator), at the plan's restore rate. The bucket starts
   *empty* when the job starts (``--full-bucket``: full, and the floor subtracts its content),
   so no client can finish sooner without exceeding the rate limit. Beside it the points the
   run *spent*, split into import reads, reads by the write batches and writes, so read
   traffic cannot hide in the floor. WooCommerce and the ERP emulator have no rate limit
   (floor 0) and the targets are written in parallel, so the floor of the run is Shopify's;
   goal ≤ 1.5.
2. 1 % of the ERP customers get a new ``customer_group`` (the ERP emulator's ``touch``): write
   requests per target (Shopify ``metafieldsSet`` calls, WooCommerce ``/customers/batch``
   calls) against ceil(changed / batch size).
3. nothing changed: 0 write requests per target.

``--sizes 10000,100000`` runs the whole bench per size and prints how the import and the
nothing-changed run grow (goal: ≤ 1.1 x the size ratio, i.e. ≤ 11x for 10x the data).

Plans (``--plan``; ``--restore-rate`` / ``--bucket`` override): restore rates from Shopify's
"GraphQL Admin API rate limits" (https://shopify.dev/docs/apps/build/apis/graphql-admin/
rate-limits: Standard 100 points/s, Advanced 200, Plus 1,000). That page gives no bucket sizes;
the bucket responses report (``throttleStatus.maximumAvailable``) is 1,000 points on Standard,
and Plus's 10,000 is an assumption (10 x the restore rate, as on Standard) — with the bucket
starting empty it does not enter the floor.

``BENCH_SYNC_DEBUG=1`` prints every run's emulator counters and import rows;
``BENCH_SYNC_WRAP=script.py`` runs the job as ``python script.py sync customers --json`` (a
profiler that runs ``shoploop`` in-process).
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
RATIO_GOAL = 1.5
GROWTH_SLACK = 1.1
"""Linear growth: 10x the data may take ≤ 11x the time."""
PLANS = {"standard": (1_000.0, 100.0), "advanced": (2_000.0, 200.0),
         "plus": (10_000.0, 1_000.0)}
"""plan → (bucket points, restore points/s); see the module docstring for the sources."""
METAFIELDS_PER_CALL = 25  # metafieldsSet: "a maximum of 25 metafields to be set at a time"
MUTATION_POINTS = 10
IMPORT_READS = ("customers", "customersCount", "bulkOperationRunQuery", "bulkOperation",
                "bulkOperations", "orders", "ordersCount", "products", "productsCount")
"""Root fields the import's reads use (the bulk export is started by a mutation)."""
WRITES = ("metafieldsSet", "metafieldsDelete", "tagsAdd", "tagsRemove", "customerCreate")
WRITE_READS = ("nodes",)
"""``nodes(ids:)``: what the write batches read (their owners' current values)."""


def write_requests(stats: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Write requests per target since the last reset: Shopify mutations that write values,
    WooCommerce batch calls (single PUTs counted too, should the adapter ever send them)."""
    shop = stats["shop"]
    woo = stats["woo"]
    return {"shop": int(shop.get("calls.metafieldsSet", 0) + shop.get("calls.tagsAdd", 0)
                        + shop.get("calls.tagsRemove", 0)),
            "woo": int(woo.get("writes", 0))}


def spent_points(shop: dict[str, Any]) -> dict[str, int]:
    """The Shopify emulator's actual cost by what it was for."""
    def total(fields: tuple[str, ...]) -> int:
        return int(sum(shop.get(f"cost.{field}", 0) for field in fields))

    spent = {"import reads": total(IMPORT_READS), "write-batch reads": total(WRITE_READS),
             "writes": total(WRITES)}
    spent["other"] = int(shop.get("cost", 0)) - sum(spent.values())
    spent["all"] = int(shop.get("cost", 0))
    return spent


def write_floor(changed_values: int, spent: dict[str, int], bucket_at_start: float,
                restore_rate: float) -> tuple[int, float]:
    """(points, seconds): the necessary writes (full metafieldsSet calls) plus the import's
    reads, beyond what the bucket held at the start, at the restore rate."""
    points = MUTATION_POINTS * math.ceil(changed_values / METAFIELDS_PER_CALL) \
        + spent["import reads"]
    return points, max(0.0, points - bucket_at_start) / restore_rate


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


Row = tuple[str, str, str, bool]


def bench_size(customers: int, args: argparse.Namespace, bucket: float, rate: float
               ) -> tuple[list[Row], dict[str, float]]:
    """The three runs at one size: the table's rows, and the times the growth is judged on."""
    host = load_plugins()
    extra = {"shopify": {"bucket": str(bucket), "restore_rate": str(rate)}}
    names = {"erp": "erp", "shop": "shopify", "woo": "woocommerce"}
    emulators: dict[str, Any] = {}
    workdir = Path(tempfile.mkdtemp(prefix="bench_sync_"))
    print(f"# seeding 3 emulators with {customers:,} customers (seed {SEED}) …", flush=True)
    started = time.perf_counter()
    times: dict[str, float] = {}
    try:
        for conn, kind in names.items():
            emulators[conn] = host.emulators.emulators[kind].factory(EmulatorOptions(
                customers=0, seed=SEED, faults=0.0, extra=extra.get(kind, {})))
        # Customers only: the mapped attributes are ERP-mastered, so the job reads no orders,
        # and generating 100k customers' order history would take minutes.
        people = list(DemoMerchant(seed=SEED, customers=customers).iter_customers())
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
        batch = {"shop": METAFIELDS_PER_CALL, "woo": 100}  # metafieldsSet max, Woo batch max
        rows: list[Row] = []
        peak = 0.0
        runs = ("first full sync", f"{args.changed:.0%} changed", "nothing changed")
        changed = 0
        for number, label in enumerate(runs[:args.runs]):
            if number == 1:
                erp = emulators["erp"]
                ids = sorted(erp.tables["Customer"]._rows)
                changed = max(1, round(len(ids) * args.changed))
                # touch() changes the values; the modified stamp is a value like any other
                stamp = datetime.now(UTC).isoformat()
                for pk in random.Random(SEED).sample(ids, changed):
                    erp.touch("Customer", str(pk[0]), {"Customer_Posting_Group": "BENCH",
                                                       "Last_Modified_Date_Time": stamp})
            for e in emulators.values():
                e.stats.reset()
            # The bucket as the job finds it: empty (the floor is points / restore rate) or,
            # with --full-bucket, full (the floor subtracts exactly this content).
            shop.bucket = type(shop.bucket)(bucket, rate)
            if not args.full_bucket:
                shop.bucket.take(shop.bucket.status()["currentlyAvailable"])
            at_start = shop.bucket.status()["currentlyAvailable"]
            print(f"# run {number + 1}: {label} …", flush=True)
            report, wall, memory, cpu = run_job(workdir, env)
            peak = max(peak, memory)
            stats = {c: e.stats.snapshot() for c, e in emulators.items()}
            if os.environ.get("BENCH_SYNC_DEBUG"):
                print(json.dumps({"stats": stats, "imports": report["imports"]}, default=str))
            writes = write_requests(stats)
            targets = report["targets"]
            spent = spent_points(stats["shop"])
            floor_points, floor = write_floor(targets.get("shop", {}).get("changed", 0),
                                              spent, at_start, rate)
            phases = "  ".join(f"{k} {v:.1f}" for k, v in report.get("seconds", {}).items())
            print(f"  phases (s): {phases}  job CPU {cpu:.1f} s")
            print(f"  wall {wall:.1f} s  exit {report['exit_code']}  peak RSS {memory:.0f} MB  "
                  f"throttled {stats['shop'].get('throttled', 0)}")
            print("  shopify points spent: " + ", ".join(f"{k} {v:,}" for k, v in spent.items())
                  + f"; write floor {floor_points:,} points = {floor:.1f} s")
            for error in report.get("errors", []):
                print(f"  ERROR {error['connection']} ({error['kind']}): {error['error']}")
            for t in ("shop", "woo"):
                s = targets.get(t, {})
                print(f"  {t}: read {s.get('read', 0):,} matched {s.get('matched', 0):,} "
                      f"changed {s.get('changed', 0):,} written {s.get('written', 0):,} "
                      f"failed {s.get('failed', 0)} conflicts {s.get('conflicts', 0)} "
                      f"unmatched {s.get('unmatched', 0)} ambiguous {s.get('ambiguous', 0)}; "
                      f"write requests {writes[t]:,} "
                      f"({stats[t].get('requests', 0):,} requests in all)")
            if number == 0:
                times["import"] = report.get("seconds", {}).get("import", 0.0)
                ratio = wall / floor if floor else math.inf
                rows.append(("first sync wall / write floor",
                             f"{wall:.1f} s / {floor:.1f} s = {ratio:.2f}", f"≤ {RATIO_GOAL}",
                             ratio <= RATIO_GOAL))
                rows.append(("first sync shopify points",
                             f"spent {spent['all']:,}, floor {floor_points:,}",
                             "write-batch reads 0", spent["write-batch reads"] == 0))
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
            if number == 2:
                times["nothing changed"] = wall
            rows.append((f"{label}: job wall time", f"{wall:.1f} s", "—", True))
        rows.append(("peak memory of the job process", f"{peak:.0f} MB",
                     f"< {MEMORY_GOAL_MB:.0f} MB", peak < MEMORY_GOAL_MB))
        return rows, times
    finally:
        for e in emulators.values():
            e.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


def print_table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    print(f"{'figure':<40} {'measured':<40} {'goal':<22} ")
    for name, value, goal, ok in rows:
        print(f"{name:<40} {value:<40} {goal:<22} {verdict(ok) if goal != '—' else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", choices=sorted(PLANS), default="standard",
                        help="Shopify plan whose rate limit the emulator models")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--sizes", type=str, default=None,
                        help="comma-separated sizes, e.g. 10000,100000: the bench per size and "
                             "the growth between them (overrides --customers)")
    parser.add_argument("--restore-rate", type=float, default=None,
                        help="Shopify points/s (default: the plan's)")
    parser.add_argument("--bucket", type=float, default=None,
                        help="Shopify bucket points (default: the plan's)")
    parser.add_argument("--full-bucket", action="store_true",
                        help="start each run with a full bucket instead of an empty one")
    parser.add_argument("--changed", type=float, default=0.01,
                        help="share of ERP customers changed before the second run")
    parser.add_argument("--runs", type=int, default=3, choices=(1, 2, 3),
                        help="stop after this many runs (profiling)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    bucket = args.bucket if args.bucket is not None else PLANS[args.plan][0]
    rate = args.restore_rate if args.restore_rate is not None else PLANS[args.plan][1]
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [args.customers]
    print(f"# shopify plan {args.plan}: bucket {bucket:g} points, restore rate {rate:g} "
          f"points/s, bucket {'full' if args.full_bucket else 'empty'} at each job start")
    measured: dict[int, dict[str, float]] = {}
    for size in sizes:
        rows, measured[size] = bench_size(size, args, bucket, rate)
        print_table(f"{size:,} customers, ERP → Shopify + WooCommerce, {args.plan} plan", rows)
    if len(sizes) > 1:
        growth: list[Row] = []
        small, large = min(sizes), max(sizes)
        goal = GROWTH_SLACK * large / small
        for name in ("import", "nothing changed"):
            if name in measured[small] and name in measured[large] and measured[small][name]:
                ratio = measured[large][name] / measured[small][name]
                growth.append((f"{name}: {large:,} / {small:,}",
                               f"{measured[large][name]:.1f} s / {measured[small][name]:.1f} s"
                               f" = {ratio:.1f}x", f"≤ {goal:.0f}x", ratio <= goal))
        print_table(f"growth, {args.plan} plan", growth)


if __name__ == "__main__":
    main()
