"""End to end over real sockets: ERP → both shops, derived attributes → ERP, dry run, the CLI's
exit codes, ``--json``, ``sync history`` and ``sync show``."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

from shoploop.sync._values import canonical


def lowered(value: str | None) -> str | None:
    return value.lower() if value else None


def assert_shops_hold_erp_values(env: Any) -> None:
    """Every shop customer holds exactly the ERP's values (through the mapping's transforms)
    and the ERP customer number as the link attribute."""
    groups, reps = env.erp_values("customer_group"), env.erp_values("sales_rep")
    numbers = {number: number for number in groups}
    assert len(groups) >= 100
    for key, expected in (("customer_group", groups),
                          ("sales_rep", {k: lowered(v) for k, v in reps.items()}),
                          ("customer_number", numbers)):
        shop = env.shop_values(key)
        assert {k: canonical(v) for k, v in shop.items()} == \
            {k: canonical(v) for k, v in expected.items()}, key
    for key, expected in (("customer_group", groups),
                          ("rep", {k: lowered(v) for k, v in reps.items()}),
                          ("customer_number", numbers)):
        woo = env.woo_values(key)
        assert {k: canonical(v) for k, v in woo.items()} == \
            {k: canonical(v) for k, v in expected.items()}, key


def test_erp_to_both_shops_and_derived_to_erp_then_a_rerun_writes_nothing(
        make_env: Callable[..., Any], store_url: str) -> None:
    env = make_env(customers=150, store_url=store_url)
    env.write_config(env.erp_to_shops + env.derived_to_erp)
    # The seeds already agree on most values: the mixed-case sales reps, the link attribute
    # and the lifecycle stages (never written to the ERP yet) are what must change.
    assert any(v and v != v.lower() for v in env.erp_values("sales_rep").values())
    assert not any(env.erp_values("lifecycle_stage").values())
    before = env.writes()

    first = env.run()

    assert first["ok"] and first["exit_code"] == 0 and first["errors"] == []
    assert_shops_hold_erp_values(env)
    stages = env.erp_values("lifecycle_stage")
    assert stages == env.expected_derived()
    assert all(stages.values()) and len(set(stages.values())) > 2  # computed, and varied
    for target in ("shop", "woo", "erp"):
        counts = first["targets"][target]
        assert counts["read"] == counts["matched"] == 150
        assert counts["written"] == counts["changed"] > 0
        assert counts["failed"] == counts["conflicts"] == counts["unmatched"] == 0
    assert first["targets"]["erp"]["written"] == 150
    after_first = env.writes()
    assert all(after_first[name] > before[name] for name in after_first)
    # Written in the connectors' full batches, not one request per value.
    assert first["batches"]["shop"] < first["targets"]["shop"]["written"] / 10
    assert first["batches"]["woo"] < first["targets"]["woo"]["written"] / 10

    second = env.run()

    assert second["ok"] and env.totals(second, "written") == env.totals(second, "changed") == 0
    assert second["batches"] == {"shop": 0, "woo": 0, "erp": 0}
    assert env.writes() == after_first
    assert_shops_hold_erp_values(env)


def test_dry_run_prints_the_diff_and_writes_nothing(make_env: Callable[..., Any]) -> None:
    env = make_env(customers=100)
    before = env.writes()

    done = env.cli("sync", "customers", "--dry-run", "--diff-limit", "1000")

    assert done.returncode == 0, done.stderr
    rep = next(v for v in env.erp_values("sales_rep").values() if v and v != v.lower())
    number = next(n for n, v in env.erp_values("sales_rep").items() if v == rep)
    lines = done.stdout.splitlines()
    # One diff row per change: target, customer, attribute, old → new, and where it came from.
    shop_id = env.shop_gid(number).rsplit("/", 1)[-1]
    row = next(line for line in lines if f" {shop_id} " in line and " sales_rep " in line)
    assert rep in row and rep.lower() in row and "erp/" + number in row
    woo_id = str(env.woo.data.woo_id("customers", number))
    assert any(f" {woo_id} " in line and " customer_number " in line and number in line
               for line in lines)
    assert "dry run: nothing written" in done.stdout
    # Piped, the phases are told on stderr: each import with its count, then the planning.
    progress = done.stderr.splitlines()
    assert "import erp customers: started" in progress
    assert any(line.startswith("import woo customers: 100/100 (100 %) · done in ")
               for line in progress), done.stderr
    assert any(line.startswith("plan → shop (customers): 100/100 (100 %) · done in ")
               for line in progress), done.stderr
    assert env.writes() == before
    assert env.batch_count() == 0
    assert env.shop_values("customer_number") == dict.fromkeys(env.shop_values(
        "customer_number"))  # nothing linked remotely yet

    # The report lists the same diff; the counts say what a real run would change.
    summary = env.run(dry_run=True)
    assert summary["dry_run"] is True
    assert len(summary["diff"]) == env.totals(summary, "changed") > 100
    assert {d["key"] for d in summary["diff"]} == {"sales_rep", "rep", "customer_number"}
    assert env.totals(summary, "written") == 0
    assert env.writes() == before and env.batch_count() == 0

    real = env.run()
    assert env.totals(real, "written") == len(summary["diff"])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_cli_exit_codes_json_history_and_show(make_env: Callable[..., Any]) -> None:
    env = make_env(customers=100)

    env.write_config(env.erp_to_shops + '\n[sync.attributes.x]\nmaster = "nowhere"\n')
    done = env.cli("sync", "customers")
    assert done.returncode == 2
    assert "sync.attributes.x.master" in done.stderr + done.stdout

    env.write_config(env.erp_to_shops)
    summary = env.run()  # in-process: the CLI's start-up costs seconds on a busy machine
    assert summary["exit_code"] == 0
    first_run = summary["run_id"]

    # WooCommerce unreachable: exit 3, the shop is still synced (nothing left to write).
    woo_block = env.woo.connection_block("woo").replace(
        f":{env.woo.port}", f":{_closed_port()}")
    env.write_config(env.erp_to_shops, blocks={"woo": woo_block})
    env.edit_erp(next(iter(env.erp_rows())), {"Customer_Posting_Group": "vip-moved"})
    done = env.cli("sync", "customers", "--json")
    assert done.returncode == 3, done.stdout + done.stderr
    broken = json.loads(done.stdout)  # one object, nothing else on stdout
    # Each retry of the unreachable store was announced on stderr, not waited in silence.
    notices = [line for line in done.stderr.splitlines() if "woo: read_customers failed" in line]
    assert len(notices) == 5 and "retrying in" in notices[0], done.stderr
    assert [n.rsplit("(attempt ", 1)[1] for n in notices] == [f"{n} of 6)" for n in range(2, 7)]
    assert any(line.startswith("import woo customers: 0 · failed after ")
               for line in done.stderr.splitlines()), done.stderr
    for counts in broken["targets"].values():
        assert {"read", "matched", "changed", "written", "skipped", "conflicts",
                "failed"} <= set(counts)
    assert broken["exit_code"] == 3 and not broken["ok"]
    assert any(e["connection"] == "woo" and e["kind"] == "unreachable"
               for e in broken["errors"])
    assert broken["targets"]["shop"]["written"] == 1
    assert "vip-moved" in env.shop_values("customer_group").values()
    assert "vip-moved" not in env.woo_values("customer_group").values()

    env.write_config(env.erp_to_shops)
    recovered = env.run()
    assert recovered["exit_code"] == 0
    assert recovered["targets"]["woo"]["written"] == 1
    assert recovered["targets"]["shop"]["written"] == 0

    done = env.cli("sync", "history", "--json")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)["runs"]
    assert [r["run_id"] for r in runs[:3]] == [recovered["run_id"], broken["run_id"],
                                               first_run]
    assert [r["status"] for r in runs[:3]] == ["succeeded", "failed", "succeeded"]

    done = env.cli("sync", "show", first_run[:8], "--json", "--status", "written")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["run_id"] == first_run
    assert len(shown["changes"]) == env.totals(summary, "written")
    assert all(c["status"] == "written" and c["batch"] is not None for c in shown["changes"])
    assert {b["target"] for b in shown["batches"]} == {"shop", "woo"}
    done = env.cli("sync", "show", recovered["run_id"][:8])
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if "vip-moved" in line)
    assert " woo " in row and " customer_group " in row and " written " in row


def test_an_unreachable_master_stops_the_run_with_one_error(
        make_env: Callable[..., Any]) -> None:
    """The ERP is master and (with a derived attribute) read for customers, orders and
    installed base: when it is down the run exits 3 naming it once, asks it only once, and
    plans and writes nothing."""
    env = make_env(customers=30)
    url = env.erp.url.rstrip("/")
    erp_block = env.erp.connection_block("erp").replace(
        url, f"http://127.0.0.1:{_closed_port()}")
    env.write_config(env.erp_to_shops + env.derived_to_erp, blocks={"erp": erp_block})
    before = env.writes()
    summary = env.run()
    assert summary["exit_code"] == 3
    assert [(e["connection"], e["kind"]) for e in summary["errors"]] == [("erp", "unreachable")]
    assert [row["stream"] for row in summary["imports"] if row["connection"] == "erp"] == [
        "customers"]
    assert summary["targets"] == {} and env.writes() == before
