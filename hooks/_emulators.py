"""Emulators: a plugin may ship a real server that behaves like its platform.

``shoploop emulate NAME`` starts one; tests and benchmarks start them in-process. The core's
``shoploop.emulation`` offers the plumbing (an HTTP/1.1 server with stats and faults) but any
server that satisfies :class:`Emulator` will do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class EmulatorOptions:
    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""
    seed: int = 1
    customers: int = 1000
    faults: float = 0.0
    """Share of requests (0..1) answered with a platform-typical failure."""
    extra: Mapping[str, str] = field(default_factory=dict)
    """Emulator-specific ``--option key=value`` settings."""


class Emulator(Protocol):
    @property
    def url(self) -> str:
        """Base URL the emulator serves on (read-only: known once the socket is bound)."""
        ...

    def start(self) -> Any:
        """Start serving in a background thread; returns the emulator."""
        ...

    def serve_forever(self) -> None: ...

    def stop(self) -> None: ...

    def connection_block(self, name: str) -> str:
        """The ``[connections.<name>]`` TOML table that connects the adapter to this emulator
        (secrets by ``*_env`` reference)."""
        ...

    def environment(self) -> dict[str, str]:
        """The environment variables the connection block refers to, with their values."""
        ...


EmulatorFactory = Callable[[EmulatorOptions], Emulator]


class RegisterEmulator(Protocol):
    """The ``register`` callable handed to ``register_emulators``."""

    def __call__(self, name: str, factory: EmulatorFactory, *, description: str = "") -> None: ...
