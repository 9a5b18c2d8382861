"""The page layer: server-rendered HTML pages in English and German (docs/web.md, "Pages").

    from shoploop.web import render_page

    async def survey(request: Request) -> HTMLResponse:
        return render_page(request, "survey.html", {"order": order}, title_key="survey_title")

Templates live in ``shoploop/web/templates`` and extend ``base.html`` (landmarks, a skip link,
a language switch, the stylesheet ``/static/shoploop.css``); texts come from
:mod:`._messages` through ``t("key", name=value)``. The language is ``?lang=`` when given and
supported, else the best match of ``Accept-Language``, else English. Pages work without
JavaScript (none is served) and carry a Content-Security-Policy that allows none.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from ._messages import LANGUAGES, translate

SECURITY_HEADERS = {
    # No script at all; styles and images from this origin (inline SVG is markup, not a
    # resource); forms post only here; no framing (clickjacking).
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _accept_language(header: str) -> list[str]:
    """Primary language tags of an ``Accept-Language`` header, best first (RFC 9110 §12.5.4:
    ``de-CH, de;q=0.9, en;q=0.8``); q=0 means "not acceptable"."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        tag = tag.strip().lower().split("-")[0]
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _q, _p, tag in sorted(ranked)]


def choose_language(request: Request) -> str:
    """``?lang=`` if supported, else the best supported ``Accept-Language``, else English."""
    asked = request.query_params.get("lang", "").lower()
    if asked in LANGUAGES:
        return asked
    for tag in _accept_language(request.headers.get("accept-language", "")):
        if tag in LANGUAGES:
            return tag
        if tag == "*":
            break
    return LANGUAGES[0]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # The templates are package data: read once per process, autoescaped (HTML), and an
    # undefined name is an error rather than an empty string on the page.
    return Environment(loader=PackageLoader("shoploop.web", "templates"),
                       autoescape=select_autoescape(["html", "svg"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def language_links(request: Request, current: str) -> list[dict[str, Any]]:
    """The same page in every language (``?lang=``, other query parameters kept)."""
    links = []
    for language in LANGUAGES:
        url = request.url.include_query_params(lang=language)
        links.append({"code": language, "url": f"{url.path}?{url.query}",
                      "current": language == current})
    return links


def page_url(request: Request, path: str, **params: str) -> str:
    """``path`` on this app, keeping an explicit ``?lang=`` of the request (so a visitor who
    chose a language keeps it from link to link)."""
    from urllib.parse import urlencode

    asked = request.query_params.get("lang", "").lower()
    query = {**({"lang": asked} if asked in LANGUAGES else {}), **params}
    return f"{path}?{urlencode(query)}" if query else path


def render_page(request: Request, template: str, context: dict[str, Any] | None = None, *,
                title_key: str | None = None, title: str | None = None,
                status_code: int = 200, headers: dict[str, str] | None = None
                ) -> HTMLResponse:
    """Render ``template`` (a file in shoploop/web/templates extending ``base.html``) in the
    request's language as an HTML response with the page layer's security headers.

    The template sees ``context`` plus ``t`` (the translator), ``lang``, ``languages`` (links
    to this page in each language), ``page_title`` (from ``title_key`` translated, or
    ``title``), ``url(path, **query)`` (a link that keeps ``?lang=``), ``csrf_token`` (the
    session's, when the route has one: every ``<form method="post">`` must carry it) and
    ``request``."""
    language = choose_language(request)

    def t(key: str, **values: object) -> str:
        return translate(language, key, **values)

    page_title = t(title_key) if title_key else (title or t("site_name"))
    values: dict[str, Any] = {
        "request": request, "lang": language, "t": t, "page_title": page_title,
        "url": lambda path, **params: page_url(request, path, **params),
        "languages": language_links(request, language),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "nav": [], "user": None, **(context or {}),
    }
    html = _environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code,
                        headers={**SECURITY_HEADERS, "Content-Language": language,
                                 "Vary": "Accept-Language, Cookie", **(headers or {})})


def routes() -> list[BaseRoute]:
    return [Mount("/static", StaticFiles(packages=[("shoploop.web", "static")]),
                  name="static")]
