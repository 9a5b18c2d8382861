"""The jobs as Celery tasks (``[jobs] backend = "celery"``, docs/scale-out.md).

Every task is ``acks_late`` with ``reject_on_worker_lost``: the broker keeps a message until
its task returned, and a task whose worker process died (SIGKILL, OOM) goes back to the queue
and runs again — safe because the jobs are idempotent (:mod:`._functions`). No result backend:
what a job did is in the store (``sync_runs``), where ``shoploop jobs status`` reads it.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab

from shoploop._config import Config

from . import _functions as jobs

RETRY_SECONDS = 2
"""A lane whose target another lane holds (or whose bindings clashed with one) waits this
long, times the attempt, before it runs again."""


def make_app(config: Config, config_path: str) -> Celery:
    """The Celery app of ``config``: its broker, its queue and its ``[schedule]``."""
    assert config.jobs.broker_url_env is not None  # the config check refuses it otherwise
    app = Celery("shoploop", broker=os.environ[config.jobs.broker_url_env], set_as_current=False)
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True,
        # One message at a time per process: a SIGKILLed process loses only its own task,
        # and long lanes do not sit prefetched behind each other.
        worker_prefetch_multiplier=1, task_ignore_result=True,
        task_default_queue=config.jobs.queue, broker_connection_retry_on_startup=True,
        task_serializer="json", accept_content=["json"], worker_hijack_root_logger=False,
        beat_schedule=beat_schedule(config, config_path), timezone="UTC", enable_utc=True)
    _register(app)
    return app


def beat_schedule(config: Config, config_path: str) -> dict[str, dict[str, Any]]:
    schedule, out = config.schedule, {}
    if schedule.sync_every_minutes:
        out["sync"] = {"task": "shoploop.sync", "schedule": schedule.sync_every_minutes * 60.0,
                       "kwargs": {"config_path": config_path}}
    for name, at, job in (("referral", schedule.referral_daily_at, "referral-run"),
                          ("reco-build", schedule.model_build_nightly_at, "reco-build")):
        if at:
            hour, minute = at.split(":")
            out[name] = {"task": "shoploop.cli_job", "schedule": crontab(
                hour=int(hour), minute=int(minute)),
                "kwargs": {"config_path": config_path, "job": job}}
    return out


def _register(app: Celery) -> None:
    options: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}

    @app.task(name="shoploop.import_stream", **options)
    def import_stream(config_path: str, connection: str, stream: str,
                      full: bool = False) -> dict[str, Any]:
        return jobs.import_stream(config_path, connection, stream, full)

    @app.task(name="shoploop.sync_lane", bind=True, max_retries=None, **options)
    def sync_lane(self: Task, config_path: str, targets: list[str] | None = None,
                  full: bool = False) -> dict[str, Any]:
        from sqlalchemy.exc import DBAPIError

        from shoploop.sync._lock import SyncAlreadyRunning

        try:
            return jobs.sync_lane(config_path, targets, full)
        except (SyncAlreadyRunning, DBAPIError) as exc:
            # Another lane writes this target, or two lanes bound the same master customer
            # at once (its transaction rolled back): run again once it is done.
            attempt = self.request.retries + 1
            raise self.retry(exc=exc, countdown=min(30, RETRY_SECONDS * attempt)) from exc

    @app.task(name="shoploop.sync", **options)
    def sync(config_path: str, full: bool = False) -> dict[str, Any]:
        """The masters' imports here, then one lane per target on any worker."""
        imports, lanes = jobs.sync_steps(jobs.config_of(config_path), config_path, full)
        for step in imports:
            jobs.import_stream(**step.kwargs)
        for step in lanes:
            sync_lane.apply_async(kwargs=step.kwargs)
        return {"lanes": len(lanes)}

    # "cli_job": the name beat schedules and queued messages of earlier versions carry.
    @app.task(name="shoploop.cli_job", **options)
    def command_job(config_path: str, job: str) -> dict[str, Any]:
        return jobs.command_job(config_path, job)
