from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shoploop.experiments import ExperimentSettings, assign


def _settings(shares: tuple[float, ...] = (0.5, 0.5)) -> ExperimentSettings:
    return ExperimentSettings.model_validate(
        {"variants": [{"name": f"v{i}", "share": s} for i, s in enumerate(shares)]})


def test_uniform_within_one_percent_over_100k_units() -> None:
    settings = _settings((0.5, 0.3, 0.2))
    counts = Counter(assign("exp", settings, f"unit-{i}") for i in range(100_000))
    for name, share in (("v0", 0.5), ("v1", 0.3), ("v2", 0.2)):
        assert abs(counts[name] / 100_000 - share) < 0.01


@given(st.text(min_size=1, max_size=40))
def test_assignment_is_sticky(unit: str) -> None:
    settings = _settings()
    assert assign("exp", settings, unit) == assign("exp", _settings(), unit)


def test_shares_must_sum_to_one() -> None:
    with pytest.raises(ValidationError, match="sum to 1"):
        _settings((0.5, 0.6))


def test_variant_names_unique() -> None:
    with pytest.raises(ValidationError, match="unique"):
        ExperimentSettings.model_validate(
            {"variants": [{"name": "a", "share": 0.5}, {"name": "a", "share": 0.5}]})
