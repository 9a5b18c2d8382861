"""`shoploop demo` end to end (files import, then the sync against the three emulators), and
`shoploop import` reading only what changed afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shoploop.store import Store, table


def _shoploop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    return subprocess.run([sys.executable, "-m", "shoploop", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def demo(demo_once, tmp_path_factory) -> tuple[Path, dict, str]:
    """The demo's folder (a copy: the import tests change it), its --json report, and
    everything it printed."""
    folder, report, printed = demo_once
    copy = tmp_path_factory.mktemp("demo-copy") / "d"
    shutil.copytree(folder, copy)
    return copy, report, printed


def test_demo_loads_everything_the_generator_wrote(demo):
    directory, report, _ = demo
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


SECRETS = re.compile(r"emulator-secret|shpat_|shpss_|\b(ck|cs)_[0-9a-f]{40}\b|whsec_[0-9a-f]")
"""The values the emulators' connections read from the environment (never their names)."""


def test_demo_syncs_erp_into_both_shops_and_derived_stage_into_erp(demo):
    directory, report, printed = demo
    sync = report["sync"]
    first, second = sync["runs"]
    assert sync["customers"] == 300  # min(--customers, the demo's cap)
    assert set(first["targets"]) == {"shop", "woo", "erp"}
    for target, counts in first["targets"].items():
        assert set(counts) >= {"read", "matched", "changed", "written", "skipped", "conflicts",
                               "failed", "unmatched", "ambiguous", "in_sync"}, target
        # the shops lack the ERP's 5 newest customers: created there; everyone else matched
        assert counts["read"] == 300, (target, counts)
        assert (counts["matched"], counts["created"]) == \
            ((300, 0) if target == "erp" else (295, 5)), (target, counts)
        assert counts["written"] == counts["changed"] > 0, (target, counts)
        assert counts["failed"] == counts["conflicts"] == 0, (target, counts)
    assert first["targets"]["erp"]["written"] == 300, "one lifecycle stage per ERP customer"
    assert first["ok"] and first["exit_code"] == 0 and first["errors"] == []
    for target, counts in second["targets"].items():
        assert (counts["changed"], counts["written"], counts["created"]) == (0, 0, 0), \
            (target, counts)
        assert counts["in_sync"] > 0, target
    config = directory / "sync.toml"
    assert Path(sync["config"]) == Path("d", "sync.toml"), "as given by --dir"
    text = config.read_text()
    assert "password_env" in text and not SECRETS.search(text), "secrets stay in the environment"
    assert not SECRETS.search(printed)
    history = _shoploop("-c", str(config), "sync", "history", "--json", cwd=directory)
    assert history.returncode == 0, history.stderr
    assert [r["run_id"] for r in json.loads(history.stdout)["runs"]] == \
        [second["run_id"], first["run_id"]]


def test_demo_prints_the_sync_summary(demo):
    from shoploop.cli._demo_cmd import _print_sync
    from shoploop.cli._state import console

    _, report, _ = demo
    with console.capture() as captured:
        _print_sync(report["sync"])
    out = captured.get()
    for text in ("sync customers", "target", "read", "matched", "created", "changed", "written",
                 "failed", "run again: written 0 to shop, 0 to woo, 0 to erp",
                 "Shopify emulator ran with", "sync history",
                 f"sync show {report['sync']['runs'][0]['run_id'][:8]}"):
        assert text in out, text
    assert "│ shop   │  300 │" in out, out


def test_demo_builds_a_model_and_shows_recommendations_with_reasons(demo):
    directory, report, _ = demo
    reco = report["reco"]
    assert reco["version"] == 1 and reco["orders"] > 0 and reco["pairs"] > 0
    assert {"bought_together", "buy_again"} <= set(reco["strategies"])
    asks = {ask["ask"]: ask for ask in reco["asks"]}
    assert set(asks) == {"product", "customer", "cart"}
    for kind in ("product", "cart"):  # the demo's most frequent pair has partners
        found = asks[kind]["recommendations"]
        assert found and all(re.search(r"\d", r["reason"]) for r in found), found
        anchors = set(asks[kind]["for"].split(" + "))
        assert not anchors & {r["product_id"] for r in found}, "never the anchor itself"
    # The demo used the API `reco show` uses: the CLI answers the same from the stored model.
    done = _shoploop("-c", "shoploop.toml", "reco", "show", "--product",
                     asks["product"]["for"], "--k", "3", "--json", cwd=directory)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)["recommendations"]
    assert [r["product_id"] for r in shown] == \
        [r["product_id"] for r in asks["product"]["recommendations"]]
    # ... and evaluates, every strategy, the blend and the baselines of the same run.
    evaluation = reco["evaluation"]
    recommenders = {r["recommender"] for r in evaluation["next_basket"]["results"]}
    assert {"buy_again", "blend", "popularity", "purchase_frequency"} <= recommenders
    assert evaluation["in_basket"]["evaluated"] > 0
    assert set(evaluation["goals"]) == {"next_basket_recall", "in_basket_hit_rate"}


def test_demo_prints_the_recommendations(demo):
    from shoploop.cli._demo_cmd import _print_reco
    from shoploop.cli._state import console

    directory, report, _ = demo
    with console.capture() as captured:
        _print_reco(report["reco"], directory / "shoploop.toml")
    out = captured.get()
    for ask in report["reco"]["asks"]:
        assert f"reco show --{ask['ask']} {ask['for']}" in out
    assert "Bought together with" in out and "reco show --product" in out
    assert "next basket" in out and "in basket" in out and "purchase_frequency" in out


def test_import_reads_only_changed_records(demo):
    directory, _, _ = demo
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
    directory, _, _ = demo
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


def test_demo_ends_with_a_publish_dry_run_into_the_shop_emulators(demo):
    """The dry run counted the shops' products and wrote nothing: the sync store holds no
    published lists and no publish batch."""
    from shoploop.cli._demo_cmd import _print_sync
    from shoploop.cli._state import console

    directory, report, _ = demo
    published = report["sync"]["publish"]
    assert set(published["targets"]) == {"shop", "woo"}
    for target in published["targets"].values():
        assert 0 < target["changed"] <= target["products"]
    assert published["diff"] and all(row["old"] == [] and row["new"]
                                      for row in published["diff"])
    with Store(f"sqlite:///{directory / 'sync.db'}") as store, store.session() as session:
        assert session.scalar(select(func.count()).select_from(
            table("reco_published"))) == 0
    with console.capture() as captured:
        _print_sync(report["sync"])
    assert "reco publish --dry-run into the shop emulators" in captured.get()


def test_demo_runs_the_referral_loop_in_simulated_time(demo):
    """Surveys → answers from the e-mails' links → codes in Shopify → a friend's order and a
    self-referral → one gift in the ERP; the funnel is the ledger's, read again by the CLI."""
    directory, report, _ = demo
    referral = report["referral"]
    funnel = {row["stage"]: row["count"] for row in referral["funnel"]}
    assert funnel == {"surveyed": 4, "answered": 3, "satisfied": 2, "invited": 2,
                      "referred_orders": 2, "qualified": 1, "rewarded": 1}
    assert referral["erp_gift_orders"] == 1 and len(referral["shop_codes"]) == 2
    assert referral["advocate_code"] in referral["shop_codes"]
    assert [r.split(":")[1].strip() for r in referral["rejected"]] == ["self_referral"]
    assert referral["runs"][-1]["counts"] == {}, "the last run repeats the one before"
    assert all(run["problems"] == [] for run in referral["runs"])
    outbox = sorted(p.name.split("-")[0] for p in (directory / "outbox").glob("*.eml"))
    assert outbox == ["invitation"] * 2 + ["survey"] * 4 + ["thanks"]
    shown = _shoploop("-c", "referral.toml", "referral", "funnel", "--json", cwd=directory)
    assert shown.returncode == 0, shown.stderr
    assert {r["stage"]: r["count"] for r in json.loads(shown.stdout)["funnel"]} == funnel


def test_demo_runs_an_experiment_and_finds_its_known_uplift(demo):
    """4 vs 8 recommendations, shoppers who buy any product shown with the same probability:
    each arm's measured conversion is its known truth within sampling error, both arms reach
    the planned horizon, and the report names k8 — the same report the CLI gives."""
    from shoploop.cli._demo_cmd import _print_experiment
    from shoploop.cli._state import console

    directory, report, _ = demo
    experiment = report["experiment"]
    found = experiment["report"]
    truth = {arm: figures["expected_conversion"] for arm, figures
             in experiment["truth"].items()}
    assert truth["k8"] > truth["k4"] > 0
    planned = found["planned_units_per_arm"]
    for arm in found["arms"]:
        p, n = truth[arm["variant"]], arm["units"]
        assert n >= planned, "the demo must reach the horizon it plans"
        assert abs(arm["conversion"] - p) < 4 * (p * (1 - p) / n) ** 0.5, arm
    [verdict] = found["verdicts"]
    assert (verdict["status"], verdict["winner"]) == ("significant", "k8")
    with console.capture() as captured:
        _print_experiment(experiment)
    assert "significant: k8 vs k4" in captured.get()
    shown = _shoploop("-c", "experiment.toml", "experiments", "report", experiment["name"],
                      "--json", "--now", found["as_of"], cwd=directory)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["verdicts"] == found["verdicts"]
