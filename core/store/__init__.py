"""The store: SQLAlchemy 2 + Alembic, on SQLite (embedded default) or PostgreSQL.

    from shoploop.store import Store, resolve_store_url, upsert_customers

    store = Store(resolve_store_url(None, config_dir))
    store.upgrade()                       # `shoploop db upgrade`
    with store.session() as session:      # commits on success, rolls back on error
        result = upsert_customers(session, "erp", customers)

Repository functions take a ``Session`` so a caller can group several of them into one
transaction (the mirror job writes a page's records and its cursor together). A capability
with tables of its own (the sync's batches, target state and audit trail) builds its queries
from the public models and the building blocks ``table``, ``one_of`` (an ``IN`` that stays one
parameter on PostgreSQL), ``upsert_insert`` (``INSERT … ON CONFLICT`` for either backend) and
``utcnow``; nothing outside the store imports its private modules.
"""

from __future__ import annotations

from ._cursors import delete_cursor, load_cursor, save_cursor
from ._dialect import one_of, upsert_insert
from ._digests import StoredRecordDigests, load_record_digests, save_record_digests
from ._erasure import (
    ErasureResult,
    email_hash,
    erase_customer,
    erased_among,
    erased_email_hashes,
    erased_external_id_hashes,
    erased_internal_ids,
    external_id_hash,
    is_erased,
)
from ._errors import (
    IdentityConflictError,
    SchemaAheadError,
    SchemaOutdatedError,
    StoreError,
    StoreUnavailableError,
)
from ._identity import (
    bind_identities,
    bind_identity,
    external_ids_for,
    new_internal_id,
    resolve_external_ids,
    resolve_internal_id,
    resolve_internal_ids,
)
from ._intents import (
    CONFIRMED as INTENT_CONFIRMED,
)
from ._intents import (
    FAILED as INTENT_FAILED,
)
from ._intents import (
    INTERRUPTED as INTENT_INTERRUPTED,
)
from ._intents import (
    PENDING as INTENT_PENDING,
)
from ._intents import (
    batch_key,
    interrupt_pending,
    record_intent,
    settle_batch,
)
from ._lock import exclusive_lock
from ._reco import StoredModel, load_reco_model, reco_model_versions, save_reco_model
from ._reco_published import published_lists, record_published
from ._referral_schema import (
    ReferralCodeRecord,
    ReferralInvitationRecord,
    ReferralOptOutRecord,
    ReferralRecord,
    ReferralRewardRecord,
    ReferralSurveyRecord,
    ReferralTransitionRecord,
)
from ._referrals import (
    LEDGER_TRANSITIONS,
    LedgerError,
    add_code,
    add_invitation,
    add_referral,
    add_reward,
    add_survey,
    advocate_summary,
    codes_of_customer,
    codes_with_status,
    find_code,
    get_referral,
    get_survey,
    invitations_with_status,
    is_opted_out,
    ledger_emails,
    ledger_history,
    opt_out,
    referral_funnel,
    referral_of_order,
    referrals_of_code,
    referrals_with_status,
    reward_of_referral,
    rewards_with_status,
    surveys_with_status,
    transition,
)
from ._rows import content_hash
from ._runs import (
    FAILED,
    INTERRUPTED,
    RUNNING,
    SUCCEEDED,
    counts,
    finish_run,
    get_run,
    recent_runs,
    start_run,
)
from ._schema import (
    Base,
    CustomerRecord,
    ErasedCustomer,
    IdentityBinding,
    InstalledBaseRecord,
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    RecoModelRecord,
    RecoPublishedRecord,
    RecordDigestRecord,
    SyncBatch,
    SyncChangeRecord,
    SyncCursor,
    SyncRunRecord,
    SyncTargetState,
    table,
)
from ._store import Store
from ._types import utcnow
from ._upsert import (
    UpsertResult,
    count_mirrored,
    mirrored_customers,
    mirrored_installed_base,
    mirrored_orders,
    mirrored_products,
    upsert_customers,
    upsert_installed_base,
    upsert_orders,
    upsert_products,
)
from ._url import redact_url, resolve_store_url

__all__ = [
    "FAILED",
    "INTENT_CONFIRMED",
    "INTENT_FAILED",
    "INTENT_INTERRUPTED",
    "INTENT_PENDING",
    "INTERRUPTED",
    "LEDGER_TRANSITIONS",
    "RUNNING",
    "SUCCEEDED",
    "Base",
    "CustomerRecord",
    "ErasedCustomer",
    "ErasureResult",
    "IdentityBinding",
    "IdentityConflictError",
    "InstalledBaseRecord",
    "LedgerError",
    "OrderLineRecord",
    "OrderRecord",
    "ProductRecord",
    "RecoModelRecord",
    "RecoPublishedRecord",
    "RecordDigestRecord",
    "ReferralCodeRecord",
    "ReferralInvitationRecord",
    "ReferralOptOutRecord",
    "ReferralRecord",
    "ReferralRewardRecord",
    "ReferralSurveyRecord",
    "ReferralTransitionRecord",
    "SchemaAheadError",
    "SchemaOutdatedError",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "StoredModel",
    "StoredRecordDigests",
    "SyncBatch",
    "SyncChangeRecord",
    "SyncCursor",
    "SyncRunRecord",
    "SyncTargetState",
    "UpsertResult",
    "add_code",
    "add_invitation",
    "add_referral",
    "add_reward",
    "add_survey",
    "advocate_summary",
    "batch_key",
    "bind_identities",
    "bind_identity",
    "codes_of_customer",
    "codes_with_status",
    "content_hash",
    "count_mirrored",
    "counts",
    "delete_cursor",
    "email_hash",
    "erase_customer",
    "erased_among",
    "erased_email_hashes",
    "erased_external_id_hashes",
    "erased_internal_ids",
    "exclusive_lock",
    "external_id_hash",
    "external_ids_for",
    "find_code",
    "finish_run",
    "get_referral",
    "get_run",
    "get_survey",
    "interrupt_pending",
    "invitations_with_status",
    "is_erased",
    "is_opted_out",
    "ledger_emails",
    "ledger_history",
    "load_cursor",
    "load_reco_model",
    "load_record_digests",
    "mirrored_customers",
    "mirrored_installed_base",
    "mirrored_orders",
    "mirrored_products",
    "new_internal_id",
    "one_of",
    "opt_out",
    "published_lists",
    "recent_runs",
    "reco_model_versions",
    "record_intent",
    "record_published",
    "redact_url",
    "referral_funnel",
    "referral_of_order",
    "referrals_of_code",
    "referrals_with_status",
    "resolve_external_ids",
    "resolve_internal_id",
    "resolve_internal_ids",
    "resolve_store_url",
    "reward_of_referral",
    "rewards_with_status",
    "save_cursor",
    "save_reco_model",
    "save_record_digests",
    "settle_batch",
    "start_run",
    "surveys_with_status",
    "table",
    "transition",
    "upsert_customers",
    "upsert_insert",
    "upsert_installed_base",
    "upsert_orders",
    "upsert_products",
    "utcnow",
]
