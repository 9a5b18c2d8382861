"""Benchmark the mirror path: demo data → `files` connector → store (SQLite, and PostgreSQL when
reachable), first load and an incremental re-run.

    .venv/bin/python bench/bench_mirror.py [--customers N] [--postgres URL]

Baseline, measured in the same process: validating the same JSON lines into the shoploop models
without any connector or store (the parse floor every connector pays). The ratio says what paging,
cursors, hashing and the database add on top; it stays comparable across machines.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _postgres import postgres_schema

from shoploop._plugins import load_plugins
from shoploop.demo_data import generate
from shoploop.hooks import Customer, InstalledEquipment, Order, Product
from shoploop.jobs import STREAMS, mirror_stream
from shoploop.plugins.files import FilesConfig, FilesConnector
from shoploop.store import Store

MODELS = {"customers": Customer, "orders": Order, "products": Product,
          "installed_base": InstalledEquipment}


def parse_floor(data: Path) -> tuple[int, float, float]:
    """Records, wall seconds and this process's CPU seconds of parsing alone."""
    started, cpu, records = time.perf_counter(), time.process_time(), 0
    for stream, model in MODELS.items():
        with (data / f"{stream}.jsonl").open("rb") as fh:
            for line in fh:
                model.model_validate_json(line)
                records += 1
    return records, time.perf_counter() - started, time.process_time() - cpu


def mirror_all(data: Path, url: str) -> tuple[int, float, float, int, float]:
    """Records, wall and CPU seconds of the first load; records and wall of the re-run."""
    load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "files"})
    connector = FilesConnector("bench", FilesConfig(type="files", path=data, page_size=1000))
    with Store(url) as store:
        store.upgrade()
        started, cpu, records = time.perf_counter(), time.process_time(), 0
        for stream in STREAMS:
            records += mirror_stream(connector, store, connection="bench", stream=stream).read
        first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, again = time.perf_counter(), 0
        for stream in STREAMS:
            again += mirror_stream(connector, store, connection="bench", stream=stream).read
        return records, first, first_cpu, again, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        generate(data, seed=7, customers=args.customers)
        records, floor, floor_cpu = parse_floor(data)
        print(f"records: {records:,} (customers {args.customers:,}, orders, products, "
              f"installed base)")
        print(f"baseline parse only: {floor:.2f}s  {records / floor:,.0f} records/s  "
              f"(cpu {floor_cpu:.2f}s)")
        with postgres_schema(args.postgres) as pg_url:
            targets = [("sqlite", f"sqlite:///{tmp}/bench.db")]
            if pg_url:
                targets.append(("postgresql", pg_url))
            for name, url in targets:
                read, first, first_cpu, again, rerun = mirror_all(data, url)
                assert read == records, (read, records)
                # CPU seconds beside wall: on a shared machine the wall ratio mostly measures the
                # neighbours; the CPU ratio is this process's own work (the database server's
                # work is in wall only).
                print(f"{name}: first load {first:.2f}s  {read / first:,.0f} records/s  "
                      f"ratio to parse floor {first / floor:.2f}x (cpu {first_cpu:.2f}s "
                      f"{read / first_cpu:,.0f} records/s, {first_cpu / floor_cpu:.2f}x); "
                      f"re-run read {again} records "
                      f"in {rerun:.2f}s")


if __name__ == "__main__":
    main()
