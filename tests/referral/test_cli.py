"""``shoploop referral run | funnel`` on an empty ledger, and the CLI's usage errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import shoploop
from shoploop.cli._app import build_app
from shoploop.referral import funnel_rates


def test_run_and_funnel_on_an_empty_ledger(tmp_path: Path) -> None:
    config = tmp_path / "shoploop.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "s.db"}"\n')
    host = shoploop.new_host(strict=True)
    runner = CliRunner()

    def cli(*args: str) -> object:
        return runner.invoke(build_app(host), ["-c", str(config), *args])

    assert cli("db", "upgrade").exit_code == 0  # type: ignore[attr-defined]
    ran = cli("referral", "run", "--now", "2026-03-01", "--json")
    assert ran.exit_code == 0, ran.output  # type: ignore[attr-defined]
    summary = json.loads(ran.output)  # type: ignore[attr-defined]
    assert (summary["now"], summary["counts"], summary["dry_run"]) == (
        "2026-03-01T00:00:00+00:00", {}, False)
    bad = cli("referral", "run", "--now", "yesterday")
    assert bad.exit_code == 2 and "--now 'yesterday'" in bad.output  # type: ignore[attr-defined]
    funnel = cli("referral", "funnel", "--json")
    assert [r["count"] for r in json.loads(funnel.output)["funnel"]] == [0] * 7  # type: ignore[attr-defined]


def test_funnel_rates_divide_by_the_stage_before() -> None:
    rows = funnel_rates({"surveyed": 100, "answered": 37, "satisfied": 30, "invited": 30,
                         "referred_orders": 15, "qualified": 12, "rewarded": 12})
    assert [r["rate"] for r in rows] == [None, 0.37, 0.8108, 1.0, 0.5, 0.8, 1.0]
    assert funnel_rates({})[1]["rate"] == 0.0
