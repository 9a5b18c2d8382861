"""CLI output: progress lines at a bounded rate when not on a terminal, totals and ETAs, and
tables that stay readable (nothing cut to ``…``) at 80 columns."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from shoploop.cli import _import_cmd, _sync_cmd
from shoploop.cli._progress import ProgressBoard, describe, line_interval, progress
from shoploop.cli._tables import ReadableTable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def lines_board(interval: float = 10.0) -> tuple[ProgressBoard, io.StringIO, Clock]:
    out = io.StringIO()
    clock = Clock()
    board = ProgressBoard(interactive=False, console=Console(file=out, width=200),
                          interval=interval, clock=clock)
    return board, out, clock


def test_piped_progress_prints_phase_changes_and_at_most_one_line_per_interval() -> None:
    board, out, clock = lines_board()
    with board:
        board.update("erp customers", description="erp customers")
        board.update("erp customers", total=5000)
        for _ in range(24):  # 24 pages within 3 s: no line
            clock.now += 0.125
            board.update("erp customers", advance=50)
        clock.now += 7.0  # 10 s since the last line
        board.update("erp customers", advance=300)
        board.update("erp customers", advance=300)
        board.finish("erp customers")
    assert out.getvalue().splitlines() == [
        "erp customers: started",
        "erp customers: 0/5,000 (0 %)",
        "erp customers: 1,500/5,000 (30 %) · 150/s · ETA 0:00:23",
        "erp customers: 1,800/5,000 (36 %) · done in 0:00:10",
    ]


def test_an_open_task_is_finished_when_the_board_closes_and_zero_turns_lines_off() -> None:
    board, out, clock = lines_board()
    with board:
        board.update("write → shop", description="write → shop", completed=3, total=7)
        clock.now += 2
    assert out.getvalue().splitlines()[-1] == "write → shop: 3/7 (42 %) · done in 0:00:02"
    quiet, out, _clock = lines_board(interval=0)
    with quiet:
        quiet.update("x", total=3, completed=3)
    assert out.getvalue() == ""


def test_a_failed_task_says_so() -> None:
    board, out, clock = lines_board()
    with board, pytest.raises(ConnectionError), progress("woo customers", shown=board) as task:
        task.advance(200)
        clock.now += 6
        raise ConnectionError("refused")
    assert out.getvalue().splitlines() == [
        "woo customers: started", "woo customers: 200 · failed after 0:00:06"]


@pytest.mark.parametrize(("value", "seconds"), [("", 10.0), ("2.5", 2.5), ("0", 0.0),
                                                ("soon", 10.0), ("-3", 0.0)])
def test_the_line_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                      value: str, seconds: float) -> None:
    monkeypatch.setenv("SHOPLOOP_PROGRESS_INTERVAL", value)
    assert line_interval() == seconds


@given(done=st.integers(0, 10**6), extra=st.integers(0, 10**6),
       seconds=st.floats(0.01, 10**4))
def test_the_eta_is_what_is_left_at_the_rate_so_far(done: int, extra: int,
                                                    seconds: float) -> None:
    text = describe("x", done, done + extra, seconds)
    assert text.startswith(f"x: {done:,}/{done + extra:,}")
    rate = done / seconds
    assert ("ETA" in text) == (extra > 0 and rate > 0)
    if "ETA" in text and "day" not in text:
        hours, minutes, secs = map(int, text.rsplit("ETA ", 1)[1].split(":"))
        assert abs(hours * 3600 + minutes * 60 + secs - extra / rate) <= 0.5


def render(monkeypatch: pytest.MonkeyPatch, module: Any, call: Any) -> str:
    out = io.StringIO()
    monkeypatch.setattr(module, "console", Console(file=out, width=80, color_system=None))
    call()
    return out.getvalue()


def assert_readable(text: str, *words: str) -> None:
    assert "…" not in text, text
    assert all(len(line) <= 80 for line in text.splitlines()), text
    for word in words:
        assert word in text, (word, text)


REPORT = {"dry_run": False, "run_id": "0123456789abcdef", "resumed_batches": 0,
          "errors": [], "batches": {"shopify-main": 4, "woocommerce-main": 2, "erp": 0},
          "targets": {name: dict.fromkeys(_sync_cmd.SUMMARY_COLUMNS, 12_345)
                      for name in ("shopify-main", "woocommerce-main", "erp")}}


def test_the_sync_summary_is_readable_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    text = render(monkeypatch, _sync_cmd, lambda: _sync_cmd._print_summary(REPORT))
    assert_readable(text, "shopify-main", "woocommerce-main", "12,345",
                    *_sync_cmd.SUMMARY_COLUMNS)


def test_many_targets_fall_back_to_one_block_per_target(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    report = {**REPORT, "targets": {f"woocommerce-shop-{n}": REPORT["targets"]["erp"]
                                    for n in range(6)}}
    text = render(monkeypatch, _sync_cmd, lambda: _sync_cmd._print_summary(report))
    assert_readable(text, *(f"woocommerce-shop-{n}" for n in range(6)))


def test_the_diff_and_the_import_table_are_readable_at_80_columns(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    diff = [{"target": "woocommerce-main", "customer": "gid://shopify/Customer/1234567",
             "key": "customer_group", "old": "retail-customers", "new": "wholesale-partners",
             "source": "erp", "source_id": "K-100042"}]
    text = render(monkeypatch, _sync_cmd, lambda: _sync_cmd._print_diff(diff))
    assert_readable(text, "gid://shopify/Customer/1234567", "wholesale-partners",
                    "customer_group", "erp/K-100042")

    def run_import(*_args: Any, **_kw: Any) -> tuple[list[dict[str, Any]], int]:
        return [{"connection": "woocommerce-main", "stream": "customers", "ok": True,
                 "read": 12_133, "inserted": 12_133, "updated": 0, "unchanged": 0,
                 "pages": 122, "warnings": 3},
                {"connection": "erp", "stream": "customers", "ok": False,
                 "error": "[erp] read_customers: cannot connect"}], 3

    monkeypatch.setattr(_import_cmd, "run_import", run_import)
    app = typer.Typer()
    _import_cmd.register(app)
    app.command("noop")(lambda: None)  # two commands: `import` stays a sub-command
    out = io.StringIO()
    monkeypatch.setattr(_import_cmd, "console", Console(file=out, width=80, color_system=None))
    result = CliRunner().invoke(app, ["import", "customers"], obj=None)
    assert result.exit_code == 3, result.output
    assert_readable(out.getvalue(), "woocommerce-main", "12,133", "122", "cannot connect")


def test_plugins_and_history_are_readable_at_80_columns(run_cli: Any, tmp_path: Path) -> None:
    done = run_cli("plugins", env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert_readable(done.stdout, "register_connectors", "write_customer_attributes",
                    "woocommerce")
    (tmp_path / "shoploop.toml").write_text(f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n')
    assert run_cli("db", "upgrade").returncode == 0
    done = run_cli("sync", "history", env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert_readable(done.stdout, "run", "started", "status", "written", "failed")
    assert json.loads(run_cli("sync", "history", "--json").stdout) == {"runs": []}


def test_a_table_that_fits_stays_a_table() -> None:
    table = ReadableTable("t", [("a", "left"), ("b", "right")])
    table.add_row("x", "1")
    out = io.StringIO()
    Console(file=out, width=80).print(table)
    assert out.getvalue().splitlines()[1:4] == ["┏━━━┳━━━┓", "┃ a ┃ b ┃", "┡━━━╇━━━┩"]
    with pytest.raises(ValueError, match="1 cells for 2 columns"):
        table.add_row("only one")
