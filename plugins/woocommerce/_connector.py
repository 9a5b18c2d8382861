"""``WooCommerceConnector``: one configured WooCommerce store (REST API wc/v3).

Reads page through ``/customers``, ``/orders`` and ``/products`` with the cursors of
``_streams``; writes customer attributes into ``meta_data`` through ``/customers/batch``,
creates customers (``_customers``), recommendations into ``upsell_ids``/``cross_sell_ids``,
rewards as coupons; verifies webhooks.
Every failure leaves as a domain error naming the connection and the operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shoploop.hooks import (
    ALTERNATIVE_KINDS,
    AttributeChange,
    AuthError,
    BatchLimitError,
    ConnectionCheck,
    ConnectorError,
    Cursor,
    Customer,
    Event,
    MemoryRecordDigests,
    Order,
    Page,
    Product,
    PublishResult,
    Recommendation,
    RecordDigests,
    WebhookSubscription,
    WriteResult,
    WriteStatus,
)

from . import _subscriptions
from ._client import RetryPolicy, WooClient, error_code
from ._config import WooCommerceConfig
from ._customers import CustomerCreation
from ._mapping import (
    CUSTOMER_READ_FIELDS,
    attribute_value,
    customer_digest,
    customer_from_woo,
    format_time,
    order_from_woo,
    parse_time,
    product_from_woo,
    same_meta,
    wp_meta_value,
)
from ._rewards import CouponRewards
from ._streams import (
    ScanPosition,
    WatermarkPosition,
    changed_since,
    filter_watermark,
    finish_watermark,
)
from ._webhooks import check_source, parse_webhook

P = TypeVar("P", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)

MAX_PAGES_PER_CALL = 50
"""Remote pages one read call may scan while it finds nothing new (bounded work per call;
the cursor is checkpointed in between)."""
UPSELL_KINDS = ALTERNATIVE_KINDS
"""Kinds published into ``upsell_ids`` (the contract's alternatives)."""
_LIST_FIELDS = ("upsell_ids", "cross_sell_ids")


class WooCommerceConnector(CustomerCreation, CouponRewards):
    """A WooCommerce store. See docs/woocommerce.md for keys, permissions and webhooks."""

    def __init__(self, name: str, config: WooCommerceConfig, *,
                 environ: Mapping[str, str] | None = None,
                 retry: RetryPolicy | None = None) -> None:
        self.name = name
        self.config = config
        self.page_size = config.page_size
        # Customers' digests are kept outside their cursor (no modified-since filter, see
        # _streams): until the import binds the store's, in memory.
        self._digests: RecordDigests = MemoryRecordDigests()
        self.attribute_batch_size = config.attribute_batch_size
        self.customer_batch_size = config.customer_batch_size
        self._environ = environ
        self._retry = retry
        self._client: WooClient | None = None

    def __repr__(self) -> str:
        return f"WooCommerceConnector({self.name!r}, {str(self.config.url)!r})"

    @property
    def client(self) -> WooClient:
        """Built on first use, so building connectors (``shoploop plugins``) needs no secrets."""
        if self._client is None:
            config = self.config
            self._client = WooClient(
                self.name, str(config.url).rstrip("/"),
                config.secret("consumer_key", self._environ),
                config.secret("consumer_secret", self._environ),
                timeout=config.timeout, verify_tls=config.verify_tls,
                query_string_auth=config.query_string_auth, pool_size=config.concurrency,
                retry=self._retry)
        return self._client

    # -- Connector ----------------------------------------------------------------------------

    def check(self) -> ConnectionCheck:
        """One authenticated list call. Never raises."""
        warnings = []
        if str(self.config.url).startswith("http://"):
            warnings.append("plain HTTP: requests are signed with OAuth 1.0a; use HTTPS in "
                            "production")
        if not self.config.verify_tls:
            warnings.append("verify_tls is off: the store's certificate is not checked")
        try:
            answer = self.client.get("customers", {"per_page": 1, "role": "all"},
                                     operation="check")
        except AuthError as exc:
            return ConnectionCheck(reachable=True, authorised=False, detail=str(exc),
                                   warnings=warnings)
        except Exception as exc:  # check() is a report, not an operation
            return ConnectionCheck(reachable=False, authorised=False, detail=str(exc),
                                   warnings=warnings)
        total = answer.headers.get("X-WP-Total", "?")
        return ConnectionCheck(reachable=True, authorised=True,
                               detail=f"{self.config.url}: wc/v3, {total} customers",
                               warnings=warnings)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- reads --------------------------------------------------------------------------------

    def read_customers(self, cursor: Cursor | None = None) -> Page[Customer]:
        """A page of new and changed customers (every customer without ``cursor``). Scans
        ``/customers`` page by page (no modified filter exists, see ``_streams``) and compares
        each customer's digest with the one saved when it was last delivered."""
        operation = "read_customers"
        position = self._position("customers", cursor, ScanPosition, operation)
        digests = self._digests
        if position.pending:  # the caller took the page this cursor follows
            digests.put("customers", position.pending)
            position.pending = {}
        prefix = self.config.meta_prefix
        query = {"role": "all", "_fields": ",".join(CUSTOMER_READ_FIELDS)}
        for _ in range(MAX_PAGES_PER_CALL):
            items, last, _date, _total = self._list("customers", query, position.page,
                                                    operation)
            by_id = {str(item["id"]): item for item in items}
            read = {cid: customer_digest(item, prefix) for cid, item in by_id.items()}
            changed = changed_since(read, digests.get("customers", read)) \
                if position.compare else read
            if last:
                position.page, position.compare = 1, True
            else:
                position.page += 1
            if changed or last:
                position.pending = changed
                return self._page("customers",
                                  [customer_from_woo(by_id[cid], prefix) for cid in changed],
                                  position, has_more=not last)
        return self._page("customers", [], position, has_more=True)

    def use_record_digests(self, digests: RecordDigests) -> None:
        """``KeepsRecordDigests``: the customers' digests live in ``digests`` from now on (the
        import binds the store's table)."""
        self._digests = digests

    def read_orders(self, cursor: Cursor | None = None) -> Page[Order]:
        return self._read_watermark("orders", order_from_woo, cursor)

    def read_products(self, cursor: Cursor | None = None) -> Page[Product]:
        return self._read_watermark("products", product_from_woo, cursor)

    def _read_watermark(self, stream: str, convert: Callable[[dict[str, Any], str], M],
                        cursor: Cursor | None) -> Page[M]:
        operation = f"read_{stream}"
        position = self._position(stream, cursor, WatermarkPosition, operation)
        prefix = self.config.meta_prefix
        for _ in range(MAX_PAGES_PER_CALL):
            query = position.query(self.config.modified_after_margin)
            items, last, date, total = self._list(stream, query, position.page, operation)
            if position.started is None:
                position.started = format_time(date)
            records = [(str(item["id"]), parse_time(item.get("date_modified_gmt")), item)
                       for item in items]
            kept = [convert(item, prefix) for item in filter_watermark(position, records, total)]
            if last:
                position = finish_watermark(position, total)
            else:
                position.page += 1
            if kept or last:
                return self._page(stream, kept, position, has_more=not last)
        return self._page(stream, [], position, has_more=True)

    def count_records(self, stream: str, cursor: Cursor | None = None) -> int | None:
        """``CountsRecords``: ``X-WP-Total`` of a one-item page under the read's filter. None
        in the middle of a scan, and for an incremental customers read (a full scan that
        delivers only the customers whose hash changed: how many is unknown)."""
        operation = f"count_{stream}"
        if stream == "customers":
            if cursor is not None:
                return None
            query: dict[str, Any] = {"role": "all"}
        elif stream in ("orders", "products"):
            position = self._position(stream, cursor, WatermarkPosition, operation)
            if position.page != 1:
                return None
            query = position.query(self.config.modified_after_margin)
        else:
            return None
        answer = self.client.get(stream, {**query, "per_page": 1}, operation=operation)
        total = answer.headers.get("X-WP-Total", "")
        return int(total) if total.isdigit() else None

    def _list(self, endpoint: str, query: dict[str, Any], page: int,
              operation: str) -> tuple[list[dict[str, Any]], bool, datetime, int | None]:
        """One list page: items, whether it is the last, the server's time, X-WP-Total."""
        params = {**query, "per_page": self.page_size, "page": page, "orderby": "id",
                  "order": "asc"}
        answer = self.client.get(endpoint, params, operation=operation)
        if not isinstance(answer.data, list):
            raise ConnectorError(f"GET {endpoint} answered {type(answer.data).__name__}, not a "
                                 "list", connection=self.name, operation=operation)
        pages = answer.headers.get("X-WP-TotalPages")
        last = page >= int(pages) if pages and pages.isdigit() else \
            len(answer.data) < self.page_size
        try:
            date = parsedate_to_datetime(answer.headers.get("Date", ""))
        except (TypeError, ValueError):
            date = datetime.now(UTC)
        total = answer.headers.get("X-WP-Total", "")
        return answer.data, last, date, int(total) if total.isdigit() else None

    def _position(self, stream: str, cursor: Cursor | None, model: type[P],
                  operation: str) -> P:
        if cursor is None:
            return model()
        if cursor.stream != stream:
            raise ConnectorError(f"got a cursor of stream {cursor.stream!r}",
                                 connection=self.name, operation=operation,
                                 remedy="pass the cursor of the same stream")
        try:
            return model.model_validate(cursor.position)
        except ValidationError:
            raise ConnectorError(f"the cursor is not a woocommerce {stream} cursor",
                                 connection=self.name, operation=operation,
                                 remedy="start without a cursor (a full read)") from None

    @staticmethod
    def _page(stream: str, items: list[M], position: BaseModel, *, has_more: bool) -> Page[M]:
        return Page(items=items, has_more=has_more,
                    cursor=Cursor(stream=stream, position=position.model_dump(mode="json")))

    # -- customer attributes ------------------------------------------------------------------

    def write_customer_attributes(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        """One ``GET /customers?include=…&_fields=id,meta_data`` for the current meta, then one
        ``POST /customers/batch`` with only the changed keys of the changed customers. Each
        meta entry is sent alone (by its meta ``id`` when it exists): WooCommerce applies
        ``meta_data`` entries one by one, so other plugins' keys stay untouched.

        WooCommerce has no compare-and-set: the controller applies each entry with
        ``WC_Data::update_meta_data( key, value, id )``, unconditionally
        (``WC_REST_Customers_V2_Controller::update_customer_meta_fields``), and the REST API
        takes no version or ``If-Match``. So the batch's customers are read just before the
        write (one request per 100 changes; WooCommerce meters no cost): a change whose
        caller read ``old`` (``expect_old``) and finds another value now is a ``conflict``,
        not overwritten. Only an edit in the milliseconds between that read and the write
        can still be overwritten (last writer wins) — see docs/woocommerce.md."""
        operation = "write_customer_attributes"
        if len(changes) > self.attribute_batch_size:
            raise BatchLimitError(
                f"{len(changes)} changes in one batch; WooCommerce batch endpoints accept at "
                f"most {self.attribute_batch_size}", connection=self.name, operation=operation)
        results: list[WriteResult | None] = [None] * len(changes)
        ids = sorted({int(c.customer_id) for c in changes if c.customer_id.isdigit()})
        current: dict[str, dict[str, Any]] = {}
        if ids:
            answer = self.client.get("customers", {"include": ",".join(map(str, ids)),
                                                   "per_page": 100, "role": "all",
                                                   "_fields": "id,meta_data"},
                                     operation=operation)
            current = {str(c["id"]): c for c in answer.data or ()}
        prefix = self.config.meta_prefix
        updates: dict[str, dict[str, dict[str, Any]]] = {}  # customer → meta key → entry
        pending: dict[str, list[int]] = {}
        for index, change in enumerate(changes):
            customer = current.get(change.customer_id)
            if customer is None:
                results[index] = WriteResult(customer_id=change.customer_id, key=change.key,
                                             status=WriteStatus.FAILED,
                                             message="no such customer in WooCommerce")
                continue
            key = prefix + change.key
            meta = next((m for m in customer.get("meta_data") or () if m.get("key") == key),
                        None)
            planned = updates.get(change.customer_id, {}).get(key)
            if planned is None and meta is not None and same_meta(meta.get("value"),
                                                                  change.new):
                results[index] = WriteResult(customer_id=change.customer_id, key=change.key,
                                             status=WriteStatus.UNCHANGED)
                continue
            if planned is None and _changed_since_read(change, meta):
                held = None if meta is None else meta.get("value")
                results[index] = WriteResult(
                    customer_id=change.customer_id, key=change.key, status=WriteStatus.CONFLICT,
                    message=f"changed in WooCommerce since it was read (now {held!r:.60}); "
                            "not overwritten")
                continue
            entry: dict[str, Any] = {"key": key, "value": wp_meta_value(change.new)}
            if meta is not None and "id" in meta:
                entry["id"] = meta["id"]
            updates.setdefault(change.customer_id, {})[key] = entry
            pending.setdefault(change.customer_id, []).append(index)
        if updates:
            body = {"update": [{"id": int(cid), "meta_data": list(entries.values())}
                               for cid, entries in updates.items()]}
            answer = self.client.post("customers/batch", body, operation=operation)
            answered = {str(item.get("id")): item
                        for item in (answer.data or {}).get("update") or ()
                        if isinstance(item, dict)}
            for cid in updates:
                if cid not in answered:
                    continue  # reported below as "no answer"
                error = answered[cid].get("error")
                for index in pending[cid]:
                    change = changes[index]
                    results[index] = WriteResult(
                        customer_id=change.customer_id, key=change.key,
                        status=WriteStatus.FAILED if error else WriteStatus.WRITTEN,
                        message=f"{error.get('code')}: {error.get('message')}" if error else "")
        return [r or WriteResult(customer_id=c.customer_id, key=c.key, status=WriteStatus.FAILED,
                                 message="no answer for this item in the batch response")
                for r, c in zip(results, changes, strict=True)]

    # -- recommendations ----------------------------------------------------------------------

    @property
    def publish_batch_size(self) -> int:
        """Products per ``POST /products/batch`` (WooCommerce takes at most 100 objects)."""
        return self.attribute_batch_size

    def recommendation_fields(self, recommendations: Sequence[Recommendation]
                              ) -> dict[str, list[str]]:
        """Alternatives (``ALTERNATIVE_KINDS``: upsell, replacement, related) → ``upsell_ids``
        (shown on the product page, "instead of"); every other kind → ``cross_sell_ids``
        (shown in the cart, "with"); best first, each product once, integer ids only."""
        ranked = sorted(recommendations, key=lambda r: -r.score)
        return {
            "upsell_ids": [str(i) for i in _ids(r.product_id for r in ranked
                                                if r.kind in ALTERNATIVE_KINDS)],
            "cross_sell_ids": [str(i) for i in _ids(r.product_id for r in ranked
                                                    if r.kind not in ALTERNATIVE_KINDS)],
        }

    def publish_recommendations(self, product_id: str,
                                recommendations: Sequence[Recommendation]) -> PublishResult:
        """Into ``upsell_ids`` / ``cross_sell_ids`` (:meth:`recommendation_fields`); unchanged
        lists are not written."""
        return self.publish_recommendations_batch({product_id: recommendations})[0]

    def publish_recommendations_batch(
        self, recommendations: Mapping[str, Sequence[Recommendation]],
    ) -> list[PublishResult]:
        """:meth:`publish_recommendation_lists` for recommendations."""
        return self.publish_recommendation_lists(
            {pid: self.recommendation_fields(recs) for pid, recs in recommendations.items()})

    def publish_recommendation_lists(
        self, lists: Mapping[str, Mapping[str, Sequence[str]]],
    ) -> list[PublishResult]:
        """Publish for up to 100 products: one ``GET /products?include=…`` and one
        ``POST /products/batch`` with only the products whose lists differ from what they
        hold; one result per product, failures per item."""
        operation = "publish_recommendations"
        if len(lists) > self.publish_batch_size:
            raise BatchLimitError(
                f"{len(lists)} products in one batch; WooCommerce batch endpoints "
                f"accept at most {self.publish_batch_size}", connection=self.name,
                operation=operation)
        results: dict[str, PublishResult] = {}
        wanted: dict[str, dict[str, list[int]]] = {}
        for product_id, fields in lists.items():
            if not product_id.isdigit():
                results[product_id] = PublishResult(product_id=product_id,
                                                    status=WriteStatus.FAILED,
                                                    message="WooCommerce product ids are integers")
                continue
            wanted[product_id] = {key: _ids(ids) for key, ids in fields.items()
                                  if key in _LIST_FIELDS}
        current: dict[str, dict[str, Any]] = {}
        if wanted:
            answer = self.client.get("products", {"include": ",".join(wanted), "per_page": 100},
                                     operation=operation)
            current = {str(p["id"]): p for p in answer.data or ()}
        updates = []
        for product_id, ids in wanted.items():
            product = current.get(product_id)
            if product is None:
                results[product_id] = PublishResult(product_id=product_id,
                                                    status=WriteStatus.FAILED,
                                                    message="no such product in WooCommerce")
            elif all(list(product.get(k) or []) == v for k, v in ids.items()):
                results[product_id] = PublishResult(product_id=product_id,
                                                    status=WriteStatus.UNCHANGED)
            else:
                updates.append({"id": int(product_id), **ids})
        if updates:
            answer = self.client.post("products/batch", {"update": updates}, operation=operation)
            answered = {str(item.get("id")): item
                        for item in (answer.data or {}).get("update") or ()
                        if isinstance(item, dict)}
            for update in updates:
                product_id = str(update["id"])
                error = (answered.get(product_id) or {"error": {
                    "code": "no_answer", "message": "no answer for this item"}}).get("error")
                results[product_id] = PublishResult(
                    product_id=product_id,
                    status=WriteStatus.FAILED if error else WriteStatus.WRITTEN,
                    fields=[] if error else sorted(k for k in update if k != "id"),
                    message=f"{error.get('code')}: {error.get('message')}" if error else "")
        return [results[product_id] for product_id in lists]

    # -- webhooks -----------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Event:
        secret = self.config.secret("webhook_secret", self._environ) \
            if self.config.webhook_secret_env else None
        event = parse_webhook(headers, body, secret=secret, connection=self.name)
        if event.type != "webhook.ping":
            check_source(headers, str(self.config.url))
        return event

    def list_webhooks(self) -> list[WebhookSubscription]:
        return _subscriptions.list_webhooks(self.client)

    def register_webhooks(self, address: str) -> list[WebhookSubscription]:
        """See ``_subscriptions.register_webhooks``."""
        return _subscriptions.register_webhooks(self.client, self.config, self._environ,
                                                address)

    def webhook_records(self, event: Event) -> list[Customer | Order | Product]:
        return _subscriptions.webhook_records(event, self.config.meta_prefix)


def _changed_since_read(change: AttributeChange, meta: Mapping[str, Any] | None) -> bool:
    """Does WooCommerce now hold something else than ``change.old``, which the caller read
    (``expect_old``, set by the sync's writer; without it the write goes ahead as before)?
    Compared the way the import maps meta, and the way WordPress stores values."""
    if not getattr(change, "expect_old", False):  # the field is newer than some callers
        return False
    held = None if meta is None else meta.get("value")
    if held in (None, "", []):
        return change.old not in (None, "", [])
    return not (same_meta(held, change.old) or attribute_value(held) == change.old)


def _ids(values: Any) -> list[int]:
    seen: list[int] = []
    for value in values:
        if str(value).isdigit() and int(value) not in seen:
            seen.append(int(value))
    return seen


def create_connector(connection_name: str, config: Any) -> WooCommerceConnector:
    """The factory registered for the ``woocommerce`` type."""
    if not isinstance(config, WooCommerceConfig):
        config = WooCommerceConfig.model_validate(config)
    return WooCommerceConnector(connection_name, config)


__all__ = ["WooCommerceConnector", "create_connector", "error_code"]
