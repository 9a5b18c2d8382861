"""Loading and validating ``shoploop.toml``.

Top level: ``[store]``, ``[logging]`` and ``[connections.<name>]`` tables. Each connection is
validated by the config model its connector type registered. Every problem becomes a
``ConfigError`` naming the file, the key path (``connections.shop.url``) and what is expected;
the CLI turns it into exit status 2 without a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shoploop.hooks import Capability, ConfigError, ConnectionConfig

from ._jobs_settings import JobsSettings, ScheduleSettings, check_jobs
from ._privacy_settings import PrivacySettings
from ._registry import ConnectorRegistry, did_you_mean
from .attributes._settings import AttributeSettings
from .experiments._settings import ExperimentSettings, experiment_problems
from .reco._settings import RecoSettings
from .referral._settings import ReferralSettings, reward_kind_problems
from .sync._settings import SyncSettings
from .web._settings import WebSettings

DEFAULT_CONFIG_NAME = "shoploop.toml"
ENV_CONFIG = "SHOPLOOP_CONFIG"
CONNECTION_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file.")


class LoggingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    format: Literal["auto", "text", "json"] = "auto"


class _TopLevel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store: StoreSettings = Field(default_factory=StoreSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    connections: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Thresholds of the built-in derived attributes (docs/attributes.md), validated here so a
    # typo fails `config check` naming the key; the plugin reads them from the raw mapping
    # (``context.config``), the one way a plugin sees the config.
    attributes: AttributeSettings = Field(default_factory=AttributeSettings)
    # The sync mapping (docs/sync.md), kept as ``Config.sync``; checked against connections
    # and transforms when a sync runs or `config check` runs (shoploop.sync.resolve_mapping).
    sync: SyncSettings = Field(default_factory=SyncSettings)
    # Recommendations (docs/recommendations.md), validated once into Config.reco.
    reco: RecoSettings = Field(default_factory=RecoSettings)
    # `shoploop serve` (docs/web.md), validated once into Config.web.
    web: WebSettings = Field(default_factory=WebSettings)
    # The referral loop (docs/referrals.md), validated once into Config.referral.
    referral: ReferralSettings = Field(default_factory=ReferralSettings)
    # Data requests' answers (docs/privacy.md), validated once into Config.privacy.
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    # Where jobs run and when (docs/scale-out.md), validated once into Config.jobs/.schedule.
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    # A/B tests (docs/experiments.md), validated once into Config.experiments.
    experiments: dict[str, ExperimentSettings] = Field(default_factory=dict)


@dataclass(frozen=True)
class Connection:
    name: str
    type: str
    settings: ConnectionConfig


@dataclass(frozen=True)
class Config:
    """A validated configuration. ``path`` is None when running without a config file.

    The core reads the typed sections (``sync``, ``connections``, …); ``raw`` is the parsed
    file as it was, for the hooks' ``context.config`` only — never parse it again.
    """

    path: Path | None
    store_url: str
    logging: LoggingSettings
    connections: dict[str, Connection] = field(default_factory=dict)
    sync: SyncSettings = field(default_factory=SyncSettings)
    raw: Mapping[str, Any] = field(default_factory=dict)
    reco: RecoSettings = field(default_factory=RecoSettings)
    web: WebSettings = field(default_factory=WebSettings)
    referral: ReferralSettings = field(default_factory=ReferralSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    jobs: JobsSettings = field(default_factory=JobsSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    experiments: dict[str, ExperimentSettings] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def privacy_export_dir(self) -> Path:
        """``[privacy] export_dir``, relative to the config file's directory."""
        return self.base_dir / self.privacy.export_dir


def find_config_path(explicit: str | os.PathLike[str] | None,
                     environ: Mapping[str, str] | None = None) -> Path | None:
    env = environ if environ is not None else os.environ
    if explicit:
        return Path(explicit)
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    default = Path.cwd() / DEFAULT_CONFIG_NAME
    return default if default.exists() else None


def _key_path(prefix: tuple[str | int, ...], loc: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in (*prefix, *loc))


def _describe(error: Mapping[str, Any]) -> str:
    """A pydantic error as 'expected …, got …' without echoing long or secret-looking input."""
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    given = error.get("input")
    if isinstance(given, (str, int, float, bool)) and not isinstance(given, dict):
        shown = repr(given) if len(repr(given)) <= 60 else repr(given)[:57] + "…'"
        return f"{message} (got {type(given).__name__} {shown})"
    if given is not None:
        return f"{message} (got {type(given).__name__})"
    return message


def _model_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model of the table at ``loc`` below ``model`` (``("sync",)`` → SyncSettings,
    ``("sync", "attributes", "x")`` → AttributeSpec), or None where ``loc`` is no model's."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        elif get_origin(current) is dict:  # `part` is a key of a dict[str, Model]
            current = get_args(current)[1]
        elif get_origin(current) is list and isinstance(part, int):  # an array of tables
            current = get_args(current)[0]
        else:
            return None
        if get_origin(current) in (Union, UnionType):  # `X | None`
            options = [a for a in get_args(current) if a is not type(None)]
            current = options[0] if len(options) == 1 else None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _raise_validation(exc: ValidationError, file: str, prefix: tuple[str | int, ...],
                      model: type[BaseModel]) -> None:
    errors = exc.errors()
    first = errors[0]
    key = _key_path(prefix, tuple(first["loc"]))
    message = _describe(first)
    if first["type"] == "extra_forbidden":
        # The table the unknown key is in, not the top level: `sync.match_key` suggests
        # `match_keys`, among the keys of [sync].
        table = _model_at(model, tuple(first["loc"])[:-1])
        if table is not None:
            known = list(table.model_fields)
            message += f"; allowed keys: {', '.join(known)}"
            message += did_you_mean(str(first["loc"][-1]), known)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise ConfigError(message + more, file=file, key=key,
                      remedy="fix the value and run `shoploop config check`") from None


def parse_config(data: Mapping[str, Any], registry: ConnectorRegistry, *, file: str,
                 base_dir: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Validate an already-parsed TOML document."""
    from shoploop.store import resolve_store_url

    try:
        top = _TopLevel.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        _raise_validation(exc, file, (), _TopLevel)
        raise  # unreachable; keeps type checkers happy
    connections: dict[str, Connection] = {}
    for name, table in top.connections.items():
        if not CONNECTION_NAME.match(name):
            raise ConfigError(
                "connection names are lower-case letters, digits, '_' and '-', starting with a "
                "letter", file=file, key=f"connections.{name}")
        type_name = table.get("type")
        if not isinstance(type_name, str):
            raise ConfigError(
                f"required key is missing; expected one of: {', '.join(sorted(registry.types))}",
                file=file, key=f"connections.{name}.type",
                remedy='add type = "<connector type>" (see `shoploop plugins`)')
        if type_name not in registry.types:
            raise ConfigError(
                f"unknown connector type {type_name!r}"
                + did_you_mean(type_name, list(registry.types))
                + f"; installed types: {', '.join(sorted(registry.types)) or 'none'}",
                file=file, key=f"connections.{name}.type",
                remedy="install the plugin providing it, or fix the name")
        model = registry.types[type_name].config_model
        try:
            settings = model.model_validate(table, context={"base_dir": base_dir})
        except ValidationError as exc:
            _raise_validation(exc, file, ("connections", name), model)
            raise
        settings.locate(name, file if file != "<defaults>" else None)
        connections[name] = Connection(name=name, type=type_name, settings=settings)
    for key, problem, remedy in experiment_problems(top.experiments, top.reco.placements):
        raise ConfigError(problem, file=file, key=key, remedy=remedy)
    rewarding = {name: c.settings for name, c in connections.items()
                 if {Capability.ISSUE_REWARDS, Capability.READ_ORDERS}
                 <= registry.types[c.type].capabilities}
    for key, problem, remedy in reward_kind_problems(top.referral, rewarding,
                                                     explicit="referral" in data):
        raise ConfigError(problem, file=file, key=key, remedy=remedy)
    store_url = resolve_store_url(top.store.url, base_dir, environ)
    check_jobs(top.jobs, store_url, file=file,
               environ=os.environ if environ is None else environ,
               webhook_processing=top.web.webhook_processing)
    return Config(path=Path(file) if file != "<defaults>" else None, store_url=store_url,
                  logging=top.logging, connections=connections, sync=top.sync, raw=dict(data),
                  reco=top.reco, web=top.web, referral=top.referral, jobs=top.jobs,
                  schedule=top.schedule, privacy=top.privacy, experiments=top.experiments)


def load_config(explicit: str | os.PathLike[str] | None, registry: ConnectorRegistry, *,
                required: bool = True, environ: Mapping[str, str] | None = None) -> Config:
    """Find, read and validate the config; without a file and ``required=False``, defaults."""
    path = find_config_path(explicit, environ)
    if path is None:
        if required:
            raise ConfigError(
                f"no {DEFAULT_CONFIG_NAME} in {Path.cwd()}",
                remedy="run `shoploop init` to write a starter config, or pass --config FILE")
        return parse_config({}, registry, file="<defaults>", base_dir=Path.cwd(), environ=environ)
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", file=file,
                          remedy="check the path, or run `shoploop init` to create it") from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=file) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=file,
                          remedy="fix the syntax at the position shown") from None
    return parse_config(data, registry, file=file, base_dir=path.resolve().parent,
                        environ=environ)
