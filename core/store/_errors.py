"""The store's domain errors; each carries the one remedy an operator needs."""

from __future__ import annotations

from shoploop.hooks import ShoploopError


class StoreError(ShoploopError):
    """Something is wrong with the store (database) itself."""

    remedy = "Check the store URL ([store] url or SHOPLOOP_DATABASE_URL) and the database."


class StoreUnavailableError(StoreError):
    """The database could not be reached or opened."""

    remedy = (
        "Check [store] url / SHOPLOOP_DATABASE_URL and that the database server is running "
        "and accepts the credentials."
    )


class SchemaOutdatedError(StoreError):
    """The database schema is behind this version of shoploop (or was never created)."""

    remedy = "Run `shoploop db upgrade` to migrate the database to this version of shoploop."


class SchemaAheadError(StoreError):
    """The database was migrated by a newer shoploop than the one running."""

    remedy = "Upgrade shoploop to the version that migrated this database (or newer)."


class IdentityConflictError(StoreError):
    """An identity binding would contradict an existing one."""

    remedy = (
        "Resolve the conflicting binding explicitly; shoploop never re-binds an identity "
        "silently."
    )
