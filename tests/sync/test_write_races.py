"""Over the emulators: a value another user writes between our import and our write is never
overwritten — Shopify refuses our ``compareDigest`` (``STALE_OBJECT``), the sync reports the
change as a conflict in its summary and audit trail — and the writes read nothing before
writing (the digests come from the run's import)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from shoploop.plugins.shopify.emulator._store import metafield_for, now

MakeEnv = Callable[..., Any]


def test_a_shop_value_changed_between_import_and_write_is_a_conflict(make_env: MakeEnv
                                                                      ) -> None:
    env = make_env(customers=40)
    shop = env.shop
    run = shop.run
    victim: dict[str, str] = {}
    reads: list[list[str]] = []
    lock = threading.Lock()

    def another_admin_edits_first(query: str, variables: dict[str, Any],
                                  operation_name: str | None = None) -> dict[str, Any]:
        with lock:
            if query.startswith("mutation MetafieldsSet") and not victim:
                # The first write batch is on its way: an admin edits one of its customers now.
                first = variables["metafields"][0]
                owner, key = first["ownerId"], first["key"]
                with shop.data.lock:
                    customer = shop.data.customers[owner]
                    customer["_metafields"][("shoploop", key)] = metafield_for(
                        owner, "shoploop", key, "single_line_text_field", "set-by-an-admin",
                        now())
                victim.update(gid=owner, key=key)
            if query.startswith("query CurrentValues"):
                reads.append(list(variables["ids"]))
        return run(query, variables, operation_name)

    shop.run = another_admin_edits_first  # the emulator's handler calls it per request

    summary = env.run()

    counts = summary["targets"]["shop"]
    assert victim, "the sync sent no metafieldsSet"
    model_id = shop.data.source_ids[victim["gid"]]
    assert env.shop_values(victim["key"])[model_id] == "set-by-an-admin"
    assert counts["conflicts"] == 1 and counts["failed"] == 0
    assert counts["written"] == counts["changed"] - 1
    rows = env.erp_rows()
    shop_groups = env.shop_values("customer_group")
    assert all(shop_groups[n] == rows[n]["Customer_Posting_Group"] for n in shop_groups
               if n in rows and n != model_id and rows[n].get("Customer_Posting_Group"))
    # Nothing read before writing; after the refusal, only the refused customer.
    assert reads == [[victim["gid"]]]
    with env.store() as store, store.session() as session:
        from shoploop.sync._state import changes_of_run

        conflicts = changes_of_run(session, summary["run_id"], status="conflict")
    assert [(r.connection, r.customer_external_id, r.attr_key) for r in conflicts] == [
        ("shop", victim["gid"].rsplit("/", 1)[1], victim["key"])]
    assert "changed in Shopify" in (conflicts[0].message or "")
