"""Assignments on SQLite and PostgreSQL: recorded at first exposure, the first insert wins,
and a customer bound in the ERP and two shops is one unit with one variant."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from shoploop.experiments import ExperimentSettings, assign, exposed_variant, unit_of
from shoploop.store import (
    Store,
    bind_identity,
    experiment_assignments,
    experiment_counts,
    record_assignment,
)

NOW = datetime(2026, 12, 4, 9, tzinfo=UTC)


def _settings(unit: str = "customer") -> ExperimentSettings:
    return ExperimentSettings.model_validate({"unit": unit, "variants": [
        {"name": "control", "share": 0.5}, {"name": "k8", "share": 0.5, "k": 8}]})


def test_the_first_exposure_is_kept(store: Store) -> None:
    with store.session() as session:
        first = record_assignment(session, experiment="e", unit_kind="visitor",
                                  unit_key="visitor/v1", variant="control", at=NOW)
        again = record_assignment(session, experiment="e", unit_kind="visitor",
                                  unit_key="visitor/v1", variant="k8",
                                  at=NOW + timedelta(days=1))
        record_assignment(session, experiment="other", unit_kind="visitor",
                          unit_key="visitor/v1", variant="k8", at=NOW)
    assert again == first and first.variant == "control" and first.first_exposed_at == NOW
    with store.session() as session:
        assert [a.variant for a in experiment_assignments(session, "e")] == ["control"]
        assert experiment_counts(session) == {"e": {"control": 1}, "other": {"k8": 1}}


def test_one_customer_in_the_erp_and_two_shops_gets_one_variant(store: Store) -> None:
    settings = _settings()
    with store.session() as session:
        # The sync's bindings: one person, three systems.
        person = bind_identity(session, "erp", "customer", "K-1001")
        bind_identity(session, "shop_a", "customer", "gid://1", person)
        bind_identity(session, "shop_b", "customer", "77", person)
    seen = []
    with store.session() as session:
        for connection, customer in (("shop_a", "gid://1"), ("shop_b", "77"),
                                     ("erp", "K-1001")):
            unit = unit_of(session, settings, connection=connection, customer_id=customer,
                           visitor_id="some-browser")
            assert unit is not None and unit.key == person
            seen.append(exposed_variant(session, "k_test", settings, unit, NOW))
    assert seen == [assign("k_test", settings, person)] * 3
    with store.session() as session:
        stored = experiment_assignments(session, "k_test")
    assert [(a.unit_key, a.customer_key) for a in stored] == [(person, person)]


def test_an_unbound_customer_is_its_connection_and_id(store: Store) -> None:
    with store.session() as session:
        unit = unit_of(session, _settings(), connection="shop_a", customer_id="9",
                       visitor_id=None)
        assert unit is not None and unit.key == "shop_a/9"
        # a visitor experiment without a visitor id: no unit, the request is not counted
        assert unit_of(session, _settings("visitor"), connection="shop_a", customer_id="9",
                       visitor_id=None) is None
        visitor = unit_of(session, _settings("visitor"), connection="shop_a",
                          customer_id="9", visitor_id="b-1")
        assert visitor is not None and (visitor.key, visitor.customer_key) == (
            "visitor/b-1", "shop_a/9")


def test_a_stored_variant_outlives_a_change_of_shares(store: Store) -> None:
    """Units exposed before a share change stay in their arm (the comparison stays clean)."""
    even, skewed = _settings(), _settings()
    skewed.variants[0].share, skewed.variants[1].share = 0.1, 0.9
    units = [f"u{i}" for i in range(200)]
    with store.session() as session:
        before = {}
        for key in units:
            unit = unit_of(session, even, connection="s", customer_id=key, visitor_id=None)
            assert unit is not None
            before[key] = exposed_variant(session, "e", even, unit, NOW)
        after = {}
        for key in units:
            unit = unit_of(session, skewed, connection="s", customer_id=key, visitor_id=None)
            assert unit is not None
            after[key] = exposed_variant(session, "e", skewed, unit, NOW)
    assert after == before
    assert set(Counter(before.values())) == {"control", "k8"}


def test_erasing_a_customer_forgets_their_part_in_experiments(store: Store) -> None:
    from sqlalchemy import select

    from shoploop.store import WebEventRecord, erase_customer, record_web_events

    with store.session() as session:
        for unit, kind, person in (("shop_a/9", "customer", "shop_a/9"),
                                   ("visitor/b", "visitor", "shop_a/9"),
                                   ("shop_a/10", "customer", "shop_a/10")):
            record_assignment(session, experiment="e", unit_kind=kind, unit_key=unit,
                              variant="control", customer_key=person, at=NOW)
        record_web_events(session, [{
            "event_id": f"ev-{unit}", "type": "impression", "connection": "shop_a",
            "placement": "product_page", "product_external_id": "p1", "experiment": "e",
            "variant": "control", "unit_key": unit} for unit in ("shop_a/9", "shop_a/10")])
    with store.session() as session:
        result = erase_customer(session, "shop_a", "9")
    assert result.experiment_rows == 3  # the assignment, the visitor's link, the event's tag
    with store.session() as session:
        left = {(a.unit_key, a.customer_key) for a in experiment_assignments(session, "e")}
        tags = {event: unit for event, unit in session.execute(
            select(WebEventRecord.event_id, WebEventRecord.unit_key))}
    assert left == {("visitor/b", None), ("shop_a/10", "shop_a/10")}
    assert tags == {"ev-shop_a/9": None, "ev-shop_a/10": "shop_a/10"}
