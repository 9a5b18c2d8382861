"""The ``context`` argument every runtime hook receives first."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class HookContext:
    """Stable handle on the running shoploop. Fields may be added, never removed.

    ``config`` is the parsed config file with secrets unresolved; ``connectors`` maps connection
    names to connector instances (built lazily by the core); ``store`` is the core's store, or
    ``None`` where a hook runs without one; ``logger`` is the logger to use.
    """

    config: Mapping[str, Any] = field(default_factory=dict)
    connectors: Mapping[str, Any] = field(default_factory=dict)
    store: Any = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("shoploop.plugin"))
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
