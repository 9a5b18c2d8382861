"""The CLI's one error path: every command's known failure becomes a message and an exit code.

A ``ShoploopError`` carries its own classification (``error_code``, ``exit_code``; see
``shoploop.hooks._errors``), so this module maps nothing by hand: it prints the error and its
remedy on stderr — or, under ``--json``, exactly one JSON document on stdout — and exits with
the error's documented status. ``guard_commands`` wraps every registered command (built-in and
plugin) so no command needs its own ``try``; ``main`` uses ``report`` for what fails before a
command runs (plugin loading, usage errors).
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import Any

import typer
from rich.markup import escape

from shoploop.hooks import ConfigError, ConnectorError, PluginError, ShoploopError

from ._state import console_err, print_json

EXIT_INTERNAL = 1
"""A bug (an exception that is not a ShoploopError): traceback on stderr, exit 1."""


class UsageError(ShoploopError):
    """The command line names something that does not exist (a stream, a run, a file)."""

    error_code = "usage"
    exit_code = 2


class JobFailedError(ShoploopError):
    """A job stopped on something that is not a domain error (a plugin's ``before_sync`` veto
    raising its own exception, a database failure mid-run); the run is recorded as failed."""

    error_code = "job_failed"
    exit_code = 1
    remedy = "Read the message (and the log): it names what stopped the run; then re-run it."


_LABELS = {"config_invalid": "config error", "secret_missing": "config error",
           "plugin_failed": "plugin error", "internal_error": "error"}


def error_document(exc: BaseException) -> dict[str, Any]:
    """What ``--json`` prints for a failed command: ``{"ok": false, "error": {…}}``."""
    if isinstance(exc, ShoploopError):
        error: dict[str, Any] = {"code": exc.error_code, "type": type(exc).__name__,
                                 "message": exc.message, "remedy": exc.remedy,
                                 "exit": exc.exit_code}
        if isinstance(exc, ConfigError):
            error.update(file=exc.file, key=exc.key)
        if isinstance(exc, ConnectorError):
            error.update(connection=exc.connection or None, operation=exc.operation or None)
        if isinstance(exc, PluginError):
            error.update(plugin=exc.plugin, hook=exc.hook)
    else:
        error = {"code": "internal_error", "type": type(exc).__name__,
                 "message": str(exc) or type(exc).__name__,
                 "remedy": "this is a bug in shoploop or a plugin: report it with the "
                           "traceback printed on stderr", "exit": EXIT_INTERNAL}
    return {"ok": False, "error": error}


def report(exc: BaseException, *, as_json: bool) -> int:
    """Print ``exc`` for the operator (stderr) or the machine (one JSON document on stdout);
    returns the exit status."""
    document = error_document(exc)
    if not isinstance(exc, ShoploopError):
        console_err.print(escape("".join(traceback.format_exception(exc))), end="")
    if as_json:
        print_json(document)
    else:
        code = document["error"]["code"]
        label = _LABELS.get(code, code.replace("_", " "))
        console_err.print(f"[bold red]{label}:[/] {escape(str(exc))}")
    return int(document["error"]["exit"])


def guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` with the error path around it; ``--json`` is read from its ``as_json``."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except ShoploopError as exc:
            raise typer.Exit(report(exc, as_json=bool(kwargs.get("as_json")))) from None
        except Exception as exc:
            if not kwargs.get("as_json"):
                raise  # the plain traceback, as for any bug
            raise typer.Exit(report(exc, as_json=True)) from None

    run.__shoploop_guarded__ = True  # type: ignore[attr-defined]
    return run


def guard_commands(app: typer.Typer) -> None:
    """Wrap every command of ``app`` and of its sub-apps (once each) in ``guarded``."""
    for info in app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "__shoploop_guarded__",
                                                     False):
            info.callback = guarded(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            guard_commands(group.typer_instance)
