from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoploop import load_plugins
from shoploop.transforms import (
    BUILTIN_TRANSFORMS,
    format_value,
    join,
    map_values,
    split,
    to_bool,
    to_date,
    to_number,
    to_tags,
)


def test_builtin_transforms_register_through_the_hook():
    host = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "transforms"})
    assert {"strip", "lower", "map", "bool", "date"} <= set(host.transforms.transforms)
    assert host.transforms.transforms["lower"].transform("ABC") == "abc"
    assert set(BUILTIN_TRANSFORMS) <= set(host.transforms.transforms)
    registered = host.transforms.transforms["number"]
    assert registered.transform("1.234,5", decimal=",", thousands=".") == 1234.5
    assert "thousands" in registered.description


def test_there_is_no_rename_transform_the_target_key_renames():
    assert "rename" not in BUILTIN_TRANSFORMS


def test_map_translates_codes_and_passes_unknown_through():
    table = {"10": "retail", "20": "wholesale"}
    assert map_values(10, values=table) == "retail"
    assert map_values("99", values=table) == "99"
    assert map_values("99", values=table, default=None) is None


@pytest.mark.parametrize(("raw", "expected"), [("Ja", True), ("X", True), ("nein", False),
                                               ("", False), (None, None), (True, True)])
def test_bool(raw, expected):
    assert to_bool(raw) is expected


def test_bool_rejects_garbage_clearly():
    with pytest.raises(ValueError, match="yes/no"):
        to_bool("vielleicht")


def test_date_formats():
    assert to_date("24.12.2025", format="%d.%m.%Y") == "2025-12-24"
    assert to_date(date(2025, 1, 2)) == "2025-01-02"


@given(st.lists(st.text(alphabet="abcdef ", min_size=1).map(str.strip).filter(bool), max_size=5))
def test_split_inverts_join(items):
    assert split(join(items, sep=";"), sep=";") == items


def test_date_output_format_and_time_zones():
    assert to_date("24.12.2025", format="%d.%m.%Y", output="%Y%m%d") == "20251224"
    assert to_date("2025-12-24", output="%d.%m.%Y") == "24.12.2025"
    # The date of the value's own zone, not of UTC (23:30 at +01:00 is the 24th there).
    assert to_date("2025-12-24T23:30:00+01:00") == "2025-12-24"
    assert to_date("2025-12-24T10:00:00Z", output="%H:%M %z") == "10:00 +0000"
    aware = datetime(2025, 1, 2, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert to_date(aware) == "2025-01-02"
    assert to_date(aware, output="%Y-%m-%dT%H:%M%z") == "2025-01-02T23:00-0500"
    assert to_date("") is None
    assert to_date(None, output="%d.%m.%Y") is None


def test_date_rejects_unreadable_text_naming_the_format():
    with pytest.raises(ValueError, match=r"date: cannot read '24\.12\.2025'.*ISO"):
        to_date("24.12.2025")
    with pytest.raises(ValueError, match=r"date: .*format '%Y-%m-%d'"):
        to_date("24.12.2025", format="%Y-%m-%d")
    with pytest.raises(ValueError, match="date: option output"):
        to_date("2025-12-24", output=42)


@given(st.datetimes(min_value=datetime(1000, 1, 1),  # glibc's %Y does not pad years < 1000
                    timezones=st.timezones() | st.none()))
def test_date_keeps_the_calendar_day_of_the_value(moment):
    assert to_date(moment.isoformat()) == moment.date().isoformat()
    assert to_date(moment, output="%Y-%m-%d") == moment.date().isoformat()


# --- format ----------------------------------------------------------------------------------

def test_format_fills_the_template():
    assert format_value(12.5, template="{value:.2f} EUR") == "12.50 EUR"
    assert format_value("10042", template="KD-{value}") == "KD-10042"
    assert format_value(7, template="{value:05d}") == "00007"
    assert format_value(None, template="KD-{value}") is None


@pytest.mark.parametrize("template", ["KD-{number}", "{}", "{0}", "{value.real}", "{value[0]}"])
def test_format_rejects_templates_naming_anything_but_value(template):
    with pytest.raises(ValueError, match=r"format: template .* may only use \{value\}"):
        format_value(12, template=template)


def test_format_reports_a_template_that_does_not_fit_the_value():
    with pytest.raises(ValueError, match=r"format: cannot fill .*'abc'.*number transform"):
        format_value("abc", template="{value:.2f}")
    with pytest.raises(ValueError, match="format: invalid template"):
        format_value(1, template="KD-{value")


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=20))
def test_format_passes_none_through_and_keeps_literal_text(literal):
    assert format_value(None, template=literal + "{value}") is None
    assert format_value("x", template=literal + "{value}") == literal + "x"


# --- number ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "options", "expected"), [
    ("1.234,50", {"decimal": ",", "thousands": "."}, 1234.5),
    ("1.234", {"decimal": ",", "thousands": "."}, 1234),
    ("1234,5", {"decimal": ","}, 1234.5),
    (" -0,75 ", {"decimal": ","}, -0.75),
    ("12,50-", {"decimal": ","}, -12.5),
    ("1,234,567.25", {"thousands": ","}, 1234567.25),
    ("1 000", {"thousands": " "}, 1000),
    ("+42", {}, 42),
    (".5", {}, 0.5),
    ("3,00", {"decimal": ",", "integer": True}, 3),
    (7, {"integer": True}, 7),
    (2.5, {}, 2.5),
    (4.0, {"integer": True}, 4),
    (Decimal("19.90"), {}, 19.9),
    (Decimal("20"), {}, 20),
    ("", {}, None),
    ("   ", {"decimal": ","}, None),
    (None, {}, None),
])
def test_number_reads_erp_text(raw, options, expected):
    result = to_number(raw, **options)
    assert result == expected
    assert type(result) is type(expected)


def test_number_keeps_decimals_as_float_and_whole_numbers_as_int():
    assert type(to_number("3,00", decimal=",")) is float
    assert type(to_number("3", decimal=",")) is int


@pytest.mark.parametrize(("raw", "options", "message"), [
    ("1.23", {"decimal": ",", "thousands": "."}, r"cannot read '1\.23'.*thousands '\.'"),
    ("1,234.5", {}, r"cannot read '1,234\.5'"),
    ("12a", {}, "cannot read '12a'"),
    ("1,5", {"decimal": ",", "integer": True}, "not a whole number"),
    (2.5, {"integer": True}, "not a whole number"),
    ("-", {}, "cannot read '-'"),
    ("-5-", {}, "cannot read '-5-'"),
    (True, {}, "yes/no"),
    (float("nan"), {}, "not a finite number"),
    (Decimal("Infinity"), {}, "not a finite number"),
    ([1], {}, r"cannot read \[1\]"),
    ("1", {"decimal": ";"}, "option decimal"),
    ("1", {"decimal": ",", "thousands": ","}, "option thousands"),
    ("1", {"thousands": "1"}, "option thousands"),
])
def test_number_rejects_bad_values_and_options_clearly(raw, options, message):
    with pytest.raises(ValueError, match=f"number: .*{message}"):
        to_number(raw, **options)


def _german(amount: Decimal) -> str:
    english = f"{amount:,.2f}"  # 1,234,567.89
    return english.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


@given(st.decimals(min_value=-10**12, max_value=10**12, places=2,
                   allow_nan=False, allow_infinity=False))
def test_number_round_trips_german_formatted_decimals(amount):
    assert to_number(_german(amount), decimal=",", thousands=".") == float(amount)


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_number_round_trips_grouped_integers(whole):
    text = f"{whole:,}".replace(",", ".")
    result = to_number(text, decimal=",", thousands=".", integer=True)
    assert result == whole
    assert type(result) is int


# --- tag -------------------------------------------------------------------------------------

def test_tag_from_a_value():
    assert to_tags("retail") == ["retail"]
    assert to_tags("retail", prefix="group:") == ["group:retail"]
    assert to_tags(10, values={"10": "retail", "20": "wholesale"}) == ["retail"]
    assert to_tags("99", values={"10": "retail"}) == []
    assert to_tags("99", values={"10": "retail"}, default="other") == ["other"]
    assert to_tags("", prefix="x:") == []
    assert to_tags(None, prefix="x:") is None


def test_tag_from_yes_no_values():
    assert to_tags(True, when_true="newsletter") == ["newsletter"]
    assert to_tags(False, when_true="newsletter") == []
    assert to_tags(True, prefix="erp:", when_true="vip") == ["erp:vip"]
    with pytest.raises(ValueError, match=r"tag: .*True.*when_true"):
        to_tags(True)


def test_tag_from_a_list_maps_each_element_once():
    table = {"A": "key-account", "B": "wholesale", "C": "wholesale"}
    assert to_tags(["A", "B", "C", "Z"], values=table, prefix="seg:") == [
        "seg:key-account", "seg:wholesale"]
    assert to_tags([]) == []
    with pytest.raises(ValueError, match=r"tag: cannot make a tag from \['a'\]"):
        to_tags([["a"]])
    with pytest.raises(ValueError, match="tag: option prefix"):
        to_tags("a", prefix=1)


_words = st.text(alphabet="abcxyz-", min_size=1, max_size=6)


@given(st.lists(_words, max_size=8), st.sampled_from(["", "erp:"]))
def test_tag_over_a_list_is_the_union_of_its_elements_tags(items, prefix):
    tags = to_tags(items, prefix=prefix)
    assert len(tags) == len(set(tags))
    expected: list[str] = []
    for item in items:
        for tag in to_tags(item, prefix=prefix):
            if tag not in expected:
                expected.append(tag)
    assert tags == expected
    assert all(tag.startswith(prefix) for tag in tags)


@given(st.lists(_words, max_size=8), st.dictionaries(_words, _words, max_size=4))
def test_tag_with_a_table_yields_only_mapped_tags(items, table):
    tags = to_tags(items, values=table)
    assert set(tags) == {table[item] for item in items if item in table}


# --- the reference in docs/configuration.md ----------------------------------------------------

_DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
_ROW = re.compile(r"^\| `(\w+)` \| .* \| `options = (\{.*\})`: `(.+)` → `(.+)` \|$", re.MULTILINE)


def _toml_value(literal: str) -> Any:
    return tomllib.loads(f"v = {literal}")["v"]


def _documented_examples() -> list[tuple[str, str, str, str]]:
    section = _DOC.read_text(encoding="utf-8").split("## Transforms", 1)[1].split("\n## ", 1)[0]
    return _ROW.findall(section)


def test_the_docs_list_every_builtin_transform_once():
    names = [name for name, *_ in _documented_examples()]
    assert sorted(names) == sorted(BUILTIN_TRANSFORMS)


@pytest.mark.parametrize(("name", "options", "value", "result"), _documented_examples())
def test_documented_examples_hold(name, options, value, result):
    transform = BUILTIN_TRANSFORMS[name][0]
    assert transform(_toml_value(value), **_toml_value(options)) == _toml_value(result)
