"""Profiles across connections: one person per normalised e-mail, guests and bindings included."""

from __future__ import annotations

from datetime import date, timedelta

from shoploop.attributes.profiles import build_profiles
from shoploop.hooks import Customer, InstalledEquipment
from shoploop.store import Store, upsert_customers, upsert_installed_base, upsert_orders


def _seed(store: Store, order) -> None:
    with store.session() as session:
        upsert_customers(session, "erp", [
            Customer(id="E1", email="Anna@Example.com ", attributes={"referral_count": 2}),
            Customer(id="E2", email=None),
        ])
        upsert_customers(session, "shop", [
            Customer(id="S1", email="anna@example.com", attributes={"referral_count": 0,
                                                                      "tier": "gold"}),
            Customer(id="S2", email="bob@example.com"),
        ])
        upsert_orders(session, "erp", [
            order("o1", customer_id="E1", email="other@example.com", days_ago=30),
            order("o2", customer_id="E2", days_ago=3),
            order("future", customer_id="E1", days_ago=-5),
        ])
        upsert_orders(session, "shop", [
            order("o1", customer_id="S1", email="anna@example.com", days_ago=10),
            order("g1", email="ANNA@example.com", days_ago=20),       # guest, same person
            order("g2", email="guest@example.com", days_ago=40),      # guest-only person
            order("g3", email=None, days_ago=40),                     # anonymous: nobody's
        ])
        upsert_installed_base(session, "erp", [InstalledEquipment(
            id="M1", customer_id="E1", product_id="P1", installed_at=date(2025, 1, 1))])
        session.commit()


def test_profiles_join_connections_by_email(store: Store, order, now) -> None:
    _seed(store, order)
    with store.session() as session:
        profiles = list(build_profiles(session, as_of=now))
    by_email = {p.customer.email.strip().lower() if p.customer.email else p.customer.id: p
                for p in profiles}
    assert set(by_email) == {"anna@example.com", "bob@example.com", "guest@example.com", "E2"}

    anna = by_email["anna@example.com"]
    assert anna.customer.id == "E1"  # connections in name order: erp before shop
    assert sorted(o.id for o in anna.orders) == ["g1", "o1", "o1"]  # future order excluded
    assert [e.id for e in anna.equipment] == ["M1"]
    assert anna.attributes == {"referral_count": 2, "tier": "gold"}

    assert by_email["bob@example.com"].orders == []
    guest = by_email["guest@example.com"]
    assert (guest.customer.id, [o.id for o in guest.orders]) == ("guest:guest@example.com", ["g2"])
    assert [o.id for o in by_email["E2"].orders] == ["o2"]


def test_as_of_moves_the_window(store: Store, order, now) -> None:
    _seed(store, order)
    with store.session() as session:
        early = {p.customer.id: len(p.orders)
                 for p in build_profiles(session, as_of=now - timedelta(days=15))}
    assert early == {"E1": 2, "E2": 0, "S2": 0, "guest:guest@example.com": 1}


def test_the_referral_ledger_joins_the_profile_of_its_customer(store: Store, order,
                                                                 now) -> None:
    """Anna (the shop's S1) answered two surveys (the latest counts), has one code, and two
    friends' orders are attributed to it: one rewarded, one rejected; a third is attributed
    after ``as_of``. A survey of a customer not mirrored (S9) joins by the e-mail it was sent to:
    Bob's."""
    from shoploop.store import (
        ReferralSurveyRecord,
        add_code,
        add_invitation,
        add_referral,
        add_survey,
        transition,
    )

    _seed(store, order)
    week = timedelta(days=7)
    with store.session() as session:
        surveys = []
        for period, customer, score, ago, email in (
                (1, "S1", 3, 5 * week, None), (2, "S1", 5, 2 * week, None),
                (1, "S9", 1, week, "Bob@Example.com ")):
            survey_id = add_survey(session, connection="shop", customer_id=customer,
                                   email=email, order_id=f"o-{period}", period=period,
                                   language="en", due_at=now - ago, now=now - ago, cause="t")
            assert survey_id is not None
            transition(session, "survey", survey_id, "sent", cause="t", now=now - ago)
            transition(session, "survey", survey_id, "answered", cause="t", now=now - ago,
                       score=score, answered_at=now - ago)
            surveys.append(session.get(ReferralSurveyRecord, survey_id))
        invitation = add_invitation(session, survey=surveys[1], now=now - 2 * week, cause="t")
        add_code(session, code="ANNA10", invitation=invitation, now=now - 2 * week, cause="t")
        for number, state, ago in (("f1", "rewarded", week), ("f2", "rejected", week),
                                   ("f3", None, -week)):
            referral, _ = add_referral(
                session, code="ANNA10", connection="shop", order_id=number, customer_id=None,
                email=None, attributed_by="code", order_total=None, currency="EUR",
                placed_at=now - ago, now=now - ago, cause="t")
            if state == "rewarded":
                transition(session, "referral", referral.id, "qualified", cause="t", now=now)
            if state is not None:
                transition(session, "referral", referral.id, state, cause="t", now=now)
        session.commit()
    with store.session() as session:
        profiles = {p.customer.email.strip().lower() if p.customer.email else p.customer.id: p
                    for p in build_profiles(session, as_of=now)}
    anna, bob = profiles["anna@example.com"].referral, profiles["bob@example.com"].referral
    assert (anna.satisfaction_score, anna.codes, anna.referrals, anna.successful,
            anna.rewarded) == (5, 1, 1, 1, 1)
    assert anna.answered_at is not None and abs(anna.answered_at - (now - 2 * week)) \
        < timedelta(seconds=1)
    assert (bob.satisfaction_score, bob.codes, bob.referrals) == (1, 0, 0)
    assert sorted(o.id for o in profiles["anna@example.com"].orders) == ["g1", "o1", "o1"]
