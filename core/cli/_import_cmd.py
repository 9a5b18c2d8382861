"""``shoploop import STREAM``: mirror records of every connection into the store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from shoploop._connections import Connections
from shoploop.hooks import Capability, ConfigError, ConnectorError

from ._errors import UsageError
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

COUNTS = ("read", "inserted", "updated", "unchanged", "pages", "warnings")
HEADINGS = {"inserted": "new", "unchanged": "same"}  # short: the table fits 80 columns


def run_import(state: State, stream: str, source: str | None, full: bool,
               shown: ProgressBoard | None = None) -> tuple[list[dict[str, Any]], int]:
    """Mirror one stream of the chosen connections; returns (rows, exit status). A connection
    that fails is a row with its error (the others still run); the status is the highest exit
    code of the failed connections' errors (docs/cli.md). Progress goes to ``shown`` (default:
    bars on a terminal, lines on stderr otherwise)."""
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
                with progress(f"{name} {stream}", shown=shown) as tracker:
                    result = mirror_stream(connections[name], store, connection=name,
                                           stream=stream_name, full=full,
                                           on_page=tracker.advance, on_total=tracker.set_total)
                row.update(ok=True, read=result.read, inserted=result.inserted,
                           updated=result.updated, unchanged=result.unchanged,
                           pages=result.pages, warnings=result.warnings)
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
