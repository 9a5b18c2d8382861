"""The widget in headless Chromium (Debian's, driven by Playwright): a plain HTML page served
from another origin embeds it with one <script> tag; it renders the recommendations with their
reasons, and its impression and click reports arrive in the store.

``SHOPLOOP_SCREENSHOTS=docs/screenshots`` also saves the rendered page there (docs/web.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from shoploop._config import Config
from shoploop._plugins import PluginHost
from shoploop.store import Store, web_event_figures
from shoploop.web import create_app

Served = Callable[[Any], AbstractContextManager[str]]
BOUND_MS = 30_000  # generous: the machine is shared and loaded

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Espresso machine Pro 2 · Demo shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem}}
</style></head>
<body><main>
<h1>Espresso machine Pro 2</h1><p>€899.00 · dual boiler, PID temperature control.</p>
<div id="recommendations"></div>
<script src="{api}/static/shoploop-widget.js" async data-connection="shop"
        data-product="101" data-placement="product_page" data-k="3"
        data-target="#recommendations" data-title="Goes well with your machine"
        data-product-url="#product-{{id}}"></script>
</main></body></html>
"""


def _page_app(api: list[str]) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE.format(api=api[0]))

    return Starlette(routes=[Route("/product", page)])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                              args=["--no-sandbox"])
        yield launched
        launched.close()


def test_widget_on_another_origin(store: Store, web_host: PluginHost, served: Served,
                                  make_config: Callable[[dict[str, Any]], Config],
                                  storefront_seed: Callable[..., int], browser: Any) -> None:
    version = storefront_seed(store, web_host)
    api_base: list[str] = []
    with served(_page_app(api_base)) as shop:
        config = make_config({"store": {"url": store.url}, "web": {"allowed_origins": [shop]}})
        with served(create_app(web_host, config, store)) as api:
            api_base.append(api)
            script = httpx.get(f"{api}/static/shoploop-widget.js")
            assert script.headers["cache-control"] == "public, max-age=86400"
            assert script.headers["content-type"].startswith("text/javascript")
            assert httpx.get(f"{api}/static/shoploop-widget.js", headers={
                "If-None-Match": script.headers["etag"]}).status_code == 304
            page = browser.new_page(viewport={"width": 800, "height": 380})
            try:
                _render_and_report(page, shop, store, version)
            finally:
                page.close()


def _reports(response: Any, kind: str) -> bool:
    if "/api/v1/events" not in response.url or response.request.method != "POST":
        return False
    events = json.loads(response.request.post_data or "{}").get("events", [])
    return any(event["type"] == kind for event in events)


def _render_and_report(page: Any, shop: str, store: Store, version: int) -> None:
    with page.expect_response(lambda r: _reports(r, "impression"),
                              timeout=BOUND_MS) as impressions:
        page.goto(f"{shop}/product")
        items = page.locator(".shoploop-item")
        items.first.wait_for(timeout=BOUND_MS)
    assert impressions.value.status == 202
    section = page.get_by_role("region", name="Goes well with your machine")
    assert section.get_attribute("aria-busy") == "false"
    assert items.count() >= 2
    first = items.first
    assert first.get_attribute("data-product-id") == "102"
    link = first.get_by_role("link", name="Descaler 500 ml")
    assert link.get_attribute("href") == "#product-102"
    reason = first.locator(".shoploop-reason").inner_text()
    assert reason.strip(), "each product shows its reason"
    # The reason is the link's accessible description.
    described = link.get_attribute("aria-describedby")
    assert page.locator(f"#{described}").inner_text() == reason
    if os.environ.get("SHOPLOOP_SCREENSHOTS"):
        target = Path(os.environ["SHOPLOOP_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target / "widget.png"), full_page=True)

    with page.expect_response(lambda r: _reports(r, "click"), timeout=BOUND_MS) as click:
        link.click()
    assert click.value.status == 202
    with page.expect_response(lambda r: _reports(r, "add_to_cart"), timeout=BOUND_MS) as cart:
        page.evaluate("shoploop.track('add_to_cart', '102', {placement: 'product_page'})")
    assert cart.value.status == 202
    page.wait_for_function("() => shoploop.pending === 0", timeout=BOUND_MS)

    with store.session() as session:
        (figures,) = web_event_figures(session, connection="shop")
    assert figures.placement == "product_page"
    assert figures.impressions == items.count()  # each shown item once
    assert (figures.clicks, figures.add_to_carts) == (1, 1)
    with store.session() as session:
        from sqlalchemy import select

        from shoploop.store import WebEventRecord

        clicked = session.scalars(select(WebEventRecord).where(
            WebEventRecord.type == "click")).one()
    assert (clicked.product_external_id, clicked.model_version, clicked.position) == (
        "102", version, 0)


def test_widget_in_a_visitor_experiment(store: Store, web_host: PluginHost, served: Served,
                                        make_config: Callable[[dict[str, Any]], Config],
                                        storefront_seed: Callable[..., int],
                                        browser: Any) -> None:
    """``data-visitor="auto"``: the widget keeps a visitor id, the app assigns and stores the
    visitor's arm at the first exposure, the impressions come back tagged with it, and a
    second page view is the same unit."""
    from sqlalchemy import select

    from shoploop.store import WebEventRecord, experiment_assignments

    storefront_seed(store, web_host)
    page_html = PAGE.replace('data-k="3"', 'data-k="3" data-visitor="auto"')
    api_base: list[str] = []

    async def product(request: Request) -> HTMLResponse:
        return HTMLResponse(page_html.format(api=api_base[0]))

    with served(Starlette(routes=[Route("/product", product)])) as shop:
        config = make_config({
            "store": {"url": store.url}, "web": {"allowed_origins": [shop]},
            "experiments": {"k_test": {"unit": "visitor", "placements": ["product_page"],
                                       "variants": [{"name": "control", "share": 0.5},
                                                    {"name": "k1", "share": 0.5, "k": 1}]}}})
        with served(create_app(web_host, config, store)) as api:
            api_base.append(api)
            page = browser.new_page(viewport={"width": 800, "height": 600})
            try:
                for _ in range(2):  # two page views of one visitor
                    with page.expect_response(lambda r: _reports(r, "impression"),
                                              timeout=BOUND_MS):
                        page.goto(f"{shop}/product")
                        page.locator(".shoploop-item").first.wait_for(timeout=BOUND_MS)
                    page.wait_for_function("() => shoploop.pending === 0", timeout=BOUND_MS)
                shown = page.locator(".shoploop-item").count()
                visitor = page.evaluate("localStorage.getItem('shoploop-visitor')")
            finally:
                page.close()
    with store.session() as session:
        (assignment,) = experiment_assignments(session, "k_test")
        tags = set(session.execute(select(WebEventRecord.variant, WebEventRecord.unit_key)))
    assert (assignment.unit_kind, assignment.unit_key) == ("visitor", f"visitor/{visitor}")
    assert tags == {(assignment.variant, assignment.unit_key)}
    assert (shown == 1) == (assignment.variant == "k1")
