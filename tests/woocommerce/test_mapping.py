"""WordPress meta semantics: a value written and read back compares equal to itself, so a
repeated write is always `unchanged` (hypothesis over every attribute type)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shoploop.plugins.woocommerce._mapping import same_meta, wp_meta_value

values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.text(max_size=8), max_size=4),
)


@given(value=values)
def test_what_wordpress_stores_compares_equal(value: object) -> None:
    stored = wp_meta_value(value)  # type: ignore[arg-type]
    assert same_meta(stored, value)  # type: ignore[arg-type]
    assert same_meta(wp_meta_value(stored), value)  # type: ignore[arg-type]


def test_wordpress_scalars_are_strings() -> None:
    assert [wp_meta_value(v) for v in (True, False, None, 42, 2.0, 0.1 + 0.2, "x")] == [
        "1", "", "", "42", "2", "0.3", "x"]
    assert wp_meta_value(["a", "b"]) == ["a", "b"]
    assert not same_meta("food", "machinery") and not same_meta(["a"], "a")
