"""Crash safety of ``shoploop sync customers`` (issue 6): a run is killed with SIGKILL at chosen
points — while it imports, with a batch recorded but not sent, with a batch applied but its
answer not seen — and resumed each time; the last run finishes. Then every shop customer must
hold exactly what an uninterrupted run gives it, the store's ``sync_target_state`` must say so,
and no value may have been sent twice (the emulators count every write per customer and key).

The kill points are exact, not raced: the ``kill_switch`` holds the chosen request in the
emulator (applied or not) and parks every later one, and the test kills the run there. The
first rounds each sync one shop (``--to``), so what remains for the next round's point is
known and every point is reached whatever the machine's speed; the last rounds sync both shops
and are killed in the WooCommerce import, which every run reads in full (its API has no
modified-after filter for customers), while the Shopify pipeline is wherever it got to.

The reference — what an uninterrupted run produces — is computed from the seed: the shops hold
the same demo people as the ERP, so each shop customer must end with the ERP's
``customer_group``, its ``sales_rep`` in lower case and its customer number (the link
attribute); a value is written exactly once where the seed differs from that and never
elsewhere — stricter than comparing write totals with a second, uninterrupted run, and without
the cost of one.

Sizes: WooCommerce holds all 1,500 customers (15 pages, about 9 write batches), Shopify 400 of
them (the others are reported unmatched there; about a dozen ``metafieldsSet`` calls) — enough
for several requests of each kind per run, which is all the kill points need.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shoploop import load_plugins
from shoploop.demo import SYNC_MAPPING
from shoploop.demo_data import DemoMerchant
from shoploop.hooks import EmulatorOptions
from shoploop.store import Store, SyncBatch, SyncTargetState

CUSTOMERS = 1_500
SHOP_CUSTOMERS = 400
SEED = 61
GROUPS = ("retail", "trade", "key_account", "standard")
REPS = ("Reto Ammann", "Oliver Seidel", "Thomas Gruber", "Elif Demir", "Sandra Kühn")
TARGET_KEYS = {"shop": {"customer_group": "customer_group", "sales_rep": "sales_rep",
                        "customer_number": "customer_number"},
               "woo": {"customer_group": "customer_group", "sales_rep": "rep",
                       "customer_number": "customer_number"}}

MAPPING = SYNC_MAPPING


@dataclass
class World:
    tmp: Path
    emulators: dict[str, Any]
    env: dict[str, str]
    store: Store
    expected: dict[str, dict[str, dict[str, str]]]   # target → customer id → key → value
    seeded: dict[str, dict[str, dict[str, Any]]]     # target → customer id → key → seed value
    timings: dict[str, float] = field(default_factory=dict)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        # stderr to a file: a run blocked on a full pipe would never reach its kill point.
        with (self.tmp / "runs.err").open("ab") as err:
            return subprocess.Popen([sys.executable, "-m", "shoploop", "sync", "customers",
                                     "--json", *args], cwd=self.tmp, env=self.env,
                                    stdout=subprocess.PIPE, stderr=err)


def _seed_customers() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the shops' customers, the ERP's): the same demo people. The ERP moved a quarter of them
    to another customer group and gave a quarter a new sales rep; the shops already carry the
    ERP's customer number (the link attribute) for 80 % — linked by an earlier run — so the
    first run writes a few values per shop customer, not all of them (write time)."""
    demo = [c if isinstance(c, dict) else c.model_dump(mode="json")
            for c in DemoMerchant(seed=SEED, customers=CUSTOMERS).iter_customers()]
    pick = random.Random(SEED)
    shops, erp = [], []
    for customer in demo:
        attributes = dict(customer.get("attributes") or {})
        if pick.random() < 0.25:
            attributes["customer_group"] = pick.choice(GROUPS)
        if pick.random() < 0.25:
            attributes["sales_rep"] = pick.choice(REPS)
        erp.append({**customer, "attributes": attributes})
        held = dict(customer.get("attributes") or {})
        if pick.random() < 0.8:
            held["customer_number"] = customer["id"]  # the ERP's number ("No")
        shops.append({**customer, "attributes": held})
    return shops, erp


@contextmanager
def running_world(tmp_path: Path) -> Iterator[World]:
    """Seeded emulators, a config naming them and a migrated SQLite store in ``tmp_path``."""
    started = time.perf_counter()
    host = load_plugins()
    factories = host.emulators.emulators
    shops, erp_customers = _seed_customers()
    erp = factories["erp"].factory(EmulatorOptions(customers=0, seed=SEED))
    erp.load(customers=erp_customers)
    shop = factories["shopify"].factory(EmulatorOptions(
        customers=0, seed=SEED, extra={"bucket": "50000", "restore_rate": "50000"}))
    shop.data.load(customers=shops[:SHOP_CUSTOMERS])
    woo = factories["woocommerce"].factory(EmulatorOptions(customers=0, seed=SEED))
    woo.data.seed(shops, [], [])
    emulators = {"erp": erp, "shop": shop, "woo": woo}
    for emulator in emulators.values():
        emulator.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
        blocks = [f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n', MAPPING]
        for name, emulator in emulators.items():
            blocks.append(emulator.connection_block(name))
            env.update(emulator.environment())
        (tmp_path / "shoploop.toml").write_text("\n".join(blocks), encoding="utf-8")
        store = Store(f"sqlite:///{tmp_path / 'store.db'}")
        store.upgrade()
        world = World(tmp_path, emulators, env, store, *_reference(emulators))
        world.timings["setup"] = time.perf_counter() - started
        yield world
    finally:
        for emulator in emulators.values():
            emulator.stop()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with running_world(tmp_path) as running:
        yield running


# -- what the systems hold -----------------------------------------------------------------------

def _erp_values(erp: Any) -> dict[str, dict[str, str | None]]:
    """e-mail → what each shop must end with: the ERP's group, its rep in lower case and its
    customer number (the link attribute)."""
    out: dict[str, dict[str, str | None]] = {}
    for _key, row in erp.tables["Customer"].rows():
        email = str(row["E_Mail"]).lower()
        assert email not in out, f"the seed must not share e-mails ({email})"
        rep = row.get("Salesperson_Code")
        out[email] = {"customer_group": row.get("Customer_Posting_Group"),
                      "sales_rep": rep.lower() if rep else None, "customer_number": row["No"]}
    return out


def _shop_values(shop: Any) -> dict[str, dict[str, Any]]:
    """Shopify customer (legacy id) → its shoploop metafields and e-mail."""
    with shop.data.lock:
        return {c["legacyResourceId"]: {"email": str(c["email"]).lower(), **{
            key: m["value"] for (ns, key), m in c["_metafields"].items() if ns == "shoploop"}}
            for c in shop.data.customers.values()}


def _woo_values(woo: Any) -> dict[str, dict[str, Any]]:
    """WooCommerce customer (id) → its shoploop_* meta (without the prefix) and e-mail."""
    with woo.data.lock:
        return {str(number): {"email": str(c["email"]).lower(), **{
            m["key"].removeprefix("shoploop_"): m["value"] for m in c["meta_data"]
            if m["key"].startswith("shoploop_")}} for number, c in woo.data.customers.items()}


def _holdings(emulators: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """target → customer id → {target key: value} of the keys the mapping writes."""
    read = {"shop": _shop_values(emulators["shop"]), "woo": _woo_values(emulators["woo"])}
    return {target: {ext: {key: values.get(key) for key in TARGET_KEYS[target].values()}
                     | {"email": values["email"]} for ext, values in customers.items()}
            for target, customers in read.items()}


def _reference(emulators: dict[str, Any]) -> tuple[dict[str, dict[str, dict[str, Any]]],
                                                   dict[str, dict[str, dict[str, Any]]]]:
    """(expected end state, seeded state), both target → customer id → key → value."""
    master = _erp_values(emulators["erp"])
    seeded = _holdings(emulators)
    expected = {target: {ext: {TARGET_KEYS[target][key]: value
                               for key, value in master[held["email"]].items()}
                         for ext, held in customers.items()}
                for target, customers in seeded.items()}
    return expected, seeded


def _writes(emulators: dict[str, Any]) -> dict[str, Counter[tuple[str, str]]]:
    """target → (customer id, key) → how often a write call set it."""
    shop, woo = emulators["shop"].data, emulators["woo"].data
    return {"shop": Counter({(owner.rsplit("/", 1)[1], key): n
                             for (owner, ns, key), n in shop.metafield_writes.items()
                             if ns == "shoploop"}),
            "woo": Counter({(str(number), key.removeprefix("shoploop_")): n
                            for (number, key), n in woo.meta_sent.items()})}


# -- the kills ---------------------------------------------------------------------------------

ROUNDS = [
    # (the run's targets, the kill point: connection, request kind, nth request of the run,
    # held before or after it is applied)
    (["--to", "shop"], ("shop", "write", 1, "before")),  # a batch recorded, never sent
    (["--to", "shop"], ("shop", "write", 2, "after")),   # a batch applied, its answer lost
    (["--to", "woo"], ("woo", "write", 1, "after")),
    (["--to", "woo"], ("woo", "write", 2, "before")),
    ([], ("woo", "read", 4, "before")),                   # both shops: in the import
    ([], ("woo", "read", 12, "after")),
]
"""Every point is reachable: a run reads all of WooCommerce's pages, and the write points
consume at most two of a shop's batches before the next one is aimed at it."""


def test_sigkill_at_chosen_points_then_resume_reaches_the_reference(
        world: World, kill_switch: Any, confirmed_once: Any) -> None:
    switch = kill_switch(world.emulators)
    started = time.perf_counter()
    for targets, (connection, kind, nth, when) in ROUNDS:
        applied = switch.applied[(connection, kind)]
        switch.arm(connection, kind, nth, when)
        process = world.start(*targets)
        reached = switch.kill(process)
        process.communicate()
        assert reached, f"the run ended before {kind} {nth} to {connection}: " \
                        f"{(world.tmp / 'runs.err').read_text()[-2000:]}"
        assert process.returncode == -signal.SIGKILL
        # What the run got applied of that kind: the requests before the point, and the held
        # one when it was held after being applied — exactly, at any speed.
        assert switch.applied[(connection, kind)] - applied == nth - (when == "before")
    world.timings["killed runs"] = time.perf_counter() - started
    started = time.perf_counter()
    switch.resume()
    process = world.start()
    out, _ = process.communicate()
    world.timings["last run"] = time.perf_counter() - started
    print("crash test seconds:", {k: round(v, 1) for k, v in world.timings.items()})
    assert process.returncode == 0, (world.tmp / "runs.err").read_text()[-3000:]
    report = json.loads(out)
    assert report["ok"] and not report["errors"], report
    assert report["targets"]["woo"]["matched"] == CUSTOMERS
    assert report["targets"]["shop"]["matched"] == SHOP_CUSTOMERS

    # Every customer of both shops holds what an uninterrupted run gives it.
    held = _holdings(world.emulators)
    for target in ("shop", "woo"):
        final = {ext: {k: v for k, v in values.items() if k != "email"}
                 for ext, values in held[target].items()}
        wrong = {ext: (final[ext], want) for ext, want in world.expected[target].items()
                 if final[ext] != want}
        assert not wrong, f"{target}: {len(wrong)} customers differ, e.g. " \
                          f"{list(wrong.items())[:3]}"

    # Each value was written once where the seed differed, never again and nowhere else: no
    # confirmed batch was re-sent, and an interrupted one only where it had not landed.
    writes = _writes(world.emulators)
    for target in ("shop", "woo"):
        wanted = Counter({(ext, key): 1 for ext, values in world.expected[target].items()
                          for key, value in values.items()
                          if world.seeded[target][ext][key] != value})
        assert wanted, "the seed must leave something to write"
        extra = writes[target] - wanted
        missing = wanted - writes[target]
        assert not extra and not missing, \
            f"{target}: written too often {list(extra.items())[:5]}, never {list(missing)[:5]}"

    # The store agrees: the target state is the reference, every batch was settled (confirmed,
    # or interrupted by a kill and planned again), and no change was confirmed twice.
    with world.store.session() as session:
        for target in ("shop", "woo"):
            state = dict(session.execute(select(SyncTargetState.external_id, SyncTargetState.sent)
                                         .where(SyncTargetState.connection == target)).all())
            assert state == world.expected[target], target
        batches = list(session.scalars(select(SyncBatch)))
    statuses = Counter(b.status for b in batches)
    assert set(statuses) <= {"confirmed", "interrupted"}, statuses
    assert statuses["interrupted"] >= 1, "some kill must have hit a batch in flight"
    confirmed_once(batches)

