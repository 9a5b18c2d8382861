"""*Upsell*: the premium alternative in the same family and price band, with what it adds —
over real store data (SQLite and PostgreSQL), and for any catalogue (hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shoploop import load_plugins
from shoploop._plugins import PluginHost
from shoploop.hooks import Product, RecommendationRequest
from shoploop.reco import RecoSettings, build_model, load_model, rank
from shoploop.reco._upsell import family_of, fit_upsells, gains, price_of, reasons
from shoploop.store import Store, upsert_products

STRATEGIES = "bought_together,buy_again,upsell,popular_in_segment"
FAMILY = ["category", "attributes.family"]
IGNORE = RecoSettings().upsell_ignore


@pytest.fixture
def strategies() -> PluginHost:
    host = load_plugins(strict=True, environ={"SHOPLOOP_LOAD_PLUGINS": STRATEGIES})
    assert sorted(host.plugin_names()) == sorted(STRATEGIES.split(","))
    return host


def machine(id: str, name: str, price: str, **attributes: Any) -> Product:
    return Product(id=id, sku=f"SKU-{id}", name=name, price=Decimal(price),
                   category="machines", attributes={"family": "espresso", **attributes})


def catalogue() -> list[Product]:
    return [
        machine("200", "Espresso machine Pro 2", "899.00", features=["PID"],
                boiler_litres=0.8, colour="black"),
        machine("201", "Espresso machine Pro 3", "1099.00", features=["PID", "dual boiler"],
                boiler_litres=1.8, colour="black"),
        # In the band, same family, but only the colour differs: no upgrade.
        machine("202", "Espresso machine Pro 2 red", "999.00", features=["PID"],
                boiler_litres=0.8, colour="red"),
        # Adds something but is far beyond the band (> 2x).
        machine("203", "Espresso machine Lux", "2900.00", features=["PID", "rotary pump"]),
        # Adds something, in the band, but another family (a grinder is no espresso machine).
        Product(id="204", sku="SKU-204", name="Grinder Pro", price=Decimal("1000.00"),
                category="machines", attributes={"family": "grinder", "burrs": "titanium"}),
        # A premium alternative that is no longer sold.
        machine("205", "Espresso machine Pro 2 Plus", "950.00", features=["PID", "flow"],
                ).model_copy(update={"status": "archived"}),
    ]


def test_upsell_names_the_premium_alternative_and_what_it_adds(
        store: Store, kit: Any, strategies: PluginHost) -> None:
    kit.b2b_merchant(store)
    with store.session() as session:
        upsert_products(session, "shop", catalogue())
    build_model(strategies, store, RecoSettings(), lambda: kit.now)
    model = load_model(store)
    assert model.upsell["shop"]["200"] == ["201"]
    ranked = rank(strategies, model, RecommendationRequest(connection="shop",
                                                           product_id="200"))
    upsells = [r for r in ranked.recommendations if r.strategy == "upsell"]
    assert [r.product_id for r in upsells] == ["201"]
    [premium] = upsells
    assert premium.kind == "upsell"
    assert premium.reason == "Espresso machine Pro 3: dual boiler, boiler litres 1.8 (0.8); +€200"
    assert premium.reason_in("de") == ("Espresso machine Pro 3: dual boiler, boiler litres 1.8 "
                                       "(0.8); 200 € mehr")
    ratio = 1099 / 899
    assert premium.score == pytest.approx(0.5 * (1 - 0.5 * (ratio - 1.1) / (2.0 - 1.1)))
    assert premium.evidence["price_difference"] == "200.00"
    assert premium.evidence["adds"] == ["dual boiler", "boiler litres 1.8 (0.8)"]
    # The premium model itself has no premium alternative; the ERP's records name no family.
    assert "201" not in model.upsell["shop"]
    assert "erp" not in model.upsell


def test_upsell_band_and_family_are_configurable(store: Store, kit: Any,
                                                 strategies: PluginHost) -> None:
    kit.seed(store, products={"shop": catalogue()})
    build_model(strategies, store, RecoSettings(upsell_max_ratio=3.5, upsell_family=[
        "category"]), lambda: kit.now)
    offered = load_model(store).upsell["shop"]["200"]
    # The nearest in price first; the grinder counts once the family is only the category.
    assert offered == ["204", "201", "203"]
    build_model(strategies, store, RecoSettings(upsell_alternatives=1, upsell_family=[
        "category"], upsell_max_ratio=3.5), lambda: kit.now)
    assert load_model(store).upsell["shop"]["200"] == ["204"]


def test_upsell_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="upsell_max_ratio must be above"):
        RecoSettings(upsell_min_ratio=1.5, upsell_max_ratio=1.2)
    with pytest.raises(ValidationError, match='expected "category", "vendor"'):
        RecoSettings(upsell_family=["colour"])


def test_gains_are_additions_not_differences() -> None:
    assert gains({"features": ["PID"], "colour": "black", "litres": "0,8"},
                 {"features": ["pid", "Dual boiler"], "colour": "red", "litres": "1.8",
                  "steam_wand": True, "warranty": "3 years", "family": "x"},
                 ["family"]) == ["Dual boiler", "steam wand", "litres 1.8 (0,8)",
                                 "warranty: 3 years"]
    assert gains({"litres": 2, "steam_wand": True}, {"litres": 1, "steam_wand": True},
                 []) == []


def test_a_reason_names_three_additions_and_counts_the_rest() -> None:
    assert reasons("Pro 3", ["a", "b", "c", "d", "e"], Decimal("1234.50"), "EUR") == {
        "en": "Pro 3: a, b, c and 2 more; +€1234.50",
        "de": "Pro 3: a, b, c und 2 weitere; 1234,50 € mehr"}
    assert reasons("Pro 3", ["a"], Decimal("20"), "CHF")["en"] == "Pro 3: a; +20 CHF"


# -- any catalogue ---------------------------------------------------------------------------

FEATURES = ["PID", "dual boiler", "flow", "rotary pump"]


@st.composite
def catalogues(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for n in range(draw(st.integers(0, 25))):
        records[str(n)] = {
            "id": str(n), "name": f"P{n}",
            "price": str(draw(st.decimals(0, 3000, places=2, allow_nan=False))),
            "currency": draw(st.sampled_from(["EUR", "EUR", "USD"])),
            "category": draw(st.sampled_from(["machines", "grinders", None])),
            "status": draw(st.sampled_from(["active", "active", "archived"])),
            "attributes": {"family": draw(st.sampled_from(["a", "b", None])),
                           "features": draw(st.lists(st.sampled_from(FEATURES),
                                                     unique=True))},
        }
    return records


@settings(deadline=None)  # no timing: the machine is shared
@given(catalogues(), st.floats(1.01, 2.0), st.floats(0.1, 2.0), st.integers(1, 4))
def test_an_upsell_is_always_a_pricier_active_family_member_that_adds_something(
        records: dict[str, dict[str, Any]], low: float, width: float, keep: int) -> None:
    high = low + width
    found = fit_upsells({"shop": records}, family=FAMILY, min_ratio=low, max_ratio=high,
                        alternatives=keep, ignore=IGNORE).get("shop", {})

    def qualifies(anchor: dict[str, Any], other: dict[str, Any]) -> bool:
        price, price_other = price_of(anchor), price_of(other)
        return (other is not anchor and price is not None and price_other is not None
                and family_of(anchor, FAMILY) is not None
                and family_of(anchor, FAMILY) == family_of(other, FAMILY)
                and anchor["currency"] == other["currency"] and other["status"] == "active"
                and price * Decimal(str(low)) <= price_other <= price * Decimal(str(high))
                and bool(gains(anchor["attributes"], other["attributes"], IGNORE)))

    for anchor_id, anchor in records.items():
        expected = sorted((price_of(o), i) for i, o in records.items()
                          if qualifies(anchor, o))
        # Exactly the nearest-priced qualifying alternatives (ties by id), at most `keep`.
        assert found.get(anchor_id, []) == [i for _, i in expected[:keep]]
        for other in found.get(anchor_id, []):
            assert price_of(records[other]) > price_of(anchor)  # type: ignore[operator]
