"""`shoploop demo` end to end, and `shoploop import` reading only what changed afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _shoploop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    return subprocess.run([sys.executable, "-m", "shoploop", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    work = tmp_path_factory.mktemp("demo")
    done = _shoploop("demo", "--customers", "300", "--dir", "d", "--json", cwd=work)
    assert done.returncode == 0, done.stderr
    return work / "d", json.loads(done.stdout)


def test_demo_loads_everything_the_generator_wrote(demo):
    directory, report = demo
    manifest = json.loads((directory / "data" / "manifest.json").read_text())
    counts = manifest["counts"]
    for stream in ("customers", "products", "orders", "installed_base"):
        assert report["loaded"][stream]["read"] == counts[stream], stream
        assert report["loaded"][stream]["inserted"] == counts[stream], stream
        assert report["rerun_read"][stream] == 0, "a re-run must read nothing new"
    people = report["insights"]["customers"]
    assert people["b2b"] + people["b2c"] == counts["customers"]
    assert people["without orders"] + people["one-time buyers"] + people["repeat buyers"] \
        == counts["customers"]
    assert sum(report["insights"]["orders by channel"].values()) == counts["orders"]
    assert report["insights"]["bought together"], "co-purchases exist in the demo data"


def test_import_reads_only_changed_records(demo):
    directory, _ = demo
    customers = directory / "data" / "customers.jsonl"
    first = json.loads(customers.read_text().splitlines()[0])
    first.update(id="C999999", email="new.customer@example.com",
                 updated_at="2026-11-02T10:00:00+00:00")
    with customers.open("a") as fh:
        fh.write(json.dumps(first) + "\n")
    done = _shoploop("-c", "shoploop.toml", "import", "customers", "--json", cwd=directory)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)["connections"][0]
    assert (row["connection"], row["read"], row["inserted"], row["updated"]) == \
        ("erp_files", 1, 1, 0)
    again = _shoploop("-c", "shoploop.toml", "import", "customers", "--json", cwd=directory)
    assert json.loads(again.stdout)["connections"][0]["read"] == 0


def test_import_unknown_stream_and_connection_exit_2(demo):
    directory, _ = demo
    assert _shoploop("-c", "shoploop.toml", "import", "sheep", cwd=directory).returncode == 2
    done = _shoploop("-c", "shoploop.toml", "import", "orders", "--from", "nope", cwd=directory)
    assert done.returncode == 2 and "no connection named 'nope'" in done.stderr


def test_import_unreachable_source_exits_3(tmp_path):
    (tmp_path / "shoploop.toml").write_text(
        '[connections.gone]\ntype = "files"\npath = "missing-folder"\n')
    assert _shoploop("db", "upgrade", cwd=tmp_path).returncode == 0
    done = _shoploop("import", "customers", "--json", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    row = json.loads(done.stdout)["connections"][0]
    assert row["ok"] is False and "missing-folder" in row["error"]
