"""The one factory of the ``context`` argument every runtime hook receives.

Every caller — the sync job, ``attributes show``, the demo — builds it here, so a hook sees
the same context whoever calls it: the parsed config file, the run's connections (built
lazily when a plugin asks for one), the store, the shared plugin logger and the caller's now.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from shoploop.hooks import HookContext

from ._config import Config
from ._connections import Connections

PLUGIN_LOGGER = "shoploop.plugin"


class LazyConnectors(Mapping[str, Any]):
    """``HookContext.connectors``: builds a connection's connector when a plugin asks."""

    def __init__(self, connections: Connections) -> None:
        self._connections = connections

    def __getitem__(self, name: str) -> Any:
        return self._connections[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._connections)

    def __len__(self) -> int:
        return len(self._connections.config.connections)

    def __eq__(self, other: object) -> bool:
        # Mapping's __eq__ would build every connector to compare them; the same
        # configuration's connections through the same registry are the same connectors.
        if isinstance(other, LazyConnectors):
            mine, theirs = self._connections, other._connections
            return mine.config == theirs.config and mine.registry is theirs.registry
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like dict


def hook_context(config: Config | None, connections: Connections | None, *, store: Any = None,
                 now: datetime | None = None) -> HookContext:
    """The context of the hooks one caller calls (see the module docstring). A caller without
    a config file or connections (a lookup in a built recommendation model, say) passes None:
    the hooks then see an empty config and no connectors."""
    return HookContext(config=config.raw if config is not None else {},
                       connectors=LazyConnectors(connections) if connections is not None else {},
                       store=store, logger=logging.getLogger(PLUGIN_LOGGER),
                       now=now or datetime.now(UTC))
