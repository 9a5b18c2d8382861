"""Builds the Typer app: global options, built-in command modules, plugin commands.

Exit codes (docs/cli.md): 0 ok · 1 some records failed · 2 configuration or usage error (also a
plugin that fails to load in strict mode) · 3 a system unreachable or unauthorised.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import typer
from rich.markup import escape

from shoploop._logging import configure_logging
from shoploop._plugins import PluginHost, load_plugins, strict_from_env
from shoploop.hooks import ConfigError, PluginError

from ._state import State, console_err

# Each module defines ``register(app: typer.Typer) -> None``.
COMMAND_MODULES: tuple[str, ...] = (
    "shoploop.cli._plugins_cmd",
    "shoploop.cli._config_cmd",
    "shoploop.cli._import_cmd",
    "shoploop.cli._demo_cmd",
    "shoploop.cli._emulate_cmd",
    "shoploop.cli._new_plugin_cmd",
    "shoploop.cli._db_cmd",
    "shoploop.cli._demo_data_cmd",
    "shoploop.cli._attributes_cmd",
    "shoploop.cli._sync_cmd",
    "shoploop.cli._privacy_cmd",
    "shoploop.cli._reco_cmd",
)


def build_app(host: PluginHost) -> typer.Typer:
    app = typer.Typer(
        name="shoploop",
        help="Close the customer loop after the sale: recommendations, referral rewards and "
             "customer-attribute sync between ERP and shops.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    state = State(host=host)

    @app.callback()
    def _global(
        ctx: typer.Context,
        config: str | None = typer.Option(
            None, "--config", "-c", envvar="SHOPLOOP_CONFIG",
            help="Config file (default: ./shoploop.toml).",
        ),
        strict: bool = typer.Option(
            False, "--strict", help="Fail when a plugin fails to load or answer a hook "
                                    "(also SHOPLOOP_STRICT_PLUGINS=1).",
        ),
        log_level: str = typer.Option("WARNING", "--log-level", envvar="SHOPLOOP_LOG_LEVEL"),
        log_format: str = typer.Option(
            "auto", "--log-format", envvar="SHOPLOOP_LOG_FORMAT",
            help="auto (readable on a terminal), text or json (one JSON object per line).",
        ),
    ) -> None:
        state.config_path = config
        state.configure_logging(log_level, log_format)
        ctx.obj = state

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)

    host.call("register_commands", cli=app)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    strict = "--strict" in args or strict_from_env()
    # Plugin loading logs before the CLI options are parsed; honour the environment meanwhile.
    configure_logging(os.environ.get("SHOPLOOP_LOG_LEVEL", "WARNING"),
                      os.environ.get("SHOPLOOP_LOG_FORMAT", "auto"))
    try:
        host = load_plugins(strict=strict)
    except PluginError as exc:
        console_err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise SystemExit(2) from None
    app = build_app(host)
    try:
        app(args=args, prog_name="shoploop", standalone_mode=True)
    except ConfigError as exc:
        console_err.print(f"[bold red]config error:[/] {escape(str(exc))}")
        raise SystemExit(2) from None
    except PluginError as exc:
        console_err.print(f"[bold red]plugin error:[/] {escape(str(exc))}")
        raise SystemExit(2) from None


