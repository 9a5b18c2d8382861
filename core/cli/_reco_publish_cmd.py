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
from typing import Literal

import typer

from ._state import State


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

    _ = export  # registered by the decorator
