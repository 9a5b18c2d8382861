"""`shoploop privacy erase CONNECTION CUSTOMER_ID` end to end (the console entry point)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shoploop.hooks import Customer
from shoploop.store import (
    Store,
    bind_identity,
    is_erased,
    mirrored_customers,
    resolve_internal_id,
    upsert_customers,
)

CONFIG = """
[connections.shop]
type = "files"
path = "shop"

[connections.erp]
type = "files"
path = "erp"
"""


def shoploop(tmp_path: Path, store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "shop").mkdir(exist_ok=True)
    (tmp_path / "erp").mkdir(exist_ok=True)
    (tmp_path / "shoploop.toml").write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    env.update(NO_COLOR="1", COLUMNS="200", SHOPLOOP_DATABASE_URL=store.url)
    return subprocess.run(
        [sys.executable, "-m", "shoploop", "-c", str(tmp_path / "shoploop.toml"), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_erase_prints_what_was_deleted(tmp_path: Path, store: Store) -> None:
    with store.session() as session:
        upsert_customers(session, "shop", [Customer(id="C-7"), Customer(id="C-8")])
        upsert_customers(session, "erp", [Customer(id="C-7")])
        person = bind_identity(session, "shop", "customer", "C-7")
        bind_identity(session, "erp", "customer", "C-7", person)

    done = shoploop(tmp_path, store, "privacy", "erase", "shop", "C-7", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["connection"], data["customers"], data["bindings"], data["internal_id"]) == (
        "shop", 1, 1, person)
    with store.session() as session:
        assert is_erased(session, "shop", "C-7")
        assert not is_erased(session, "erp", "C-7")
        assert resolve_internal_id(session, "erp", "customer", "C-7") == person

    again = shoploop(tmp_path, store, "privacy", "erase", "shop", "C-7")
    assert again.returncode == 0, again.stderr
    assert "erased customer C-7 of shop" in again.stdout and "nothing" in again.stdout


def test_unknown_connection_is_a_config_error(tmp_path: Path, store: Store) -> None:
    done = shoploop(tmp_path, store, "privacy", "erase", "shopp", "C-7")
    assert done.returncode == 2
    assert "connections.shopp" in done.stderr and "no connection named 'shopp'" in done.stderr
    with store.session() as session:
        assert not is_erased(session, "shopp", "C-7")


def test_export_and_erase_shop_by_hand(tmp_path: Path, store: Store) -> None:
    import stat

    with store.session() as session:
        upsert_customers(session, "shop", [Customer(id="C-7", email="c7@example.com")])
        upsert_customers(session, "erp", [Customer(id="C-7")])

    printed = shoploop(tmp_path, store, "privacy", "export", "shop", "C-7")
    assert printed.returncode == 0, printed.stderr
    assert [c["email"] for c in json.loads(printed.stdout)["customer"]] == ["c7@example.com"]
    written = shoploop(tmp_path, store, "privacy", "export", "shop", "C-7", "--out", "c7.json")
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE((tmp_path / "c7.json").stat().st_mode) == 0o600
    assert json.loads((tmp_path / "c7.json").read_text())["customer_id"] == "C-7"

    refused = shoploop(tmp_path, store, "privacy", "erase-shop", "shop")  # no --yes, no TTY
    assert refused.returncode != 0
    erased = shoploop(tmp_path, store, "privacy", "erase-shop", "shop", "--yes", "--json")
    assert erased.returncode == 0, erased.stderr
    assert json.loads(erased.stdout)["deleted"]["customers"] == 1
    with store.session() as session:
        assert resolve_internal_id(session, "shop", "customer", "C-7") is None
        assert [c.id for c in mirrored_customers(session, "erp")] == ["C-7"]
