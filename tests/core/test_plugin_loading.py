"""Plugin loading through real entry points: isolation, strict mode, allow/deny lists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shoploop import load_plugins, new_host
from shoploop.hooks import ConnectionConfig as _Config
from shoploop.hooks import (
    Customer,
    CustomerProfile,
    HookContext,
    PluginError,
    RewardSpec,
    hookimpl,
)

BUILTIN = {"transforms", "files", "shopify", "woocommerce", "erp_soap"}


@pytest.fixture
def isolated_modules():
    """Forget fixture modules imported by a test so each test imports them afresh."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("shoploop_fixture_"):
            del sys.modules[name]


def _profile(orders: int = 0) -> CustomerProfile:
    return CustomerProfile(customer=Customer(id="C1"))


def test_builtin_plugins_load_through_entry_points():
    host = load_plugins(environ={})
    assert set(host.plugin_names()) >= BUILTIN
    assert {"files", "shopify", "woocommerce", "erp_soap"} <= set(host.connectors.types)
    assert host.connectors.types["shopify"].plugin == "shopify"


def test_broken_plugin_is_isolated_and_named(fake_site, monkeypatch, caplog, isolated_modules):
    site = fake_site(broken="shoploop_fixture_broken", vip="shoploop_fixture_vip")
    monkeypatch.syspath_prepend(str(site))
    host = load_plugins(environ={})
    assert [f.plugin for f in host.failures] == ["broken"]
    assert "shoploop_fixture_missing_dependency" in host.failures[0].error
    assert "vip" in host.plugin_names() and "broken" not in host.plugin_names()
    assert set(host.plugin_names()) >= BUILTIN
    assert "plugin 'broken'" in caplog.text


def test_strict_mode_raises_naming_the_plugin(fake_site, monkeypatch, isolated_modules):
    monkeypatch.syspath_prepend(str(fake_site(broken="shoploop_fixture_broken")))
    with pytest.raises(PluginError, match="plugin 'broken'"):
        load_plugins(environ={"SHOPLOOP_STRICT_PLUGINS": "1"})
    with pytest.raises(PluginError, match="plugin 'broken'"):
        load_plugins(strict=True, environ={})


def test_disable_blocks_before_import(fake_site, monkeypatch, tmp_path, isolated_modules):
    marker = tmp_path / "imported.txt"
    monkeypatch.setenv("SHOPLOOP_FIXTURE_IMPORT_MARKER", str(marker))
    monkeypatch.syspath_prepend(str(fake_site(side="shoploop_fixture_sideeffect",
                                              broken="shoploop_fixture_broken")))
    host = load_plugins(environ={"SHOPLOOP_DISABLE_PLUGINS": "side, broken"})
    assert not marker.exists(), "a disabled plugin must not even be imported"
    assert host.failures == []
    assert host.pm.is_blocked("side") and host.pm.is_blocked("broken")
    load_plugins(environ={})
    assert marker.read_text() == "imported\n"


def test_load_allow_list(fake_site, monkeypatch, isolated_modules):
    monkeypatch.syspath_prepend(str(fake_site(vip="shoploop_fixture_vip",
                                              broken="shoploop_fixture_broken")))
    host = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "vip,shopify"})
    assert host.plugin_names() == ["shopify", "vip"]
    assert host.failures == []
    assert load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": ""}).plugin_names() == []


def test_misspelled_hook_is_reported_with_suggestion(fake_site, monkeypatch, isolated_modules):
    monkeypatch.syspath_prepend(str(fake_site(typo="shoploop_fixture_typo")))
    host = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "typo"})
    assert len(host.failures) == 1
    failure = host.failures[0]
    assert (failure.plugin, failure.hook) == ("typo", "customer_attribute")
    assert "did you mean 'customer_attributes'" in failure.error
    with pytest.raises(PluginError, match="customer_attribute"):
        load_plugins(strict=True, environ={"SHOPLOOP_LOAD_PLUGINS": "typo"})


def test_raising_hook_is_isolated_unless_strict(fake_site, monkeypatch, isolated_modules):
    monkeypatch.syspath_prepend(str(fake_site(vip="shoploop_fixture_vip",
                                              raises="shoploop_fixture_raises")))
    host = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "vip,raises"})
    results = host.call("customer_attributes", context=HookContext(), profile=_profile())
    assert results == [{"vip": False}]
    assert [(f.plugin, f.hook) for f in host.failures] == [("raises", "customer_attributes")]
    assert "ZeroDivisionError" in host.failures[0].error
    host.strict = True
    with pytest.raises(PluginError, match="plugin 'raises', hook 'customer_attributes'"):
        host.call("customer_attributes", context=HookContext(), profile=_profile())


def test_first_result_hook_stops_at_first_answer():
    host = new_host()

    class Abstains:
        @hookimpl
        def referral_reward(self, context, referral):
            return None

    class Gives:
        calls = 0

        @hookimpl(trylast=True)
        def referral_reward(self, context, referral):
            Gives.calls += 1
            return RewardSpec(kind="coupon", idempotency_key="ref-00000001", amount=10)

    class Shadowed:
        @hookimpl(trylast=True)
        def referral_reward(self, context, referral):
            raise AssertionError("must not be called after the first result")

    host.register(Shadowed(), name="shadowed")
    host.register(Gives(), name="gives")
    host.register(Abstains(), name="abstains")
    reward = host.call_first("referral_reward", context=HookContext(), referral=None)
    assert isinstance(reward, RewardSpec) and reward.amount == 10
    assert Gives.calls == 1


def test_duplicate_connector_type_names_both_plugins():
    host = new_host()

    class Cfg(_Config):
        pass

    class First:
        @hookimpl
        def register_connectors(self, register):
            register("acme", config_model=Cfg, factory=lambda n, c: None)

    class Second:
        @hookimpl
        def register_connectors(self, register):
            register("acme", config_model=Cfg, factory=lambda n, c: None)

    host.register(First(), name="first")
    host.register(Second(), name="second")
    assert host.connectors.types["acme"].plugin == "first"
    assert len(host.failures) == 1
    assert "plugin 'second'" in str(host.failures[0]) and "'first'" in host.failures[0].error


def test_cli_survives_broken_plugin_and_strict_exits_nonzero(fake_site, run_cli):
    site = fake_site(broken="shoploop_fixture_broken", vip="shoploop_fixture_vip")
    helped = run_cli("--help", site=site)
    assert helped.returncode == 0, helped.stderr
    assert "plugins" in helped.stdout and "vip-hello" in helped.stdout
    assert "plugin 'broken'" in helped.stderr

    listed = run_cli("plugins", "--json", site=site)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data["failures"][0]["plugin"] == "broken"
    vip = next(p for p in data["plugins"] if p["name"] == "vip")
    assert vip["version"] == "1.2.3"
    assert vip["hooks"] == ["customer_attributes", "register_commands"]

    strict = run_cli("--strict", "plugins", site=site)
    assert strict.returncode == 2
    assert "plugin 'broken'" in strict.stderr and "Traceback" not in strict.stderr
    env_strict = run_cli("plugins", site=site, env={"SHOPLOOP_STRICT_PLUGINS": "1"})
    assert env_strict.returncode == 2 and "plugin 'broken'" in env_strict.stderr

    hello = run_cli("vip-hello", site=site)
    assert hello.returncode == 0 and hello.stdout.strip() == "hello from vip"


def test_plugins_json_lists_builtin_connector_types(run_cli, tmp_path: Path):
    done = run_cli("plugins", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    types = {t["name"]: t for t in data["connector_types"]}
    assert {"files", "shopify", "woocommerce", "erp_soap"} <= set(types)
    assert "url" in types["woocommerce"]["config_keys"]
    assert data["failures"] == []


def test_loading_plugins_imports_no_client_stack():
    """Every `shoploop` call loads all plugins; clients, drivers and parsers must load only when
    a connector, store or emulator is actually built (keeps `--help` and `plugins` fast)."""
    heavy = ("zeep", "lxml", "httpx", "requests", "woocommerce", "graphql", "sqlalchemy",
             "alembic", "numpy", "scipy")
    code = ("import sys, shoploop; host = shoploop.load_plugins(); "
            f"print([m for m in {heavy!r} if m in sys.modules]); "
            "print(sorted(host.connectors.types))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "SHOPLOOP_STRICT_PLUGINS": "1"})
    loaded, types = done.stdout.splitlines()
    assert loaded == "[]"
    assert types == "['erp_soap', 'files', 'shopify', 'woocommerce']"


def _imports_of(path: Path, module: str) -> set[str]:
    """The absolute names of the modules ``path`` (module ``module``) imports."""
    import ast

    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]) \
                if node.level else ""
            name = ".".join(filter(None, [base, node.module or ""]))
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def test_the_core_imports_no_plugin_by_name():
    """DESIGN.md: built-in plugins come through the entry-point group like third-party ones;
    the core reaches them through the host (hooks, registries), never by import."""
    import importlib.metadata as md

    core = Path(__file__).resolve().parents[2] / "core"
    plugins = {ep.value.split(":")[0] for ep in md.entry_points(group="shoploop")}
    assert "shoploop.attributes.builtin" in plugins
    offenders = []
    for path in core.rglob("*.py"):
        if "templates" in path.parts:
            continue
        parts = path.relative_to(core).with_suffix("").parts
        module = ".".join(("shoploop", *parts)).removesuffix(".__init__")
        offenders += [f"{module} imports {name}" for name in sorted(_imports_of(path, module))
                      for plugin in plugins
                      if module != plugin and (name == plugin or name.startswith(plugin + "."))]
    assert not offenders, offenders


def test_nothing_outside_the_store_imports_its_private_modules():
    """STYLE.md: store access through ``shoploop.store``'s public names only."""
    core = Path(__file__).resolve().parents[2] / "core"
    offenders = []
    for path in core.rglob("*.py"):
        parts = path.relative_to(core).with_suffix("").parts
        if "templates" in path.parts or parts[0] == "store":
            continue
        module = ".".join(("shoploop", *parts)).removesuffix(".__init__")
        offenders += [f"{module} imports {name}" for name in sorted(_imports_of(path, module))
                      if name.startswith("shoploop.store._")]
    assert not offenders, offenders
