"""``GET /static/shoploop-widget.js``: the storefront widget, one file, no build step.

Served from the package with a validator (ETag from its content) and a day of caching; a
shop page revalidates with ``If-None-Match`` and gets a 304. ``Access-Control-Allow-Origin:
*``: the file is public, and the header lets a page load it with ``crossorigin`` / SRI.
"""

from __future__ import annotations

from functools import cache
from hashlib import blake2b
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

WIDGET_PATH = "/static/shoploop-widget.js"
CACHE_SECONDS = 86_400


@cache
def widget_source() -> tuple[bytes, str]:
    """The widget's bytes and ETag (read once per process)."""
    body = files("shoploop.web").joinpath("static", "shoploop-widget.js").read_bytes()
    return body, f'"{blake2b(body, digest_size=12).hexdigest()}"'


async def widget(request: Request) -> Response:
    body, etag = widget_source()
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={CACHE_SECONDS}",
               "Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}
    if etag in {tag.strip().removeprefix("W/")
                for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript", headers=headers)


def routes() -> list[BaseRoute]:
    return [Route(WIDGET_PATH, widget, methods=["GET", "HEAD"])]


__all__ = ["WIDGET_PATH", "routes", "widget_source"]
