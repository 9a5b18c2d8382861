"""First full loads through a bulk operation (``bulk_threshold``).

Paging a large store through the cost-limited API takes hours (a page asks for ≤ 400 points); a
bulk operation exports everything server-side instead: ``bulkOperationRunQuery`` with the same
fields as the paged query → poll ``bulkOperation(id:)`` (``currentBulkOperation`` is deprecated:
"Use `bulkOperations` with status filter instead", Admin schema 2026-01) → download the JSON Lines
file (nested connections arrive as lines of their own with ``__parentId``, after their parent). The
file is downloaded to a temporary file and read one node at a time, so memory holds a page, not the
export (100k customers with their metafields are ~1 GB as dicts): the query asks for
``groupObjects: true`` (API 2025-07 and later; the default until 2026-01), which puts children
right after their parent. The pages of the contract are cut from that stream; the cursor holds the
file's URL and a node offset, so a stored cursor resumes on a new instance (the file is fetched
again — Shopify keeps it for a week). The final checkpoint is the usual ``updated_at`` watermark,
so the next run continues incrementally with normal paging.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any

import httpx

from shoploop.hooks import ConnectorError, Cursor, UnreachableError

from . import _queries
from ._client import GraphQLClient

POLL_SECONDS = 1.0
RUN = """mutation Bulk($query: String!) { bulkOperationRunQuery(query: $query%s) {
  bulkOperation { id status } userErrors { field message code } } }"""
GROUPED_SINCE = "2025-07"  # groupObjects arrived in 2025-07 (grouping was the only output before)
_OPERATION = "id status errorCode objectCount url"
POLL = f"query Poll($id: ID!) {{ bulkOperation(id: $id) {{ {_OPERATION} }} }}"
NEWEST = ("query Newest { bulkOperations(first: 1, sortKey: CREATED_AT, query: "
          f"\"operation_type:query\") {{ nodes {{ {_OPERATION} }} }} }}")
"""The app's newest bulk query (the list is newest first by default,
https://shopify.dev/docs/api/admin-graphql/latest/queries/bulkOperations): polled when a start
was refused as "in progress" — our own earlier start whose answer was lost — so it has no id."""
_FIELDS = {"customers": _queries.CUSTOMER_FIELDS, "products": _queries.PRODUCT_FIELDS,
           "orders": _queries.ORDER_FIELDS}


def bulk_query(stream: str, namespace: str, search: str | None = None) -> str:
    fields = _FIELDS[stream].replace("$namespace", json.dumps(namespace))
    fields = fields.replace("pageInfo { hasNextPage endCursor }", "")
    arguments = f"(query: {json.dumps(search)})" if search else ""
    return f"{{ {stream}{arguments} {{ edges {{ node {{ {fields} }} }} }} }}"


def _finish(node: dict[str, Any]) -> dict[str, Any]:
    node.setdefault("metafields", {"nodes": []})
    node.setdefault("variants", {"nodes": []})
    node.setdefault("lineItems", {"nodes": [], "pageInfo": {"hasNextPage": False}})
    return node


def assemble(lines: Iterator[str], where: str = "bulk export") -> Iterator[dict[str, Any]]:
    """JSONL lines (grouped: children right after their parent) → nodes shaped like the
    paged query's, one at a time."""
    current: dict[str, Any] | None = None
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        parent = row.pop("__parentId", None)
        if parent is None:
            if current is not None:
                yield current
            current = _finish(row)
        elif current is not None and parent == current["id"]:
            field = "lineItems" if "quantity" in row else "variants" if "price" in row \
                else "metafields"
            current[field]["nodes"].append(row)
        else:
            raise ConnectorError(f"{where}: a child of {parent!r} does not follow it; the "
                                 "export is not grouped", connection=where,
                                 operation="bulk download",
                                 remedy="use api_version 2025-07 or later (groupObjects)")
    if current is not None:
        yield current


class _Export:
    """A downloaded export on disk, read node by node from where the last page ended."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.position = 0
        self._nodes: Iterator[dict[str, Any]] | None = None
        self._next: dict[str, Any] | None = None

    def take(self, offset: int, count: int) -> tuple[list[dict[str, Any]], bool]:
        """``count`` nodes from node ``offset``; and whether more follow."""
        if self._nodes is None or offset != self.position:
            self.handle.seek(0)
            self._nodes = assemble(iter(self.handle))
            self._next = next(self._nodes, None)
            self.position = 0
            while self.position < offset and self._next is not None:
                self._next = next(self._nodes, None)
                self.position += 1
        nodes: list[dict[str, Any]] = []
        while len(nodes) < count and self._next is not None:
            nodes.append(self._next)
            self._next = next(self._nodes, None)
            self.position += 1
        return nodes, self._next is not None

    def close(self) -> None:
        self.handle.close()


class BulkReader:
    def __init__(self, client: GraphQLClient, namespace: str, threshold: int) -> None:
        self.client = client
        self.namespace = namespace
        self.threshold = threshold
        self._files: dict[str, _Export] = {}

    def start_if_large(self, stream: str, window: str | None = None,
                       skip: list[str] | None = None) -> dict[str, Any] | None:
        """Run a bulk export when the stream holds more than ``threshold`` records — or, for
        an incremental pass from ``window``, when more than that many changed since: after a
        sync wrote metafields to 100k customers, paging them back 16 at a time would cost
        ~9 points each."""
        if self.threshold <= 0:
            return None
        search = f"updated_at:>='{window}'" if window else None
        data = self.client.execute(
            _queries.count_query(stream, self.client.settings.api_version), {"query": search},
            operation=f"count_{stream}")
        if int((data.get(f"{stream}Count") or {}).get("count") or 0) <= self.threshold:
            return None
        operation = f"bulk_{stream}"
        result = self.client.execute(
            self._run, {"query": bulk_query(stream, self.namespace, search)},
            operation=operation)["bulkOperationRunQuery"]
        in_progress = any("in progress" in e["message"] for e in result["userErrors"])
        if result["userErrors"] and not in_progress:
            raise ConnectorError("; ".join(e["message"] for e in result["userErrors"]),
                                 connection=self.client.name, operation=operation,
                                 remedy="wait for the running bulk operation to finish, or "
                                        "set bulk_threshold = 0")
        waited = 0.0
        while True:
            current = self._poll(result, operation)
            status = (current or {}).get("status")
            if current is not None and status == "COMPLETED":
                if in_progress:  # our own start whose answer was lost (timeout): poll again
                    in_progress = False
                    result = self.client.execute(
                        self._run, {"query": bulk_query(stream, self.namespace, search)},
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

    def _poll(self, started: dict[str, Any], operation: str) -> dict[str, Any] | None:
        """The started operation by its id, or the newest one when the start gave none."""
        known = (started.get("bulkOperation") or {}).get("id")
        if known:
            polled: dict[str, Any] | None = self.client.execute(
                POLL, {"id": known}, operation=operation)["bulkOperation"]
            return polled
        nodes = self.client.execute(NEWEST, operation=operation)["bulkOperations"]["nodes"]
        return nodes[0] if nodes else None

    @property
    def _run(self) -> str:
        version = self.client.settings.api_version
        grouped = version == "unstable" or version >= GROUPED_SINCE
        return RUN % (", groupObjects: true" if grouped else "")

    def export(self, url: str) -> _Export:
        """The export at ``url``, downloaded to a temporary file once per reader."""
        if url not in self._files:
            # closed by _Export.close() once consumed, or below on failure
            handle = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            try:
                with self.client._http.stream("GET", url) as answer:
                    if answer.status_code != 200:
                        raise ConnectorError(
                            f"bulk result answered HTTP {answer.status_code}",
                            connection=self.client.name, operation="bulk download",
                            remedy="the export expired: delete the stream's cursor to start "
                                   "the full load again")
                    for text in answer.iter_text():
                        handle.write(text)
            except httpx.HTTPError as exc:
                handle.close()
                raise UnreachableError(f"bulk result download failed: {exc}",
                                       connection=self.client.name,
                                       operation="bulk download") from exc
            except BaseException:
                handle.close()
                raise
            self._files[url] = _Export(handle)
        return self._files[url]

    def page(self, stream: str, position: dict[str, Any], page_size: int,
             convert: Callable[[dict[str, Any]], Any]) -> tuple[list[Any], dict[str, Any], bool]:
        url = position.get("bulk")
        offset = int(position.get("offset") or 0)
        chunk, more = self.export(url).take(offset, page_size) if url else ([], False)
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
        if more:
            following = {**position, "offset": offset + len(chunk), "max": top,
                         "max_ids": top_ids}
            if not items:  # all delivered before: no empty page in mid-stream
                return self.page(stream, following, page_size, convert)
            return items, following, True
        # The export is consumed: delete its file.
        if url and (export := self._files.pop(url, None)) is not None:
            export.close()
        if top is None:
            checkpoint = {"window": window, "skip": sorted(skip)} if window else {}
        elif top == window:
            checkpoint = {"window": window, "skip": sorted(skip | set(top_ids))}
        else:
            checkpoint = {"window": top, "skip": sorted(set(top_ids))}
        return items, checkpoint, False


def as_cursor(stream: str, position: dict[str, Any]) -> Cursor:
    return Cursor(stream=stream, position=position)
