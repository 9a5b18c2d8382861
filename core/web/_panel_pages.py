"""The dashboard's referral and webhook pages (docs/web.md, "Dashboard"): the funnel, one
code's or customer's ledger, the webhook deliveries. A route group of its own; the navigation
entries and ``DASHBOARD_PAGES`` are in ``_dashboard``.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ._app import web_state
from ._dashboard import _page
from ._dashboard_auth import login_required
from ._messages import translate
from ._pages import choose_language
from ._panels import delivery_chart, funnel_context
from ._panels_data import referral_ledger, webhook_figures

LEDGER_SECTIONS = ("surveys", "codes", "referrals", "rewards")


@login_required
async def referrals_page(request: Request) -> Response:
    return _page(request, "dashboard/referrals.html", "referrals",
                 await funnel_context(request, web_state(request).store))


@login_required
async def referral_ledger_page(request: Request) -> Response:
    """One code's (or customer's) ledger: ``?q=CODE``; without it, the form to ask."""
    what = request.query_params.get("q", "").strip()[:64]
    language = choose_language(request)
    found = (await run_in_threadpool(referral_ledger, web_state(request).store, what)
             if what else None)
    return _page(request, "dashboard/referral_ledger.html", "referrals",
                 {"q": what, "ledger": found,
                  "sections": [(section, translate(language, f"entry_{section}"))
                               for section in LEDGER_SECTIONS]},
                 title=translate(language, "ledger_title", what=what) if what
                 else translate(language, "ledger"),
                 status_code=404 if what and found is None else 200)


@login_required
async def webhooks_page(request: Request) -> Response:
    counts, errors = await run_in_threadpool(webhook_figures, web_state(request).store)
    return _page(request, "dashboard/webhooks.html", "webhooks", {
        "counts": counts, "errors": errors, "chart": delivery_chart(request, counts),
        "total": sum(counts.values())})


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard/referrals", referrals_page, methods=["GET"]),
        Route("/dashboard/referrals/ledger", referral_ledger_page, methods=["GET"]),
        Route("/dashboard/webhooks", webhooks_page, methods=["GET"]),
    ]
