"""``shoploop import STREAM``: mirror records of every connection into the store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from shoploop._connections import Connections
from shoploop.hooks import AuthError, Capability, ConnectorError, UnreachableError

from ._progress import ProgressBoard, board, progress
from ._tables import ReadableTable

if TYPE_CHECKING:
    from shoploop.jobs import MirrorStream
from ._state import State, console, console_err, print_json

STREAMS: dict[str, tuple[MirrorStream, Capability]] = {
    "customers": ("customers", Capability.READ_CUSTOMERS),
    "orders": ("orders", Capability.READ_ORDERS),
    "products": ("products", Capability.READ_PRODUCTS),
    "installed-base": ("installed_base", Capability.READ_INSTALLED_BASE),
}
EXIT_FAILED, EXIT_CONFIG, EXIT_UNREACHABLE = 1, 2, 3
COUNTS = ("read", "inserted", "updated", "unchanged", "pages", "warnings")
HEADINGS = {"inserted": "new", "unchanged": "same"}  # short: the table fits 80 columns


def run_import(state: State, stream: str, source: str | None, full: bool,
               shown: ProgressBoard | None = None) -> tuple[list[dict[str, Any]], int]:
    """Mirror one stream of the chosen connections; returns (rows, exit status). Progress
    goes to ``shown`` (default: bars on a terminal, lines on stderr otherwise)."""
    with shown if shown is not None else board() as where:
        return _run_import(state, stream, source, full, where)


def _run_import(state: State, stream: str, source: str | None, full: bool,
                shown: ProgressBoard) -> tuple[list[dict[str, Any]], int]:
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
                console_err.print(f"[red]error:[/] no connection named {source!r}; "
                                  f"configured: {', '.join(config.connections) or 'none'}")
                return rows, EXIT_CONFIG
            if source not in names:
                console_err.print(f"[red]error:[/] connection {source!r} cannot read {stream}")
                return rows, EXIT_CONFIG
            names = [source]
        for name in names:
            row: dict[str, Any] = {"connection": name, "stream": stream_name}
            try:
                with progress(f"{name} {stream}", shown=shown) as tracker:
                    result = mirror_stream(connections[name], store, connection=name,
                                           stream=stream_name, full=full,
                                           on_page=tracker.advance, on_total=tracker.set_total)
                row.update(ok=True, read=result.read, inserted=result.inserted,
                           updated=result.updated, unchanged=result.unchanged,
                           pages=result.pages, warnings=result.warnings)
            except (UnreachableError, AuthError) as exc:
                row.update(ok=False, error=str(exc))
                status = max(status, EXIT_UNREACHABLE)
            except ConnectorError as exc:
                row.update(ok=False, error=str(exc))
                status = max(status, EXIT_FAILED)
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
            console_err.print(f"[red]error:[/] unknown stream {stream!r}; "
                              f"choose one of: {', '.join(STREAMS)}")
            raise typer.Exit(EXIT_CONFIG)
        rows, status = run_import(ctx.obj, stream, source, full)
        if as_json:
            print_json({"stream": stream, "ok": status == 0, "connections": rows})
        else:
            table = ReadableTable(f"import {stream}", [("connection", "left"), *(
                (HEADINGS.get(column, column), "right") for column in COUNTS)], markup=True)
            for row in rows:
                if row["ok"]:
                    table.add_row(escape(row["connection"]),
                                  *(f"{row[k]:,}" for k in COUNTS))
                else:
                    table.add_row(escape(row["connection"]),
                                  f"[red]{escape(row['error'])}[/]", *[""] * (len(COUNTS) - 1))
            console.print(table)
            if any(row.get("warnings") for row in rows):
                console_err.print("[yellow]warnings:[/] some records were kept with a value "
                                  "left out; the log lines above name file and line")
        raise typer.Exit(status)
