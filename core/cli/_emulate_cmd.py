"""``shoploop emulate NAME``: run a platform emulator registered by a plugin."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import typer

from shoploop.hooks import EmulatorOptions

from ._errors import UsageError
from ._state import State


def _parse_options(pairs: list[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--option expects key=value, got {pair!r}",
                             remedy="pass each emulator option as --option key=value")
        options[key.strip()] = value.strip()
    return options


def register(app: typer.Typer) -> None:
    @app.command("emulate")
    def emulate(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="Emulator name (see `shoploop plugins`)."),
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(0, "--port", help="0: any free port."),
        seed: int = typer.Option(1, "--seed", help="Seed of the demo data served."),
        customers: int = typer.Option(1000, "--customers", min=0),
        faults: float = typer.Option(0.0, "--faults", min=0.0, max=1.0,
                                     help="Share of requests answered with a typical failure."),
        option: list[str] = typer.Option([], "--option", help="Emulator-specific key=value."),
        connection: str | None = typer.Option(None, "--connection",
                                              help="Connection name in the printed block."),
        config_out: Path | None = typer.Option(
            None, "--config-out", help="Write the [connections] block to FILE and the "
                                       "environment to FILE.env."),
    ) -> None:
        """Serve an emulator of a platform on loopback until interrupted (Ctrl-C)."""
        state: State = ctx.obj
        registry = state.host.emulators.emulators
        if name not in registry:
            known = ", ".join(sorted(registry)) or "none installed"
            raise UsageError(f"no emulator named {name!r}",
                             remedy=f"choose one of: {known} (see `shoploop plugins`)")
        options = EmulatorOptions(host=host, port=port, seed=seed, customers=customers,
                                  faults=faults, extra=_parse_options(option))
        emulator = registry[name].factory(options)
        emulator.start()
        block = emulator.connection_block(connection or f"{name}_emulator")
        environment = emulator.environment()
        if config_out is not None:
            config_out.write_text(block, encoding="utf-8")
            env_file = config_out.with_name(config_out.name + ".env")
            env_file.write_text("".join(f"{k}={v}\n" for k, v in environment.items()),
                                encoding="utf-8")
        stop = threading.Event()

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        # Before the URL is printed: a supervisor that reads it may stop us at once, and a
        # SIGTERM before the handler would kill the process instead of stopping it cleanly.
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        # stdout carries the machine-usable parts; one flush so a supervising process sees them.
        print(f"# {name} emulator at {emulator.url} (stats: {emulator.url}/_emulator/stats)")
        print(block.rstrip())
        for key, value in environment.items():
            print(f"# export {key}={value}")
        sys.stdout.flush()
        stop.wait()
        emulator.stop()
