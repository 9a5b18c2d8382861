"""``shoploop import STREAM``: mirror records of every connection into the store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from shoploop._connections import Connections
from shoploop.hooks import Capability, ConfigError, ConnectorError

from ._errors import UsageError
from ._progress import progress

if TYPE_CHECKING:
    from shoploop.jobs import MirrorStream
from ._state import State, console, print_json

STREAMS: dict[str, tuple[MirrorStream, Capability]] = {
    "customers": ("customers", Capability.READ_CUSTOMERS),
    "orders": ("orders", Capability.READ_ORDERS),
    "products": ("products", Capability.READ_PRODUCTS),
    "installed-base": ("installed_base", Capability.READ_INSTALLED_BASE),
}


def run_import(state: State, stream: str, source: str | None, full: bool) -> tuple[
        list[dict[str, Any]], int]:
    """Mirror one stream of the chosen connections; returns (rows, exit status). A connection
    that fails is a row with its error (the others still run); the status is the highest exit
    code of the failed connections' errors (docs/cli.md)."""
    # Imported here: SQLAlchemy and the jobs are not needed for `--help` or `plugins`.
    from shoploop.jobs import mirror_stream
    from shoploop.store import Store

    config = state.config()
    stream_name, capability = STREAMS[stream]
    rows: list[dict[str, Any]] = []
    status = 0
    with Connections(config, state.host.connectors) as connections, \
            Store(config.store_url) as store:
        names = connections.with_capability(capability)
        if source is not None:
            if source not in config.connections:
                raise ConfigError(
                    f"no connection named {source!r}; configured: "
                    f"{', '.join(config.connections) or 'none'}",
                    file=str(config.path) if config.path else None,
                    key=f"connections.{source}", remedy="pass --from with a configured "
                    "connection (`shoploop config check` lists them)")
            if source not in names:
                raise UsageError(f"connection {source!r} cannot read {stream}",
                                 remedy=f"choose one of: {', '.join(names) or 'none'}")
            names = [source]
        for name in names:
            row: dict[str, Any] = {"connection": name, "stream": stream_name}
            try:
                with progress(f"{name}: {stream}") as advance:
                    result = mirror_stream(connections[name], store, connection=name,
                                           stream=stream_name, full=full, on_page=advance)
                row.update(ok=True, read=result.read, inserted=result.inserted,
                           updated=result.updated, unchanged=result.unchanged,
                           pages=result.pages)
            except ConnectorError as exc:
                row.update(ok=False, error=str(exc), code=exc.error_code)
                status = max(status, exc.exit_code)
            rows.append(row)
    return rows, status


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        ctx: typer.Context,
        stream: str = typer.Argument(..., help="customers, orders, products or installed-base"),
        source: str | None = typer.Option(None, "--from", help="Only this connection."),
        full: bool = typer.Option(False, "--full", help="Ignore stored cursors; read all."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Mirror records of every connection into the store, incrementally from the stored
        cursor (a re-run reads only what changed)."""
        if stream not in STREAMS:
            raise UsageError(f"unknown stream {stream!r}",
                             remedy=f"choose one of: {', '.join(STREAMS)}")
        rows, status = run_import(ctx.obj, stream, source, full)
        if as_json:
            print_json({"stream": stream, "ok": status == 0, "connections": rows})
        else:
            table = Table(title=f"import {stream}")
            for column in ("connection", "read", "inserted", "updated", "unchanged", "pages"):
                table.add_column(column, justify="left" if column == "connection" else "right")
            for row in rows:
                if row["ok"]:
                    table.add_row(row["connection"], *(str(row[k]) for k in (
                        "read", "inserted", "updated", "unchanged", "pages")))
                else:
                    table.add_row(row["connection"], f"[red]{row['error']}[/]", "", "", "", "")
            console.print(table)
        raise typer.Exit(status)
