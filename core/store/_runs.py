"""Job runs (the audit trail's header records) and table counts for summaries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ._errors import StoreError
from ._schema import Base, SyncRunRecord
from ._types import utcnow

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
INTERRUPTED = "interrupted"
"""Stopped on request (Ctrl-C, SIGTERM) or found still running after its process died."""


def new_run_id() -> str:
    """A run's id, known before its row exists (a run takes its liveness lock first)."""
    return str(uuid.uuid4())


def start_run(
    session: Session, job: str, *, run_id: str | None = None,
    summary: Mapping[str, Any] | None = None,
) -> str:
    """Record that ``job`` started; returns the run id (a new UUID unless given)."""
    run = SyncRunRecord(
        id=run_id or new_run_id(), job=job, started_at=utcnow(), status=RUNNING,
        summary=dict(summary or {}),
    )
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session, run_id: str, *, status: str = SUCCEEDED,
    summary: Mapping[str, Any] | None = None,
) -> None:
    """Record the end of a run with its final status and summary (JSON-serialisable)."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
    if summary is not None:
        values["summary"] = dict(summary)
    result = session.execute(
        update(SyncRunRecord).where(SyncRunRecord.id == run_id).values(**values)
    )
    if not getattr(result, "rowcount", 1):
        raise StoreError(f"no run with id {run_id!r}", remedy="pass the id start_run returned")


def get_run(session: Session, run_id: str) -> SyncRunRecord | None:
    return session.get(SyncRunRecord, run_id)


def recent_runs(
    session: Session, *, job: str | None = None, limit: int = 20
) -> list[SyncRunRecord]:
    """The newest runs first, optionally of one job."""
    query = select(SyncRunRecord).order_by(SyncRunRecord.started_at.desc()).limit(limit)
    if job is not None:
        query = query.where(SyncRunRecord.job == job)
    return list(session.scalars(query))


def counts(session: Session) -> dict[str, int]:
    """Row count per table, for summaries."""
    return {
        table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
        for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name)
    }
