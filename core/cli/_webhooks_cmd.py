"""``shoploop webhooks register|list|process``: subscriptions on the platforms, stored
deliveries, and processing them outside ``serve`` (cron, ``webhook_processing = "external"``).

Exit codes (docs/cli.md): 0 ok · 1 ``process`` left deliveries failed · 2 configuration error
(no base URL, an unknown connection, a store without the current schema) · 3 a platform or
the store is unreachable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from ._state import State, console, print_json

if TYPE_CHECKING:
    from shoploop._config import Config
    from shoploop._connections import Connections


def _managed(config: Config, connections: Connections, only: list[str]) -> list[str]:
    """The connections to act on: ``only`` (each must manage webhooks), else every one that
    does."""
    from shoploop.hooks import ConfigError, ManagesWebhooks

    for name in only:
        if name not in config.connections:
            raise ConfigError(f"no connection named {name!r}; configured: "
                              f"{', '.join(config.connections) or 'none'}",
                              key=f"connections.{name}",
                              remedy="name a connection of the config file")
    names = only or list(config.connections)
    managed = [n for n in names if isinstance(connections[n], ManagesWebhooks)]
    if only and len(managed) < len(only):
        missing = sorted(set(only) - set(managed))
        raise ConfigError(f"connection(s) {', '.join(missing)} cannot manage webhooks",
                          remedy="register those webhooks in the platform's admin by hand, "
                                 "to <base_url>/webhooks/<connection>")
    return managed


def register_all(state: State, base_url: str | None, only: list[str]) -> list[dict[str, Any]]:
    from shoploop._connections import Connections
    from shoploop.hooks import ConfigError

    config = state.config()
    base = (base_url or config.web.base_url or "").rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError("no public base URL to register webhooks for", key="web.base_url",
                          file=str(config.path) if config.path else None,
                          remedy="set base_url in [web] (the URL the platforms reach this "
                                 "app at, e.g. behind the proxy) or pass --url")
    rows: list[dict[str, Any]] = []
    with Connections(config, state.host.connectors) as connections:
        for name in _managed(config, connections, only):
            for sub in connections[name].register_webhooks(f"{base}/webhooks/{name}"):
                rows.append({"connection": name, **sub.model_dump()})
    return rows


def list_all(state: State, only: list[str], deliveries: int) -> dict[str, Any]:
    from shoploop._connections import Connections
    from shoploop.store import Store, delivery_counts, recent_deliveries

    config = state.config()
    subscriptions: list[dict[str, Any]] = []
    with Connections(config, state.host.connectors) as connections:
        for name in _managed(config, connections, only):
            subscriptions.extend({"connection": name, **s.model_dump(exclude={"created"})}
                                 for s in connections[name].list_webhooks())
    with Store(config.store_url) as store, store.session() as session:
        counts = delivery_counts(session)
        newest = [{"id": d.id, "connection": d.connection, "topic": d.topic,
                   "status": d.status, "attempts": d.attempts,
                   "received_at": d.received_at.isoformat(), "error": d.error}
                  for d in recent_deliveries(session, limit=deliveries)] if deliveries else []
    return {"subscriptions": subscriptions, "deliveries": counts, "recent": newest}


def process_all(state: State, limit: int, retry_failed: bool) -> dict[str, Any]:
    from shoploop._connections import Connections
    from shoploop.jobs import process_stored
    from shoploop.store import Store

    config = state.config()
    with Store(config.store_url) as store, \
            Connections(config, state.host.connectors) as connections:
        return process_stored(state.host, config, store, connections, limit=limit,
                              retry_failed=retry_failed)


def register(app: typer.Typer) -> None:
    webhooks = typer.Typer(help="Webhooks: subscribe on the platforms, list, process.",
                           no_args_is_help=True)
    app.add_typer(webhooks, name="webhooks")
    only_option = typer.Option([], "--connection", "-c",
                               help="Only this connection (repeatable); default: all that can.")

    @webhooks.command("register")
    def register_command(
        ctx: typer.Context,
        url: str = typer.Option(None, "--url", help="Public base URL the platforms deliver "
                                "to (default: [web] base_url)."),
        only: list[str] = only_option,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """Subscribe each connection's topics to <base URL>/webhooks/<connection>
        (Shopify webhookSubscriptionCreate, WooCommerce POST webhooks). Idempotent: what is
        already subscribed is listed, not created again."""
        rows = register_all(ctx.obj, url, only)
        if as_json:
            print_json({"subscriptions": rows})
            return
        for row in rows:
            mark = "created" if row["created"] else "exists "
            console.print(f"{mark} {escape(row['connection'])} {escape(row['topic'])} → "
                          f"{escape(row['address'])}")

    @webhooks.command("list")
    def list_command(
        ctx: typer.Context,
        only: list[str] = only_option,
        deliveries: int = typer.Option(10, "--deliveries", min=0, max=1000,
                                       help="Newest stored deliveries to show."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """The platforms' subscriptions, the stored deliveries by status, the newest ones."""
        data = list_all(ctx.obj, only, deliveries)
        if as_json:
            print_json(data)
            return
        from ._tables import ReadableTable

        table = ReadableTable("subscriptions", [("connection", "left"), ("topic", "left"),
                                                ("address", "left"), ("status", "left")])
        for sub in data["subscriptions"]:
            table.add_row(sub["connection"], sub["topic"], sub["address"], sub["status"])
        console.print(table)
        console.print("deliveries: " + ", ".join(f"{n} {status}" for status, n
                                                 in data["deliveries"].items()))
        for row in data["recent"]:
            error = f" — {escape(row['error'])}" if row["error"] else ""
            console.print(f"  #{row['id']} {escape(row['connection'])} "
                          f"{escape(row['topic'])} {row['status']} "
                          f"(attempts {row['attempts']}, {row['received_at']}){error}")

    @webhooks.command("process")
    def process_command(
        ctx: typer.Context,
        limit: int = typer.Option(10_000, "--limit", min=1, help="At most this many."),
        retry_failed: bool = typer.Option(False, "--retry-failed",
                                          help="Also try the failed ones once more."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """Process stored deliveries now (what serve's worker does after each delivery):
        privacy erasure, order mirror, on_event. Exit 1 when some are left failed."""
        data = process_all(ctx.obj, limit, retry_failed)
        if as_json:
            print_json(data)
        else:
            console.print(f"processed {data['processed']} deliveries ({data['mirrored']} "
                          f"records mirrored), {data['retried']} to retry, "
                          f"{data['failed']} failed; {data['pruned']} processed ones past "
                          "the retention deleted")
            for error in data["errors"]:
                console.print(f"  {escape(error)}")
        if data["failed"]:
            raise typer.Exit(1)
