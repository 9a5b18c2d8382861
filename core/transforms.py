"""Built-in field transforms for sync mappings (``transform = "lower"`` in a mapping).

Registered through ``register_transforms`` like any plugin's. A transform is a pure function
``(value, **options) -> value``; ``None`` passes through unchanged so missing fields stay missing.
A value a transform cannot handle, or a bad option, raises ``ValueError`` naming the transform.

Built-ins: ``strip``, ``lower``, ``upper``, ``map``, ``split``, ``join``, ``bool``, ``date``,
``format``, ``number`` and ``tag``. There is no ``rename`` transform: transforms change values,
not keys. A mapping renames an attribute with the per-target ``key`` (``[sync.attributes.<name>]``
``targets = { shop = { key = "kundengruppe" } }``).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
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


def to_date(value: Any, *, format: str | None = None, output: str | None = None) -> Any:
    """A date, a datetime or text → ``YYYY-MM-DD`` (or ``output``, a strftime format).

    Text is read as ISO 8601 (``2025-12-24``, ``2025-12-24T10:30:00+01:00``, ``…Z``) or with
    ``format`` (strptime, e.g. ``%d.%m.%Y``). A datetime with a time zone keeps the date (and
    time) of its own zone; it is not converted to UTC. ``""`` reads as missing.
    """
    if value is None or value == "":
        return None
    if output is not None and not isinstance(output, str):
        raise ValueError(f"date: option output must be a strftime format, not {output!r}")
    if isinstance(value, date):  # datetime is a date too
        parsed: date = value
    else:
        text = str(value).strip()
        try:
            parsed = datetime.strptime(text, format) if format else datetime.fromisoformat(text)
        except ValueError:
            expected = f"format {format!r}" if format else "an ISO 8601 date"
            raise ValueError(f"date: cannot read {value!r} as a date ({expected})") from None
    if output is None:
        return (parsed.date() if isinstance(parsed, datetime) else parsed).isoformat()
    return parsed.strftime(output)


def format_value(value: Any, *, template: str) -> Any:
    """Fill ``template`` (``str.format``) with the value: ``"KD-{value}"``,
    ``"{value:.2f} EUR"``. The template may only name ``value`` (no attributes or indexes)."""
    if value is None:
        return None
    if not isinstance(template, str):
        raise ValueError(f"format: option template must be text, not {template!r}")
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as error:
        raise ValueError(f"format: invalid template {template!r}: {error}") from None
    other = [name for name in fields if name != "value"]
    if other:
        raise ValueError(f"format: template {template!r} may only use {{value}}, "
                         f"not {{{other[0]}}}")
    try:
        return template.format(value=value)
    except (KeyError, IndexError, ValueError, TypeError) as error:
        hint = " (read text with the number transform first)" if isinstance(value, str) else ""
        raise ValueError(f"format: cannot fill {template!r} with {value!r}: {error}{hint}"
                         ) from None


_DECIMAL_MARKS = (".", ",")


def to_number(value: Any, *, decimal: str = ".", thousands: str | None = None,
              integer: bool = False) -> Any:
    """Read a number from ERP text: ``"1.234,50"`` with ``decimal=","``, ``thousands="."``.

    Returns an ``int`` for a whole number without decimals and a ``float`` otherwise; with
    ``integer=True`` always an ``int`` and a fractional value is an error. A leading sign or a
    trailing minus (``"12,50-"``, as SAP exports) is accepted; ``""`` reads as missing. ``int``
    and ``float`` pass through; a ``Decimal`` (as zeep reads ``xsd:decimal``) is read like text.
    """
    if decimal not in _DECIMAL_MARKS:
        raise ValueError(f'number: option decimal must be "." or ",", not {decimal!r}')
    if thousands is not None and (not isinstance(thousands, str) or len(thousands) != 1
                                  or thousands == decimal or thousands.isdigit()
                                  or thousands in "+-"):
        raise ValueError(f"number: option thousands must be one separator character other "
                         f"than the decimal mark {decimal!r}, not {thousands!r}")
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"number: cannot read {value!r} as a number (a yes/no value)")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"number: {value!r} is not a finite number")
        if integer:
            if not value.is_integer():
                raise ValueError(f"number: {value!r} is not a whole number (option integer)")
            return int(value)
        return value
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        number = _parse_number(value, text, decimal, thousands)
    else:
        raise ValueError(f"number: cannot read {value!r} as a number")
    if not number.is_finite():
        raise ValueError(f"number: {value!r} is not a finite number")
    if number != number.to_integral_value():
        if integer:
            raise ValueError(f"number: {value!r} is not a whole number (option integer)")
        return float(number)
    exponent = number.as_tuple().exponent
    if integer or (isinstance(exponent, int) and exponent >= 0):
        return int(number)
    return float(number)


def _parse_number(value: str, text: str, decimal: str, thousands: str | None) -> Decimal:
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:].lstrip()
    elif text[-1] == "-":
        sign, text = "-", text[:-1].rstrip()
    whole = r"\d+"
    if thousands is not None:
        whole = rf"(?:\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+)"
    pattern = rf"(?:{whole})?(?:{re.escape(decimal)}\d+)?"
    if not text or not re.fullmatch(pattern, text, flags=re.ASCII):
        separators = f"decimal {decimal!r}" + (f", thousands {thousands!r}" if thousands else "")
        raise ValueError(f"number: cannot read {value!r} as a number ({separators})")
    if thousands is not None:
        text = text.replace(thousands, "")
    try:
        return Decimal(sign + text.replace(decimal, "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits and one mark
        raise ValueError(f"number: cannot read {value!r} as a number") from None


def to_tags(value: Any, *, prefix: str = "", values: Mapping[str, Any] | None = None,
            default: str | None = None, when_true: str | None = None) -> Any:
    """Tags from a value, e.g. for a shop's customer tags. Returns a list of tags.

    Without ``values`` the value itself (as text) is the tag; with ``values`` the value is looked
    up (as text, like ``map``) and an unmapped value yields no tag, or ``default`` if given.
    Every tag gets ``prefix``. A yes/no value (``True``/``False``) needs ``when_true``: the tag
    for ``True``; ``False`` yields none. A list yields the tags of its elements, each once.
    Empty text yields no tag.
    """
    if value is None:
        return None
    if not isinstance(prefix, str):
        raise ValueError(f"tag: option prefix must be text, not {prefix!r}")
    tags: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        tag = _tag(item, values=values, default=default, when_true=when_true)
        if tag is not None and prefix + tag not in tags:
            tags.append(prefix + tag)
    return tags


def _tag(item: Any, *, values: Mapping[str, Any] | None, default: str | None,
         when_true: str | None) -> str | None:
    if item is None:
        return None
    if isinstance(item, bool):
        if not when_true:
            raise ValueError(f"tag: a yes/no value ({item!r}) needs the option when_true")
        return when_true if item else None
    if isinstance(item, list | dict | tuple | set):
        raise ValueError(f"tag: cannot make a tag from {item!r}")
    key = str(item).strip()
    if not key:
        return None
    if values is None:
        return key
    tag = values.get(key, default)
    if tag is None or str(tag) == "":
        return None
    return str(tag)


BUILTIN_TRANSFORMS: dict[str, tuple[Transform, str]] = {
    "strip": (strip, "Remove surrounding whitespace."),
    "lower": (lower, "Lower-case text."),
    "upper": (upper, "Upper-case text."),
    "map": (map_values, "Translate values through a table (options: values, default)."),
    "split": (split, "Split text into a list (option: sep)."),
    "join": (join, "Join a list into text (option: sep)."),
    "bool": (to_bool, "Read yes/no, ja/nein, 1/0, X as a boolean."),
    "date": (to_date, "Normalise a date to YYYY-MM-DD (options: format for strptime, "
                      "output for strftime)."),
    "format": (format_value, 'Fill a template with the value, e.g. "KD-{value}" '
                             "(option: template)."),
    "number": (to_number, "Read a number from text like 1.234,50 (options: decimal, "
                          "thousands, integer)."),
    "tag": (to_tags, "Turn a value or list into tags (options: prefix, values, default, "
                     "when_true)."),
}


@hookimpl
def register_transforms(register: RegisterTransform) -> None:
    for name, (function, description) in BUILTIN_TRANSFORMS.items():
        register(name, function, description=description)
