"""The dashboard in a real browser (Debian's chromium through Playwright) over a real socket,
after a real sync: the ERP, Shopify and WooCommerce emulators on loopback, one
``sync customers`` run and a recommendation model built from the shop's orders.

One server, one sync, one model build and one browser for the whole module. With
``SHOPLOOP_SCREENSHOTS=docs/images`` the walk through the pages takes a screenshot of each
(the ones in docs/web.md); without it, none (full-page screenshots cost seconds on a loaded
machine and assert nothing).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api as playwright_sync

from shoploop import load_plugins
from shoploop._config import load_config
from shoploop._connections import Connections
from shoploop._logging import RedactingFormatter
from shoploop.demo import SHOPIFY_DEMO_LIMITS, SYNC_MAPPING
from shoploop.hooks import EmulatorOptions
from shoploop.jobs import mirror_stream
from shoploop.reco import build_model
from shoploop.store import Store
from shoploop.sync.job import SyncJob, SyncOptions
from shoploop.web import create_app
from shoploop.web._dashboard import DASHBOARD_PAGES
from shoploop.web._passwords import hash_password

CHROMIUM = "/usr/bin/chromium"
USER, PASSWORD = "operator", "a long and correct passphrase"
LOCKED_OUT = "auditor"
"""A second user, whose name the login-limit test locks out (the limit is per name)."""
SESSION_SECRET = "test-session-key-" + "0123456789abcdef" * 2
WAIT_MS = 60_000
"""Playwright's bound for any one page action: generous, the machine is shared."""


@dataclass
class Dashboard:
    base: str
    run_id: str
    written: int
    code: str
    """The seeded referral code (tests/web/conftest.py, seed_panels)."""
    secrets: list[str]
    shots: str | None

    def screenshot(self, page: Any, name: str, *, full_page: bool = True) -> None:
        if self.shots:
            page.screenshot(path=str(Path(self.shots) / f"{name}.png"), full_page=full_page)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory,
              served_module: Callable[[Any], AbstractContextManager[str]],
              panels_seed: Callable[[Store], str]) -> Iterator[Dashboard]:
    host = load_plugins(strict=True)
    home = tmp_path_factory.mktemp("dashboard")
    started: list[Any] = []
    with pytest.MonkeyPatch.context() as patch:
        try:
            blocks, secrets = [], [SESSION_SECRET, PASSWORD]
            for kind, name in (("erp", "erp"), ("shopify", "shop"), ("woocommerce", "woo")):
                emulator = host.emulators.emulators[kind].factory(EmulatorOptions(
                    customers=30, seed=11,
                    extra=SHOPIFY_DEMO_LIMITS if kind == "shopify" else {}))
                emulator.start()
                started.append(emulator)
                blocks.append(emulator.connection_block(name))
                for variable, value in emulator.environment().items():
                    patch.setenv(variable, value)
                    secrets.append(value)
            patch.setenv("SHOPLOOP_SESSION_SECRET", SESSION_SECRET)
            hashed = hash_password(PASSWORD, log2_n=10, parallelism=1)
            secrets.append(hashed)
            path = home / "shoploop.toml"
            path.write_text("\n".join([
                f'[store]\nurl = "sqlite:///{home / "shoploop.db"}"\n',
                # external: no worker processes the seeded deliveries while the pages
                # show them (seed_panels).
                f'[web]\nlogin_attempts = 3\nwebhook_processing = "external"\n'
                f'[web.users]\n{USER} = "{hashed}"\n'
                f'{LOCKED_OUT} = "{hashed}"\n',
                SYNC_MAPPING, *blocks]), encoding="utf-8")
            config = load_config(path, host.connectors)
            with Store(config.store_url) as store, \
                    Connections(config, host.connectors) as connections:
                store.upgrade()
                report = SyncJob(host, config, store, connections, SyncOptions()).run()
                # A recommendation model of the shop's orders (``reco build``'s engine).
                for stream in ("products", "orders"):
                    mirror_stream(connections["shop"], store, connection="shop", stream=stream)
                build_model(host, store, config.reco, lambda: datetime.now(UTC))
                # Storefront events, a referral ledger and webhook deliveries for the panels.
                code = panels_seed(store)
                summary = report.as_dict()
                written = sum(int(t.get("written", 0)) for t in summary["targets"].values())
                assert written > 0, summary  # the page below must have changes to show
                shots = os.environ.get("SHOPLOOP_SCREENSHOTS")
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                with served_module(create_app(host, config, store)) as base:
                    yield Dashboard(base=base, run_id=summary["run_id"], written=written,
                                    code=code, secrets=secrets, shots=shots)
        finally:
            for emulator in reversed(started):
                emulator.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


def _sign_in(page: Any, base: str, start: str = "/dashboard") -> None:
    page.goto(base + start)
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(base + start.split("?")[0]) + r"(\?.*)?$"))


def test_sign_in_and_read_a_sync_run(dashboard: Dashboard, page: Any) -> None:
    base = dashboard.base
    page.goto(base + "/dashboard/runs")
    assert "/dashboard/login" in page.url  # anonymous: sent to the login, and back after it
    dashboard.screenshot(page, "dashboard-login", full_page=False)
    _sign_in(page, base, "/dashboard/runs")
    assert page.url.startswith(base + "/dashboard/runs")
    page.get_by_label("Show runs of the job").select_option("sync.customers")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"job=sync\.customers"))
    assert set(page.locator("table tbody td:nth-child(2)").all_inner_texts()) == {
        "sync.customers"}
    dashboard.screenshot(page, "dashboard-runs")

    page.get_by_role("link", name=dashboard.run_id[:8]).click()
    page.wait_for_url(f"{base}/dashboard/runs/{dashboard.run_id}")
    page.get_by_role("heading", name=f"Run {dashboard.run_id[:8]}").wait_for()
    facts = page.locator("dl.facts")
    assert dashboard.run_id in facts.inner_text()
    rows = page.locator("table").first.locator("tbody tr")
    assert rows.count() > 0
    statuses = set(rows.locator("td:nth-child(6)").all_inner_texts())
    assert "written" in statuses
    # The audit's count of written changes is the run summary's.
    assert re.search(rf"\b{dashboard.written}\b", page.locator("figure").first.inner_html())
    dashboard.screenshot(page, "dashboard-run")

    page.get_by_label("Show changes with status").select_option("written")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"status=written"))
    shown = page.locator("table").first.locator("tbody tr")
    assert set(shown.locator("td:nth-child(6)").all_inner_texts()) == {"written"}
    assert f"of {dashboard.written} changes shown" in page.locator("main").inner_text()

    for path, name in (("/dashboard", "overview"), ("/dashboard/recommendations",
                                                     "recommendations"),
                       ("/dashboard/connections", "connections")):
        page.goto(base + path)
        page.get_by_role("heading", level=1).wait_for()
        dashboard.screenshot(page, f"dashboard-{name}")
    health = page.locator("ul.health > li")
    assert health.count() == 3
    assert health.locator(".verdict").all_inner_texts() == ["healthy"] * 3
    page.goto(base + "/dashboard/recommendations")
    chart = page.get_by_role("img", name="What the newest model learned")
    assert chart.count() == 1 and "orders" in chart.text_content()
    assert "Version" in page.locator("main h2").first.inner_text()

    events = page.get_by_role("img", name="Storefront events of shop · product_page")
    assert "40" in events.text_content()

    # The referral panels: the funnel, then one code's ledger with its rejection.
    page.get_by_role("link", name="Referrals").first.click()
    page.wait_for_url(f"{base}/dashboard/referrals")
    assert "surveyed" in page.get_by_role("img", name="Referral funnel").text_content()
    dashboard.screenshot(page, "dashboard-referrals")
    page.get_by_label("Referral code or customer id").fill(dashboard.code.lower())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/dashboard/referrals/ledger\?q="))
    rejected = page.locator("tr.rejected")
    assert "self_referral: same person as the advocate" in rejected.inner_text()
    assert "same person as the advocate" in page.locator("li.rejects").inner_text()
    dashboard.screenshot(page, "dashboard-referral-ledger")
    page.get_by_role("link", name="Webhooks").first.click()
    page.wait_for_url(f"{base}/dashboard/webhooks")
    assert "ERP answered 503: <service unavailable>" in page.locator("main table").inner_text()
    dashboard.screenshot(page, "dashboard-webhooks")

    page.goto(base + "/dashboard?lang=de")
    assert page.locator("html").get_attribute("lang") == "de"
    assert "Bestellungen" in page.get_by_role(
        "img", name="Was das neueste Modell gelernt hat").text_content()
    assert page.get_by_role("link", name="Abgleichläufe").first.is_visible()
    dashboard.screenshot(page, "dashboard-overview-de")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{base}/dashboard/runs/{dashboard.run_id}")
    dashboard.screenshot(page, "dashboard-run-mobile", full_page=False)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/dashboard/login"))
    page.goto(base + "/dashboard/runs")
    assert "/dashboard/login" in page.url  # signed out for real


def test_a_post_without_the_csrf_token_is_refused(dashboard: Dashboard, page: Any) -> None:
    _sign_in(page, dashboard.base)
    for form in ({}, {"csrf_token": "forged"}):
        refused = page.request.post(dashboard.base + "/dashboard/logout", form=form,
                                    max_redirects=0)
        assert refused.status == 403, form
        assert "Form expired" in refused.text()
    page.goto(dashboard.base + "/dashboard")
    assert page.url == dashboard.base + "/dashboard"  # still signed in: nothing happened
    anonymous = page.context.browser.new_context()
    try:
        login = anonymous.request.post(dashboard.base + "/dashboard/login",
                                       form={"username": USER, "password": PASSWORD},
                                       max_redirects=0)
        assert login.status == 403 and "Form expired" in login.text()
    finally:
        anonymous.close()


@pytest.mark.parametrize("path", DASHBOARD_PAGES)
@pytest.mark.parametrize("cookie", [None, "forged.signature"])
def test_every_dashboard_page_refuses_anonymous_visitors(
        dashboard: Dashboard, path: str, cookie: str | None) -> None:
    cookies = {"shoploop_session": cookie} if cookie else None
    with httpx.Client(base_url=dashboard.base, cookies=cookies) as client:
        page = client.get(path.replace("{run_id}", dashboard.run_id), follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/dashboard/login?next=")
        assert dashboard.run_id[:8] not in page.text
        posted = client.post("/dashboard/logout", data={"csrf_token": "x"})
        assert posted.status_code == 401


def _login_form(client: httpx.Client) -> str:
    form = client.get("/dashboard/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match, form.text
    return match.group(1)


def test_failed_logins_are_limited_per_name(dashboard: Dashboard,
                                            caplog: pytest.LogCaptureFixture) -> None:
    with httpx.Client(base_url=dashboard.base, follow_redirects=True) as client:
        token = _login_form(client)
        attempt = {"csrf_token": token, "username": LOCKED_OUT, "password": "guess"}
        assert [client.post("/dashboard/login", data=attempt).status_code
                for _ in range(4)] == [401, 401, 401, 429]
        # Locked out: even the right password is not tried until the window passes.
        limited = client.post("/dashboard/login", data={**attempt, "password": PASSWORD})
        assert limited.status_code == 429 and "Too many failed sign-ins" in limited.text
        # The limit is per name (and address): the operator still gets in.
        signed_in = client.post("/dashboard/login", data={
            "csrf_token": token, "username": USER, "password": PASSWORD})
        assert signed_in.status_code == 200 and "Signed in as operator" in signed_in.text
    assert f"failed login for '{LOCKED_OUT}'" in caplog.text
    assert "guess" not in caplog.text


def test_no_secret_in_any_page_header_or_log(dashboard: Dashboard,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    seen: list[str] = []
    with httpx.Client(base_url=dashboard.base, follow_redirects=True) as client:
        token = _login_form(client)
        wrong = client.post("/dashboard/login", data={"csrf_token": token, "username": USER,
                                                      "password": PASSWORD + "!"})
        seen += [wrong.text, str(wrong.headers)]
        page = client.post("/dashboard/login", data={"csrf_token": token, "username": USER,
                                                     "password": PASSWORD})
        assert page.status_code == 200
        for path in (*DASHBOARD_PAGES, "/dashboard?lang=de", "/dashboard/runs?job=x",
                     "/static/shoploop.css"):
            answer = client.get(path.replace("{run_id}", dashboard.run_id))
            assert answer.status_code == 200, path
            seen += [answer.text, str(answer.headers)]
    # The log as shoploop writes it (its formatters redact; caplog's does not).
    seen += [RedactingFormatter().format(record) for record in caplog.records]
    for secret in dashboard.secrets:
        for text in seen:
            assert secret not in text
