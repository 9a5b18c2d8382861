"""What the writing and reward mixins need from the connector: named SOAP calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ._mapping import ErpMapping


class SoapCalls:
    """Base of the connector's mixins; ``ErpSoapConnector`` implements the two calls."""

    name: str
    mapping: ErpMapping

    def _call(self, target: Any, operation: str, kwargs: dict[str, Any], *, reads: bool,
              concurrency: str | None = None) -> Any:
        raise NotImplementedError

    def _read_call(self, mapping: Any, bookmark: str | None, since: datetime | None, size: int,
                   filters: Sequence[tuple[str, str]]) -> list[Any]:
        raise NotImplementedError
