"""Identity bindings: resolve both ways, never re-bind silently, unique in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from shoploop.store import (
    IdentityBinding,
    IdentityConflictError,
    Store,
    bind_identities,
    bind_identity,
    external_ids_for,
    resolve_external_ids,
    resolve_internal_id,
    resolve_internal_ids,
)


def test_bind_and_resolve_both_ways(store: Store):
    with store.session() as session:
        person = bind_identity(session, "erp", "customer", "K-1001")
        assert bind_identity(session, "shop", "customer", "gid://7", person) == person
    with store.session() as session:
        assert resolve_internal_id(session, "erp", "customer", "K-1001") == person
        assert resolve_internal_id(session, "shop", "customer", "gid://7") == person
        assert resolve_internal_id(session, "shop", "customer", "K-1001") is None
        assert resolve_internal_id(session, "erp", "product", "K-1001") is None
        assert external_ids_for(session, "customer", person) == {
            "erp": "K-1001", "shop": "gid://7"}


def test_binding_again_is_idempotent(store: Store):
    with store.session() as session:
        first = bind_identity(session, "erp", "customer", "K-1")
        assert bind_identity(session, "erp", "customer", "K-1") == first
        assert bind_identity(session, "erp", "customer", "K-1", first) == first
        assert session.query(IdentityBinding).count() == 1


def test_an_external_id_is_never_rebound(store: Store):
    with store.session() as session:
        bind_identity(session, "erp", "customer", "K-1", "person-a")
        with pytest.raises(IdentityConflictError, match="already bound to 'person-a'"):
            bind_identity(session, "erp", "customer", "K-1", "person-b")


def test_an_internal_id_has_one_external_id_per_connection(store: Store):
    with store.session() as session:
        bind_identity(session, "shop", "customer", "gid://1", "person-a")
        with pytest.raises(IdentityConflictError, match="already bound to external id 'gid://1'"):
            bind_identity(session, "shop", "customer", "gid://2", "person-a")
        assert resolve_internal_id(session, "shop", "customer", "gid://2") is None


@pytest.mark.parametrize(("first", "second"), [
    (("erp", "customer", "K-1", "person-a"), ("erp", "customer", "K-1", "person-b")),
    (("erp", "customer", "K-1", "person-a"), ("erp", "customer", "K-2", "person-a")),
], ids=["same external id", "same internal id"])
def test_unique_constraints_reject_duplicates_in_the_database(store: Store, first, second):
    """The guarantees hold even for writers that bypass bind_identity."""
    keys = ("connection", "entity_type", "external_id", "internal_id")
    with store.session() as session:
        session.execute(insert(IdentityBinding).values(dict(zip(keys, first, strict=True))))
    with pytest.raises(IntegrityError), store.session() as session:
        session.execute(insert(IdentityBinding).values(dict(zip(keys, second, strict=True))))
    with store.session() as session:
        assert session.query(IdentityBinding).count() == 1


def test_other_connections_and_entity_types_do_not_collide(store: Store):
    with store.session() as session:
        a = bind_identity(session, "erp", "customer", "1")
        b = bind_identity(session, "shop", "customer", "1")
        c = bind_identity(session, "erp", "product", "1")
        assert len({a, b, c}) == 3


def test_bulk_resolution(store: Store):
    with store.session() as session:
        bound = {f"K-{i}": bind_identity(session, "erp", "customer", f"K-{i}")
                 for i in range(1200)}
    with store.session() as session:
        wanted = [*bound, "K-unknown", "K-1"]
        assert resolve_internal_ids(session, "erp", "customer", wanted) == bound


def test_bulk_binding_skips_what_is_stored_and_never_rebinds(store: Store):
    rows = [("shop", "customer", f"S-{i}", f"person-{i}") for i in range(1200)]
    with store.session() as session:
        bind_identities(session, "customer", [(c, e, i) for c, _t, e, i in rows[:700]])
    with store.session() as session:  # again, with more: the stored ones are skipped
        bind_identities(session, "customer", [(c, e, i) for c, _t, e, i in rows])
    with store.session() as session:
        assert resolve_internal_ids(session, "shop", "customer", [e for *_, e, _ in rows]) \
            == {e: i for _c, _t, e, i in rows}
        assert resolve_external_ids(session, "shop", "customer",
                                    ["person-5", "person-1100", "nobody"]) == {
            "person-5": "S-5", "person-1100": "S-1100"}
        assert resolve_external_ids(session, "erp", "customer", ["person-5"]) == {}
    with pytest.raises(IntegrityError), store.session() as session:
        bind_identities(session, "customer", [("shop", "S-new", "person-1"),
                                              ("shop", "S-newer", "person-new")])
    with store.session() as session:  # the clash rolled the whole call back
        assert resolve_internal_ids(session, "shop", "customer", ["S-newer"]) == {}
