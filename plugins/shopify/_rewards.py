"""Rewards as discount codes (``discountCodeBasicCreate``), idempotent by code.

The code is derived from the idempotency key (``SL-`` + 10 characters of its SHA-256) unless
the spec names one, so a repeated or retried issue finds the first code instead of creating a
second: look up by code first (``codeDiscountNodeByCode``), create otherwise, and treat a
``TAKEN`` answer (two workers racing, or a retried call that had succeeded) as "look it up".
Codes are case-insensitive in Shopify; the derived ones are upper-case.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from shoploop.hooks import (
    IssuedReward,
    NotSupportedError,
    RemoteValidationError,
    RevokedReward,
    RewardSpec,
)

from . import _queries
from ._client import GraphQLClient
from ._mapping import to_gid


def refuse(errors: list[dict[str, Any]], client: GraphQLClient, operation: str,
           fallback: str = "") -> RemoteValidationError:
    """The ``userErrors`` of a reward mutation as the error to raise (``fallback`` when the
    answer had none but no result either)."""
    return RemoteValidationError("; ".join(str(e.get("message")) for e in errors) or fallback,
                                 connection=client.name, operation=operation)


def code_for(idempotency_key: str) -> str:
    return "SL-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()


def _issued(node: dict[str, Any], key: str, connection: str) -> IssuedReward:
    discount = node["codeDiscount"]
    codes = discount["codes"]["nodes"]
    created = discount.get("createdAt")
    return IssuedReward(idempotency_key=key, reference=codes[0]["code"] if codes else "",
                        kind="discount_code", connection=connection,
                        issued_at=datetime.fromisoformat(created.replace("Z", "+00:00"))
                        if created else None)


def find(client: GraphQLClient, code: str, key: str) -> IssuedReward | None:
    data = client.execute(_queries.DISCOUNT_BY_CODE, {"code": code}, operation="find_reward")
    node = data.get("codeDiscountNodeByCode")
    return _issued(node, key, client.name) if node else None


def issue(client: GraphQLClient, spec: RewardSpec) -> IssuedReward:
    if spec.kind not in ("discount_code", "coupon"):
        raise NotSupportedError(f"reward kind {spec.kind!r}: Shopify issues discount codes "
                                "and gift cards", connection=client.name,
                                operation="issue_reward")
    code = spec.code or code_for(spec.idempotency_key)
    existing = find(client, code, spec.idempotency_key)
    if existing is not None:
        return existing
    if spec.percentage is not None:
        value: dict[str, Any] = {"percentage": spec.percentage / 100}
    elif spec.amount is not None:
        value = {"discountAmount": {"amount": str(spec.amount), "appliesOnEachItem": False}}
    else:
        raise RemoteValidationError("a discount code needs an amount or a percentage",
                                    connection=client.name, operation="issue_reward")
    context: dict[str, Any] = {"all": "ALL"}
    if spec.recipient_customer_id:
        context = {"customers": {"add": [to_gid("Customer", spec.recipient_customer_id)]}}
    payload = {
        "title": f"shoploop reward {spec.idempotency_key}"[:255], "code": code,
        "startsAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endsAt": spec.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if spec.expires_at else None,
        "usageLimit": 1, "appliesOncePerCustomer": True,
        "customerGets": {"value": value, "items": {"all": True}}, "context": context}
    data = client.execute(_queries.DISCOUNT_CREATE, {"input": payload},
                          operation="issue_reward")
    result = data["discountCodeBasicCreate"]
    errors = result.get("userErrors") or []
    if any(e.get("code") == "TAKEN" for e in errors):
        again = find(client, code, spec.idempotency_key)
        if again is not None:
            return again
    if errors or not result.get("codeDiscountNode"):
        raise refuse(errors, client, "issue_reward", "no discount created")
    return _issued(result["codeDiscountNode"], spec.idempotency_key, client.name)


def revoke(client: GraphQLClient, key: str) -> RevokedReward:
    """Deactivate the reward's discount code (``discountCodeDeactivate``: it ends now, status
    ``EXPIRED``, and stays in the admin) unless it was used: ``asyncUsageCount`` counts the
    orders that applied it. An unused expired code is revoked already (a repeated call)."""
    code = code_for(key)
    data = client.execute(_queries.DISCOUNT_STATE, {"code": code}, operation="revoke_reward")
    node = data.get("codeDiscountNodeByCode")
    if not node:
        return RevokedReward(idempotency_key=key, outcome="gone", reference=code,
                             reason=f"no discount code {code} in {client.name}")
    discount = node["codeDiscount"]
    used = int(discount.get("asyncUsageCount") or 0)
    if used > 0:
        return RevokedReward(idempotency_key=key, outcome="redeemed", reference=code,
                             reason=f"discount code {code} used {used} time(s)")
    if discount.get("status") == "EXPIRED":
        return RevokedReward(idempotency_key=key, outcome="revoked", reference=code,
                             reason="discount code expired")
    answer = client.execute(_queries.DISCOUNT_DEACTIVATE, {"id": node["id"]},
                            operation="revoke_reward")["discountCodeDeactivate"]
    errors = answer.get("userErrors") or []
    if errors:
        raise refuse(errors, client, "revoke_reward")
    return RevokedReward(idempotency_key=key, outcome="revoked", reference=code,
                         reason="discount code deactivated")
