"""Render the plugin template behind ``shoploop new-plugin NAME``.

The template is the folder ``templates/plugin/`` inside the ``shoploop`` package. Every file in
it ends in ``.tmpl`` (so neither the main project's tools nor setuptools mistake it for code of
the core); rendering drops that suffix, turns a leading ``dot_`` into ``.`` (``dot_gitignore`` →
``.gitignore``) and replaces ``{{placeholder}}`` markers — in file contents and in path names —
with the values of :class:`PluginNames`. There is no template language: a marker that is not a
known placeholder is an error, so a typo in the template cannot reach a generated project.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import asdict, dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from shoploop import __version__

TEMPLATE_SUFFIX = ".tmpl"
DOT_PREFIX = "dot_"
MARKER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")
MAX_NAME_LENGTH = 40
RESERVED_NAMES = frozenset({"files", "shopify", "woocommerce", "erp_soap", "shoploop", "testing",
                            "hooks", "plugins", "core", "test", "tests"})
"""Names a new plugin must not take: the built-in plugins' entry points and connector types,
and names that would shadow shoploop's own packages."""


class PluginNameError(ValueError):
    """The plugin name cannot be used; the message says why and what would work."""


class TargetExistsError(FileExistsError):
    """The output folder exists and is not empty, and ``force`` was not given."""


@dataclass(frozen=True)
class PluginNames:
    """Every spelling of a plugin's name the template needs.

    For ``acme-erp``: name ``acme_erp`` (entry-point name and connector type), name_upper
    ``ACME_ERP`` (environment variables), package
    ``shoploop_acme_erp``, distribution ``shoploop-acme-erp``, class prefix ``AcmeErp``,
    title ``Acme Erp``.
    """

    name: str
    name_upper: str
    package: str
    distribution: str
    class_prefix: str
    title: str
    shoploop_requirement: str

    def placeholders(self) -> dict[str, str]:
        return asdict(self)


def plugin_names(raw: str) -> PluginNames:
    """Validate a plugin name and derive its spellings; raises :class:`PluginNameError`."""
    name = raw.strip()
    if not name:
        raise PluginNameError("the plugin name is empty; give a short name such as 'acme_erp'")
    if name.startswith("shoploop-") or name.startswith("shoploop_"):
        name = name[len("shoploop-"):]
    if len(name) > MAX_NAME_LENGTH:
        raise PluginNameError(
            f"plugin name {raw!r} is longer than {MAX_NAME_LENGTH} characters; choose a shorter one"
        )
    if not NAME_PATTERN.fullmatch(name):
        raise PluginNameError(
            f"plugin name {raw!r} is not usable: use lower-case letters, digits and single '_' "
            "or '-' between them, starting with a letter (for example 'acme_erp' or 'acme-erp')"
        )
    slug = name.replace("-", "_")
    if slug in RESERVED_NAMES or keyword.iskeyword(slug):
        raise PluginNameError(
            f"plugin name {raw!r} is taken by shoploop itself; choose another, for example "
            f"'{slug}_custom' or your company's name"
        )
    parts = slug.split("_")
    major_minor = ".".join(__version__.split(".")[:2])
    return PluginNames(
        name=slug,
        name_upper=slug.upper(),
        package=f"shoploop_{slug}",
        distribution=f"shoploop-{slug.replace('_', '-')}",
        class_prefix="".join(part.capitalize() for part in parts),
        title=" ".join(part.capitalize() for part in parts),
        shoploop_requirement=f"shoploop>={major_minor}",
    )


def render_text(text: str, values: dict[str, str], *, where: str = "<text>") -> str:
    """Replace every ``{{key}}`` marker; an unknown key raises ``KeyError`` naming ``where``."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"{where}: unknown template placeholder {{{{{key}}}}}")
        return values[key]

    return MARKER.sub(substitute, text)


def _target_name(template_name: str, values: dict[str, str], where: str) -> str:
    name = render_text(template_name, values, where=where)
    if name.endswith(TEMPLATE_SUFFIX):
        name = name[: -len(TEMPLATE_SUFFIX)]
    if name.startswith(DOT_PREFIX):
        name = "." + name[len(DOT_PREFIX):]
    return name


def template_root(kind: str = "plugin") -> Traversable:
    """The template folder inside the installed ``shoploop`` package."""
    return files("shoploop").joinpath("templates", kind)


def render_tree(source: Traversable, target: Path, values: dict[str, str]) -> list[Path]:
    """Render every ``*.tmpl`` file below ``source`` into ``target``; returns the files written,
    sorted. Files without the suffix (editor back-ups, ``__pycache__``) are ignored."""
    written: list[Path] = []

    def walk(folder: Traversable, out: Path, rel: str) -> None:
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            where = f"{rel}{entry.name}"
            if entry.is_dir():
                if entry.name == "__pycache__":
                    continue
                walk(entry, out / _target_name(entry.name, values, where), where + "/")
            elif entry.name.endswith(TEMPLATE_SUFFIX):
                path = out / _target_name(entry.name, values, where)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(render_text(entry.read_text(encoding="utf-8"), values,
                                            where=where), encoding="utf-8")
                written.append(path)

    walk(source, target, "")
    return sorted(written)


@dataclass(frozen=True)
class RenderedPlugin:
    names: PluginNames
    root: Path
    files: list[Path]


def render_plugin(name: str, directory: Path | str = ".", *, force: bool = False) -> RenderedPlugin:
    """Create ``<directory>/shoploop-<name>/`` from the plugin template.

    Raises :class:`PluginNameError` for an unusable name and :class:`TargetExistsError` when the
    folder exists and is not empty unless ``force`` is given; with ``force`` the template's files
    are written over the existing ones and other files in the folder are left alone.
    """
    names = plugin_names(name)
    root = Path(directory) / names.distribution
    if root.exists() and not root.is_dir():
        raise TargetExistsError(f"{root} exists and is not a folder; remove it or pick --dir")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise TargetExistsError(
            f"{root} already exists and is not empty; use --force to write the template over it "
            "or --dir to create it elsewhere"
        )
    written = render_tree(template_root("plugin"), root, names.placeholders())
    return RenderedPlugin(names=names, root=root, files=written)


__all__ = [
    "PluginNameError",
    "PluginNames",
    "RenderedPlugin",
    "TargetExistsError",
    "plugin_names",
    "render_plugin",
    "render_text",
    "render_tree",
    "template_root",
]
