"""Shopify's version calendar (quarterly releases, 12 months of support), the config warning
for an expired ``api_version``, and the fall-forward as the emulator serves it and the client
notices it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoploop.plugins.shopify import ShopifyConfig, ShopifyConnector
from shoploop.plugins.shopify._config import DEFAULT_API_VERSION
from shoploop.plugins.shopify._versions import (
    is_supported,
    newest_stable,
    oldest_supported,
    release_date,
    served_version,
    support_ends,
    version_warning,
)
from shoploop.plugins.shopify.emulator import ShopifyEmulator

TODAY = date(2026, 12, 3)


def _config(version: str) -> ShopifyConfig:
    return ShopifyConfig.model_validate({"type": "shopify", "shop": "a.myshopify.com",
                                         "api_version": version})


def test_the_calendar_on_a_fixed_day() -> None:
    assert (newest_stable(TODAY), oldest_supported(TODAY)) == ("2026-10", "2026-01")
    assert support_ends("2025-10") == date(2026, 10, 1)
    assert not is_supported("2025-10", TODAY) and is_supported("2026-01", TODAY)
    assert not is_supported("2027-01", TODAY)  # a release candidate on that day
    assert not is_supported("unstable", TODAY)
    # The day a version is released its predecessor four quarters back loses support.
    assert oldest_supported(date(2026, 10, 1)) == "2026-01"
    assert oldest_supported(date(2026, 9, 30)) == "2025-10"


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2100, 12, 31)))
def test_newest_and_oldest_supported_bracket_the_supported_versions(day: date) -> None:
    newest, oldest = newest_stable(day), oldest_supported(day)
    assert is_supported(newest, day) and is_supported(oldest, day)
    before = release_date(oldest) - timedelta(days=1)
    assert not is_supported(newest_stable(before), day)  # the quarter before the oldest
    assert served_version(newest_stable(before), day) == oldest
    assert release_date(newest) <= day < support_ends(oldest)


def test_the_default_version_is_supported_today() -> None:
    assert is_supported(DEFAULT_API_VERSION, TODAY)
    assert _config(DEFAULT_API_VERSION).config_warnings(TODAY) == []
    assert ShopifyConfig.model_validate(
        {"type": "shopify", "shop": "a.myshopify.com"}).api_version == DEFAULT_API_VERSION


def test_config_warns_for_an_expired_version_and_names_the_one_to_set() -> None:
    [warning] = _config("2025-10").config_warnings(TODAY)
    assert "past Shopify's support" in warning and 'set api_version = "2026-10"' in warning
    assert "2026-01" in warning  # what Shopify answers it with now
    assert _config("2026-01").config_warnings(TODAY) == []
    assert _config("2026-01").config_warnings(date(2027, 1, 1)) != []


def test_unstable_and_release_candidates_warn_without_being_called_expired() -> None:
    [unstable] = _config("unstable").config_warnings(TODAY)
    assert "development version" in unstable and '"2026-10"' in unstable
    [candidate] = _config("2027-01").config_warnings(TODAY)
    assert "release candidate" in candidate
    assert version_warning("2027-01", date(2027, 1, 1)) is None


def test_config_check_warns_offline_and_stays_green(tmp_path: Path) -> None:
    # 2024-01 ended support on 2025-01-01: expired whatever day the test runs.
    (tmp_path / "shoploop.toml").write_text(
        '[connections.shop]\ntype = "shopify"\nshop = "a.myshopify.com"\n'
        'api_version = "2024-01"\n', encoding="utf-8")

    def shoploop(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "shoploop", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)

    assert shoploop("db", "upgrade").returncode == 0  # config check checks the store too
    done = shoploop("config", "check", "--offline", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    [warning] = json.loads(done.stdout)["connections"]["shop"]["warnings"]
    assert '"2024-01" is past' in warning and "set api_version" in warning


def test_emulator_serves_an_expired_version_with_the_oldest_supported_one(
        start_emulator: Callable[..., ShopifyEmulator],
        connect: Callable[..., ShopifyConnector], caplog: pytest.LogCaptureFixture) -> None:
    emulator = start_emulator(today=TODAY.isoformat())
    expired = connect(emulator, api_version="2025-10")
    with caplog.at_level(logging.WARNING, logger="shoploop.plugins.shopify"):
        assert expired.check().authorised
        expired.read_customers()
    assert emulator.versions[("2025-10", "2026-01")] == 2
    assert emulator.stats.get("version_fallbacks") == 2
    assert expired.client.served_version == "2026-01"
    warnings = [r for r in caplog.records if "answered by 2026-01" in r.getMessage()]
    assert len(warnings) == 1  # once per client, not per request

    current = connect(emulator, api_version=DEFAULT_API_VERSION)
    assert current.check().authorised
    assert emulator.versions[(DEFAULT_API_VERSION, DEFAULT_API_VERSION)] == 1
    assert current.client.served_version == DEFAULT_API_VERSION
    assert emulator.stats.get("version_fallbacks") == 2
