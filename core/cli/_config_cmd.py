"""``shoploop init`` and ``shoploop config check``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from shoploop._config import DEFAULT_CONFIG_NAME
from shoploop._connections import Connections
from shoploop._logging import redact_url
from shoploop.hooks import ConnectionCheck, ShoploopError

from ._errors import error_document
from ._invocation import shoploop_command
from ._state import State, console, console_err, print_json

EXIT_UNREACHABLE = 3

STARTER_CONFIG = '''\
# shoploop configuration — see docs/configuration.md for every key.
# Secrets are never written here: a key ending in `_env` names the environment variable that
# holds the secret (e.g. access_token_env = "SHOPIFY_TOKEN"; then `export SHOPIFY_TOKEN=…`).

[store]
# Default: a SQLite file `shoploop.db` next to this file. For production use PostgreSQL:
# url = "postgresql+psycopg://shoploop@db.internal/shoploop"
# (SHOPLOOP_DATABASE_URL overrides this.)

[logging]
level = "WARNING"      # DEBUG, INFO, WARNING, ERROR
format = "auto"        # auto (readable on a terminal), text, json (one object per line)

# An ERP or other system that exports files (CSV or JSON Lines).
# `shoploop demo-data --out demo-data` writes a realistic example into ./demo-data.
[connections.erp_files]
type = "files"
path = "demo-data"

# A Shopify store (GraphQL Admin API):
# [connections.shop_de]
# type = "shopify"
# shop = "acme-de.myshopify.com"
# api_version = "2026-10"          # Shopify supports each version for 12 months
# access_token_env = "SHOPIFY_DE_TOKEN"

# A WooCommerce store (REST API wc/v3):
# [connections.woo]
# type = "woocommerce"
# url = "https://shop.example.com"
# consumer_key_env = "WOO_KEY"
# consumer_secret_env = "WOO_SECRET"

# An ERP with SOAP web services (Dynamics NAV / Business Central page services):
# [connections.erp]
# type = "erp_soap"
# wsdl = "https://erp.example.com:7047/BC/WS/CRONUS/Page/{page}"
# preset = "nav_page"
# auth = "basic"
# username = "SHOPLOOP"
# password_env = "ERP_PASSWORD"
'''


def _check(connections: Connections, name: str) -> ConnectionCheck:
    try:
        return connections[name].check()  # type: ignore[no-any-return]
    except ShoploopError as exc:
        return ConnectionCheck(reachable=False, authorised=False, detail=str(exc))


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        path: Path = typer.Argument(Path(DEFAULT_CONFIG_NAME), help="Where to write the config."),
        force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    ) -> None:
        """Write a commented starter config."""
        if path.exists() and not force:
            console_err.print(f"[red]error:[/] {path} exists; use --force to overwrite it")
            raise typer.Exit(2)
        path.write_text(STARTER_CONFIG, encoding="utf-8")
        program = shoploop_command()
        console.print(f"wrote {path} — next: `{program} db upgrade`, then "
                      f"`{program} config check`")

    config_app = typer.Typer(help="Inspect and validate the configuration.", no_args_is_help=True)
    app.add_typer(config_app, name="config")

    @config_app.command("check")
    def check(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        offline: bool = typer.Option(False, "--offline", help="Contact no connection (the "
                                     "store and the secrets are still checked)."),
    ) -> None:
        """Validate the config, the secrets it names, the store's schema, and that every
        connection is reachable and authorised.

        Exit status: 0 all good; 2 invalid config, a secret variable not set, or a store
        without this shoploop's schema; 3 the store or a connection unreachable or unauthorised.
        """
        state: State = ctx.obj
        config = state.config()
        if config.raw.get("sync", {}).get("attributes"):
            from shoploop.sync import SyncSettings, resolve_mapping

            # Masters, targets and transforms exist: a bad mapping fails here, not at 3 am.
            resolve_mapping(config, SyncSettings.model_validate(config.raw["sync"]),
                            state.host.connectors, state.host.transforms)
        for connection in config.connections.values():
            for key in connection.settings.secret_keys_in_use():
                connection.settings.secret(key)  # a missing one: exit 2, naming key and variable
        schema, schema_status = _schema(config.store_url)
        results: dict[str, Any] = {}
        with Connections(config, state.host.connectors) as connections:
            for name, connection in config.connections.items():
                entry: dict[str, Any] = {"type": connection.type}
                if not offline:
                    entry.update(_check(connections, name).model_dump())
                # Warnings of the table itself (e.g. an API version past support): offline too.
                entry["warnings"] = [*connection.settings.config_warnings(),
                                     *entry.get("warnings", [])]
                results[name] = entry
        reachable = offline or all(r["reachable"] and r["authorised"] for r in results.values())
        ok = reachable and schema_status == 0
        if as_json:
            print_json({"file": str(config.path), "valid": True, "ok": ok,
                        "store": redact_url(config.store_url), "schema": schema,
                        "connections": results})
        else:
            console.print(f"[green]✓[/] {config.path}: valid")
            if schema_status == 0:
                console.print(f"[green]✓[/] store {escape(redact_url(config.store_url))}: "
                              f"schema at {schema['revision']}")
            else:
                console.print(f"[red]✗[/] {escape(schema['error']['message'])} — "
                              f"{escape(schema['error']['remedy'])}")
            table = Table()
            for column in ("connection", "type", "reachable", "authorised", "detail"):
                table.add_column(column)
            for name, r in results.items():
                mark = {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}
                table.add_row(name, r["type"], mark[r.get("reachable")],
                              mark[r.get("authorised")],
                              "; ".join([r.get("detail", ""), *r.get("warnings", [])]).strip("; "))
            console.print(table)
        if schema_status:
            raise typer.Exit(schema_status)  # the setup is not usable: fix it first
        if not reachable:
            raise typer.Exit(EXIT_UNREACHABLE)


def _schema(url: str) -> tuple[dict[str, Any], int]:
    """The store's schema state and the exit status it implies (0: at this shoploop's head).
    The store is shoploop's own database, so it is checked with ``--offline`` too."""
    from shoploop.store import Store, StoreError

    try:
        with Store(url) as store:
            revision = store.check_schema()
    except StoreError as exc:
        return {"up_to_date": False, "revision": None,
                "error": error_document(exc)["error"]}, exc.exit_code
    return {"up_to_date": True, "revision": revision, "error": None}, 0
