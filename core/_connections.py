"""Building connector instances from configured connections."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from shoploop.hooks import (
    CAPABILITY_PROTOCOLS,
    Capability,
    ConnectionCheck,
    NotSupportedError,
    PluginError,
)

from ._config import Config
from ._registry import ConnectorRegistry


def build_connector(config: Config, name: str, registry: ConnectorRegistry) -> Any:
    """Instantiate the connector for connection ``name`` through its type's factory."""
    connection = config.connections[name]
    ctype = registry.types[connection.type]
    try:
        connector = ctype.factory(name, connection.settings)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(
            f"factory for connector type {ctype.name!r} failed for connection {name!r}: "
            f"{type(exc).__name__}: {exc}", plugin=ctype.plugin, hook="register_connectors",
            remedy="check the connection's settings; if they are right, report it to the "
                   "plugin's authors") from exc
    for capability in ctype.capabilities:
        protocol = CAPABILITY_PROTOCOLS[capability]
        if not isinstance(connector, protocol):
            raise PluginError(
                f"connector type {ctype.name!r} declares {capability.value!r} but its "
                f"connector does not implement {protocol.__name__}",
                plugin=ctype.plugin, hook="register_connectors",
                remedy="implement the protocol's methods or drop the capability")
    return connector


@dataclass
class Connections:
    """Lazily built connectors for a config; ``close()`` releases all of them."""

    config: Config
    registry: ConnectorRegistry
    _built: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = build_connector(self.config, name, self.registry)
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.config.connections)

    def with_capability(self, capability: Capability) -> list[str]:
        return [name for name, c in self.config.connections.items()
                if capability in self.registry.types[c.type].capabilities]

    def close(self) -> None:
        for connector in self._built.values():
            close = getattr(connector, "close", None)
            if callable(close):
                close()
        self._built.clear()

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class UnimplementedConnector:
    """Stand-in for an adapter whose implementation arrives in a later release: the type and
    its config are registered (so configs validate today) but it offers no capability yet."""

    def __init__(self, name: str, settings: Any, *, pending: str) -> None:
        self.name = name
        self.settings = settings
        self.pending = pending

    def check(self) -> ConnectionCheck:
        return ConnectionCheck(reachable=False, authorised=False,
                               detail=f"the adapter is not implemented yet ({self.pending})")

    def close(self) -> None:
        return None

    def __getattr__(self, operation: str) -> Any:
        if operation.startswith(("read_", "write_", "issue_", "find_", "publish_", "parse_")):
            raise NotSupportedError("the adapter is not implemented yet",
                                    connection=self.name, operation=operation)
        raise AttributeError(operation)
