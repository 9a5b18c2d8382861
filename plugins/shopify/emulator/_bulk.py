"""Bulk operations: ``bulkOperationRunQuery`` runs a query over *all* records (connections unpaged)
and publishes the result as JSON Lines, polled through ``bulkOperation(id:)`` (or the deprecated
``currentBulkOperation``).

As in Shopify's output format, every node of a connection is one line; the nodes of a nested
connection (a customer's metafields, an order's line items) are lines of their own carrying
``__parentId`` (the id of the node they belong to) and follow their parent. Up to five bulk queries
run per shop at a time. ``polls`` makes the operation report ``RUNNING`` that many times before
``COMPLETED``, so clients must really poll.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from ._store import gid, now

RunQuery = Callable[[str], dict[str, Any]]


def flatten(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Result data → JSONL records (top-level connection nodes and nested connection nodes)."""
    lines: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], parent: str | None) -> None:
        row: dict[str, Any] = {}
        children: list[tuple[dict[str, Any], str]] = []
        for key, value in node.items():
            if isinstance(value, dict) and ("nodes" in value or "edges" in value):
                items = value.get("nodes") if "nodes" in value else [
                    e["node"] for e in value.get("edges") or []]
                children.extend((item, node.get("id", "")) for item in items or [])
            else:
                row[key] = value
        if parent is not None:
            row["__parentId"] = parent
        lines.append(row)
        for child, parent_id in children:
            walk(child, parent_id)

    for value in data.values():
        if isinstance(value, dict):
            items = value.get("nodes") if "nodes" in value else [
                e["node"] for e in value.get("edges") or []]
            for item in items or []:
                walk(item, None)
    return lines


MAX_RUNNING = 5
"""Bulk query operations one app may run at a time per shop since 2026-01 (one before;
https://shopify.dev/docs/api/usage/bulk-operations/queries)."""


class BulkOperations:
    """The app's bulk query operations, newest last. Polled by id (``bulkOperation(id:)``),
    listed newest first (``bulkOperations``), or — the deprecated way — the newest one
    (``currentBulkOperation``)."""

    def __init__(self, run_query: RunQuery, base_url: Callable[[], str], polls: int = 1) -> None:
        self._run_query = run_query
        self._base_url = base_url
        self._polls = polls
        self._lock = threading.Lock()
        self.operations: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self._number = 0

    def run(self, query: str) -> dict[str, Any]:
        with self._lock:
            if sum(o["status"] == "RUNNING" for o in self.operations.values()) >= MAX_RUNNING:
                return {"bulkOperation": None, "userErrors": [{
                    "code": "OPERATION_IN_PROGRESS", "field": ["query"],
                    "message": f"A maximum of {MAX_RUNNING} bulk query operations for this "
                               "app and shop can be in progress."}]}
            result = self._run_query(query)
            if result.get("errors"):
                return {"bulkOperation": None, "userErrors": [
                    {"code": "INVALID", "field": ["query"], "message": str(e.get("message"))}
                    for e in result["errors"]]}
            lines = flatten(result.get("data") or {})
            self._number += 1
            name = f"{self._number}.jsonl"
            body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
            self.files[name] = body.encode()
            operation_id = gid("BulkOperation", self._number)
            operation: dict[str, Any] = {
                "__typename": "BulkOperation", "id": operation_id,
                "status": "RUNNING", "errorCode": None, "objectCount": str(len(lines)),
                "rootObjectCount": str(sum(1 for line in lines if "__parentId" not in line)),
                "fileSize": str(len(body.encode())), "url": None, "partialDataUrl": None,
                "query": query, "type": "QUERY", "createdAt": now(), "completedAt": None,
                "_file": name, "_pending": self._polls, "_number": self._number}
            self.operations[operation_id] = operation
            return {"bulkOperation": operation, "userErrors": []}

    def poll(self, operation_id: str) -> dict[str, Any] | None:
        """The operation, one poll further: ``RUNNING`` ``polls`` times, then ``COMPLETED``."""
        with self._lock:
            operation = self.operations.get(operation_id)
            if operation is not None and operation["status"] == "RUNNING":
                if operation["_pending"] > 0:
                    operation["_pending"] -= 1
                else:
                    operation.update(status="COMPLETED", completedAt=now(),
                                     url=f"{self._base_url()}/_bulk/{operation['_file']}")
            return operation

    def newest(self) -> dict[str, Any] | None:
        """``currentBulkOperation``: the app's most recent operation, polled."""
        with self._lock:
            newest = next(reversed(self.operations), None)
        return self.poll(newest) if newest else None

    def listed(self, first: int | None = None, query: str | None = None,
               sort_key: str = "CREATED_AT", reverse: bool = False) -> dict[str, Any]:
        """``bulkOperations``: newest first unless ``reverse``, filtered by
        ``operation_type:`` and ``status:`` terms (the filters the reference lists)."""
        terms = dict(t.split(":", 1) for t in (query or "").split() if ":" in t)
        with self._lock:
            ids = [o["id"] for o in self.operations.values()
                   if terms.get("operation_type", o["type"]).upper() == o["type"]]
        rows = [o for o in (self.poll(i) for i in ids) if o is not None
                and terms.get("status", o["status"]).upper() == o["status"]]
        field = "completedAt" if sort_key == "COMPLETED_AT" else "_number"
        rows.sort(key=lambda o: (o[field] or "", o["_number"]), reverse=not reverse)
        page = rows[: first or len(rows)]
        return {"edges": [{"cursor": o["id"], "node": o} for o in page], "nodes": page,
                "pageInfo": {"hasNextPage": len(rows) > len(page), "hasPreviousPage": False,
                             "startCursor": None, "endCursor": None}}
