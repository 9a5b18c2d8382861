"""Fixtures for the customer-attribute sync tests: the three emulators (ERP, Shopify,
WooCommerce) on real loopback sockets, a config file in ``tmp_path`` naming them plus a
``[sync]`` mapping, and helpers that read and edit the emulators' data directly — so the
tests check what the remote systems hold, not what the store believes they hold.

Test modules cannot import each other (``--import-mode=importlib``); they share this file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import delete, func, select

from shoploop import load_plugins
from shoploop._config import Config, load_config
from shoploop._connections import Connections
from shoploop._context import hook_context
from shoploop._plugins import PluginHost
from shoploop.demo import DERIVED_MAPPING, SYNC_MAPPING
from shoploop.hooks import EmulatorOptions
from shoploop.store import Store
from shoploop.store._schema import IdentityBinding, SyncBatch
from shoploop.sync.job import SyncJob, SyncOptions

# The Shopify emulator's default bucket (1000 points, 100/s) would make every run wait on
# the rate limit; these tests are about correctness, not throttling.
FAST_SHOP = {"bucket": "50000", "restore_rate": "50000"}

ERP_TO_SHOPS = SYNC_MAPPING
DERIVED_TO_ERP = DERIVED_MAPPING

ERP_FIELDS = {"customer_group": "Customer_Posting_Group", "sales_rep": "Salesperson_Code",
              "lifecycle_stage": "Shoploop_Lifecycle_Stage"}


@pytest.fixture(scope="session")
def host() -> PluginHost:
    return load_plugins()


def _later(stamp: str | None, seconds: int = 1) -> datetime:
    """A moment strictly after ``stamp`` (an ISO time) and after now, so incremental reads
    (``updated_at >= watermark``) see an edit made by 'someone else' in a test."""
    now = datetime.now(UTC)
    if stamp:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        now = max(now, parsed.astimezone(UTC))
    return now + timedelta(seconds=seconds)


@dataclass
class SyncEnv:
    """Three running emulators, their connection blocks and a store; ``write_config`` adds
    the mapping, ``run`` syncs in-process, ``cli`` runs the console entry point."""

    host: PluginHost
    tmp_path: Path
    store_url: str
    emulators: dict[str, Any]
    env: dict[str, str]
    config_path: Path = field(init=False)
    # The mappings, here because test modules cannot import this file.
    erp_to_shops: ClassVar[str] = ERP_TO_SHOPS
    derived_to_erp: ClassVar[str] = DERIVED_TO_ERP

    def __post_init__(self) -> None:
        self.config_path = self.tmp_path / "shoploop.toml"
        self.write_config(ERP_TO_SHOPS)

    @property
    def erp(self) -> Any:
        return self.emulators["erp"]

    @property
    def shop(self) -> Any:
        return self.emulators["shop"]

    @property
    def woo(self) -> Any:
        return self.emulators["woo"]

    # -- config and runs ------------------------------------------------------------------------

    def write_config(self, sync_toml: str, *, blocks: dict[str, str] | None = None) -> Path:
        connections = {name: e.connection_block(name) for name, e in self.emulators.items()}
        connections.update(blocks or {})
        self.config_path.write_text(
            f'[store]\nurl = "{self.store_url}"\n\n' + sync_toml + "\n"
            + "\n".join(connections.values()), encoding="utf-8")
        return self.config_path

    def use_store(self, url: str, sync_toml: str) -> None:
        """Switch to another (migrated) store, e.g. a fresh one: everything the old one knew
        — bindings, target state, cursors — is gone."""
        with Store(url) as store:
            store.upgrade()
        self.store_url = url
        self.write_config(sync_toml)

    def config(self) -> Config:
        return load_config(self.config_path, self.host.connectors)

    def run(self, **options: Any) -> dict[str, Any]:
        """One sync run in-process; its ``as_dict()`` summary."""
        config = self.config()
        with Connections(config, self.host.connectors) as connections, \
                Store(config.store_url) as store:
            report = SyncJob(self.host, config, store, connections,
                             SyncOptions(**options)).run()
        summary: dict[str, Any] = report.as_dict()
        return summary

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``shoploop -c shoploop.toml ARGS`` in a subprocess (exit codes, printed output)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
        env.update(self.env, NO_COLOR="1", COLUMNS="250", TERM="dumb")
        return subprocess.run(
            [sys.executable, "-m", "shoploop", "-c", str(self.config_path), *args],
            cwd=self.tmp_path, env=env, capture_output=True, text=True, timeout=180,
            check=False)

    @staticmethod
    def totals(summary: dict[str, Any], key: str) -> int:
        """``key`` summed over the targets of a run's summary."""
        return sum(int(t.get(key, 0)) for t in summary["targets"].values())

    def store(self) -> Store:
        return Store(self.store_url)

    def batch_count(self) -> int:
        with self.store() as store, store.session() as session:
            return int(session.scalar(select(func.count()).select_from(SyncBatch)) or 0)

    def bindings(self, connection: str) -> dict[str, str]:
        """external id → internal id of the store's customer bindings of ``connection``."""
        with self.store() as store, store.session() as session:
            return {external: internal for external, internal in session.execute(
                select(IdentityBinding.external_id, IdentityBinding.internal_id).where(
                    IdentityBinding.connection == connection,
                    IdentityBinding.entity_type == "customer"))}

    def delete_bindings(self) -> None:
        with self.store() as store, store.session() as session:
            session.execute(delete(IdentityBinding))

    # -- what the emulators hold ----------------------------------------------------------------

    def writes(self) -> dict[str, int]:
        """Write counters of the three emulators (SOAP updates, GraphQL mutations, non-GET
        REST requests)."""
        return {name: int(e.stats.snapshot().get("writes", 0))
                for name, e in self.emulators.items()}

    def erp_rows(self) -> dict[str, dict[str, str]]:
        return {row["No"]: row for _key, row in self.erp.tables["Customer"].rows()}

    def erp_values(self, attribute: str) -> dict[str, str | None]:
        name = ERP_FIELDS[attribute]
        return {number: row.get(name) for number, row in self.erp_rows().items()}

    def shop_gid(self, model_id: str) -> str:
        return str(next(g for g, m in self.shop.data.source_ids.items()
                        if m == model_id and g in self.shop.data.customers))

    def shop_values(self, key: str) -> dict[str, str | None]:
        """model id (= ERP number) → the shop's ``shoploop.<key>`` metafield value."""
        data = self.shop.data
        with data.lock:
            out = {}
            for node_id, customer in data.customers.items():
                metafield = customer["_metafields"].get(("shoploop", key))
                out[data.source_ids[node_id]] = metafield["value"] if metafield else None
            return out

    def woo_values(self, key: str) -> dict[str, Any]:
        """model id → the WooCommerce customer's ``shoploop_<key>`` meta value."""
        data = self.woo.data
        with data.lock:
            out = {}
            for number, customer in data.customers.items():
                values = [m["value"] for m in customer["meta_data"]
                          if m["key"] == f"shoploop_{key}"]
                out[data.source_ids["customers"][number]] = values[0] if values and \
                    values[0] != "" else None
            return out

    # -- derived values ----------------------------------------------------------------------

    def expected_derived(self, attribute: str = "lifecycle_stage") -> dict[str, Any]:
        """ERP number → the value ``shoploop.combine.derive_attributes`` computes from the
        mirror for that customer's profile (what the derived → ERP sync must have written)."""
        from shoploop.attributes.profiles import build_profile_members
        from shoploop.combine import derive_attributes

        config = self.config()
        now = datetime.now(UTC)
        expected: dict[str, Any] = {}
        with self.store() as store, Connections(config, self.host.connectors) as connections:
            context = hook_context(config, connections, store=store, now=now)
            with store.session() as session:
                for profile, members in build_profile_members(session, as_of=now):
                    numbers = [ext for conn, ext in members if conn == "erp"]
                    if numbers:
                        value = derive_attributes(self.host, context, profile).get(attribute)
                        for number in numbers:
                            expected[number] = value
        return expected

    # -- edits by 'someone else' ----------------------------------------------------------------

    def edit_shop(self, model_id: str, *, email: str | None = None,
                  attributes: dict[str, str] | None = None) -> str:
        """Change a Shopify customer as a shop admin would; returns its numeric id."""
        from shoploop.plugins.shopify.emulator._store import metafield_for, timestamp

        data = self.shop.data
        with data.lock:
            node_id = self.shop_gid(model_id)
            customer = data.customers[node_id]
            stamp = timestamp(_later(customer["updatedAt"]))
            if email is not None:
                customer["email"] = email
            for key, value in (attributes or {}).items():
                customer["_metafields"][("shoploop", key)] = metafield_for(
                    node_id, "shoploop", key, "single_line_text_field", value, stamp)
            customer["updatedAt"] = stamp
            return str(customer["legacyResourceId"])

    def edit_woo(self, model_id: str, *, email: str | None = None,
                 attributes: dict[str, str] | None = None) -> int:
        from shoploop.plugins.woocommerce._mapping import format_time

        data = self.woo.data
        with data.lock:
            number = data.woo_id("customers", model_id)
            customer = data.customers[number]
            if email is not None:
                customer["email"] = customer["billing"]["email"] = email
            data.update_meta(customer, [{"key": f"shoploop_{k}", "value": v}
                                        for k, v in (attributes or {}).items()])
            stamp = format_time(_later(customer["date_modified_gmt"]))
            customer["date_modified_gmt"] = customer["date_modified"] = stamp
            return int(number)

    def edit_erp(self, number: str, values: dict[str, str]) -> None:
        """An ERP user edits a customer card (new ``Key``, newer modification time)."""
        row = self.erp_rows()[number]
        stamp = _later(row.get("Last_Modified_Date_Time")).isoformat()
        self.erp.touch("Customer", number, {**values, "Last_Modified_Date_Time": stamp})


# The deterministic kill points of the crash tests (``kill_switch``) are in tests/conftest.py:
# ``reco publish`` is killed the same way.


WaitUntil = Callable[[Callable[[], bool], "subprocess.Popen[bytes]"], bool]


def _wait_until(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> bool:
    """Poll ``condition`` (an observable event or counter, no fixed sleep) until it holds;
    False if the process ended first."""
    pause = threading.Event()
    while not condition():
        if process.poll() is not None:
            return False
        pause.wait(0.002)
    return True


@pytest.fixture
def wait_until() -> WaitUntil:
    """``wait_until(condition, process)``: wait for a point a run in a subprocess reaches
    (the interrupt tests)."""
    return _wait_until


MakeEnv = Callable[..., SyncEnv]


@pytest.fixture
def make_env(host: PluginHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[MakeEnv]:
    """``make_env(customers=120, seed=7, faults=0.0, store_url=None, erp_extra=None,
    woo_extra=None)`` → a :class:`SyncEnv` with started emulators (stopped at teardown), the
    secrets in the environment (monkeypatch) and a migrated store (a SQLite file unless a
    URL is given)."""
    started: list[Any] = []
    homes: list[Path] = []

    def make(customers: int = 120, seed: int = 7, faults: float = 0.0,
             store_url: str | None = None, erp_extra: dict[str, str] | None = None,
             woo_extra: dict[str, str] | None = None) -> SyncEnv:
        emulators: dict[str, Any] = {}
        env: dict[str, str] = {}
        for kind, name, extra in (("erp", "erp", erp_extra or {}),
                                  ("shopify", "shop", FAST_SHOP),
                                  ("woocommerce", "woo", woo_extra or {})):
            emulator = host.emulators.emulators[kind].factory(EmulatorOptions(
                customers=customers, seed=seed, faults=faults, extra=dict(extra)))
            emulator.start()
            started.append(emulator)
            emulators[name] = emulator
            env.update(emulator.environment())
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        # Each environment its own directory: two in one test (a reference and a faulty
        # run) must not share a store or a config file.
        home = tmp_path / f"env{len(homes)}"
        home.mkdir()
        homes.append(home)
        url = store_url or f"sqlite:///{home / 'sync.db'}"
        with Store(url) as store:
            store.upgrade()
        return SyncEnv(host, home, url, emulators, env)

    yield make
    for emulator in started:
        emulator.stop()
