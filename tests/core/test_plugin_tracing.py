"""Hook calls run through pluggy's own call path, with the per-plugin isolation inside it:
pluggy's monitoring sees every call (``SHOPLOOP_TRACE_PLUGINS`` is built on it), and a
failing plugin is still isolated, named and logged."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

from shoploop import load_plugins, new_host
from shoploop._trace import PREFIX, trace_hook_calls
from shoploop.hooks import Customer, CustomerProfile, HookContext, PluginError, hookimpl

PROFILE = CustomerProfile(customer=Customer(id="C1"))


class Vip:
    @hookimpl
    def customer_attributes(self, profile: CustomerProfile) -> dict[str, Any]:
        return {"vip": profile.customer.id == "C1"}


class Broken:
    @hookimpl
    def customer_attributes(self, profile: CustomerProfile) -> dict[str, Any]:
        raise ZeroDivisionError("division by zero")


class Monitor:
    """pluggy monitoring: (hook, plugins in call order, kwargs, outcome) of each call."""

    def __init__(self, pm: Any) -> None:
        self.calls: list[tuple[str, list[str], dict[str, Any], Any]] = []
        pm.add_hookcall_monitoring(self.before, self.after)

    def before(self, hook: str, impls: Any, kwargs: Any) -> None:
        return None

    def after(self, outcome: Any, hook: str, impls: Any, kwargs: Any) -> None:
        self.calls.append((hook, [i.plugin_name for i in reversed(impls)], dict(kwargs),
                           outcome.exception or outcome.get_result()))


def test_monitoring_sees_an_isolated_call_and_the_failure_stays_isolated(caplog) -> None:
    host = new_host()
    host.register(Vip(), name="vip")
    host.register(Broken(), name="broken")
    monitor = Monitor(host.pm)
    context = HookContext()
    with caplog.at_level(logging.WARNING, logger="shoploop.plugins"):
        results = host.call_with_names("customer_attributes", context=context, profile=PROFILE)
    assert results == [("vip", {"vip": True})]
    assert monitor.calls == [("customer_attributes", ["broken", "vip"],
                              {"context": context, "profile": PROFILE}, [{"vip": True}])]
    assert [(f.plugin, f.hook) for f in host.failures] == [("broken", "customer_attributes")]
    assert "plugin 'broken', hook 'customer_attributes': ZeroDivisionError" in caplog.text


def test_strict_raises_naming_plugin_and_hook_and_monitoring_sees_the_call() -> None:
    host = new_host(strict=True)
    host.register(Vip(), name="vip")
    host.register(Broken(), name="broken")
    monitor = Monitor(host.pm)
    with pytest.raises(PluginError) as caught:
        host.call("customer_attributes", context=HookContext(), profile=PROFILE)
    assert (caught.value.plugin, caught.value.hook) == ("broken", "customer_attributes")
    [(hook, _plugins, _kwargs, outcome)] = monitor.calls
    assert hook == "customer_attributes" and isinstance(outcome, PluginError)


def test_first_result_and_names_come_through_pluggy() -> None:
    from shoploop.hooks import RewardSpec

    class Policy:
        def __init__(self, amount: str | None) -> None:
            self.amount = amount

        @hookimpl
        def referral_reward(self, referral: Any) -> RewardSpec | None:
            if self.amount is None:
                return None
            return RewardSpec(kind="discount_code", amount=self.amount, currency="EUR",
                              idempotency_key=f"referral-{self.amount}")

    host = new_host()
    host.register(Policy("10"), name="ten")
    host.register(Policy(None), name="abstains")  # registered last: called first
    monitor = Monitor(host.pm)
    [(plugin, reward)] = host.call_with_names("referral_reward", context=HookContext(),
                                              referral=None)
    assert (plugin, reward.amount) == ("ten", 10)
    assert len(monitor.calls) == 1


def test_a_direct_pluggy_call_keeps_pluggys_semantics() -> None:
    host = new_host()
    host.register(Broken(), name="broken")
    with pytest.raises(ZeroDivisionError):
        host.pm.hook.customer_attributes(context=HookContext(), profile=PROFILE)
    assert host.failures == []


def test_the_trace_prints_each_call_with_plugins_arguments_and_duration() -> None:
    host = new_host()
    host.register(Vip(), name="vip")
    host.register(Broken(), name="broken")
    out = io.StringIO()
    undo = trace_hook_calls(host.pm, out)
    secret = HookContext(config={"store": {"url": "postgresql://shoploop:s3cret@db/x"}})
    host.call("customer_attributes", context=secret, profile=PROFILE)
    host.call("on_event", context=HookContext(), event={"kind": "order_paid"})
    undo()
    host.call("customer_attributes", context=HookContext(), profile=PROFILE)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    first, second = lines
    assert first.startswith(f"{PREFIX} customer_attributes [broken, vip] "
                            "(context=HookContext(…), profile=CustomerProfile(…)) -> 1 result in ")
    assert first.endswith(" ms") and "s3cret" not in out.getvalue()
    assert second.startswith(f"{PREFIX} on_event [] (context=HookContext(…), event=dict[1]) "
                             "-> 0 results in ")


def test_shoploop_trace_plugins_traces_the_cli(run_cli) -> None:
    done = run_cli("plugins", env={"SHOPLOOP_TRACE_PLUGINS": "1"})
    assert done.returncode == 0, done.stderr
    assert f"{PREFIX} register_commands [" in done.stderr
    quiet = run_cli("plugins")
    assert PREFIX not in quiet.stderr


def test_load_plugins_traces_only_when_asked(capsys) -> None:
    traced = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "attributes",
                                   "SHOPLOOP_TRACE_PLUGINS": "1"})
    traced.call("customer_attributes", context=HookContext(), profile=PROFILE)
    assert f"{PREFIX} customer_attributes [attributes]" in capsys.readouterr().err
    quiet = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "attributes"})
    quiet.call("customer_attributes", context=HookContext(), profile=PROFILE)
    assert PREFIX not in capsys.readouterr().err


def test_a_refused_hook_wrapper_is_inert_when_not_strict() -> None:
    class Fakes:
        @hookimpl(wrapper=True)
        def customer_attributes(self) -> Any:
            yield
            return [{"faked": True}]

    host = new_host()
    host.register(Vip(), name="vip")
    host.register(Fakes(), name="fakes")
    assert [f.plugin for f in host.failures] == ["fakes"]
    assert host.call("customer_attributes", context=HookContext(), profile=PROFILE) == [
        {"vip": True}]
