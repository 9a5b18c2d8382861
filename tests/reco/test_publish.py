"""``shoploop reco publish`` end to end: the Shopify and WooCommerce emulators on real loopback
sockets, their products and orders imported into the store (SQLite and PostgreSQL), a model
built from them, and the lists published into the emulators' native fields."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from shoploop import load_plugins
from shoploop._config import load_config
from shoploop._connections import Connections
from shoploop._plugins import PluginHost
from shoploop.cli._app import build_app
from shoploop.hooks import EmulatorOptions, LineItem, Order, RecommendationRequest
from shoploop.reco import load_model, recommend
from shoploop.reco._publish import _PG_PUBLISH_LOCK, JOB, KIND, PublishOptions, publish
from shoploop.store import (
    INTENT_INTERRUPTED,
    Store,
    SyncBatch,
    exclusive_lock,
    recent_runs,
    upsert_orders,
)

NAMESPACE = "shopify--discovery--product_recommendation"


@dataclass
class Shops:
    host: PluginHost
    store: Store
    config: Path
    shop: Any
    woo: Any

    def cli(self, *args: str) -> Any:
        return CliRunner().invoke(build_app(self.host), ["-c", str(self.config), *args])

    def publish(self, *args: str) -> dict[str, Any]:
        result = self.cli("reco", "publish", "--json", *args)
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def woo_lists(self) -> dict[str, dict[str, list[str]]]:
        with self.woo.data.lock:
            return {str(n): {"cross_sell_ids": [str(i) for i in p["cross_sell_ids"]],
                             "upsell_ids": [str(i) for i in p["upsell_ids"]]}
                    for n, p in self.woo.data.products.items()}

    def shop_lists(self) -> dict[str, dict[str, list[str]]]:
        found: dict[str, dict[str, list[str]]] = {}
        with self.shop.data.lock:
            for gid, product in self.shop.data.products.items():
                found[gid.rsplit("/", 1)[1]] = {
                    key: [v.rsplit("/", 1)[1] for v in json.loads(m["value"])] if
                    (m := product["_metafields"].get((NAMESPACE, key))) else []
                    for key in ("complementary_products", "related_products")}
        return found

    def writes(self) -> dict[str, Counter[str]]:
        """product id → how often a write call set one of its lists, per platform."""
        shop = Counter({owner.rsplit("/", 1)[1]: n for (owner, ns, _k), n
                        in self.shop.data.metafield_writes.items() if ns == NAMESPACE})
        return {"shop": shop, "woo": Counter({str(n): c for n, c
                                              in self.woo.data.product_list_writes.items()})}


@pytest.fixture
def shops(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shops]:
    """Both emulators over the demo merchant, imported and a model built (min_support 2)."""
    host = load_plugins(strict=True, environ={
        "SHOPLOOP_LOAD_PLUGINS": "bought_together,buy_again,shopify,woocommerce"})
    started = {}
    for kind, name, extra in (("shopify", "shop", {"bucket": "50000",
                                                   "restore_rate": "50000"}),
                              ("woocommerce", "woo", {})):
        emulator = host.emulators.emulators[kind].factory(
            EmulatorOptions(customers=60, seed=3, extra=extra))
        started[name] = emulator.start() or emulator
        for key, value in emulator.environment().items():
            monkeypatch.setenv(key, value)
    config = tmp_path / "shoploop.toml"
    config.write_text(f'[store]\nurl = "{store.url}"\n\n[reco]\nmin_support = 2\n\n' +
                      "\n".join(e.connection_block(n) for n, e in started.items()))
    world = Shops(host, store, config, started["shop"], started["woo"])
    try:
        for args in (("import", "products"), ("import", "orders"), ("reco", "build")):
            result = world.cli(*args)
            assert result.exit_code == 0, result.output
        yield world
    finally:
        for emulator in started.values():
            emulator.stop()


def _expected(world: Shops) -> dict[str, dict[str, dict[str, list[str]]]]:
    """connection → product → the lists the lookup API gives, mapped by the connector."""
    model = load_model(world.store)
    config = load_config(world.config, world.host.connectors)
    expected: dict[str, dict[str, dict[str, list[str]]]] = {}
    with Connections(config, world.host.connectors) as connections:
        for name in ("shop", "woo"):
            connector = connections[name]
            expected[name] = {
                pid: connector.recommendation_fields(recommend(
                    world.host, model, RecommendationRequest(
                        connection=name, product_id=pid, placement="product_page", k=10)))
                for pid in model.product_records[name]}
    return expected


def test_dry_run_diffs_then_publish_writes_changed_lists_once(shops: Shops) -> None:
    before = (shops.shop_lists(), shops.woo_lists())
    dry = shops.publish("--dry-run")
    assert dry["run_id"] is None and dry["dry_run"]
    assert (shops.shop_lists(), shops.woo_lists()) == before  # a dry run writes nothing
    assert shops.writes() == {"shop": Counter(), "woo": Counter()}
    expected = _expected(shops)
    for name in ("shop", "woo"):
        changed = {pid for pid, lists in expected[name].items() if any(lists.values())}
        assert changed, f"the demo merchant gives {name} no recommendations to publish"
        assert dry["targets"][name]["changed"] == len(changed)
        assert {row["product_id"] for row in dry["diff"] if row["connection"] == name} == \
            changed
    row = dry["diff"][0]
    assert row["old"] == [] and row["new"] == expected[row["connection"]][row["product_id"]][
        row["field"]]
    table = shops.cli("reco", "publish", "--dry-run")
    assert table.exit_code == 0 and "dry run" in table.stdout
    assert f"{row['connection']} {row['product_id']} {row['field']}: [] → " \
           f"[{', '.join(row['new'])}]" in table.stdout

    done = shops.publish()
    for name in ("shop", "woo"):
        target = done["targets"][name]
        assert target["written"] == target["changed"] == dry["targets"][name]["changed"]
        assert target["failed"] == 0
    # The platforms hold exactly what the lookup API answers, in its order.
    held = {"shop": shops.shop_lists(), "woo": shops.woo_lists()}
    for name in ("shop", "woo"):
        for pid, lists in expected[name].items():
            assert held[name][pid] == lists, (name, pid)
    writes = shops.writes()
    assert writes["woo"] and max(writes["woo"].values()) == 1
    assert writes["shop"] and max(writes["shop"].values()) <= 2  # two metafields at most

    again = shops.publish()  # a re-run writes nothing
    assert all(t["changed"] == t["written"] == t["batches"] == 0
               for t in again["targets"].values())
    assert shops.writes() == writes


def test_only_changed_lists_are_written(shops: Shops) -> None:
    shops.publish()
    writes, before = shops.writes(), _expected(shops)
    # New orders make two products of each shop a strong pair; the rebuilt model changes the
    # lists of some products (those two, and the products whose lists they enter or leave).
    with shops.store.session() as session:
        for name in ("shop", "woo"):
            first, second = sorted(before[name])[-2:]
            upsert_orders(session, name, [Order(
                id=f"pair-{n}", customer_id=None, placed_at=datetime.now(UTC),
                status="paid", lines=[LineItem(product_id=pid, name=pid, quantity=1,
                                               unit_price=Decimal("10"))
                                      for pid in (first, second)]) for n in range(12)])
    assert shops.cli("reco", "build").exit_code == 0
    after = _expected(shops)
    changed = {name: {pid for pid in after[name] if after[name][pid] != before[name][pid]}
               for name in after}
    assert changed["shop"] and changed["woo"]
    assert set(after["woo"]) - changed["woo"]  # and some stay as they are

    dry = shops.publish("--dry-run")
    for name in ("shop", "woo"):
        assert {r["product_id"] for r in dry["diff"] if r["connection"] == name} == \
            changed[name]
    done = shops.publish()
    now = shops.writes()
    for name in ("shop", "woo"):
        assert done["targets"][name]["written"] == len(changed[name])
        # written again: exactly the changed products; every other product untouched
        assert {pid for pid in now[name] if now[name][pid] != writes[name][pid]} == \
            changed[name]
    held = {"shop": shops.shop_lists(), "woo": shops.woo_lists()}
    assert all(held[name][pid] == after[name][pid] for name in after for pid in after[name])


def test_a_list_edited_on_the_platform_is_kept_until_ours_changes(shops: Shops) -> None:
    """The comparison base is what shoploop last published: a merchant's hand edit stays."""
    shops.publish()
    product = next(p for p, lists in shops.woo_lists().items() if lists["cross_sell_ids"])
    with shops.woo.data.lock:
        shops.woo.data.products[int(product)]["cross_sell_ids"] = []
    again = shops.publish()
    assert again["targets"]["woo"]["changed"] == 0
    assert shops.woo_lists()[product]["cross_sell_ids"] == []


def test_a_first_publish_compares_with_the_lists_woocommerce_held_at_the_import(
        shops: Shops) -> None:
    """Never published: the mirror's ``upsell_ids`` / ``cross_sell_ids`` are the base, so
    lists already there are no change, and the dry run shows what would be replaced."""
    expected = _expected(shops)["woo"]
    same, other = [pid for pid, lists in expected.items() if lists["cross_sell_ids"]][:2]
    with shops.woo.data.lock:
        shops.woo.data.products[int(same)].update(
            {k: [int(i) for i in v] for k, v in expected[same].items()})
        shops.woo.data.products[int(other)]["cross_sell_ids"] = [int(same)]
    for args in (("import", "products", "--full"), ("reco", "build")):
        assert shops.cli(*args).exit_code == 0
    dry = shops.publish("--dry-run", "--to", "woo")
    rows = {(r["product_id"], r["field"]): r for r in dry["diff"]}
    assert not any(pid == same for pid, _field in rows)
    assert rows[(other, "cross_sell_ids")]["old"] == [same]
    done = shops.publish("--to", "woo")["targets"]["woo"]
    assert done["changed"] == done["written"] == dry["targets"]["woo"]["changed"]
    assert shops.writes()["woo"][same] == 0 and shops.writes()["woo"][other] == 1


def test_one_publishing_run_at_a_time(shops: Shops) -> None:
    with exclusive_lock(shops.store, key=_PG_PUBLISH_LOCK, file_suffix="reco-publish-lock",
                        busy=RuntimeError):
        busy = shops.cli("reco", "publish")
        assert busy.exit_code == 1 and "another `shoploop reco publish` is running" in \
            busy.output
        assert shops.cli("reco", "publish", "--dry-run").exit_code == 0  # reads only
    assert shops.writes() == {"shop": Counter(), "woo": Counter()}
    assert shops.cli("reco", "publish").exit_code == 0


def test_unknown_target_is_a_usage_error(shops: Shops) -> None:
    result = shops.cli("reco", "publish", "--to", "erp")
    assert result.exit_code == 2 and "no connection 'erp'" in result.output
    only = shops.publish("--to", "woo", "--dry-run")
    assert list(only["targets"]) == ["woo"]


class _Killed(BaseException):
    """Stands for a SIGKILL right after the platform applied a batch: nothing after it runs."""


def test_a_batch_sent_but_not_recorded_is_resumed_without_a_second_write(
        shops: Shops) -> None:
    config = load_config(shops.config, shops.host.connectors)
    model = load_model(shops.store)
    with Connections(config, shops.host.connectors) as connections:
        woo = connections["woo"]
        real = woo.publish_recommendation_lists
        calls: list[int] = []

        def dies_after_the_second(lists: Any) -> Any:
            results = real(lists)  # applied on the platform …
            calls.append(len(lists))
            if len(calls) == 2:
                raise _Killed  # … and the process dies before recording it
            return results

        woo.publish_recommendation_lists = dies_after_the_second
        woo.attribute_batch_size = 10  # small batches: the kill lands in the second
        with pytest.raises(_Killed):
            publish(shops.host, shops.store, connections, model,
                    PublishOptions(targets=["woo"]))
    with shops.store.session() as session:
        pending = session.scalars(select(SyncBatch).where(SyncBatch.kind == KIND)).all()
        assert sorted(b.status for b in pending) == ["confirmed", "pending"]
    written_before = sum(shops.writes()["woo"].values())
    assert written_before == calls[0] + calls[1]

    resumed = shops.publish("--to", "woo")["targets"]["woo"]
    assert resumed["resumed_batches"] == 1
    # The killed batch's products are planned again and found already holding their lists.
    assert resumed["unchanged"] == calls[1] and resumed["failed"] == 0
    writes = shops.writes()["woo"]
    assert max(writes.values()) == 1  # no product's lists written twice
    expected = _expected(shops)["woo"]
    assert sum(writes.values()) == sum(1 for lists in expected.values() if any(lists.values()))
    held = shops.woo_lists()
    assert all(held[pid] == lists for pid, lists in expected.items())  # nothing lost
    with shops.store.session() as session:
        statuses = Counter(b.status for b in session.scalars(
            select(SyncBatch).where(SyncBatch.kind == KIND)))
    assert statuses[INTENT_INTERRUPTED] == 1 and statuses["pending"] == 0


def test_sigkill_during_publish_resumes_without_a_lost_or_repeated_write(
        shops: Shops, kill_switch: Any) -> None:
    """Real processes killed at exact points (the sync's kill switch), then resumed."""
    switch = kill_switch({"shop": shops.shop, "woo": shops.woo})
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    env.update(**shops.shop.environment(), **shops.woo.environment(),
               SHOPLOOP_LOAD_PLUGINS="bought_together,buy_again,shopify,woocommerce",
               NO_COLOR="1", COLUMNS="200")

    def start(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "shoploop", "-c", str(shops.config),
                                 "reco", "publish", "--json", *args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    # Shopify after its 2nd metafieldsSet was applied, WooCommerce after its products/batch
    # was applied, then Shopify again as the run resuming the first one sends its first
    # batch (recorded, never applied).
    for target, nth, when in (("shop", 2, "after"), ("woo", 1, "after"),
                              ("shop", 1, "before")):
        switch.arm(target, "write", nth, when)
        process = start("--to", target)
        reached = switch.kill(process)
        _out, err = process.communicate()
        assert reached, f"the publish to {target} ended before write {nth}: {err.decode()}"
        assert process.returncode == -signal.SIGKILL
    switch.resume()
    applied = shops.writes()
    assert applied["woo"] and applied["shop"]  # the killed runs did write

    process = start()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()
    resumed = json.loads(out)["targets"]
    assert resumed["shop"]["resumed_batches"] == resumed["woo"]["resumed_batches"] == 1
    assert resumed["shop"]["failed"] == resumed["woo"]["failed"] == 0
    # Nothing lost: the platforms hold every list; nothing repeated: each list written once.
    expected = _expected(shops)
    held = {"shop": shops.shop_lists(), "woo": shops.woo_lists()}
    assert all(held[name][pid] == expected[name][pid] for name in expected
               for pid in expected[name])
    writes = shops.writes()
    assert max(writes["woo"].values()) == 1
    assert all(n == sum(1 for ids in expected["shop"][pid].values() if ids)
               for pid, n in writes["shop"].items())
    again = shops.publish()
    assert all(t["batches"] == 0 for t in again["targets"].values())
    with shops.store.session() as session:
        runs = Counter(r.status for r in recent_runs(session, job=JOB))
    assert runs == {"interrupted": 3, "succeeded": 2}  # the killed runs, found dead
