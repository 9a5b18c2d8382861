"""`shoploop attributes show` end to end on the demo data, and the [attributes] config table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shoploop.attributes import LIFECYCLE_STAGES


def _shoploop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    env.update(NO_COLOR="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "shoploop", *args], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def demo_run(demo_once: tuple[Path, dict[str, Any], str]) -> tuple[Path, dict[str, Any]]:
    """The session's demo (read only here)."""
    return demo_once[0], demo_once[1]


@pytest.fixture(scope="module")
def demo(demo_run: tuple[Path, dict[str, Any]]) -> Path:
    return demo_run[0]


def test_demo_reports_lifecycle_stages(demo_run: tuple[Path, dict[str, Any]]) -> None:
    directory, report = demo_run
    stages = report["insights"]["lifecycle stages"]
    assert set(stages) <= set(LIFECYCLE_STAGES)
    assert {"lead", "loyal"} <= set(stages)
    done = _shoploop("-c", str(directory / "shoploop.toml"), "attributes", "show", "--json",
                     cwd=directory)
    assert done.returncode == 0, done.stderr
    assert sum(stages.values()) == json.loads(done.stdout)["count"]


def test_show_json_on_demo(demo: Path) -> None:
    done = _shoploop("-c", str(demo / "shoploop.toml"), "attributes", "show", "--json",
                     "--limit", "5", cwd=demo)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["count"] == len(data["customers"]) == 5
    for row in data["customers"]:
        attributes = row["attributes"]
        assert attributes["lifecycle_stage"] in LIFECYCLE_STAGES
        assert isinstance(attributes["order_count"], int)
        assert float(attributes["revenue"]) >= 0
    assert any(row["attributes"]["order_count"] > 0 for row in data["customers"])

    one = data["customers"][0]
    done = _shoploop("-c", str(demo / "shoploop.toml"), "attributes", "show", "--json",
                     "--customer", one["email"].upper(), cwd=demo)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["customers"] == [one]


def test_show_table_and_unknown_customer(demo: Path) -> None:
    config = str(demo / "shoploop.toml")
    done = _shoploop("-c", config, "attributes", "show", "--limit", "3", cwd=demo)
    assert done.returncode == 0, done.stderr
    assert "lifecycle_stage" in done.stdout
    missing = _shoploop("-c", config, "attributes", "show", "--customer", "nobody@x.example",
                        cwd=demo)
    assert missing.returncode == 1


def test_invalid_attributes_table_is_a_config_error(demo: Path, tmp_path: Path) -> None:
    config = tmp_path / "shoploop.toml"
    text = (demo / "shoploop.toml").read_text(encoding="utf-8")
    config.write_text(text + "\n[attributes]\nat_risk_after_dayz = 3\n", encoding="utf-8")
    done = _shoploop("-c", str(config), "attributes", "show", cwd=demo)
    assert done.returncode == 2
    assert "at_risk_after_dayz" in done.stderr
