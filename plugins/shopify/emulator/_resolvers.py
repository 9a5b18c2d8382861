"""Resolvers for the emulated schema: reads over :class:`ShopData` and the mutations the
adapter uses, with Shopify's validation and user errors.

Behaviour copied from the real API (and documented there):

* ``metafieldsSet`` takes at most 25 metafields, is atomic (one bad input: nothing persisted,
  ``userErrors`` with ``elementIndex``) and honours ``compareDigest`` (stale: ``STALE_OBJECT``);
  blank values are refused; a ``list.product_reference`` must name existing products
  ("Value references non-existent resource gid://…"). Setting a metafield bumps the owner's
  ``updatedAt``.
* ``tagsAdd`` / ``tagsRemove`` change only the named tags (unlike ``customerUpdate(tags:)``).
* ``discountCodeBasicCreate`` refuses a code that exists (``TAKEN``); codes are
  case-insensitive, and ``codeDiscountNodeByCode`` finds them. Gift cards: ``_gift_cards``.
* ``customerAddressCreate`` adds an address to an existing customer (``setAsDefault`` makes it
  the default address); ``CustomerInput`` has no ``addresses`` in the current schema.
* ``customerCreate`` gives the customer a new id and ``createdAt``/``updatedAt`` of now (so
  paged, incremental and bulk reads see it) and refuses an invalid or taken e-mail or phone
  with ``userErrors`` ("Email has already been taken", field ``["email"]``; e-mails compare
  case-insensitively); ``customerByIdentifier(identifier: {emailAddress:})`` finds it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, GraphQLSchema

from ._bulk import BulkOperations
from ._gift_cards import GiftCards
from ._paging import connection, matcher
from ._store import ShopData, gid, metafield_for, now
from ._webhooks import WebhookSender

MAX_METAFIELDS = 25
COUNT_LIMIT = 10_000
Resolver = Callable[..., Any]


def _validate_value(type_: str, value: str) -> str | None:
    """Shopify's per-type validation, reduced to the types the adapter writes."""
    if value == "":
        return "Value can't be blank."
    try:
        if type_ == "number_integer":
            int(value)
        elif type_ == "number_decimal":
            Decimal(value)
        elif type_ == "boolean" and value not in ("true", "false"):
            return "Value must be true or false."
        elif type_.startswith("list."):
            items = json.loads(value)
            if not isinstance(items, list):
                return "Value must be an array."
            if type_ == "list.product_reference" and not all(
                    isinstance(i, str) and i.startswith("gid://shopify/Product/") for i in items):
                return "Value must be a list of product references."
        elif type_ == "single_line_text_field" and "\n" in value:
            return "Value must be a single line text string."
    except (ValueError, InvalidOperation):
        return f"Value must be a valid {type_}."
    return None


class Resolvers:
    """Binds resolvers to the schema's fields; counts writes in ``on_write``."""

    def __init__(self, data: ShopData, shop: str, scopes: list[str],
                 on_write: Callable[[str, dict[str, Any]], None], bulk: BulkOperations,
                 webhooks: WebhookSender) -> None:
        self._webhooks = webhooks
        self.bulk = bulk
        self.data = data
        self.shop = shop
        self.scopes = scopes
        self.on_write = on_write

    def bind(self, schema: GraphQLSchema) -> None:
        def field(type_name: str, name: str, resolver: Resolver) -> None:
            owner = schema.get_type(type_name)
            assert isinstance(owner, GraphQLObjectType)
            owner.fields[name].resolve = resolver

        query: dict[str, Resolver] = {
            "shop": lambda *_: {"id": gid("Shop", 1), "name": "shoploop emulator",
                                "myshopifyDomain": self.shop, "currencyCode": "EUR"},
            "currentAppInstallation": lambda *_: {
                "id": gid("AppInstallation", 1),
                "accessScopes": [{"handle": s} for s in self.scopes]},
            "customers": self._list(lambda: self.data.customers),
            "orders": self._list(lambda: self.data.orders),
            "products": self._list(lambda: self.data.products),
            "customer": lambda _r, _i, id: self.data.customers.get(id),
            "order": lambda _r, _i, id: self.data.orders.get(id),
            "product": lambda _r, _i, id: self.data.products.get(id),
            "nodes": lambda _r, _i, ids: [self.data.node(i) for i in ids],
            "customerByIdentifier": self._customer_by_identifier,
            "codeDiscountNodeByCode": lambda _r, _i, code: self.data.discounts.get(
                self.data.codes.get(code.upper(), "")),
            "codeDiscountNodes": self._discounts,
            "currentBulkOperation": lambda *_a, **_k: self.bulk.newest(),
            "bulkOperation": lambda _r, _i, id: self.bulk.poll(id),
            "bulkOperations": lambda _r, _i, first=None, after=None, query=None,
            sortKey="CREATED_AT", reverse=False: self.bulk.listed(first, query, sortKey,
                                                                  reverse),
            "webhookSubscriptions": self._webhook_subscriptions,
            "customersCount": self._count(lambda: self.data.customers),
            "ordersCount": self._count(lambda: self.data.orders),
            "productsCount": self._count(lambda: self.data.products),
        }
        gift_card_queries, gift_card_mutations = GiftCards(self.data, self.on_write).resolvers()
        for name, resolver in {**query, **gift_card_queries}.items():
            field("Query", name, resolver)
        field("GiftCard", "customer", lambda r, _i: self.data.customers.get(r["_customer"] or ""))
        # The current contact fields, derived from the record the deprecated ones read.
        field("Customer", "defaultEmailAddress", lambda r, _i: {
            "emailAddress": r["email"], "marketingUpdatedAt": None,
            "marketingState": r["emailMarketingConsent"]["marketingState"]}
            if r.get("email") else None)
        field("Customer", "defaultPhoneNumber", lambda r, _i: {
            "phoneNumber": r["phone"], "marketingState": "NOT_SUBSCRIBED",
            "marketingCollectedFrom": None} if r.get("phone") else None)
        for owner in ("Customer", "Product"):
            field(owner, "metafields", self._metafields)
            field(owner, "metafield", self._metafield)
        field("Product", "variants", lambda r, _i, first=None, after=None: _plain(
            r["_variants"], first))
        field("Order", "customer", lambda r, _i: self.data.customers.get(r["_customer"] or ""))
        field("Order", "lineItems", self._line_items)
        field("Order", "refunds", lambda r, _i, first=None: r.get("refunds", [])[:first])
        field("LineItem", "product", lambda r, _i: self.data.products.get(r["_product"] or ""))
        field("DiscountCodeBasic", "codes", lambda r, _i, first=None, after=None: _plain(
            r["_codes"], first))
        field("DiscountCodeBasic", "asyncUsageCount", lambda r, _i: int(r.get(
            "asyncUsageCount") or 0))
        mutations: dict[str, Resolver] = {"customerCreate": self._customer_create,
                     "customerAddressCreate": self._customer_address_create,
                     "metafieldsSet": self._metafields_set,
                     "metafieldsDelete": self._metafields_delete,
                     "tagsAdd": self._tags(add=True), "tagsRemove": self._tags(add=False),
                     "discountCodeBasicCreate": self._discount_create,
                     "discountCodeDeactivate": self._discount_deactivate,
                     # always grouped: children follow their parent (groupObjects: true)
                     "bulkOperationRunQuery": lambda _r, _i, query, groupObjects=False:
                     self.bulk.run(query),
                     "webhookSubscriptionCreate": self._webhook_subscription_create}
        for name, resolver in {**mutations, **gift_card_mutations}.items():
            field("Mutation", name, resolver)

    # -- webhook subscriptions ----------------------------------------------------------------

    def _webhook_subscription_create(self, _root: Any, _info: Any, topic: str,
                                     webhookSubscription: dict[str, Any]) -> dict[str, Any]:
        uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
        if not uri or not str(uri).startswith(("https://", "http://")):
            return {"webhookSubscription": None, "userErrors": [
                {"field": ["webhookSubscription", "uri"], "message": "Address is invalid"}]}
        sender = self._webhooks
        duplicate = any(s["topic"] == topic and s["uri"] == uri
                        for s in sender.subscriptions.values())
        if duplicate:  # Shopify refuses a second subscription of a topic to one address
            return {"webhookSubscription": None, "userErrors": [
                {"field": ["webhookSubscription", "uri"],
                 "message": "Address for this topic has already been taken"}]}
        return {"webhookSubscription": sender.subscribe(topic, str(uri)), "userErrors": []}

    def _webhook_subscriptions(self, _root: Any, _info: Any, first: int | None = None,
                               after: str | None = None, topics: list[str] | None = None,
                               uri: str | None = None) -> dict[str, Any]:
        rows = [s for s in self._webhooks.subscriptions.values()
                if (not topics or s["topic"] in topics) and (uri is None or s["uri"] == uri)]
        page = _plain(rows, first)
        page["edges"] = [{"cursor": row["id"], "node": row} for row in page["nodes"]]
        return page

    # -- reads --------------------------------------------------------------------------------

    @staticmethod
    def _list(table: Callable[[], dict[str, dict[str, Any]]]) -> Resolver:
        def resolve(_root: Any, _info: Any, first: int | None = None,
                    after: str | None = None, query: str | None = None,
                    sortKey: str | None = None, reverse: bool | None = False) -> Any:
            try:
                return connection(list(table().values()), first=first, after=after,
                                  query=query, sort_key=sortKey, reverse=reverse)
            except ValueError as exc:
                raise GraphQLError(str(exc)) from exc
        return resolve

    def _customer_by_identifier(self, _root: Any, _info: Any, identifier: dict[str, Any]
                                ) -> Any:
        given = {k: v for k, v in identifier.items() if v is not None}
        if len(given) != 1:
            raise GraphQLError("Exactly one identifier must be provided.")
        (key, value), = given.items()
        if key == "id":
            return self.data.customers.get(value)
        if key == "emailAddress":
            return self.data.customer_by_email(value)
        return self.data.customer_by_phone(str(value))

    @staticmethod
    def _count(table: Callable[[], dict[str, dict[str, Any]]]) -> Resolver:
        def resolve(_root: Any, _info: Any, query: str | None = None,
                    limit: int | None = COUNT_LIMIT) -> Any:
            # Counts stop at `limit` (default 10,000; null: uncapped) and then say AT_LEAST
            # (https://shopify.dev/docs/api/admin-graphql/latest/queries/customersCount).
            try:
                keep = matcher(query)
            except ValueError as exc:
                raise GraphQLError(str(exc)) from exc
            count = sum(1 for r in table().values() if keep(r))
            if limit is not None and count > limit:
                return {"count": limit, "precision": "AT_LEAST"}
            return {"count": count, "precision": "EXACT"}
        return resolve

    def _discounts(self, _root: Any, _info: Any, first: int | None = None,
                   after: str | None = None, query: str | None = None) -> Any:
        rows = [{**node, "legacyResourceId": node["id"].rsplit("/", 1)[-1],
                 "title": node["codeDiscount"]["title"]}
                for node in self.data.discounts.values()]
        try:
            return connection(rows, first=first, after=after, query=query)
        except ValueError as exc:
            raise GraphQLError(str(exc)) from exc

    @staticmethod
    def _metafields(owner: dict[str, Any], _info: Any, first: int | None = None,
                    after: str | None = None, namespace: str | None = None,
                    keys: list[str] | None = None) -> Any:
        rows = [m for (ns, key), m in sorted(owner["_metafields"].items())
                if (namespace is None or ns == namespace)
                and (keys is None or f"{ns}.{key}" in keys)]
        indexed = [{**m, "legacyResourceId": str(i)} for i, m in enumerate(rows)]
        return connection(indexed, first=first, after=after)

    @staticmethod
    def _metafield(owner: dict[str, Any], _info: Any, key: str,
                   namespace: str | None = None) -> Any:
        if namespace is None and "." in key:
            namespace, key = key.split(".", 1)
        return owner["_metafields"].get((namespace or "$app", key))

    @staticmethod
    def _line_items(order: dict[str, Any], _info: Any, first: int | None = None,
                    after: str | None = None) -> Any:
        rows = [{**line, "legacyResourceId": str(i)} for i, line in enumerate(order["_lines"])]
        return connection(rows, first=first, after=after)

    # -- writes -------------------------------------------------------------------------------

    def _customer_create(self, _root: Any, _info: Any, input: dict[str, Any]) -> Any:
        node, errors = self.data.create_customer(input)
        if node is not None:
            self.on_write("created", node)
        return {"customer": node, "userErrors": errors}

    def _customer_address_create(self, _root: Any, _info: Any, customerId: str,
                                 address: dict[str, Any], setAsDefault: bool | None = None
                                 ) -> Any:
        node, errors = self.data.add_address(customerId, address, bool(setAsDefault))
        if node is None:
            return {"address": None, "userErrors": errors}
        self.on_write("address", node)
        return {"address": node["addresses"][-1], "userErrors": []}

    def _owner(self, owner_id: str) -> dict[str, Any] | None:
        owner = self.data.customers.get(owner_id) or self.data.products.get(owner_id)
        return owner

    def _metafields_set(self, _root: Any, _info: Any, metafields: list[dict[str, Any]]) -> Any:
        if len(metafields) > MAX_METAFIELDS:
            # The real API answers with a top-level error before executing anything.
            raise GraphQLError(
                f"The input array size of {len(metafields)} is greater than the maximum "
                f"allowed of {MAX_METAFIELDS}.", extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"})
        errors: list[dict[str, Any]] = []
        with self.data.lock:
            for index, item in enumerate(metafields):
                owner = self._owner(item["ownerId"])
                namespace = item.get("namespace") or "$app"
                existing = owner["_metafields"].get((namespace, item["key"])) if owner else None
                type_ = item.get("type") or (existing or {}).get("type")
                problem = None
                if owner is None:
                    problem = ("INVALID", "Owner does not exist.")
                elif type_ is None:
                    problem = ("BLANK", "Type can't be blank.")
                elif existing is not None and existing["type"] != type_:
                    problem = ("INVALID_TYPE", "Type must match the existing metafield's type.")
                elif "compareDigest" in item and item["compareDigest"] != (
                        existing["compareDigest"] if existing else None):
                    problem = ("STALE_OBJECT", "The resource has been updated since it was "
                                               "loaded. Try again with an updated compareDigest.")
                else:
                    message = _validate_value(type_, item["value"])
                    if message:
                        problem = ("INVALID_VALUE", message)
                    elif (missing := self._missing_reference(type_, item["value"])):
                        # Answers recorded from the Admin API by public clients: a reference
                        # to a product that does not exist is refused with this message, code
                        # INVALID_VALUE, the path ["metafields", i, "value"] and
                        # elementIndex null (the index is only in the path).
                        errors.append({"code": "INVALID_VALUE", "elementIndex": None,
                                       "field": ["metafields", str(index), "value"],
                                       "message": "Value references non-existent resource "
                                                  f"{missing}."})
                        continue
                if problem:
                    errors.append({"code": problem[0], "elementIndex": index,
                                   "field": ["metafields", str(index), "value"],
                                   "message": problem[1]})
            if errors:
                return {"metafields": [], "userErrors": errors}
            stamp, written = now(), []
            for item in metafields:
                owner = self._owner(item["ownerId"])
                assert owner is not None
                namespace = item.get("namespace") or "$app"
                existing = owner["_metafields"].get((namespace, item["key"]))
                type_ = item.get("type") or (existing or {})["type"]
                metafield = metafield_for(owner["id"], namespace, item["key"], type_,
                                          item["value"], stamp)
                if existing:
                    metafield["createdAt"] = existing["createdAt"]
                owner["_metafields"][(namespace, item["key"])] = metafield
                self.data.metafield_writes[(owner["id"], namespace, item["key"])] += 1
                owner["updatedAt"] = stamp
                written.append(metafield)
                self.on_write("metafield", owner)
        return {"metafields": written, "userErrors": []}

    def _missing_reference(self, type_: str, value: str) -> str | None:
        """The first product a ``(list.)product_reference`` value names that does not exist."""
        if type_ not in ("product_reference", "list.product_reference"):
            return None
        items = json.loads(value) if type_.startswith("list.") else [value]
        return next((i for i in items if i not in self.data.products), None)

    def _metafields_delete(self, _root: Any, _info: Any, metafields: list[dict[str, Any]]
                           ) -> Any:
        deleted: list[dict[str, Any] | None] = []
        with self.data.lock:
            for item in metafields:
                owner = self._owner(item["ownerId"])
                if owner and owner["_metafields"].pop((item["namespace"], item["key"]), None):
                    owner["updatedAt"] = now()
                    deleted.append(dict(item))
                    self.on_write("metafield", owner)
                else:
                    deleted.append(None)
        return {"deletedMetafields": deleted, "userErrors": []}

    def _tags(self, *, add: bool) -> Resolver:
        def resolve(_root: Any, _info: Any, id: str, tags: list[str]) -> Any:
            with self.data.lock:
                owner = self._owner(id) or self.data.orders.get(id)
                if owner is None:
                    return {"node": None, "userErrors": [{"field": ["id"],
                                                          "message": "Resource not found"}]}
                before = set(owner["tags"])
                after = before | {t.strip() for t in tags} if add else \
                    before - {t.strip() for t in tags}
                if after != before:
                    owner["tags"] = sorted(after)
                    owner["updatedAt"] = now()
                    self.on_write("tags", owner)
                return {"node": owner, "userErrors": []}
        return resolve

    def _discount_create(self, _root: Any, _info: Any, basicCodeDiscount: dict[str, Any]
                         ) -> Any:
        spec = basicCodeDiscount
        code = (spec.get("code") or "").strip()
        if not code:
            return _discount_error("BLANK", "code", "Code can't be blank")
        value = (spec.get("customerGets") or {}).get("value") or {}
        if not value.get("percentage") and not (value.get("discountAmount") or {}).get("amount"):
            return _discount_error("BLANK", "customerGets", "Value can't be blank")
        with self.data.lock:
            if code.upper() in self.data.codes:
                return _discount_error("TAKEN", "code", "Code must be unique. Please try a "
                                                        "different code.")
            node_id = self.data.new_discount_id()
            stamp = now()
            node = {"__typename": "DiscountCodeNode", "id": node_id, "codeDiscount": {
                "__typename": "DiscountCodeBasic", "title": spec.get("title") or code,
                "status": "ACTIVE", "startsAt": spec.get("startsAt") or stamp,
                "endsAt": spec.get("endsAt"), "usageLimit": spec.get("usageLimit"),
                "appliesOncePerCustomer": bool(spec.get("appliesOncePerCustomer")),
                "summary": _summary(value), "createdAt": stamp,
                "_codes": [{"id": gid("DiscountRedeemCode", node_id.rsplit("/", 1)[-1]),
                            "code": code}],
                "_spec": spec}}
            self.data.discounts[node_id] = node
            self.data.codes[code.upper()] = node_id
            self.on_write("discount", node)
        return {"codeDiscountNode": node, "userErrors": []}


    def _discount_deactivate(self, _root: Any, _info: Any, id: str) -> Any:
        """Shopify's answer: the code discount ends now (``endsAt``) and its status is
        ``EXPIRED``; deactivating an expired one again changes nothing. An unknown id is a
        user error on ``id``."""
        with self.data.lock:
            node = self.data.discounts.get(id)
            if node is None:
                return {"codeDiscountNode": None, "userErrors": [
                    {"code": "INVALID", "field": ["id"], "message": "Discount does not exist"}]}
            discount = node["codeDiscount"]
            if discount["status"] != "EXPIRED":
                discount["status"], discount["endsAt"] = "EXPIRED", now()
                self.on_write("discount", node)
        return {"codeDiscountNode": node, "userErrors": []}


def _discount_error(code: str, field: str, message: str) -> dict[str, Any]:
    return {"codeDiscountNode": None,
            "userErrors": [{"code": code, "field": ["basicCodeDiscount", field],
                            "message": message}]}


def _summary(value: dict[str, Any]) -> str:
    if value.get("percentage"):
        return f"{float(value['percentage']) * 100:g}% off entire order"
    return f"{value['discountAmount']['amount']} off entire order"


def _plain(rows: list[dict[str, Any]], first: int | None) -> dict[str, Any]:
    page = rows[: first or len(rows)]
    return {"nodes": page, "pageInfo": {"hasNextPage": len(rows) > len(page),
                                        "hasPreviousPage": False, "startCursor": None,
                                        "endCursor": None}}
