"""docs/recommendations.md stays true: its strategy plugin runs against a built model."""

from __future__ import annotations

import re
import sys
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shoploop.hooks import Product, RecommendationRequest
from shoploop.reco import load_model, rank
from shoploop.store import Store, upsert_products

DOC = Path(__file__).resolve().parents[2] / "docs" / "recommendations.md"
BLOCK = re.compile(r"```python\n(# (shoploop_[a-z_]+)\.py\n.*?)```", re.S)


def test_every_documented_reco_command_exists() -> None:
    from typer.main import get_command

    from shoploop import new_host
    from shoploop.cli._app import build_app

    group = get_command(build_app(new_host())).commands["reco"]  # type: ignore[attr-defined]
    text = DOC.read_text(encoding="utf-8")
    for command in re.findall(r"shoploop reco (\w+)", text.split("## Not built yet")[0]):
        assert command in group.commands, command


def test_strategy_example_merges_with_the_built_ins(store: Store, kit: Any, host: Any,
                                                    build: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    [(code, name)] = [(m.group(1), m.group(2)) for m in BLOCK.finditer(
        DOC.read_text(encoding="utf-8")) if m.group(2) != "shoploop"]
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    host.register(module, name=name)
    assert host.failures == []

    kit.b2b_merchant(store)
    machine = kit.shop_ids["ESP-PRO-2"]
    with store.session() as session:
        upsert_products(session, "shop", [
            *(p.model_copy(update={"attributes": {"upgrade": "200"}})
              for p in kit.shop_products() if p.id == machine),
            Product(id="200", sku="ESP-PRO-3", name="Espresso machine Pro 3",
                    price=Decimal("1149.00"))])
    build(store)
    ranked = rank(host, load_model(store), RecommendationRequest(connection="shop",
                                                                 product_id=machine))
    by_id = {r.product_id: r for r in ranked.recommendations}
    premium = by_id["200"]
    assert (premium.kind, premium.strategy, premium.score) == ("upsell", "upgrade_field", 0.6)
    assert premium.reason == "Espresso machine Pro 3: the premium model, 250.00 € more"
    assert premium.reason_in("de") == "Espresso machine Pro 3: das Premium-Modell, 250.00 € mehr"
    assert by_id[kit.shop_ids["DESC-500"]].strategy == "bought_together"
    scores = [r.score for r in ranked.recommendations]
    assert scores == sorted(scores, reverse=True)
