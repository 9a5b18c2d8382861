"""The referral loop's customer pages (docs/referrals.md, "The customer pages"):

- ``/survey/{token}``: the satisfaction survey of the signed link in the survey e-mail (GET
  shows the 1 to 5 question, POST records it through :func:`shoploop.referral.record_answer`);
- ``/survey/{token}/opt-out`` (and the e-mail's ``/survey/{token}?optout=1``): no more
  surveys or invitations (GET asks, POST records);
- ``/r/{code}``: the friend's landing page — the offer, the code, a link into the shop — which
  counts the visit.

Customer pages have no login session, so their forms carry no session CSRF token: the signed,
expiring token in the path is the protection. A forged request would need a valid token, and
whoever holds one can answer that one survey anyway (and only once). Nothing is recorded for
a forged (403) or expired (410) token.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from shoploop.hooks import ConfigError
from shoploop.referral import (
    AnswerError,
    LinkError,
    LinkExpiredError,
    ReferralSettings,
    link_secret,
    verify_survey_token,
)
from shoploop.store import Store, find_code, get_survey, record_visit

from ._app import WebState, web_state
from ._messages import translate
from ._pages import choose_language, render_page

SCORES = (1, 2, 3, 4, 5)
COMMENT_LIMIT = 2000
NO_STORE = {"Cache-Control": "no-store"}  # a personal link's page is nobody else's


def _message(request: Request, title_key: str, *paragraphs: str, status: int,
             warn: bool = False) -> HTMLResponse:
    return render_page(request, "dashboard/message.html",
                       {"paragraphs": list(paragraphs), "warn": warn}, title_key=title_key,
                       status_code=status, headers=NO_STORE)


def _link_refused(request: Request, error: LinkError) -> HTMLResponse:
    if isinstance(error, LinkExpiredError):
        return _message(request, "survey_expired_title", _t(request, "survey_expired_body"),
                        status=410, warn=True)
    return _message(request, "survey_invalid_title", _t(request, "survey_invalid_body"),
                    status=403, warn=True)


def _not_configured(request: Request, error: ConfigError) -> HTMLResponse:
    # The operator's problem, not the customer's: the page says "later", the log says what.
    logging.getLogger(__name__).error("survey page: %s", error)
    return _message(request, "survey_unavailable_title", _t(request, "survey_unavailable_body"),
                    status=503, warn=True)


def _survey_status(state: WebState, token: str) -> tuple[str, str | None]:
    """(survey id, status) of a valid token; raises LinkError / ConfigError."""
    settings: ReferralSettings = state.config.referral
    survey_id = verify_survey_token(link_secret(settings), token, state.clock())
    with state.store.session() as session:
        survey = get_survey(session, survey_id)
        return survey_id, (survey.status if survey is not None else None)


def _answer(state: WebState, token: str, score: int, comment: str) -> None:
    from shoploop.referral import record_answer

    record_answer(state.store, state.config.referral, token, score=score, comment=comment,
                  now=state.clock())


async def survey(request: Request) -> HTMLResponse:
    state = web_state(request)
    token = request.path_params["token"]
    try:
        _survey_id, status = await run_in_threadpool(_survey_status, state, token)
    except LinkError as error:
        return _link_refused(request, error)
    except ConfigError as error:
        return _not_configured(request, error)
    if request.method == "GET" and request.query_params.get("optout") == "1":
        # The survey e-mail's opt-out link (core/referral/_messages.py): ask, POST records.
        return render_page(request, "opt_out.html", {"token": token},
                           title_key="opt_out_title", headers=NO_STORE)
    if status == "answered":
        return _message(request, "survey_answered_title", _t(request, "survey_answered_body"),
                        status=409)
    if status != "sent":
        return _message(request, "survey_closed_title", _t(request, "survey_closed_body"),
                        status=410, warn=True)
    # The scale's labels are looked up here (survey_score_1 … _5), so every key a template
    # uses stays literal for tests/web/test_pages.py.
    scale = [(score, _t(request, f"survey_score_{score}")) for score in SCORES]
    values: dict[str, Any] = {"scores": scale, "token": token, "comment": "",
                              "error": None, "limit": COMMENT_LIMIT}
    if request.method == "GET":
        return render_page(request, "survey.html", values, title_key="survey_title",
                           headers=NO_STORE)
    form = await request.form()
    raw_score, comment = str(form.get("score", "")), str(form.get("comment", ""))
    if raw_score not in {str(score) for score in SCORES}:  # not int(): fullwidth digits parse
        values.update(comment=comment[:COMMENT_LIMIT], error=_t(request, "survey_choose"))
        return render_page(request, "survey.html", values, title_key="survey_title",
                           status_code=422, headers=NO_STORE)
    score = int(raw_score)
    try:
        await run_in_threadpool(_answer, state, token, score, comment[:COMMENT_LIMIT].strip())
    except AnswerError:  # answered in another tab (or by a double click) meanwhile
        return _message(request, "survey_answered_title", _t(request, "survey_answered_body"),
                        status=409)
    satisfied = score >= state.config.referral.satisfied_threshold
    return render_page(request, "survey_thanks.html", {"satisfied": satisfied,
                                                       "offer": state.config.referral.friend
                                                       .offer_text()},
                       title_key="survey_thanks_title", headers=NO_STORE)


def _opt_out(state: WebState, token: str) -> None:
    from shoploop.referral import record_opt_out

    record_opt_out(state.store, state.config.referral, token, now=state.clock())


async def opt_out(request: Request) -> HTMLResponse:
    state = web_state(request)
    token = request.path_params["token"]
    try:
        await run_in_threadpool(_survey_status, state, token)
        if request.method == "POST":
            await run_in_threadpool(_opt_out, state, token)
            return _message(request, "opt_out_done_title", _t(request, "opt_out_done_body"),
                            status=200)
    except LinkError as error:
        return _link_refused(request, error)
    except ConfigError as error:
        return _not_configured(request, error)
    except AnswerError:  # a valid token of a survey no longer stored (erased): nothing to do
        return _message(request, "survey_closed_title", _t(request, "survey_closed_body"),
                        status=410, warn=True)
    return render_page(request, "opt_out.html", {"token": token}, title_key="opt_out_title",
                       headers=NO_STORE)


def shop_link(state: WebState, connection: str, code: str) -> tuple[str | None, bool]:
    """(a link into the shop, whether it applies the code itself). Shopify's shareable
    discount link ``https://{shop}/discount/{code}`` puts the code in the visitor's cart
    session (help.shopify.com, "Shareable discount links"); WooCommerce has no such link
    without a plugin (a ``?coupon=`` handler), so its link is the shop and the page shows the
    code to copy."""
    configured = state.config.connections.get(connection)
    if configured is None:
        return None, False
    settings = configured.settings
    if configured.type == "shopify":  # by type name: the core imports no plugin
        scheme, shop = getattr(settings, "scheme", "https"), getattr(settings, "shop", "")
        return f"{scheme}://{shop}/discount/{code}", True
    url = getattr(settings, "url", None)
    return (str(url) if url else None), False


def _land(store: Store, code: str, state: WebState) -> tuple[str, str] | None:
    """(code, connection) of an active code, its visit counted; None for any other."""
    with store.session() as session:
        record = find_code(session, code)
        if record is None or record.status != "active":
            return None
        record_visit(session, record.code, now=state.clock())
        return record.code, record.connection


async def landing(request: Request) -> HTMLResponse:
    state = web_state(request)
    found = await run_in_threadpool(_land, state.store, request.path_params["code"], state)
    if found is None:
        return _message(request, "landing_unknown_title", _t(request, "landing_unknown_body"),
                        status=404, warn=True)
    code, connection = found
    link, applies = shop_link(state, connection, code)
    friend = state.config.referral.friend
    return render_page(request, "landing.html", {
        "code": code, "offer": friend.offer_text(), "shop_link": link, "applies": applies,
        "valid_days": friend.valid_days}, title_key="landing_title")


def _t(request: Request, key: str) -> str:
    return translate(choose_language(request), key)


def routes() -> list[BaseRoute]:
    return [Route("/survey/{token}", survey, methods=["GET", "POST"]),
            Route("/survey/{token}/opt-out", opt_out, methods=["GET", "POST"]),
            Route("/r/{code}", landing, methods=["GET"])]
