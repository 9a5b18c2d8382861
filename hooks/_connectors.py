"""What a connector is: a registered type with a config model, and optional capabilities.

A connector *type* (``files``, ``shopify``, …) is registered once by a plugin through
``register_connectors``; the core builds one connector instance per configured connection
(several shops of one type are normal). Capabilities are small protocols; a type declares which
ones it offers and the core only calls those.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from ._errors import ConfigError, MissingSecretError
from ._models import (
    AttributeChange,
    ConnectionCheck,
    Cursor,
    Customer,
    CustomerDraft,
    Event,
    InstalledEquipment,
    IssuedReward,
    Order,
    Page,
    Product,
    PublishResult,
    Recommendation,
    RevokedReward,
    RewardSpec,
    WebhookSubscription,
    WriteResult,
)


class Capability(StrEnum):
    READ_CUSTOMERS = "read_customers"
    READ_ORDERS = "read_orders"
    READ_PRODUCTS = "read_products"
    READ_INSTALLED_BASE = "read_installed_base"
    WRITE_CUSTOMER_ATTRIBUTES = "write_customer_attributes"
    CREATE_CUSTOMERS = "create_customers"
    PUBLISH_RECOMMENDATIONS = "publish_recommendations"
    ISSUE_REWARDS = "issue_rewards"
    VERIFY_WEBHOOKS = "verify_webhooks"
    COUNT_RECORDS = "count_records"


_secret_listeners: list[Callable[[str], None]] = []


def on_secret_resolved(listener: Callable[[str], None]) -> None:
    """Call ``listener(value)`` for every secret ``ConnectionConfig.secret()`` resolves (the
    core's logging registers itself here, so resolved secrets never reach a log line)."""
    _secret_listeners.append(listener)


class ConnectionConfig(BaseModel):
    """Base for a connector type's config model (one ``[connections.<name>]`` table).

    Secrets are never inline: a field ``<key>_env`` names the environment variable that holds
    the secret, and ``secret("<key>")`` reads it. Listing ``<key>`` in ``secret_keys`` makes an
    inline ``<key> = "…"`` a config error that tells the operator to use ``<key>_env``.

    The config loader validates with the context ``{"base_dir": Path}`` (the config file's
    folder); a validator can read it from ``info.context`` to resolve relative paths.
    """

    model_config = ConfigDict(extra="forbid")
    secret_keys: ClassVar[tuple[str, ...]] = ()

    type: str
    # Where this table is (set by the config loader): a missing secret names its key path.
    _connection: str = PrivateAttr(default="")
    _file: str | None = PrivateAttr(default=None)

    def locate(self, connection: str, file: str | None = None) -> None:
        """Remember which ``[connections.<name>]`` table (of which file) this is."""
        self._connection, self._file = connection, file

    def reward_kinds(self) -> frozenset[str] | None:
        """The ``RewardSpec.kind`` values this connection issues, checked when the config
        loads (``[referral.reward] kind``); ``None``: the connector does not say (any kind is
        sent and a wrong one fails when the reward is issued). Override it in a connector
        with ``issue_rewards``."""
        return None

    def secret_keys_in_use(self) -> list[str]:
        """Every ``<key>`` whose ``<key>_env`` is set: the secrets this connection needs."""
        return [name.removesuffix("_env") for name in type(self).model_fields
                if name.endswith("_env") and getattr(self, name)]

    @model_validator(mode="before")
    @classmethod
    def _reject_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key in cls.secret_keys:
                if key in data:
                    raise ValueError(
                        f"secret {key!r} must not be written into the config file; set "
                        f"{key}_env = \"VARIABLE\" and export VARIABLE in the environment"
                    )
        return data

    def secret(self, key: str, environ: Mapping[str, str] | None = None) -> str:
        """Resolve ``<key>_env`` from the environment, or raise a ConfigError saying which
        variable to export."""
        variable = getattr(self, f"{key}_env", None)
        if not variable:
            raise ConfigError(f"{key}_env is not set", key=f"{key}_env",
                              remedy=f"set {key}_env = \"VARIABLE\" in the connection's table")
        value = (environ if environ is not None else os.environ).get(variable)
        if not value:
            raise MissingSecretError(variable=variable, key=key, connection=self._connection,
                                     file=self._file)
        for listener in _secret_listeners:
            listener(value)
        return value

    def config_warnings(self) -> list[str]:
        """Problems of this table that do not make it invalid (an API version past its
        platform's support, say): ``shoploop config check`` shows them, with ``--offline``
        too, without failing. Override in a connector type's config model; default none."""
        return []


class Connector(Protocol):
    """What every connector instance offers, whatever its capabilities."""

    name: str
    """The connection's name (the ``<name>`` of ``[connections.<name>]``)."""

    def check(self) -> ConnectionCheck:
        """Is the system reachable, and are the credentials accepted? Never raises."""
        ...

    def close(self) -> None:
        """Release sockets, files and clients."""
        ...


@runtime_checkable
class ReadsCustomers(Protocol):
    page_size: int

    def read_customers(self, cursor: Cursor | None = None) -> Page[Customer]:
        """One page of customers after ``cursor`` (None: from the beginning/full)."""
        ...


@runtime_checkable
class ReadsOrders(Protocol):
    page_size: int

    def read_orders(self, cursor: Cursor | None = None) -> Page[Order]: ...


@runtime_checkable
class ReadsProducts(Protocol):
    page_size: int

    def read_products(self, cursor: Cursor | None = None) -> Page[Product]: ...


@runtime_checkable
class ReadsInstalledBase(Protocol):
    page_size: int

    def read_installed_base(self, cursor: Cursor | None = None) -> Page[InstalledEquipment]: ...


@runtime_checkable
class CountsRecords(Protocol):
    """Optional: how many items a read will deliver, so progress can show a total and an ETA."""

    def count_records(self, stream: str, cursor: Cursor | None = None) -> int | None:
        """About how many items ``read_<stream>(cursor)`` and the pages after it will deliver,
        or None when that is unknown or not cheap to learn. It must be *cheap* — one count
        query or one header, never a read of the records — and is called once before a read.
        It is an estimate for display only: records may appear meanwhile, and a connector
        that cannot filter its count like its incremental read may count the whole stream.
        A failure is logged and ignored (progress is not worth failing a run for)."""
        ...


@runtime_checkable
class WritesCustomerAttributes(Protocol):
    attribute_batch_size: int
    """Most changes one call accepts; the core splits into batches of exactly this size."""

    def write_customer_attributes(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        """Write one batch. Returns one result per change; a change whose value is already
        there is ``unchanged`` (idempotent). More than ``attribute_batch_size`` changes raise
        ``BatchLimitError`` before anything is written."""
        ...


@runtime_checkable
class CreatesCustomers(Protocol):
    customer_batch_size: int
    """Most drafts one call accepts; the core splits into batches of at most this size."""

    def create_customers(self, drafts: Sequence[CustomerDraft]) -> list[WriteResult]:
        """Create one batch. Returns one result per draft, in the same order, whose
        ``customer_id`` is the customer's id in this connection:

        - ``written``: created now;
        - ``unchanged``: a customer with the draft's e-mail exists already (created by an
          earlier call whose answer was lost, or by someone else): its id, nothing created.
          So a repeated call creates nothing, and a crash between create and bind heals;
        - ``failed``: refused (``customer_id`` is ``""``), with the system's message.

        More than ``customer_batch_size`` drafts raise ``BatchLimitError`` before anything is
        created."""
        ...


@runtime_checkable
class PublishesRecommendations(Protocol):
    def publish_recommendations(
        self, product_id: str, recommendations: Sequence[Recommendation]
    ) -> PublishResult:
        """Write the recommendations into the platform's native fields of ``product_id`` (ids
        are this connection's). Only lists that differ from what the product holds are
        written; an unchanged product is ``unchanged``, so a repeated call writes nothing."""
        ...


@runtime_checkable
class PublishesRecommendationLists(Protocol):
    """Batched publishing (optional, beside ``PublishesRecommendations``): ``reco publish``
    compares, records its intent and writes in these terms, so a re-run writes nothing and a
    resumed run writes no list twice."""

    publish_batch_size: int
    """How many products one :meth:`publish_recommendation_lists` call takes at most."""

    def recommendation_fields(self, recommendations: Sequence[Recommendation]
                              ) -> dict[str, list[str]]:
        """The native fields and the product ids (this connection's) each would hold, best
        first — exactly what ``publish_recommendations`` writes for these recommendations.
        Every field the connector manages is present (an empty list clears it)."""
        ...

    def publish_recommendation_lists(
        self, lists: Mapping[str, Mapping[str, Sequence[str]]],
    ) -> list[PublishResult]:
        """Write product id → {field: ids} for up to ``publish_batch_size`` products, one
        result per product in order. Each product is compared with what the platform holds
        first: one already holding its lists is ``unchanged`` and not written."""
        ...


@runtime_checkable
class IssuesRewards(Protocol):
    def issue_reward(self, spec: RewardSpec) -> IssuedReward:
        """Issue once per ``spec.idempotency_key``: a repeated call returns the first reward."""
        ...

    def find_reward(self, idempotency_key: str) -> IssuedReward | None: ...


@runtime_checkable
class RevokesRewards(Protocol):
    """Optional, beside :class:`IssuesRewards`: take back a reward whose referral turned out
    refunded (``[referral.reward] reverse_on_refund``)."""

    def revoke_reward(self, idempotency_key: str) -> RevokedReward:
        """Make the reward of ``idempotency_key`` unusable, idempotently (a repeated call
        answers ``revoked`` again, or ``gone`` where revoking leaves no trace — an ERP
        document deleted); a reward used already is ``redeemed`` and left alone."""
        ...


@runtime_checkable
class VerifiesWebhooks(Protocol):
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Event:
        """Verify the signature over the raw ``body`` and return the typed event.
        Raises ``WebhookSignatureError`` (reject, store nothing) or ``WebhookPayloadError``."""
        ...


@runtime_checkable
class ParsesWebhookRecords(Protocol):
    """Optional, beside :class:`VerifiesWebhooks`: the records a verified event carries (an
    order, customer or product in the platform's webhook shape), so the core mirrors them into
    the store as soon as the webhook is processed instead of at the next import. An event that
    carries none (a deletion, a ping, a privacy request) gives an empty list."""

    def webhook_records(self, event: Event) -> Sequence[Customer | Order | Product]:
        """The records of ``event`` (a result of this connector's ``parse_webhook``)."""
        ...


@runtime_checkable
class ManagesWebhooks(Protocol):
    """Optional: create and list the platform's webhook subscriptions for this connection
    (``shoploop webhooks register|list``)."""

    def register_webhooks(self, address: str) -> list[WebhookSubscription]:
        """Subscribe ``address`` to every topic the connector processes; a topic already
        subscribed to ``address`` is listed, not created again. Returns them all."""
        ...

    def list_webhooks(self) -> list[WebhookSubscription]:
        """The connection's current subscriptions (every address)."""
        ...


class RecordDigests(Protocol):
    """Durable digests of the records a connector delivered, for one connection. The core hands
    one to a connector that :class:`KeepsRecordDigests` (the import binds the store's); records
    are named by stream and external id, digests are short strings of the connector's choice."""

    def get(self, stream: str, external_ids: Collection[str]) -> dict[str, str]:
        """external id → digest last saved, for those of ``external_ids`` that have one."""
        ...

    def put(self, stream: str, digests: Mapping[str, str]) -> None:
        """Save external id → digest (replacing what was saved for those ids)."""
        ...


@runtime_checkable
class KeepsRecordDigests(Protocol):
    """Optional, for streams the platform cannot filter by change (every read a full scan):
    the connector compares each record with its saved digest and delivers only new and changed
    ones, keeping the digests in the core's store instead of its cursor — so a page costs a
    lookup of its own records, whatever the stream's size. Without a binding the connector
    keeps them in memory (an incremental read on another instance delivers everything again:
    more than changed, never less)."""

    def use_record_digests(self, digests: RecordDigests) -> None:
        """Keep digests in ``digests`` from now on."""
        ...


class MemoryRecordDigests:
    """:class:`RecordDigests` in a dict: what a connector uses until the core binds the store's,
    and what tests and the conformance kit share between connector instances."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}
        """(stream, external id) → digest."""

    def get(self, stream: str, external_ids: Collection[str]) -> dict[str, str]:
        saved = self.saved
        return {i: saved[(stream, i)] for i in external_ids if (stream, i) in saved}

    def put(self, stream: str, digests: Mapping[str, str]) -> None:
        self.saved.update(((stream, i), digest) for i, digest in digests.items())


CAPABILITY_PROTOCOLS: dict[Capability, type] = {
    Capability.READ_CUSTOMERS: ReadsCustomers,
    Capability.READ_ORDERS: ReadsOrders,
    Capability.READ_PRODUCTS: ReadsProducts,
    Capability.READ_INSTALLED_BASE: ReadsInstalledBase,
    Capability.WRITE_CUSTOMER_ATTRIBUTES: WritesCustomerAttributes,
    Capability.CREATE_CUSTOMERS: CreatesCustomers,
    Capability.PUBLISH_RECOMMENDATIONS: PublishesRecommendations,
    Capability.ISSUE_REWARDS: IssuesRewards,
    Capability.VERIFY_WEBHOOKS: VerifiesWebhooks,
    Capability.COUNT_RECORDS: CountsRecords,
}


ConnectorFactory = Callable[[str, Any], Any]
"""``factory(connection_name, validated_config) -> connector``."""


@dataclass(frozen=True)
class ConnectorType:
    """A registered connector type. ``factory`` receives the connection name and an instance of
    ``config_model``; it should be cheap (connect lazily) so ``shoploop plugins`` stays fast."""

    name: str
    config_model: type[ConnectionConfig]
    factory: ConnectorFactory
    capabilities: frozenset[Capability] = field(default_factory=frozenset)
    description: str = ""
    plugin: str = ""


class RegisterConnector(Protocol):
    """The ``register`` callable handed to ``register_connectors``."""

    def __call__(
        self,
        name: str,
        *,
        config_model: type[ConnectionConfig],
        factory: ConnectorFactory,
        capabilities: Sequence[Capability] = (),
        description: str = "",
    ) -> None: ...


Transform = Callable[..., Any]
"""A field transform: ``transform(value, **options) -> value``; pure and deterministic."""


class RegisterTransform(Protocol):
    """The ``register`` callable handed to ``register_transforms``."""

    def __call__(self, name: str, transform: Transform, *, description: str = "") -> None: ...
