"""Referral rewards as WooCommerce coupons, issued once per idempotency key.

The coupon code is derived from the key, so "was this reward issued?" is one lookup by code —
no local state, and a create whose answer was lost is found again instead of duplicated.
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

from ._client import WooClient
from ._config import WooCommerceConfig
from ._mapping import format_time, parse_time

REWARD_META_KEY = "idempotency_key"
REVOKED_META_KEY = "revoked_at"


class CouponRewards:
    """Mixin of the connector: ``issue_reward`` / ``find_reward`` (``IssuesRewards``) and
    ``revoke_reward`` (``RevokesRewards``)."""

    name: str
    config: WooCommerceConfig

    @property
    def client(self) -> WooClient:
        raise NotImplementedError

    def reward_code(self, idempotency_key: str) -> str:
        """The coupon code of a reward: derived from the key, so the reward is found again by
        code. Lower case because WooCommerce stores coupon codes lower-cased."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
        return f"{self.config.coupon_prefix}{digest}".lower()

    def issue_reward(self, spec: RewardSpec) -> IssuedReward:
        """A single-use coupon restricted to the advocate's e-mail, once per idempotency key:
        an existing coupon with the key's code is returned instead of creating another."""
        operation = "issue_reward"
        if spec.kind not in ("coupon", "discount_code"):
            raise NotSupportedError(f"reward kind {spec.kind!r}: WooCommerce issues coupons",
                                    connection=self.name, operation=operation)
        code = (spec.code or self.reward_code(spec.idempotency_key)).lower()
        found = self._find_coupon(code, operation)
        if found is not None:
            return self._issued(spec.idempotency_key, found)
        coupon: dict[str, Any] = {
            "code": code,
            "discount_type": "percent" if spec.percentage is not None else "fixed_cart",
            "amount": str(spec.percentage if spec.percentage is not None else spec.amount or 0),
            "individual_use": True, "usage_limit": 1, "usage_limit_per_user": 1,
            "email_restrictions": [spec.recipient_email] if spec.recipient_email else [],
            "description": spec.note or "shoploop reward",
            "meta_data": [{"key": self.config.meta_prefix + REWARD_META_KEY,
                           "value": spec.idempotency_key}],
        }
        if spec.expires_at is not None:
            coupon["date_expires_gmt"] = format_time(spec.expires_at)
        try:
            created = self.client.post("coupons", coupon, operation=operation).data
        except RemoteValidationError:
            # A retried create whose first answer was lost: the code exists now.
            found = self._find_coupon(code, operation)
            if found is None:
                raise
            created = found
        return self._issued(spec.idempotency_key, created)

    def find_reward(self, idempotency_key: str) -> IssuedReward | None:
        found = self._find_coupon(self.reward_code(idempotency_key), "find_reward")
        return None if found is None else self._issued(idempotency_key, found)

    def revoke_reward(self, idempotency_key: str) -> RevokedReward:
        """Expire the reward's coupon now (``date_expires_gmt``), unless it was used.

        Expired rather than deleted (``DELETE /coupons/<id>?force=true``): the coupon stays
        for the merchant's records and a repeated call sees it revoked (the meta key says
        when), where a deleted one could not be told from one that never existed. WooCommerce
        refuses an expired coupon at checkout ("This coupon has expired",
        ``WC_Discounts::validate_coupon_expiry_date``); ``usage_count`` (read-only) says
        whether it was redeemed — then it stays."""
        code = self.reward_code(idempotency_key)
        coupon = self._find_coupon(code, "revoke_reward")
        if coupon is None:
            return RevokedReward(idempotency_key=idempotency_key, outcome="gone",
                                 reference=code, reason=f"no coupon {code} in {self.name}")
        revoked_key = self.config.meta_prefix + REVOKED_META_KEY
        done = next((m.get("value") for m in coupon.get("meta_data") or ()
                     if m.get("key") == revoked_key), None)
        if done:
            return RevokedReward(idempotency_key=idempotency_key, outcome="revoked",
                                 reference=code, reason=f"coupon expired at {done}")
        used = int(coupon.get("usage_count") or 0)
        if used > 0:
            return RevokedReward(idempotency_key=idempotency_key, outcome="redeemed",
                                 reference=code, reason=f"coupon {code} used {used} time(s)")
        now = format_time(datetime.now(UTC))
        self.client.put(f"coupons/{coupon['id']}", {
            "date_expires_gmt": now,
            "meta_data": [{"key": revoked_key, "value": now}]}, operation="revoke_reward")
        return RevokedReward(idempotency_key=idempotency_key, outcome="revoked",
                             reference=code, reason=f"coupon expired at {now}")

    def _find_coupon(self, code: str, operation: str) -> dict[str, Any] | None:
        answer = self.client.get("coupons", {"code": code}, operation=operation)
        # `code` is a search, not an exact match, on some versions: compare ourselves.
        return next((c for c in answer.data or () if str(c.get("code", "")).lower() == code),
                    None)

    def _issued(self, key: str, coupon: dict[str, Any]) -> IssuedReward:
        return IssuedReward(idempotency_key=key, reference=str(coupon["code"]), kind="coupon",
                            connection=self.name,
                            issued_at=parse_time(coupon.get("date_created_gmt")))

