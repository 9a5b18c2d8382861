"""Reward revocation after a refund (issue 16), against the emulators over real sockets, on
SQLite and PostgreSQL: a referred order refunded after its reward (within
``[referral.reward] clawback_days``) has the reward taken back in the target — the
WooCommerce coupon expired, the Shopify discount code deactivated, the ERP's free-of-charge
order deleted — once, through the revocation intent; a reward redeemed already stays, recorded
as ``kept`` with the reason; a refund after the clawback window changes nothing; a run killed
between the revocation and its record is finished by the next run, with no second write.

The emulators count what they applied through the ``kill_switch`` fixture (armed at no point
here): a revocation is one ``write`` request (the coupon's update, ``discountCodeDeactivate``,
the SOAP ``Delete``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

import shoploop
from shoploop.hooks import Customer, EmulatorOptions, HookContext, LineItem, Order
from shoploop.plugins.erp_soap import ErpSoapConfig
from shoploop.plugins.erp_soap import connector as erp_connector
from shoploop.plugins.erp_soap.emulator import ErpEmulator
from shoploop.plugins.shopify import ShopifyConfig, ShopifyConnector
from shoploop.plugins.shopify.emulator import SECRET, TOKEN, ShopifyEmulator
from shoploop.plugins.woocommerce import WooCommerceConfig, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.referral import ReferralSettings, builtin, outbox, run_referrals
from shoploop.store import (
    Store,
    SyncBatch,
    bind_identity,
    ledger_history,
    referrals_with_status,
    rewards_with_status,
    upsert_orders,
)

PLACED = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
REWARDED_AT = PLACED + timedelta(days=15)  # the 14-day return window is over
ADVOCATE_ID, ADVOCATE_EMAIL = "adv-1", "anna@example.org"


@dataclass
class Platform:
    """One reward target: the shop connection the orders come from, the connectors, the
    ``[referral.reward]`` table, the emulator (by its ``request_kind`` name), and what the test
    asks the emulator: is the reward still usable, use (or post) it."""

    shop: str
    target: str
    connectors: dict[str, Any]
    reward: dict[str, Any]
    emulator: Any
    usable: Callable[[str], bool]
    redeem: Callable[[str], None]
    kept: str = "used 1 time"
    """What the ledger's cause says of a redeemed reward that stays."""


def _woo(_: pytest.MonkeyPatch) -> Iterator[Platform]:
    emulator = WooCommerceEmulator.from_records().start()
    woo = WooCommerceConnector("woo", WooCommerceConfig.model_validate({
        "type": "woocommerce", "url": emulator.url, "consumer_key_env": "K",
        "consumer_secret_env": "S", "timeout": 10}),
        environ={"K": emulator.key, "S": emulator.secret})

    def usable(reference: str) -> bool:
        coupon = next(c for c in emulator.data.coupons.values() if c["code"] == reference)
        return not coupon.get("date_expires_gmt")

    yield Platform("woo", "woo", {"woo": woo}, {"kind": "coupon", "amount": "10"}, emulator,
                   usable, lambda ref: emulator.data.use_coupon(ref, ADVOCATE_EMAIL) and None)
    woo.close()
    emulator.stop()


def _shopify(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    monkeypatch.setenv("T_SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("T_SHOPIFY_SECRET", SECRET)
    emulator = ShopifyEmulator(EmulatorOptions(customers=0)).start()
    shop = ShopifyConnector("shop", ShopifyConfig.model_validate({
        "type": "shopify", "shop": f"127.0.0.1:{emulator.port}", "scheme": "http",
        "access_token_env": "T_SHOPIFY_TOKEN", "client_secret_env": "T_SHOPIFY_SECRET",
        "timeout": 10.0}))

    def usable(reference: str) -> bool:
        node = emulator.data.discounts[emulator.data.codes[reference.upper()]]
        return bool(node["codeDiscount"]["status"] == "ACTIVE")

    yield Platform("shop", "shop", {"shop": shop}, {"kind": "discount_code", "amount": "10"},
                   emulator, usable, emulator.redeem_code)
    shop.close()
    emulator.stop()


def _shopify_gift_card(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    for platform in _shopify(monkeypatch):
        emulator: ShopifyEmulator = platform.emulator
        # giftCardCreate refuses an unknown customerId: the advocate exists in the shop (under
        # the test's id, which the emulator's seeding would have turned into a number).
        emulator.data.load(customers=[Customer(id="1", email=ADVOCATE_EMAIL)])
        [advocate_gid] = emulator.data.customers
        advocate = emulator.data.customers.pop(advocate_gid)
        advocate["id"] = f"gid://shopify/Customer/{ADVOCATE_ID}"
        emulator.data.customers[advocate["id"]] = advocate

        data = emulator.data

        def usable(reference: str, data: Any = data) -> bool:
            return bool(data.gift_cards[data.gift_card_codes[reference.upper()]]["enabled"])

        yield Platform("shop", "shop", platform.connectors, {"kind": "gift_card",
                                                             "amount": "10"}, emulator,
                       usable, lambda ref, spend=emulator.spend_gift_card: spend(ref, "4"),
                       kept="partly spent: 6 of 10")


def _erp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    emulator = ErpEmulator(EmulatorOptions(customers=0)).start()
    emulator.load(customers=[Customer(id="K-1001", email=ADVOCATE_EMAIL,
                                      customer_number="K-1001")])
    monkeypatch.setenv("T_ERP_PASSWORD", emulator.password)
    erp = erp_connector("erp", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": emulator.wsdl_url, "preset": "nav_page", "auth": "basic",
        "username": emulator.username, "password_env": "T_ERP_PASSWORD",
        "operation_timeout": 10, "timeout": 10, "retries": 2}))
    orders = emulator.tables["SalesOrder"]

    def post(reference: str) -> None:  # posted: the document leaves the open orders' page
        orders.delete(next(k for k, row in orders.rows() if row["No"] == reference))

    yield Platform("shop", "erp", {"erp": erp}, {
        "kind": "gift_order", "connection": "erp", "product_id": "FERNGLAS-10x42",
        "amount": None}, emulator,
        lambda ref: any(row["No"] == ref for _, row in orders.rows()), post,
        kept="posted already")
    erp.close()
    emulator.stop()


PLATFORMS = {"woocommerce": _woo, "shopify": _shopify, "shopify_gift_card": _shopify_gift_card,
             "erp": _erp}


@pytest.fixture(params=list(PLATFORMS))
def platform(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[Platform]:
    yield from PLATFORMS[request.param](monkeypatch)


class Loop:
    """The referral loop on one platform: a friend's order with the advocate's code, rewarded
    after the return window; ``refund`` and ``run`` move it on."""

    def __init__(self, store: Store, platform: Platform, switch: Any, active_code: Any,
                 outbox_dir: str, **reward: Any) -> None:
        self.store, self.platform, self.switch = store, platform, switch
        self.raw = {"referral": {"shops": [platform.shop], "outbox": {"directory": outbox_dir},
                                 "reward": {**platform.reward, **reward}}}
        self.settings = ReferralSettings.model_validate(self.raw["referral"])
        self.host = shoploop.new_host(strict=True)
        self.host.register(builtin, name="referral")
        self.host.register(outbox, name="referral_outbox")  # the thank-you's channel
        self.connectors = dict(platform.connectors)
        self.code = active_code(store, connection=platform.shop, customer_id=ADVOCATE_ID,
                                email=ADVOCATE_EMAIL, code="FRIEND-REVOKE1",
                                at=PLACED - timedelta(days=3))
        with store.session() as session:
            if platform.target != platform.shop:  # the advocate is K-1001 in the ERP
                internal = bind_identity(session, platform.shop, "customer", ADVOCATE_ID)
                bind_identity(session, platform.target, "customer", "K-1001", internal)
        self.order("paid")
        assert self.run(PLACED + timedelta(days=1))["orders_attributed"] == 1
        assert self.run(REWARDED_AT)["rewards_issued"] == 1
        with store.session() as session:
            [self.reward] = rewards_with_status(session, ["thanked"])
        assert self.reward.reference and platform.usable(self.reward.reference)

    def order(self, status: str, refunded_at: datetime | None = None) -> None:
        with self.store.session() as session:
            upsert_orders(session, self.platform.shop, [Order(
                id="F-1", customer_id="friend-1", email="ben@example.net", placed_at=PLACED,
                status=status,  # type: ignore[arg-type]
                refunded_total=Decimal("89") if status == "refunded" else Decimal(0),
                refunded_at=refunded_at,
                discount_codes=[self.code],
                lines=[LineItem(name="Fernglas", quantity=1, unit_price=Decimal("89"))])])

    def run(self, now: datetime) -> dict[str, int]:
        context = HookContext(config=self.raw, connectors=self.connectors, store=self.store,
                              now=now)
        report = run_referrals(self.host, self.store, self.settings, now, context=context,
                               environ={})
        assert report.problems == [] and self.host.failures == [], report.problems
        return report.counts

    def ledger(self) -> tuple[str, str, list[str], list[str]]:
        """The reward's and the referral's state, the reward's causes, the intents' states."""
        with self.store.session() as session:
            [referral] = referrals_with_status(session, ["rewarded", "reversed"])
            [reward] = rewards_with_status(session, ["thanked", "revoking", "reversed",
                                                     "kept"])
            causes = [h.cause for h in ledger_history(session, "reward", reward.id)]
            intents = [b.status for b in session.scalars(select(SyncBatch).where(
                SyncBatch.kind == "referral_revoke"))]
        return reward.status, referral.status, causes, intents

    def revocations(self) -> int:
        return int(self.switch.applied[self.platform.target, "write"])


@pytest.fixture
def loop(store: Store, platform: Platform, kill_switch: Any, active_code: Any,
         tmp_path: Any) -> Callable[..., Loop]:
    switch = kill_switch({platform.target: platform.emulator})
    return lambda **reward: Loop(store, platform, switch, active_code,
                                 str(tmp_path / "outbox"), **reward)


def test_a_refund_after_the_reward_revokes_it_in_the_target_once(
        loop: Callable[..., Loop], platform: Platform) -> None:
    world = loop()
    world.order("refunded")
    counts = world.run(REWARDED_AT + timedelta(days=5))
    assert counts["rewards_reversed"] == 1
    assert not platform.usable(world.reward.reference)  # type: ignore[arg-type]
    state, referral, causes, intents = world.ledger()
    assert (state, referral, intents) == ("reversed", "reversed", ["confirmed"])
    assert causes[-1].startswith(f"revoked in {platform.target}")
    again = world.run(REWARDED_AT + timedelta(days=6))
    assert not {k for k in again if "revers" in k or "revok" in k}, again
    assert world.revocations() == 1


def test_a_redeemed_reward_is_kept_with_its_reason(loop: Callable[..., Loop],
                                                    platform: Platform) -> None:
    world = loop()
    platform.redeem(world.reward.reference)  # type: ignore[arg-type]
    world.order("refunded")
    assert world.run(REWARDED_AT + timedelta(days=5))["rewards_kept"] == 1
    state, referral, causes, intents = world.ledger()
    assert (state, referral, intents) == ("kept", "reversed", ["confirmed"])
    assert platform.kept in causes[-1], causes
    assert world.revocations() == 0


@pytest.mark.parametrize("platform", ["woocommerce"], indirect=True)  # the core's rule alone
def test_a_refund_after_the_clawback_window_changes_nothing(
        loop: Callable[..., Loop], platform: Platform) -> None:
    world = loop(clawback_days=30)
    world.order("refunded")
    counts = world.run(REWARDED_AT + timedelta(days=31))
    assert counts.get("refunds_after_clawback") == 1 and "rewards_reversed" not in counts
    assert platform.usable(world.reward.reference)  # type: ignore[arg-type]
    assert world.ledger()[:2] == ("thanked", "rewarded")


@pytest.mark.parametrize("platform", ["woocommerce"], indirect=True)
@pytest.mark.parametrize("refund_day, reversed_", [(29, True), (31, False)])
def test_the_clawback_window_is_judged_at_the_refund_date_not_the_run_date(
        loop: Callable[..., Loop], platform: Platform, refund_day: int,
        reversed_: bool) -> None:
    """The job runs 40 days after the reward: a refund made on day 29 is still clawed back, one
    made on day 31 is not (clawback_days = 30)."""
    world = loop(clawback_days=30)
    world.order("refunded", refunded_at=REWARDED_AT + timedelta(days=refund_day))
    counts = world.run(REWARDED_AT + timedelta(days=40))
    assert counts.get("rewards_reversed", 0) == int(reversed_)
    assert counts.get("refunds_after_clawback", 0) == int(not reversed_)
    assert platform.usable(world.reward.reference) is not reversed_  # type: ignore[arg-type]


class _DiesAfterRevoking:
    """The target's connector in a run that dies once the target revoked the reward, before
    the ledger recorded it."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def revoke_reward(self, key: str) -> Any:
        self.real.revoke_reward(key)
        raise SystemExit("killed after the revocation was sent")


def test_a_run_killed_after_the_revocation_is_finished_by_the_next(
        loop: Callable[..., Loop], platform: Platform) -> None:
    world = loop()
    world.order("refunded")
    real = world.connectors[platform.target]
    world.connectors[platform.target] = _DiesAfterRevoking(real)
    with pytest.raises(SystemExit):
        world.run(REWARDED_AT + timedelta(days=5))
    assert world.ledger()[0] == "revoking" and world.revocations() == 1
    world.connectors[platform.target] = real
    counts = world.run(REWARDED_AT + timedelta(days=5))
    assert (counts["revoke_intents_interrupted"], counts["rewards_reversed"]) == (1, 1)
    state, referral, causes, intents = world.ledger()
    assert (state, referral, intents) == ("reversed", "reversed", ["confirmed"])
    # The coupon and the code show they were revoked; the deleted ERP order is not found.
    assert (causes[-1].startswith("revoked in") if platform.target != "erp" else
            "after an interrupted revocation: revoked by that run" in causes[-1]), causes
    assert world.revocations() == 1  # the rerun asked again and wrote nothing
    assert not platform.usable(world.reward.reference)  # type: ignore[arg-type]
