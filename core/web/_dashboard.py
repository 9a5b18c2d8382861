"""The operator dashboard (docs/web.md, "Dashboard"): sync runs, recommendations, connections.

Every page but the login is :func:`~._dashboard_auth.login_required`; store reads, connection
checks and password hashing run in the thread pool, so a slow check never blocks the event
loop that answers webhooks and the storefront API.
"""

from __future__ import annotations

import logging
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ._app import web_state
from ._charts import STATUS_COLORS, bar_chart, run_history_chart
from ._dashboard_auth import (
    LOGIN_PATH,
    Access,
    client_address,
    csrf_refused,
    disabled_page,
    issue_cookie,
    limiter,
    load_access,
    login_required,
    safe_next,
    session_secret,
)
from ._dashboard_data import (
    ModelRow,
    connection_health,
    placements,
    reco_models,
    run_detail,
    run_history,
    run_jobs,
)
from ._messages import translate
from ._pages import choose_language, page_url, render_page
from ._panels import funnel_context, placement_charts
from ._panels_data import storefront_figures
from ._passwords import DUMMY_HASH, verify_password
from ._sessions import COOKIE, Session

log = logging.getLogger("shoploop.web.dashboard")

SYNC_JOB = "sync.customers"
"""``shoploop.sync``'s job name in the run records (the overview shows its runs)."""

PAGES = (("overview", "/dashboard"), ("sync_runs", "/dashboard/runs"),
         ("recommendations", "/dashboard/recommendations"),
         ("referrals", "/dashboard/referrals"), ("webhooks", "/dashboard/webhooks"),
         ("connections", "/dashboard/connections"))


def _nav(request: Request, current: str) -> list[dict[str, object]]:
    language = choose_language(request)
    return [{"label": translate(language, key), "url": page_url(request, path),
             "current": key == current} for key, path in PAGES]


def _page(request: Request, template: str, current: str, context: dict[str, object], *,
          title_key: str | None = None, title: str | None = None,
          status_code: int = 200) -> Response:
    return render_page(request, template, {
        **context, "nav": _nav(request, current), "user": request.state.user,
        "home_url": page_url(request, "/dashboard")},
        title_key=title_key or (None if title else current), title=title, status_code=status_code)


# -- login and logout -----------------------------------------------------------------------


def _login_form(request: Request, access: Access, *, error: str = "", username: str = "",
                next_url: str = "/dashboard", status_code: int = 200) -> Response:
    request.state.csrf_token = access.session.csrf
    response = render_page(request, "dashboard/login.html",
                           {"error": error, "username": username, "next_url": next_url},
                           title_key="login_title", status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if access.issue:
        issue_cookie(request, response, access)
    return response


async def login(request: Request) -> Response:
    disabled = disabled_page(request)
    if disabled is not None:
        return disabled
    secret = session_secret(request)
    assert secret is not None
    access = load_access(request, secret)
    if request.method == "GET":
        return _login_form(request, access,
                           next_url=safe_next(request.query_params.get("next")))
    refused = await csrf_refused(request, access)
    if refused is not None:
        return refused
    form = await request.form()
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))
    next_url = safe_next(form.get("next"))
    language = choose_language(request)
    client = client_address(request)
    rate = limiter(request)
    wait = rate.blocked_for(username, client)
    if wait > 0:
        log.warning("dashboard: login for %r from %s refused: too many failures", username,
                    client)
        return _login_form(request, access, username=username, next_url=next_url,
                           error=translate(language, "login_limited",
                                           seconds=int(wait) + 1), status_code=429)
    users = web_state(request).settings.users
    # An unknown name costs a hash as well, so the timing does not tell which names exist.
    valid = await run_in_threadpool(verify_password, password,
                                    users.get(username, DUMMY_HASH))
    if not valid or username not in users:
        rate.failed(username, client)
        log.warning("dashboard: failed login for %r from %s", username, client)
        return _login_form(request, access, username=username, next_url=next_url,
                           error=translate(language, "login_failed"), status_code=401)
    rate.succeeded(username, client)
    log.info("dashboard: %r signed in from %s", username, client)
    # A new session (and CSRF token) on login: a session planted before it is worthless.
    fresh = Access(Session.for_user(username, time.time()), secret, issue=True)
    response = RedirectResponse(page_url(request, next_url), status_code=303)
    issue_cookie(request, response, fresh)
    response.headers["Cache-Control"] = "no-store"
    return response


@login_required
async def logout(request: Request) -> Response:
    response = RedirectResponse(page_url(request, LOGIN_PATH), status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    log.info("dashboard: %r signed out", request.state.user)
    return response


# -- pages ----------------------------------------------------------------------------------


def _history_chart(request: Request, runs: list[object]) -> object:
    from ._dashboard_data import RunRow

    rows = [r for r in runs if isinstance(r, RunRow)]
    return run_history_chart(
        [(f"{r.job} {r.started_at:%Y-%m-%d %H:%M}", r.written, r.failed)
         for r in reversed(rows)],
        title=translate(choose_language(request), "run_history_chart"),
        legend=(translate(choose_language(request), "written"),
                translate(choose_language(request), "failed")))


def _model_chart(request: Request, models: list[ModelRow]) -> object:
    """The newest model's figures as bars, labelled in the page's language."""
    if not models:
        return None
    language = choose_language(request)
    return bar_chart([(translate(language, key), value) for key, value in models[0].figures],
                     title=translate(language, "model_figures_chart"))


@login_required
async def overview(request: Request) -> Response:
    state = web_state(request)
    # The sync's runs: the mirror and publish jobs have their own (see the runs page).
    runs = await run_in_threadpool(run_history, state.store, job=SYNC_JOB, limit=30)
    models = await run_in_threadpool(reco_models, state.store)
    return _page(request, "dashboard/overview.html", "overview", {
        "runs": runs[:5], "chart": _history_chart(request, list(runs)) if runs else None,
        "model": models[0] if models else None, "figures": _model_chart(request, models),
        **await funnel_context(request, state.store)})


@login_required
async def runs_page(request: Request) -> Response:
    store = web_state(request).store
    jobs = await run_in_threadpool(run_jobs, store)
    job = request.query_params.get("job") or None
    runs = await run_in_threadpool(run_history, store, job=job if job in jobs else None,
                                   limit=100)
    return _page(request, "dashboard/runs.html", "sync_runs", {
        "runs": runs, "jobs": jobs, "job": job or "",
        "chart": _history_chart(request, list(runs)) if runs else None})


@login_required
async def run_page(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    status = request.query_params.get("status") or None
    detail = await run_in_threadpool(run_detail, web_state(request).store, run_id,
                                     status=status)
    language = choose_language(request)
    if detail is None:
        return _page(request, "dashboard/message.html", "sync_runs",
                     {"paragraphs": [translate(language, "run_not_found", run=run_id)],
                      "warn": True}, title=translate(language, "run_title", run=run_id[:8]),
                     status_code=404)
    return _page(request, "dashboard/run.html", "sync_runs", {
        "detail": detail, "status": status or "",
        "status_chart": bar_chart(detail.by_status, colors=STATUS_COLORS, title=translate(
            language, "changes_by_status")) if detail.by_status else None,
        "attribute_chart": bar_chart(detail.by_attribute[:20], title=translate(
            language, "changes_by_attribute")) if detail.by_attribute else None},
        title=translate(language, "run_title", run=run_id[:8]))


@login_required
async def recommendations_page(request: Request) -> Response:
    state = web_state(request)
    models = await run_in_threadpool(reco_models, state.store)
    events = await run_in_threadpool(storefront_figures, state.store)
    return _page(request, "dashboard/recommendations.html", "recommendations", {
        "models": models, "figures": _model_chart(request, models),
        "placements": placements(state.config), "events": events,
        "event_charts": placement_charts(request, events)})


@login_required
async def connections_page(request: Request) -> Response:
    state = web_state(request)
    rows = await run_in_threadpool(connection_health, state.config, state.host.connectors)
    return _page(request, "dashboard/connections.html", "connections", {
        "rows": rows, "checked_at": state.clock().strftime("%Y-%m-%d %H:%M:%S UTC")})


DASHBOARD_PAGES: tuple[str, ...] = ("/dashboard", "/dashboard/runs",
                                    "/dashboard/runs/{run_id}", "/dashboard/recommendations",
                                    "/dashboard/referrals", "/dashboard/referrals/ledger",
                                    "/dashboard/webhooks", "/dashboard/connections")
"""Every page behind the login (the tests walk them all unauthenticated)."""


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard", overview, methods=["GET"]),
        Route(LOGIN_PATH, login, methods=["GET", "POST"]),
        Route("/dashboard/logout", logout, methods=["POST"]),
        Route("/dashboard/runs", runs_page, methods=["GET"]),
        Route("/dashboard/runs/{run_id}", run_page, methods=["GET"]),
        Route("/dashboard/recommendations", recommendations_page, methods=["GET"]),
        Route("/dashboard/connections", connections_page, methods=["GET"]),
    ]
