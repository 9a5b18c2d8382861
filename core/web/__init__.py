"""The web side of shoploop: one ASGI app, ``shoploop serve`` (docs/web.md).

    from shoploop.web import create_app

    app = create_app(host, config, store)   # a Starlette app; serve it with uvicorn

Pages (customer pages, the dashboard) render through :func:`render_page` (docs/web.md,
"Pages"); a dashboard page is wrapped in :func:`login_required`, its charts are
:func:`bar_chart` / :func:`run_history_chart` (inline SVG).

Starlette and uvicorn load on first use, so reading the config — which validates ``[web]``
with :class:`WebSettings` — stays cheap for every other command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._settings import WebSettings

if TYPE_CHECKING:
    from ._app import ROUTE_GROUPS, WebState, app_from_environment, create_app, web_state
    from ._charts import bar_chart, run_history_chart
    from ._dashboard_auth import login_required
    from ._pages import choose_language, page_url, render_page
    from ._serving import serving

_LAZY = {name: "._app" for name in
         ("ROUTE_GROUPS", "WebState", "app_from_environment", "create_app", "web_state")}
_LAZY.update({name: "._pages" for name in ("choose_language", "page_url", "render_page")})
_LAZY.update(bar_chart="._charts", run_history_chart="._charts",
             login_required="._dashboard_auth", serving="._serving")

__all__ = ["ROUTE_GROUPS", "WebSettings", "WebState", "app_from_environment", "bar_chart",
           "choose_language", "create_app", "login_required", "page_url", "render_page",
           "run_history_chart", "serving", "web_state"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
