"""Benchmark the demo data generator.

    .venv/bin/python bench/bench_demo_data.py [--customers N] [--seed S] [--out DIR]

Prints wall and CPU seconds, customers/s, order lines/s and a ratio against a baseline measured
in the same process: encoding and writing as many minimal JSON records as the generator wrote
(``{"id": …, "n": …}``). The ratio says how much the generator costs beyond bare I/O and
``json`` on this machine, so figures from machines of different speed (or a busy shared one)
stay comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from shoploop.demo_data import generate


def baseline(records: int, out_dir: Path) -> float:
    """Seconds to json-encode and write ``records`` minimal dicts, batched like the generator."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    started = time.perf_counter()
    with (out_dir / "baseline.jsonl").open("wb") as fh:
        batch: list[str] = []
        for n in range(records):
            batch.append(encode({"id": f"R{n:07d}", "n": n}))
            if len(batch) == 2000:
                fh.write(("\n".join(batch) + "\n").encode())
                batch = []
        if batch:
            fh.write(("\n".join(batch) + "\n").encode())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the files here (default: a temporary directory)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="shoploop-bench-") as tmp:
        out = args.out or Path(tmp) / "demo-data"
        cpu0, wall0 = time.process_time(), time.perf_counter()
        summary = generate(out, seed=args.seed, customers=args.customers)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        counts = summary.counts
        records = (counts["customers"] + counts["products"] + counts["orders"]
                   + counts["installed_base"])
        base = baseline(records, Path(tmp))
        size = sum(p.stat().st_size for p in summary.files.values())

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"demo data: seed {args.seed}, {counts['customers']:,} customers, "
          f"{counts['products']:,} products")
    print(f"  wrote      {counts['orders']:,} orders / {counts['order_lines']:,} order lines, "
          f"{counts['installed_base']:,} installed-base rows, {size / 1e6:,.0f} MB")
    print(f"  wall       {wall:8.2f} s    (cpu {cpu:.2f} s; {os.cpu_count()} cores, "
          f"load average {load:.2f})")
    print(f"  customers  {counts['customers'] / wall:12,.0f} /s")
    print(f"  lines      {counts['order_lines'] / wall:12,.0f} /s")
    print(f"  baseline   {base:8.2f} s    (json.dumps + write of {records:,} minimal records)")
    print(f"  ratio      {wall / base:8.1f} x  baseline")


if __name__ == "__main__":
    main()
