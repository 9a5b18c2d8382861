"""The CLI's one error path: every command that opens the store, on every kind of known failure,
prints a clear message (or, with ``--json``, exactly one JSON document on stdout), no
traceback, and exits with the documented status (docs/cli.md)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import shoploop
from shoploop.cli._app import build_app
from shoploop.demo_data import generate

ERP_AND_SHOP = """
[connections.erp]
type = "files"
path = "erp"

[connections.shop]
type = "files"
path = "shop"

[sync.attributes.customer_group]
master = "erp"
targets = ["shop"]
"""

# Every command that opens the store (and a required argument where it needs one).
STORE_COMMANDS: list[list[str]] = [
    ["import", "customers"],
    ["sync", "customers"],
    ["sync", "customers", "--dry-run"],
    ["sync", "history"],
    ["sync", "show", "abc"],
    ["attributes", "show"],
    ["experiments", "list"],
    ["privacy", "erase", "shop", "C000001"],
    ["config", "check"],
    ["config", "check", "--offline"],
]
# Commands that need connection secrets or a connection, for the config-kind errors.
CONNECTION_COMMANDS: list[list[str]] = [
    ["import", "customers"],
    ["sync", "customers"],
    ["config", "check"],
    ["config", "check", "--offline"],
]

Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run(*args, env={})`` → the CliRunner result of ``shoploop args`` in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    for name in ("SHOPLOOP_CONFIG", "SHOPLOOP_DATABASE_URL", "SHOP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    app = build_app(shoploop.load_plugins(
        environ={"SHOPLOOP_LOAD_PLUGINS": "files,shopify"}))
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Two files connections with demo data and a mapping; the store is not migrated."""
    generate(tmp_path / "erp", seed=7, customers=10)
    shutil.copytree(tmp_path / "erp", tmp_path / "shop")
    (tmp_path / "shoploop.toml").write_text(ERP_AND_SHOP, encoding="utf-8")
    return tmp_path


def one_json_document(result: Result) -> dict[str, Any]:
    """stdout holds exactly one JSON document and nothing else."""
    data, end = json.JSONDecoder().raw_decode(result.stdout.lstrip())
    assert result.stdout.lstrip()[end:].strip() == "", result.stdout
    assert isinstance(data, dict)
    return data


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_store_without_schema_is_one_clear_error_exit_2(run: Run, workdir: Path,
                                                          command: list[str]) -> None:
    result = run(*command)
    assert result.exit_code == 2, result.output
    assert_no_traceback(result)
    # config check prints the schema line in its report (stdout); the others fail on stderr.
    report = result.output if command[0] == "config" else result.stderr
    assert "no shoploop schema yet" in report
    assert "shoploop db upgrade" in report


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_store_without_schema_under_json_is_one_json_document(
        run: Run, workdir: Path, command: list[str]) -> None:
    result = run(*command, "--json")
    assert result.exit_code == 2, result.output
    assert_no_traceback(result)
    data = one_json_document(result)
    assert data["ok"] is False
    # config check reports the schema inside its own document; every other command fails.
    error = data["schema"]["error"] if command[0] == "config" else data["error"]
    assert (error["code"], error["exit"]) == ("schema_outdated", 2)
    assert "shoploop db upgrade" in error["remedy"]


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_store_behind_the_migrations_names_both_revisions(run: Run, workdir: Path,
                                                            command: list[str]) -> None:
    assert run("db", "upgrade").exit_code == 0
    with sqlite3.connect(workdir / "shoploop.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")
    result = run(*command, "--json")
    assert result.exit_code == 2, result.output
    data = one_json_document(result)
    error = data["schema"]["error"] if command[0] == "config" else data["error"]
    assert error["code"] == "schema_outdated"
    assert "'0001'" in error["message"]


def test_config_check_passes_on_a_migrated_store(run: Run, workdir: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    result = run("config", "check", "--offline", "--json")
    assert result.exit_code == 0, result.output
    data = one_json_document(result)
    assert data["ok"] is True and data["schema"]["up_to_date"] is True


SHOP_WITH_TOKEN = """
[connections.shop_de]
type = "shopify"
shop = "acme-de.myshopify.com"
access_token_env = "SHOP_TOKEN"
"""


def _missing_secret(workdir: Path) -> dict[str, str]:
    config = ERP_AND_SHOP.replace('targets = ["shop"]', 'targets = ["shop", "shop_de"]')
    (workdir / "shoploop.toml").write_text(config + SHOP_WITH_TOKEN, encoding="utf-8")
    return {}


def _invalid_config(workdir: Path) -> dict[str, str]:
    (workdir / "shoploop.toml").write_text('[connections.erp]\ntype = "files"\npath = 42\n',
                                           encoding="utf-8")
    return {}


def _unreachable_store(workdir: Path) -> dict[str, str]:
    return {"SHOPLOOP_DATABASE_URL": "postgresql+psycopg://u:hunter2@127.0.0.1:1/x"}


def _unknown_backend(workdir: Path) -> dict[str, str]:
    return {"SHOPLOOP_DATABASE_URL": "mysql://db/x"}


# kind → (set-up returning the environment, expected code, expected exit status)
ERROR_KINDS: dict[str, tuple[Callable[[Path], dict[str, str]], str, int]] = {
    "missing secret": (_missing_secret, "secret_missing", 2),
    "invalid config": (_invalid_config, "config_invalid", 2),
    "store unreachable": (_unreachable_store, "store_unreachable", 3),
    "unsupported store": (_unknown_backend, "store_error", 2),
}


@pytest.mark.parametrize("kind", ERROR_KINDS)
@pytest.mark.parametrize("command", CONNECTION_COMMANDS, ids=" ".join)
def test_every_error_kind_under_json_is_one_document_with_its_exit_code(
        run: Run, workdir: Path, command: list[str], kind: str) -> None:
    set_up, code, status = ERROR_KINDS[kind]
    assert run("db", "upgrade").exit_code == 0  # a store without schema would be reported first
    env = set_up(workdir)
    result = run(*command, "--json", env=env)
    assert result.exit_code == status, result.output
    assert_no_traceback(result)
    data = one_json_document(result)
    error = data["error"] if "error" in data else data["schema"]["error"]
    assert (data["ok"], error["code"], error["exit"]) == (False, code, status)
    assert error["message"] and error["remedy"]
    assert "hunter2" not in result.output


@pytest.mark.parametrize("command", CONNECTION_COMMANDS, ids=" ".join)
def test_a_missing_secret_exits_2_naming_connection_key_and_variable(
        run: Run, workdir: Path, command: list[str]) -> None:
    _missing_secret(workdir)
    assert run("db", "upgrade").exit_code == 0
    result = run(*command)
    assert result.exit_code == 2, result.output
    assert_no_traceback(result)
    message = " ".join(result.stderr.split())  # Rich wraps long lines
    assert "connections.shop_de.access_token_env: names SHOP_TOKEN, which is not set" in message
    assert "export SHOP_TOKEN=" in message


def test_usage_errors_inside_a_command_are_json_too(run: Run, workdir: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    for args, code in ((["import", "nothing"], "usage"),
                       (["import", "customers", "--from", "nope"], "config_invalid"),
                       (["sync", "show", "nope"], "usage")):
        result = run(*args, "--json")
        assert result.exit_code == 2, result.output
        assert one_json_document(result)["error"]["code"] == code


@pytest.mark.parametrize("args", [["import", "customers", "--bogus"], ["import"],
                                  ["plugins", "--limit", "3"]], ids=" ".join)
def test_a_usage_error_under_json_is_one_document_from_the_console_script(
        tmp_path: Path, run_cli: Callable[..., Any], args: list[str]) -> None:
    done = run_cli(*args, "--json", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    data, end = json.JSONDecoder().raw_decode(done.stdout)
    assert done.stdout[end:].strip() == ""
    assert (data["ok"], data["error"]["code"], data["error"]["exit"]) == (False, "usage", 2)
    assert "Usage:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", CONNECTION_COMMANDS[:3], ids=" ".join)
def test_an_unreachable_connection_under_json_is_one_result_document_exit_3(
        run: Run, workdir: Path, command: list[str]) -> None:
    assert run("db", "upgrade").exit_code == 0
    shutil.rmtree(workdir / "erp")  # the files connection's folder is gone: unreachable
    result = run(*command, "--json")
    assert result.exit_code == 3, result.output
    assert_no_traceback(result)
    data = one_json_document(result)
    assert data["ok"] is False
    assert "erp" in json.dumps(data) and "does not exist" in json.dumps(data)


def test_a_plugins_command_runs_inside_the_same_error_path(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from shoploop.hooks import AuthError, hookimpl

    class Plugin:
        @hookimpl
        def register_commands(self, cli: typer.Typer) -> None:
            @cli.command("acme-check")
            def acme_check(as_json: bool = typer.Option(False, "--json")) -> None:
                raise AuthError("HTTP 401", connection="acme", operation="check",
                                remedy="check api_token_env")

    monkeypatch.chdir(tmp_path)
    host = shoploop.new_host()
    host.register(Plugin(), name="acme")
    app = build_app(host)
    plain = CliRunner().invoke(app, ["acme-check"])
    assert plain.exit_code == 3 and "unauthorised: [acme] check: HTTP 401" in plain.stderr
    as_json = CliRunner().invoke(app, ["acme-check", "--json"])
    assert as_json.exit_code == 3
    error = one_json_document(as_json)["error"]
    assert (error["code"], error["connection"], error["remedy"]) == (
        "unauthorised", "acme", "check api_token_env")
