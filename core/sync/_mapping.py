"""The ``[sync]`` table resolved against the configured connections and installed transforms.

``resolve_mapping`` is where a mapping that parses but cannot run is refused: an unknown
master or target, a target that cannot write attributes, a transform no plugin registered,
two attributes written to the same key of one target. Each error names the key path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shoploop.hooks import Capability, ConfigError, Transform

from .._registry import did_you_mean
from ._settings import DERIVED, MatchKey, Policy, SyncSettings
from ._values import as_attribute_value

if TYPE_CHECKING:
    from .._config import Config
    from .._registry import ConnectorRegistry, TransformRegistry

Step = tuple[str, Transform, dict[str, Any]]


class TransformFailed(ValueError):
    """A transform refused a value; the change is recorded as failed, the run goes on."""


@dataclass(frozen=True)
class Rule:
    """One attribute from one master into one target."""

    attribute: str
    master: str
    field: str
    target: str
    key: str
    policy: Policy
    steps: tuple[Step, ...] = ()
    allow_clear: bool = False
    """``allow_clear = true``: empty master values may clear the target's (no field check,
    not counted by the mass-clear guard)."""

    def apply(self, value: Any) -> Any:
        for name, transform, options in self.steps:
            try:
                value = transform(value, **options)
            except Exception as exc:
                raise TransformFailed(
                    f"transform {name!r} of sync.attributes.{self.attribute} refused "
                    f"{value!r}: {exc}") from exc
        return as_attribute_value(value)


@dataclass
class SyncMapping:
    rules: list[Rule]
    match_keys: list[MatchKey]
    link_master: str | None
    link_attribute: str | None
    derived_from: list[str] | None = None
    create_missing: frozenset[str] = frozenset()
    """Targets in which master customers with no match are created."""
    max_clear_share: float = 0.1
    min_mass_clear: int = 10
    """The mass-clear guard (``sync.max_clear_share`` / ``sync.min_mass_clear``)."""

    @property
    def masters(self) -> list[str]:
        return list(dict.fromkeys(rule.master for rule in self.rules))

    @property
    def targets(self) -> list[str]:
        return list(dict.fromkeys(rule.target for rule in self.rules))

    def rules_for(self, master: str, target: str) -> list[Rule]:
        return [r for r in self.rules if r.master == master and r.target == target]

    @property
    def connections(self) -> list[str]:
        """Every connection the run reads customers from (masters and targets)."""
        names = [m for m in self.masters if m != DERIVED] + self.targets
        if self.link_master:
            names.append(self.link_master)
        return list(dict.fromkeys(names))


def _err(key: str, message: str, config: Config, remedy: str = "") -> ConfigError:
    return ConfigError(message, file=str(config.path or "<defaults>"), key=key,
                       remedy=remedy or "fix the [sync] table and run `shoploop config check`")


def _step(name: str | None, options: dict[str, Any], key: str, transforms: TransformRegistry,
          config: Config) -> list[Step]:
    if name is None:
        if options:
            raise _err(f"{key}.options", "options given without a transform", config)
        return []
    if name not in transforms.transforms:
        installed = sorted(transforms.transforms)
        raise _err(f"{key}.transform", f"unknown transform {name!r}"
                   + did_you_mean(name, installed) + f"; installed: {', '.join(installed)}",
                   config, "use a listed transform or install the plugin providing it")
    return [(name, transforms.transforms[name].transform, dict(options))]


def resolve_mapping(config: Config, settings: SyncSettings, connectors: ConnectorRegistry,
                    transforms: TransformRegistry, *, only_from: str | None = None,
                    only_to: Sequence[str] | None = None) -> SyncMapping:
    """Check ``settings`` against ``config`` and the registries; narrow to ``--from``/``--to``."""
    def capabilities(name: str) -> frozenset[Capability]:
        return connectors.types[config.connections[name].type].capabilities

    def known(name: str, key: str) -> None:
        if name not in config.connections:
            raise _err(key, f"no connection named {name!r}"
                       + did_you_mean(name, list(config.connections))
                       + f"; configured: {', '.join(config.connections) or 'none'}", config)

    writers = [n for n in config.connections
               if Capability.WRITE_CUSTOMER_ATTRIBUTES in capabilities(n)]
    if not settings.attributes:
        raise _err("sync.attributes", "no attributes are mapped", config,
                   "add a [sync.attributes.<name>] table with master and targets "
                   "(docs/sync.md)")
    rules: list[Rule] = []
    for attribute, spec in settings.attributes.items():
        base = f"sync.attributes.{attribute}"
        if spec.master != DERIVED:
            known(spec.master, f"{base}.master")
            if Capability.READ_CUSTOMERS not in capabilities(spec.master):
                raise _err(f"{base}.master", f"connection {spec.master!r} cannot read "
                           "customers", config)
        master_steps = _step(spec.transform, spec.options, base, transforms, config)
        targets = spec.targets if spec.targets is not None else {
            name: None for name in writers if name != spec.master}
        for target, target_spec in targets.items():
            key = f"{base}.targets.{target}"
            known(target, key)
            if target == spec.master:
                raise _err(key, "a connection cannot be master and target of one attribute",
                           config)
            if target not in writers:
                raise _err(key, f"connection {target!r} cannot write customer attributes",
                           config)
            steps = list(master_steps)
            target_key = attribute
            if target_spec is not None:
                steps += _step(target_spec.transform, target_spec.options, key, transforms,
                               config)
                target_key = target_spec.key or attribute
            rules.append(Rule(attribute=attribute, master=spec.master,
                              field=spec.field or attribute, target=target, key=target_key,
                              policy=spec.policy, steps=tuple(steps),
                              allow_clear=spec.allow_clear))
    seen: dict[tuple[str, str], str] = {}
    for rule in rules:
        other = seen.setdefault((rule.target, rule.key), rule.attribute)
        if other != rule.attribute:
            raise _err(f"sync.attributes.{rule.attribute}.targets.{rule.target}",
                       f"attributes {other!r} and {rule.attribute!r} both write key "
                       f"{rule.key!r} of {rule.target!r}", config,
                       "give one of them another `key` for this target")
    link_master = settings.link_master
    if link_master is not None:
        known(link_master, "sync.link_master")
    else:
        connection_masters = {r.master for r in rules if r.master != DERIVED}
        if len(connection_masters) == 1:
            link_master = next(iter(connection_masters))
    link_attribute = settings.link_attribute if link_master else None
    if link_attribute:
        # The link value goes into every target of the link master: a mapped attribute
        # written to the same key there would flip it back and forth on every run.
        linked = {r.target for r in rules if r.master == link_master}
        for rule in rules:
            if rule.key == link_attribute and (rule.target in linked
                                               or rule.target == link_master):
                raise _err(f"sync.attributes.{rule.attribute}.targets.{rule.target}",
                           f"writes key {link_attribute!r}, which holds the link to "
                           f"{link_master!r} (sync.link_attribute)", config,
                           "give the attribute another `key`, or change sync.link_attribute")
    for index, name in enumerate(settings.create_missing):
        key = f"sync.create_missing[{index}]"
        known(name, key)
        if Capability.CREATE_CUSTOMERS not in capabilities(name):
            creators = [n for n in config.connections
                        if Capability.CREATE_CUSTOMERS in capabilities(n)]
            raise _err(key, f"connection {name!r} (type {config.connections[name].type!r}) "
                       "cannot create customers; "
                       + (f"these can: {', '.join(creators)}" if creators else
                          "no configured connection can"), config,
                       "remove it; unmatched customers are still reported")
        if not any(r.target == name and r.master != DERIVED for r in rules):
            raise _err(key, f"{name!r} is the target of no attribute mastered by a "
                       "connection, so there is no customer to create there", config,
                       f"add {name!r} to the targets of an attribute, or remove it")
        if "email" not in settings.match_keys:
            raise _err("sync.match_keys", "sync.create_missing needs \"email\" among the "
                       "match keys: a created customer is found again by its e-mail", config,
                       'add "email" to sync.match_keys')
    for index, name in enumerate(settings.derived_from or ()):
        known(name, f"sync.derived_from[{index}]")
    if only_from is not None:
        if only_from != DERIVED:
            known(only_from, "--from")
        rules = [r for r in rules if r.master == only_from]
        if not rules:
            raise _err("--from", f"{only_from!r} is master of no mapped attribute", config)
    if only_to:
        for name in only_to:
            known(name, "--to")
        rules = [r for r in rules if r.target in only_to]
        if not rules:
            raise _err("--to", "no mapped attribute goes to " + ", ".join(only_to), config)
    kept = {r.target for r in rules}
    return SyncMapping(rules=rules, match_keys=list(settings.match_keys),
                       link_master=link_master, link_attribute=link_attribute,
                       derived_from=settings.derived_from,
                       create_missing=frozenset(settings.create_missing) & kept,
                       max_clear_share=settings.max_clear_share,
                       min_mass_clear=settings.min_mass_clear)
