"""The jobs that are one CLI command each, as the engine calls that command makes.

``reco-build``, ``reco-publish``, ``webhooks-process`` and ``referral-run`` call the same engine
functions as ``shoploop reco build``, ``reco publish``, ``webhooks process`` and ``referral
run`` — not the CLI itself: a worker process runs several tasks over its life (and a thread
pool may run them side by side), so nothing here may touch process-global state such as
``sys.stdout``. Each returns ``{"job", "exit_code", "summary"}`` (JSON-able: it crosses the
broker and lands in the worker's log); ``exit_code`` is the command's own (1: finished with
failures the next run retries). A configuration or store error is raised as the command
raises it (the CLI's error path in process, a failed task on a worker).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shoploop._config import Config
from shoploop._plugins import PluginHost


def _reco_build(host: PluginHost, config: Config) -> tuple[int, dict[str, Any]]:
    from shoploop.reco import build_model
    from shoploop.reco._settings import check_against_connections
    from shoploop.store import Store

    check_against_connections(config.reco, config.connections,
                              file=str(config.path) if config.path else None)
    with Store(config.store_url) as store:
        result = build_model(host, store, config.reco, lambda: datetime.now(UTC))
    return 0, {"ok": True, **result.summary}


def _reco_publish(host: PluginHost, config: Config) -> tuple[int, dict[str, Any]]:
    from shoploop._connections import Connections
    from shoploop._context import hook_context
    from shoploop.reco import load_model
    from shoploop.reco._publish import PublishOptions, publish
    from shoploop.store import Store

    with Store(config.store_url) as store, \
            Connections(config, host.connectors) as connections:
        report = publish(host, store, connections, load_model(store), PublishOptions(),
                         context=hook_context(config, connections))
    return (1 if report.failed else 0), report.as_dict()


def _webhooks_process(host: PluginHost, config: Config) -> tuple[int, dict[str, Any]]:
    from shoploop._connections import Connections
    from shoploop.store import Store

    from ._webhooks import process_stored

    with Store(config.store_url) as store, \
            Connections(config, host.connectors) as connections:
        summary = process_stored(host, config, store, connections)
    return (1 if summary["failed"] else 0), summary


def _referral_run(host: PluginHost, config: Config) -> tuple[int, dict[str, Any]]:
    from shoploop._connections import Connections
    from shoploop._context import hook_context
    from shoploop.referral import run_referrals
    from shoploop.store import Store

    now = datetime.now(UTC)
    with Store(config.store_url) as store, \
            Connections(config, host.connectors) as connections:
        report = run_referrals(host, store, config.referral, now,
                               context=hook_context(config, connections, store=store, now=now),
                               experiments=config.experiments)
    return (1 if report.problems else 0), report.as_dict()


COMMAND_JOBS: dict[str, Callable[[PluginHost, Config], tuple[int, dict[str, Any]]]] = {
    "reco-build": _reco_build,
    "reco-publish": _reco_publish,
    "webhooks-process": _webhooks_process,
    "referral-run": _referral_run,
}
"""job name → the engine call of its CLI command: (exit code, JSON-able summary)."""


def run_command_job(host: PluginHost, config: Config, job: str) -> dict[str, Any]:
    """Run ``job`` (a key of ``COMMAND_JOBS``) here; its exit code and summary."""
    exit_code, summary = COMMAND_JOBS[job](host, config)
    return {"job": job, "exit_code": exit_code, "summary": summary}
