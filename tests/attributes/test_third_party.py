"""The documented third-party example adds an attribute merged with the built-ins."""

from __future__ import annotations

import re
import types
from pathlib import Path

import shoploop
import shoploop.attributes.builtin as builtin
from shoploop.combine import derive_attributes
from shoploop.hooks import HookContext

DOC = Path(__file__).resolve().parents[2] / "docs" / "attributes.md"
MARKER = "<!-- example: third-party attribute plugin -->"


def _example_module() -> types.ModuleType:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text[text.index(MARKER):], re.S)
    assert block is not None
    module = types.ModuleType("shoploop_phone_orders")
    exec(compile(block.group(1), str(DOC), "exec"), module.__dict__)
    return module


def test_documented_plugin_merges_with_builtins(order, profile, now) -> None:
    host = shoploop.new_host(strict=True)
    host.register(builtin, name="attributes")
    host.register(_example_module(), name="phone_orders")
    orders = [order("1", days_ago=3), order("2", days_ago=4)]
    orders[1] = orders[1].model_copy(update={"channel": "phone"})
    merged = derive_attributes(host, HookContext(now=now), profile(orders))
    assert merged["phone_orders"] == 1
    assert (merged["order_count"], merged["lifecycle_stage"]) == (2, "repeat")


def test_first_result_wins_over_builtin(profile, now) -> None:
    override = types.ModuleType("override")
    exec("from shoploop.hooks import hookimpl\n"
         "@hookimpl(tryfirst=True)\n"
         "def customer_attributes(context, profile):\n"
         "    return {'lifecycle_stage': 'vip'}\n", override.__dict__)
    host = shoploop.new_host(strict=True)
    host.register(builtin, name="attributes")
    host.register(override, name="override")
    merged = derive_attributes(host, HookContext(now=now), profile([]))
    assert merged["lifecycle_stage"] == "vip"
    assert merged["order_count"] == 0


def test_thresholds_come_from_the_config(order, profile, now) -> None:
    host = shoploop.new_host(strict=True)
    host.register(builtin, name="attributes")
    person = profile([order("1", days_ago=40)])
    assert derive_attributes(host, HookContext(now=now), person)["lifecycle_stage"] \
        == "first_time_buyer"
    context = HookContext(now=now, config={"attributes": {"at_risk_after_days": 30,
                                                          "lapsed_after_days": 90}})
    assert derive_attributes(host, context, person)["lifecycle_stage"] == "at_risk"
