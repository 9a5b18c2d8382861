"""``shoploop privacy erase|erase-shop|export``: the platforms' privacy requests, by hand.

The same work a platform's webhook triggers (``shoploop.privacy``) — for a request that reached
the operator another way: erase one customer (``customers/redact``), erase a whole connection's
data (``shop/redact``), export what the store holds of one customer (``customers/data_request``).
What each deletes, keeps and exports: docs/privacy.md.
Exit codes: 0 ok · 2 unknown connection or unusable store · 3 the store is unreachable.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from ._state import State, console, print_json

if TYPE_CHECKING:
    from shoploop._config import Config

_COUNTS = ("customers", "orders", "order_lines", "installed_base", "bindings", "sync_state",
           "audit_rows", "referral_rows")


def _check_connection(config: Config, connection: str) -> None:
    from shoploop.hooks import ConfigError

    if connection not in config.connections:
        raise ConfigError(
            f"no connection named {connection!r}; configured: "
            f"{', '.join(config.connections) or 'none'}",
            file=str(config.path) if config.path else None, key=f"connections.{connection}",
            remedy="name a connection of the config file (`shoploop config check` lists them)",
        )


def erase(state: State, connection: str, customer_id: str, reason: str) -> dict[str, Any]:
    """Erase one customer of a configured connection; the result as a JSON-ready dict."""
    # Imported here: SQLAlchemy is not needed for `--help` or plugin loading.
    from shoploop.store import Store, erase_customer

    config = state.config()
    _check_connection(config, connection)
    with Store(config.store_url) as store, store.session() as session:
        result = erase_customer(session, connection, customer_id, reason=reason)
    return result.as_dict()


def erase_shop(state: State, connection: str) -> dict[str, Any]:
    """Erase everything the store holds of a configured connection."""
    from shoploop.store import Store, erase_connection

    config = state.config()
    _check_connection(config, connection)
    with Store(config.store_url) as store, store.session() as session:
        return erase_connection(session, connection).as_dict()


def export(state: State, connection: str, customer_id: str) -> dict[str, Any]:
    """What the store holds of one customer of a configured connection."""
    from shoploop.store import Store, customer_data

    config = state.config()
    _check_connection(config, connection)
    with Store(config.store_url) as store, store.session() as session:
        return customer_data(session, connection, customer_id)


def register(app: typer.Typer) -> None:
    privacy = typer.Typer(help="Privacy requests: erase a customer's or a shop's data from the "
                               "store, export a customer's.",
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

    @privacy.command("erase-shop")
    def erase_shop_command(
        ctx: typer.Context,
        connection: str = typer.Argument(..., help="The connection whose data to erase."),
        yes: bool = typer.Option(False, "--yes", help="Do not ask; erase."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Erase everything the store holds of CONNECTION — mirrored customers, products,
        orders, installed base, bindings, the sync's state and audit, storefront events,
        webhook deliveries — as Shopify's shop/redact does; the referral ledger's rows stay
        without e-mails and comments. Other connections are not touched."""
        if not yes:
            typer.confirm(f"Erase all data of connection {connection!r} from the store?",
                          abort=True)
        data = erase_shop(ctx.obj, connection)
        if as_json:
            print_json(data)
            return
        deleted = ", ".join(f"{count} {name.replace('_', ' ')}"
                            for name, count in data["deleted"].items() if count)
        console.print(f"erased connection {escape(connection)}: deleted "
                      f"{deleted or 'nothing'}; {data['referral_rows_scrubbed']} referral "
                      "rows made anonymous")

    @privacy.command("export")
    def export_command(
        ctx: typer.Context,
        connection: str = typer.Argument(..., help="The connection the customer belongs to."),
        customer_id: str = typer.Argument(..., help="The customer's id in that connection."),
        out: Path | None = typer.Option(None, "--out", help="Write to this file "
                                        "(readable by its owner only) instead of stdout."),
    ) -> None:
        """Print (or write) what the store holds of one customer of CONNECTION as JSON — the
        answer to a data access request (Shopify's customers/data_request)."""
        from shoploop.privacy import write_private_json

        document = export(ctx.obj, connection, customer_id)
        if out is None:
            print_json(document)
            return
        write_private_json(out, document)
        console.print(f"wrote the data of customer {escape(customer_id)} of "
                      f"{escape(connection)} to {escape(str(out))}")
