"""``shoploop reco export | publish``: recommendations out of shoploop — as JSON Lines for
newsletters and campaigns, or into the platforms' own recommendation fields.

Exit codes (docs/cli.md): 0 ok · 1 some lists could not be written (publish) · 2 configuration
or usage error (no model yet, an unknown connection, a connection that cannot publish).
Heavy imports stay inside the commands so ``shoploop --help`` stays fast.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Any, Literal

import typer

from ._state import State, console, print_json


class ExportFor(enum.StrEnum):
    customers = "customers"
    products = "products"


def register(reco: typer.Typer) -> None:
    @reco.command("export")
    def export(
        ctx: typer.Context,
        what: ExportFor = typer.Option(..., "--for", help="One line per customer or per "
                                                         "product."),
        k: int = typer.Option(10, "--k", min=1, max=1000, help="How many per line at most."),
        out: Path | None = typer.Option(None, "--out", help="Write to FILE (default: stdout)."),
    ) -> None:
        """Write every customer's or product's recommendations as JSON Lines, in each
        connection's own ids (from the newest built model; progress on stderr)."""
        from shoploop._connections import Connections
        from shoploop._context import hook_context
        from shoploop.reco import export_lines, load_model
        from shoploop.reco._export import export_size
        from shoploop.store import Store

        from ._progress import progress

        state: State = ctx.obj
        config = state.config()
        kind: Literal["customers", "products"] = (
            "customers" if what is ExportFor.customers else "products")
        with Store(config.store_url) as store:
            model = load_model(store)
        with Connections(config, state.host.connectors) as connections, \
                progress(f"reco export {kind}",
                         total=export_size(model, kind)) as tracker:
            context = hook_context(config, connections)
            if out is None:
                export_lines(state.host, model, kind, sys.stdout, k=k, context=context,
                             progress=tracker.advance)
                sys.stdout.flush()
            else:
                # Written beside and renamed at the end: a failed export leaves no half file.
                partial = out.with_name(out.name + ".partial")
                with partial.open("w", encoding="utf-8") as handle:
                    export_lines(state.host, model, kind, handle, k=k,
                                 context=context, progress=tracker.advance)
                partial.replace(out)

    @reco.command("publish")
    def publish(
        ctx: typer.Context,
        dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; "
                                                              "write nothing."),
        to: str | None = typer.Option(None, "--to", help="Target connections, comma-"
                                                          "separated (default: every shop "
                                                          "connection in the model)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON summary object."),
    ) -> None:
        """Write every product's recommendations into its platform's own fields
        (WooCommerce cross-sells / upsells, Shopify Search & Discovery's complementary /
        related products): only changed lists, in the connectors' batches, resumable."""
        from shoploop._connections import Connections
        from shoploop._context import hook_context
        from shoploop.reco import load_model
        from shoploop.reco._publish import PublishOptions
        from shoploop.reco._publish import publish as run_publish
        from shoploop.store import Store

        from ._progress import board

        state: State = ctx.obj
        config = state.config()
        targets = [part.strip() for part in to.split(",") if part.strip()] if to else None
        with Store(config.store_url) as store:
            model = load_model(store)
            with Connections(config, state.host.connectors) as connections, \
                    board() as shown:
                def progress(name: str, done: int, total: int) -> None:
                    shown.update(f"publish → {name}", completed=done, total=total)

                report = run_publish(state.host, store, connections, model,
                                     PublishOptions(dry_run=dry_run, targets=targets),
                                     context=hook_context(config, connections),
                                     progress=progress)
        summary = report.as_dict()
        if as_json:
            print_json(summary)
        else:
            _print_publish(summary)
        if report.failed:
            raise typer.Exit(1)

    _ = export, publish  # registered by the decorators


SHOWN_DIFF = 50


def _print_publish(summary: dict[str, Any]) -> None:
    from rich.markup import escape

    from ._tables import ReadableTable

    mode = "dry run" if summary["dry_run"] else f"run {summary['run_id']}"
    table = ReadableTable(f"reco publish · model version {summary['model_version']} · {mode}",
                          [("target", "left"), ("products", "right"), ("changed", "right"),
                           ("written", "right"), ("unchanged", "right"), ("failed", "right"),
                           ("batches", "right"), ("resumed", "right")])
    for name, counts in summary["targets"].items():
        table.add_row(name, *(str(counts[k]) for k in (
            "products", "changed", "written", "unchanged", "failed", "batches",
            "resumed_batches")))
    console.print(table)
    for row in summary.get("diff", [])[:SHOWN_DIFF]:
        console.print(f"{escape(row['connection'])} {escape(row['product_id'])} "
                      f"{escape(row['field'])}: {_ids(row['old'])} → {_ids(row['new'])}",
                      soft_wrap=True, crop=False, highlight=False)
    if len(summary.get("diff", [])) > SHOWN_DIFF:
        console.print(f"… and {len(summary['diff']) - SHOWN_DIFF} more changed lists "
                      "(all of them with --json)")
    for name, counts in summary["targets"].items():
        for failure in counts["failures"]:
            console.print(f"[red]{escape(name)} product {escape(failure['product_id'])}:[/] "
                          f"{escape(failure['message'])}")


def _ids(ids: list[str]) -> str:
    from rich.markup import escape

    return escape(f"[{', '.join(ids)}]")
