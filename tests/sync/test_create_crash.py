"""Creating missing customers survives SIGKILL: ``shoploop sync customers`` with
``create_missing`` is killed at chosen points of its creates and writes, and resumed each time.
At the end every ERP customer is exactly one customer of each shop (no e-mail twice, none
missing), holding the ERP's values, and the store binds each of them to its ERP customer.

ERP: 120 demo customers; Shopify holds the first 40 of them, WooCommerce the first 60, so 80
and 60 are created, 10 per request. The kill points are exact (``KillSwitch``: the emulator
holds the chosen request, the test kills the run there), so each round's effect on the
target it aims at is known — the test asserts it — whatever the machine's speed:

- between create and bind: a create request applied, its answer (the new ids) never seen;
- between commits: a batch recorded as intent, its request never applied;
- mid-batch: a write of the new customers' values applied, never confirmed;
- in a run over both shops, while the other shop's pipeline is wherever it is.
"""

from __future__ import annotations

import json
import os
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
from shoploop.store import IdentityBinding, Store

CUSTOMERS, IN_SHOPIFY, IN_WOO = 120, 40, 60
BATCH = 10
SEED = 67
Start = Callable[..., tuple["subprocess.Popen[bytes]", Path]]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[dict[str, Any], Start]]:
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
        extra = f"customer_batch_size = {BATCH}\n" if name != "erp" else ""
        blocks.append(emulator.connection_block(name) + extra)
        env.update(emulator.environment())
    (tmp_path / "shoploop.toml").write_text("\n".join(blocks), encoding="utf-8")
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.upgrade()
    runs = iter(range(100))

    def start(*args: str) -> tuple[subprocess.Popen[bytes], Path]:
        # stderr to a file: a run blocked on a full pipe would never reach its kill point.
        path = tmp_path / f"run{next(runs)}.err"
        with path.open("wb") as err:
            return subprocess.Popen([sys.executable, "-m", "shoploop", "sync", "customers",
                                     "--json", *args], cwd=tmp_path, env=env,
                                    stdout=subprocess.PIPE, stderr=err), path

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


ROUNDS = [
    # (the run's targets, the kill point: connection, kind, nth request, held before/after it
    # is applied; how many customers the run creates in that connection)
    (["--to", "shop"], ("shop", "create", 2, "after"), 2 * BATCH),
    (["--to", "woo"], ("woo", "create", 1, "after"), BATCH),
    (["--to", "woo"], ("woo", "write", 1, "before"), None),  # a run creates, then writes
    ([], ("shop", "create", 1, "before"), 0),
    ([], ("shop", "write", 1, "after"), None),
]
"""Each round's point is reachable whatever the previous rounds' other shop did: it is aimed at
a shop whose remaining creates and writes follow from the rounds before."""


def test_sigkill_between_create_and_bind_never_creates_a_customer_twice(
        world: tuple[dict[str, Any], Start], tmp_path: Path, kill_switch: Any) -> None:
    emulators, start = world
    switch = kill_switch(emulators)
    counts = {"shop": lambda: len(emulators["shop"].data.customers),
              "woo": lambda: len(emulators["woo"].data.customers)}
    for targets, (connection, kind, nth, when), created in ROUNDS:
        before = counts[connection]()
        applied = switch.applied[(connection, kind)]
        switch.arm(connection, kind, nth, when)
        process, err = start(*targets)
        assert switch.kill(process), f"the run ended before {kind} {nth} to {connection}: " \
                                     f"{err.read_text()[-2000:]}"
        # The requests of that kind the run got applied: those before the kill point, and
        # the held one when it was held after being applied.
        assert switch.applied[(connection, kind)] - applied == nth - (when == "before")
        if created is not None:
            assert counts[connection]() - before == created, (connection, kind, nth, when)

    switch.resume()
    process, err = start()
    out, _ = process.communicate()
    assert process.returncode == 0, err.read_text()[-3000:]
    report = json.loads(out)
    assert report["ok"] and not report["errors"], report
    # The last kill left Shopify values unwritten; this run writes them and creates no one.
    assert report["targets"]["shop"]["written"] > 0, report["targets"]
    assert all(report["targets"][t]["created"] == 0 for t in ("shop", "woo")), report["targets"]

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
