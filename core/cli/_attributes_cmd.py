"""``shoploop attributes show``: derived attributes per person, computed from the mirror.

Goes through ``combine.derive_attributes`` with the loaded plugin host, so attributes of
third-party ``customer_attributes`` plugins appear next to the built-ins, merged by the hook's
result rule. Heavy imports stay inside the command so ``shoploop --help`` stays fast.
"""

from __future__ import annotations

from typing import Any

import typer

from ._state import State, console, print_json

COLUMNS = ("order_count", "revenue", "last_order_date", "lifecycle_stage", "rfm_segment")


def derived_rows(state: State, customer: str | None, limit: int | None) -> list[dict[str, Any]]:
    """One row per person (person key, customer id, attributes), at most ``limit``."""
    from datetime import UTC, datetime

    from shoploop._connections import Connections
    from shoploop._context import hook_context
    from shoploop.attributes.profiles import build_profiles, normalise_email
    from shoploop.combine import derive_attributes
    from shoploop.store import Store

    config = state.config()
    wanted = normalise_email(customer)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    with Store(config.store_url) as store, store.session() as session, \
            Connections(config, state.host.connectors) as connections:
        context = hook_context(config, connections, store=store, now=now)
        for profile in build_profiles(session, as_of=now):
            email = normalise_email(profile.customer.email)
            if wanted is not None and email != wanted:
                continue
            rows.append({
                "email": email,
                "customer_id": profile.customer.id,
                "attributes": derive_attributes(state.host, context, profile),
            })
            if limit is not None and len(rows) >= limit:
                break
    return rows


def register(app: typer.Typer) -> None:
    attributes = typer.Typer(help="Derived customer attributes (lifecycle stage, RFM, …).",
                             no_args_is_help=True)
    app.add_typer(attributes, name="attributes")

    @attributes.command("show")
    def show(
        ctx: typer.Context,
        customer: str | None = typer.Option(None, "--customer", help="Only this e-mail."),
        limit: int | None = typer.Option(None, "--limit", min=1, help="At most N people."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Print the derived attributes of each person in the store (all plugins' hooks)."""
        from rich.table import Table

        rows = derived_rows(ctx.obj, customer, limit)
        if as_json:
            print_json({"count": len(rows), "customers": rows})
        else:
            table = Table(title="derived attributes")
            for column in ("email", *COLUMNS):
                table.add_column(column)
            for row in rows:
                values = row["attributes"]
                table.add_row(row["email"] or row["customer_id"],
                              *(str(values.get(column, "")) for column in COLUMNS))
            console.print(table)
        if customer is not None and not rows:
            raise typer.Exit(1)
