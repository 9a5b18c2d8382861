"""``shoploop demo-data``: write a deterministic demo merchant as JSON Lines files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from shoploop.demo_data import DEFAULT_AS_OF, generate

from ._errors import UsageError
from ._state import console, print_json


def register(app: typer.Typer) -> None:
    @app.command("demo-data")
    def demo_data(
        seed: int = typer.Option(1, "--seed", help="Same seed and parameters → same bytes."),
        customers: int = typer.Option(1000, "--customers", min=0, help="Number of customers."),
        products: int | None = typer.Option(
            None, "--products", min=20,
            help="Catalogue size (default: customers / 20, between 40 and 5,000).",
        ),
        years: int = typer.Option(2, "--years", min=1, help="Years of order history."),
        as_of: datetime | None = typer.Option(
            None, "--as-of", formats=["%Y-%m-%d"],
            help=f"Last day of the history, exclusive (default: {DEFAULT_AS_OF.isoformat()}; "
                 "fixed, so the output does not depend on today).",
        ),
        out: Path = typer.Option(Path("demo-data"), "--out", file_okay=False,
                                 help="Directory to write the files into."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON "
                                                           "object."),
    ) -> None:
        """Write a realistic demo merchant: customers, products, orders, installed base.

        Files: customers.jsonl, products.jsonl, orders.jsonl, installed_base.jsonl and
        manifest.json (parameters, counts, digests and the generator's ground truth).
        """
        try:
            summary = generate(out, seed=seed, customers=customers, products=products,
                               years=years, as_of=as_of.date() if as_of else DEFAULT_AS_OF)
        except (ValueError, OSError) as exc:
            raise UsageError(str(exc), remedy="check --out (a writable folder) and the "
                                              "sizes given") from None
        if as_json:
            print_json(summary.to_dict())
            return
        table = Table(title=f"demo data (seed {summary.seed}) → {summary.out_dir}")
        table.add_column("records")
        table.add_column("count", justify="right")
        for key, value in summary.counts.items():
            table.add_row(key.replace("_", " "), f"{value:,}")
        console.print(table)
        params = summary.parameters
        console.print(f"history {params['window_start']} … {params['as_of']} · "
                      f"{summary.seconds:.1f} s · files in {summary.out_dir}")
