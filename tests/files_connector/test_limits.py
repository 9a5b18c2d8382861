"""Limits of the files connector: a runaway line or CSV record is refused with bounded memory,
naming file, line, size and the key to raise; invalid e-mails are left out and reported."""

from __future__ import annotations

import json
import logging
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shoploop.hooks import RemoteValidationError
from shoploop.jobs import mirror_stream
from shoploop.plugins.files import FilesConfig, FilesConnector
from shoploop.plugins.files._emails import _EMAIL, email_problem
from shoploop.store import Store

MiB = 1 << 20


def connector(directory: Path, **settings: object) -> FilesConnector:
    return FilesConnector("erp", FilesConfig.model_validate({"path": directory, **settings}))


def customer_line(n: int, **fields: object) -> str:
    return json.dumps({"id": f"C{n}", "email": f"c{n}@example.com", **fields}) + "\n"


def test_a_50_mb_line_is_refused_without_being_read_into_memory(tmp_path: Path) -> None:
    path = tmp_path / "customers.jsonl"
    head, tail = '{"id": "C2", "first_name": "', '"}\n'
    with path.open("w") as out:
        out.write(customer_line(1))
        out.write(head)
        for _ in range(50):
            out.write("x" * MiB)
        out.write(tail)
        out.write(customer_line(3))
    files = connector(tmp_path)
    tracemalloc.start()
    try:
        first = files.read_customers()
        assert [c.id for c in first.items] == ["C1"] and first.has_more
        with pytest.raises(RemoteValidationError) as raised:
            files.read_customers(first.cursor)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB, f"peak {peak:,} bytes"
    message = str(raised.value)
    assert f"{path}, line 2" in message
    assert f"{len(head) + 50 * MiB + len(tail):,} bytes long" in message
    assert "max_line_bytes (1,048,576)" in message and "raise max_line_bytes" in message


def test_raising_max_line_bytes_accepts_the_long_line(tmp_path: Path) -> None:
    long_name = "x" * (2 * MiB)
    (tmp_path / "customers.jsonl").write_text(customer_line(1, first_name=long_name))
    with pytest.raises(RemoteValidationError, match="max_line_bytes"):
        connector(tmp_path).read_customers()
    page = connector(tmp_path, max_line_bytes=3 * MiB).read_customers()
    assert page.items[0].first_name == long_name


def test_a_csv_record_longer_than_max_record_bytes_is_refused(tmp_path: Path) -> None:
    # An unclosed quote swallows every following line into one record.
    lines = ["id,email,first_name\n", 'C1,c1@example.com,"unclosed\n']
    lines += [f"C{n},c{n}@example.com,{'y' * 1000}\n" for n in range(2, 2000)]
    (tmp_path / "customers.csv").write_text("".join(lines))
    with pytest.raises(RemoteValidationError) as raised:
        connector(tmp_path, max_record_bytes=64 * 1024).read_customers()
    message = str(raised.value)
    assert "line 2" in message and "max_record_bytes (65,536)" in message
    assert "raise max_record_bytes" in message


def test_a_csv_field_beyond_the_csv_modules_default_cap_is_read(tmp_path: Path) -> None:
    notes = "z" * 200_000  # the csv module alone refuses fields over 131,072 characters
    (tmp_path / "customers.csv").write_text(f'id,email,attr.notes\nC1,c1@example.com,"{notes}"\n')
    assert connector(tmp_path).read_customers().items[0].attributes["notes"] == notes


@pytest.mark.parametrize("key", ["max_line_bytes", "max_record_bytes"])
def test_limits_are_validated_with_the_config(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValidationError, match=key):
        FilesConfig.model_validate({"path": tmp_path, key: 10})


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_invalid_emails_are_left_out_reported_and_counted(tmp_path: Path, fmt: str,
                                                          caplog: pytest.LogCaptureFixture,
                                                          store: Store) -> None:
    emails = ["anna@example.com", "not an address", "bob@@example.com", "jörg@müller.de",
              "eve@localhost"]
    if fmt == "jsonl":
        text = "".join(json.dumps({"id": f"C{n}", "email": e}) + "\n"
                       for n, e in enumerate(emails))
    else:
        text = "id,email\n" + "".join(f"C{n},{e}\n" for n, e in enumerate(emails))
    path = tmp_path / f"customers.{fmt}"
    path.write_text(text, encoding="utf-8")
    first_line = 1 if fmt == "jsonl" else 2
    page = connector(tmp_path).read_customers()
    assert [(c.id, c.email) for c in page.items] == [
        ("C0", "anna@example.com"), ("C1", None), ("C2", None), ("C3", "jörg@müller.de"),
        ("C4", None)]
    assert page.warnings == [
        f"{path}:{first_line + n}: record 'C{n}': the e-mail is not an e-mail address; "
        "kept without it" for n in (1, 2, 4)]
    with caplog.at_level(logging.WARNING, "shoploop.jobs"):
        result = mirror_stream(connector(tmp_path), store, connection="erp", stream="customers")
    assert result.warnings == 3 and result.read == 5
    logged = [r.getMessage() for r in caplog.records if r.name == "shoploop.jobs.mirror"]
    assert logged == [f"[erp] customers: {w}" for w in page.warnings]


@given(st.emails())
def test_every_valid_address_is_accepted(email: str) -> None:
    assert email_problem(email.lower()) is None


@settings(max_examples=400)
@given(st.emails() | st.text(st.sampled_from("aZk9.-_+@!\u0131"), max_size=70)
       | st.builds(lambda local, labels: f"{local}@{'.'.join(labels)}",
                   st.text(st.characters(max_codepoint=127), min_size=0, max_size=66),
                   st.lists(st.text(st.sampled_from("ab0-Z"), max_size=64), max_size=4)))
def test_the_ascii_fast_path_decides_exactly_as_the_full_pattern(email: str) -> None:
    full = _EMAIL.fullmatch(email) is None
    assert (email_problem(email) is not None) == (full or len(email) > 254)


@pytest.mark.parametrize("email", ["", "a", "a@", "@b.de", "a b@c.de", "a@b", "a@b..de",
                                   "a@-b.de", "a@b.de.", "x" * 65 + "@b.de", "a@" + "b" * 64
                                   + ".de", "a@b.de\n", "a,b@c.de"])
def test_what_is_no_address_is_refused(email: str) -> None:
    assert email_problem(email) is not None
