"""The store's domain errors; each carries the one remedy an operator needs, and its
classification (``error_code``, the CLI's ``exit_code``: 2 the store is unusable as
configured or its schema is not this shoploop's, 3 the database is unreachable)."""

from __future__ import annotations

from shoploop.hooks import ShoploopError


class StoreError(ShoploopError):
    """Something is wrong with the store (database) itself."""

    remedy = "Check the store URL ([store] url or SHOPLOOP_DATABASE_URL) and the database."
    error_code = "store_error"
    exit_code = 2


class StoreUnavailableError(StoreError):
    """The database could not be reached or opened."""

    remedy = (
        "Check [store] url / SHOPLOOP_DATABASE_URL and that the database server is running "
        "and accepts the credentials."
    )
    error_code = "store_unreachable"
    exit_code = 3


class SchemaOutdatedError(StoreError):
    """The database schema is behind this version of shoploop (or was never created).

    ``Store.check_schema()`` detects it once per store (every ``session()`` calls it first), so
    every command that opens the store fails the same way with the same remedy."""

    remedy = "Run `shoploop db upgrade` to migrate the database to this version of shoploop."
    error_code = "schema_outdated"


class SchemaAheadError(StoreError):
    """The database was migrated by a newer shoploop than the one running."""

    remedy = "Upgrade shoploop to the version that migrated this database (or newer)."
    error_code = "schema_ahead"


class IdentityConflictError(StoreError):
    """An identity binding would contradict an existing one."""

    remedy = (
        "Resolve the conflicting binding explicitly; shoploop never re-binds an identity "
        "silently."
    )
    error_code = "identity_conflict"
