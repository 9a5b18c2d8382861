"""``shoploop privacy erase CONNECTION CUSTOMER_ID``: erase one customer from the store.

The same erasure a platform's redact webhook triggers (``shoploop.privacy``), by hand — for a
request that reached the operator another way. What it deletes and keeps: docs/privacy.md.
Exit codes: 0 ok · 2 unknown connection or unusable store · 3 the store is unreachable.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from ._state import State, console, print_json

_COUNTS = ("customers", "orders", "order_lines", "installed_base", "bindings", "sync_state",
           "audit_rows")


def erase(state: State, connection: str, customer_id: str, reason: str) -> dict[str, Any]:
    """Erase one customer of a configured connection; the result as a JSON-ready dict."""
    # Imported here: SQLAlchemy is not needed for `--help` or plugin loading.
    from shoploop.hooks import ConfigError
    from shoploop.store import Store, erase_customer

    config = state.config()
    if connection not in config.connections:
        raise ConfigError(
            f"no connection named {connection!r}; configured: "
            f"{', '.join(config.connections) or 'none'}",
            file=str(config.path) if config.path else None, key=f"connections.{connection}",
            remedy="name a connection of the config file (`shoploop config check` lists them)",
        )
    with Store(config.store_url) as store, store.session() as session:
        result = erase_customer(session, connection, customer_id, reason=reason)
    return result.as_dict()


def register(app: typer.Typer) -> None:
    privacy = typer.Typer(help="Privacy requests: erase a customer's data from the store.",
                          no_args_is_help=True)
    app.add_typer(privacy, name="privacy")

    @privacy.command("erase")
    def erase_command(
        ctx: typer.Context,
        connection: str = typer.Argument(..., help="The connection the customer belongs to."),
        customer_id: str = typer.Argument(..., help="The customer's id in that connection."),
        reason: str = typer.Option("operator_request", "--reason",
                                   help="Recorded with the erasure."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Erase one customer of CONNECTION: its mirrored record, orders, installed base and
        identity bindings in that connection. Only a hash of the id is kept, so the sync never
        re-imports or re-creates it. Other connections (the ERP) are not touched."""
        data = erase(ctx.obj, connection, customer_id, reason)
        if as_json:
            print_json(data)
            return
        deleted = ", ".join(f"{data[key]} {key.replace('_', ' ')}" for key in _COUNTS
                            if data[key]) or "nothing (already erased or never mirrored)"
        console.print(f"erased customer {escape(customer_id)} of {escape(connection)}: "
                      f"deleted {deleted}")
