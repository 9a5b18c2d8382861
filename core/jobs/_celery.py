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
        beat_schedule=beat_schedule(config, config_path), timezone="UTC", enable_utc=True,
        # Redis hands an unacknowledged message to another worker after visibility_timeout
        # (default 1 h, docs.celeryq.dev "Using Redis", caveats): with acks_late a lane
        # longer than that would run twice at once. RabbitMQ's own limit, consumer_timeout
        # (30 min by default), is the broker's setting (docs/scale-out.md).
        broker_transport_options={"visibility_timeout": config.jobs.visibility_timeout_hours
                                  * 3600})
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


def _busy_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import DBAPIError

    from shoploop.sync._lock import SyncAlreadyRunning

    return (SyncAlreadyRunning, DBAPIError)


def _retry(task: Task, exc: BaseException) -> BaseException:
    attempt = task.request.retries + 1
    retry: BaseException = task.retry(exc=exc, countdown=min(30, RETRY_SECONDS * attempt))
    return retry


def _register(app: Celery) -> None:
    busy = _busy_errors()
    options: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}

    @app.task(name="shoploop.import_stream", **options)
    def import_stream(config_path: str, connection: str, stream: str,
                      full: bool = False) -> dict[str, Any]:
        return jobs.import_stream(config_path, connection, stream, full)

    @app.task(name="shoploop.sync_lane", bind=True, max_retries=None, **options)
    def sync_lane(self: Task, config_path: str, targets: list[str] | None = None,
                  full: bool = False, fanout: str | None = None) -> dict[str, Any]:
        try:
            return jobs.sync_lane(config_path, targets, full, fanout=fanout,
                                  worker=self.request.hostname)
        except busy as exc:
            # Another run writes this target (this lane sent twice, or a run from the CLI),
            # or a master customer new since the fan-out was bound by another lane at the
            # same moment (its transaction rolled back): run again once that is done.
            raise _retry(self, exc) from exc

    @app.task(name="shoploop.sync", bind=True, max_retries=None, **options)
    def sync(self: Task, config_path: str, full: bool = False) -> dict[str, Any]:
        """The masters' imports and bindings here, then one lane per target on any worker.
        A redelivered fan-out keeps its task id, so the lanes it sends again find their
        run done and do nothing (``SyncOptions.fanout``)."""
        imports, lanes = jobs.sync_steps(jobs.config_of(config_path), config_path, full)
        try:
            for step in imports:
                jobs.import_stream(**step.kwargs)
            bound = jobs.bind_masters(config_path)
        except busy as exc:  # another fan-out binds the same masters right now
            raise _retry(self, exc) from exc
        for step in lanes:
            sync_lane.apply_async(kwargs={**step.kwargs, "fanout": self.request.id})
        return {"lanes": len(lanes), "bound": bound, "fanout": self.request.id}

    # "cli_job": the name beat schedules and queued messages of earlier versions carry.
    @app.task(name="shoploop.cli_job", **options)
    def command_job(config_path: str, job: str) -> dict[str, Any]:
        return jobs.command_job(config_path, job)
