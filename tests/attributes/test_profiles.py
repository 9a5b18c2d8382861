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
