"""Registries filled by the registration hooks: connector types and field transforms."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from shoploop.hooks import (
    Capability,
    ConnectionConfig,
    ConnectorFactory,
    ConnectorType,
    EmulatorFactory,
    PluginError,
    Transform,
)


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` or the empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class ConnectorRegistry:
    types: dict[str, ConnectorType] = field(default_factory=dict)

    def register(
        self,
        plugin: str,
        name: str,
        *,
        config_model: type[ConnectionConfig],
        factory: ConnectorFactory,
        capabilities: Sequence[Capability] = (),
        description: str = "",
    ) -> None:
        if name in self.types:
            raise PluginError(
                f"connector type {name!r} is already registered by plugin "
                f"{self.types[name].plugin!r}",
                plugin=plugin, hook="register_connectors",
                remedy="rename the type or uninstall one of the two plugins",
            )
        if not (isinstance(config_model, type) and issubclass(config_model, ConnectionConfig)):
            raise PluginError(
                f"config_model for {name!r} must subclass shoploop.hooks.ConnectionConfig",
                plugin=plugin, hook="register_connectors",
            )
        self.types[name] = ConnectorType(
            name=name, config_model=config_model, factory=factory,
            capabilities=frozenset(Capability(c) for c in capabilities),
            description=description, plugin=plugin,
        )

    def get(self, name: str) -> ConnectorType:
        try:
            return self.types[name]
        except KeyError:
            raise KeyError(name) from None


@dataclass(frozen=True)
class RegisteredTransform:
    name: str
    transform: Transform
    description: str
    plugin: str


@dataclass
class TransformRegistry:
    transforms: dict[str, RegisteredTransform] = field(default_factory=dict)

    def register(
        self, plugin: str, name: str, transform: Transform, *, description: str = ""
    ) -> None:
        if name in self.transforms:
            raise PluginError(
                f"transform {name!r} is already registered by plugin "
                f"{self.transforms[name].plugin!r}",
                plugin=plugin, hook="register_transforms",
                remedy="choose another name, e.g. prefixed with your plugin's name",
            )
        if not callable(transform):
            raise PluginError(f"transform {name!r} is not callable", plugin=plugin,
                              hook="register_transforms")
        self.transforms[name] = RegisteredTransform(name, transform, description, plugin)


@dataclass(frozen=True)
class RegisteredEmulator:
    name: str
    factory: EmulatorFactory
    description: str
    plugin: str


@dataclass
class EmulatorRegistry:
    emulators: dict[str, RegisteredEmulator] = field(default_factory=dict)

    def register(
        self, plugin: str, name: str, factory: EmulatorFactory, *, description: str = ""
    ) -> None:
        if name in self.emulators:
            raise PluginError(
                f"emulator {name!r} is already registered by plugin "
                f"{self.emulators[name].plugin!r}",
                plugin=plugin, hook="register_emulators", remedy="choose another name")
        self.emulators[name] = RegisteredEmulator(name, factory, description, plugin)
