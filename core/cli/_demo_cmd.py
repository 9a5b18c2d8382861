"""``shoploop demo``: the README's main job, on the embedded default."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.panel import Panel
from rich.table import Table

from ._state import State, console, print_json


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
        store, and summarise what shoploop now knows. Needs no credentials or services."""
        from shoploop.demo import run_demo  # heavy imports only when the demo runs
        from shoploop.store import redact_url

        state: State = ctx.obj
        report = run_demo(state.host, directory, customers=customers, seed=seed,
                          on_step=None if as_json else lambda text: console.print(f"• {text}"))
        if as_json:
            print_json({"directory": str(report.directory),
                        "store": redact_url(report.store_url), "seconds": report.seconds,
                        "loaded": report.loaded, "rerun_read": report.rerun_read,
                        "insights": report.insights})
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
        seconds = report.seconds
        console.print(Panel.fit(
            f"generated in {seconds['generate']:.1f}s, loaded in {seconds['load']:.1f}s into "
            f"{redact_url(report.store_url)}\n"
            f"config: {report.directory / 'shoploop.toml'} — try "
            f"`shoploop -c {report.directory / 'shoploop.toml'} import orders` (reads nothing "
            f"new) or `shoploop plugins`", title="shoploop demo"))
