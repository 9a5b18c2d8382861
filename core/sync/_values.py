"""Reading attribute values from mirrored customers and comparing them across systems.

Mirrored customers are handled as their JSON dicts (``Customer.model_dump(mode="json")``):
validating 100k pydantic models per run would cost more than the rest of the planning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shoploop.hooks import AttributeValue

from ._settings import CUSTOMER_FIELDS


def source_value(customer: Mapping[str, Any], field: str) -> Any:
    """The master's value: a customer field (email, kind, …) or one of its attributes."""
    if field in CUSTOMER_FIELDS:
        return customer.get(field)
    attributes = customer.get("attributes") or {}
    return attributes.get(field)


def current_value(customer: Mapping[str, Any], key: str) -> Any:
    """What a target holds under ``key``: its attribute, else a customer field of that name
    (WooCommerce reads ``customer_number`` into the field), else a ``key:value`` tag
    (Shopify's tag attributes)."""
    attributes = customer.get("attributes") or {}
    if key in attributes:
        return attributes[key]
    if key in CUSTOMER_FIELDS and key != "tags":
        return customer.get(key)
    prefix = f"{key}:"
    tagged = [tag[len(prefix):] for tag in customer.get("tags") or () if tag.startswith(prefix)]
    if not tagged:
        return None
    return tagged[0] if len(tagged) == 1 else sorted(tagged)


def canonical(value: Any) -> Any:
    """A form in which equal values of different systems compare equal: WooCommerce keeps
    meta values as text, Shopify as typed metafields, the ERP as element text. Empty text and
    empty lists are 'no value'."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return tuple(sorted(str(canonical(item)) for item in value))
    text = str(value)
    if text in ("True", "False"):
        return text.lower()
    return text


def same(left: Any, right: Any) -> bool:
    return bool(canonical(left) == canonical(right))


def is_empty(value: Any) -> bool:
    return canonical(value) is None


def is_clear(new: Any, old: Any) -> bool:
    """Whether writing ``new`` over ``old`` removes a value the target holds."""
    return is_empty(new) and not is_empty(old)


def as_attribute_value(value: Any) -> AttributeValue:
    """Coerce a transform's result into what ``AttributeChange.new`` accepts."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [str(item) for item in value]
    return str(value)
