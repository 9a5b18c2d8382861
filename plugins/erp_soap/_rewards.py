"""Rewards as ERP documents: a credit note or a free-of-charge (gift) order.

Idempotent by the external document number: the idempotency key (hashed when longer than the
field, NAV's ``External Document No.`` is Code[35]) is written into the document, and
``find_reward`` / a repeated ``issue_reward`` look for it with a filtered read first.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from shoploop.hooks import IssuedReward, NotSupportedError, RevokedReward, RewardSpec

from ._calls import SoapCalls
from ._client import dig
from ._mapping import RewardMapping
from ._records import any_of


def external_number(key: str, length: int) -> str:
    if len(key) <= length:
        return key
    return "SL-" + hashlib.sha256(key.encode()).hexdigest()[:length - 3].upper()


class RewardsMixin(SoapCalls):
    def _reward_mapping(self, kind: str) -> tuple[str, RewardMapping]:
        rewards = self.mapping.rewards
        if kind not in rewards:
            kind = self.mapping.reward_kind
        if kind not in rewards:
            raise NotSupportedError(f"no reward mapping for {kind!r}", connection=self.name,
                                    operation="issue_reward")
        return kind, rewards[kind]

    def _find(self, kind: str, reward: RewardMapping, key: str) -> IssuedReward | None:
        number = external_number(key, reward.external_number_length)
        records = self._read_call(reward, None, None, 1,
                                  ((reward.external_number_field, any_of([number])),))
        if not records:
            return None
        document = records[0]
        return IssuedReward(idempotency_key=key, kind=kind, connection=self.name,
                            reference=str(dig(document, reward.document_number_field)))

    def find_reward(self, idempotency_key: str) -> IssuedReward | None:
        for kind, reward in self.mapping.rewards.items():
            found = self._find(kind, reward, idempotency_key)
            if found is not None:
                return found
        return None

    def issue_reward(self, spec: RewardSpec) -> IssuedReward:
        kind, reward = self._reward_mapping(spec.kind)
        found = self._find(kind, reward, spec.idempotency_key)
        if found is not None:
            return found
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "recipient_customer_id": spec.recipient_customer_id, "amount": spec.amount,
            "currency": spec.currency, "note": spec.note or f"shoploop reward {kind}",
            "product_id": spec.product_id, "quantity": 1, "date": now.date(),
        }
        body = {**reward.constants,
                **{element: values[name] for name, element in reward.fields.items()
                   if values.get(name) is not None}}
        body[reward.external_number_field] = external_number(spec.idempotency_key,
                                                             reward.external_number_length)
        kwargs = {reward.create_element: body} if reward.create_element else body
        result = self._call(reward, reward.create_operation, kwargs, reads=False)
        document = dig(result, reward.create_result_path) if reward.create_result_path \
            else result
        return IssuedReward(idempotency_key=spec.idempotency_key, kind=kind,
                            connection=self.name, issued_at=now,
                            reference=str(dig(document, reward.document_number_field)))

    def revoke_reward(self, idempotency_key: str) -> RevokedReward:
        """Delete the reward's open document (the page's ``Delete`` by the record's ``Key``:
        how NAV / Business Central cancels an unposted sales order or credit memo). A posted
        one has left the page — the gift shipped, the credit booked — so it is not found:
        ``gone``, and the core keeps the reward (or, retrying an interrupted revocation,
        takes it as that run's deletion)."""
        for kind, reward in self.mapping.rewards.items():
            number = external_number(idempotency_key, reward.external_number_length)
            records = self._read_call(reward, None, None, 1,
                                      ((reward.external_number_field, any_of([number])),))
            if not records:
                continue
            document = str(dig(records[0], reward.document_number_field))
            self._call(reward, "Delete", {"Key": dig(records[0], "Key")}, reads=False)
            return RevokedReward(idempotency_key=idempotency_key, outcome="revoked",
                                 reference=document,
                                 reason=f"open {kind} {document} deleted")
        return RevokedReward(idempotency_key=idempotency_key, outcome="gone",
                             reason="no open reward document under the key's external "
                                    "document number: posted already, or deleted by hand")
