"""``/healthz`` (the process answers) and ``/readyz`` (the store is reachable and migrated)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ._app import web_state


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def _store_ready(request: Request) -> tuple[bool, str]:
    from shoploop.hooks import ShoploopError

    try:
        web_state(request).store.check_schema()
    except ShoploopError as exc:
        return False, str(exc)
    return True, "ok"


async def readyz(request: Request) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    ready, detail = await run_in_threadpool(_store_ready, request)
    return JSONResponse({"ok": ready, "store": detail}, status_code=200 if ready else 503)


def routes() -> list[BaseRoute]:
    return [Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"])]
