"""Reads beyond the conformance kit: bulk-operation first loads, long orders, record shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from shoploop.hooks import AttributeChange, LineItem, Order
from shoploop.plugins.shopify.emulator import numeric_id
from shoploop.testing import make_dataset


def _read_all(read, cursor=None):
    items = []
    while True:
        page = read(cursor)
        items.extend(page.items)
        cursor = page.cursor
        if not page.has_more:
            return items, cursor


def _long_order_dataset():
    dataset = make_dataset(customers=12, products=30, orders=9)
    lines = [LineItem(product_id=p.id, sku=p.sku, name=p.name, quantity=i + 1,
                      unit_price=p.price) for i, p in enumerate(dataset.products[:25])]
    dataset.orders[0] = dataset.orders[0].model_copy(update={"lines": lines})
    return dataset


def test_first_full_load_runs_as_bulk_operation_then_reads_incrementally(start_emulator,
                                                                         connect):
    emulator = start_emulator(bucket=2000, restore_rate=1000, bulk_polls=2)
    dataset = _long_order_dataset()
    emulator.data.load(customers=dataset.customers, products=dataset.products,
                       orders=dataset.orders)
    connector = connect(emulator, page_size=5, bulk_threshold=3)
    sleeps: list[float] = []
    connector.client._sleep = sleeps.append
    customers, checkpoint = _read_all(connector.read_customers)
    assert emulator.stats.get("calls.bulkOperationRunQuery") == 1 and sleeps == [1.0, 1.0]
    by_id = {c.id: c for c in customers}
    assert len(by_id) == len(customers) == 12
    source = dataset.customers[0]
    read = by_id[str(numeric_id("Customer", source.id))]
    assert (read.email, read.updated_at) == (source.email, source.updated_at)
    assert read.attributes.get("customer_group") == source.attributes["customer_group"]
    orders, _ = _read_all(connector.read_orders)
    assert emulator.stats.get("calls.bulkOperationRunQuery") == 2
    long_order = next(o for o in orders if o.id == str(numeric_id("Order",
                                                                  dataset.orders[0].id)))
    assert [line.quantity for line in long_order.lines] == list(range(1, 26))
    # The checkpoint is an ordinary watermark: the next run pages normally and finds nothing.
    again = connector.read_customers(checkpoint)
    assert again.items == [] and not again.has_more
    assert emulator.stats.get("calls.bulkOperationRunQuery") == 2


def test_small_streams_page_normally_and_long_orders_are_completed(emulator, connect):
    dataset = _long_order_dataset()
    emulator.data.load(customers=dataset.customers, products=dataset.products,
                       orders=dataset.orders)
    connector = connect(emulator, page_size=4, bulk_threshold=1000)
    orders, _ = _read_all(connector.read_orders)
    assert emulator.stats.get("calls.bulkOperationRunQuery") == 0
    long_order = next(o for o in orders if o.id == str(numeric_id("Order",
                                                                  dataset.orders[0].id)))
    assert len(long_order.lines) == 25 and long_order.total == dataset.orders[0].total
    source = {str(numeric_id("Order", o.id)): o for o in dataset.orders}
    for order in orders:
        original = source[order.id]
        assert (order.status, order.customer_id is None, order.refunded_total,
                order.discount_codes) == (original.status, original.customer_id is None,
                                          original.refunded_total, original.discount_codes)
        assert order.attributes == {k: str(v) for k, v in original.attributes.items()}
    products, _ = _read_all(connector.read_products)
    price = {str(numeric_id("Product", p.id)): p.price for p in dataset.products}
    assert all(p.price == price[p.id] and isinstance(p.price, Decimal) for p in products)


def test_a_large_incremental_pass_runs_as_bulk_operation_too(start_emulator, connect):
    """After a sync wrote to most customers, the next pass exports the changed ones in bulk
    instead of paging them back; records delivered before are not delivered again."""
    emulator = start_emulator(bucket=5000, restore_rate=5000, bulk_polls=0)
    dataset = _long_order_dataset()
    emulator.data.load(customers=dataset.customers)
    connector = connect(emulator, page_size=5, bulk_threshold=3)
    first, checkpoint = _read_all(connector.read_customers)
    assert emulator.stats.get("calls.bulkOperationRunQuery") == 1
    # Nothing changed: a count, no bulk, no records.
    again = connector.read_customers(checkpoint)
    assert again.items == [] and emulator.stats.get("calls.bulkOperationRunQuery") == 1
    changed = sorted(c.id for c in first)[:6]
    connector.write_customer_attributes([AttributeChange(customer_id=c, key="segment",
                                                         new="vip") for c in changed])
    updates, checkpoint = _read_all(connector.read_customers, checkpoint)
    assert emulator.stats.get("calls.bulkOperationRunQuery") == 2
    assert sorted(c.id for c in updates) == changed
    assert all(c.attributes.get("segment") == "vip" for c in updates)
    assert connector.read_customers(checkpoint).items == []


def test_a_bulk_export_resumes_mid_file_on_a_new_connector(start_emulator, connect):
    """The cursor holds the export's URL and a node offset: a new instance (a resumed job)
    downloads the file again and continues at that node — nothing skipped, nothing twice."""
    emulator = start_emulator(bucket=5000, restore_rate=5000, bulk_polls=0)
    dataset = make_dataset(customers=23, products=1, orders=0)
    emulator.data.load(customers=dataset.customers)
    first = connect(emulator, page_size=4, bulk_threshold=3)
    page = first.read_customers(None)
    delivered = [c.id for c in page.items]
    page = first.read_customers(page.cursor)
    delivered += [c.id for c in page.items]
    assert page.has_more and page.cursor.position["offset"] == 8
    resumed = connect(emulator, page_size=4, bulk_threshold=3)
    rest, _ = _read_all(resumed.read_customers, page.cursor)
    delivered += [c.id for c in rest]
    assert emulator.stats.get("calls.bulkOperationRunQuery") == 1  # the same export, twice
    assert len(delivered) == len(set(delivered)) == 23
    assert set(delivered) == {str(numeric_id("Customer", c.id)) for c in dataset.customers}


def test_an_ungrouped_export_is_refused_with_the_remedy():
    from shoploop.hooks import ConnectorError
    from shoploop.plugins.shopify._bulk import assemble

    lines = ['{"id": "gid://shopify/Customer/1"}', '{"id": "gid://shopify/Customer/2"}',
             '{"id": "gid://shopify/Metafield/9", "key": "k", '
             '"__parentId": "gid://shopify/Customer/1"}']
    nodes = assemble(iter(lines), "shop")
    assert next(nodes)["id"].endswith("/1")
    try:
        next(nodes)
    except ConnectorError as exc:
        assert "not grouped" in str(exc) and "2025-07" in exc.remedy
    else:
        raise AssertionError("an ungrouped export must be refused")


def test_count_records_counts_the_read_ahead_from_its_cursor(emulator, connect):
    dataset = make_dataset(customers=14, products=3, orders=5)
    emulator.data.load(customers=dataset.customers, products=dataset.products,
                       orders=dataset.orders)
    connector = connect(emulator, page_size=5)
    assert [connector.count_records(s) for s in ("customers", "products", "orders")] == \
        [14, 3, 5]
    first = connector.read_customers()
    assert first.has_more and connector.count_records("customers", first.cursor) is None
    _, checkpoint = _read_all(connector.read_customers, first.cursor)
    connector.write_customer_attributes([AttributeChange(
        customer_id=first.items[0].id, key="customer_group", new="wholesale")])
    # From a checkpoint: what changed since its window (the window's own records included:
    # an estimate, the read skips them).
    counted = connector.count_records("customers", checkpoint)
    changed, _ = _read_all(connector.read_customers, checkpoint)
    assert counted is not None and len(changed) <= counted < 14
    assert connector.count_records("installed_base") is None


def test_counts_are_capped_at_their_limit_like_shopifys(emulator):
    dataset = make_dataset(customers=5, products=1, orders=0)
    emulator.data.load(customers=dataset.customers, products=dataset.products, orders=[])
    capped = emulator.run("{ customersCount(limit: 3) { count precision } }", {})
    assert capped["data"]["customersCount"] == {"count": 3, "precision": "AT_LEAST"}
    uncapped = emulator.run("{ customersCount(limit: null) { count precision } }", {})
    assert uncapped["data"]["customersCount"] == {"count": 5, "precision": "EXACT"}


def test_a_refunded_order_says_when_it_was_refunded(emulator, connect):
    """``refunds { createdAt }``: the referral loop judges its return window and clawback at
    the refund's date, not at the date the job happens to run."""
    refunded_at = datetime(2026, 7, 3, 9, 30, tzinfo=UTC)
    placed = datetime(2026, 6, 1, 10, tzinfo=UTC)
    def line(price: str) -> LineItem:
        return LineItem(name="x", quantity=1, unit_price=Decimal(price))

    emulator.data.load(orders=[
        Order(id="1", placed_at=placed, status="refunded", refunded_total=Decimal("20"),
              refunded_at=refunded_at, lines=[line("20")]),
        Order(id="2", placed_at=placed, lines=[line("5")])])
    orders, _ = _read_all(connect(emulator).read_orders)
    by_total = {o.total: o for o in orders}
    assert by_total[Decimal("20")].refunded_at == refunded_at
    assert by_total[Decimal("5")].refunded_at is None
