"""Bulk operations: ``bulkOperationRunQuery`` runs a query over *all* records (connections
unpaged) and publishes the result as JSON Lines, polled through ``currentBulkOperation``.

As in Shopify's output format, every node of a connection is one line; the nodes of a nested
connection (a customer's metafields, an order's line items) are lines of their own carrying
``__parentId`` (the id of the node they belong to) and follow their parent. Only one bulk query
runs per shop at a time. ``polls`` makes the operation report ``RUNNING`` that many times before
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


class BulkOperations:
    def __init__(self, run_query: RunQuery, base_url: Callable[[], str], polls: int = 1) -> None:
        self._run_query = run_query
        self._base_url = base_url
        self._polls = polls
        self._lock = threading.Lock()
        self.current: dict[str, Any] | None = None
        self.files: dict[str, bytes] = {}
        self._number = 0
        self._pending = 0

    def run(self, query: str) -> dict[str, Any]:
        with self._lock:
            if self.current is not None and self.current["status"] == "RUNNING":
                return {"bulkOperation": None, "userErrors": [{
                    "code": "OPERATION_IN_PROGRESS", "field": ["query"],
                    "message": "A bulk query operation for this app and shop is already in "
                               "progress."}]}
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
            self._pending = self._polls
            self.current = {
                "__typename": "BulkOperation", "id": gid("BulkOperation", self._number),
                "status": "RUNNING", "errorCode": None, "objectCount": str(len(lines)),
                "rootObjectCount": str(sum(1 for line in lines if "__parentId" not in line)),
                "fileSize": str(len(body.encode())), "url": None, "partialDataUrl": None,
                "query": query, "type": "QUERY", "createdAt": now(), "completedAt": None,
                "_file": name}
            return {"bulkOperation": self.current, "userErrors": []}

    def poll(self) -> dict[str, Any] | None:
        with self._lock:
            operation = self.current
            if operation is not None and operation["status"] == "RUNNING":
                if self._pending > 0:
                    self._pending -= 1
                else:
                    operation.update(status="COMPLETED", completedAt=now(),
                                     url=f"{self._base_url()}/_bulk/{operation['_file']}")
            return operation
