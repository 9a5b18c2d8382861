"""Per-invocation CLI state: the plugin host, the config (loaded lazily), the store."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.console import Console

from shoploop._logging import configure_logging
from shoploop._plugins import PluginHost

if TYPE_CHECKING:
    from shoploop._config import Config

console = Console()
console_err = Console(stderr=True)


@dataclass
class State:
    host: PluginHost
    config_path: str | None = None
    logging_from_cli: bool = False
    _config: Config | None = field(default=None, repr=False)

    def configure_logging(self, level: str, fmt: str) -> None:
        """CLI options and SHOPLOOP_LOG_* win; otherwise the config's [logging] applies."""
        self.logging_from_cli = (level, fmt) != ("WARNING", "auto")
        configure_logging(level=level, fmt=fmt)

    def config(self, *, required: bool = True) -> Config:
        """The validated config; raises ConfigError (exit 2) when invalid or missing."""
        if self._config is None:
            from shoploop._config import load_config

            self._config = load_config(self.config_path, self.host.connectors, required=required)
            if not self.logging_from_cli:
                configure_logging(self._config.logging.level, self._config.logging.format)
        return self._config


def print_json(data: Any) -> None:
    """One JSON document on stdout (for ``--json``), nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
