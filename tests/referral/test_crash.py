"""Crash safety of ``shoploop referral run`` (issue 16): the job is SIGKILLed at eleven exact
points of its conversation with the WooCommerce emulator and the SMTP server — a survey, an
invitation or a thank-you held before or after the server took it, a friend's code or a
reward coupon held before or after WooCommerce created it, the look-up before either — and
run again at the same ``--now`` each time. At the end: every survey, invitation and thank-you
reached its customer (a message killed after the server took it is sent again under the same
``Message-ID``, as docs/referrals.md says: the receiving side can tell), every code and every
reward exists once in WooCommerce — the emulator applied exactly one create per coupon — and
the ledger agrees: each referral rewarded once, each reward intent confirmed by one batch.

The kill points are exact, not raced (the ``kill_switch`` fixture holds the chosen request and
parks every later one); the plan below knows what each killed run left for the next, so every
point is reached whatever the machine's speed, and the test asserts that it was.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shoploop.hooks import Address, Customer, LineItem, Order
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.referral import ReferralSettings, record_answer
from shoploop.store import (
    LEDGER_TRANSITIONS,
    ReferralTransitionRecord,
    Store,
    SyncBatch,
    referrals_with_status,
    rewards_with_status,
    surveys_with_status,
    upsert_customers,
    upsert_orders,
)

SECRET = "crash-test-link-secret-0123456789abcdef"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PLACED = T0 + timedelta(days=40)
ADVOCATES = [Customer(id=f"a{n}", email=f"advocate{n}@example.org",
                      addresses=[Address(line1=f"Hauptstraße {n}", postal_code="10115",
                                         country="DE")]) for n in range(1, 4)]
FRIENDS = [Customer(id=f"f{n}", email=f"friend{n}@example.net",
                    addresses=[Address(line1=f"Seeweg {n}", postal_code="20095",
                                       country="DE")]) for n in range(1, 4)]

# (when the run is --now, connection, kind, nth, before/after) — see the module docs; the
# comments say what the killed run leaves for the next.
PLAN: dict[str, list[tuple[str, str, int, str]]] = {
    "surveys": [
        ("smtp", "write", 2, "before"),   # survey 1 sent and recorded
        ("smtp", "write", 1, "after"),    # survey 2 received, not recorded: sent again
    ],
    "invitations": [
        ("woo", "create", 2, "after"),    # code 1 active; code 2 created, not recorded
        ("woo", "read", 2, "before"),     # code 2 found again; code 3 not looked up
        ("woo", "create", 1, "before"),   # code 3 not created
        ("smtp", "write", 3, "after"),    # codes active; invitation 3 received, not recorded
    ],
    "rewards": [
        ("woo", "create", 1, "after"),    # reward 1 created, left pending
        ("woo", "read", 1, "before"),     # reward 1's reconciling look-up never answered
        ("woo", "read", 3, "after"),      # reward 1 found, 2 issued, 3 pending, looked up
        ("smtp", "write", 2, "before"),   # reward 3 issued; thank-you 1 sent
        ("smtp", "write", 1, "after"),    # thank-you 2 received, not recorded
    ],
}


def _order(id_: str, customer: Customer, placed: datetime, codes: list[str]) -> Order:
    return Order(id=id_, customer_id=customer.id, email=customer.email, placed_at=placed,
                 status="paid", discount_codes=codes,
                 lines=[LineItem(name="Fernglas 10x42", quantity=1,
                                 unit_price=Decimal("129.00"))])


# PostgreSQL: the killed run's open transaction is the server's to roll back (the sync's crash
# test covers a killed SQLite writer); one backend keeps the test near 30 s.
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_referral_run_killed_at_eleven_points_ends_with_everything_once(
        store: Store, tmp_path: Path, smtp_port: int, inbox: Any, kill_switch: Any,
        confirmed_once: Any) -> None:
    emulator = WooCommerceEmulator.from_records().start()
    try:
        switch = kill_switch({"woo": emulator})
        inbox.gate = switch
        _check(store, tmp_path, smtp_port, inbox, emulator, switch, confirmed_once)
    finally:
        emulator.stop()


def _check(store: Store, tmp_path: Path, smtp_port: int, inbox: Any,
           emulator: WooCommerceEmulator, switch: Any, confirmed_once: Any) -> None:
    config = tmp_path / "shoploop.toml"
    config.write_text(
        f'[store]\nurl = "{store.url}"\n\n[referral]\nshops = ["woo"]\n'
        f'[referral.smtp]\nport = {smtp_port}\n'
        '[referral.reward]\nkind = "coupon"\namount = "10"\n'
        '[referral.friend]\npercentage = 15\n\n' + emulator.connection_block("woo"),
        encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")},
           **emulator.environment(), "SHOPLOOP_REFERRAL_SECRET": SECRET}
    with store.session() as session:
        upsert_customers(session, "woo", ADVOCATES + FRIENDS)
        upsert_orders(session, "woo", [_order(f"O{n}", a, T0 + timedelta(hours=n), [])
                                       for n, a in enumerate(ADVOCATES, 1)])
    kills = Counter[str]()

    def step(name: str, now: datetime) -> None:
        """The step's kill points, a run (killed there) each, then a run that finishes."""
        for connection, kind, nth, when in PLAN[name]:
            switch.arm(connection, kind, nth, when)
            run = _start(config, env, now, tmp_path)
            assert switch.kill(run), f"{name}: the run ended before {kind} #{nth} to " \
                                     f"{connection} ({when})"
            kills[connection, when] += 1
        switch.resume()
        run = _start(config, env, now, tmp_path)
        out, _ = run.communicate(timeout=300)
        assert run.returncode == 0, (out, (tmp_path / "runs.err").read_text())

    step("surveys", T0 + timedelta(days=31))
    surveys = _distinct(inbox.messages, "survey")
    assert len(surveys) == 3
    settings = ReferralSettings()
    for message in surveys.values():
        token = re.search(r"/survey/([^\s?]+)", message.get_body(("plain",)).get_content())[1]
        record_answer(store, settings, token, score=5, now=T0 + timedelta(days=32),
                      environ={"SHOPLOOP_REFERRAL_SECRET": SECRET})
    step("invitations", T0 + timedelta(days=32))
    invitations = _distinct(inbox.messages, "invitation")
    codes = {m["To"]: re.search(r"FRIEND-[A-Z0-9]{8}", m.get_body(("plain",)).get_content())[0]
             for m in invitations.values()}
    assert sorted(codes) == [a.email for a in ADVOCATES]
    with store.session() as session:
        upsert_orders(session, "woo", [
            _order(f"F{n}", friend, PLACED + timedelta(hours=n), [codes[advocate.email]])
            for n, (advocate, friend) in enumerate(zip(ADVOCATES, FRIENDS, strict=True), 1)])
    switch.resume()
    assert _start(config, env, PLACED + timedelta(days=1), tmp_path).wait(300) == 0
    step("rewards", PLACED + timedelta(days=15))

    # Every message reached its customer; a copy only where a kill came after the server took
    # it, under the same Message-ID.
    thanks = _distinct(inbox.messages, "thanks")
    assert sorted(m["To"] for m in thanks.values()) == [a.email for a in ADVOCATES]
    assert len(inbox.messages) == 9 + kills["smtp", "after"]
    # WooCommerce: three friends' codes and three rewards, each created by one request.
    coupons = list(emulator.data.coupons.values())
    assert sorted(c["code"] for c in coupons if c["code"].startswith("friend-")) == sorted(
        c.lower() for c in codes.values())
    assert switch.applied["woo", "create"] == len(coupons) == 6
    with store.session() as session:
        rewards = rewards_with_status(session, ["thanked"])
        keys = sorted(w.idempotency_key for w in rewards)
        assert len(rewards) == 3 and rewards_with_status(
            session, ["pending", "issued", "failed", "reversed"]) == []
        assert len(referrals_with_status(session, ["rewarded"])) == 3
        assert len(surveys_with_status(session, "answered")) == 3
        batches = list(session.scalars(select(SyncBatch).where(
            SyncBatch.kind == "referral_reward")))
        history = list(session.scalars(select(ReferralTransitionRecord).order_by(
            ReferralTransitionRecord.id)))
    assert sorted(m["value"] for c in coupons for m in c.get("meta_data", [])
                  if m.get("value", "").startswith("referral-")) == keys
    assert confirmed_once(batches) == 3
    assert sorted(b.status for b in batches) == ["confirmed"] * 3
    last: dict[tuple[str, str], str | None] = {}
    for entry in history:  # one chain of allowed transitions per entry, nothing done twice
        assert entry.from_state == last.get((entry.entity, entry.entity_id))
        assert entry.to_state in LEDGER_TRANSITIONS[entry.entity][entry.from_state]
        last[(entry.entity, entry.entity_id)] = entry.to_state
    assert sum(kills.values()) == 11


def _start(config: Path, env: dict[str, str], now: datetime,
           tmp_path: Path) -> subprocess.Popen[bytes]:
    # stderr to a file: a run blocked on a full pipe would never reach its kill point.
    with (tmp_path / "runs.err").open("ab") as err:
        return subprocess.Popen([sys.executable, "-m", "shoploop", "-c", str(config),
                                 "referral", "run", "--json", "--now", now.isoformat()],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=err)


def _distinct(messages: list[Any], kind: str) -> dict[str, Any]:
    """Message-ID → message, for the messages of one kind (``survey-…@``, ``thanks-…@``)."""
    found: dict[str, Any] = {}
    for message in messages:
        if str(message["Message-ID"]).strip("<").startswith(f"{kind}-"):
            found.setdefault(str(message["Message-ID"]), message)
    return found
