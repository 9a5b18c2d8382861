"""Fixtures of the experiment tests."""

from __future__ import annotations

import pytest

K_TEST = """
[experiments.k_test]
unit = "customer"
placements = ["product_page"]
baseline_rate = 0.05
minimum_detectable_effect = 0.2
start = 2026-12-01T00:00:00Z
[[experiments.k_test.variants]]
name = "control"
share = 0.5
[[experiments.k_test.variants]]
name = "k8"
share = 0.5
k = 8
"""


@pytest.fixture
def k_test_toml() -> str:
    """``[experiments.k_test]``: a customer experiment on the product page from 2026-12-01,
    control against 8 items, planned from a 5 % baseline and +20 %."""
    return K_TEST
