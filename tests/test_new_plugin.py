"""``shoploop new-plugin``: the template renders, and the plugin it makes installs and passes the
connector conformance kit in its own test run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import shoploop
from shoploop._template import (
    PluginNameError,
    TargetExistsError,
    plugin_names,
    render_plugin,
    render_text,
    template_root,
)
from shoploop.cli._app import build_app

EXPECTED_FILES = {
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "examples/data.json",
    "examples/shoploop.toml",
    "shoploop_acme_erp/__init__.py",
    "shoploop_acme_erp/client.py",
    "shoploop_acme_erp/connector.py",
    "shoploop_acme_erp/py.typed",
    "tests/test_conformance.py",
    "tests/test_plugin.py",
}


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["acme_erp", "acme-erp", " acme_erp ", "shoploop-acme-erp"])
def test_names_derived_from_the_plugin_name(raw: str) -> None:
    names = plugin_names(raw)
    assert (names.name, names.name_upper, names.package, names.distribution) == (
        "acme_erp", "ACME_ERP", "shoploop_acme_erp", "shoploop-acme-erp")
    assert (names.class_prefix, names.title) == ("AcmeErp", "Acme Erp")
    assert names.shoploop_requirement.startswith("shoploop>=")


@pytest.mark.parametrize(("raw", "says"), [
    ("", "empty"),
    ("9lives", "starting with a letter"),
    ("Acme", "lower-case"),
    ("acme erp", "lower-case"),
    ("acme__erp", "single '_'"),
    ("acme-", "lower-case"),
    ("acme.erp", "lower-case"),
    ("files", "taken by shoploop"),
    ("erp-soap", "taken by shoploop"),
    ("class", "taken by shoploop"),
    ("a" * 41, "longer than 40"),
])
def test_unusable_names_are_refused_with_a_reason(raw: str, says: str) -> None:
    with pytest.raises(PluginNameError, match=re.escape(says)):
        plugin_names(raw)


def test_unknown_placeholder_is_an_error() -> None:
    assert render_text("{{ name }}-{{name}}", {"name": "x"}) == "x-x"
    with pytest.raises(KeyError, match=r"README.md.tmpl: unknown template placeholder \{\{nmae"):
        render_text("{{nmae}}", {"name": "x"}, where="README.md.tmpl")


# -- rendering ---------------------------------------------------------------------------------


def test_template_folder_holds_only_templates() -> None:
    """Files without the .tmpl suffix would be skipped silently; keep the folder clean."""
    stray: list[str] = []

    def walk(folder: Traversable, rel: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                if entry.name != "__pycache__":
                    walk(entry, f"{rel}{entry.name}/")
            elif not entry.name.endswith(".tmpl"):
                stray.append(rel + entry.name)

    walk(template_root(), "")
    assert stray == []


def test_render_plugin_writes_a_complete_project(tmp_path: Path) -> None:
    rendered = render_plugin("acme-erp", tmp_path)
    root = tmp_path / "shoploop-acme-erp"
    assert rendered.root == root
    assert {p.relative_to(root).as_posix() for p in rendered.files} == EXPECTED_FILES
    for path in rendered.files:
        text = path.read_text(encoding="utf-8")
        assert "{{" not in text, f"{path}: placeholder left"
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "shoploop-acme-erp"
    assert pyproject["project"]["dependencies"] == [rendered.names.shoploop_requirement]
    assert pyproject["project"]["entry-points"]["shoploop"] == {"acme_erp": "shoploop_acme_erp"}
    example = tomllib.loads((root / "examples/shoploop.toml").read_text())
    assert example["connections"]["sample"]["type"] == "acme_erp"
    data = json.loads((root / "examples/data.json").read_text())
    assert {len(data[s]) for s in ("customers", "orders", "products")} == {3}


def test_render_refuses_an_existing_folder_unless_forced(tmp_path: Path) -> None:
    render_plugin("acme", tmp_path)
    root = tmp_path / "shoploop-acme"
    (root / "NOTES.md").write_text("mine")
    (root / "pyproject.toml").write_text("changed")
    with pytest.raises(TargetExistsError, match="--force"):
        render_plugin("acme", tmp_path)
    assert (root / "pyproject.toml").read_text() == "changed"
    render_plugin("acme", tmp_path, force=True)
    assert "shoploop-acme" in (root / "pyproject.toml").read_text()
    assert (root / "NOTES.md").read_text() == "mine"  # other files are left alone
    (tmp_path / "empty" / "shoploop-acme").mkdir(parents=True)
    assert render_plugin("acme", tmp_path / "empty").files  # an empty folder is fine


# -- the command -------------------------------------------------------------------------------


def test_new_plugin_command(tmp_path: Path) -> None:
    app = build_app(shoploop.new_host())
    runner = CliRunner()
    result = runner.invoke(app, ["new-plugin", "acme_erp", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    # The console wraps long paths at its width (a longer tmp_path, e.g. under xdist, wraps
    # inside the folder name): compare the output without its line breaks.
    output = result.output.replace("\n", "")
    assert "shoploop-acme-erp" in output
    assert "pip install -e" in output
    assert (tmp_path / "shoploop-acme-erp" / "shoploop_acme_erp" / "connector.py").is_file()

    again = runner.invoke(app, ["new-plugin", "acme_erp", "--dir", str(tmp_path)])
    assert again.exit_code == 2
    assert "already exists" in again.output
    forced = runner.invoke(app, ["new-plugin", "acme_erp", "--dir", str(tmp_path), "--force"])
    assert forced.exit_code == 0, forced.output

    bad = runner.invoke(app, ["new-plugin", "Acme ERP", "--dir", str(tmp_path)])
    assert bad.exit_code == 2
    assert "not usable" in bad.output


# -- the generated plugin, installed and tested ------------------------------------------------


def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHOPLOOP_") and k not in {"PYTEST_ADDOPTS", "PYTHONPATH"}}
    env.update(PYTHONPATH=str(site), PIP_DISABLE_PIP_VERSION_CHECK="1", COLUMNS="200")
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
                          check=False)


@pytest.mark.slow
def test_generated_plugin_installs_and_passes_the_conformance_kit(tmp_path: Path) -> None:
    root = render_plugin("acme_erp", tmp_path / "src").root
    site = tmp_path / "site"
    env = _env(site)

    # The generated project is lint-clean under its own ruff settings.
    ruff = _run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], root, env)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr

    # Installed into a throw-away folder: the project's virtualenv stays as it is. Built offline
    # with the virtualenv's setuptools and wheel (both in the dev extras).
    pip = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                "--quiet", "--target", str(site), str(root)], tmp_path, env)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (site / "shoploop_acme_erp" / "connector.py").is_file()

    # Its own test run, in its own folder (its pyproject.toml configures pytest).
    tests = _run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"], root, env)
    output = tests.stdout + tests.stderr
    assert tests.returncode == 0, output
    kit = re.findall(r"tests/test_conformance\.py::TestAcmeErpConformance::(\S+) PASSED", output)
    assert len(kit) >= 15, f"only {len(kit)} conformance tests passed:\n{output}"
    for test in ("test_full_read_returns_every_record_once[customers]",
                 "test_resume_with_stored_cursor_on_new_instance[orders]",
                 "test_incremental_read_from_checkpoint[products]",
                 "test_write_over_batch_limit_writes_nothing",
                 "test_write_is_idempotent",
                 "test_unreachable_read_raises_unreachable_error[customers]"):
        assert test in kit, f"{test} did not run:\n{output}"
    assert "test_installed_entry_point_loads_the_plugin PASSED" in output
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary) and "skipped" not in summary, summary

    # The CLI finds it through its entry point, next to the built-in plugins.
    listed = _run([sys.executable, "-m", "shoploop", "plugins", "--json"], tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    [plugin] = [p for p in data["plugins"] if p["name"] == "acme_erp"]
    assert plugin["distribution"] == "shoploop-acme-erp"
    assert plugin["version"] == "0.1.0"
    assert plugin["hooks"] == ["customer_attributes", "register_connectors"]
    assert plugin["connector_types"] == ["acme_erp"]
    [connector_type] = [t for t in data["connector_types"] if t["name"] == "acme_erp"]
    assert connector_type["capabilities"] == [
        "read_customers", "read_orders", "read_products", "write_customer_attributes"]
    assert "path" in connector_type["config_keys"]
    assert not [f for f in data["failures"] if f["plugin"] == "acme_erp"]

    # Its example config works end to end: config loader → registered type → factory → check().
    upgraded = _run([sys.executable, "-m", "shoploop", "--config",
                     str(root / "examples" / "shoploop.toml"), "db", "upgrade"], tmp_path, env)
    assert upgraded.returncode == 0, upgraded.stderr
    check = _run([sys.executable, "-m", "shoploop", "--config",
                  str(root / "examples" / "shoploop.toml"), "config", "check", "--json"],
                 tmp_path, env)
    assert check.returncode == 0, check.stdout + check.stderr
    sample = json.loads(check.stdout)["connections"]["sample"]
    assert (sample["type"], sample["reachable"], sample["authorised"]) == ("acme_erp", True, True)
