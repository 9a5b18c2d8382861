"""Creating missing customers survives SIGKILL: ``shoploop sync customers`` with
``create_missing`` is killed right after some of its creates landed — before the chunk's
bindings are committed — again and again, and resumed each time. At the end every ERP
customer is exactly one customer of each shop (no e-mail twice, none missing), holding the
ERP's values, and the store binds each of them to its ERP customer.

ERP: 300 demo customers; Shopify holds the first 100 of them, WooCommerce the first 150, so
200 and 150 are created. Both connections create 10 customers per request, so the creates of a
run span many requests and the kills fall between them.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shoploop import load_plugins
from shoploop.demo import SYNC_MAPPING
from shoploop.demo_data import DemoMerchant
from shoploop.hooks import EmulatorOptions
from shoploop.store import Store
from shoploop.store._schema import IdentityBinding

CUSTOMERS, IN_SHOPIFY, IN_WOO = 300, 100, 150
KILLS = 6
SEED = 67


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[dict[str, Any], Callable[[], Any]]]:
    host = load_plugins()
    factories = host.emulators.emulators
    demo = [c if isinstance(c, dict) else c.model_dump(mode="json")
            for c in DemoMerchant(seed=SEED, customers=CUSTOMERS).iter_customers()]
    erp = factories["erp"].factory(EmulatorOptions(customers=0, seed=SEED))
    erp.load(customers=demo)
    shop = factories["shopify"].factory(EmulatorOptions(
        customers=0, seed=SEED, extra={"bucket": "50000", "restore_rate": "50000"}))
    shop.data.load(customers=demo[:IN_SHOPIFY])
    woo = factories["woocommerce"].factory(EmulatorOptions(customers=0, seed=SEED))
    woo.data.seed(demo[:IN_WOO], [], [])
    emulators = {"erp": erp, "shop": shop, "woo": woo}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    blocks = [f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n',
              SYNC_MAPPING.replace("[sync]\n", '[sync]\ncreate_missing = ["shop", "woo"]\n')]
    for name, emulator in emulators.items():
        emulator.start()
        extra = "customer_batch_size = 10\n" if name != "erp" else ""
        blocks.append(emulator.connection_block(name) + extra)
        env.update(emulator.environment())
    (tmp_path / "shoploop.toml").write_text("\n".join(blocks), encoding="utf-8")
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.upgrade()

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "shoploop", "sync", "customers",
                                 "--json"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    try:
        yield emulators, start
    finally:
        for emulator in emulators.values():
            emulator.stop()


def _by_email(emulators: dict[str, Any], target: str) -> dict[str, list[dict[str, Any]]]:
    """e-mail → (id, shoploop values) of each customer of ``target`` holding it."""
    data = emulators[target].data
    found: dict[str, list[dict[str, Any]]] = {}
    with data.lock:
        for key, customer in data.customers.items():
            if target == "shop":
                ext = str(customer["legacyResourceId"])
                values = {k: m["value"] for (ns, k), m in customer["_metafields"].items()
                          if ns == "shoploop"}
            else:
                ext = str(key)
                values = {m["key"].removeprefix("shoploop_"): m["value"]
                          for m in customer["meta_data"] if m["key"].startswith("shoploop_")}
            found.setdefault(str(customer["email"]).lower(), []).append({"id": ext, **values})
    return found


def test_sigkill_between_create_and_bind_never_creates_a_customer_twice(
        world: tuple[dict[str, Any], Callable[[], Any]], tmp_path: Path,
        wait_until: Callable[..., bool]) -> None:
    emulators, start = world
    pick = random.Random(SEED)
    counts = {"shop": lambda: len(emulators["shop"].data.customers),
              "woo": lambda: len(emulators["woo"].data.customers)}
    killed = 0
    for round_ in range(KILLS):
        target = ("shop", "woo")[round_ % 2]
        left = CUSTOMERS - counts[target]()
        if left < 15:
            continue
        # At most a third of what is left, so every round still has creates to kill.
        at = counts[target]() + pick.randint(1, (left - 10) // 3)
        process = start()
        reached = wait_until(lambda t=target, a=at: counts[t]() >= a, process)
        if reached:
            os.kill(process.pid, signal.SIGKILL)
        _out, err = process.communicate()
        assert reached, f"the run ended before {at} {target} customers: {err.decode()[-2000:]}"
        killed += 1
    assert killed >= 4, "the kills must interrupt several runs"
    assert counts["shop"]() < CUSTOMERS or counts["woo"]() < CUSTOMERS

    process = start()
    out, err = process.communicate()
    assert process.returncode == 0, err.decode()[-3000:]
    report = json.loads(out)
    assert report["ok"] and not report["errors"], report

    erp_rows = {row["No"]: row for _key, row in emulators["erp"].tables["Customer"].rows()}
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store, store.session() as session:
        bindings = {(c, e): i for c, e, i in session.execute(select(
            IdentityBinding.connection, IdentityBinding.external_id,
            IdentityBinding.internal_id))}
    for target in ("shop", "woo"):
        held = _by_email(emulators, target)
        assert counts[target]() == CUSTOMERS, f"{target}: {counts[target]()} customers"
        twice = {email: [c["id"] for c in found] for email, found in held.items()
                 if len(found) > 1}
        assert not twice, f"{target}: created twice {list(twice.items())[:3]}"
        for number, row in erp_rows.items():
            (customer,) = held[str(row["E_Mail"]).lower()]
            rep = row.get("Salesperson_Code")
            assert customer.get("customer_number") == number, (target, customer)
            assert customer.get("customer_group") == row.get("Customer_Posting_Group")
            rep_key = "sales_rep" if target == "shop" else "rep"
            assert customer.get(rep_key) == (rep.lower() if rep else None), (target, customer)
            assert bindings[(target, customer["id"])] == bindings[("erp", number)]
