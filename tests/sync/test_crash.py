"""Crash safety of ``shoploop sync customers`` (issue 6): a run over an ERP of 10,000
customers is killed with SIGKILL at 20 random points — during the imports, the planning and
the writes — and resumed each time; the 21st run finishes. Then every shop customer must hold
exactly what an uninterrupted run gives it, the store's ``sync_target_state`` must say so, and
no value may have been sent twice (the emulators count every write per customer and key).

The reference — what an uninterrupted run produces — is computed from the seed: the shops hold
the same demo people as the ERP, so each shop customer must end with the ERP's
``customer_group``, its ``sales_rep`` in lower case and its customer number (the link
attribute); a value is written exactly once where the seed differs from that and never
elsewhere — stricter than comparing write totals with a second, uninterrupted run, and without
the cost of one.

Sizes: WooCommerce holds all 10,000 customers, Shopify 2,000 of them (the others are reported
unmatched there). The Shopify emulator sorts every customer for each page it serves, 16
customers a page, so a full read of 10,000 takes over a minute; this test's budget is ~150 s.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shoploop import load_plugins
from shoploop.demo import SYNC_MAPPING
from shoploop.demo_data import DemoMerchant
from shoploop.hooks import EmulatorOptions
from shoploop.store import Store
from shoploop.store._schema import SyncBatch, SyncRunRecord, SyncTargetState

CUSTOMERS = 10_000
SHOP_CUSTOMERS = 2_000
KILLS = 20
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

    def requests(self) -> int:
        return sum(int(e.stats.get("requests")) for e in self.emulators.values())

    def count(self, model: Any, *where: Any) -> int:
        with self.store.session() as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where))
                       or 0)

    def start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "shoploop", "sync", "customers", "--json"],
                                cwd=self.tmp, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)


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

def _finished_imports(world: World) -> int:
    return world.count(SyncRunRecord, SyncRunRecord.job == "mirror.customers",
                       SyncRunRecord.status != "running")


def _write_calls(world: World) -> int:
    return int(world.emulators["shop"].stats.get("calls.metafieldsSet")) + \
        int(world.emulators["woo"].stats.get("batch_requests"))


def _kill_point(world: World, phase: str, pick: random.Random) -> Callable[[], bool]:
    """When to kill the run just started: after some of its import requests, as soon as its
    imports are done (it is planning), or after some of its write calls."""
    if phase == "import":
        # Every run reads all of WooCommerce's customers (its API has no modified_after for
        # customers: the adapter compares hashes), CUSTOMERS / 100 pages: always reached.
        reads = world.requests() + pick.randint(1, CUSTOMERS // 100 - 5)
        return lambda: world.requests() >= reads
    if phase == "planning":
        imports = _finished_imports(world) + 3
        return lambda: _finished_imports(world) >= imports
    # Few enough that the seven write kills together stay below the job's write calls.
    writes = _write_calls(world) + pick.randint(1, max(2, CUSTOMERS // 800))
    return lambda: _write_calls(world) >= writes


def test_sigkill_at_20_random_points_then_resume_reaches_the_reference(
        world: World, wait_until: Callable[..., bool]) -> None:
    pick = random.Random(SEED)
    phases = ["import"] * 7 + ["planning"] * 6 + ["write"] * 7
    pick.shuffle(phases)
    started = time.perf_counter()
    killed: list[str] = []
    for phase in phases:
        process = world.start()
        reached = wait_until(_kill_point(world, phase, pick), process)
        if reached:
            os.kill(process.pid, signal.SIGKILL)
        _out, err = process.communicate()
        assert reached, f"the run ended before the {phase} kill point: {err.decode()[-2000:]}"
        assert process.returncode == -signal.SIGKILL
        killed.append(phase)
    world.timings["killed runs"] = time.perf_counter() - started
    started = time.perf_counter()
    process = world.start()
    out, err = process.communicate()
    world.timings["last run"] = time.perf_counter() - started
    print("crash test seconds:", {k: round(v, 1) for k, v in world.timings.items()})
    assert process.returncode == 0, err.decode()[-3000:]
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
    confirmed: dict[tuple[str, str, str, str], int] = {}
    for batch in batches:
        if batch.status != "confirmed":
            continue
        for item in batch.changes["items"]:
            change = (batch.connection, item["customer"], item["key"], json.dumps(item["new"]))
            assert change not in confirmed, f"{change} confirmed by batches " \
                                            f"{confirmed[change]} and {batch.id}"
            confirmed[change] = batch.id
    assert Counter(killed) == Counter(phases)
