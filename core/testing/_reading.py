"""Reading a stream page by page the way the core does, checking the page contract on the way.

Every cursor is passed on only after a JSON round trip (``model_dump_json`` → ``json`` →
``model_validate``), exactly as the core stores it in the database between runs: a connector
that keeps state in the cursor object itself, or puts something non-JSON into it, fails here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel

from shoploop.hooks import Cursor, Page

from ._dataset import StreamSpec

RecordKey = Callable[[str, BaseModel], str]


def roundtrip(cursor: Cursor) -> Cursor:
    """The cursor as it comes back from the store: serialised to JSON text and parsed again."""
    try:
        text = json.dumps(cursor.model_dump(mode="json"))
    except (TypeError, ValueError) as exc:
        pytest.fail(f"cursor {cursor!r} is not JSON-serialisable ({exc}); the core stores "
                    "cursors as JSON, so positions may hold only str, int, float, bool, None, "
                    "lists and dicts")
    restored = Cursor.model_validate(json.loads(text))
    if restored != cursor:
        pytest.fail(f"cursor changes in a JSON round trip: {cursor!r} became {restored!r}")
    return restored


@dataclass
class StreamRead:
    """What a sequence of reads returned: records, and on which page each record came."""

    stream: str
    records: list[BaseModel] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)  # page number (1-based) of each record
    page_sizes: list[int] = field(default_factory=list)
    cursor: Cursor | None = None
    finished: bool = False

    def keys(self, key: RecordKey) -> list[str]:
        return [key(self.stream, record) for record in self.records]

    def extend(self, other: StreamRead) -> None:
        offset = len(self.page_sizes)
        self.records.extend(other.records)
        self.pages.extend(page + offset for page in other.pages)
        self.page_sizes.extend(other.page_sizes)
        self.cursor, self.finished = other.cursor, other.finished


def read_pages(
    connector: Any,
    spec: StreamSpec,
    cursor: Cursor | None,
    *,
    max_pages: int,
    empty_pages_allowed: bool,
    stop_after: int | None = None,
) -> StreamRead:
    """Read ``spec``'s stream from ``cursor`` until ``has_more`` is false (or ``stop_after``
    pages), failing the test on any breach of the page contract."""
    read = StreamRead(spec.name, cursor=cursor)
    method = getattr(connector, spec.method)
    page_size = connector.page_size
    if not isinstance(page_size, int) or page_size < 1:
        pytest.fail(f"connector.page_size must be a positive int, got {page_size!r}")
    number = 0
    while True:
        number += 1
        where = f"{spec.method}() page {number}"
        if number > max_pages:
            pytest.fail(f"{spec.method}() still reports has_more=True after {max_pages} pages; "
                        "has_more must become false once every record was returned")
        page = method(read.cursor)
        if not isinstance(page, Page):
            pytest.fail(f"{where} returned {type(page).__name__}, not shoploop.hooks.Page")
        wrong = [type(item).__name__ for item in page.items if not isinstance(item, spec.model)]
        if wrong:
            pytest.fail(f"{where} holds {wrong[0]} items; expected {spec.model.__name__}")
        if len(page.items) > page_size:
            pytest.fail(f"{where} holds {len(page.items)} records, more than "
                        f"page_size={page_size}")
        if not page.items and page.has_more and not empty_pages_allowed:
            pytest.fail(f"{where} is empty but says has_more=True; return has_more=False on "
                        "the last page (or set empty_pages_allowed = True on the test class if "
                        "the platform cannot know)")
        if not page.items and not page.has_more and number > 1 and not empty_pages_allowed:
            pytest.fail(f"{where} is an empty last page: the previous page should have said "
                        "has_more=False (or set empty_pages_allowed = True on the test class if "
                        "the platform cannot know in advance)")
        if not isinstance(page.cursor, Cursor):
            pytest.fail(f"{where} returned no Cursor")
        read.records.extend(page.items)
        read.pages.extend([number] * len(page.items))
        read.page_sizes.append(len(page.items))
        read.cursor = roundtrip(page.cursor)
        if not page.has_more:
            read.finished = True
            return read
        if stop_after is not None and number >= stop_after:
            return read


def assert_exactly_once(
    read: StreamRead, expected: Sequence[str], key: RecordKey, *, what: str
) -> None:
    """Every expected key appears exactly once, and nothing else appears."""
    keys = read.keys(key)
    counts = Counter(keys)
    problems: list[str] = []
    duplicates = [k for k, n in counts.items() if n > 1]
    if duplicates:
        shown = []
        for dup in duplicates[:5]:
            pages = sorted({read.pages[i] for i, k in enumerate(keys) if k == dup})
            shown.append(f"{dup!r} {counts[dup]} times (pages {', '.join(map(str, pages))})")
        problems.append(f"{len(duplicates)} record(s) returned more than once: "
                        + "; ".join(shown))
    missing = [k for k in expected if k not in counts]
    if missing:
        problems.append(f"{len(missing)} of {len(expected)} expected record(s) never returned, "
                        f"e.g. {missing[:5]!r}")
    unexpected = sorted(set(counts) - set(expected))
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected record(s), e.g. {unexpected[:5]!r}")
    if problems:
        sizes = ", ".join(map(str, read.page_sizes))
        pytest.fail(f"{what} ({read.stream}, page sizes {sizes}):\n  " + "\n  ".join(problems))


def assert_same_records(
    read: StreamRead, expected: Sequence[BaseModel], key: RecordKey
) -> None:
    """Each record read equals the dataset's record with the same key, field by field."""
    by_key = {key(read.stream, record): record for record in expected}
    for record in read.records:
        want = by_key.get(key(read.stream, record))
        if want is None:
            continue
        got_data, want_data = record.model_dump(mode="json"), want.model_dump(mode="json")
        if got_data != want_data:
            fields = [f for f in want_data if got_data.get(f) != want_data[f]]
            name = key(read.stream, record)
            diffs = "; ".join(f"{f}: got {got_data.get(f)!r}, expected {want_data[f]!r}"
                              for f in fields[:3])
            pytest.fail(f"{read.stream} record {name!r} differs from the dataset: {diffs}")
