"""Plugin loading and isolated hook calls.

Built-in plugins load through the ``shoploop`` entry-point group exactly like third-party ones.
A plugin that fails to import, register or answer a hook is isolated: the failure is logged with
the plugin and hook name and recorded on the host, and everything else keeps working. Strict
mode (``--strict`` / ``SHOPLOOP_STRICT_PLUGINS=1``) turns such failures into a ``PluginError``.

Hooks run through pluggy's own call path (``pm.hook.<name>(…)``, its ``_multicall``), so
pluggy's monitoring — ``add_hookcall_monitoring``, ``SHOPLOOP_TRACE_PLUGINS``, the test
recorder — sees every call. The isolation sits *inside* that path: each implementation is
wrapped when its plugin registers, and the wrapper catches a failure of its own plugin when
the call came through :meth:`PluginHost.call` (a direct ``pm.hook`` call keeps pluggy's
semantics: the first exception propagates).
"""

from __future__ import annotations

import difflib
import importlib.metadata as md
import logging
import os
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from shoploop.hooks import PROJECT_NAME, PluginError, specs

from ._registry import ConnectorRegistry, EmulatorRegistry, TransformRegistry

log = logging.getLogger("shoploop.plugins")

ENV_DISABLE = "SHOPLOOP_DISABLE_PLUGINS"
ENV_LOAD = "SHOPLOOP_LOAD_PLUGINS"
ENV_STRICT = "SHOPLOOP_STRICT_PLUGINS"
ENV_TRACE = "SHOPLOOP_TRACE_PLUGINS"


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    hook: str | None
    error: str

    def __str__(self) -> str:
        where = f"plugin {self.plugin!r}" + (f", hook {self.hook!r}" if self.hook else "")
        return f"{where}: {self.error}"


def _csv_env(environ: Mapping[str, str], name: str) -> set[str] | None:
    if name not in environ:
        return None
    return {part.strip() for part in environ[name].split(",") if part.strip()}


def _flag(environ: Mapping[str, str] | None, name: str) -> bool:
    value = (environ if environ is not None else os.environ).get(name, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def strict_from_env(environ: Mapping[str, str] | None = None) -> bool:
    return _flag(environ, ENV_STRICT)


@dataclass
class _IsolatedCall:
    """One :meth:`PluginHost.call` in progress: whether failures are isolated, and the plugin
    of each non-None result in call order (pluggy returns the results without names)."""

    hook: str
    isolate: bool
    validate: Callable[[Any], Any] | None = None
    """Checks each non-None result where it is returned: an invalid one is that plugin's
    failure and counts as ``None``, so a first-result hook asks the next plugin."""
    plugins: list[str] = field(default_factory=list)


_CALL: ContextVar[_IsolatedCall | None] = ContextVar("shoploop_hook_call", default=None)


def _inert_wrapper(*_args: object, **_kwargs: object) -> Generator[None, object, object]:
    """Stands in for a refused hook wrapper: passes the result through unchanged."""
    return (yield)


@dataclass
class PluginHost:
    """The plugin manager plus what registration produced and what failed."""

    pm: pluggy.PluginManager
    strict: bool = False
    connectors: ConnectorRegistry = field(default_factory=ConnectorRegistry)
    transforms: TransformRegistry = field(default_factory=TransformRegistry)
    emulators: EmulatorRegistry = field(default_factory=EmulatorRegistry)
    failures: list[PluginFailure] = field(default_factory=list)
    distributions: dict[str, md.Distribution | None] = field(default_factory=dict)

    # -- failure handling ---------------------------------------------------------------------

    def fail(self, plugin: str, hook: str | None, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        failure = PluginFailure(plugin, hook, text)
        self.failures.append(failure)
        if self.strict:
            raise PluginError(text, plugin=plugin, hook=hook,
                              remedy="fix or uninstall the plugin, or run without --strict")
        log.warning("%s (plugin isolated; run with --strict to make this an error)", failure)

    # -- registration -------------------------------------------------------------------------

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object (module or instance) and run its registration hooks."""
        registered = self.pm.register(plugin, name=name)
        assert registered is not None, f"plugin {name!r} is blocked or already registered"
        self._isolate(registered)
        self._check_hook_names(registered)
        self._run_registration(registered)
        return registered

    def _isolate(self, plugin_name: str) -> None:
        """Wrap each hook implementation of the plugin so that, in a :meth:`call`, its failure
        is its own (see the module docstring)."""
        plugin = self.pm.get_plugin(plugin_name)
        for caller in self.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin_name == plugin_name and not (impl.hookwrapper or impl.wrapper):
                    # HookImpl.function is pluggy's Final attribute; replacing it once, at
                    # registration, is what keeps the call on pluggy's own path.
                    object.__setattr__(impl, "function", self._isolated(
                        impl.function, plugin_name, caller.name))

    def _isolated(self, function: Callable[..., object], plugin: str, hook: str
                  ) -> Callable[..., object]:
        def isolated(*args: object, **kwargs: object) -> object:
            call = _CALL.get()
            if call is None or call.hook != hook:  # pm.hook.<name>(…): pluggy's semantics
                return function(*args, **kwargs)
            try:
                result = function(*args, **kwargs)
            except Exception as exc:
                if not call.isolate:
                    raise
                self.fail(plugin, hook, exc)
                return None
            if result is not None and call.validate is not None:
                try:
                    result = call.validate(result)
                except ValueError as exc:  # pydantic's ValidationError is a ValueError
                    self.fail(plugin, hook, f"returned an invalid {type(result).__name__} "
                                            f"(the next plugin is asked): {exc}")
                    return None
            if result is not None:
                call.plugins.append(plugin)
            return result

        isolated.__wrapped__ = function  # type: ignore[attr-defined]
        return isolated

    def unregister(self, name: str) -> None:
        """Remove a plugin and everything it registered (connector types, transforms,
        emulators)."""
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        for registry in (self.connectors.types, self.transforms.transforms,
                         self.emulators.emulators):
            for key in [k for k, item in registry.items() if item.plugin == name]:
                del registry[key]

    def _check_hook_names(self, plugin_name: str) -> None:
        """Report implementations of hooks that do not exist (pluggy ``check_pending``)."""
        plugin = self.pm.get_plugin(plugin_name)
        for caller in self.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin_name == plugin_name and (impl.hookwrapper or impl.wrapper):
                    # Isolation is per implementation; a wrapper around all of them would see
                    # (and could swallow or fake) the others' results, so it is refused, and
                    # when not strict made inert rather than run.
                    object.__setattr__(impl, "function", _inert_wrapper)
                    self.fail(plugin_name, caller.name,
                              "hook wrappers are not supported; use tryfirst/trylast to order "
                              "your implementation instead")
            if caller.spec is not None:
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin_name == plugin_name and not impl.optionalhook:
                    hint = difflib.get_close_matches(caller.name, specs.HOOK_NAMES, n=1)
                    self.fail(plugin_name, caller.name,
                              f"implements unknown hook {caller.name!r}"
                              + (f"; did you mean {hint[0]!r}?" if hint else ""))

    def _run_registration(self, plugin_name: str) -> None:
        def connectors(plugin: str) -> Callable[..., None]:
            return lambda name, **kw: self.connectors.register(plugin, name, **kw)

        def transforms(plugin: str) -> Callable[..., None]:
            return lambda name, fn, **kw: self.transforms.register(plugin, name, fn, **kw)

        def emulators(plugin: str) -> Callable[..., None]:
            return lambda name, fn, **kw: self.emulators.register(plugin, name, fn, **kw)

        # Called directly, one plugin at a time: each gets a `register` that names it. These
        # start-up calls are not hook calls of a running shoploop, so monitoring (the trace,
        # the test recorder) sees the runtime hooks only.
        for hook, make_register in (("register_connectors", connectors),
                                    ("register_transforms", transforms),
                                    ("register_emulators", emulators)):
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                if impl.plugin_name != plugin_name:
                    continue
                try:
                    impl.function(register=make_register(plugin_name))
                except Exception as exc:
                    self.fail(plugin_name, hook, exc)

    # -- calling hooks ------------------------------------------------------------------------

    def call(self, hook: str, *, isolate: bool = True, **kwargs: Any) -> list[Any]:
        """Call every implementation of ``hook`` in pluggy's order, each isolated.

        Returns the non-None results in call order, like pluggy; but a raising implementation
        is logged and skipped (or raised when strict) instead of aborting the whole call.
        ``isolate=False`` lets an exception through unchanged (``before_sync`` aborts a run).
        """
        return [result for _, result in self.call_with_names(hook, isolate=isolate, **kwargs)]

    def call_with_names(
        self, hook: str, *, isolate: bool = True, validate: Callable[[Any], Any] | None = None,
        **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """:meth:`call`, each result with the name of the plugin that returned it.

        ``validate(result)`` returns the checked result or raises ``ValueError``; it runs as
        each plugin returns, so on a first-result hook an invalid answer falls through to the
        next plugin (reported as the plugin's failure) instead of ending the call."""
        caller = getattr(self.pm.hook, hook)
        call = _IsolatedCall(hook, isolate, validate)
        token = _CALL.set(call)
        try:
            outcome = caller(**kwargs)
        finally:
            _CALL.reset(token)
        if caller.spec is not None and caller.spec.opts.get("firstresult"):
            outcome = [] if outcome is None else [outcome]
        return list(zip(call.plugins, outcome, strict=True))

    def call_first(self, hook: str, **kwargs: Any) -> Any:
        results = self.call(hook, **kwargs)
        return results[0] if results else None

    # -- introspection ------------------------------------------------------------------------

    def plugin_names(self) -> list[str]:
        return sorted(name for name, plugin in self.pm.list_name_plugin() if plugin is not None)

    def hooks_of(self, plugin_name: str) -> list[str]:
        plugin = self.pm.get_plugin(plugin_name)
        return sorted(c.name for c in self.pm.get_hookcallers(plugin) or [])


def new_host(strict: bool = False) -> PluginHost:
    """A plugin host with the hookspecs and no plugins loaded (tests, embedding)."""
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(specs)
    return PluginHost(pm=pm, strict=strict)


def _entry_points() -> Iterable[md.EntryPoint]:
    return md.entry_points(group=PROJECT_NAME)


def load_plugins(
    *,
    strict: bool | None = None,
    environ: Mapping[str, str] | None = None,
    extra: Sequence[tuple[str, object]] = (),
) -> PluginHost:
    """Load every plugin of the ``shoploop`` entry-point group, honouring the environment:

    ``SHOPLOOP_DISABLE_PLUGINS=a,b`` blocks plugins before they are imported;
    ``SHOPLOOP_LOAD_PLUGINS=a,b`` loads only those (empty: load none);
    ``SHOPLOOP_STRICT_PLUGINS=1`` (or ``strict=True``) makes any plugin failure an error;
    ``SHOPLOOP_TRACE_PLUGINS=1`` prints every hook call to stderr (:mod:`._trace`).
    """
    env = environ if environ is not None else os.environ
    host = new_host(strict=strict_from_env(env) if strict is None else strict)
    if _flag(env, ENV_TRACE):
        from ._trace import trace_hook_calls

        trace_hook_calls(host.pm)
    disabled = _csv_env(env, ENV_DISABLE) or set()
    allowed = _csv_env(env, ENV_LOAD)
    seen: set[str] = set()
    for ep in _entry_points():
        if ep.name in seen:  # the same distribution visible twice on sys.path
            continue
        seen.add(ep.name)
        if ep.name in disabled or (allowed is not None and ep.name not in allowed):
            host.pm.set_blocked(ep.name)
            continue
        try:
            module: ModuleType | object = ep.load()
        except Exception as exc:
            host.fail(ep.name, None, f"failed to import {ep.value}: {type(exc).__name__}: {exc}")
            continue
        host.distributions[ep.name] = ep.dist
        try:
            host.register(module, name=ep.name)
        except PluginError:
            raise
        except Exception as exc:
            host.fail(ep.name, None, f"failed to register: {type(exc).__name__}: {exc}")
    for name, plugin in extra:
        host.register(plugin, name=name)
    return host
