"""The whole loop over real sockets: WooCommerce emulator (orders read, coupons created) and
a local SMTP server (surveys, invitations, thank-yous) — survey → answer → invitation →
friend's order → qualified → reward coupon, exactly once; refund inside the window → none."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import shoploop
from shoploop.experiments import ExperimentSettings, assign, referral_experiment_report
from shoploop.hooks import Address, Customer, HookContext, LineItem, Order
from shoploop.plugins.woocommerce import WooCommerceConfig, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.referral import (
    LinkError,
    ReferralSettings,
    builtin,
    record_answer,
    run_referrals,
    smtp,
)
from shoploop.store import (
    Store,
    find_code,
    ledger_history,
    mirrored_customers,
    referral_funnel,
    referrals_with_status,
    stored_assignment,
    upsert_customers,
    upsert_orders,
)

SECRET = {"SHOPLOOP_REFERRAL_SECRET": "s3cret-for-signing-links-0123456789"}
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
ANNA = Customer(id="anna", email="anna@example.org", first_name="Anna",
                addresses=[Address(line1="Hauptstraße 1", postal_code="10115", country="DE")])
BEN = Customer(id="ben", email="ben@example.net", first_name="Ben",
               addresses=[Address(line1="Seeweg 9", postal_code="20095", country="DE")])


def _order(id_: str, customer: Customer, placed: datetime, codes: list[str] = (),  # type: ignore[assignment]
           status: str = "paid", refunded: str = "0") -> Order:
    return Order(id=id_, customer_id=customer.id, email=customer.email, placed_at=placed,
                 status=status,  # type: ignore[arg-type]
                 discount_codes=list(codes), refunded_total=Decimal(refunded),
                 lines=[LineItem(name="Fernglas 10x42", quantity=1,
                                 unit_price=Decimal("129.00"))])


def _connect(emulator: WooCommerceEmulator) -> WooCommerceConnector:
    config = WooCommerceConfig.model_validate({
        "type": "woocommerce", "url": emulator.url, "consumer_key_env": "K",
        "consumer_secret_env": "S", "timeout": 10})
    return WooCommerceConnector("woo", config, environ={"K": emulator.key,
                                                       "S": emulator.secret})


def _import(store: Store, connector: WooCommerceConnector) -> None:
    """What ``shoploop import`` does, in short: read the shop over HTTP into the mirror."""
    with store.session() as session:
        for read, upsert in ((connector.read_customers, upsert_customers),
                             (connector.read_orders, upsert_orders)):
            cursor = None
            while True:
                page = read(cursor)
                upsert(session, "woo", page.items)
                cursor = page.cursor
                if not page.has_more:
                    break


class World:
    def __init__(self, store: Store, smtp_port: int) -> None:
        self.store = store
        self.emulator = WooCommerceEmulator.from_records(customers=[ANNA, BEN])
        self.emulator.start()
        self.connector = _connect(self.emulator)
        self.host = shoploop.new_host(strict=True)
        self.host.register(builtin, name="referral")
        self.host.register(smtp, name="referral_smtp")
        self.raw: dict[str, Any] = {"referral": {
            "smtp": {"port": smtp_port}, "return_window_days": 14,
            "reward": {"kind": "coupon", "amount": "10"}, "friend": {"percentage": 15}}}
        self.settings = ReferralSettings.model_validate(self.raw["referral"])
        self.experiments: dict[str, ExperimentSettings] = {}

    def shop(self, *orders: Order) -> None:
        """The shop now holds these orders; the import brings them into the mirror."""
        self.emulator.data.seed([ANNA.model_dump(mode="json"), BEN.model_dump(mode="json")],
                                [], [o.model_dump(mode="json") for o in orders])
        _import(self.store, self.connector)

    def run(self, now: datetime, dry_run: bool = False) -> dict[str, int]:
        context = HookContext(config=self.raw, connectors={"woo": self.connector},
                              store=self.store, now=now)
        report = run_referrals(self.host, self.store, self.settings, now, context=context,
                               dry_run=dry_run, environ=SECRET, experiments=self.experiments)
        assert report.problems == [] and self.host.failures == []
        return report.counts

    def coupons(self) -> list[dict[str, Any]]:
        return list(self.emulator.data.coupons.values())

    def close(self) -> None:
        self.connector.close()
        self.emulator.stop()


@pytest.fixture
def world(store: Store, smtp_port: int) -> Any:
    made = World(store, smtp_port)
    yield made
    made.close()


def test_survey_answer_invitation_referral_reward_once(world: World, inbox: Any) -> None:
    anna, ben = ANNA, BEN  # the shop numbers them; orders name them by these source ids
    world.shop(_order("O1", anna, T0))
    # Not due yet; then due: one survey with a signed link.
    assert "surveys_sent" not in world.run(T0 + timedelta(days=29))
    assert world.run(T0 + timedelta(days=31))["surveys_sent"] == 1
    [survey] = inbox.wait_for(1)
    assert survey["To"] == "anna@example.org"
    token = re.search(r"/survey/([^\s?]+)", survey.get_body(("plain",)).get_content())[1]
    with pytest.raises(LinkError, match="not valid"):
        record_answer(world.store, world.settings, token[:-2] + "xx", score=5,
                      now=T0 + timedelta(days=32), environ=SECRET)
    record_answer(world.store, world.settings, token, score=5, comment="super",
                  now=T0 + timedelta(days=32), environ=SECRET)

    counts = world.run(T0 + timedelta(days=33))
    assert (counts["codes_created"], counts["invitations_sent"]) == (1, 1)
    invitation = inbox.wait_for(2)[1]
    code = re.search(r"FRIEND-[A-Z0-9]{8}", invitation.get_body(("plain",)).get_content())[0]
    [friend_coupon] = world.coupons()
    assert (friend_coupon["code"], friend_coupon["discount_type"]) == (code.lower(), "percent")

    placed = T0 + timedelta(days=40)
    world.shop(_order("O1", anna, T0), _order("O2", ben, placed, codes=[code.lower()]))
    assert world.run(placed + timedelta(days=1))["orders_attributed"] == 1
    assert len(world.coupons()) == 1  # inside the return window: no reward yet
    counts = world.run(placed + timedelta(days=15))
    assert (counts["referrals_qualified"], counts["rewards_issued"],
            counts["advocates_thanked"]) == (1, 1, 1)
    thanks = inbox.wait_for(3)[2]
    assert thanks["To"] == "anna@example.org" and "10" in thanks.get_body(("plain",)).get_content()
    reward = [c for c in world.coupons() if c["code"] != code.lower()]
    assert len(reward) == 1 and reward[0]["amount"] == "10"

    again = world.run(placed + timedelta(days=16))  # idempotent: nothing new anywhere
    assert not {k for k in again if not k.endswith("waiting")}, again
    assert len(world.coupons()) == 2 and len(inbox.messages) == 3
    with world.store.session() as session:
        assert referral_funnel(session) == {
            "surveyed": 1, "answered": 1, "satisfied": 1, "invited": 1,
            "referred_orders": 1, "qualified": 1, "rewarded": 1}
        [referral] = referrals_with_status(session, ["rewarded"])
        assert [h.to_state for h in ledger_history(session, "referral", referral.id)] == [
            "attributed", "qualified", "rewarded"]
        assert find_code(session, code) is not None
    _check_cli(world, code)
    # The derived attributes the sync carries: the ledger joins the person's profile.
    from shoploop.attributes import builtin as attributes
    from shoploop.attributes.profiles import build_profiles
    from shoploop.combine import derive_attributes

    world.host.register(attributes, name="attributes")

    later = placed + timedelta(days=16)
    context = HookContext(config=world.raw, store=world.store, now=later)
    with world.store.session() as session:
        people = {p.customer.email: p for p in build_profiles(session, as_of=later)}
    keys = ("satisfaction_score", "advocate_status", "referral_count")
    anna = derive_attributes(world.host, context, people[ANNA.email])
    assert {key: anna[key] for key in keys} == {
        "satisfaction_score": 5, "advocate_status": "advocate", "referral_count": 1}
    ben = people.get(BEN.email)
    if ben is not None:  # the friend, when his order is mirrored: not in the loop himself
        assert {key: derive_attributes(world.host, context, ben)[key] for key in keys} == {
            "satisfaction_score": None, "advocate_status": None, "referral_count": None}


def _check_cli(world: World, code: str) -> None:
    """``referral funnel`` and ``referral show`` read the same ledger."""
    import json
    import tempfile

    from typer.testing import CliRunner

    from shoploop.cli._app import build_app

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "shoploop.toml"
        config.write_text(f'[store]\nurl = "{world.store.url}"\n')
        runner = CliRunner()
        funnel = runner.invoke(build_app(world.host), ["-c", str(config), "referral",
                                                       "funnel", "--json"])
        assert funnel.exit_code == 0, funnel.output
        rows = {r["stage"]: r for r in json.loads(funnel.output)["funnel"]}
        assert rows["surveyed"] == {"stage": "surveyed", "count": 1, "rate": None}
        assert rows["rewarded"]["rate"] == 1.0
        shown = runner.invoke(build_app(world.host), ["-c", str(config), "referral", "show",
                                                      code.lower(), "--json"])
        assert shown.exit_code == 0, shown.output
        ledger = json.loads(shown.output)
        assert [r["status"] for r in ledger["referrals"]] == ["rewarded"]
        assert [w["status"] for w in ledger["rewards"]] == ["thanked"]
        assert ledger["surveys"][0]["score"] == 5
        missing = runner.invoke(build_app(world.host), ["-c", str(config), "referral", "show",
                                                        "NOPE-1"])
        assert missing.exit_code == 2 and "no referral code or customer" in missing.output


def test_refund_inside_the_window_means_no_reward(world: World, inbox: Any) -> None:
    anna, ben = ANNA, BEN  # the shop numbers them; orders name them by these source ids
    world.shop(_order("O1", anna, T0))
    world.run(T0 + timedelta(days=31))
    token = re.search(r"/survey/([^\s?]+)",
                      inbox.wait_for(1)[0].get_body(("plain",)).get_content())[1]
    record_answer(world.store, world.settings, token, score=4, now=T0 + timedelta(days=31),
                  environ=SECRET)
    world.run(T0 + timedelta(days=31))
    code = re.search(r"FRIEND-[A-Z0-9]{8}",
                     inbox.wait_for(2)[1].get_body(("plain",)).get_content())[0]
    placed = T0 + timedelta(days=40)
    world.shop(_order("O1", anna, T0), _order("O2", ben, placed, codes=[code]))
    world.run(placed + timedelta(days=1))
    world.shop(_order("O1", anna, T0), _order("O2", ben, placed, codes=[code],
                                              status="refunded", refunded="129.00"))
    counts = world.run(placed + timedelta(days=15))
    assert counts.get("referrals_cancelled") == 1 and "rewards_issued" not in counts
    assert len(world.coupons()) == 1  # the friend's code only


class _Dies:
    """The WooCommerce connector of a process that dies around the reward call: before it is
    sent, or after the shop took it and before the ledger recorded it."""

    def __init__(self, real: WooCommerceConnector, when: str) -> None:
        self.real, self.when = real, when

    def issue_reward(self, spec: Any) -> Any:
        if spec.idempotency_key.startswith("referral-"):
            if self.when == "after_send":
                self.real.issue_reward(spec)
            raise SystemExit(f"killed {self.when}")
        return self.real.issue_reward(spec)

    def find_reward(self, key: str) -> Any:
        return self.real.find_reward(key)


@pytest.mark.parametrize("when", ["before_send", "after_send"])
def test_a_run_dying_around_the_reward_call_rewards_once_on_rerun(
        world: World, inbox: Any, when: str) -> None:
    world.shop(_order("O1", ANNA, T0))
    world.run(T0 + timedelta(days=31))
    token = re.search(r"/survey/([^\s?]+)",
                      inbox.wait_for(1)[0].get_body(("plain",)).get_content())[1]
    record_answer(world.store, world.settings, token, score=5, now=T0 + timedelta(days=31),
                  environ=SECRET)
    world.run(T0 + timedelta(days=31))
    code = re.search(r"FRIEND-[A-Z0-9]{8}",
                     inbox.wait_for(2)[1].get_body(("plain",)).get_content())[0]
    placed = T0 + timedelta(days=40)
    world.shop(_order("O1", ANNA, T0), _order("O2", BEN, placed, codes=[code]))
    world.run(placed + timedelta(days=1))
    real = world.connector
    world.connector = _Dies(real, when)  # type: ignore[assignment]
    with pytest.raises(SystemExit, match=when):
        world.run(placed + timedelta(days=15))
    assert len(world.coupons()) == (2 if when == "after_send" else 1)
    world.connector = real
    counts = world.run(placed + timedelta(days=15))
    assert counts["reward_intents_interrupted"] == 1 and counts["rewards_issued"] == 1
    assert len(world.coupons()) == 2  # the friend's code and exactly one reward
    world.run(placed + timedelta(days=16))
    assert len(world.coupons()) == 2
    with world.store.session() as session:
        assert len(referrals_with_status(session, ["rewarded"])) == 1
        from sqlalchemy import select

        from shoploop.store import SyncBatch
        statuses = sorted(b.status for b in session.scalars(
            select(SyncBatch).where(SyncBatch.kind == "referral_reward")))
    assert statuses == ["confirmed"]


def test_a_referral_experiment_arm_changes_the_delay_and_the_reward(world: World,
                                                                    inbox: Any) -> None:
    """The arm is stored at the customer's order (its exposure), its 14-day delay brings the
    survey forward, its reward of 25 replaces the policy's 10, and the report counts it."""
    world.shop(_order("O1", ANNA, T0))
    with world.store.session() as session:
        [anna_id] = [c.id for c in mirrored_customers(session, "woo")
                     if c.email == ANNA.email]
    settings = ExperimentSettings.model_validate({
        "unit": "customer", "start": T0 - timedelta(days=1), "baseline_rate": 0.2,
        "variants": [{"name": "control", "share": 0.5},
                     {"name": "generous", "share": 0.5, "referral_reward": "25",
                      "survey_delay_days": 14}]})
    # The experiment's name decides the hash: take one that puts Anna in the treatment.
    name = next(n for n in (f"thanks{i}" for i in range(64))
                if assign(n, settings, f"woo/{anna_id}") == "generous")
    world.experiments = {name: settings}
    assert "surveys_sent" not in world.run(T0 + timedelta(days=13), dry_run=True)
    with world.store.session() as session:
        assert stored_assignment(session, name, f"woo/{anna_id}") is None  # dry: nothing kept
    assert world.run(T0 + timedelta(days=15))["surveys_sent"] == 1  # not 30 days: the arm's
    with world.store.session() as session:
        stored = stored_assignment(session, name, f"woo/{anna_id}")
    assert stored is not None and (stored.variant, stored.first_exposed_at) == ("generous", T0)
    token = re.search(r"/survey/([^\s?]+)",
                      inbox.wait_for(1)[0].get_body(("plain",)).get_content())[1]
    record_answer(world.store, world.settings, token, score=5, now=T0 + timedelta(days=16),
                  environ=SECRET)
    world.run(T0 + timedelta(days=16))
    code = re.search(r"FRIEND-[A-Z0-9]{8}",
                     inbox.wait_for(2)[1].get_body(("plain",)).get_content())[0]
    placed = T0 + timedelta(days=20)
    world.shop(_order("O1", ANNA, T0), _order("O2", BEN, placed, codes=[code]))
    world.run(placed + timedelta(days=1))
    assert world.run(placed + timedelta(days=15))["rewards_issued"] == 1
    [reward] = [c for c in world.coupons() if c["code"] != code.lower()]
    assert reward["amount"] == "25"

    as_of = T0 + timedelta(days=61)  # 30 days (the control's delay) + 30 the link is open
    with world.store.session() as session:
        early = referral_experiment_report(session, name, settings, world.settings,
                                           T0 + timedelta(days=59))
        report = referral_experiment_report(session, name, settings, world.settings, as_of)
    assert [a["mature_units"] for a in early["arms"]] == [0, 0]  # not every arm asked yet
    control, generous = report["arms"]
    # Ben's paid order (day 20) exposed him too, but he is not mature by day 61.
    assert control["units"] + generous["units"] == 2 and control["mature_units"] == 0
    assert {k: v for k, v in generous.items() if k != "units"} == {
        "variant": "generous", "mature_units": 1, "surveyed_units": 1,
        "answered_units": 1, "satisfied_units": 1, "referring_units": 1, "referrals": 1,
        "qualified_referrals": 1, "answer_rate": 1.0, "satisfied_rate": 1.0,
        "referral_rate": 1.0, "reward_value": {"EUR": "25"}}
    assert report["verdicts"][0]["status"] == "not_yet_at_horizon"
    assert report["verdicts"][0]["winner"] is None
    _check_experiment_cli(world, name, report, as_of)


def _check_experiment_cli(world: World, name: str, report: dict[str, Any],
                          as_of: datetime) -> None:
    """``experiments report`` reads the same figures for a referral experiment."""
    import json
    import tempfile

    from typer.testing import CliRunner

    from shoploop.cli._app import build_app

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "shoploop.toml"
        config.write_text(f'''[store]\nurl = "{world.store.url}"
[experiments.{name}]
unit = "customer"
baseline_rate = 0.2
start = {(T0 - timedelta(days=1)).isoformat()}
[[experiments.{name}.variants]]
name = "control"
share = 0.5
[[experiments.{name}.variants]]
name = "generous"
share = 0.5
referral_reward = 25
survey_delay_days = 14
''')
        runner = CliRunner()
        args = ["-c", str(config), "experiments", "report", name, "--now", as_of.isoformat()]
        found = runner.invoke(build_app(world.host), [*args, "--json"])
        assert found.exit_code == 0, found.output
        assert json.loads(found.output) == report
        text = runner.invoke(build_app(world.host), args)
        assert text.exit_code == 0, text.output
        words = " ".join(text.output.split())  # the console wraps at its width
        assert "generous units" in words and "referring 100.00%" in words
