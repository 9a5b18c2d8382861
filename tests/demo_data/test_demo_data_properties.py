"""Properties over many small merchants (hypothesis): valid, consistent, deterministic."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop.demo_data import DemoMerchant, dumps
from shoploop.hooks import Customer, InstalledEquipment, Order, Product

params = st.fixed_dictionaries({
    "seed": st.integers(min_value=-(2**40), max_value=2**40),
    "customers": st.integers(min_value=0, max_value=60),
    "products": st.one_of(st.none(), st.integers(min_value=20, max_value=70)),
    "years": st.integers(min_value=1, max_value=3),
    "as_of": st.dates(min_value=date(2012, 1, 1), max_value=date(2040, 12, 31)),
})


def texts(m: DemoMerchant) -> dict[str, list[str]]:
    return {"customers": [dumps(r) for r in m.iter_customers()],
            "products": [dumps(r) for r in m.iter_products()],
            "orders": list(m.iter_orders_json()),
            "installed_base": [dumps(r) for r in m.iter_installed_base()]}


@settings(max_examples=30, deadline=None)
@given(params)
def test_every_record_validates_and_every_reference_resolves(kw):
    m = DemoMerchant(**kw)
    data = texts(m)
    customers = [Customer.model_validate_json(line) for line in data["customers"]]
    products = [Product.model_validate_json(line) for line in data["products"]]
    orders = [Order.model_validate_json(line) for line in data["orders"]]
    equipment = [InstalledEquipment.model_validate_json(line) for line in data["installed_base"]]
    assert len(customers) == kw["customers"] and len(products) == m.products

    for records in (customers, products, orders, equipment):
        ids = [r.id for r in records]
        assert len(ids) == len(set(ids))
    by_id = {p.id: p for p in products}
    customer_ids = {c.id for c in customers}
    start, end = m.window.start, m.as_of
    for o in orders:
        assert o.customer_id is None or o.customer_id in customer_ids
        assert o.email and o.lines
        assert start <= o.placed_at.date() < end and o.placed_at <= o.updated_at
        for line in o.lines:
            assert line.product_id in by_id and line.sku == by_id[line.product_id].sku
            assert line.quantity >= 1
    for e in equipment:
        assert e.customer_id in customer_ids and by_id[e.product_id].category == "machines"
        assert e.last_service_at is None or e.last_service_at >= e.installed_at
    truth = m.ground_truth()
    mentioned = {p["product_id"] for p in truth["complementary_pairs"]}
    mentioned |= {p["complement_id"] for p in truth["complementary_pairs"]}
    mentioned |= set(truth["premium_variants"]) | set(truth["premium_variants"].values())
    mentioned |= set(truth["repurchase_cycle_days"]) | set(truth["spare_parts"])
    assert mentioned <= set(by_id)


@settings(max_examples=15, deadline=None)
@given(params)
def test_same_parameters_same_bytes_other_seed_other_data(kw):
    first, again = texts(DemoMerchant(**kw)), texts(DemoMerchant(**kw))
    assert first == again
    other = texts(DemoMerchant(**{**kw, "seed": kw["seed"] + 1}))
    assert other["products"] != first["products"]
    if kw["customers"] >= 5:
        assert other["customers"] != first["customers"]
