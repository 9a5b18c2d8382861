from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoploop import load_plugins
from shoploop.transforms import join, map_values, split, to_bool, to_date


def test_builtin_transforms_register_through_the_hook():
    host = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": "transforms"})
    assert {"strip", "lower", "map", "bool", "date"} <= set(host.transforms.transforms)
    assert host.transforms.transforms["lower"].transform("ABC") == "abc"


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
