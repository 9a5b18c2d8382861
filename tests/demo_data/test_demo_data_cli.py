"""``shoploop demo-data`` through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import shoploop
from shoploop.cli._app import build_app


def run(*args: str):
    return CliRunner().invoke(build_app(shoploop.new_host()), ["demo-data", *args])


def test_demo_data_json_summary_and_files(tmp_path: Path):
    out = tmp_path / "data"
    result = run("--seed", "4", "--customers", "150", "--years", "1", "--as-of", "2025-01-15",
                 "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["seed"] == 4 and summary["counts"]["customers"] == 150
    assert summary["parameters"]["as_of"] == "2025-01-15"
    assert summary["parameters"]["window_start"] == "2024-01-15"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == summary["counts"]
    lines = (out / "orders.jsonl").read_text().splitlines()
    assert len(lines) == summary["counts"]["orders"] > 0


def test_demo_data_table_and_defaults(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("--customers", "100", "--products", "25")
    assert result.exit_code == 0, result.output
    assert "order lines" in result.output and "2024-11-01" in result.output
    manifest = json.loads((tmp_path / "demo-data" / "manifest.json").read_text())
    assert manifest["parameters"] == {"seed": 1, "customers": 100, "products": 25, "years": 2,
                                      "as_of": "2026-11-01", "window_start": "2024-11-01"}


def test_demo_data_rejects_bad_options(tmp_path: Path):
    result = run("--products", "5", "--out", str(tmp_path))
    assert result.exit_code == 2
    result = run("--as-of", "01.11.2026", "--out", str(tmp_path))
    assert result.exit_code == 2
