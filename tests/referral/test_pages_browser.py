"""The customer pages in a real browser (Debian's chromium through Playwright), end to end: the
loop e-mails a survey to a real SMTP server (aiosmtpd), the customer opens its link, answers
5 and is thanked; the next run creates her code in the WooCommerce emulator and e-mails the
invitation, whose landing link shows the friend's offer and counts the visit.

One emulator, one store, one server and one browser for the module. With
``SHOPLOOP_SCREENSHOTS=docs/images`` the walk takes the screenshots of docs/referrals.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright_sync

import shoploop
from shoploop import load_plugins
from shoploop._config import parse_config
from shoploop.hooks import Customer, HookContext, LineItem, Order
from shoploop.plugins.woocommerce import WooCommerceConfig, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.referral import ReferralSettings, builtin, run_referrals, smtp
from shoploop.store import Store, upsert_customers, upsert_orders, visits_of_code
from shoploop.web import create_app

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 60_000
"""Playwright's bound for any one page action: generous, the machine is shared."""
SECRET = "s3cret-for-signing-links-0123456789"
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
ANNA = Customer(id="anna", email="anna@example.org", first_name="Anna")


@dataclass
class Loop:
    base: str
    store: Store
    emulator: WooCommerceEmulator
    connector: WooCommerceConnector
    run: Callable[[datetime], dict[str, int]]
    shots: str | None

    def screenshot(self, page: Any, name: str) -> None:
        if self.shots:
            page.screenshot(path=str(Path(self.shots) / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory, smtp_server: tuple[Any, int],
         served_module: Callable[[Any], AbstractContextManager[str]]) -> Iterator[Loop]:
    home = tmp_path_factory.mktemp("referral-pages")
    emulator = WooCommerceEmulator.from_records(customers=[ANNA])
    emulator.start()
    store = Store(f"sqlite:///{home / 'store.db'}")
    store.upgrade()
    connector = WooCommerceConnector("woo", WooCommerceConfig.model_validate({
        "type": "woocommerce", "url": emulator.url, "consumer_key_env": "K",
        "consumer_secret_env": "S", "timeout": 10}), environ={"K": emulator.key,
                                                              "S": emulator.secret})
    referral: dict[str, Any] = {"smtp": {"port": smtp_server[1]}, "friend": {"percentage": 15},
                                "reward": {"kind": "coupon", "amount": "10"}}
    web_host = load_plugins(strict=True)
    config = parse_config({"referral": referral, "connections": {"woo": {
        "type": "woocommerce", "url": emulator.url, "consumer_key_env": "K",
        "consumer_secret_env": "S"}}}, web_host.connectors, file=str(home / "shoploop.toml"),
        base_dir=home)
    engine_host = shoploop.new_host(strict=True)
    engine_host.register(builtin, name="referral")
    engine_host.register(smtp, name="referral_smtp")
    shots = os.environ.get("SHOPLOOP_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SHOPLOOP_REFERRAL_SECRET", SECRET)
            # The page's clock is the loop's: a day after the survey went out.
            app = create_app(web_host, config, store, clock=lambda: T0 + timedelta(days=32))
            with served_module(app) as base:
                settings = ReferralSettings.model_validate({**referral, "base_url": base})

                def run(now: datetime) -> dict[str, int]:
                    raw = {"referral": {**referral, "base_url": base}}
                    context = HookContext(config=raw, connectors={"woo": connector},
                                          store=store, now=now)
                    report = run_referrals(engine_host, store, settings, now, context=context,
                                           environ={"SHOPLOOP_REFERRAL_SECRET": SECRET})
                    assert report.problems == [] and engine_host.failures == []
                    return report.counts

                yield Loop(base=base, store=store, emulator=emulator, connector=connector,
                           run=run, shots=shots)
    finally:
        connector.close()
        store.dispose()
        emulator.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def _import_order(loop: Loop) -> None:
    """The shop holds Anna's paid order; the import brings it into the mirror."""
    order = Order(id="O1", customer_id="anna", email=ANNA.email, placed_at=T0, status="paid",
                  lines=[LineItem(name="Fernglas 10x42", quantity=1,
                                  unit_price=Decimal("129.00"))])
    loop.emulator.data.seed([ANNA.model_dump(mode="json")], [], [order.model_dump(mode="json")])
    with loop.store.session() as session:
        upsert_customers(session, "woo", loop.connector.read_customers(None).items)
        upsert_orders(session, "woo", loop.connector.read_orders(None).items)


def test_survey_mail_to_answer_to_landing_page(loop: Loop, inbox: Any, browser: Any) -> None:
    _import_order(loop)
    assert loop.run(T0 + timedelta(days=31))["surveys_sent"] == 1
    [mail] = inbox.wait_for(1)
    link = re.search(r"(http://\S+/survey/[^\s?]+)", mail.get_body(("plain",)).get_content())
    assert link is not None and link[1].startswith(loop.base)

    context = browser.new_context(viewport={"width": 800, "height": 900},
                                  locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    try:
        page.goto(link[1])
        scale = page.get_by_role("group", name="How satisfied are you with your order")
        assert scale.get_by_role("radio").count() == 5
        scale.get_by_label("5 very happy").check()
        page.get_by_label("Anything you would like to tell us?").fill("Sharp and light.")
        loop.screenshot(page, "referral-survey")
        page.get_by_role("button", name="Send my answer").click()
        page.get_by_role("heading", name="Thank you!").wait_for()
        assert "15 % off" in page.locator("main").inner_text()
        loop.screenshot(page, "referral-survey-thanks")
        page.goto(link[1])  # the same link again: answered, nothing asked twice
        page.get_by_role("heading", name="Already answered").wait_for()

        counts = loop.run(T0 + timedelta(days=33))
        assert (counts["codes_created"], counts["invitations_sent"]) == (1, 1)
        invitation = inbox.wait_for(2)[1].get_body(("plain",)).get_content()
        landing = re.search(r"http://\S+/r/(FRIEND-[A-Z0-9]{8})", invitation)
        assert landing is not None
        page.goto(landing[0])
        page.get_by_role("heading", name="15 % off your first order").wait_for()
        assert landing[1] in page.locator(".code").inner_text()
        shop = page.get_by_role("link", name="Go to the shop")
        assert (shop.get_attribute("href") or "").rstrip("/") == str(loop.emulator.url).rstrip("/")
        loop.screenshot(page, "referral-landing")
    finally:
        context.close()
    with loop.store.session() as session:
        assert visits_of_code(session, landing[1]) == 1
