"""Attribute writes: the changes file's entries, idempotency across instances and processes,
batch limits, and what an interrupted write leaves behind."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shoploop.hooks import (
    AttributeChange,
    AttributeValue,
    BatchLimitError,
    ConnectorError,
    UnreachableError,
    WriteStatus,
)
from shoploop.plugins.files import FilesConfig, FilesConnector

NOON = datetime(2025, 3, 1, 12, tzinfo=UTC)


def connector(directory: Path, **config: Any) -> FilesConnector:
    return FilesConnector("erp-files", FilesConfig(path=directory, **config), clock=lambda: NOON)


def change(customer: str, key: str, new: AttributeValue, **extra: Any) -> AttributeChange:
    return AttributeChange(customer_id=customer, key=key, new=new, **extra)


def statuses(conn: FilesConnector, changes: list[AttributeChange]) -> list[str]:
    return [result.status.value for result in conn.write_customer_attributes(changes)]


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_entry_holds_the_change_and_its_provenance(tmp_path: Path) -> None:
    written = change("C-1", "lifecycle_stage", "retention", old="action", source="crm")
    [result] = connector(tmp_path).write_customer_attributes([written])
    assert (result.customer_id, result.key, result.status) == ("C-1", "lifecycle_stage",
                                                               WriteStatus.WRITTEN)
    assert entries(tmp_path / "attribute_changes.jsonl") == [{
        "customer_id": "C-1", "key": "lifecycle_stage", "value": "retention", "old": "action",
        "source": "crm", "idempotency_key": written.idempotency_key,
        "written_at": "2025-03-01T12:00:00+00:00", "connection": "erp-files",
    }]


def test_unchanged_values_are_not_written_again_even_by_a_new_instance(tmp_path: Path) -> None:
    batch = [change("C-1", "segment", "vip"), change("C-2", "segment", ["a", "b"])]
    assert statuses(connector(tmp_path), batch) == ["written", "written"]
    assert statuses(connector(tmp_path), batch) == ["unchanged", "unchanged"]
    edited = [batch[0], change("C-2", "segment", ["b", "a"])]
    assert statuses(connector(tmp_path), edited) == ["unchanged", "written"]
    assert len(entries(tmp_path / "attribute_changes.jsonl")) == 3


def test_values_compare_as_json_so_1_true_and_1_0_differ(tmp_path: Path) -> None:
    conn = connector(tmp_path)
    values: list[AttributeValue] = [1, True, 1.0, "1", None, None]
    assert [statuses(conn, [change("C-1", "k", v)])[0] for v in values] == [
        "written", "written", "written", "written", "written", "unchanged"]


def test_repeats_inside_one_batch_are_written_once(tmp_path: Path) -> None:
    batch = [change("C-1", "k", "a"), change("C-1", "k", "a"), change("C-1", "k", "b")]
    assert statuses(connector(tmp_path), batch) == ["written", "unchanged", "written"]


def test_two_writers_of_one_file_see_each_other(tmp_path: Path) -> None:
    first, second = connector(tmp_path), connector(tmp_path)
    assert statuses(first, [change("C-1", "k", "a")]) == ["written"]
    assert statuses(second, [change("C-1", "k", "b")]) == ["written"]
    assert statuses(first, [change("C-1", "k", "b")]) == ["unchanged"]


def test_over_the_batch_limit_nothing_is_written(tmp_path: Path) -> None:
    conn = connector(tmp_path, attribute_batch_size=2)
    with pytest.raises(BatchLimitError, match=r"3 changes in one batch; .* at most 2"):
        conn.write_customer_attributes([change(f"C-{n}", "k", "v") for n in range(3)])
    assert not (tmp_path / "attribute_changes.jsonl").exists()


def test_a_batch_is_one_write_flushed_to_disk(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_write, real_fsync = os.write, os.fsync

    def write(fd: int, data: Any) -> int:
        calls.append("write")
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)
    connector(tmp_path).write_customer_attributes(
        [change(f"C-{n}", "k", "v" * 100) for n in range(300)])
    monkeypatch.undo()
    assert calls == ["write", "fsync"]
    assert len(entries(tmp_path / "attribute_changes.jsonl")) == 300


def test_an_interrupted_write_leaves_no_corrupt_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "attribute_changes.jsonl"
    batch = [change(f"C-{n}", "k", "v") for n in range(5)]
    assert statuses(connector(tmp_path), [change("C-0", "before", "x")]) == ["written"]
    real_write = os.write

    def killed_halfway(fd: int, data: Any) -> int:
        real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(5, "Input/output error")  # the process "dies" mid-write

    monkeypatch.setattr(os, "write", killed_halfway)
    with pytest.raises(ConnectorError, match="Input/output error"):
        connector(tmp_path).write_customer_attributes(batch)
    monkeypatch.undo()

    survived = path.read_text().splitlines()[1:-1]  # complete lines before the cut
    assert len(survived) == 2
    with caplog.at_level(logging.WARNING, logger="shoploop.plugins.files"):
        # entries that made it before the cut count as written; the cut-off one does not
        assert statuses(connector(tmp_path), batch) == ["unchanged"] * 2 + ["written"] * 3
    assert "line 4 is not a complete change entry" in caplog.text
    lines = path.read_text().splitlines()
    complete = [json.loads(line) for n, line in enumerate(lines) if n != 3]
    assert [(e["customer_id"], e["key"]) for e in complete] == [
        ("C-0", "before"), *((c.customer_id, "k") for c in batch)]
    assert statuses(connector(tmp_path), batch) == ["unchanged"] * 5


def test_changes_file_location(tmp_path: Path) -> None:
    elsewhere = tmp_path / "out" / "changes.jsonl"
    (tmp_path / "data").mkdir()
    conn = connector(tmp_path / "data", changes_file=elsewhere)
    with pytest.raises(UnreachableError, match=r"directory .*out of the changes file"):
        conn.write_customer_attributes([change("C-1", "k", "v")])
    elsewhere.parent.mkdir()
    assert statuses(conn, [change("C-1", "k", "v")]) == ["written"]
    assert elsewhere.exists()
    assert connector(tmp_path / "data", changes_file="sub/c.jsonl").changes_path == \
        tmp_path / "data" / "sub" / "c.jsonl"
