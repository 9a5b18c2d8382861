"""The fixtures of shoploop's pytest plugin: an isolated host, per-test plugin registration and
a hook call recorder."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

import shoploop
from shoploop import PluginHost
from shoploop.hooks import AttributeValue, CustomerProfile, HookContext, hookimpl
from shoploop.testing import HookCallRecorder


class VipPlugin:
    """A test plugin: derives one attribute."""

    @hookimpl
    def customer_attributes(self, profile: CustomerProfile) -> dict[str, AttributeValue]:
        return {"vip": len(profile.orders) > 2}


def _profile() -> CustomerProfile:
    return CustomerProfile.model_validate({"customer": {"id": "C-1"}})


def test_the_host_loads_no_installed_plugin(shoploop_host: PluginHost) -> None:
    # files, shopify, … are installed as entry points in this environment; none is loaded.
    installed = shoploop.load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "files"})
    assert "files" in installed.connectors.types
    assert shoploop_host.plugin_names() == []
    assert shoploop_host.connectors.types == {}


def test_register_plugin_runs_registration_hooks(
    shoploop_host: PluginHost, register_plugin: Callable[..., str],
) -> None:
    import shoploop.plugins.files as files_plugin

    assert register_plugin(files_plugin, "files") == "files"
    assert shoploop_host.plugin_names() == ["files"]
    assert shoploop_host.connectors.types["files"].plugin == "files"


def test_register_plugin_is_undone_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile('''
        import pytest
        import shoploop.plugins.files as files_plugin

        @pytest.fixture
        def after_teardown(shoploop_host):
            yield
            # torn down after register_plugin, which was set up later
            assert shoploop_host.plugin_names() == []
            assert shoploop_host.connectors.types == {}

        def test_register(after_teardown, shoploop_host, register_plugin):
            register_plugin(files_plugin, name="files")
            assert "files" in shoploop_host.connectors.types
    ''')
    result = pytester.inline_run("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    result.assertoutcome(passed=1)


def test_hook_calls_records_each_call_once(
    shoploop_host: PluginHost, register_plugin: Callable[..., str],
    hook_calls: HookCallRecorder,
) -> None:
    register_plugin(VipPlugin(), "vip")
    context, profile = HookContext(), _profile()
    assert shoploop_host.call("customer_attributes", context=context, profile=profile) == [
        {"vip": False}]
    shoploop_host.pm.hook.customer_attributes(context=context, profile=profile)
    assert hook_calls == [
        ("customer_attributes", {"context": context, "profile": profile}),
        ("customer_attributes", {"context": context, "profile": profile}),
    ]
    assert hook_calls.names() == ["customer_attributes", "customer_attributes"]
    assert hook_calls.of("customer_attributes")[0]["profile"] is profile
    hook_name, kwargs = hook_calls[0]
    assert (hook_name, kwargs["context"]) == ("customer_attributes", context)
    hook_calls.clear()
    assert len(hook_calls) == 0


def test_hook_calls_sees_calls_even_when_a_plugin_fails(
    shoploop_host: PluginHost, register_plugin: Callable[..., str],
    hook_calls: HookCallRecorder,
) -> None:
    class Broken:
        @hookimpl
        def customer_attributes(self, profile: Any) -> None:
            raise RuntimeError("boom")

    register_plugin(Broken(), "broken")
    assert shoploop_host.call("customer_attributes", context=HookContext(),
                              profile=_profile()) == []
    assert hook_calls.names() == ["customer_attributes"]
    assert [f.plugin for f in shoploop_host.failures] == ["broken"]


def test_detaching_the_recorder_restores_the_host(shoploop_host: PluginHost) -> None:
    recorder = HookCallRecorder()
    recorder.attach(shoploop_host)
    shoploop_host.call("on_event", context=HookContext(), event=SimpleNamespace())
    recorder.detach()
    shoploop_host.call("on_event", context=HookContext(), event=SimpleNamespace())
    assert recorder.names() == ["on_event"]
    assert "call_with_names" not in vars(shoploop_host)
