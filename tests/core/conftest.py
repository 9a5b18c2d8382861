"""Install fixture plugins from tests/plugins as fake distributions on a sys.path entry."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "plugins"


def make_site(root: Path, plugins: dict[str, str]) -> Path:
    """Create a folder usable as a sys.path entry holding one fake distribution per plugin:
    ``{"entry point name": "module name"}``. The fixture modules are copied next to them."""
    root.mkdir(parents=True, exist_ok=True)
    for entry_name, module in plugins.items():
        (root / f"{module}.py").write_text((FIXTURES / f"{module}.py").read_text())
        # Underscores in the folder name: "-" separates name and version.
        dist = root / f"{module}-1.2.3.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.2.3\n")
        (dist / "entry_points.txt").write_text(f"[shoploop]\n{entry_name} = {module}\n")
    return root


import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def fake_site(tmp_path: Path) -> Callable[..., Path]:
    """``fake_site(name="module", …)`` → a folder with those fixture plugins installed."""
    counter = iter(range(1000))

    def make(**plugins: str) -> Path:
        return make_site(tmp_path / f"site{next(counter)}", plugins)

    return make


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed ``shoploop`` console script in a subprocess (real entry points)."""

    def run(*args: str, site: Path | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith("SHOPLOOP_") or k == "SHOPLOOP_TEST_POSTGRES_URL"}
        environment["PYTHONPATH"] = str(site) if site else ""
        environment["COLUMNS"] = "200"
        environment.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "shoploop", *args], cwd=cwd or tmp_path, env=environment,
            capture_output=True, text=True, timeout=120, check=False)

    return run
