"""shoploop — close the customer loop after the sale.

The public API of the core; plugins should need only :mod:`shoploop.hooks`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._plugins import PluginFailure, PluginHost, load_plugins, new_host

try:
    __version__ = version("shoploop")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["PluginFailure", "PluginHost", "__version__", "load_plugins", "new_host"]
