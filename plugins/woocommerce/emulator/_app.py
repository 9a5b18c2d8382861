"""Routing and the endpoints of ``/wp-json/wc/v3`` the adapter uses, with WooCommerce's
semantics: ``per_page`` 1-100 (400 ``rest_invalid_param`` otherwise), ``X-WP-Total``,
``X-WP-TotalPages`` and ``Link`` headers, ``modified_after``/``dates_are_gmt``, batch endpoints
with at most 100 items (create + update + delete; 413 otherwise) whose items fail one by one,
customer creation with WordPress's rules (``_users``), and WooCommerce's JSON error bodies.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from shoploop.emulation import EmulatorStats, Request, Response

from .._mapping import parse_time
from ._auth import Authenticator, AuthFailure
from ._data import Record, WooData, now_gmt
from ._hooks import Webhooks, valid_topic
from ._users import is_email, new_username, refusal

API = "/wp-json/wc/v3"
BATCH_LIMIT = 100


def error(code: str, message: str, status: int, **data: Any) -> Response:
    return Response.json({"code": code, "message": message, "data": {"status": status, **data}},
                         status)


class _Invalid(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


_COUPON_FIELDS = ("date_expires_gmt", "description", "usage_limit", "email_restrictions")
"""What a coupon update may change here (``usage_count`` is read-only in WooCommerce)."""


class WooApp:
    """``handler(request) -> Response`` for :class:`~shoploop.emulation.EmulatorServer`."""

    def __init__(self, data: WooData, auth: Authenticator, stats: EmulatorStats,
                 hooks: Webhooks, base_url: Callable[[], str]) -> None:
        self.data = data
        self.auth = auth
        self.stats = stats
        self.hooks = hooks
        self.base_url = base_url
        self.locked: set[int] = set()
        """Customer ids whose updates fail (``woocommerce_rest_cannot_edit``), for tests."""
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"/(customers|orders|products|coupons)"), self.list),
            ("GET", re.compile(r"/(customers|orders|products|coupons)/(\d+)"), self.get),
            ("PUT", re.compile(r"/(customers|orders|products|coupons)/(\d+)"), self.update_one),
            ("POST", re.compile(r"/(customers|orders|products|coupons)/(\d+)"), self.update_one),
            ("POST", re.compile(r"/(customers|products)/batch"), self.batch),
            ("POST", re.compile(r"/customers"), self.create_customer),
            ("POST", re.compile(r"/coupons"), self.create_coupon),
            ("GET", re.compile(r"/webhooks"), self.list_webhooks),
            ("GET", re.compile(r"/webhooks/(\d+)"), self.get_webhook),
            ("POST", re.compile(r"/webhooks"), self.create_webhook),
        ]

    def __call__(self, request: Request) -> Response:
        if not request.path.startswith(API):
            return error("rest_no_route", "No route was found matching the URL and request "
                                          "method.", 404)
        path = request.path[len(API):].rstrip("/")
        if not path:
            return Response.json({"namespace": "wc/v3", "routes": {}})
        try:  # recorded authentication errors are answered before routing (WP_REST_Server)
            authenticated = self.auth.authenticated(
                request.method, self.home_url() + request.path, request.query,
                request.headers, request.body)
        except AuthFailure as exc:
            self.stats.incr("auth_failures")
            return error(exc.code, exc.message, 401)
        for method, pattern, action in self._routes:
            match = pattern.fullmatch(path)
            if match and method == request.method:
                if not authenticated:  # the endpoint's permission_callback refuses it
                    self.stats.incr("auth_failures")
                    return error(*_REFUSALS[_kind(action.__name__)], 401)
                if method != "GET":
                    self.stats.incr("writes")
                try:
                    return action(request, *match.groups())
                except _Invalid as invalid:
                    return invalid.response
        return error("rest_no_route",
                     "No route was found matching the URL and request method.", 404)

    def home_url(self) -> str:
        """``get_home_url()`` in the scheme the site's PHP sees (``is_ssl()``)."""
        url = self.base_url()
        return "https" + url[len("http"):] if self.auth.https and url.startswith(
            "http:") else url

    def present(self, stream: str, record: Record) -> Record:
        """``record`` as the REST API answers it: with ``_links`` (``prepare_links``: self,
        collection, and an order's customer), the object itself not copied."""
        base = f"{self.home_url()}{API}/{stream}"
        links: dict[str, list[dict[str, str]]] = {
            "self": [{"href": f"{base}/{record['id']}"}], "collection": [{"href": base}]}
        if stream == "orders" and record.get("customer_id"):
            links["customer"] = [
                {"href": f"{self.home_url()}{API}/customers/{record['customer_id']}"}]
        return {**record, "_links": links}

    # -- reads --------------------------------------------------------------------------------

    def _table(self, stream: str) -> dict[int, Record]:
        table: dict[int, Record] = getattr(self.data, stream)
        return table

    def list(self, request: Request, stream: str) -> Response:
        per_page = _int(request, "per_page", 10)
        page = _int(request, "page", 1)
        if not 1 <= per_page <= 100:
            raise _Invalid(error("rest_invalid_param", "Invalid parameter(s): per_page", 400,
                                 params={"per_page": "per_page must be between 1 (inclusive) "
                                                     "and 100 (inclusive)"}))
        if page < 1:
            raise _Invalid(error("rest_invalid_param", "Invalid parameter(s): page", 400))
        table = self._table(stream)
        include = request.arg("include")
        by_id = request.arg("orderby", "id" if stream == "customers" else "date") == "id"
        descending = request.arg("order", "asc" if stream == "customers" else "desc") == "desc"
        start = (page - 1) * per_page
        with self.data.lock:
            match = self._matcher(request, stream)
            if include:  # a lookup, not a scan: the adapter reads a batch's customers this way
                wanted = {int(i) for i in include.split(",") if i.strip().isdigit()}
                records = [table[i] for i in sorted(wanted) if i in table]
                records = records if match is None else [r for r in records if match(r)]
                total, chunk = len(records), _ordered(records, by_id, descending)[
                    start:start + per_page]
            elif match is None and by_id:
                # The unfiltered id-ordered scan costs O(page), as an indexed query does (tables
                # are filled in ascending id order; ids are never reused): no copy of the table.
                total = len(table)
                values = reversed(table.values()) if descending else iter(table.values())
                chunk = list(itertools.islice(values, start, start + per_page))
            else:
                records = list(table.values()) if match is None else \
                    [r for r in table.values() if match(r)]
                total, chunk = len(records), _ordered(records, by_id, descending)[
                    start:start + per_page]
            pages = math.ceil(total / per_page)
            fields = _fields(request)
            # Encoded under the lock: a consistent snapshot without deep copies.
            linked = fields is None or "_links" in fields  # links are built only when asked for
            body = json.dumps([_only(fields, self.present(stream, r) if linked else r)
                               for r in chunk], ensure_ascii=False).encode()
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        links = []
        base = f"{self.home_url()}{request.path}"
        query = {k: v[-1] for k, v in request.query.items()
                 if not k.startswith("oauth_") and k not in ("consumer_key", "consumer_secret")}
        if page > 1:
            links.append(f'<{base}?{urlencode({**query, "page": page - 1})}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}?{urlencode({**query, "page": page + 1})}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        headers["Content-Type"] = "application/json; charset=UTF-8"
        return Response(200, body, headers)

    @staticmethod
    def _matcher(request: Request, stream: str) -> Callable[[Record], bool] | None:
        """The list filters of ``stream``, parsed once per request (None: no filter)."""
        if stream == "customers":
            # `email` is an exact match, case-insensitive (WP_User_Query searches user_email
            # with LIKE and no wildcards, under MySQL's case-insensitive collation).
            role = request.arg("role", "customer")
            email = (request.arg("email") or "").lower()
            if role == "all" and not email:
                return None
            return lambda r: (role == "all" or r.get("role") == role) and (
                not email or str(r.get("email") or "").lower() == email)
        if stream == "coupons":
            code = (request.arg("code") or "").lower()
            return lambda r: not code or r.get("code") == code
        # Without dates_are_gmt WooCommerce reads these dates in the site's timezone (UTC here).
        after, before = request.arg("modified_after"), request.arg("modified_before")
        low = _moment(after) if after else None
        high = _moment(before) if before else None
        statuses = set((request.arg("status") or "any").split(","))

        def match(record: Record) -> bool:
            if low is not None or high is not None:
                modified = parse_time(record.get("date_modified_gmt"))
                if modified is None or (low is not None and modified <= low) or (
                        high is not None and modified >= high):
                    return False
            return "any" in statuses or record.get("status") in statuses

        return match

    def get(self, request: Request, stream: str, number: str) -> Response:
        with self.data.lock:
            record = self._table(stream).get(int(number))
            if record is None:
                return error(f"woocommerce_rest_invalid_{stream[:-1]}_id", "Invalid ID.", 404)
            return Response.json(self.present(stream, copy.deepcopy(record)))

    # -- writes -------------------------------------------------------------------------------

    def update_one(self, request: Request, stream: str, number: str) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return error("rest_invalid_json", "Invalid JSON body passed.", 400)
        result = self._update(stream, {**body, "id": int(number)})
        status = result.get("error", {}).get("data", {}).get("status", 200)
        return Response.json(result.get("error") or result, status)

    def batch(self, request: Request, stream: str) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return error("rest_invalid_json", "Invalid JSON body passed.", 400)
        self.stats.incr("batch_requests")
        count = sum(len(body.get(part) or ()) for part in ("create", "update", "delete"))
        if count > BATCH_LIMIT:
            return error("woocommerce_rest_request_entity_too_large",
                         f"Unable to accept more than {BATCH_LIMIT} items for this request.",
                         413)
        answer: dict[str, list[Record]] = {}
        if body.get("create"):
            answer["create"] = [self._create(stream, item) for item in body["create"]]
        if body.get("update"):
            answer["update"] = [self._update(stream, item) for item in body["update"]]
        if body.get("delete"):
            answer["delete"] = [_item_error(int(i) if str(i).isdigit() else 0,
                                            "woocommerce_rest_trash_not_supported",
                                            "The emulator does not delete resources.", 501)
                                for i in body["delete"]]
        return Response.json(answer)

    def _update(self, stream: str, item: Any) -> Record:
        number = item.get("id") if isinstance(item, dict) else None
        if not isinstance(number, int):
            return _item_error(0, "woocommerce_rest_invalid_id", "Invalid resource ID.", 400)
        with self.data.lock:
            record = self._table(stream).get(number)
            if record is None:
                return _item_error(number, f"woocommerce_rest_invalid_{stream[:-1]}_id",
                                   "Invalid ID.", 400)
            if stream == "customers" and number in self.locked:
                return _item_error(number, "woocommerce_rest_cannot_edit",
                                   "Sorry, you are not allowed to edit this resource.", 403)
            changed = lists_changed = False
            if "meta_data" in item:
                changed |= self.data.update_meta(
                    record, item["meta_data"], number if stream == "customers" else None)
            for field in ("upsell_ids", "cross_sell_ids", "status", "first_name",
                          "last_name", *(_COUPON_FIELDS if stream == "coupons" else ())):
                if field not in item:
                    continue
                value = _id_list(item[field]) if field.endswith("_ids") else item[field]
                if record.get(field) != value:
                    record[field] = value
                    changed = True
                    lists_changed |= field.endswith("_ids")
            if changed:
                record["date_modified"] = record["date_modified_gmt"] = now_gmt()
                self.stats.incr("items_written")
            if lists_changed:
                self.data.product_list_writes[number] += 1
            result = self.present(stream, copy.deepcopy(record))
        if changed:
            self.hooks.fire(stream[:-1], "updated", result)
        return result

    def create_customer(self, request: Request) -> Response:
        """``POST /customers``: the route checks ``email`` first (required, format email)."""
        body = request.json()
        if not isinstance(body, dict):
            return error("rest_invalid_json", "Invalid JSON body passed.", 400)
        if not body.get("email"):
            return error("rest_missing_callback_param", "Missing parameter(s): email", 400,
                         params=["email"])
        if not is_email(str(body["email"])):
            return error("rest_invalid_param", "Invalid parameter(s): email", 400,
                         params={"email": "Invalid email address."})
        result = self._create("customers", body)
        if "error" in result:
            return Response.json(result["error"], 400)
        return Response.json(result, 201)

    def _create(self, stream: str, item: Any) -> Record:
        """One ``create`` item: the new record, or ``{"id": 0, "error": …}`` like
        ``WC_REST_Controller::batch_items``."""
        if stream != "customers":
            return _item_error(0, "woocommerce_rest_cannot_create",
                               "The emulator does not create this resource.", 400)
        if not isinstance(item, dict):
            return _item_error(0, "rest_invalid_param", "Invalid parameter(s): create", 400)
        if item.get("id"):
            return _item_error(0, "woocommerce_rest_customer_exists",
                               "Cannot create existing resource.", 400)
        with self.data.lock:
            customers = self.data.customers.values()
            refused = refusal(item, (str(c.get("email") or "") for c in customers))
            if refused is not None:
                return _item_error(0, *refused, 400)
            username = new_username(str(item["email"]).lower(),
                                    {str(c.get("username")) for c in customers})
            record = self.present("customers",
                                  copy.deepcopy(self.data.create_customer(item, username)))
        self.stats.incr("items_written")
        self.stats.incr("customers_created")
        self.hooks.fire("customer", "created", record)
        return record

    def create_coupon(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not body.get("code"):
            return error("woocommerce_rest_empty_coupon_code",
                         "The coupon code cannot be empty.", 400)
        with self.data.lock:
            code = str(body["code"]).lower()
            if any(c["code"] == code for c in self.data.coupons.values()):
                return error("woocommerce_rest_coupon_code_already_exists",
                             "The coupon code already exists", 400)
            coupon = self.present("coupons", copy.deepcopy(self.data.add_coupon(body)))
        self.stats.incr("items_written")
        self.hooks.fire("coupon", "created", coupon)
        return Response.json(coupon, 201)

    def list_webhooks(self, request: Request) -> Response:
        hooks = [self.hooks.public(h) for h in self.hooks.hooks.values()]
        return Response.json(hooks, headers={"X-WP-Total": str(len(hooks)),
                                             "X-WP-TotalPages": "1"})

    def get_webhook(self, request: Request, number: str) -> Response:
        hook = self.hooks.hooks.get(int(number))
        if hook is None:  # prepare_item_for_response's answer for an unknown id
            return error("woocommerce_rest_shop_webhook_invalid_id", "ID is invalid.", 400)
        return Response.json(self.hooks.public(hook))

    def create_webhook(self, request: Request) -> Response:
        """``WC_REST_Webhooks_V1_Controller::create_item`` (inherited by v3): the route's
        required args first, then topic and URL validation; 201 with a ``Location``."""
        body = request.json()
        if not isinstance(body, dict):
            return error("rest_invalid_json", "Invalid JSON body passed.", 400)
        missing = [p for p in ("topic", "delivery_url") if p not in body]
        if missing:
            return error("rest_missing_callback_param",
                         f"Missing parameter(s): {', '.join(missing)}", 400, params=missing)
        if not body["topic"] or not valid_topic(str(body["topic"]).lower()):
            return error("woocommerce_rest_shop_webhook_invalid_topic",
                         "Webhook topic is required and must be valid.", 400)
        if not re.match(r"https?://[^/\s]+", str(body["delivery_url"] or "")):
            return error("woocommerce_rest_shop_webhook_invalid_delivery_url",
                         "Webhook delivery URL must be a valid URL starting with http:// or "
                         "https://.", 400)
        created = self.hooks.create(body)
        return Response.json(created, 201, headers={
            "Location": f"{self.home_url()}{API}/webhooks/{created['id']}"})


_REFUSALS = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create",
               "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "batch": ("woocommerce_rest_cannot_batch",
              "Sorry, you are not allowed to batch manipulate this resource."),
}
"""The controllers' permission checks for a request without a user (``*_permissions_check``;
status ``rest_authorization_required_code()`` = 401 when nobody is logged in)."""


def _kind(action: str) -> str:
    if action == "batch":
        return "batch"
    if action in ("list", "list_webhooks"):
        return "list"
    if action in ("get", "get_webhook"):
        return "view"
    return "edit" if action == "update_one" else "create"


def _fields(request: Request) -> list[str] | None:
    """The ``_fields`` global parameter (comma-separated or ``_fields[]=…``), or None. WordPress
    keeps only these top-level fields of each item (``rest_filter_response_fields``; ``_links``
    only when asked for): https://developer.wordpress.org/rest-api/using-the-rest-api/global-parameters/"""
    given = request.query.get("_fields") or request.query.get("_fields[]")
    if not given:
        return None
    return [f.strip() for value in given for f in value.split(",") if f.strip()]


def _only(fields: list[str] | None, record: Record) -> Record:
    """``record`` with only ``fields`` (None: all of it)."""
    return record if fields is None else {f: record[f] for f in fields if f in record}


def _ordered(records: list[Record], by_id: bool, descending: bool) -> list[Record]:
    """``records`` (in ascending id order) in the list's order: by id (nothing to sort) or by
    creation date, ascending or descending."""
    if not by_id:
        records = sorted(records, key=lambda r: (str(r.get("date_created_gmt")), int(r["id"])))
    return records[::-1] if descending else records


def _item_error(number: int, code: str, message: str, status: int) -> Record:
    return {"id": number, "error": {"code": code, "message": message,
                                    "data": {"status": status}}}


def _int(request: Request, name: str, default: int) -> int:
    value = request.arg(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise _Invalid(error("rest_invalid_param", f"Invalid parameter(s): {name}", 400,
                             params={name: f"{name} is not of type integer."})) from None


def _moment(value: str) -> datetime:
    try:
        moment = parse_time(value)
    except ValueError:
        moment = None
    if moment is None:
        raise _Invalid(error("rest_invalid_param", "Invalid parameter(s): modified_after", 400))
    return moment


__all__ = ["API", "BATCH_LIMIT", "WooApp", "error"]


def _id_list(value: Any) -> list[int]:
    """``upsell_ids`` / ``cross_sell_ids`` as WooCommerce stores them: the REST controller keeps
    the ids > 0 (``prepare_object_for_database``, "Upsells." / "Cross sells." in
    includes/rest-api/Controllers/Version3/class-wc-rest-products-controller.php) and
    ``WC_Product::set_upsell_ids`` / ``set_cross_sell_ids`` store
    ``array_filter( wp_parse_id_list( … ) )``: positive integers, each once, in order. An
    id that names no product is kept (WooCommerce does not check)."""
    ids: list[int] = []
    for item in value if isinstance(value, list) else []:
        try:
            number = int(item)
        except (TypeError, ValueError):
            continue
        if number > 0 and number not in ids:
            ids.append(number)
    return ids
