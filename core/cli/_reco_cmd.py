"""``shoploop reco build | show``: build a recommendation model, look recommendations up.

Exit codes (docs/cli.md): 0 ok · 2 configuration or usage error (no model yet, an unknown
connection or product, a store without schema). Failures are raised as ``ShoploopError``s
and reported by the CLI's one error path (``_errors.guarded``: a message and its remedy, or
one JSON document under ``--json``). Heavy imports (numpy, scipy, SQLAlchemy) stay inside the
commands so ``shoploop --help`` stays fast.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from ._errors import UsageError
from ._state import State, console, print_json
from ._tables import ReadableTable


def _print_build(summary: dict[str, Any]) -> None:
    from rich.table import Table

    pool = summary["pool"]
    table = Table(title=f"reco build · model version {summary['version']}")
    table.add_column("")
    table.add_column("", justify="right")
    rows = [
        ("orders", pool["orders"]),
        *((f"  from {c}", n) for c, n in sorted(pool["orders_by_connection"].items())),
        ("order lines", pool["lines"]),
        ("  without a known product", pool["lines_unmatched"]),
        ("customers", pool["customers"]),
        ("  in several connections", pool["customers_unified"]),
        (f"products (by {pool['product_key']})", pool["products"]),
        ("  without a key", pool["unkeyed"]),
        ("  in one connection only", pool["unmatched"]),
        ("  key held by several products", pool["ambiguous"]),
        ("bought-together pairs", summary["bought_together"]["pairs"]),
        ("repeat purchases with an interval", summary["intervals"]["repeat_purchases"]),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)
    for name, examples in (("product without a key", pool["unkeyed_examples"]),
                           ("product key held by several products",
                            pool["ambiguous_examples"]),
                           ("order line without a known product",
                            pool["lines_unmatched_examples"])):
        for example in examples[:5]:
            console.print(f"[yellow]{name}:[/] {escape(str(example))}")
    console.print(f"strategies: {', '.join(summary['strategies']) or 'none'} · "
                  f"rules: {', '.join(summary.get('rules', ())) or 'none'} · "
                  f"{summary['bytes']:,} bytes · {summary['seconds']} s")


def _store(state: State) -> Any:
    from shoploop.store import Store

    return Store(state.config().store_url)


def register(app: typer.Typer) -> None:
    reco = typer.Typer(help="Cross- and upselling recommendations from the order history of "
                            "the shops and the ERP.", no_args_is_help=True)
    app.add_typer(reco, name="reco")

    @reco.command("build")
    def build(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON summary object."),
    ) -> None:
        """Build a recommendation model from the store's mirror and store it as the next
        version (run `shoploop import orders` and `import products` first)."""
        from datetime import UTC, datetime

        from shoploop.reco import build_model
        from shoploop.reco._build import STEPS
        from shoploop.reco._settings import check_against_connections

        from ._progress import progress

        state: State = ctx.obj
        config = state.config()
        check_against_connections(config.reco, config.connections,
                                  file=str(config.path) if config.path else None)

        def clock() -> datetime:
            return datetime.now(UTC)

        # The shared progress (stderr only): a bar on a terminal, lines when piped.
        with _store(state) as store, progress("reco build", total=len(STEPS)) as tracker:
            result = build_model(state.host, store, config.reco, clock,
                                 progress=lambda _step, _done, _total: tracker.advance(1))
        summary = {"ok": True, **result.summary}
        if as_json:
            print_json(summary)
        else:
            _print_build(summary)

    @reco.command("show")
    def show(
        ctx: typer.Context,
        product: str | None = typer.Option(None, "--product", help="The anchor product's id "
                                           "(in --connection)."),
        customer: str | None = typer.Option(None, "--customer", help="The customer's id "
                                            "(in --connection)."),
        cart: str | None = typer.Option(None, "--cart", help="The cart's product ids, "
                                        "comma-separated."),
        placement: str | None = typer.Option(
            None, "--placement", help="Default: cart with --cart, product_page with "
                                      "--product, email for a customer alone."),
        k: int = typer.Option(10, "--k", min=1, max=1000, help="How many at most."),
        connection: str | None = typer.Option(
            None, "--connection", help="Whose ids the request uses; default: the only "
                                       "connection with products."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Show the recommendations for a product, a customer or a cart, with their reasons
        (from the newest built model; every installed strategy and rule takes part)."""
        from shoploop._connections import Connections
        from shoploop._context import hook_context
        from shoploop.hooks import RecommendationRequest
        from shoploop.reco import load_model, rank

        state: State = ctx.obj
        cart_ids = [part.strip() for part in (cart or "").split(",") if part.strip()]
        if product is None and customer is None and not cart_ids:
            raise UsageError("say what to recommend for",
                             remedy="pass --product ID, --customer ID or --cart ID,ID")
        config = state.config()
        with _store(state) as store:
            model = load_model(store)
        if connection is None:
            if len(model.connections) != 1:
                raise UsageError(f"model version {model.version} has products of "
                                 f"{len(model.connections)} connections "
                                 f"({', '.join(model.connections) or 'none'})",
                                 remedy="pass --connection NAME: ids are per connection")
            connection = model.connections[0]
        products = model.products(connection)
        unknown = [p for p in ([product] if product else []) + cart_ids if p not in products]
        if connection in model.connections and unknown:
            raise UsageError(f"no product {', '.join(map(repr, unknown))} in connection "
                             f"{connection!r} (model version {model.version})",
                             remedy="use the connection's own product ids; `shoploop import "
                                    "products` and `shoploop reco build` pick up new ones")
        request = RecommendationRequest(
            connection=connection, product_id=product, customer_id=customer, cart=cart_ids,
            placement=placement or ("cart" if cart_ids else "product_page" if product
                                    else "email"), k=k)
        # Lookups need no store round trip; the hooks get the one context every caller
        # builds (connections built only if a plugin asks for one).
        with Connections(config, state.host.connectors) as connections:
            ranked = rank(state.host, model, request,
                          context=hook_context(config, connections))
        found = products.many(r.product_id for r in ranked.recommendations)
        rows: list[dict[str, Any]] = [
            {"product_id": r.product_id,
             "name": found[r.product_id].name if r.product_id in found else None,
             "score": round(r.score, 4), "kind": r.kind, "strategy": r.strategy,
             "reason": r.reason, "reasons": r.reasons, "evidence": r.evidence}
            for r in ranked.recommendations]
        if as_json:
            print_json({"ok": True, "model_version": model.version,
                        "request": request.model_dump(mode="json"), "recommendations": rows,
                        "vetoed": ranked.vetoed})
            return
        anchor = ", ".join(request.anchors) or f"customer {customer}"
        title = (f"recommendations for {anchor} · {connection} · {request.placement} · "
                 f"model {model.version}")
        if rows:
            table = ReadableTable(title, [("#", "right"), ("product", "left"), ("name", "left"),
                                          ("kind", "left"), ("score", "right"),
                                          ("reason", "left")])
            for number, row in enumerate(rows, start=1):
                table.add_row(str(number), row["product_id"], row["name"] or "",
                              row["kind"], f"{row['score']:.3f}", row["reason"])
            console.print(table)
        else:
            console.print(f"{title}: none — no strategy has evidence for this request",
                          soft_wrap=True)
        for product_id, reasons in ranked.vetoed.items():
            console.print(f"[dim]vetoed {escape(product_id)}: "
                          f"{escape('; '.join(reasons))}[/]")

    from ._reco_evaluate_cmd import register_evaluate

    register_evaluate(reco)

    from ._reco_publish_cmd import register as register_export_and_publish

    register_export_and_publish(reco)  # reco export | publish, in their own module
