"""Recording the hook calls a plugin host makes, for assertions in tests.

Every hook call — through ``PluginHost.call`` or ``host.pm.hook.<name>(...)`` directly — runs
through pluggy's call path, so the recorder is pluggy call monitoring and nothing else; each
call is recorded exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, overload

if TYPE_CHECKING:
    from pluggy import HookImpl

    from shoploop import PluginHost


class HookCall(NamedTuple):
    """One recorded call: unpacks as ``hook, kwargs = call``."""

    hook: str
    kwargs: dict[str, Any]


class HookCallRecorder(Sequence[HookCall]):
    """A read-only, list-like record of the hook calls made through one host.

    Iterate it, index it, compare it with a list of ``(hook, kwargs)`` tuples, or use the
    helpers: ``names()`` (hook names in call order), ``of(hook)`` (the kwargs of each call of
    one hook) and ``clear()``.
    """

    def __init__(self) -> None:
        self._calls: list[HookCall] = []
        self._undo: list[Callable[[], None]] = []

    # -- recording ----------------------------------------------------------------------------

    def attach(self, host: PluginHost) -> None:
        """Start recording the calls made through ``host``; ``detach()`` undoes it."""
        def before(hook_name: str, _impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
            self.record(hook_name, kwargs)

        def after(*_args: object) -> None:
            return None

        undo = host.pm.add_hookcall_monitoring(before, after)
        self._undo.append(undo)

    def detach(self) -> None:
        while self._undo:
            self._undo.pop()()

    def record(self, hook: str, kwargs: Mapping[str, Any]) -> None:
        self._calls.append(HookCall(hook, dict(kwargs)))

    # -- reading ------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Hook names in call order."""
        return [call.hook for call in self._calls]

    def of(self, hook: str) -> list[dict[str, Any]]:
        """The keyword arguments of every call of ``hook``, in call order."""
        return [call.kwargs for call in self._calls if call.hook == hook]

    def clear(self) -> None:
        self._calls.clear()

    @overload
    def __getitem__(self, index: int) -> HookCall: ...

    @overload
    def __getitem__(self, index: slice) -> list[HookCall]: ...

    def __getitem__(self, index: int | slice) -> HookCall | list[HookCall]:
        return self._calls[index]

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[HookCall]:
        return iter(self._calls)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HookCallRecorder):
            return self._calls == other._calls
        if isinstance(other, Sequence):
            return [tuple(call) for call in self._calls] == [tuple(item) for item in other]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like list

    def __repr__(self) -> str:
        return f"HookCallRecorder({self._calls!r})"
