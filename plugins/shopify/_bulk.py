"""First full loads through a bulk operation (``bulk_threshold``).

Paging a large store through the cost-limited API takes hours (a page asks for ≤ 400 points);
a bulk operation exports everything server-side instead: ``bulkOperationRunQuery`` with the
same fields as the paged query → poll ``currentBulkOperation`` → download the JSON Lines file
(nested connections arrive as lines of their own with ``__parentId``, after their parent).
The pages of the contract are then cut from the downloaded records; the cursor holds the file's
URL and an offset, so a stored cursor resumes on a new instance (the file is fetched again —
Shopify keeps it for a week). The final checkpoint is the usual ``updated_at`` watermark, so the
next run continues incrementally with normal paging.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from shoploop.hooks import ConnectorError, Cursor, UnreachableError

from . import _queries
from ._client import GraphQLClient

POLL_SECONDS = 1.0
_COUNT = "query Count($query: String) {{ {stream}Count(query: $query) {{ count }} }}"
_RUN = """mutation Bulk($query: String!) { bulkOperationRunQuery(query: $query) {
  bulkOperation { id status } userErrors { field message code } } }"""
_POLL = "query Poll { currentBulkOperation { id status errorCode objectCount url } }"
_FIELDS = {"customers": _queries.CUSTOMER_FIELDS, "products": _queries.PRODUCT_FIELDS,
           "orders": _queries.ORDER_FIELDS}


def bulk_query(stream: str, namespace: str, search: str | None = None) -> str:
    fields = _FIELDS[stream].replace("$namespace", json.dumps(namespace))
    fields = fields.replace("pageInfo { hasNextPage endCursor }", "")
    arguments = f"(query: {json.dumps(search)})" if search else ""
    return f"{{ {stream}{arguments} {{ edges {{ node {{ {fields} }} }} }} }}"


def assemble(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSONL rows → nodes shaped like the paged query's (children back under their parent)."""
    nodes: dict[str, dict[str, Any]] = {}
    order: list[dict[str, Any]] = []
    for row in lines:
        parent = row.pop("__parentId", None)
        if parent is None:
            row.setdefault("metafields", {"nodes": []})
            row.setdefault("variants", {"nodes": []})
            row.setdefault("lineItems", {"nodes": [], "pageInfo": {"hasNextPage": False}})
            nodes[row["id"]] = row
            order.append(row)
        elif parent in nodes:
            field = "lineItems" if "quantity" in row else "variants" if "price" in row \
                else "metafields"
            nodes[parent][field]["nodes"].append(row)
    return order


class BulkReader:
    def __init__(self, client: GraphQLClient, namespace: str, threshold: int) -> None:
        self.client = client
        self.namespace = namespace
        self.threshold = threshold
        self._files: dict[str, list[dict[str, Any]]] = {}

    def start_if_large(self, stream: str, window: str | None = None,
                       skip: list[str] | None = None) -> dict[str, Any] | None:
        """Run a bulk export when the stream holds more than ``threshold`` records — or, for
        an incremental pass from ``window``, when more than that many changed since: after a
        sync wrote metafields to 100k customers, paging them back 16 at a time would cost
        ~9 points each."""
        if self.threshold <= 0:
            return None
        search = f"updated_at:>='{window}'" if window else None
        data = self.client.execute(_COUNT.format(stream=stream), {"query": search},
                                   operation=f"count_{stream}")
        if int((data.get(f"{stream}Count") or {}).get("count") or 0) <= self.threshold:
            return None
        operation = f"bulk_{stream}"
        result = self.client.execute(
            _RUN, {"query": bulk_query(stream, self.namespace, search)},
            operation=operation)["bulkOperationRunQuery"]
        in_progress = any("in progress" in e["message"] for e in result["userErrors"])
        if result["userErrors"] and not in_progress:
            raise ConnectorError("; ".join(e["message"] for e in result["userErrors"]),
                                 connection=self.client.name, operation=operation,
                                 remedy="wait for the running bulk operation to finish, or "
                                        "set bulk_threshold = 0")
        waited = 0.0
        while True:
            current = self.client.execute(_POLL, operation=operation)["currentBulkOperation"]
            status = (current or {}).get("status")
            if status == "COMPLETED":
                if in_progress:  # our own start whose answer was lost (timeout): poll again
                    in_progress = False
                    result = self.client.execute(
                        _RUN, {"query": bulk_query(stream, self.namespace, search)},
                        operation=operation)["bulkOperationRunQuery"]
                    if result["userErrors"]:
                        raise ConnectorError(
                            "; ".join(e["message"] for e in result["userErrors"]),
                            connection=self.client.name, operation=operation)
                    continue
                start: dict[str, Any] = {"bulk": current.get("url"), "offset": 0}
                if window:
                    start.update(window=window, skip=list(skip or ()))
                return start
            if status not in ("CREATED", "RUNNING"):
                raise ConnectorError(f"bulk operation ended {status} "
                                     f"({(current or {}).get('errorCode')})",
                                     connection=self.client.name, operation=operation)
            if waited > self.client.settings.max_wait:
                raise ConnectorError(f"bulk operation still {status} after {waited:g}s",
                                     connection=self.client.name, operation=operation)
            self.client._sleep(POLL_SECONDS)
            waited += POLL_SECONDS

    def records(self, url: str | None) -> list[dict[str, Any]]:
        """The export's nodes (an empty export has no URL)."""
        if not url:
            return []
        if url not in self._files:
            try:
                answer = self.client._http.get(url)
            except httpx.HTTPError as exc:
                raise UnreachableError(f"bulk result download failed: {exc}",
                                       connection=self.client.name,
                                       operation="bulk download") from exc
            if answer.status_code != 200:
                raise ConnectorError(f"bulk result answered HTTP {answer.status_code}",
                                     connection=self.client.name, operation="bulk download",
                                     remedy="the export expired: delete the stream's cursor "
                                            "to start the full load again")
            lines = [json.loads(line) for line in answer.text.splitlines() if line.strip()]
            self._files[url] = assemble(lines)
        return self._files[url]

    def page(self, stream: str, position: dict[str, Any], page_size: int,
             convert: Callable[[dict[str, Any]], Any]) -> tuple[list[Any], dict[str, Any], bool]:
        rows = self.records(position.get("bulk"))
        offset = int(position.get("offset") or 0)
        chunk = rows[offset:offset + page_size]
        top: str | None = position.get("max")
        top_ids: list[str] = list(position.get("max_ids") or [])
        window: str | None = position.get("window")
        skip = set(position.get("skip") or ())
        items = []
        for node in chunk:
            stamp, node_id = node["updatedAt"], node["legacyResourceId"]
            if stamp == window and node_id in skip:
                continue  # delivered by the pass that set the window
            if top is None or stamp > top:
                top, top_ids = stamp, [node_id]
            elif stamp == top:
                top_ids.append(node_id)
            items.append(convert(node))
        more = offset + len(chunk) < len(rows)
        if more:
            following = {**position, "offset": offset + len(chunk), "max": top,
                         "max_ids": top_ids}
            if not items:  # all delivered before: no empty page in mid-stream
                return self.page(stream, following, page_size, convert)
            return items, following, True
        # The export is consumed: free it (100k customers are hundreds of MB as dicts).
        self._files.pop(position.get("bulk") or "", None)
        if top is None:
            checkpoint = {"window": window, "skip": sorted(skip)} if window else {}
        elif top == window:
            checkpoint = {"window": window, "skip": sorted(skip | set(top_ids))}
        else:
            checkpoint = {"window": top, "skip": sorted(set(top_ids))}
        return items, checkpoint, False


def as_cursor(stream: str, position: dict[str, Any]) -> Cursor:
    return Cursor(stream=stream, position=position)
