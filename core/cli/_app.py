"""Builds the Typer app: global options, built-in command modules, plugin commands.

Exit codes (docs/cli.md): 0 ok · 1 some records failed · 2 configuration or usage error (also a
plugin that fails to load in strict mode, a store without the current schema) · 3 a system
unreachable or unauthorised. Every command runs inside the one error path of ``._errors``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import typer
from typer._click.exceptions import ClickException  # Typer vendors click; no public alias

from shoploop._logging import configure_logging
from shoploop._plugins import PluginHost, load_plugins, strict_from_env
from shoploop.hooks import PluginError, ShoploopError

from ._errors import UsageError, guard_commands, report
from ._state import State

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
    "shoploop.cli._referral_cmd",
    "shoploop.cli._serve_cmd",
    "shoploop.cli._web_cmd",
    "shoploop.cli._webhooks_cmd",
    "shoploop.cli._jobs_cmd",
    "shoploop.cli._experiments_cmd",
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
        # A fresh state per invocation: an embedding (or a test) may run the app many times.
        state = State(host=host, config_path=config)
        state.configure_logging(log_level, log_format)
        ctx.obj = state

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)

    host.call("register_commands", cli=app)
    guard_commands(app)  # plugin commands too: one error path for every command
    return app


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    strict = "--strict" in args or strict_from_env()
    # Plugin loading logs before the CLI options are parsed; honour the environment meanwhile.
    configure_logging(os.environ.get("SHOPLOOP_LOG_LEVEL", "WARNING"),
                      os.environ.get("SHOPLOOP_LOG_FORMAT", "auto"))
    # Before a command runs there is no parsed --json option yet; the word on the line decides.
    as_json = "--json" in args
    try:
        host = load_plugins(strict=strict)
    except PluginError as exc:
        raise SystemExit(report(exc, as_json=as_json)) from None
    app = build_app(host)
    try:
        if not as_json:
            app(args=args, prog_name="shoploop", standalone_mode=True)
            return
        # Not standalone: a usage error (unknown option, missing argument) must become the one
        # JSON document too, instead of Typer's boxed message alone.
        status = app(args=args, prog_name="shoploop", standalone_mode=False)
    except ClickException as exc:
        exc.show()  # the usage line and the message, on stderr
        usage = UsageError(exc.format_message(), remedy="see `shoploop COMMAND --help`")
        raise SystemExit(report(usage, as_json=True)) from None
    except ShoploopError as exc:  # raised outside a command (the global options' callback)
        raise SystemExit(report(exc, as_json=as_json)) from None
    raise SystemExit(status if isinstance(status, int) else 0)


