"""Gift cards of the emulated shop: ``giftCardCreate``, ``giftCardDeactivate``, ``giftCards``.

Behaviour copied from the published API
(https://shopify.dev/docs/api/admin-graphql/latest/mutations/giftCardCreate,
…/input-objects/GiftCardCreateInput, …/queries/giftCards):

* a code is 8-20 letters and digits and not case-sensitive; without one a random 16-character
  code is generated; a code that exists is refused with ``TAKEN`` (field ``["input", "code"]``);
* the full code is answered once, in ``giftCardCode`` of the create; afterwards only
  ``lastCharacters`` and ``maskedCode`` are readable — which is why the adapter derives the code
  from the idempotency key and searches for it;
* ``giftCards(query:)``: a bare term searches the code (case-insensitive), ``status:enabled`` /
  ``status:disabled`` filter;
* ``giftCardDeactivate`` disables a card for good (``enabled: false``, ``deactivatedAt``); a
  repeated call answers the disabled card again.

Tests spend a card by lowering ``balance`` in :attr:`ShopData.gift_cards` (the storefront's
checkout is not emulated).
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from ._paging import SearchError
from ._store import ShopData, now

_CODE = re.compile(r"^[A-Za-z0-9]{8,20}$")
_STATUS = re.compile(r"\bstatus:(enabled|disabled)\b")


def _error(code: str, field: list[str], message: str) -> dict[str, Any]:
    return {"giftCard": None, "giftCardCode": None,
            "userErrors": [{"code": code, "field": field, "message": message}]}


class GiftCards:
    """The gift-card resolvers over one shop's :class:`ShopData`."""

    def __init__(self, data: ShopData, on_write: Any) -> None:
        self.data = data
        self.on_write = on_write

    def resolvers(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(query fields, mutation fields) to bind."""
        return ({"giftCards": self.search,
                 "giftCard": lambda _r, _i, id: self.data.gift_cards.get(id)},
                {"giftCardCreate": self.create, "giftCardDeactivate": self.deactivate})

    def search(self, _root: Any, _info: Any, first: int | None = None, after: str | None = None,
               query: str | None = None) -> dict[str, Any]:
        if first is None or not 0 < first <= 250:
            raise SearchError("first must be between 1 and 250")
        text = query or ""
        status = _STATUS.search(text)
        term = _STATUS.sub("", text).strip().strip("'\"").upper()
        with self.data.lock:
            cards = [c for c in self.data.gift_cards.values()
                     if (not term or c["_code"] == term)
                     and (status is None or c["enabled"] == (status.group(1) == "enabled"))]
        page = cards[:first]
        return {"nodes": page, "pageInfo": {"hasNextPage": len(cards) > first,
                                            "hasPreviousPage": False, "startCursor": None,
                                            "endCursor": None}}

    def create(self, _root: Any, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        amount_input = input.get("initialAmount")
        raw = amount_input["amount"] if amount_input else input.get("initialValue")
        if raw is None:
            return _error("MISSING_ARGUMENT", ["input", "initialAmount"],
                          "Initial amount is required")
        try:
            amount = Decimal(str(raw))
        except InvalidOperation:
            return _error("INVALID", ["input", "initialAmount"], "Initial amount is invalid")
        if amount <= 0:
            return _error("GREATER_THAN", ["input", "initialAmount"],
                          "Initial value must be greater than 0")
        code = input.get("code") or secrets.token_hex(8)
        if not _CODE.match(code):
            kind = "TOO_SHORT" if len(code) < 8 else "TOO_LONG" if len(code) > 20 else "INVALID"
            return _error(kind, ["input", "code"], "Code must be 8-20 letters and numbers")
        customer = input.get("customerId")
        currency = (amount_input or {}).get("currencyCode") or "EUR"
        with self.data.lock:
            if customer and customer not in self.data.customers:
                return _error("CUSTOMER_NOT_FOUND", ["input", "customerId"],
                              "Customer could not be found")
            if code.upper() in self.data.gift_card_codes:
                return _error("TAKEN", ["input", "code"], "Code has already been taken")
            card_id = self.data.new_gift_card_id()
            money = {"amount": str(amount), "currencyCode": currency}
            card = {"__typename": "GiftCard", "id": card_id, "balance": dict(money),
                    "initialValue": money, "enabled": True, "deactivatedAt": None,
                    "expiresOn": input.get("expiresOn"), "lastCharacters": code[-4:].lower(),
                    "maskedCode": "•••• •••• •••• " + code[-4:].lower(),
                    "note": input.get("note"), "createdAt": now(), "_customer": customer,
                    "_code": code.upper()}
            self.data.gift_cards[card_id] = card
            self.data.gift_card_codes[code.upper()] = card_id
            self.on_write("gift_card", card)
        return {"giftCard": card, "giftCardCode": code.lower(), "userErrors": []}

    def deactivate(self, _root: Any, _info: Any, id: str) -> dict[str, Any]:
        with self.data.lock:
            card = self.data.gift_cards.get(id)
            if card is None:
                return {"giftCard": None, "userErrors": [
                    {"code": "GIFT_CARD_NOT_FOUND", "field": ["id"],
                     "message": "Gift card not found"}]}
            if card["enabled"]:
                card["enabled"], card["deactivatedAt"] = False, now()
                self.on_write("gift_card", card)
        return {"giftCard": card, "userErrors": []}
