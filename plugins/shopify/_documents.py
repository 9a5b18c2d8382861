"""Every GraphQL document the adapter can send, by name, for the schema test
(tests/shopify/test_documents.py validates each against the emulator's SDL and refuses any
deprecated field).

The fixed documents live in ``_queries.py`` and ``_bulk.py``; the ones built at run time (aliased
batches, the bulk export's inner query) are generated here with representative arguments, each
builder with every shape it can take (tags: adds only, removes only, both; lookups: by
identifier and by search; bulk: every stream, with and without a search). A new constant or
builder must be added here: the test fails on a document constant that is not listed.
"""

from __future__ import annotations

from . import _bulk, _queries
from ._config import DEFAULT_API_VERSION

STREAMS = ("customers", "products", "orders")


def documents() -> dict[str, str]:
    found = {
        "shop": _queries.SHOP,
        "customers": _queries.CUSTOMERS,
        "products": _queries.PRODUCTS,
        "orders": _queries.ORDERS,
        "order_line_items": _queries.ORDER_LINE_ITEMS,
        "current_values": _queries.current_values(),
        "current_values_one_key": _queries.current_values(1),
        "metafields_set": _queries.METAFIELDS_SET,
        "metafields_delete": _queries.METAFIELDS_DELETE,
        "discount_by_code": _queries.DISCOUNT_BY_CODE,
        "discount_create": _queries.DISCOUNT_CREATE,
        "discount_state": _queries.DISCOUNT_STATE,
        "discount_deactivate": _queries.DISCOUNT_DEACTIVATE,
        "tags_add": _queries.tags_mutation(3, 0),
        "tags_remove": _queries.tags_mutation(0, 2),
        "tags_add_and_remove": _queries.tags_mutation(2, 2),
        "customers_create": _queries.customers_create(3),
        "addresses_create": _queries.addresses_create(2),
        "customers_by_identifier": _queries.customers_by_email(2, by_identifier=True),
        "customers_by_search": _queries.customers_by_email(2, by_identifier=False),
        "bulk_run": _bulk.RUN % "",
        "bulk_run_grouped": _bulk.RUN % ", groupObjects: true",
        "bulk_poll": _bulk.POLL,
        "bulk_newest": _bulk.NEWEST,
    }
    for stream in STREAMS:
        for version in ("2025-04", DEFAULT_API_VERSION):  # capped before 2025-07, uncapped since
            found[f"count_{stream}_{version}"] = _queries.count_query(stream, version)
        # The inner query of bulkOperationRunQuery: Shopify validates it like any query.
        found[f"bulk_export_{stream}"] = _bulk.bulk_query(stream, "shoploop")
        found[f"bulk_export_{stream}_since"] = _bulk.bulk_query(
            stream, "shoploop", "updated_at:>='2026-11-01T00:00:00Z'")
    return found
