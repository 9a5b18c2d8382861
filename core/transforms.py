"""Built-in field transforms for sync mappings (``transform = "lower"`` in a mapping).

Registered through ``register_transforms`` like any plugin's. A transform is a pure function
``(value, **options) -> value``; ``None`` passes through unchanged so missing fields stay missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from shoploop.hooks import RegisterTransform, Transform, hookimpl


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def map_values(value: Any, *, values: Mapping[str, Any], default: Any = ...) -> Any:
    """Translate codes, e.g. ERP customer groups ``{"10": "retail", "20": "wholesale"}``.
    Without ``default`` an unmapped value passes through unchanged."""
    if value is None:
        return None
    key = str(value)
    if key in values:
        return values[key]
    return value if default is ... else default


def split(value: Any, *, sep: str = ",") -> Any:
    if not isinstance(value, str):
        return value
    return [part.strip() for part in value.split(sep) if part.strip()]


def join(value: Any, *, sep: str = ",") -> Any:
    return sep.join(str(v) for v in value) if isinstance(value, list) else value


_TRUE = {"1", "true", "yes", "y", "ja", "j", "x", "on"}
_FALSE = {"0", "false", "no", "n", "nein", "", "off"}


def to_bool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"cannot read {value!r} as a yes/no value")


def to_date(value: Any, *, format: str | None = None) -> Any:
    """ISO date (or ``format`` for strptime) → ``YYYY-MM-DD`` string."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    parsed = datetime.strptime(text, format) if format else datetime.fromisoformat(text)
    return parsed.date().isoformat()


BUILTIN_TRANSFORMS: dict[str, tuple[Transform, str]] = {
    "strip": (strip, "Remove surrounding whitespace."),
    "lower": (lower, "Lower-case text."),
    "upper": (upper, "Upper-case text."),
    "map": (map_values, "Translate values through a table (options: values, default)."),
    "split": (split, "Split text into a list (option: sep)."),
    "join": (join, "Join a list into text (option: sep)."),
    "bool": (to_bool, "Read yes/no, ja/nein, 1/0, X as a boolean."),
    "date": (to_date, "Normalise a date to YYYY-MM-DD (option: format for strptime)."),
}


@hookimpl
def register_transforms(register: RegisterTransform) -> None:
    for name, (function, description) in BUILTIN_TRANSFORMS.items():
        register(name, function, description=description)
