"""Benchmark the scale-out (issue 19): one sync of N emulated Shopify shops from one emulated ERP,
in process and on 1, 2 and 4 Celery worker processes.

    .venv/bin/python bench/bench_scale.py [--shops 8] [--customers 1000] [--workers 1,2,4]
                                          [--broker redis://127.0.0.1:6379/0]
                                          [--restore-rate 0]

Every run starts from scratch — fresh emulators seeded alike, a fresh PostgreSQL schema — so
each writes everything. The in-process run is ``shoploop jobs run sync`` with ``backend =
"inprocess"`` in a child process (the fan-out's steps one after another); a worker run is
``shoploop jobs run sync`` sent to K ``shoploop worker --pool solo`` processes on one Redis
queue, timed from sending until every lane's run succeeded in the store (polled every 0.1 s:
the bench's resolution). Throughput: shop customers synced per second; ratios to one worker and
to the in-process run of the same bench run, so they compare across machines — the absolute
figures do not.

``--restore-rate 0`` (the default) lifts Shopify's rate limit in the emulators: the runs are then
CPU-bound, and on a 2-core machine the emulators (threads of this process), PostgreSQL and the
workers share those two cores — the curve flattens at about the core count whatever the worker
count. ``--restore-rate 100`` (Shopify's Standard plan, points/s, bucket 1,000) makes each lane
wait on its own shop's budget: that is where more workers pay, since N shops have N budgets.
The issue's full size, ``--shops 20 --customers 5000``, takes many minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _postgres import postgres_schema
from sqlalchemy import select

from shoploop import load_plugins
from shoploop.hooks import EmulatorOptions
from shoploop.store import Store, SyncRunRecord

SEED = 5
MAPPING = """\
[sync]
match_keys = ["email"]

[sync.attributes.customer_group]
master = "erp"
targets = [{targets}]

[sync.attributes.sales_rep]
master = "erp"
transform = "lower"
targets = [{targets}]
"""


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (``/proc/<pid>/stat``), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class World:
    """Fresh emulators and a config for one run."""

    def __init__(self, tmp: Path, args: argparse.Namespace, store_url: str,
                 workers: int) -> None:
        host = load_plugins()
        factories = host.emulators.emulators
        extra = ({"bucket": "1000", "restore_rate": str(args.restore_rate)}
                 if args.restore_rate else {"bucket": "1000000", "restore_rate": "1000000"})
        self.erp = factories["erp"].factory(EmulatorOptions(customers=args.customers,
                                                            seed=SEED))
        self.erp.start()
        self.shops = {}
        for index in range(args.shops):
            shop = factories["shopify"].factory(EmulatorOptions(
                customers=args.customers, seed=SEED, extra=dict(extra)))
            shop.start()
            self.shops[f"shop{index}"] = shop
        self.dir = tmp / f"run-{workers}"
        self.dir.mkdir()
        self.queue = f"bench-scale-{uuid.uuid4().hex[:8]}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
        self.env.update(self.erp.environment(), **next(iter(self.shops.values())).environment())
        jobs = ""
        if workers:
            self.env["BENCH_BROKER"] = args.broker
            jobs = (f'[jobs]\nbackend = "celery"\nbroker_url_env = "BENCH_BROKER"\n'
                    f'queue = "{self.queue}"\n')
        targets = ", ".join(f'"{name}"' for name in self.shops)
        self.config = self.dir / "shoploop.toml"
        self.config.write_text("\n".join([
            f'[store]\nurl = "{store_url}"\n', jobs, MAPPING.format(targets=targets),
            self.erp.connection_block("erp"),
            *(shop.connection_block(name) for name, shop in self.shops.items())]),
            encoding="utf-8")
        self.workers: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
        """``shoploop -c CONFIG ARGS…`` and its CPU seconds (through ``_measure.py``)."""
        measured = self.dir / "cli.rusage.json"
        done = subprocess.run([sys.executable, str(Path(__file__).with_name("_measure.py")),
                               str(measured), sys.executable, "-m", "shoploop", "-c",
                               str(self.config), *args], cwd=self.dir, env=self.env,
                              capture_output=True, text=True, check=False)
        return done, float(json.loads(measured.read_text())["cpu_s"])

    def start_workers(self, count: int) -> None:
        for index in range(count):
            log = (self.dir / f"worker-{index}.log").open("ab")
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "shoploop", "-c", str(self.config), "worker", "--pool",
                 "solo", "--hostname", f"w{index}@{self.queue}", "--loglevel", "INFO"],
                cwd=self.dir, env=self.env, stdout=log, stderr=subprocess.STDOUT))
            log.close()
        deadline = time.monotonic() + 300
        while not all(" ready." in (self.dir / f"worker-{i}.log").read_text(errors="replace")
                      for i in range(count)):
            if time.monotonic() > deadline:
                sys.exit(f"workers not ready after 300 s; see {self.dir}")
            time.sleep(0.1)  # a bench's poll, not a test's synchronisation

    def stop(self) -> None:
        for worker in self.workers:
            worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.wait(timeout=60)
        for emulator in (self.erp, *self.shops.values()):
            emulator.stop()


def lanes_done(url: str, shops: int) -> bool:
    with Store(url) as store, store.session() as session:
        done = {t for r in session.scalars(select(SyncRunRecord).where(
                    SyncRunRecord.status == "succeeded", SyncRunRecord.job == "sync.customers"))
                for t in (r.summary or {}).get("targets", [])}
    return len(done) == shops


def run(tmp: Path, args: argparse.Namespace, base_url: str, workers: int) -> dict[str, Any]:
    """One sync from scratch: wall seconds, CPU seconds of the bench process (the emulators)
    and of the shoploop processes (the workers; in process, the CLI)."""
    with postgres_schema(base_url) as url:
        if url is None:
            sys.exit("bench_scale needs PostgreSQL (the celery backend refuses SQLite)")
        with Store(url) as store:
            store.upgrade()
        world = World(tmp, args, url, workers)
        try:
            if workers:
                world.start_workers(workers)
                before = sum(cpu_seconds(w.pid) for w in world.workers)
            cpu, started = time.process_time(), time.perf_counter()
            sent, cli_cpu = world.cli("jobs", "run", "sync", "--json")
            if sent.returncode != 0:
                sys.exit(f"jobs run sync failed: {sent.stderr[-2000:]}")
            if workers:
                deadline = time.monotonic() + 3600
                while not lanes_done(url, args.shops):
                    if time.monotonic() > deadline:
                        sys.exit(f"the lanes did not finish in an hour; see {world.dir}")
                    time.sleep(0.1)  # the bench's resolution (module docs)
                own = sum(cpu_seconds(w.pid) for w in world.workers) - before
            else:
                results = json.loads(sent.stdout)["results"]
                bad = [r for r in results if r.get("exit_code", 0) != 0]
                if bad:
                    sys.exit(f"in-process sync failed: {bad}")
                own = cli_cpu  # the in-process run is the CLI's own work
            wall = time.perf_counter() - started
            return {"wall": wall, "bench_cpu": time.process_time() - cpu, "worker_cpu": own}
        finally:
            world.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=8)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--restore-rate", type=float, default=0.0)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    counts = [int(part) for part in args.workers.split(",") if part.strip()]
    records = args.shops * args.customers
    limit = f"restore rate {args.restore_rate:g} points/s" if args.restore_rate else \
        "no rate limit (CPU-bound)"
    print(f"sync of {args.shops} shops x {args.customers:,} customers ({records:,} shop "
          f"customers), {limit}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        results = {0: run(Path(tmp), args, args.postgres, 0)}
        for count in counts:
            results[count] = run(Path(tmp), args, args.postgres, count)
    inprocess, one = results[0]["wall"], results[counts[0]]["wall"] if counts else None
    print(f"{'run':<14}{'wall s':>9}{'customers/s':>13}{'vs 1 worker':>13}"
          f"{'vs in-process':>15}{'bench cpu s':>13}{'shoploop cpu s':>16}")
    for count, result in results.items():
        name = "in process" if count == 0 else f"{count} worker{'s' if count > 1 else ''}"
        ratio_one = f"{one / result['wall']:.2f}x" if one and count else "-"
        print(f"{name:<14}{result['wall']:>9.1f}{records / result['wall']:>13,.0f}"
              f"{ratio_one:>13}{inprocess / result['wall']:>14.2f}x"
              f"{result['bench_cpu']:>13.1f}{result['worker_cpu']:>16.1f}")
    print("ratios > 1: faster than the reference. bench cpu: this process (the emulators); "
          "shoploop cpu: the workers' processes (in process: the CLI's). On 2 shared cores "
          "the emulators, PostgreSQL and the workers compete, and the figures vary with the "
          "neighbours.")


if __name__ == "__main__":
    main()
