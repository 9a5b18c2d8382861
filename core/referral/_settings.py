"""The ``[referral]`` config table: timing, thresholds, caps, the reward policy, SMTP.

Kept in its own small module (no store, no SQLAlchemy, no Jinja2) because the config loader
imports it at start-up and ``shoploop --help`` must stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shoploop.hooks import RewardKind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectionReferralSettings(_Strict):
    """``[referral.connections.<name>]``: per-shop overrides."""

    survey_delay_days: int | None = Field(default=None, ge=0, le=365)
    language: str | None = Field(default=None, description="Messages' language (en, de).")


class SmtpSettings(_Strict):
    """``[referral.smtp]``: the built-in message channel (``smtplib``)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=25, gt=0, lt=65536)
    sender: str = Field(default="shop@localhost", min_length=3)
    username: str | None = None
    password_env: str | None = Field(default=None, description="Variable holding the SMTP "
                                                               "password.")
    starttls: bool = False
    timeout_seconds: float = Field(default=30, gt=0)


class OutboxSettings(_Strict):
    """``[referral.outbox]``: messages as ``.eml`` files instead of e-mail (previews, tests,
    the demo); off while ``directory`` is unset."""

    directory: str | None = Field(default=None, description="Folder the messages are written "
                                                             "to (relative to the working "
                                                             "directory).")
    sender: str = Field(default="shop@localhost", min_length=3)


class CapSettings(_Strict):
    """``[referral.caps]``: how many rewarded referrals one advocate may bring."""

    per_advocate: int = Field(default=10, ge=1, description="Referrals per advocate and period.")
    period_days: int = Field(default=365, ge=1)
    velocity_count: int = Field(default=3, ge=1, description="More than this many referrals…")
    velocity_hours: int = Field(default=24, ge=1, description="…within this many hours is "
                                                             "suspicious.")


class RewardPolicySettings(_Strict):
    """``[referral.reward]``: the built-in ``referral_reward`` policy (the advocate's side)."""

    enabled: bool = True
    kind: RewardKind = "credit_note"
    connection: str | None = Field(default=None, description="Where the reward is issued "
                                                             "(default: the referred order's "
                                                             "shop).")
    amount: Decimal | None = Field(default=Decimal("10"), gt=0)
    percentage: float | None = Field(default=None, gt=0, le=100)
    product_id: str | None = Field(default=None, description="The gift item of a gift_order "
                                                             "(the seed's binoculars).")
    currency: str = "EUR"
    note: str = "Thank you for recommending us!"
    reverse_on_refund: bool = Field(default=True, description="A refund after the reward "
                                                              "reverses it (where the target "
                                                              "can).")
    clawback_days: int = Field(default=90, ge=0, description="A refund seen this many days "
                                                             "after the reward was issued "
                                                             "no longer reverses it.")


class FriendOfferSettings(_Strict):
    """``[referral.friend]``: the friend's side, the personal code created in the shop."""

    kind: Literal["discount_code", "coupon"] = "discount_code"
    amount: Decimal | None = Field(default=None, gt=0)
    percentage: float | None = Field(default=10, gt=0, le=100)
    valid_days: int = Field(default=90, ge=1)

    @model_validator(mode="after")
    def _one_value(self) -> FriendOfferSettings:
        if (self.amount is None) == (self.percentage is None):
            raise ValueError("[referral.friend] needs exactly one of amount or percentage")
        return self

    def offer_text(self) -> str:
        """The friend's discount as the invitation and the landing page show it."""
        return f"{self.percentage:g} %" if self.percentage is not None else f"{self.amount} €"


class ReferralSettings(_Strict):
    """The referral loop (docs/referrals.md)."""

    enabled: bool = True
    shops: list[str] = Field(default_factory=list, description="The connections whose "
                                                               "customers are surveyed and "
                                                               "whose orders are attributed "
                                                               "(default: every connection "
                                                               "with mirrored orders).")
    survey_delay_days: int = Field(default=30, ge=0, le=365, description="Days after an order "
                                                                        "is paid.")
    survey_period_days: int = Field(default=180, ge=1, description="At most one survey per "
                                                                  "customer and period.")
    satisfied_threshold: int = Field(default=4, ge=1, le=5, description="Answers at or above "
                                                                       "this are satisfied.")
    return_window_days: int = Field(default=14, ge=0, le=365)
    link_valid_days: int = Field(default=30, ge=1, description="Signed survey links expire.")
    base_url: str = Field(default="http://127.0.0.1:8000", description="Where `shoploop "
                                                                       "serve` is reached.")
    secret_env: str = Field(default="SHOPLOOP_REFERRAL_SECRET", description="Variable with "
                                                                           "the link-signing "
                                                                           "secret.")
    language: str = "en"
    code_prefix: str = Field(default="FRIEND-", max_length=20)
    caps: CapSettings = Field(default_factory=CapSettings)
    reward: RewardPolicySettings = Field(default_factory=RewardPolicySettings)
    friend: FriendOfferSettings = Field(default_factory=FriendOfferSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    connections: dict[str, ConnectionReferralSettings] = Field(default_factory=dict)

    def survey_delay_for(self, connection: str) -> int:
        override = self.connections.get(connection)
        if override is not None and override.survey_delay_days is not None:
            return override.survey_delay_days
        return self.survey_delay_days

    def language_for(self, connection: str) -> str:
        override = self.connections.get(connection)
        return (override.language if override and override.language else self.language)


class _RewardTarget(Protocol):
    def reward_kinds(self) -> frozenset[str] | None: ...


def reward_kind_problems(settings: ReferralSettings, targets: Mapping[str, _RewardTarget],
                         explicit: bool) -> Iterator[tuple[str, str, str]]:
    """``(key, problem, remedy)`` for a ``[referral.reward] kind`` a connection that would
    issue it cannot (the built-in policy issues on ``reward.connection``, else on the referred
    order's shop). ``targets``: the configured connections that issue rewards and read orders,
    by name, as their validated settings. Checked only for a config that sets ``[referral]``
    (``explicit``): the loop's defaults must not fail a config that never uses it."""
    reward = settings.reward
    if not (explicit and settings.enabled and reward.enabled):
        return
    if reward.connection is not None:
        names, key = [reward.connection], "referral.reward.connection"
    elif settings.shops:
        names, key = list(settings.shops), "referral.shops"
    else:
        names, key = sorted(targets), "referral.reward.kind"
    for name in names:
        if name not in targets:
            if key != "referral.reward.kind":
                yield (key, f"connection {name!r} is not configured or cannot issue rewards",
                       "name a configured connection whose connector issues rewards "
                       "(`shoploop plugins` lists the capabilities)")
            continue
        kinds = targets[name].reward_kinds()
        if kinds is not None and reward.kind not in kinds:
            offered = ", ".join(sorted(kinds)) or "none (no reward mapping)"
            yield ("referral.reward.kind",
                   f"connection {name!r} cannot issue {reward.kind!r} rewards; it issues: "
                   f"{offered}",
                   "set [referral.reward] kind to one of these, or connection = a connection "
                   "that issues this kind (an ERP connection books credit notes and gift "
                   "orders)")


def referral_settings_from(config: object) -> ReferralSettings:
    """The validated ``[referral]`` table of a raw config mapping (``context.config``)."""
    raw = config.get("referral", {}) if hasattr(config, "get") else {}
    return ReferralSettings.model_validate(raw or {})
