"""Typed domain models shared by the core and every plugin (pydantic v2).

Records carry the *external* id they have in the connection they were read from; the core
maps them across systems through identity bindings. Money is ``Decimal``, time is tz-aware.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AttributeValue = str | int | float | bool | list[str] | None
"""What a customer attribute may hold: scalars or a list of strings (tags, segments)."""

JSONValue = Any


class _Model(BaseModel):
    # No implicit whitespace stripping: a sync tool must not alter values (or cursor keys)
    # behind the operator's back; mappings use the explicit `strip` transform.
    model_config = ConfigDict(extra="forbid")


class Address(_Model):
    kind: Literal["billing", "shipping", "other"] = "billing"
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2")


class Customer(_Model):
    id: str = Field(description="The customer's id in the connection it was read from.")
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    phone: str | None = None
    kind: Literal["b2b", "b2c"] | None = None
    customer_number: str | None = Field(default=None, description="ERP customer number.")
    vat_id: str | None = None
    accepts_marketing: bool | None = Field(default=None, description="Marketing consent.")
    addresses: list[Address] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str | None) -> str | None:
        return value.strip().lower() if value else value


class CustomerDraft(_Model):
    """A customer to create in a target (``CreatesCustomers``): the contact fields the sync
    carries over from the master. Attributes follow as ordinary attribute writes; marketing
    consent is never carried over (it is the shop's to collect)."""

    email: str = Field(min_length=3, description="Required: it is how a repeated create "
                                                 "finds the first one.")
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    phone: str | None = None
    source: str = Field(default="", description="Where the draft comes from, e.g. "
                                                "``erp/K-1001`` (logs and audit only).")

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        return value.strip().lower()


class LineItem(_Model):
    product_id: str | None = Field(default=None, description="None for custom/deleted items.")
    sku: str | None = None
    name: str = ""
    quantity: int = Field(ge=0)
    unit_price: Decimal = Field(ge=0)

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


OrderStatus = Literal["pending", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded"]


class Order(_Model):
    id: str
    number: str | None = None
    customer_id: str | None = Field(default=None, description="None for guest orders.")
    email: str | None = None
    placed_at: datetime
    updated_at: datetime | None = None
    currency: str = "EUR"
    status: OrderStatus = "paid"
    channel: str = Field(default="web", description="web, erp, phone, marketplace, …")
    lines: list[LineItem] = Field(default_factory=list)
    discount_codes: list[str] = Field(default_factory=list)
    refunded_total: Decimal = Decimal(0)
    refunded_at: datetime | None = Field(
        default=None, description="When the latest refund was made (the referral loop judges "
                                  "its return window and clawback by it); None: no refund, or "
                                  "the platform does not say when.")
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))


class Product(_Model):
    id: str
    sku: str | None = None
    name: str
    price: Decimal = Field(ge=0)
    currency: str = "EUR"
    compare_at_price: Decimal | None = None
    stock: int | None = Field(default=None, description="None when stock is not tracked.")
    status: Literal["active", "draft", "archived"] = "active"
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    vendor: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    updated_at: datetime | None = None


class InstalledEquipment(_Model):
    """A machine or device the customer operates, as the ERP knows it (installed base)."""

    id: str
    customer_id: str
    product_id: str
    serial_number: str | None = None
    installed_at: date
    service_interval_days: int | None = Field(default=None, gt=0)
    last_service_at: date | None = None
    updated_at: datetime | None = None


class AttributeChange(_Model):
    """One attribute of one customer in one target should become ``new``."""

    customer_id: str = Field(description="The customer's id in the target connection.")
    key: str
    new: AttributeValue
    old: AttributeValue = None
    source: str = Field(default="", description="Connection or plugin the value comes from.")

    @property
    def idempotency_key(self) -> str:
        """Stable for the same customer, key and new value — a repeated write is a no-op."""
        raw = json.dumps([self.customer_id, self.key, self.new], sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


class WriteStatus(StrEnum):
    WRITTEN = "written"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    FAILED = "failed"


class WriteResult(_Model):
    """The outcome of one item of a batch write; batches fail per item, not as a whole."""

    customer_id: str
    key: str | None = None
    status: WriteStatus
    message: str = ""


RecommendationKind = Literal[
    "cross_sell", "upsell", "complementary", "related", "replacement", "spare_part", "service",
    "replenishment",
]

ALTERNATIVE_KINDS: frozenset[str] = frozenset({"upsell", "replacement", "related"})
"""Kinds shown *instead of* the product (a premium or a newer alternative, a similar one):
published into a platform's alternatives list (WooCommerce ``upsell_ids``, Shopify's
``related_products``). Every other kind goes *with* the product (bought together, a service, a
spare part, a refill): the complements list (``cross_sell_ids``, ``complementary_products``)."""


class RecommendationRequest(_Model):
    """What recommendations are asked for, in the ids of one connection.

    A product page names ``product_id``; a cart names its items in ``cart``; a customer's
    e-mail or account page names ``customer_id``; any combination works (a logged-in cart
    names the customer and the cart)."""

    connection: str = Field(min_length=1, description="The connection whose external ids the "
                                                      "request and the answers use.")
    customer_id: str | None = Field(default=None, description="The customer's id in "
                                                              "``connection``.")
    product_id: str | None = Field(default=None, description="The anchor product (a product "
                                                             "page).")
    cart: list[str] = Field(default_factory=list, description="The product ids in the cart.")
    placement: str = Field(default="product_page", description="product_page, cart, email, …")
    k: int = Field(default=10, gt=0, le=1000, description="How many recommendations at most.")

    @property
    def anchors(self) -> list[str]:
        """The products the request is about: the anchor product, then the cart's items, each
        once. Never recommended back."""
        return list(dict.fromkeys([*([self.product_id] if self.product_id else []),
                                   *self.cart]))


class Recommendation(_Model):
    product_id: str = Field(description="The product's id in the request's connection.")
    score: float = Field(ge=0, description="The estimated probability (0 to 1) that the "
                                           "customer takes the product in this context: in "
                                           "the anchor's order, in the customer's next "
                                           "order. Comparable across strategies, so the "
                                           "merge keeps the likeliest.")
    kind: RecommendationKind = "cross_sell"
    strategy: str = Field(description="Name of the strategy that proposed it.")
    reason: str = Field(min_length=1, description="A reason a customer can understand "
                                                  "(English).")
    reasons: dict[str, str] = Field(
        default_factory=dict, description="The reason per language code (``en``, ``de``, …), "
                                          "built from the same evidence numbers.")
    evidence: dict[str, JSONValue] = Field(default_factory=dict)

    def reason_in(self, language: str) -> str:
        """The reason in ``language``, else the default (English) one."""
        return self.reasons.get(language, self.reason)


class RecommendationPatch(_Model):
    """A rule's verdict on one candidate: veto it, boost/damp its score, or pin it to the top."""

    product_id: str
    action: Literal["veto", "boost", "pin"]
    factor: float = Field(default=1.0, ge=0, description="Score multiplier for 'boost'.")
    reason: str = Field(min_length=1)


class PublishResult(_Model):
    """The outcome of publishing one product's recommendation lists into a platform's native
    fields (``PublishesRecommendations``); not a customer write."""

    product_id: str = Field(description="The product whose lists were written.")
    status: WriteStatus
    fields: list[str] = Field(default_factory=list, description="The native fields written "
                                                                "(e.g. ``upsell_ids``).")
    message: str = ""


class ExperimentArm(_Model):
    """The arm of a referral experiment the advocate was assigned to (docs/experiments.md):
    a reward policy honours ``reward_value`` so the arm's advocates get what it promises."""

    experiment: str
    variant: str
    reward_value: Decimal | None = Field(
        default=None, description="The arm's reward: the amount, or the percentage of a "
                                  "percentage policy (None: the policy's own).")


class Referral(_Model):
    """A friend's order attributed to an advocate's code, as the fraud rules and reward
    policies see it: both customers' contact data, addresses, VAT ids and cross-system
    bindings, the order's payment and refund state, and the advocate's other referrals."""

    id: str = Field(description="The referral's ledger id; the core derives the reward's "
                                "idempotency key from it.")
    advocate_customer_id: str
    advocate_email: str | None = None
    code: str
    referred_order_id: str | None = None
    referred_customer_id: str | None = None
    referred_email: str | None = None
    order_total: Decimal | None = None
    currency: str = "EUR"
    connection: str = Field(default="", description="The shop the referred order came from.")
    created_at: datetime | None = None
    attributed_by: Literal["code", "landing", ""] = Field(
        default="", description="How the order was attributed: the code used, or the "
                                "referral link's landing.")
    advocate_addresses: list[Address] = Field(default_factory=list)
    referred_addresses: list[Address] = Field(default_factory=list)
    advocate_vat_id: str | None = None
    referred_vat_id: str | None = None
    advocate_bindings: dict[str, str] = Field(
        default_factory=dict, description="connection → the advocate's id there (identity "
                                          "bindings), to see one person across systems.")
    referred_bindings: dict[str, str] = Field(
        default_factory=dict, description="connection → the referred customer's id there.")
    order_status: OrderStatus | None = None
    refunded_total: Decimal = Decimal(0)
    paid_at: datetime | None = None
    referred_prior_orders: int = Field(
        default=0, ge=0, description="Orders of the referred person before this one, in any "
                                     "connection (an existing customer is no new one).")
    advocate_referral_times: list[datetime] = Field(
        default_factory=list, description="When the advocate's other referrals (not rejected "
                                          "ones) were attributed: caps and velocity.")
    experiment: ExperimentArm | None = Field(
        default=None, description="The advocate's arm of a referral experiment, if any.")


class ReferralFinding(_Model):
    """A fraud check's result. Any finding with ``rejects=True`` rejects the referral."""

    rule: str
    rejects: bool
    reason: str = Field(min_length=1)


RewardKind = Literal["discount_code", "coupon", "gift_card", "credit_note", "gift_order"]


class RewardSpec(_Model):
    """A reward to issue. It validates itself: a value (an ``amount``, a ``percentage`` or a
    gift item ``product_id``), a percentage only for codes and coupons, an amount for gift
    cards and credit notes, a product for gift orders.

    ``idempotency_key`` is the core's: a reward policy leaves it empty and the referral engine
    sets it from the referral's id before issuing, so every policy of the same referral
    issues under the same key (a policy cannot pay twice by choosing another key)."""

    kind: RewardKind
    idempotency_key: str = Field(default="", description="Same key → the same reward, once. "
                                                         "Set by the core.")
    recipient_customer_id: str | None = None
    recipient_email: str | None = None
    amount: Decimal | None = Field(default=None, gt=0)
    percentage: float | None = Field(default=None, gt=0, le=100)
    currency: str = "EUR"
    code: str | None = None
    expires_at: datetime | None = None
    product_id: str | None = Field(default=None, description="The gift item (gift orders).")
    note: str = ""

    @model_validator(mode="after")
    def _valid_reward(self) -> RewardSpec:
        if self.idempotency_key and len(self.idempotency_key) < 8:
            raise ValueError("idempotency_key must have at least 8 characters (or be left "
                             "empty for the core to set)")
        if self.amount is None and self.percentage is None and self.product_id is None:
            raise ValueError(f"a {self.kind} reward needs an amount, a percentage or a gift "
                             "item (product_id)")
        if self.amount is not None and self.percentage is not None:
            raise ValueError("give an amount or a percentage, not both")
        if self.percentage is not None and self.kind not in ("discount_code", "coupon"):
            raise ValueError(f"a percentage is for discount codes and coupons, not {self.kind}")
        if self.kind in ("gift_card", "credit_note") and self.amount is None:
            raise ValueError(f"a {self.kind} reward needs an amount")
        if self.kind == "gift_order" and self.product_id is None:
            raise ValueError("a gift_order reward needs the gift item's product_id")
        return self


class Message(_Model):
    """A message to a customer (survey invitation, referral invitation, thank-you note),
    rendered by the core and handed to the ``message_delivery`` hook."""

    kind: str = Field(description="survey, invitation, thank_you, …")
    to: str = Field(min_length=3, description="The recipient's e-mail address.")
    subject: str = Field(min_length=1)
    text: str = Field(description="The plain-text body.")
    html: str | None = None
    language: str = "en"
    customer_id: str | None = None
    connection: str = ""
    idempotency_key: str = Field(min_length=8, description="Stable per message: a channel "
                                                           "that can dedupe uses it.")


class MessageReceipt(_Model):
    """What a channel answers when it took a message."""

    channel: str = Field(min_length=1, description="smtp, a provider's name, …")
    reference: str = Field(default="", description="The channel's message id, if any.")


class ReferralDetection(_Model):
    """A referral code an order carries: used as a discount code, or recorded by the
    referral link's landing (Shopify ``landing_site`` / note attributes, WooCommerce meta)."""

    code: str = Field(min_length=1)
    via: Literal["code", "landing"]
    evidence: str = Field(default="", description="Where it was found (for the ledger).")


class IssuedReward(_Model):
    idempotency_key: str
    reference: str = Field(description="Code, gift-card id or document number in the target.")
    kind: str
    connection: str = ""
    issued_at: datetime | None = None


class RevokedReward(_Model):
    """What a connector's ``revoke_reward`` did with the reward of one idempotency key."""

    idempotency_key: str
    outcome: Literal["revoked", "redeemed", "gone"] = Field(
        description="revoked: the reward can no longer be used (now, or by an earlier call); "
                    "redeemed: it was used already and stays; gone: the target has no "
                    "revocable reward under the key (deleted there, or — ERP — posted).")
    reference: str = ""
    reason: str = Field(default="", description="What the target showed, for the ledger.")


class WebhookSubscription(_Model):
    """One webhook subscription on a platform: which topic is POSTed to which address."""

    id: str
    topic: str = Field(description="The platform's topic name (orders/paid, order.updated).")
    address: str = Field(description="The URL the platform delivers to.")
    status: str = "active"
    created: bool = Field(default=False,
                          description="True when register_webhooks just created it.")


class Cursor(_Model):
    """Where a stream read stands. Opaque to the core; JSON-serialisable so it can be stored."""

    stream: str
    position: dict[str, JSONValue] = Field(default_factory=dict)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a stream. Pass ``cursor`` to the next read; when ``has_more`` is false,
    ``cursor`` is the checkpoint from which the next incremental run starts."""

    items: list[T]
    cursor: Cursor
    has_more: bool
    warnings: list[str] = Field(default_factory=list)
    """Problems with single records of this page that the connector worked around (e.g. a
    record kept without its invalid e-mail), one line each naming where (file:line, record
    id). The core logs each at warning level and counts them in the import summary."""


class Event(_Model):
    """Something happened on a platform: a verified webhook or a change a poll detected."""

    type: str = Field(description="order.paid, order.refunded, customer.updated, …")
    connection: str = ""
    topic: str = Field(default="", description="The platform's own topic name.")
    dedupe_key: str = Field(min_length=1, description="Identifies the change, not the delivery.")
    occurred_at: datetime | None = None
    payload: dict[str, JSONValue] = Field(default_factory=dict)


class ReferralStanding(_Model):
    """What the referral ledger knows of one person (``CustomerProfile.referral``), as of the
    profile's time."""

    satisfaction_score: int | None = Field(
        default=None, ge=1, le=5, description="The latest answered survey's score (1-5).")
    answered_at: datetime | None = None
    codes: int = Field(default=0, description="Referral codes the person was given (invited).")
    referrals: int = Field(
        default=0, description="Friends' orders attributed to the person's codes, except "
                               "rejected and cancelled ones.")
    successful: int = Field(default=0, description="Of those, qualified or rewarded.")
    rewarded: int = Field(default=0, description="Of those, rewarded (not reversed).")


class CustomerProfile(_Model):
    """Everything the store knows about one person across connections, for derived attributes."""

    customer: Customer
    orders: list[Order] = Field(default_factory=list)
    equipment: list[InstalledEquipment] = Field(default_factory=list)
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    referral: ReferralStanding = Field(default_factory=lambda: ReferralStanding())


class ConnectionCheck(_Model):
    """The answer of ``Connector.check()``, shown by ``shoploop config check``."""

    reachable: bool
    authorised: bool
    detail: str = ""
    warnings: list[str] = Field(default_factory=list)


class SyncRun(_Model):
    """Handed to the sync lifecycle hooks."""

    run_id: str
    job: str
    source: str = Field(description="The master connection; several are comma-separated "
                                    "(\"derived\" when only plugins' values are synced).")
    targets: list[str] = Field(default_factory=list)
    dry_run: bool = False
    summary: dict[str, JSONValue] = Field(default_factory=dict)
