"""``shoploop serve``: the web application (webhooks, storefront API, pages, dashboard) on
uvicorn (docs/web.md).

Exit codes (docs/cli.md): 0 stopped cleanly · 2 configuration error (an invalid ``[web]``, a
store without the current schema). uvicorn and Starlette load inside the command only.
"""

from __future__ import annotations

import os

import typer

from ._state import State, console_err


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on "
                                 "(0.0.0.0 for all; usually behind a reverse proxy)."),
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port."),
        workers: int = typer.Option(1, "--workers", min=1, max=64,
                                    help="Worker processes (each loads the app)."),
    ) -> None:
        """Serve webhooks, the storefront API, the customer pages and the operator dashboard
        (configured in the web section of shoploop.toml)."""
        import uvicorn

        from shoploop.store import Store

        state: State = ctx.obj
        config = state.config(required=False)
        # Refuse a store without the current schema now, with the CLI's error and remedy,
        # rather than answer every request with a 503.
        with Store(config.store_url) as store:
            store.check_schema()
        if config.path is not None:
            # Each worker process builds the app from the environment (uvicorn's factory).
            os.environ["SHOPLOOP_CONFIG"] = str(config.path)
        where = config.web.base_url or f"http://{host}:{port}"
        console_err.print(f"shoploop serve · {where} · {workers} worker(s) · Ctrl+C stops")
        uvicorn.run("shoploop.web:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level="warning", proxy_headers=True,
                    server_header=False)
