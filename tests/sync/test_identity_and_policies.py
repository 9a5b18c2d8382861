"""Over the emulators: conflict policies, an ERP concurrency conflict, unmatched and ambiguous
customers, the link attribute surviving an e-mail change, and privacy erasure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shoploop.demo import SYNC_MAPPING
from shoploop.plugins.shopify._webhooks import sign
from shoploop.privacy import handle_privacy_event
from shoploop.sync import job as sync_job


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan 7 master customers at a time: bindings, ambiguity and the link attribute must hold
    across chunk boundaries (a binding made in one chunk is seen by the next)."""
    monkeypatch.setattr(sync_job, "CHUNK", 7)

EMAIL_ONLY = SYNC_MAPPING.replace('match_keys = ["email", "vat_id"]',
                                  'match_keys = ["email"]')

POLICIES = """
[sync]
match_keys = ["email"]

[sync.attributes.customer_group]
master = "erp"
targets = ["shop", "woo"]
policy = "keep_non_empty"

[sync.attributes.sales_rep]
master = "erp"
transform = "lower"
targets = ["shop"]
policy = "newest_wins"
"""

DERIVED_ONLY = """
[sync]
derived_from = ["erp"]

[sync.attributes.lifecycle_stage]
master = "derived"
targets = ["erp"]
"""

MakeEnv = Callable[..., Any]


def test_keep_non_empty_and_newest_wins(make_env: MakeEnv) -> None:
    env = make_env(customers=100)
    env.write_config(POLICIES)
    rows = env.erp_rows()
    # ``own`` has no sales rep, so only its customer group is at stake (an edited shop
    # record is newer than the ERP card: under newest_wins every differing value of it
    # would be a conflict).
    own = next(n for n in sorted(rows) if not rows[n].get("Salesperson_Code"))
    moved, edited = [n for n in sorted(rows) if n != own
                     and rows[n].get("Salesperson_Code")][:2]
    env.edit_shop(own, attributes={"customer_group": "set-by-the-shop"})

    first = env.run()

    # keep_non_empty: the shop's own value stays; the ERP's would have replaced it.
    assert env.erp_rows()[own]["Customer_Posting_Group"] != "set-by-the-shop"
    assert env.shop_values("customer_group")[own] == "set-by-the-shop"
    assert first["targets"]["shop"]["skipped"] == 1
    assert first["targets"]["woo"]["skipped"] == 0
    assert first["targets"]["shop"]["conflicts"] == 0
    assert env.woo_values("customer_group")[own] == \
        env.erp_rows()[own]["Customer_Posting_Group"]

    # A value the shop last received from the ERP is the ERP's to change, even under
    # keep_non_empty; the shop's own value is still not overwritten.
    env.edit_erp(moved, {"Customer_Posting_Group": "moved-in-erp",
                         "Salesperson_Code": "Moved Rep"})
    env.edit_shop(edited, attributes={"sales_rep": "chosen by the shop"})

    second = env.run()

    assert env.shop_values("customer_group")[moved] == "moved-in-erp"
    assert env.woo_values("customer_group")[moved] == "moved-in-erp"
    assert env.shop_values("sales_rep")[moved] == "moved rep"
    assert env.shop_values("customer_group")[own] == "set-by-the-shop"
    assert second["targets"]["shop"]["skipped"] == 1
    # newest_wins: the shop's edit is newer than the ERP card → a conflict, not a write.
    assert env.shop_values("sales_rep")[edited] == "chosen by the shop"
    assert second["targets"]["shop"]["conflicts"] == 1
    assert second["targets"]["shop"]["written"] == 2
    assert second["targets"]["woo"]["written"] == 1
    assert second["exit_code"] == 0

    # The ERP card edited after the shop: now the ERP is newest and wins.
    env.edit_erp(edited, {"Salesperson_Code": "Newer In ERP"})

    third = env.run()

    assert env.shop_values("sales_rep")[edited] == "newer in erp"
    assert third["targets"]["shop"]["conflicts"] == 0
    assert third["targets"]["shop"]["written"] == 1
    with env.store() as store, store.session() as session:
        from shoploop.sync._state import changes_of_run

        rows = changes_of_run(session, second["run_id"])
    # The audit trail names both: who, which attribute, the value kept and the one refused.
    found = {(r.connection, r.customer_external_id, r.attr_key, r.status, r.old)
             for r in rows if r.status in ("skipped", "conflict")}
    assert found == {
        ("shop", env.shop_gid(own).rsplit("/", 1)[-1], "customer_group", "skipped",
         "set-by-the-shop"),
        ("shop", env.shop_gid(edited).rsplit("/", 1)[-1], "sales_rep", "conflict",
         "chosen by the shop")}


def test_erp_concurrency_fault_is_a_conflict_and_the_next_run_writes_it(
        make_env: MakeEnv) -> None:
    env = make_env(customers=60)
    env.write_config(DERIVED_ONLY)
    # Three stale keys in a row: the batch's UpdateMultiple fails, then the first customer's
    # update fails, is re-read (nobody changed our field) and retried, and fails again —
    # the adapter reports that customer as a conflict and writes the others one by one.
    env.erp.force("concurrency", 3)

    first = env.run()

    counts = first["targets"]["erp"]
    assert counts["conflicts"] == 1 and counts["failed"] == 0
    assert counts["written"] == counts["changed"] - 1 == 59
    assert env.erp.stats.snapshot()["concurrency_faults"] == 3
    stages = env.erp_values("lifecycle_stage")
    assert sum(1 for v in stages.values() if not v) == 1
    assert first["exit_code"] == 0

    second = env.run()

    assert second["targets"]["erp"]["written"] == 1
    assert second["targets"]["erp"]["conflicts"] == 0
    assert env.erp_values("lifecycle_stage") == env.expected_derived()


def test_unmatched_and_ambiguous_customers_are_reported_never_bound(make_env: MakeEnv) -> None:
    env = make_env(customers=100)
    env.write_config(EMAIL_ONLY)
    rows = env.erp_rows()
    numbers = sorted(rows)
    lost, first, twin = numbers[3], numbers[5], numbers[6]
    lost_shop = env.edit_shop(lost, email="someone.else@elsewhere.example")
    env.edit_erp(twin, {"E_Mail": rows[first]["E_Mail"]})
    woo_before = {n: env.woo.data.customers[env.woo.data.woo_id("customers", n)]["meta_data"]
                  for n in (first, twin)}
    woo_before = json.loads(json.dumps(woo_before))  # a copy, not the emulator's lists

    summary = env.run()

    shop, woo = summary["targets"]["shop"], summary["targets"]["woo"]
    assert (shop["unmatched"], shop["ambiguous"], shop["matched"]) == (1, 2, 97)
    assert (woo["unmatched"], woo["ambiguous"], woo["matched"]) == (0, 2, 98)
    assert summary["exit_code"] == 0
    for number in (lost, first, twin):
        assert env.shop_values("customer_number")[number] is None
    assert {n: env.woo.data.customers[env.woo.data.woo_id("customers", n)]["meta_data"]
            for n in (first, twin)} == woo_before  # nothing written to the ambiguous
    assert lost_shop not in env.bindings("shop")
    assert not {first, twin, lost} & set(env.bindings("erp")) - {lost}
    assert lost in env.bindings("erp")  # bound to its WooCommerce customer only

    done = env.cli("sync", "show", summary["run_id"], "--json")
    assert done.returncode == 0, done.stderr
    found = {(c["target"], c["source_id"], c["status"]) for c in json.loads(done.stdout)[
        "changes"] if c["status"] in ("unmatched", "ambiguous")}
    assert found == {("shop", lost, "unmatched"), ("shop", first, "ambiguous"),
                     ("shop", twin, "ambiguous"), ("woo", first, "ambiguous"),
                     ("woo", twin, "ambiguous")}


def test_the_link_attribute_survives_an_email_change(make_env: MakeEnv) -> None:
    env = make_env(customers=80)
    env.write_config(EMAIL_ONLY)
    env.run()
    number = sorted(env.erp_rows())[7]
    assert env.shop_values("customer_number")[number] == number
    env.edit_shop(number, email="new.address@example.org")
    env.edit_woo(number, email="new.address@example.org")

    # Bindings gone: only the link attribute (written by the first run) can still match.
    env.delete_bindings()
    env.edit_erp(number, {"Customer_Posting_Group": "after-the-move"})
    summary = env.run()

    for target in ("shop", "woo"):
        counts = summary["targets"][target]
        assert (counts["matched"], counts["unmatched"], counts["ambiguous"]) == (80, 0, 0)
        assert counts["written"] == 1
    assert env.shop_values("customer_group")[number] == "after-the-move"
    assert env.woo_values("customer_group")[number] == "after-the-move"

    # A fresh store (mirror, bindings and target state all lost): still everyone matched,
    # nothing to write.
    env.use_store(f"sqlite:///{env.tmp_path / 'fresh.db'}", EMAIL_ONLY)
    fresh = env.run()
    for target in ("shop", "woo"):
        counts = fresh["targets"][target]
        assert (counts["matched"], counts["unmatched"], counts["written"]) == (80, 0, 0)


def test_an_erased_customer_is_never_rebound_nor_written(make_env: MakeEnv) -> None:
    env = make_env(customers=80)
    env.write_config(EMAIL_ONLY)
    env.run()
    number = sorted(env.erp_rows())[4]
    shop_id = env.shop_gid(number).rsplit("/", 1)[-1]
    assert shop_id in env.bindings("shop")

    body = json.dumps({"shop_id": 1, "shop_domain": env.shop.shop,
                       "customer": {"id": int(shop_id), "email": "x@example.com"},
                       "orders_to_redact": []}).encode()
    headers = {"X-Shopify-Topic": "customers/redact", "X-Shopify-Shop-Domain": env.shop.shop,
               "X-Shopify-Hmac-Sha256": sign(body, env.shop.api_secret)}
    from shoploop._connections import Connections

    config = env.config()
    with Connections(config, env.host.connectors) as connections:
        event = connections["shop"].parse_webhook(headers, body)  # verifies the signature
    with env.store() as store:
        result = handle_privacy_event(store, event)
    assert result is not None and result.customers == 1
    assert shop_id not in env.bindings("shop")

    # The ERP changes the customer; a full re-read delivers the shop record again.
    env.edit_erp(number, {"Customer_Posting_Group": "after-erasure"})
    shop_before = env.shop_values("customer_group")[number]
    writes = env.shop.stats.snapshot()["writes"]
    summary = env.run(full=True)

    shop = summary["targets"]["shop"]
    assert shop["erased"] == 1 and shop["written"] == 0 and shop["matched"] == 79
    assert env.shop.stats.snapshot()["writes"] == writes
    assert env.shop_values("customer_group")[number] == shop_before
    assert env.woo_values("customer_group")[number] == "after-erasure"  # not erased there
    assert shop_id not in env.bindings("shop")
    with env.store() as store, store.session() as session:
        from shoploop.sync._state import customers_of

        assert customers_of(session, "shop", [shop_id]) == {}
