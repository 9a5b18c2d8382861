"""``SHOPLOOP_TRACE_PLUGINS=1``: print every hook call, built on pluggy's call monitoring.

One line per call on stderr (like ``DATASETTE_TRACE_PLUGINS``)::

    shoploop trace: customer_attributes [vip, attributes] (context=HookContext(…), profile=…)
        -> 2 results in 0.41 ms

The plugins are the hook's implementations in call order. Arguments and results are
summarised by type (a model with its ``id``, a list with its length, short scalars as
they are), never printed whole: a context holds the config, whose store URL may carry a
password, and a profile with 300 orders must stay one line.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

import pluggy
from pydantic import BaseModel

PREFIX = "shoploop trace:"


def summary_of(value: object) -> str:
    """A short, secret-free description of one argument or result."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    name = type(value).__name__
    if isinstance(value, BaseModel):
        identity = getattr(value, "id", None) or getattr(value, "run_id", None)
        return f"{name}(id={identity!r})" if isinstance(identity, str) else f"{name}(…)"
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return f"{name}[{len(value)}]"
    return f"{name}(…)"


def summarise(kwargs: Mapping[str, object]) -> str:
    """``name=summary`` of each argument."""
    return ", ".join(f"{name}={summary_of(value)}" for name, value in kwargs.items())


def _outcome(result: pluggy.Result[Any]) -> str:
    if result.exception is not None:
        return f"raised {type(result.exception).__name__}: {result.exception}"
    value = result.get_result()
    if isinstance(value, list):
        return f"{len(value)} result{'s' if len(value) != 1 else ''}"
    return "no result" if value is None else f"result {summary_of(value)}"


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
