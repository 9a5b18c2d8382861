"""The store: SQLAlchemy 2 + Alembic, on SQLite (embedded default) or PostgreSQL.

    from shoploop.store import Store, resolve_store_url, upsert_customers

    store = Store(resolve_store_url(None, config_dir))
    store.upgrade()                       # `shoploop db upgrade`
    with store.session() as session:      # commits on success, rolls back on error
        result = upsert_customers(session, "erp", customers)

Repository functions take a ``Session`` so a caller can group several of them into one
transaction (the mirror job writes a page's records and its cursor together).
"""

from __future__ import annotations

from ._cursors import delete_cursor, load_cursor, save_cursor
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
    bind_identity,
    external_ids_for,
    new_internal_id,
    resolve_internal_id,
    resolve_internal_ids,
)
from ._reco import StoredModel, load_reco_model, reco_model_versions, save_reco_model
from ._rows import content_hash
from ._runs import (
    FAILED,
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
    SyncCursor,
    SyncRunRecord,
)
from ._store import Store
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
    "RUNNING",
    "SUCCEEDED",
    "Base",
    "CustomerRecord",
    "ErasedCustomer",
    "ErasureResult",
    "IdentityBinding",
    "IdentityConflictError",
    "InstalledBaseRecord",
    "OrderLineRecord",
    "OrderRecord",
    "ProductRecord",
    "RecoModelRecord",
    "SchemaAheadError",
    "SchemaOutdatedError",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "StoredModel",
    "SyncCursor",
    "SyncRunRecord",
    "UpsertResult",
    "bind_identity",
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
    "external_id_hash",
    "external_ids_for",
    "finish_run",
    "get_run",
    "is_erased",
    "load_cursor",
    "load_reco_model",
    "mirrored_customers",
    "mirrored_installed_base",
    "mirrored_orders",
    "mirrored_products",
    "new_internal_id",
    "recent_runs",
    "reco_model_versions",
    "redact_url",
    "resolve_internal_id",
    "resolve_internal_ids",
    "resolve_store_url",
    "save_cursor",
    "save_reco_model",
    "start_run",
    "upsert_customers",
    "upsert_installed_base",
    "upsert_orders",
    "upsert_products",
]
