"""The jobs as plain functions of a config file, the unit both backends run.

Each takes the config's path (a string: it crosses the broker) and loads plugins and config
itself, so one worker serves the configs of many merchants. Idempotency is the jobs' own: the
mirror's per-page cursor commits, the sync's intent batches and its per-target locks
(:func:`shoploop.sync._lock.exclusive_run`) — a task delivered twice, or re-run after its
worker was SIGKILLed, writes nothing twice and never runs one target twice at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shoploop._config import Config, load_config
from shoploop._plugins import PluginHost, load_plugins
from shoploop.hooks import Capability

from ._commands import COMMAND_JOBS, run_command_job

SYNC_STREAMS: tuple[tuple[str, Capability], ...] = (("customers", Capability.READ_CUSTOMERS),)
"""What a sync's fan-out imports before its lanes (each lane still imports incrementally)."""

__all__ = ["COMMAND_JOBS", "Step", "bind_masters", "command_job", "config_of", "host",
           "import_stream", "sync_lane", "sync_steps"]


@dataclass(frozen=True)
class Step:
    """One task of a job: the task's name and its keyword arguments (JSON-able)."""

    task: str
    kwargs: dict[str, Any] = field(default_factory=dict)


_host: PluginHost | None = None


def host() -> PluginHost:
    global _host
    if _host is None:  # once per process: plugin loading is the slow part of a small task
        _host = load_plugins()
    return _host


def config_of(config_path: str) -> Config:
    return load_config(config_path, host().connectors)


def import_stream(config_path: str, connection: str, stream: str,
                  full: bool = False) -> dict[str, Any]:
    """Mirror one stream of one connection (``shoploop import``'s job)."""
    from shoploop._connections import Connections
    from shoploop.jobs._mirror import mirror_stream
    from shoploop.store import Store

    config = config_of(config_path)
    with Connections(config, host().connectors) as connections, \
            Store(config.store_url) as store:
        result = mirror_stream(connections[connection], store, connection=connection,
                               stream=stream, full=full)  # type: ignore[arg-type]
    return {"connection": connection, "stream": stream, "read": result.read,
            "pages": result.pages}


def bind_masters(config_path: str) -> dict[str, int]:
    """Bind the masters' mirrored customers once, before the lanes (:mod:`shoploop.sync.
    _fanout`: lanes side by side then never race on a master's binding)."""
    from shoploop.store import Store
    from shoploop.sync import resolve_mapping
    from shoploop.sync._fanout import bind_masters as bind

    config = config_of(config_path)
    mapping = resolve_mapping(config, config.sync, host().connectors, host().transforms)
    with Store(config.store_url) as store:
        return bind(store, mapping)


def sync_lane(config_path: str, targets: list[str] | None = None, full: bool = False,
              fanout: str | None = None, worker: str | None = None) -> dict[str, Any]:
    """One run of ``sync customers`` for ``targets`` (all when None): a lane of the fan-out
    ``fanout`` (a lane sent again after its fan-out's run succeeded does nothing)."""
    from shoploop._connections import Connections
    from shoploop.store import Store
    from shoploop.sync.job import SyncJob, SyncOptions

    config = config_of(config_path)
    with Connections(config, host().connectors) as connections, \
            Store(config.store_url) as store:
        report = SyncJob(host(), config, store, connections,
                         SyncOptions(only_to=targets, full=full, fanout=fanout,
                                     worker=worker)).run()
    summary: dict[str, Any] = report.as_dict()
    return {"run_id": summary["run_id"], "targets": targets, "exit_code": report.exit_code,
            "written": summary.get("written", 0), **report.labels()}


def command_job(config_path: str, job: str) -> dict[str, Any]:
    """A job that is one CLI command (``COMMAND_JOBS``), run here: its exit code and summary
    (the ``shoploop.cli_job`` task)."""
    return run_command_job(host(), config_of(config_path), job)


def sync_steps(config: Config, config_path: str, full: bool = False) -> tuple[
        list[Step], list[Step]]:
    """A sync fanned out: (the masters' imports, then one lane per target); between them
    :func:`bind_masters`."""
    from shoploop._connections import Connections
    from shoploop.sync import resolve_mapping

    mapping = resolve_mapping(config, config.sync, host().connectors, host().transforms)
    with Connections(config, host().connectors) as connections:  # closes what it opened
        imports = [Step("import_stream", {"config_path": config_path, "connection": name,
                                          "stream": stream, "full": full})
                   for stream, capability in SYNC_STREAMS
                   for name in connections.with_capability(capability)
                   if name in mapping.masters]
    lanes = [Step("sync_lane", {"config_path": config_path, "targets": [target],
                                "full": full}) for target in mapping.targets]
    return imports, lanes
