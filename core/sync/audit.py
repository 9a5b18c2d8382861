"""Reading the sync's audit trail: one run's changes, their counts and its batches.

    from shoploop.sync.audit import change_counts, changes_of_run

    with store.session() as session:
        counts = change_counts(session, run_id)          # (target, attribute, status, n)
        failed = changes_of_run(session, run_id, status="failed", limit=100)

Used by ``shoploop sync show`` and the dashboard's run page (docs/web.md). Imports
SQLAlchemy, so, like :mod:`shoploop.sync.job`, it is imported explicitly by its users.
"""

from ._state import batches_of_run, change_counts, changes_of_run

__all__ = ["batches_of_run", "change_counts", "changes_of_run"]
