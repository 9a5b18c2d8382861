"""Cross- and upselling recommendations (docs/recommendations.md)."""

from __future__ import annotations

from ._lookup import ProductTable

__all__ = ["ProductTable"]
