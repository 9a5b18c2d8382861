"""Paged reads with resumable cursors.

Position of a stream (JSON, stored by the core between runs):

- ``b``: the bookmark to continue after (NAV: the last row's ``Key``; ReadMultiple returns the
  rows *after* the bookmarked one), None at the start of a pass;
- ``since``/``skip``: the pass reads records modified at or after ``since``, except those in
  ``skip`` (id → stamp) returned before with exactly that stamp. ``>=`` plus ``skip`` rather
  than ``>``: a record saved in the same second as the watermark, after the last pass, is not
  lost;
- ``max``/``recent``: the newest stamp seen in this pass, and the records seen within
  ``modified_lookback`` of it — the next pass's ``since`` and ``skip``;
- without a last-modified field: ``prev`` (id → hash of the last complete pass) and ``next``
  (being built); a record is returned when its hash differs from ``prev``.

``has_more`` is false on the last page of a pass; its cursor is the checkpoint of the next
incremental run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ._client import dig
from ._mapping import EntityMapping
from ._records import Converter, any_of, stamp

ReadCall = Callable[[EntityMapping, str | None, datetime | None, int,
                     Sequence[tuple[str, str]]], list[Any]]
"""``read(mapping, bookmark, since, size, filters) -> raw records``."""


class _Pass:
    """The bookkeeping of one pass: what to skip, the watermark, the hashes."""

    def __init__(self, mapping: EntityMapping, position: dict[str, Any]) -> None:
        self.mapping = mapping
        self.lookback = timedelta(seconds=mapping.modified_lookback)
        self.bookmark: str | None = position.get("b")
        since = position.get("since")
        self.since = stamp(since) if since else None
        skip = position.get("skip") or {}
        if isinstance(skip, list):  # older cursors: the ids at exactly `since`
            skip = dict.fromkeys(skip, iso(self.since))
        self.skip: dict[str, str] = dict(skip)
        top = position.get("max")
        self.max = stamp(top) if top else None
        self.recent: dict[str, str] = dict(position.get("recent") or {})
        self.prev: dict[str, str] = dict(position.get("prev") or {})
        self.next: dict[str, str] = dict(position.get("next") or {})

    def wanted(self, record_id: str, modified: datetime | None, digest: str | None) -> bool:
        """Track the record; is it new to this cursor?"""
        if self.mapping.modified_field is None:
            assert digest is not None
            self.next[record_id] = digest
            return self.prev.get(record_id) != digest
        text = iso(modified)
        if modified is not None:
            if self.max is None or modified > self.max:
                self.max = modified
                floor = modified - self.lookback
                self.recent = {k: v for k, v in self.recent.items() if _at(v) >= floor}
            if modified >= self.max - self.lookback:
                self.recent[record_id] = text or ""
        if self.since is None:
            return True
        if modified is None or modified < self.since:
            return False  # an ERP filtering by date only sends earlier records of that day
        return self.skip.get(record_id) != text

    def position(self, finished: bool) -> dict[str, Any]:
        if self.mapping.modified_field is None:
            if finished:
                return {"b": None, "prev": self.next}
            return {"b": self.bookmark, "prev": self.prev, "next": self.next}
        if not finished:
            return {"b": self.bookmark, "since": iso(self.since), "skip": self.skip,
                    "max": iso(self.max), "recent": self.recent}
        if self.max is None:
            return {"b": None, "since": iso(self.since), "skip": self.skip}
        # The next pass starts `modified_lookback` before the newest stamp seen (a record saved
        # during a long pass, behind the bookmark, may carry an older stamp than a record read
        # later), never before this pass's own start; what was already returned with exactly
        # its stamp is skipped, so nothing comes twice.
        since = self.max - self.lookback
        if self.since is not None and self.since > since:
            since = self.since
        merged = {**self.skip, **self.recent}
        skip = {key: value for key, value in merged.items() if value and _at(value) >= since}
        return {"b": None, "since": iso(since), "skip": skip}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _identity(mapping: EntityMapping, converter: Converter, record: Any,
              ) -> tuple[str, datetime | None, str | None]:
    record_id = str(dig(record, mapping.id_field))
    if mapping.modified_field is None:
        return record_id, None, converter.fingerprint(record, mapping.fields, mapping.attributes)
    return record_id, stamp(dig(record, mapping.modified_field)), None


def read_records(mapping: EntityMapping, converter: Converter, read: ReadCall,
                 position: dict[str, Any]) -> tuple[list[Any], dict[str, Any], bool]:
    """One page of raw records after ``position``: (records, next position, has_more)."""
    state = _Pass(mapping, position)
    out: list[Any] = []
    while True:
        raw = read(mapping, state.bookmark, state.since, mapping.page_size, ())
        more = len(raw) >= mapping.page_size
        for record in raw:
            if state.wanted(*_identity(mapping, converter, record)):
                out.append(record)
        if raw:
            state.bookmark = str(dig(raw[-1], mapping.read.bookmark_field))
        if out or not more:  # skip pages that held only already-seen records
            return out, state.position(finished=not more), more


def read_documents(mapping: EntityMapping, converter: Converter, read: ReadCall,
                   position: dict[str, Any]) -> tuple[list[list[Any]], dict[str, Any], bool]:
    """One page of documents (see :func:`_document_page`), skipping pages whose documents were
    all returned before (an incremental pass resuming at its watermark)."""
    while True:
        documents, position, more = _document_page(mapping, converter, read, position)
        if documents or not more:
            return documents, position, more


def _document_page(mapping: EntityMapping, converter: Converter, read: ReadCall,
                   position: dict[str, Any]) -> tuple[list[list[Any]], dict[str, Any], bool]:
    """One page of documents (orders) built from lines: lines sharing ``document_field`` in
    primary-key order. A page ends after a complete document: lines are read until one more
    document has begun (or the data ends), and the bookmark is the last line of the last
    document returned, so a resumed read starts at the next document's first line."""
    assert mapping.document_field
    field = mapping.document_field
    state = _Pass(mapping, position)
    documents: dict[str, list[Any]] = {}
    last_key: dict[str, str] = {}
    bookmark, more = state.bookmark, True
    size = mapping.page_size * 4
    while more and len(documents) <= mapping.page_size:
        raw = read(mapping, bookmark, state.since, size, ())
        more = len(raw) >= size
        for line in raw:
            document = str(dig(line, field))
            documents.setdefault(document, []).append(line)
            last_key[document] = str(dig(line, mapping.read.bookmark_field))
        if raw:
            bookmark = last_key[str(dig(raw[-1], field))]
    names = list(documents)
    finished = not more and len(names) <= mapping.page_size
    names = names[:mapping.page_size]
    if names:
        state.bookmark = last_key[names[-1]]
    if state.since is not None and names:
        # An incremental pass sees only the changed lines; read the documents whole.
        whole = _whole_documents(mapping, read, names)
        documents.update(whole)
    out = []
    for name in names:
        lines = documents[name]
        stamps = [s for s in (stamp(dig(line, mapping.modified_field)) for line in lines)
                  if s is not None] if mapping.modified_field else []
        digest = None
        if mapping.modified_field is None:
            digest = "".join(converter.fingerprint(line, mapping.fields, mapping.line_fields)
                             for line in lines)
        if state.wanted(name, max(stamps) if stamps else None, digest):
            out.append(lines)
    return out, state.position(finished=finished), not finished


def _whole_documents(mapping: EntityMapping, read: ReadCall, names: list[str],
                     ) -> dict[str, list[Any]]:
    assert mapping.document_field
    result: dict[str, list[Any]] = {}
    criteria = any_of(names)
    bookmark: str | None = None
    size = mapping.page_size * 4
    while True:
        raw = read(mapping, bookmark, None, size, ((mapping.document_field, criteria),))
        for line in raw:
            result.setdefault(str(dig(line, mapping.document_field)), []).append(line)
        if len(raw) < size:
            return result
        bookmark = str(dig(raw[-1], mapping.read.bookmark_field))
