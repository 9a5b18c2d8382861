"""Fixtures for the web tests: the app served by a real uvicorn on a loopback socket.

``served(app)`` binds a socket on port 0 *before* uvicorn starts and hands that socket to it:
a client that connects early waits in the listen backlog until uvicorn accepts, so no test
waits (or sleeps) for the server to come up. The server stops when the block ends.

Test modules cannot import each other (``--import-mode=importlib``); they share this file.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from shoploop import load_plugins
from shoploop._config import Config, parse_config
from shoploop._plugins import PluginHost
from shoploop.store import Store


@contextmanager
def _served(app: Any) -> Iterator[str]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture
def served() -> Callable[[Any], AbstractContextManager[str]]:
    """``with served(app) as base_url: ...`` — the app on a real loopback socket."""
    return _served


@pytest.fixture(scope="module")
def served_module() -> Callable[[Any], AbstractContextManager[str]]:
    """``served`` for a module-scoped fixture (one server for a module's tests)."""
    return _served


@pytest.fixture
def web_host() -> PluginHost:
    return load_plugins(strict=True)


def web_config(host: PluginHost, data: dict[str, Any], tmp_path: Path) -> Config:
    """A validated config from a TOML-shaped dict, as ``shoploop`` would load it."""
    return parse_config(data, host.connectors, file=str(tmp_path / "shoploop.toml"),
                        base_dir=tmp_path)


@pytest.fixture
def make_config(web_host: PluginHost, tmp_path: Path) -> Callable[[dict[str, Any]], Config]:
    return lambda data: web_config(web_host, data, tmp_path)


__all__ = ["Store"]
