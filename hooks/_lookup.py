"""The product lookup a recommendation hook receives instead of a product list.

Strategies and rules ask for the products they need, by id, when they need them: the core
never fetches a catalogue before any candidate exists. Ids are the *request's connection's*
external ids (a product is ``"4711"`` in one shop and ``"SKU-1"`` in another).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ._models import Product


@runtime_checkable
class ProductLookup(Protocol):
    """Read-only access to the products of one connection (the built model's copy, so a
    lookup never goes to the store or the platform)."""

    connection: str
    """The connection whose ids ``get`` and ``many`` take."""

    def get(self, product_id: str) -> Product | None:
        """The product with this id in ``connection``, or None when there is none."""
        ...

    def many(self, product_ids: Iterable[str]) -> dict[str, Product]:
        """id → product for those of ``product_ids`` that exist (unknown ids are left out)."""
        ...
