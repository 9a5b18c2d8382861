"""The files plugin as the core sees it: registered through the hook, configured from a config
file (relative paths against the file's directory), checked, and loaded by entry point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

import shoploop
import shoploop.plugins.files as files_plugin
from shoploop import PluginHost
from shoploop._config import parse_config
from shoploop.hooks import Capability, Customer, ReadsCustomers, WritesCustomerAttributes
from shoploop.plugins.files import FilesConfig, FilesConnector, create_connector, write_stream


@pytest.fixture
def host(shoploop_host: PluginHost, register_plugin: Callable[..., str]) -> PluginHost:
    shoploop_host.strict = True
    register_plugin(files_plugin, "files")
    return shoploop_host


def test_registers_the_files_type(host: PluginHost) -> None:
    files = host.connectors.types["files"]
    assert files.config_model is FilesConfig
    assert files.plugin == "files"
    assert files.capabilities == {
        Capability.READ_CUSTOMERS, Capability.READ_ORDERS, Capability.READ_PRODUCTS,
        Capability.READ_INSTALLED_BASE, Capability.WRITE_CUSTOMER_ATTRIBUTES}
    assert host.hooks_of("files") == ["register_connectors"]


def test_config_file_paths_resolve_against_the_config_directory(
    host: PluginHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "export").mkdir()
    write_stream(tmp_path / "export", "customers", [Customer(id="C-1")])
    monkeypatch.chdir("/")  # cron's working directory is not the config's
    config = parse_config(
        {"connections": {"erp": {"type": "files", "path": "export", "page_size": 50}}},
        host.connectors, file=str(tmp_path / "shoploop.toml"), base_dir=tmp_path)
    settings = config.connections["erp"].settings
    assert isinstance(settings, FilesConfig)
    assert settings.path == tmp_path / "export"
    connector = host.connectors.types["files"].factory("erp", settings)
    assert isinstance(connector, ReadsCustomers)
    assert isinstance(connector, WritesCustomerAttributes)
    assert isinstance(connector, FilesConnector)
    assert [c.id for c in connector.read_customers().items] == ["C-1"]
    assert connector.changes_path == tmp_path / "export" / "attribute_changes.jsonl"
    assert connector.check().reachable


def test_without_the_loaders_context_base_dir_or_cwd_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert create_connector("a", {"type": "files", "path": "data"},
                            base_dir=tmp_path).data_dir == tmp_path / "data"
    monkeypatch.chdir(tmp_path)
    assert create_connector("b", FilesConfig(path=Path("data"))).data_dir == tmp_path / "data"
    home = FilesConfig(path=Path("~/exports")).path
    assert home.is_absolute() and home.name == "exports"


@pytest.mark.parametrize(("settings", "problem"), [
    ({"page_size": 0}, "page_size"),
    ({"page_size": 10_001}, "page_size"),
    ({"format": "xml"}, "format"),
    ({"encoding": "utf-16"}, "not ASCII-compatible"),
    ({"encoding": "klingon"}, "unknown encoding"),
    ({"csv_delimiter": ";;"}, "csv_delimiter"),
    ({"pth": "x"}, "pth"),
])
def test_invalid_settings_are_refused(settings: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        FilesConfig.model_validate({"type": "files", "path": "data", **settings})


def test_check_reports_each_problem_without_raising(tmp_path: Path) -> None:
    missing = FilesConnector("x", FilesConfig(path=tmp_path / "nope")).check()
    assert (missing.reachable, missing.authorised) == (False, False)
    assert "does not exist" in missing.detail

    empty = FilesConnector("x", FilesConfig(path=tmp_path)).check()
    assert (empty.reachable, empty.authorised) == (True, True)
    assert any("no data files" in warning for warning in empty.warnings)

    (tmp_path / "orders.jsonl").mkdir()  # present but unreadable as a file
    write_stream(tmp_path, "customers", [Customer(id="C-1")])
    unreadable = FilesConnector("x", FilesConfig(path=tmp_path)).check()
    assert (unreadable.reachable, unreadable.authorised) == (True, False)
    assert "cannot read" in unreadable.detail and "orders.jsonl" in unreadable.detail

    (tmp_path / "orders.jsonl").rmdir()
    write_stream(tmp_path, "customers", [Customer(id="C-1")], format="csv")
    ambiguous = FilesConnector("x", FilesConfig(path=tmp_path)).check()
    assert ambiguous.authorised
    assert any("both customers.jsonl and customers.csv" in w for w in ambiguous.warnings)


def test_the_entry_point_loads_it_like_any_plugin() -> None:
    host = shoploop.load_plugins(strict=True, environ={"SHOPLOOP_LOAD_PLUGINS": "files"})
    assert host.plugin_names() == ["files"]
    assert host.connectors.types["files"].factory is create_connector
