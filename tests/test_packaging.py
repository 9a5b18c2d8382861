"""One namespace: core/ → shoploop, hooks/ → shoploop.hooks, plugins/ → shoploop.plugins.

The wheel must hold everything under ``shoploop/`` and nothing as a bare ``core``, ``hooks`` or
``plugins`` package; a fresh virtualenv with a non-editable install must load the built-ins.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAPPING = {"core": "shoploop", "hooks": "shoploop.hooks", "plugins": "shoploop.plugins"}


TEMPLATES = "shoploop.templates"
"""The plugin template: data folders declared as packages (each owns its files)."""


WEB_DATA = ("shoploop.web.templates", "shoploop.web.static")
"""The web pages' templates and stylesheet: data folders (no ``__init__.py``) declared as
packages, so each owns its files."""


def _web_data_folders_on_disk() -> set[str]:
    found = set()
    for package in WEB_DATA:
        root = ROOT / "core" / Path(*package.split(".")[1:])
        found |= {".".join([package, *folder.relative_to(root).parts])
                  for folder in [root, *root.rglob("*")] if folder.is_dir()}
    return found


def _declared_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def _template_folders_on_disk() -> set[str]:
    root = ROOT / "core" / "templates"
    return {".".join([TEMPLATES, *folder.relative_to(root).parts])
            for folder in [root, *root.rglob("*")]
            if folder.is_dir() and folder.name.isidentifier() and all(
                part.isidentifier() for part in folder.relative_to(root).parts)}


def _packages_on_disk() -> set[str]:
    found = set()
    for folder, package in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            if "templates" in rel.parts or "__pycache__" in rel.parts:
                continue
            found.add(".".join([package, *rel.parts]) if rel.parts else package)
    # hooks/ and plugins/ are mapped separately, not as sub-folders of core/
    return found


def test_every_package_folder_is_declared():
    declared = _declared_packages()
    web_data = {p for p in declared if p.startswith(WEB_DATA)}
    assert _web_data_folders_on_disk() == web_data
    assert _packages_on_disk() == {p for p in declared
                                   if not p.startswith(TEMPLATES) and p not in web_data}
    # Every importable-looking template folder too, or setuptools warns about each one.
    assert _template_folders_on_disk() == {p for p in declared if p.startswith(TEMPLATES)}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """The wheel, and everything the build printed (verbose: the backend's warnings too)."""
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps",
                           "--no-build-isolation", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, check=True)
    return next(out.glob("shoploop-*.whl")), done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(built: tuple[Path, str]) -> Path:
    return built[0]


@pytest.mark.slow
def test_the_build_prints_no_setuptools_warnings(built: tuple[Path, str]) -> None:
    # A first `make install` printed ~250 lines of these: data folders seen as undeclared
    # packages, and the deprecated license table.
    _, log = built
    for warning in ("Package would be ignored", "is absent from the `packages` configuration",
                    "as data is deprecated", "deprecated", "SetuptoolsDeprecationWarning"):
        assert warning not in log, [line for line in log.splitlines() if warning in line][:5]


@pytest.mark.slow
def test_wheel_has_one_namespace_and_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert not tops & {"core", "hooks", "plugins", "tests"}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"shoploop"}
    for required in ("shoploop/hooks/__init__.py", "shoploop/plugins/files/__init__.py",
                     "shoploop/py.typed", "shoploop/hooks/py.typed",
                     "shoploop/store/migrations/script.py.mako",
                     "shoploop/templates/plugin/pyproject.toml.tmpl",
                     "shoploop/web/templates/base.html",
                     "shoploop/web/templates/dashboard/login.html",
                     "shoploop/web/static/shoploop.css",
                     "shoploop/web/static/shoploop-widget.js"):
        assert required in names, required
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[shoploop]" in text and "[pytest11]" in text


@pytest.mark.slow
def test_fresh_virtualenv_non_editable_install(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, str(wheel)], check=True, timeout=600)
    done = subprocess.run([str(venv / "bin" / "shoploop"), "plugins", "--json"],
                          capture_output=True, text=True, check=True, cwd=tmp_path)
    data = json.loads(done.stdout)
    assert {"files", "shopify", "woocommerce", "erp_soap"} <= {
        t["name"] for t in data["connector_types"]}
    assert data["failures"] == []
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert not {"core", "hooks", "plugins"} & {p.name for p in site.iterdir()}
    assert (site / "shoploop" / "hooks" / "__init__.py").exists()
    # The pages' templates and stylesheet are installed with the code (package data).
    assert (site / "shoploop" / "web" / "templates" / "dashboard" / "run.html").exists()
    assert (site / "shoploop" / "web" / "static" / "shoploop.css").exists()
