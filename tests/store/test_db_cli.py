"""``shoploop db upgrade|current`` against each backend, with the URL from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

import shoploop
from shoploop.cli._app import build_app
from shoploop.store import Store


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # no shoploop.toml here: the store URL comes from the env
    monkeypatch.delenv("SHOPLOOP_CONFIG", raising=False)
    app = build_app(shoploop.new_host())
    runner = CliRunner()

    def run(url: str, *args: str):
        return runner.invoke(app, ["db", *args], env={"SHOPLOOP_DATABASE_URL": url})

    return run


def with_password(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":  # trust auth ignores it; the output must too
        parsed = parsed.set(password="hunter2")
    return parsed.render_as_string(hide_password=False)


def test_upgrade_then_current(db, store_url: str):
    url = with_password(store_url)
    before = db(url, "current", "--json")
    assert before.exit_code == 0, before.output
    assert json.loads(before.output)["revision"] is None
    assert json.loads(before.output)["up_to_date"] is False

    upgraded = db(url, "upgrade", "--json")
    assert upgraded.exit_code == 0, upgraded.output
    data = json.loads(upgraded.output)
    with Store(store_url) as store:
        head = store.head_revision()
    assert (data["revision"], data["previous"], data["changed"]) == (head, None, True)
    assert "hunter2" not in upgraded.output

    again = db(url, "upgrade")
    assert again.exit_code == 0 and f"already at {head}" in again.output
    current = db(url, "current")
    assert current.exit_code == 0 and "up to date" in current.output
    assert "hunter2" not in again.output + current.output


def test_unreachable_store_exits_3_without_the_password(db):
    result = db("postgresql://shop:hunter2@127.0.0.1:1/x", "upgrade")
    assert result.exit_code == 3
    assert "store unreachable" in result.output and "hunter2" not in result.output


def test_unusable_url_exits_2(db):
    result = db("mysql://db/x", "current")
    assert result.exit_code == 2 and "unsupported database" in result.output
