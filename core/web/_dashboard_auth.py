"""Who may see the dashboard: the login, the session on every request, CSRF on every POST.

:func:`login_required` wraps a dashboard endpoint: a disabled dashboard (no users, no session
key) answers with a page that says what to configure; an anonymous GET is redirected to the login
(303), any other anonymous request gets 401; a POST whose ``csrf_token`` field does not match
the session's gets 403 and changes nothing. Every answer is ``Cache-Control: no-store``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ._app import web_state
from ._pages import page_url, render_page
from ._sessions import (
    COOKIE,
    CSRF_FIELD,
    MIN_SECRET_CHARS,
    LoginLimiter,
    Session,
    decode_session,
    encode_session,
)

log = logging.getLogger("shoploop.web.dashboard")

Endpoint = Callable[[Request], Awaitable[Response]]
LOGIN_PATH = "/dashboard/login"
COOKIE_PATH = "/dashboard"


@dataclass
class Access:
    """The request's session, and whether the cookie must be (re)issued."""

    session: Session
    secret: str
    issue: bool


def session_secret(request: Request) -> str | None:
    from shoploop._logging import register_secret

    variable = web_state(request).settings.session_secret_env
    value = os.environ.get(variable, "")
    if len(value) < MIN_SECRET_CHARS:
        return None
    register_secret(value)  # redacted from every log line, like the connectors' secrets
    return value


def disabled_page(request: Request) -> Response | None:
    """The page a dashboard without users or without a session key shows, else None."""
    settings = web_state(request).settings
    reason: tuple[str, dict[str, object]]
    if not settings.users:
        reason = ("disabled_no_users", {})
    elif session_secret(request) is None:
        reason = ("disabled_no_secret", {"variable": settings.session_secret_env,
                                          "chars": MIN_SECRET_CHARS})
    else:
        return None
    from ._messages import translate
    from ._pages import choose_language

    text = translate(choose_language(request), reason[0], **reason[1])
    # 404: there is no dashboard here; the page tells the operator how to enable it.
    return _no_store(render_page(request, "dashboard/message.html", {"paragraphs": [text]},
                                 title_key="disabled_title", status_code=404))


def load_access(request: Request, secret: str) -> Access:
    settings = web_state(request).settings
    now = time.time()
    session = decode_session(request.cookies.get(COOKIE), secret, now=now,
                             max_age=settings.session_max_age)
    if session is not None and session.user is not None and session.user not in settings.users:
        session = None  # a user removed from the config is signed out
    if session is None:
        return Access(Session.anonymous(now), secret, issue=True)
    return Access(session, secret, issue=False)


def issue_cookie(request: Request, response: Response, access: Access) -> None:
    settings = web_state(request).settings
    secure = bool(settings.base_url and settings.base_url.startswith("https://"))
    response.set_cookie(COOKIE, encode_session(access.session, access.secret),
                        max_age=settings.session_max_age, path=COOKIE_PATH, secure=secure,
                        httponly=True, samesite="lax")


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def safe_next(value: object) -> str:
    """A redirect target after the login: a dashboard path of this app, never another site
    (``//evil.example`` and ``/dashboard\\..`` tricks included)."""
    if isinstance(value, str) and value.startswith("/dashboard") and "//" not in value \
            and "\\" not in value and not value.startswith(LOGIN_PATH):
        return value
    return "/dashboard"


def _unauthenticated(request: Request) -> Response:
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return _no_store(RedirectResponse(
            page_url(request, LOGIN_PATH, next=target), status_code=303))
    return _no_store(Response("401 Unauthorized: sign in at /dashboard/login first.\n",
                              status_code=401, media_type="text/plain",
                              headers={"WWW-Authenticate": 'Cookie realm="shoploop dashboard"'}))


async def csrf_refused(request: Request, access: Access) -> Response | None:
    """403 with a page when a POST's ``csrf_token`` is not the session's; None when it is."""
    form = await request.form()
    if access.session.csrf_matches(form.get(CSRF_FIELD)):
        return None
    log.warning("dashboard: %s %s refused: CSRF token missing or wrong", request.method,
                request.url.path)
    from ._messages import translate
    from ._pages import choose_language

    request.state.csrf_token = access.session.csrf
    response = render_page(request, "dashboard/message.html",
                           {"paragraphs": [translate(choose_language(request),
                                                     "csrf_failed_body")], "warn": True},
                           title_key="csrf_failed_title", status_code=403)
    if access.issue:
        issue_cookie(request, response, access)
    return _no_store(response)


def login_required(handler: Endpoint) -> Endpoint:
    """The endpoint, for signed-in users only (see the module's docstring)."""

    async def endpoint(request: Request) -> Response:
        disabled = disabled_page(request)
        if disabled is not None:
            return disabled
        secret = session_secret(request)
        assert secret is not None  # disabled_page answered otherwise
        access = load_access(request, secret)
        if access.session.user is None:
            return _unauthenticated(request)
        if request.method == "POST":
            refused = await csrf_refused(request, access)
            if refused is not None:
                return refused
        request.state.csrf_token = access.session.csrf
        request.state.user = access.session.user
        response = await handler(request)
        return _no_store(response)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def limiter(request: Request) -> LoginLimiter:
    """The app's login rate limit (one per app, in ``WebState.extras``)."""
    state = web_state(request)
    key = __name__
    if key not in state.extras:
        state.extras[key] = LoginLimiter(attempts=state.settings.login_attempts,
                                         window=float(state.settings.login_window))
    found: LoginLimiter = state.extras[key]
    return found


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"

