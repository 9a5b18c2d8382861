"""The README's five-minute tour works when pasted into a shell (after `make install`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_lines() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## A five-minute tour", 1)[1]
    block = section.split("```bash\n", 1)[1].split("\n```", 1)[0]
    return block.splitlines()


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    lines = tour_lines()
    # The first two lines install and pick a scratch folder: the test has both already.
    assert lines[0].startswith("make install && . .venv/bin/activate")
    assert lines[1].startswith('cd "$(mktemp -d)"')
    script = tmp_path / "tour.sh"
    # The trap stops the tour's background emulator even when a line fails.
    script.write_text("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"
                      + "\n".join(lines[2:]) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    # What `. .venv/bin/activate` does for the commands: this interpreter's scripts first.
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin", COLUMNS="120")
    done = subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "[connections.shopify_emulator]" in (tmp_path / "shoploop.toml").read_text()
    assert "dry run: nothing written" in done.stdout
    assert "Traceback" not in done.stderr
    assert (tmp_path / "shoploop-acme" / "pyproject.toml").exists()
