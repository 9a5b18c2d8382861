"""What the storefront API's handlers share: JSON errors that name the bad parameter, and
CORS for the configured storefront origins (``[web] allowed_origins``).

CORS is answered per route rather than by Starlette's ``CORSMiddleware``: only the storefront
API is meant to be called from shop pages; webhooks and the dashboard must not be (a
middleware would cover the whole app).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._app import web_state

PREFLIGHT_MAX_AGE = 600
"""Seconds a browser may keep a preflight's answer (Chromium caps it at 7200)."""


def api_error(status: int, code: str, message: str, *, parameter: str | None = None,
              remedy: str | None = None,
              headers: Mapping[str, str] | None = None) -> JSONResponse:
    """``{"ok": false, "error": {code, message, parameter?, remedy?}}`` with ``status``."""
    error: dict[str, str] = {"code": code, "message": message}
    if parameter is not None:
        error["parameter"] = parameter
    if remedy is not None:
        error["remedy"] = remedy
    return JSONResponse({"ok": False, "error": error}, status_code=status,
                        headers=dict(headers or {}))


def allowed_origin(request: Request) -> str | None:
    """The request's ``Origin`` if the storefront API may answer it (CORS), else None."""
    origin = request.headers.get("origin")
    if origin is None:
        return None
    allowed = web_state(request).settings.allowed_origins
    if "*" in allowed or origin.rstrip("/") in allowed:
        return origin
    return None


def cors_headers(request: Request, *, expose: str = "ETag") -> dict[str, str]:
    """Headers that let an allowed origin read the answer; ``Vary: Origin`` always, so a
    shared cache never hands one origin's answer to another."""
    headers = {"Vary": "Origin"}
    origin = allowed_origin(request)
    if origin is not None:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = expose
    return headers


def refused_origin(request: Request) -> JSONResponse | None:
    """A 403 for a cross-origin request from an origin not in ``allowed_origins`` (None when
    the request has no ``Origin`` — a server or curl — or an allowed one)."""
    origin = request.headers.get("origin")
    if origin is None or allowed_origin(request) is not None:
        return None
    return api_error(403, "origin_not_allowed",
                     f"origin {origin!r} may not call the storefront API",
                     remedy="add it to allowed_origins in the [web] section of shoploop.toml",
                     headers={"Vary": "Origin"})


def cors_gate(request: Request, methods: str) -> Response | None:
    """What a storefront route answers before its own work, if anything: the preflight's
    answer for ``OPTIONS``, a 403 for a refused origin; None to go on."""
    if request.method == "OPTIONS":
        return preflight(request, methods)
    return refused_origin(request)


def preflight(request: Request, methods: str) -> Response:
    """The answer to a CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``)."""
    refused = refused_origin(request)
    if refused is not None:
        return refused
    asked = request.headers.get("access-control-request-method", "")
    if asked not in methods.split(", "):
        return api_error(405, "method_not_allowed",
                         f"{asked or 'no method'} is not allowed here; allowed: {methods}",
                         headers={"Allow": f"{methods}, OPTIONS", "Vary": "Origin"})
    headers = cors_headers(request)
    headers.update({"Access-Control-Allow-Methods": methods,
                    "Access-Control-Allow-Headers": "Content-Type, If-None-Match",
                    "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE)})
    return Response(status_code=204, headers=headers)
