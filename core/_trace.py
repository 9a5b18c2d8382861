"""``SHOPLOOP_TRACE_PLUGINS=1``: print every hook call, built on pluggy's call monitoring.

One line per call on stderr (like ``DATASETTE_TRACE_PLUGINS``)::

    shoploop trace: customer_attributes [vip, attributes] (context=HookContext(…), profile=…)
        -> 2 results in 0.41 ms

The plugins are the hook's implementations in call order; the arguments are shortened
(``reprlib``), so a profile with 300 orders stays one line.
"""

from __future__ import annotations

import reprlib
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

import pluggy

PREFIX = "shoploop trace:"

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlevel = 40, 60, 2


def summarise(kwargs: Mapping[str, object]) -> str:
    """``name=short repr`` of each argument."""
    return ", ".join(f"{name}={_short.repr(value)}" for name, value in kwargs.items())


def _outcome(result: pluggy.Result[Any]) -> str:
    if result.exception is not None:
        return f"raised {type(result.exception).__name__}: {result.exception}"
    value = result.get_result()
    if isinstance(value, list):
        return f"{len(value)} result{'s' if len(value) != 1 else ''}"
    return "no result" if value is None else f"result {_short.repr(value)}"


def trace_hook_calls(pm: pluggy.PluginManager, stream: IO[str] | None = None
                     ) -> Callable[[], None]:
    """Print each hook call made through ``pm`` to ``stream`` (default: the current
    ``sys.stderr``); returns the undo function of pluggy's monitoring."""
    local = threading.local()  # hooks are called from the sync's threads too

    def write(text: str) -> None:
        print(text, file=stream if stream is not None else sys.stderr, flush=True)

    def before(hook: str, impls: Sequence[pluggy.HookImpl],
               kwargs: Mapping[str, object]) -> None:
        local.__dict__.setdefault("started", []).append(time.perf_counter())

    def after(result: pluggy.Result[Any], hook: str, impls: Sequence[pluggy.HookImpl],
              kwargs: Mapping[str, object]) -> None:
        took = (time.perf_counter() - local.started.pop()) * 1000
        plugins = ", ".join(impl.plugin_name for impl in reversed(impls))  # call order
        write(f"{PREFIX} {hook} [{plugins}] ({summarise(kwargs)}) -> {_outcome(result)} "
              f"in {took:.2f} ms")

    return pm.add_hookcall_monitoring(before, after)
