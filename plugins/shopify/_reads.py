"""Incremental, resumable reads: ``sortKey: UPDATED_AT`` with the search filter
``updated_at:>='<watermark>'`` and cursor pagination.

The cursor's position holds everything needed to continue on a new instance, as JSON:

* ``window`` — the watermark the current pass filters on (stable while paging, because
  Shopify's ``endCursor`` is only valid for the same query);
* ``skip`` — ids already delivered whose ``updatedAt`` equals ``window`` (the filter is ``>=``:
  Shopify timestamps have one-second resolution, so ``>`` could lose a record updated in the
  same second as the last one read);
* ``after`` — Shopify's ``endCursor`` while a pass is under way;
* ``max`` / ``max_ids`` — the newest ``updatedAt`` seen in this pass and the ids carrying it,
  which become ``window`` / ``skip`` of the checkpoint when the pass ends.

A record updated while a pass runs sorts behind the cursor and is read later in the same pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from shoploop.hooks import Cursor, Page

from . import _mapping, _queries
from ._bulk import BulkReader
from ._client import GraphQLClient

M = TypeVar("M", bound=BaseModel)


def effective_page_size(stream: str, page_size: int,
                        budget: int = _queries.READ_COST_BUDGET) -> int:
    return max(1, min(page_size, budget // _queries.NODE_COST[stream]))


def read_page(client: GraphQLClient, stream: str, cursor: Cursor | None, *, page_size: int,
              namespace: str, convert: Callable[[dict[str, Any]], M],
              bulk: BulkReader | None = None) -> Page[M]:
    position = dict(cursor.position) if cursor is not None else {}
    if bulk is not None and cursor is None:
        position = bulk.start_if_large(stream) or {}
    elif bulk is not None and "bulk" not in position and not position.get("after"):
        # A new incremental pass: many changes since the window are exported in bulk too.
        started = bulk.start_if_large(stream, position.get("window"), position.get("skip"))
        position = started or position
    if bulk is not None and "bulk" in position:
        found, position, more = bulk.page(stream, position, page_size, convert)
        return Page[M](items=found, cursor=Cursor(stream=stream, position=position),
                       has_more=more)
    window: str | None = position.get("window")
    skip = set(position.get("skip") or [])
    after: str | None = position.get("after")
    top: str | None = position.get("max")
    top_ids: list[str] = list(position.get("max_ids") or [])
    query = {"customers": _queries.CUSTOMERS, "products": _queries.PRODUCTS,
             "orders": _queries.ORDERS}[stream]
    operation = f"read_{stream}"
    items: list[M] = []
    while True:
        variables: dict[str, Any] = {
            "first": effective_page_size(stream, page_size, client.read_budget(operation)),
            "after": after,
            "query": f"updated_at:>='{window}'" if window else None}
        if stream != "orders":
            variables["namespace"] = namespace
        data = client.execute(query, variables, operation=operation)
        connection = data[stream]
        for node in connection["nodes"]:
            stamp, node_id = node["updatedAt"], node["legacyResourceId"]
            if stamp == window and node_id in skip:
                continue
            if top is None or stamp > top:
                top, top_ids = stamp, [node_id]
            elif stamp == top:
                top_ids.append(node_id)
            items.append(convert(node))
        info = connection["pageInfo"]
        after = info.get("endCursor") or after
        more = bool(info.get("hasNextPage"))
        # A page whose records were all delivered before would be an empty page with more to
        # come; fetch on instead (the contract allows empty pages only at the end).
        if items or not more:
            break
    if more:
        position = {"window": window, "skip": sorted(skip), "after": after, "max": top,
                    "max_ids": top_ids}
    elif top is None:
        position = {"window": window, "skip": sorted(skip)}
    elif top == window:
        position = {"window": window, "skip": sorted(skip | set(top_ids))}
    else:
        position = {"window": top, "skip": sorted(set(top_ids))}
    return Page[M](items=items, cursor=Cursor(stream=stream, position=position), has_more=more)


def count_records(client: GraphQLClient, stream: str, cursor: Cursor | None) -> int | None:
    """What a read from ``cursor`` will deliver, from one count query (1 point): the stream,
    or its changes since the cursor's window. None in the middle of a pass (what is left of it
    cannot be counted) and for a count Shopify only gives as a lower bound."""
    position = dict(cursor.position) if cursor is not None else {}
    if position.get("after") or "bulk" in position:
        return None
    window = position.get("window")
    data = client.execute(_queries.count_query(stream, client.settings.api_version),
                          {"query": f"updated_at:>='{window}'" if window else None},
                          operation=f"count_{stream}")
    found = data.get(f"{stream}Count") or {}
    if found.get("precision") not in (None, "EXACT"):
        return None
    count = found.get("count")
    return int(count) if isinstance(count, int) else None


def order_converter(client: GraphQLClient) -> Callable[[dict[str, Any]], Any]:
    """Orders with more line items than the first page are completed per order."""
    def convert(node: dict[str, Any]) -> Any:
        connection = node["lineItems"]
        lines = list(connection["nodes"])
        info = connection["pageInfo"]
        while info.get("hasNextPage"):
            data = client.execute(_queries.ORDER_LINE_ITEMS,
                                  {"id": node["id"], "after": info.get("endCursor")},
                                  operation="read_order_line_items")
            connection = data["order"]["lineItems"]
            lines.extend(connection["nodes"])
            info = connection["pageInfo"]
        return _mapping.order(node, lines)
    return convert
