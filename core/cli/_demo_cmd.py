"""``shoploop demo``: the README's main job on the embedded default, then the sync against
the emulators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table

from ._invocation import shoploop_command
from ._state import State, console, print_json
from ._tables import ReadableTable

SYNC_COLUMNS = ("read", "matched", "created", "changed", "written", "failed")
"""What fits 80 columns; `sync show` and `--json` have every counter."""


def _print_sync(sync: dict[str, Any]) -> None:
    """The first run per target, the second run's writes, and where the audit trail is."""
    first, *again = sync["runs"]
    table = Table(title=f"sync customers: ERP emulator → Shopify + WooCommerce, lifecycle "
                        f"stage → ERP ({sync['customers']:,} customers)")
    table.add_column("target")
    for column in SYNC_COLUMNS:
        table.add_column(column, justify="right")
    for target, counts in first["targets"].items():
        table.add_row(target, *(f"{counts.get(c, 0):,}" for c in SYNC_COLUMNS))
    console.print(table)
    for run in again:
        console.print("run again: written " + ", ".join(
            f"{counts.get('written', 0):,} to {target}"
            for target, counts in run["targets"].items())
            + " — nothing changed, so nothing is sent")
    for run in sync["runs"]:
        for error in run["errors"]:
            console.print(f"[red]{error['kind']}:[/] {error['connection']}: {error['error']}")
    limits = sync["shopify_limits"]
    console.print(f"(the Shopify emulator ran with a {limits['bucket']}-point bucket restoring "
                  f"{limits['restore_rate']}/s so the demo is quick; real shops allow 1000 and "
                  "100/s, and the adapter waits as needed)")
    program = shoploop_command()
    console.print(f"audit trail: `{program} -c {sync['config']} sync history`, then "
                  f"`{program} -c {sync['config']} sync show {first['run_id'][:8]}`")
    published = sync.get("publish")
    if published:
        console.print("reco publish --dry-run into the shop emulators (model "
                      f"{published['version']}): " + ", ".join(
                          f"{t['changed']:,} of {t['products']:,} products' lists would "
                          f"change in {name}" for name, t in published["targets"].items())
                      + " (nothing written; against real shops `reco publish` writes them)")
        for row in published["diff"]:
            console.print(f"  {row['connection']} {row['product_id']} {row['field']}: "
                          f"[{', '.join(row['old'])}] → [{', '.join(row['new'])}]",
                          markup=False, highlight=False, soft_wrap=True)


def _print_reco(reco: dict[str, Any], config: Path) -> None:
    """The model's figures, then each ask with its recommendations and their reasons."""
    console.print(f"recommendation model {reco['version']}: {reco['products']:,} products, "
                  f"{reco['orders']:,} orders, {reco['pairs']:,} significant pairs, "
                  f"{reco['repeat_purchases']:,} repeat purchases; strategies: "
                  f"{', '.join(reco['strategies'])} ({reco['seconds']:.1f}s)")
    for ask in reco["asks"]:
        table = ReadableTable(f"reco show --{ask['ask']} {ask['for']} ({ask['for_name']})",
                              [("#", "right"), ("recommended", "left"), ("kind", "left"),
                               ("reason", "left")])
        for number, found in enumerate(ask["recommendations"], start=1):
            table.add_row(str(number), found["name"], found["kind"], found["reason"])
        if not ask["recommendations"]:
            table.add_row("-", "(no strategy has evidence for this ask)", "", "")
        console.print(table)
    from ._reco_evaluate_cmd import print_evaluation

    print_evaluation(reco["evaluation"])
    first = next((a for a in reco["asks"] if a["ask"] == "product"), None)
    if first is not None:
        console.print(f"try `{shoploop_command()} -c {config} reco show --product "
                      f"{first['for']} --json`")


def _print_referral(referral: dict[str, Any]) -> None:
    """The loop's funnel (`referral funnel`), what the ERP got, where the e-mails are."""
    table = ReadableTable("referral funnel (simulated time; `referral funnel`)",
                          [("stage", "left"), ("count", "right"), ("rate", "right")])
    for row in referral["funnel"]:
        table.add_row(row["stage"], str(row["count"]),
                      "" if row["rate"] is None else f"{row['rate']:.1%}")
    console.print(table)
    for rejected in referral["rejected"]:
        console.print(f"rejected (fraud rule): {rejected}", highlight=False)
    console.print(f"{referral['erp_gift_orders']} gift order(s) booked in the ERP emulator; "
                  f"codes created in the Shopify emulator: {', '.join(referral['shop_codes'])}; "
                  f"the e-mails: {referral['outbox']}/*.eml; the ledger: "
                  f"`{shoploop_command()} -c {referral['config']} referral show "
                  f"{referral['advocate_code']}`", highlight=False, soft_wrap=True)


def _print_experiment(experiment: dict[str, Any]) -> None:
    """Per arm the truth the simulation knows beside what the report measured, the primary
    metric's comparison and the fixed-horizon verdict (`experiments report`)."""
    report = experiment["report"]
    table = ReadableTable(f"experiment {experiment['name']}: 4 vs 8 recommendations "
                          f"(simulated shoppers; `experiments report`)",
                          [("arm", "left"), ("units", "right"), ("true conversion", "right"),
                           ("measured", "right"), ("impressions", "right")])
    for arm in report["arms"]:
        truth = experiment["truth"].get(arm["variant"], {}).get("expected_conversion")
        table.add_row(arm["variant"], f"{arm['units']:,}",
                      "-" if truth is None else f"{truth:.2%}",
                      "-" if arm["conversion"] is None else f"{arm['conversion']:.2%}",
                      f"{arm['impressions']:,}")
    console.print(table)
    for compared in report["comparisons"]:
        for metric in compared["metrics"]:
            if metric["metric"] == report["primary_metric"] and metric["p_value"] is not None:
                console.print(f"{compared['variant']} vs {compared['against']} "
                              f"{metric['metric']}: {metric['difference']:+.2%} "
                              f"[{metric['low']:+.2%}, {metric['high']:+.2%}], "
                              f"p = {metric['p_value']:.2g} (planned "
                              f"{report['planned_units_per_arm']:,} units per arm)",
                              highlight=False)
    for reading in report["verdicts"]:
        console.print(f"{reading['status']}: {reading['message']} — `{shoploop_command()} -c "
                      f"{experiment['config']} experiments report {experiment['name']} "
                      f"--now {report['as_of'][:10] if report.get('as_of') else ''}`",
                      highlight=False, soft_wrap=True)


def _exit_if_sync_failed(sync: dict[str, Any]) -> None:
    """A demo whose sync failed must not look like a success to `make demo` or CI."""
    codes = [run["exit_code"] for run in sync["runs"] if not run["ok"]]
    if codes:
        raise typer.Exit(max(codes))


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        ctx: typer.Context,
        customers: int = typer.Option(5000, "--customers", min=10, help="Size of the merchant."),
        seed: int = typer.Option(1, "--seed"),
        directory: Path = typer.Option(Path(".demo"), "--dir",
                                       help="Working folder (data, config, SQLite store)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Generate a demo merchant, load it through the `files` connector into a fresh SQLite
        store, and summarise what shoploop now knows; then sync customer attributes between the
        ERP, Shopify and WooCommerce emulators on loopback. Needs no credentials or services."""
        from shoploop.demo import run_demo  # heavy imports only when the demo runs
        from shoploop.store import redact_url

        state: State = ctx.obj
        report = run_demo(state.host, directory, customers=customers, seed=seed,
                          on_step=None if as_json else lambda text: console.print(f"• {text}"))
        if as_json:
            print_json({"directory": str(report.directory),
                        "store": redact_url(report.store_url), "seconds": report.seconds,
                        "loaded": report.loaded, "rerun_read": report.rerun_read,
                        "insights": report.insights, "reco": report.reco,
                        "sync": report.sync, "referral": report.referral,
                        "experiment": report.experiment})
            _exit_if_sync_failed(report.sync)
            return
        loaded = Table(title="loaded through the files connector")
        for column in ("stream", "records", "pages", "re-run reads"):
            loaded.add_column(column, justify="left" if column == "stream" else "right")
        for stream, counts in report.loaded.items():
            loaded.add_row(stream, f"{counts['read']:,}", str(counts["pages"]),
                           str(report.rerun_read[stream]))
        console.print(loaded)
        facts = Table(title="what the store knows now", show_header=False)
        facts.add_column(style="bold")
        facts.add_column()
        for key, value in report.insights.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}"
                                  for k, v in value.items())
            elif isinstance(value, list):
                value = "\n".join(f"{' + '.join(p['products'])} ({p['orders']} orders)"
                                  for p in value)
            facts.add_row(key, str(value))
        console.print(facts)
        _print_reco(report.reco, report.directory / "shoploop.toml")
        _print_sync(report.sync)
        _print_referral(report.referral)
        _print_experiment(report.experiment)
        seconds = report.seconds
        program = shoploop_command()
        console.print(Panel.fit(
            f"generated in {seconds['generate']:.1f}s, loaded in {seconds['load']:.1f}s into "
            f"{redact_url(report.store_url)}; recommendations built in "
            f"{seconds['reco']:.1f}s; synced in {seconds['sync']:.1f}s; referral loop in "
            f"{seconds['referral']:.1f}s; experiment in {seconds['experiment']:.1f}s\n"
            f"config: {report.directory / 'shoploop.toml'} — try "
            f"`{program} -c {report.directory / 'shoploop.toml'} import orders` (reads nothing "
            f"new) or `{program} plugins`", title="shoploop demo"))
        _exit_if_sync_failed(report.sync)
