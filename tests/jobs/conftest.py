"""Fixtures of the Celery tests: an ERP and several Shopify emulators on loopback, a config
naming them with ``[jobs] backend = "celery"``, and real ``shoploop worker`` processes.

Isolation under pytest-xdist: every world gets its own queue name (and, on Redis, the xdist
worker's own database), so parallel tests never consume each other's messages or answer each
other's ``inspect`` broadcasts. Waiting is on conditions (emulator state, the broker's queue,
the store's runs) with generous deadlines — never a fixed sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shoploop import load_plugins
from shoploop.hooks import EmulatorOptions

REDIS = "redis://127.0.0.1:6379"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
FAST_SHOP = {"bucket": "50000", "restore_rate": "50000"}
MAPPING = """\
[sync]
match_keys = ["email"]

[sync.attributes.customer_group]
master = "erp"
targets = [{targets}]

[sync.attributes.sales_rep]
master = "erp"
transform = "lower"
targets = [{targets}]
"""
DEADLINE = 240.0


def broker_url(kind: str) -> str:
    if kind == "redis":
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
        return f"{REDIS}/{1 + int(worker or 0) % 15}"
    return RABBITMQ


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        pause.wait(0.02)


@dataclass
class ShopsWorld:
    """An ERP and ``len(shops)`` Shopify shops, all with the same seeded people."""

    tmp: Path
    erp: Any
    shops: dict[str, Any]
    env: dict[str, str]
    config_path: Path
    queue: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def holdings(self) -> dict[str, dict[str, dict[str, str]]]:
        """shop → customer e-mail → its shoploop metafields."""
        out: dict[str, dict[str, dict[str, str]]] = {}
        for name, shop in self.shops.items():
            with shop.data.lock:
                out[name] = {str(c["email"]).lower(): {
                    key: m["value"] for (ns, key), m in c["_metafields"].items()
                    if ns == "shoploop"} for c in shop.data.customers.values()}
        return out

    def writes(self) -> dict[str, Counter[tuple[str, str]]]:
        """shop → (customer e-mail, key) → how often a write call set it."""
        out: dict[str, Counter[tuple[str, str]]] = {}
        for name, shop in self.shops.items():
            with shop.data.lock:
                email = {node: str(c["email"]).lower() for node, c in shop.data.customers.items()}
                out[name] = Counter({(email[owner], key): n for (owner, ns, key), n
                                     in shop.data.metafield_writes.items() if ns == "shoploop"})
        return out

    @staticmethod
    def wait(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
        wait_for(condition, what, timeout)

    def queued(self) -> int:
        """Messages waiting in the world's queue (0 once never declared)."""
        from kombu import Connection

        with Connection(self.env["SHOPLOOP_TEST_BROKER"]) as connection:
            try:
                return int(connection.default_channel.queue_declare(
                    queue=self.queue, passive=True).message_count)
            except Exception:
                return 0

    def requests(self) -> int:
        return sum(int(e.stats.get("requests")) for e in (self.erp, *self.shops.values()))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "shoploop", "-c", str(self.config_path),
                               *args], cwd=self.tmp, env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)

    def start_worker(self, name: str, concurrency: int = 1,
                     pool: str = "prefork") -> subprocess.Popen[bytes]:
        """``shoploop worker`` as node ``<name>@<queue>``; ``pool="solo"`` runs its tasks in
        the process itself (a SIGKILL of it kills the task too)."""
        log = (self.tmp / f"worker-{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "shoploop", "-c", str(self.config_path), "worker",
             "--queues", self.queue, "--concurrency", str(concurrency), "--pool", pool,
             "--hostname", f"{name}@{self.queue}", "--loglevel", "INFO"],
            cwd=self.tmp, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.workers.append(process)
        return process

    @staticmethod
    def pool_children(worker: subprocess.Popen[bytes]) -> list[int]:
        """The prefork pool's processes of a worker (where its tasks run)."""
        path = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except FileNotFoundError:
            return []

    def log(self, name: str) -> str:
        path = self.tmp / f"worker-{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_emulators(host: Any, shops: int, customers: int, seed: int) -> tuple[Any, dict[str,
                                                                                      Any]]:
    factories = host.emulators.emulators
    erp = factories["erp"].factory(EmulatorOptions(customers=customers, seed=seed))
    erp.start()
    started = {}
    for index in range(shops):
        shop = factories["shopify"].factory(EmulatorOptions(
            customers=customers, seed=seed, extra=dict(FAST_SHOP)))
        shop.start()
        started[f"shop{index}"] = shop
    return erp, started


def write_config(path: Path, store_url: str, erp: Any, shops: dict[str, Any],
                 jobs: str) -> None:
    targets = ", ".join(f'"{name}"' for name in shops)
    blocks = [f'[store]\nurl = "{store_url}"\n', jobs, MAPPING.format(targets=targets),
              erp.connection_block("erp"),
              *(shop.connection_block(name) for name, shop in shops.items())]
    path.write_text("\n".join(blocks), encoding="utf-8")


MakeWorld = Callable[..., ShopsWorld]


@pytest.fixture
def make_world(tmp_path: Path, store_url: str) -> Iterator[MakeWorld]:
    """``make_world(broker, shops=3, customers=80, seed=5, home="celery")`` → a world whose
    jobs go to Celery through ``broker`` ("redis" or "amqp") on the test's PostgreSQL store;
    ``broker=None``: an in-process reference world on a SQLite file of its own (same seed,
    same people)."""
    host = load_plugins()
    made: list[tuple[Any, dict[str, Any], ShopsWorld]] = []

    def make(kind: str | None, shops: int = 3, customers: int = 80, seed: int = 5,
             home: str = "celery") -> ShopsWorld:
        from shoploop.store import Store

        directory = tmp_path / home
        directory.mkdir()
        erp, started = start_emulators(host, shops, customers, seed)
        queue = f"shoploop-test-{uuid.uuid4().hex[:10]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
        env.update(erp.environment(), **next(iter(started.values())).environment())
        if kind is None:  # the in-process reference: its own SQLite store
            url, jobs = f"sqlite:///{directory / 'store.db'}", ""
        else:
            url = store_url
            env["SHOPLOOP_TEST_BROKER"] = broker_url(kind)
            jobs = (f'[jobs]\nbackend = "celery"\nbroker_url_env = "SHOPLOOP_TEST_BROKER"\n'
                    f'queue = "{queue}"\n')
        with Store(url) as store:
            store.upgrade()
        config = directory / "shoploop.toml"
        write_config(config, url, erp, started, jobs)
        world = ShopsWorld(directory, erp, started, env, config, queue)
        made.append((erp, started, world))
        return world

    yield make
    for erp, started, world in made:
        world.stop_workers()
        if world.env.get("SHOPLOOP_TEST_BROKER"):
            _purge(world)
        for emulator in (erp, *started.values()):
            emulator.stop()


def _purge(world: ShopsWorld) -> None:
    """Drop the test's queue from the broker (a failed test may leave messages)."""
    from kombu import Connection

    with Connection(world.env["SHOPLOOP_TEST_BROKER"]) as connection:
        try:
            channel = connection.default_channel
            channel.queue_purge(world.queue)
            channel.queue_delete(world.queue)
        except Exception:  # never declared: nothing to drop
            pass
