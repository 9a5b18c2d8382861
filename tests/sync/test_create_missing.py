"""``sync.create_missing`` end to end over real sockets: ERP customers the shops don't have are
created in Shopify and WooCommerce once, bound, and given their mapped values; refused and
e-mail-less ones are reported; a dry run only says what it would create; a customer that
appears in the shop during a run is found by its e-mail instead of created twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from shoploop.sync import job as sync_job

CREATE_IN_SHOPS = '[sync]\ncreate_missing = ["shop", "woo"]\n'
NEW = {  # ERP number → (e-mail as the ERP holds it, customer group, sales rep)
    "N0001": ("Ina.Neu@Example.COM", "trade", "Elif Demir"),
    "N0002": ("jan.neu@neukunde.example", "retail", "Reto Ammann"),
    "N0003": ("ole.neu@neukunde.example", "key_account", None),
}


def mapping(env: Any) -> str:
    return str(env.erp_to_shops).replace("[sync]\n", CREATE_IN_SHOPS, 1)


def add_erp_customer(env: Any, number: str, email: str | None, group: str = "trade",
                     rep: str | None = "Elif Demir") -> None:
    """A customer entered in the ERP that no shop has yet."""
    row = {"No": number, "Name": f"Neukunde {number} GmbH", "Phone_No": "+49 30 1234567",
           "Customer_Posting_Group": group}
    if email is not None:
        row["E_Mail"] = email
    if rep is not None:
        row["Salesperson_Code"] = rep
    env.erp.tables["Customer"].create(row, datetime.now(UTC))


def shop_customers(env: Any) -> dict[str, list[dict[str, Any]]]:
    """e-mail → the Shopify customers holding it: id, company and shoploop metafields."""
    data = env.shop.data
    found: dict[str, list[dict[str, Any]]] = {}
    with data.lock:
        for node_id, customer in data.customers.items():
            values = {key: m["value"] for (ns, key), m in customer["_metafields"].items()
                      if ns == "shoploop"}
            found.setdefault(str(customer["email"]).lower(), []).append(
                {"id": node_id, "legacy": str(customer["legacyResourceId"]), **values})
    return found


def woo_customers(env: Any) -> dict[str, list[dict[str, Any]]]:
    """e-mail → the WooCommerce customers holding it: id, company and shoploop_* meta."""
    data = env.woo.data
    found: dict[str, list[dict[str, Any]]] = {}
    with data.lock:
        for number, customer in data.customers.items():
            values = {m["key"].removeprefix("shoploop_"): m["value"]
                      for m in customer["meta_data"] if m["key"].startswith("shoploop_")}
            found.setdefault(str(customer["email"]).lower(), []).append(
                {"id": str(number), "company": customer["billing"].get("company"), **values})
    return found


def expected_values(number: str, new: dict[str, tuple[str, str, str | None]] = NEW,
                    ) -> tuple[str, dict[str, str | None]]:
    email, group, rep = new[number]
    return email.lower(), {"customer_group": group, "sales_rep": rep.lower() if rep else None,
                           "customer_number": number}


def assert_created_once_with_values(env: Any, new: dict[str, tuple[str, str, str | None]],
                                    ) -> dict[str, tuple[str, str]]:
    """Each ERP customer of ``new`` is exactly one customer of each shop, holding its
    values; returns number → (Shopify legacy id, WooCommerce id)."""
    shop, woo = shop_customers(env), woo_customers(env)
    ids = {}
    for number in new:
        email, values = expected_values(number, new)
        assert len(shop.get(email, [])) == 1, (number, shop.get(email))
        assert len(woo.get(email, [])) == 1, (number, woo.get(email))
        held_shop, held_woo = shop[email][0], woo[email][0]
        assert {k: held_shop.get(k) for k in values} == values, (number, held_shop)
        assert {"customer_group": held_woo.get("customer_group"),
                "sales_rep": held_woo.get("rep") or None,
                "customer_number": held_woo.get("customer_number")} == values, held_woo
        assert held_woo["company"] == f"Neukunde {number} GmbH"
        ids[number] = (held_shop["legacy"], held_woo["id"])
    return ids


def test_missing_customers_are_created_once_bound_and_written_then_reruns_write_nothing(
        make_env: Any, store_url: str) -> None:
    env = make_env(customers=60, store_url=store_url)
    env.write_config(mapping(env))
    for number, (email, group, rep) in NEW.items():
        add_erp_customer(env, number, email, group, rep)
    add_erp_customer(env, "N0004", None)                    # no e-mail: not created
    add_erp_customer(env, "N0005", "not-an-e-mail")         # refused by both shops
    shops_before = {"shop": len(env.shop.data.customers), "woo": len(env.woo.data.customers)}

    first = env.run()

    for target in ("shop", "woo"):
        counts = first["targets"][target]
        assert (counts["read"], counts["matched"], counts["created"]) == (65, 60, 3), counts
        assert (counts["unmatched"], counts["failed"], counts["ambiguous"]) == (1, 1, 0), counts
    assert first["created"] == 6 and first["exit_code"] == 1  # a refused customer fails
    ids = assert_created_once_with_values(env, NEW)
    assert len(env.shop.data.customers) == shops_before["shop"] + 3
    assert len(env.woo.data.customers) == shops_before["woo"] + 3
    erp, shop, woo = env.bindings("erp"), env.bindings("shop"), env.bindings("woo")
    for number, (shop_id, woo_id) in ids.items():
        shop_ext = next(ext for ext in shop if ext.rsplit("/", 1)[-1] == shop_id)
        assert erp[number] == shop[shop_ext] == woo[woo_id], number
    assert "N0004" not in erp and "N0005" not in erp

    shown = env.cli("sync", "show", first["run_id"], "--json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)["changes"]
    created = {(r["target"], r["source_id"]) for r in rows if r["status"] == "created"}
    assert created == {(t, n) for t in ("shop", "woo") for n in NEW}
    notes = {(r["target"], r["source_id"], r["status"]): r["message"] for r in rows
             if r["source_id"] in ("N0004", "N0005")}
    assert "not created: it has no e-mail" in notes[("shop", "N0004", "unmatched")]
    assert notes[("woo", "N0005", "failed")].startswith("not created in 'woo': ")

    env.edit_erp("N0005", {"E_Mail": "fuenf@neukunde.example"})
    second = env.run()

    assert second["exit_code"] == 0, second["errors"]
    assert {t: second["targets"][t]["created"] for t in ("shop", "woo")} == {"shop": 1, "woo": 1}
    assert {t: second["targets"][t]["matched"] for t in ("shop", "woo")} == {"shop": 63, "woo": 63}
    assert_created_once_with_values(
        env, {**NEW, "N0005": ("fuenf@neukunde.example", "trade", "Elif Demir")})
    writes = env.writes()

    third = env.run()

    assert third["exit_code"] == 0 and third["created"] == 0 and third["written"] == 0
    assert env.writes() == writes


def test_a_dry_run_says_what_it_would_create_and_creates_nothing(make_env: Any) -> None:
    env = make_env(customers=40)
    env.write_config(mapping(env))
    for number, (email, group, rep) in NEW.items():
        add_erp_customer(env, number, email, group, rep)
    before = env.writes()

    summary = env.run(dry_run=True)

    assert {t: summary["targets"][t]["created"] for t in ("shop", "woo")} == {"shop": 3, "woo": 3}
    assert env.writes() == before
    assert not {expected_values(n)[0] for n in NEW} & set(shop_customers(env))
    assert env.bindings("shop") == {} and env.bindings("erp") == {}
    new_rows = {(r["target"], r["source_id"], r["key"]): r["new"] for r in summary["diff"]
                if r["customer"] == "(new)"}
    for number in NEW:
        _email, values = expected_values(number)
        assert new_rows[("shop", number, "customer_number")] == number
        assert new_rows[("woo", number, "customer_group")] == values["customer_group"]


@contextmanager
def registering_after_the_index(env: Any, target: str, email: str) -> Iterator[list[str]]:
    """While the job builds ``target``'s index — its import is done — the customer registers
    in that shop on their own (a real race: the run cannot have read them). Yields the new
    customer's id once made."""
    original = sync_job.build_index
    made: list[str] = []

    def build_index(mapping: Any, name: str, *args: Any) -> Any:
        index = original(mapping, name, *args)
        if name == target and not made:
            if target == "shop":
                node, errors = env.shop.data.create_customer({"email": email,
                                                              "lastName": "Neu"})
                assert node is not None, errors
                made.append(str(node["legacyResourceId"]))
            else:
                with env.woo.data.lock:
                    record = env.woo.data.create_customer({"email": email}, username="neu")
                made.append(str(record["id"]))
        return index

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sync_job, "build_index", build_index)
        yield made


@pytest.mark.parametrize("target", ["shop", "woo"])
def test_a_customer_who_registered_during_the_run_is_found_by_email_not_created_twice(
        make_env: Any, target: str) -> None:
    """The connector's create meets the taken e-mail, finds that customer and answers
    ``unchanged``: it is bound and written, and no second customer is made. (The same path
    heals a run killed between a create and its binding.)"""
    env = make_env(customers=30)
    env.write_config(mapping(env))
    email, group, rep = NEW["N0001"]
    add_erp_customer(env, "N0001", email, group, rep)

    with registering_after_the_index(env, target, email.lower()) as made:
        summary = env.run()

    assert made, f"{target}'s index was never built"
    counts = summary["targets"][target]
    assert (counts["created"], counts["matched"], counts["failed"]) == (0, 31, 0), counts
    other = "woo" if target == "shop" else "shop"
    assert summary["targets"][other]["created"] == 1
    holders = (shop_customers if target == "shop" else woo_customers)(env)[email.lower()]
    ids = [h["legacy"] if target == "shop" else h["id"] for h in holders]
    assert ids == made  # the one who registered, no second one
    assert holders[0]["customer_number"] == "N0001" and holders[0]["customer_group"] == group
    assert env.bindings(target)[made[0]] == env.bindings("erp")["N0001"]


def test_a_customer_whose_email_is_bound_to_another_is_reported_not_created(
        make_env: Any) -> None:
    env = make_env(customers=20)
    env.write_config(mapping(env))
    assert env.run()["exit_code"] == 0
    first = sorted(env.erp_rows())[0]
    old_email = env.erp_rows()[first]["E_Mail"]
    env.edit_erp(first, {"E_Mail": "moved@neukunde.example"})  # still bound: stays matched
    add_erp_customer(env, "N0001", old_email)  # the shops' customer with it is bound to first
    writes = env.writes()

    summary = env.run()

    for target in ("shop", "woo"):
        counts = summary["targets"][target]
        assert (counts["created"], counts["unmatched"], counts["matched"]) == (0, 1, 20), counts
    assert env.writes() == writes
    shown = json.loads(env.cli("sync", "show", summary["run_id"], "--json").stdout)
    notes = {r["target"]: r["message"] for r in shown["changes"] if r["source_id"] == "N0001"}
    assert set(notes) == {"shop", "woo"}
    assert all("bound to another" in note and "not created" in note for note in notes.values())


def test_a_person_erased_from_a_shop_is_never_created_there_again(make_env: Any) -> None:
    """The shop deleted a customer who was never bound (no sync had run) and sent
    ``customers/redact``; the ERP still has that person. ``create_missing`` must not put them
    back into the shop — the tombstone keeps only a hash of the e-mail to know them by."""
    from sqlalchemy import select

    from shoploop._connections import Connections
    from shoploop.plugins.shopify._webhooks import sign
    from shoploop.privacy import handle_privacy_event
    from shoploop.store import email_hash
    from shoploop.store._schema import ErasedCustomer

    env = make_env(customers=30)
    env.write_config(mapping(env))
    number = sorted(env.erp_rows())[3]
    email = str(env.erp_rows()[number]["E_Mail"])
    gid = env.shop_gid(number)
    with env.shop.data.lock:
        del env.shop.data.customers[gid]  # deleted in the shop; the redact request follows
    body = json.dumps({"shop_id": 1, "shop_domain": env.shop.shop,
                       "customer": {"id": int(gid.rsplit("/", 1)[-1]), "email": email.upper()},
                       "orders_to_redact": []}).encode()
    headers = {"X-Shopify-Topic": "customers/redact", "X-Shopify-Shop-Domain": env.shop.shop,
               "X-Shopify-Hmac-Sha256": sign(body, env.shop.api_secret)}
    with Connections(env.config(), env.host.connectors) as connections:
        event = connections["shop"].parse_webhook(headers, body)
    with env.store() as store:
        assert handle_privacy_event(store, event) is not None

    summary = env.run()

    shop, woo = summary["targets"]["shop"], summary["targets"]["woo"]
    assert (shop["created"], shop["erased"], shop["matched"]) == (0, 1, 29), shop
    assert (woo["created"], woo["matched"]) == (0, 30), woo  # not erased there
    assert email.lower() not in shop_customers(env)
    with env.store() as store, store.session() as session:
        (tombstone,) = session.scalars(select(ErasedCustomer)).all()
    assert tombstone.email_hash == email_hash(email)
    assert email.lower() not in json.dumps({c.name: str(getattr(tombstone, c.name))
                                            for c in ErasedCustomer.__table__.columns}).lower()
