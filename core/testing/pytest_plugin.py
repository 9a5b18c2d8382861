"""shoploop's pytest plugin, loaded automatically through the ``pytest11`` entry point.

Fixtures for testing plugins against a plugin host that is *isolated from the environment*:
no plugin installed in the virtualenv (built-in or third-party) is loaded, so a test sees
exactly the plugins it registers itself.

``shoploop_host``
    A fresh :class:`shoploop.PluginHost` (``shoploop.new_host()``): hookspecs, no plugins.
    Not strict: a failing plugin is recorded in ``shoploop_host.failures`` and logged, as in
    production. Set ``shoploop_host.strict = True`` to make such failures raise instead.
``register_plugin``
    ``register_plugin(plugin, name=None) -> name`` registers a module or object for this test
    only and runs its registration hooks (``register_connectors``, ``register_transforms``, …), so
    its connector types appear in ``shoploop_host.connectors.types``. Unregistered at teardown.
``hook_calls``
    A :class:`~shoploop.testing.HookCallRecorder`: a list-like of ``(hook_name, kwargs)``
    entries for every hook called through ``shoploop_host`` while the test runs.

The module imports nothing from shoploop at import time: pytest loads it in every session of
every project installed next to shoploop, and a plugin must not slow down or break those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from shoploop import PluginHost

    from ._recorder import HookCallRecorder

RegisterPlugin = Callable[..., str]
"""``register_plugin(plugin: object, name: str | None = None) -> str``."""


@pytest.fixture
def shoploop_host() -> PluginHost:
    """A plugin host with shoploop's hookspecs and no installed plugins loaded."""
    from shoploop import new_host

    return new_host()


@pytest.fixture
def register_plugin(shoploop_host: PluginHost) -> Iterator[RegisterPlugin]:
    """Register a plugin on ``shoploop_host`` for the duration of one test."""
    registered: list[str] = []

    def register(plugin: object, name: str | None = None) -> str:
        plugin_name = shoploop_host.register(plugin, name=name)
        registered.append(plugin_name)
        return plugin_name

    yield register

    for plugin_name in reversed(registered):
        shoploop_host.unregister(plugin_name)


@pytest.fixture
def hook_calls(shoploop_host: PluginHost) -> Iterator[HookCallRecorder]:
    """Every hook called through ``shoploop_host`` during the test, as ``(hook, kwargs)``."""
    from ._recorder import HookCallRecorder

    recorder = HookCallRecorder()
    recorder.attach(shoploop_host)
    yield recorder
    recorder.detach()
