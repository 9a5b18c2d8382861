"""Recommendation models in the store: save a built version, load the newest, keep a few."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ._schema import RecoModelRecord


@dataclass(frozen=True)
class StoredModel:
    version: int
    built_at: datetime
    format: int
    summary: dict[str, Any]
    payload: bytes


def save_reco_model(session: Session, *, payload: bytes, built_at: datetime, format: int,
                    summary: dict[str, Any], keep: int = 3) -> int:
    """Store a built model as the next version and delete all but the newest ``keep``
    versions; returns the new version. Commit with the session: readers see the old or the
    new model, never a part of one."""
    record = RecoModelRecord(built_at=built_at, format=format, summary=summary,
                             payload=payload)
    session.add(record)
    session.flush()
    kept = select(RecoModelRecord.version).order_by(
        RecoModelRecord.version.desc()).limit(keep).scalar_subquery()
    session.execute(delete(RecoModelRecord).where(RecoModelRecord.version.not_in(kept)))
    return record.version


def load_reco_model(session: Session, version: int | None = None) -> StoredModel | None:
    """The newest stored model (or the given ``version``), or None when there is none."""
    query = select(RecoModelRecord)
    query = (query.where(RecoModelRecord.version == version) if version is not None
             else query.order_by(RecoModelRecord.version.desc()).limit(1))
    record = session.scalars(query).first()
    if record is None:
        return None
    return StoredModel(record.version, record.built_at, record.format, dict(record.summary),
                       bytes(record.payload))


def reco_model_versions(session: Session) -> list[tuple[int, datetime, dict[str, Any]]]:
    """(version, built_at, summary) of every stored model, newest first; no payloads."""
    rows = session.execute(select(RecoModelRecord.version, RecoModelRecord.built_at,
                                  RecoModelRecord.summary)
                           .order_by(RecoModelRecord.version.desc()))
    return [(v, b, dict(s)) for v, b, s in rows]


def newest_reco_model_version(session: Session) -> int | None:
    """The newest stored model's version (None: none built): one indexed read, cheap enough
    for a long-running reader (the web app) to poll before reloading."""
    return session.scalar(select(func.max(RecoModelRecord.version)))
