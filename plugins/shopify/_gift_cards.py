"""Rewards as Shopify gift cards (``giftCardCreate``), idempotent by a code derived from the key.

Shopify answers a gift card's full code once, in the create's ``giftCardCode``; later reads see
only ``lastCharacters`` (shopify.dev/docs/api/admin-graphql/latest/objects/GiftCard). So the code
is derived from the idempotency key (``SL`` + 14 hex characters of its SHA-256: 16 letters and
digits, inside the 8-20 Shopify allows) and found again with ``giftCards(query: "<code>")``,
whose default term searches the code. A create answered ``TAKEN`` (a racing worker, a retry
whose first answer was lost) is "look it up", as for discount codes.

Revoking deactivates the card (``giftCardDeactivate``, final) unless some of it was spent: a
card whose balance is below its initial value stays, ``redeemed`` with the balance as reason.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from shoploop.hooks import IssuedReward, RemoteValidationError, RevokedReward, RewardSpec

from ._client import GraphQLClient
from ._mapping import to_gid
from ._rewards import refuse

INITIAL_AMOUNT_SINCE = "2026-10"
"""``GiftCardCreateInput.initialAmount`` (MoneyInput) since 2026-10; ``initialValue`` (a bare
Decimal in the shop's currency) before, deprecated then."""
_CODE = re.compile(r"^[A-Za-z0-9]{8,20}$")

_FIELDS = "id createdAt enabled lastCharacters balance { amount currencyCode } " \
          "initialValue { amount currencyCode }"
FIND = f"""query GiftCardByCode($query: String!) {{
  giftCards(first: 5, query: $query) {{ nodes {{ {_FIELDS} }} }} }}"""
CREATE = f"""mutation GiftCardCreate($input: GiftCardCreateInput!) {{
  giftCardCreate(input: $input) {{ giftCard {{ {_FIELDS} }} giftCardCode
    userErrors {{ field message code }} }} }}"""
DEACTIVATE = """mutation GiftCardDeactivate($id: ID!) {
  giftCardDeactivate(id: $id) { giftCard { id enabled deactivatedAt }
    userErrors { field message code } } }"""


def code_for(idempotency_key: str) -> str:
    return "SL" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:14].upper()


def _card(client: GraphQLClient, code: str, operation: str) -> dict[str, Any] | None:
    nodes = client.execute(FIND, {"query": code}, operation=operation)["giftCards"]["nodes"]
    # The search is full-text: keep only the card whose code ends like ours.
    return next((n for n in nodes if n["lastCharacters"].upper() == code[-4:].upper()), None)


def _issued(card: dict[str, Any], code: str, key: str, connection: str) -> IssuedReward:
    created = card.get("createdAt")
    return IssuedReward(idempotency_key=key, reference=code, kind="gift_card",
                        connection=connection,
                        issued_at=datetime.fromisoformat(created.replace("Z", "+00:00"))
                        if created else None)


def find(client: GraphQLClient, key: str, code: str | None = None) -> IssuedReward | None:
    code = code or code_for(key)
    card = _card(client, code, "find_reward")
    return _issued(card, code, key, client.name) if card else None


def issue(client: GraphQLClient, spec: RewardSpec) -> IssuedReward:
    operation = "issue_reward"
    code = spec.code or code_for(spec.idempotency_key)
    if not _CODE.match(code):
        raise RemoteValidationError(f"gift card code {code!r}: Shopify takes 8-20 letters and "
                                    "digits", connection=client.name, operation=operation)
    if spec.amount is None:
        raise RemoteValidationError("a gift card needs an amount", connection=client.name,
                                    operation=operation)
    existing = find(client, spec.idempotency_key, code)
    if existing is not None:
        return existing
    card_input: dict[str, Any] = {"code": code,
                                  "note": f"shoploop reward {spec.idempotency_key}"[:255]}
    if client.settings.api_version >= INITIAL_AMOUNT_SINCE:
        card_input["initialAmount"] = {"amount": str(spec.amount),
                                       "currencyCode": spec.currency}
    else:
        card_input["initialValue"] = str(spec.amount)
    if spec.recipient_customer_id:
        card_input["customerId"] = to_gid("Customer", spec.recipient_customer_id)
    if spec.expires_at:
        card_input["expiresOn"] = spec.expires_at.date().isoformat()
    result = client.execute(CREATE, {"input": card_input}, operation=operation)["giftCardCreate"]
    errors = result.get("userErrors") or []
    if any(e.get("code") == "TAKEN" for e in errors):
        again = find(client, spec.idempotency_key, code)
        if again is not None:
            return again
    if errors or not result.get("giftCard"):
        raise refuse(errors, client, operation, "no gift card created")
    return _issued(result["giftCard"], code, spec.idempotency_key, client.name)


def revoke(client: GraphQLClient, key: str) -> RevokedReward:
    code = code_for(key)
    card = _card(client, code, "revoke_reward")
    if card is None:
        return RevokedReward(idempotency_key=key, outcome="gone", reference=code,
                             reason=f"no gift card {code} in {client.name}")
    if not card["enabled"]:
        return RevokedReward(idempotency_key=key, outcome="revoked", reference=code,
                             reason="gift card deactivated")
    balance, initial = card["balance"], card["initialValue"]
    if Decimal(str(balance["amount"])) < Decimal(str(initial["amount"])):
        return RevokedReward(idempotency_key=key, outcome="redeemed", reference=code,
                             reason=f"gift card partly spent: {balance['amount']} of "
                                    f"{initial['amount']} {initial['currencyCode']} left")
    answer = client.execute(DEACTIVATE, {"id": card["id"]},
                            operation="revoke_reward")["giftCardDeactivate"]
    errors = answer.get("userErrors") or []
    if errors:
        raise refuse(errors, client, "revoke_reward")
    return RevokedReward(idempotency_key=key, outcome="revoked", reference=code,
                         reason="gift card deactivated")
