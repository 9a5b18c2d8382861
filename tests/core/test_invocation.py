"""The CLI's hints name the program that works from here (``.venv/bin/shoploop`` after
``make install``, when ``shoploop`` is not on PATH)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shoploop.cli._invocation import shoploop_command


def _script(folder: Path) -> Path:
    folder.mkdir(parents=True)
    script = folder / "shoploop"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    return script


def test_a_script_not_on_path_is_named_by_its_path_relative_to_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script(tmp_path / ".venv" / "bin")
    monkeypatch.chdir(tmp_path)
    assert shoploop_command(str(script), path="/usr/bin:/bin") == ".venv/bin/shoploop"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert shoploop_command(str(script), path="/usr/bin:/bin") == str(script)


def test_the_script_on_path_is_just_shoploop(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script(tmp_path / "bin")
    monkeypatch.chdir(tmp_path)
    assert shoploop_command(str(script), path=str(script.parent)) == "shoploop"
    # Another shoploop first on PATH is not this one: the hint keeps the path.
    other = _script(tmp_path / "other")
    assert shoploop_command(str(script), path=str(other.parent)) == "bin/shoploop"


def test_python_m_shoploop_is_named_with_its_interpreter(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    command = shoploop_command("/x/shoploop/__main__.py", path="/nonexistent")
    assert command == f"{sys.executable} -m shoploop"


def test_init_prints_the_console_script_it_ran_as(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("shoploop")
    assert script.exists(), "the console script is installed next to the interpreter"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    env.update(PATH="/usr/bin:/bin", COLUMNS="200")
    done = subprocess.run([str(script), "init"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert f"`{script} db upgrade`, then `{script} config check`" in done.stdout
