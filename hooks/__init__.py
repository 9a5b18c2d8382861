"""shoploop's plugin contract: hook specifications, the ``hookimpl`` marker, domain models,
connector capability protocols and errors. Plugins import from here and nowhere else in the
core is required.

    from shoploop.hooks import hookimpl

    @hookimpl
    def customer_attributes(context, profile):
        return {"is_vip": len(profile.orders) > 10}
"""

from __future__ import annotations

from . import _specs as specs
from ._connectors import (
    CAPABILITY_PROTOCOLS,
    Capability,
    ConnectionConfig,
    Connector,
    ConnectorFactory,
    ConnectorType,
    CountsRecords,
    CreatesCustomers,
    IssuesRewards,
    KeepsRecordDigests,
    ManagesWebhooks,
    MemoryRecordDigests,
    ParsesWebhookRecords,
    PublishesRecommendationLists,
    PublishesRecommendations,
    ReadsCustomers,
    ReadsInstalledBase,
    ReadsOrders,
    ReadsProducts,
    RecordDigests,
    RegisterConnector,
    RegisterTransform,
    Transform,
    VerifiesWebhooks,
    WritesCustomerAttributes,
)
from ._context import HookContext
from ._emulators import Emulator, EmulatorFactory, EmulatorOptions, RegisterEmulator
from ._errors import (
    AuthError,
    BatchLimitError,
    ConfigError,
    ConflictError,
    ConnectorError,
    MissingSecretError,
    NotSupportedError,
    PluginError,
    RateLimitedError,
    RemoteValidationError,
    ShoploopError,
    UnreachableError,
    WebhookPayloadError,
    WebhookSignatureError,
    WrongEndpointError,
)
from ._lookup import ProductLookup
from ._markers import PROJECT_NAME, hookimpl, hookspec
from ._models import (
    ALTERNATIVE_KINDS,
    Address,
    AttributeChange,
    AttributeValue,
    ConnectionCheck,
    Cursor,
    Customer,
    CustomerDraft,
    CustomerProfile,
    Event,
    InstalledEquipment,
    IssuedReward,
    LineItem,
    Order,
    Page,
    Product,
    PublishResult,
    Recommendation,
    RecommendationPatch,
    RecommendationRequest,
    Referral,
    ReferralFinding,
    RewardSpec,
    SyncRun,
    WebhookSubscription,
    WriteResult,
    WriteStatus,
)
from ._specs import HOOK_NAMES

__all__ = [
    "ALTERNATIVE_KINDS", "CAPABILITY_PROTOCOLS", "HOOK_NAMES", "PROJECT_NAME",
    "Address", "AttributeChange", "AttributeValue", "AuthError", "BatchLimitError", "Capability",
    "ConfigError", "ConflictError", "ConnectionCheck", "ConnectionConfig", "Connector",
    "ConnectorError", "ConnectorFactory", "ConnectorType", "CountsRecords", "CreatesCustomers",
    "Cursor",
    "Customer", "CustomerDraft", "CustomerProfile", "Emulator", "EmulatorFactory",
    "EmulatorOptions", "Event",
    "HookContext", "InstalledEquipment", "IssuedReward",
    "IssuesRewards", "KeepsRecordDigests", "LineItem", "ManagesWebhooks", "MemoryRecordDigests",
    "MissingSecretError",
    "NotSupportedError", "Order", "Page", "ParsesWebhookRecords",
    "PluginError", "Product", "ProductLookup", "PublishResult",
    "PublishesRecommendationLists", "PublishesRecommendations", "RateLimitedError",
    "ReadsCustomers", "ReadsInstalledBase",
    "ReadsOrders", "ReadsProducts", "Recommendation", "RecommendationPatch",
    "RecommendationRequest", "RecordDigests", "Referral", "ReferralFinding", "RegisterConnector",
    "RegisterEmulator",
    "RegisterTransform", "RemoteValidationError", "RewardSpec", "ShoploopError", "SyncRun",
    "Transform", "UnreachableError", "VerifiesWebhooks", "WebhookPayloadError",
    "WebhookSignatureError", "WebhookSubscription", "WriteResult", "WriteStatus",
    "WritesCustomerAttributes",
    "WrongEndpointError",
    "hookimpl", "hookspec", "specs",
]
