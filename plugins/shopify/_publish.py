"""Recommendations into Shopify Search & Discovery's product metafields.

The storefront's "complementary" and "related" recommendations (the Product Recommendations
API's ``intent``) read two standard product metafields that Search & Discovery manages: namespace
``shopify--discovery--product_recommendation``, keys ``complementary_products`` and
``related_products``, both ``list.product_reference`` ("Complementary products" / "Related
products" in the standard definitions: https://shopify.dev/docs/apps/build/custom-data/metafields/
list-of-standard-definitions; the intents:
https://shopify.dev/docs/storefronts/themes/product-merchandising/recommendations).

Each batch reads what the products hold (one ``nodes`` query), then sets only the lists that
differ (``metafieldsSet``, at most 25 metafields a call — two per product) and deletes a list
that became empty (``metafieldsDelete``). ``metafieldsSet`` is atomic: when it refuses an item
(a product that no longer exists, say), nothing of that call is stored, so the refused products
fail and the others are sent again without them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from shoploop.hooks import ALTERNATIVE_KINDS, PublishResult, Recommendation, WriteStatus

from . import _queries
from ._client import GraphQLClient
from ._mapping import from_gid, to_gid
from ._writes import read_current

RECOMMENDATION_NAMESPACE = "shopify--discovery--product_recommendation"
COMPLEMENTARY, RELATED = "complementary_products", "related_products"
LIST_TYPE = "list.product_reference"
SHOWN = 10
"""The storefront shows at most 10 recommendations per intent; more are not written."""
METAFIELDS_PER_CALL = 25
PRODUCTS_PER_CALL = METAFIELDS_PER_CALL // 2
OPERATION = "publish_recommendations"


def recommendation_fields(recommendations: Sequence[Recommendation]) -> dict[str, list[str]]:
    """Alternatives (``ALTERNATIVE_KINDS``) → ``related_products``, every other kind (bought
    together, services, spare parts, refills) → ``complementary_products``; best first, each
    product once, at most :data:`SHOWN`."""
    ranked = sorted(recommendations, key=lambda r: -r.score)

    def ids(alternative: bool) -> list[str]:
        unique = dict.fromkeys(from_gid(r.product_id) for r in ranked
                               if (r.kind in ALTERNATIVE_KINDS) is alternative)
        return list(unique)[:SHOWN]

    return {COMPLEMENTARY: ids(False), RELATED: ids(True)}


def publish_lists(client: GraphQLClient, lists: Mapping[str, Mapping[str, Sequence[str]]]
                  ) -> list[PublishResult]:
    """Product id → {key: product ids} into the two metafields; one result per product."""
    owners = {product_id: to_gid("Product", product_id) for product_id in lists}
    keys = [f"{RECOMMENDATION_NAMESPACE}.{key}" for key in (COMPLEMENTARY, RELATED)]
    current = read_current(client, list(dict.fromkeys(owners.values())), keys, OPERATION)
    results: dict[str, PublishResult] = {}
    sets: dict[str, list[dict[str, Any]]] = {}
    deletes: dict[str, list[dict[str, Any]]] = {}
    for product_id, fields in lists.items():
        owner = owners[product_id]
        if owner not in current:
            results[product_id] = PublishResult(product_id=product_id,
                                                status=WriteStatus.FAILED,
                                                message=f"no product {product_id} in Shopify")
            continue
        for key in (COMPLEMENTARY, RELATED):
            wanted = [to_gid("Product", i) for i in fields.get(key, ())][:SHOWN]
            held = current[owner].metafields.get((RECOMMENDATION_NAMESPACE, key))
            if not wanted:
                if held:  # an emptied list: an empty list.product_reference is refused
                    deletes.setdefault(product_id, []).append(
                        {"ownerId": owner, "namespace": RECOMMENDATION_NAMESPACE, "key": key})
            elif not held or json.loads(held["value"]) != wanted:
                sets.setdefault(product_id, []).append(
                    {"ownerId": owner, "namespace": RECOMMENDATION_NAMESPACE, "key": key,
                     "type": LIST_TYPE, "value": json.dumps(wanted)})
    refused = _set(client, sets)
    _delete(client, deletes)
    for product_id in lists:
        if product_id in results:
            continue
        written = sorted(m["key"] for m in sets.get(product_id, []) + deletes.get(product_id, []))
        if product_id in refused:
            results[product_id] = PublishResult(product_id=product_id, status=WriteStatus.FAILED,
                                                message=refused[product_id])
        else:
            results[product_id] = PublishResult(
                product_id=product_id, fields=written,
                status=WriteStatus.WRITTEN if written else WriteStatus.UNCHANGED)
    return [results[product_id] for product_id in lists]


def _set(client: GraphQLClient, sets: Mapping[str, list[dict[str, Any]]]) -> dict[str, str]:
    """``metafieldsSet`` in calls of whole products; product id → why it was refused."""
    refused: dict[str, str] = {}
    products = list(sets)
    for start in range(0, len(products), PRODUCTS_PER_CALL):
        chunk = products[start:start + PRODUCTS_PER_CALL]
        for _attempt in range(2):  # the second without the products refused in the first
            chunk = [p for p in chunk if p not in refused]
            inputs = [(p, m) for p in chunk for m in sets[p]]
            if not inputs:
                break
            data = client.execute(_queries.METAFIELDS_SET,
                                  {"metafields": [m for _p, m in inputs]}, operation=OPERATION)
            errors = data["metafieldsSet"]["userErrors"]
            if not errors:
                break
            for error in errors:
                index = _index_of(error)
                named = [inputs[index][0]] if index is not None and index < len(inputs) \
                    else chunk  # no index: the whole call is refused
                for product_id in named:
                    refused[product_id] = str(error["message"])
        else:
            for product_id in chunk:  # refused twice: nothing of it was stored
                refused.setdefault(product_id, "metafieldsSet refused the batch")
    return refused


def _index_of(error: Mapping[str, Any]) -> int | None:
    """The refused input's index: ``elementIndex``, or — as for a reference to a missing
    product, where ``elementIndex`` is null — the index in ``field`` (``metafields.<i>.…``)."""
    if isinstance(error.get("elementIndex"), int):
        return int(error["elementIndex"])
    field = error.get("field") or []
    if len(field) > 1 and str(field[1]).isdigit():
        return int(field[1])
    return None


def _delete(client: GraphQLClient, deletes: Mapping[str, list[dict[str, Any]]]) -> None:
    identifiers = [m for items in deletes.values() for m in items]
    for start in range(0, len(identifiers), METAFIELDS_PER_CALL):
        client.execute(_queries.METAFIELDS_DELETE,
                       {"metafields": identifiers[start:start + METAFIELDS_PER_CALL]},
                       operation=OPERATION)
