"""``ProductTable``: the in-memory :class:`~shoploop.hooks.ProductLookup` of one connection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shoploop.hooks import Product


class ProductTable:
    """Products of one connection by external id, held in memory.

    Built from models (tests, embedding) or from the mirror's JSON records (the built model's
    copy); a record becomes a ``Product`` the first time it is asked for, so loading a model
    with 50k products does not validate 50k models up front.
    """

    def __init__(self, connection: str, products: Iterable[Product] = (), *,
                 records: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.connection = connection
        self._records: dict[str, Mapping[str, Any]] = dict(records or {})
        self._products: dict[str, Product] = {}
        for product in products:
            self._products[product.id] = product

    def __repr__(self) -> str:
        return f"ProductTable({self.connection!r}, {len(self)} products)"

    def __len__(self) -> int:
        return len(self._records.keys() | self._products.keys())

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._products or product_id in self._records

    def get(self, product_id: str) -> Product | None:
        product = self._products.get(product_id)
        if product is None and product_id in self._records:
            product = Product.model_validate(self._records[product_id])
            self._products[product_id] = product
        return product

    def many(self, product_ids: Iterable[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        for product_id in product_ids:
            product = self.get(product_id)
            if product is not None:
                found[product_id] = product
        return found
