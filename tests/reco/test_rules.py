"""The built-in rules over real store data (SQLite and PostgreSQL): each rule's veto, boost or
pin with its reason, per placement; properties of the price band and the diversity cap; the
settings' errors; ``reco show --json`` showing a veto's reason."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shoploop import load_plugins
from shoploop._plugins import PluginHost
from shoploop.combine import Ranked, apply_patches
from shoploop.hooks import (
    ConfigError,
    HookContext,
    LineItem,
    Order,
    Product,
    Recommendation,
    RecommendationRequest,
    hookimpl,
)
from shoploop.reco import RecoSettings, _rules, build_model, load_model, rank
from shoploop.reco._days import day_of
from shoploop.reco._lookup import ProductTable
from shoploop.reco._rules_settings import RuleSettings
from shoploop.store import Store, upsert_orders, upsert_products

RULES = ("product_state", "already_bought", "price_band", "categories", "manual_lists",
         "diversity")
DOC = Path(__file__).resolve().parents[2] / "docs" / "recommendations.md"


def product(id: str, name: str, price: str, category: str | None, **more: Any) -> Product:
    return Product(id=id, sku=f"SKU-{id}", name=name, price=Decimal(price), category=category,
                   **more)


# The anchor (a machine) and everything bought with it, one product per rule to trip.
CATALOGUE = [
    product("1", "Espresso machine", "899.00", "Machines"),
    product("2", "Descaler", "12.90", "Care"),
    product("3", "Milk jug", "24.90", "Accessories"),
    product("4", "Tamper", "29.00", "Accessories", stock=0),
    product("5", "Cups (on backorder)", "15.00", "Accessories", stock=0,
            attributes={"backorders": "notify"}),
    product("6", "Knock box", "35.00", "Accessories"),
    product("7", "Gift card 50", "50.00", "Gift Cards"),
    product("8", "Cleaning tablets (draft)", "9.90", "Care", status="draft"),
    product("9", "Free sample", "0", "Samples"),
    product("10", "Grinder", "199.00", "Grinders"),
    product("11", "Beans 1 kg", "18.50", "Coffee", tags=["consumable"]),
    product("12", "Espresso machine Pro", "1499.00", "Machines"),
    product("20", "Tea", "5.00", "Tea"),
]
WITH_MACHINE = [p.id for p in CATALOGUE if p.id not in ("1", "12", "20")]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def seed(store: Store) -> None:
    """Eight machine orders with everything; tea alone (so co-occurrence is significant);
    customer c1 bought the jug and beans (beans every 30 days: due again now)."""
    prices = {p.id: p.price for p in CATALOGUE}
    orders: list[Order] = []

    def add(customer: str | None, days_ago: int, ids: Sequence[str]) -> None:
        orders.append(Order(id=f"o{len(orders) + 1}", customer_id=customer,
                            placed_at=NOW - timedelta(days=days_ago), status="paid",
                            lines=[LineItem(product_id=i, sku=f"SKU-{i}", name=i, quantity=1,
                                            unit_price=prices[i]) for i in ids]))

    for n in range(8):
        add(f"m{n}", 100 + n, ["1", *WITH_MACHINE])
    for n in range(12):
        add(f"t{n}", 50 + n, ["20"])
    add("c1", 200, ["3"])
    for days in (150, 120, 90, 60, 30):
        add("c1", days, ["11"])
    with store.session() as session:
        upsert_products(session, "shop", CATALOGUE)
        upsert_orders(session, "shop", orders)


class Upsell:
    """A stand-in upsell strategy with a fixed answer: the premium machine for the descaler's
    page (the price band must let kind "upsell" through, whoever proposes it)."""

    @hookimpl
    def recommendation_candidates(self, request: RecommendationRequest
                                  ) -> list[Recommendation] | None:
        if request.product_id != "2":
            return None
        return [Recommendation(product_id="12", score=0.9, kind="upsell", strategy="upsell",
                               reason="the premium model")]


@pytest.fixture
def rules_host() -> PluginHost:
    """The built-in strategies and rules through their entry points, as `shoploop` loads
    them."""
    host = load_plugins(strict=True, environ={
        "SHOPLOOP_LOAD_PLUGINS": ",".join(("bought_together", "buy_again", *RULES))})
    assert sorted(host.plugin_names()) == sorted(("bought_together", "buy_again", *RULES))
    return host


@pytest.fixture
def ask(store: Store, rules_host: PluginHost) -> Callable[..., Ranked]:
    """Seed, build with ``placements`` (once per settings), rank a request."""
    seed(store)
    built: dict[str, Any] = {}

    def run(placements: dict[str, Any] | None = None, **request: Any) -> Ranked:
        key = json.dumps(placements, sort_keys=True)
        if key not in built:
            settings = RecoSettings.model_validate({"min_support": 2, "min_llr": 0,
                                                    "placements": placements or {}})
            build_model(rules_host, store, settings, lambda: NOW)
            built[key] = load_model(store)  # the stored blob: rules read what it keeps
        return rank(rules_host, built[key],
                    RecommendationRequest(connection="shop", k=50, **request),
                    context=HookContext(now=NOW))

    return run


def shown(ranked: Ranked) -> list[str]:
    return [r.product_id for r in ranked.recommendations]


def test_product_state_vetoes_what_cannot_be_sold(ask: Callable[..., Ranked]) -> None:
    ranked = ask(product_id="1", placement="any_page")
    assert ranked.vetoed == {
        "4": ["product_state: out of stock (stock 0, no backorders)"],
        "7": ["product_state: a gift card (category/tag 'gift cards')"],
        "8": ["product_state: not published (status draft)"],
        "9": ["product_state: no price (0.00 EUR)"],
    }
    assert {"2", "3", "5", "6", "10", "11"} <= set(shown(ranked))  # 5: backorders allowed
    relaxed = ask({"any_page": {"rules": {"out_of_stock": False, "gift_cards": False,
                                          "unpublished": False, "zero_price": False}}},
                  product_id="1", placement="any_page")
    assert relaxed.vetoed == {} and {"4", "7", "8", "9"} <= set(shown(relaxed))


def test_the_anchor_and_the_cart_are_never_recommended(ask: Callable[..., Ranked]) -> None:
    # The core drops the request's own products before any rule runs (combine.recommend).
    ranked = ask(product_id="1", cart=["2", "3"], placement="any_page")
    assert not {"1", "2", "3"} & (set(shown(ranked)) | set(ranked.vetoed))


def test_already_bought_spares_replenishment_and_consumables(
        ask: Callable[..., Ranked]) -> None:
    ranked = ask(product_id="1", customer_id="c1", placement="any_page")
    assert ranked.vetoed["3"] == [
        "already_bought: the customer already bought it (last on 2026-05-15) and it is not a "
        "consumable"]
    # Beans: bought together with the machine *and* due again (buy_again's replenishment).
    beans = {r.product_id: r for r in ranked.recommendations}["11"]
    assert beans.evidence["strategies"]["buy_again"]["kind"] == "replenishment"  # type: ignore[index]
    # As a mere bought-together candidate the beans pass only as a consumable (by tag).
    email = ask({"email": {"rules": {"consumables": ["Consumable"]}}}, product_id="10",
                customer_id="c1", placement="email")
    assert "11" not in email.vetoed and "3" in email.vetoed
    # Without a customer nothing counts as bought.
    assert "3" in shown(ask(product_id="1", placement="any_page"))


def test_the_model_keeps_who_bought_what(store: Store, ask: Callable[..., Ranked]) -> None:
    ask(product_id="1")
    model = load_model(store)
    assert model.purchases is not None
    customer = model.customer_index("shop", "c1")
    assert customer is not None
    bought = {model.product_keys[int(p)] for p in model.purchases.product[
        model.purchases.indptr[customer]:model.purchases.indptr[customer + 1]]}
    assert bought == {"SKU-3", "SKU-11"}
    jug = model.product_index("shop", "3")
    assert jug is not None and model.purchases.last_bought(customer, jug) == day_of(NOW) - 200


def test_price_band_caps_complements_not_upsells(ask: Callable[..., Ranked],
                                                 rules_host: PluginHost) -> None:
    rules_host.register(Upsell(), name="premium_fixture")
    ranked = ask(product_id="2", placement="product_page")
    assert ranked.vetoed["1"] == [
        "price_band: costs 899.00 EUR, more than 1 x Descaler's 12.90 EUR (the price band "
        "of product_page)"]
    assert "3" in ranked.vetoed and "11" in ranked.vetoed  # 24.90 and 18.50 > 12.90
    assert shown(ranked)[0] == "12"  # the upsell: dearer, and exempt
    wider = ask({"product_page": {"rules": {"price_band": 2.0}}}, product_id="2",
                placement="product_page")
    assert "3" in shown(wider) and "11" in shown(wider) and "1" in wider.vetoed
    # A cart's band is the dearest item's price; an e-mail has no band by default.
    assert "10" in shown(ask(cart=["2", "1"], placement="cart"))
    assert "1" in shown(ask(product_id="2", placement="email"))


def test_category_include_and_exclude(ask: Callable[..., Ranked]) -> None:
    only = ask({"cart": {"rules": {"include_categories": ["accessories", "Care"],
                                   "max_per_category": None}}}, cart=["1"], placement="cart")
    assert set(shown(only)) == {"2", "3", "5", "6"}
    assert only.vetoed["10"] == ["categories: category 'Grinders' is not one of cart's "
                                 "categories (accessories, care)"]
    without = ask({"cart": {"rules": {"exclude_categories": ["Accessories"]}}}, cart=["1"],
                  placement="cart")
    assert without.vetoed["3"] == ["categories: category 'Accessories' is excluded on cart"]
    assert "10" in shown(without)


def test_manual_pin_boost_block_from_config_and_file(tmp_path: Path, store: Store,
                                                     rules_host: PluginHost) -> None:
    from shoploop._config import load_config

    seed(store)
    (tmp_path / "rules.csv").write_text(
        "# the merchant's list\n"
        "anchor,product,action,factor,reason\n"
        "1,6,pin,,our own brand\n"
        "*,3,block,,supplier recall\n", encoding="utf-8")
    config = tmp_path / "shoploop.toml"
    config.write_text(f'[store]\nurl = "{store.url}"\n\n[reco]\nmin_support = 2\nmin_llr = 0\n'
                      '[reco.placements.product_page.rules]\nmanual_file = "rules.csv"\n'
                      'manual = [{ product = "10", action = "boost", factor = 0.5 }]\n',
                      encoding="utf-8")
    settings = load_config(config, rules_host.connectors).reco
    build_model(rules_host, store, settings, lambda: NOW)
    model = load_model(store)
    ranked = rank(rules_host, model, RecommendationRequest(connection="shop", product_id="1",
                                                           k=50), context=HookContext(now=NOW))
    assert shown(ranked)[0] == "6"
    assert ranked.recommendations[0].evidence["rules"] == [
        "manual_lists: pinned by the merchant for product 1; our own brand (rules.csv:3)"]
    assert ranked.vetoed["3"] == [
        "manual_lists: blocked by the merchant for every request; supplier recall "
        "(rules.csv:4)"]
    grinder = {r.product_id: r for r in ranked.recommendations}["10"]
    assert grinder.evidence["rules"] == ["manual_lists: damped x0.5 by the merchant for "
                                         "every request (config)"]
    assert grinder.score == pytest.approx(
        grinder.evidence["strategies"]["bought_together"]["score"] * 0.5)  # type: ignore[index]
    # The pin applies to its anchor only.
    other = rank(rules_host, model, RecommendationRequest(connection="shop", product_id="2",
                                                          k=50), context=HookContext(now=NOW))
    assert "3" in other.vetoed and not any("pinned" in " ".join(r.evidence.get("rules", []))
                                           for r in other.recommendations)  # type: ignore[arg-type]


@pytest.mark.parametrize(("rows", "message"), [
    ("anchor,product,action\n1,6,boost\n", "rules.csv:2: a boost needs a factor"),
    ("anchor,product,action\n1,6,pin\n1,6,hide\n", "rules.csv:3: action: Input should be"),
    ("anchor,item,action\n", "rules.csv:1: the header must name anchor, product, action"),
    ("anchor,product,action\n1,6,pin,2,x,y,z\n", "rules.csv:2: 7 cells"),
])
def test_a_bad_manual_file_names_file_line_and_key(rows: str, message: str, tmp_path: Path,
                                                   rules_host: PluginHost) -> None:
    from shoploop._config import load_config

    (tmp_path / "rules.csv").write_text(rows, encoding="utf-8")
    config = tmp_path / "shoploop.toml"
    config.write_text('[reco.placements.cart]\nrules = { manual_file = "rules.csv" }\n',
                      encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(config, rules_host.connectors)
    assert message in str(raised.value)
    assert raised.value.key == "reco.placements.cart.rules"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("rules", "key"), [
    ("{ price_band = 0 }", "reco.placements.cart.rules.price_band"),
    ("{ max_per_categry = 2 }", "reco.placements.cart.rules.max_per_categry"),
    ("{ price_band_exempt = [\"upsel\"] }", "reco.placements.cart.rules.price_band_exempt.0"),
    ("{ manual = [{ product = \"1\", action = \"pin\", factor = 2 }] }",
     "reco.placements.cart.rules.manual.0"),
])
def test_rule_settings_errors_name_the_key(rules: str, key: str, tmp_path: Path,
                                           rules_host: PluginHost) -> None:
    from shoploop._config import load_config

    config = tmp_path / "shoploop.toml"
    config.write_text(f"[reco.placements.cart]\nrules = {rules}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(config, rules_host.connectors)
    assert raised.value.key == key  # type: ignore[attr-defined]


def test_diversity_caps_each_category_counting_only_survivors(
        ask: Callable[..., Ranked]) -> None:
    ranked = ask({"product_page": {"rules": {"max_per_category": 1, "price_band": None}}},
                 product_id="1", placement="product_page")
    accessories = [p for p in shown(ranked) if p in ("3", "5", "6")]
    assert len(accessories) == 1
    # The out-of-stock tamper (4) is vetoed by product_state, not counted by diversity.
    assert ranked.vetoed["4"] == ["product_state: out of stock (stock 0, no backorders)"]
    capped = sorted(p for p, reasons in ranked.vetoed.items()
                    if any(r.startswith("diversity:") for r in reasons))
    assert capped == sorted({"3", "5", "6"} - set(accessories))
    assert ranked.vetoed[capped[0]] == [
        "diversity: already 1 of category 'Accessories' ranked higher (at most 1 per "
        "category on product_page)"]


def test_show_json_names_each_veto_and_its_reason(store: Store, rules_host: PluginHost,
                                                  tmp_path: Path) -> None:
    from shoploop.cli._app import build_app

    seed(store)
    config = tmp_path / "shoploop.toml"
    config.write_text(f'[store]\nurl = "{store.url}"\n\n[reco]\nmin_support = 2\n'
                      "min_llr = 0\n", encoding="utf-8")
    runner = CliRunner()
    built = runner.invoke(build_app(rules_host), ["-c", str(config), "reco", "build", "--json"])
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["rules"] == sorted(RULES)
    result = runner.invoke(build_app(rules_host), ["-c", str(config), "reco", "show",
                                                   "--product", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["vetoed"]["1"] == [
        "price_band: costs 899.00 EUR, more than 1 x Descaler's 12.90 EUR (the price band "
        "of product_page)"]
    assert "1" not in [r["product_id"] for r in data["recommendations"]]
    table = runner.invoke(build_app(rules_host), ["-c", str(config), "reco", "show",
                                                  "--product", "2"])
    assert "vetoed 7: product_state: a gift card" in " ".join(table.output.split())


def test_the_documented_rules_config_validates(tmp_path: Path,
                                               rules_host: PluginHost) -> None:
    import re

    from shoploop._config import load_config

    section = DOC.read_text(encoding="utf-8").split("## Rules")[1].split("\n## ")[0]
    toml, csv_rows = (re.search(rf"```{kind}\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
                      for kind in ("toml", "csv"))
    (tmp_path / "reco-rules.csv").write_text(csv_rows, encoding="utf-8")
    config = tmp_path / "shoploop.toml"
    config.write_text(toml, encoding="utf-8")
    reco = load_config(config, rules_host.connectors).reco
    cart = reco.rules_for("cart")
    assert cart.max_per_category == 2 and cart.exclude_categories == ["spare parts"]
    assert [row.action for row in cart.manual] == ["boost", "pin", "block"]  # config, file
    assert reco.rules_for("product_page").price_band == 1.5
    assert reco.rules_for("email").consumables == ["coffee", "filters"]


# --- properties: the guarantees hold for any catalogue and any scores ------------------------

CATEGORIES = st.sampled_from(["A", "B", "C", None])


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Product], list[Recommendation]]:
    n = draw(st.integers(1, 25))
    products = [Product(id=str(i), name=f"p{i}", category=draw(CATEGORIES),
                        price=Decimal(draw(st.integers(1, 2000))) / 100,
                        stock=draw(st.sampled_from([None, 0, 3])))
                for i in range(n)]
    candidates = [Recommendation(product_id=p.id, score=draw(st.floats(0, 1)),
                                 kind=draw(st.sampled_from(["complementary", "upsell",
                                                            "cross_sell"])),
                                 strategy="s", reason="r") for p in products]
    return products, candidates


def run_rules(products: list[Product], candidates: list[Recommendation], rules: RuleSettings,
              anchor: Product) -> Ranked:
    table = ProductTable("shop", [*products, anchor])
    request = RecommendationRequest(connection="shop", product_id=anchor.id, k=1000)
    case = _rules.Case(request, candidates, table, None, rules)
    patches = [(name, getattr(_rules, name)(case)) for name in
               ("product_state", "price_band", "categories", "manual", "diversity")]
    return apply_patches(candidates, patches, request.k)


@settings(deadline=None)  # a slow example under load is no failure
@given(cases(), st.integers(1, 4), st.integers(1, 2000))
def test_the_diversity_cap_never_exceeds_n_per_category(
        case: tuple[list[Product], list[Recommendation]], cap: int, anchor_cents: int) -> None:
    products, candidates = case
    anchor = Product(id="anchor", name="anchor", price=Decimal(anchor_cents) / 100)
    ranked = run_rules(products, candidates, RuleSettings(max_per_category=cap), anchor)
    category = {p.id: p.category for p in products}
    counts: dict[str, int] = {}
    for rec in ranked.recommendations:
        if category[rec.product_id] is not None:
            counts[category[rec.product_id]] = counts.get(category[rec.product_id], 0) + 1  # type: ignore[index]
    assert all(count <= cap for count in counts.values())
    # …and takes no more than it must: a category below the cap lost nothing to diversity.
    for product_id, reasons in ranked.vetoed.items():
        if any(r.startswith("diversity") for r in reasons):
            assert counts[category[product_id]] == cap  # type: ignore[index]


@settings(deadline=None)  # a slow example under load is no failure
@given(cases(), st.floats(0.1, 5), st.integers(1, 2000))
def test_the_price_band_never_passes_a_complement_above_it(
        case: tuple[list[Product], list[Recommendation]], factor: float,
        anchor_cents: int) -> None:
    products, candidates = case
    anchor = Product(id="anchor", name="anchor", price=Decimal(anchor_cents) / 100)
    ranked = run_rules(products, candidates, RuleSettings(price_band=factor), anchor)
    price = {p.id: p.price for p in products}
    limit = anchor.price * Decimal(str(factor))
    for rec in ranked.recommendations:
        assert rec.kind == "upsell" or price[rec.product_id] <= limit
    # Nothing within the band and in stock is vetoed by it.
    for product_id, reasons in ranked.vetoed.items():
        if any(r.startswith("price_band") for r in reasons):
            assert price[product_id] > limit


def test_already_bought_in_the_erp_is_vetoed_in_the_shop(store: Store, kit: Any,
                                                         rules_host: PluginHost) -> None:
    """B2B: K-1001 (the shop's 9001, bound by the sync) bought the milk jug by phone — the
    ERP's order — so the shop does not offer it again on the machine's page."""
    kit.b2b_merchant(store)
    erp = kit.orders("erp", {sku: sku for sku in kit.shop_ids})
    erp.add("K-1001", 40, ["MILK-JUG"]).id = "erp-jug"  # not the merchant's erp-1
    with store.session() as session:
        upsert_orders(session, "erp", erp.orders)
    build_model(rules_host, store, RecoSettings(), lambda: NOW)
    model = load_model(store)
    machine, jug = kit.shop_ids["ESP-PRO-2"], kit.shop_ids["MILK-JUG"]

    def ask_for(customer: str | None) -> Ranked:
        return rank(rules_host, model, RecommendationRequest(
            connection="shop", product_id=machine, customer_id=customer),
            context=HookContext(now=NOW))

    assert jug in shown(ask_for(None))
    vetoed = ask_for("9001").vetoed
    assert vetoed == {jug: ["already_bought: the customer already bought it (last on "
                            "2026-10-22) and it is not a consumable"]}


@settings(deadline=None)  # a slow example under load is no failure
@given(st.lists(st.tuples(st.integers(-1, 5), st.integers(0, 30), st.integers(0, 6)),
                max_size=60))
def test_purchases_answer_like_a_scan_of_the_history(
        history: list[tuple[int, int, int]]) -> None:
    """(customer or -1 for a guest, day, product) per order line: the CSR finds the last day
    each customer bought each product, and nothing for what they never bought."""
    import numpy as np

    from shoploop.reco._purchase_days import purchase_days
    from shoploop.reco._purchases import fit_purchases

    purchases = fit_purchases(purchase_days(
        np.asarray([c for c, _, _ in history], dtype=np.int32),
        np.asarray([d for _, d, _ in history], dtype=np.int32),
        np.arange(len(history), dtype=np.int32),
        np.asarray([p for _, _, p in history], dtype=np.int32), 7), 6)
    for customer in range(6):
        expected: dict[int, int | None] = {
            product: max((d for c, d, p in history if c == customer and p == product),
                         default=None) for product in range(7)}
        assert [purchases.last_bought(customer, p) for p in range(7)] == list(
            expected.values())
        assert purchases.last_bought_many(customer, [*range(7), -1]) == [
            *expected.values(), None]


class Eager:
    """A strategy that wins the merge on the beans (kind complementary): it scores them as
    high as buy again's due-now 1.0 and, registered last, is called first (ties: first)."""

    @hookimpl
    def recommendation_candidates(self, request: RecommendationRequest
                                  ) -> list[Recommendation] | None:
        return [Recommendation(product_id=p, score=1.0, kind="complementary",
                               strategy="eager", reason="goes with everything")
                for p in ("11", "3")]


def test_a_replenishment_that_lost_the_merge_still_passes(ask: Callable[..., Ranked],
                                                          rules_host: PluginHost) -> None:
    rules_host.register(Eager(), name="eager")
    ranked = ask(customer_id="c1", placement="email")
    beans = {r.product_id: r for r in ranked.recommendations}["11"]
    assert (beans.kind, beans.strategy) == ("complementary", "eager")
    assert beans.evidence["strategies"]["buy_again"]["kind"] == "replenishment"  # type: ignore[index]
    assert "3" in ranked.vetoed  # the jug: bought, and nobody's replenishment
