"""``[jobs]`` and ``[schedule]`` of shoploop.toml (docs/scale-out.md), validated once.

``[jobs] backend = "celery"`` sends the jobs to Celery workers; the broker URL is a secret
(it may hold a password), so the config names the environment variable that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shoploop.hooks import ConfigError

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class JobsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: Literal["inprocess", "celery"] = Field(
        default="inprocess",
        description="inprocess: every job runs in the CLI's process (the default); celery: "
                    "jobs are sent to `shoploop worker` processes through the broker.")
    broker_url_env: str | None = Field(
        default=None, pattern=ENV_NAME,
        description="The environment variable holding the broker URL "
                    "(redis://host:6379/0 or amqp://user:password@host:5672//).")
    queue: str = Field(
        default="shoploop", pattern=r"^[A-Za-z0-9_.-]{1,100}$",
        description="The queue the jobs are sent to and `shoploop worker` consumes.")
    visibility_timeout_hours: int = Field(
        default=12, ge=1, le=7 * 24,
        description="Redis broker: hours a task may run unacknowledged before Redis hands "
                    "its message to another worker (Celery's visibility_timeout); keep it "
                    "above the longest sync lane. Also how late the tasks of a worker "
                    "machine that died wholesale run again (a killed pool process's: at "
                    "once).")


class ScheduleSettings(BaseModel):
    """What Celery beat sends (``shoploop beat`` / ``shoploop worker --beat``)."""

    model_config = ConfigDict(extra="forbid")
    sync_every_minutes: int | None = Field(
        default=None, ge=1, le=24 * 60,
        description="Run `sync customers` (fanned out per connection and target) this often.")
    referral_daily_at: str | None = Field(
        default=None, pattern=CLOCK.pattern,
        description="Run `referral run` daily at this UTC time (HH:MM).")
    model_build_nightly_at: str | None = Field(
        default=None, pattern=CLOCK.pattern,
        description="Run `reco build` daily at this UTC time (HH:MM).")


def check_jobs(jobs: JobsSettings, store_url: str, *, file: str,
               environ: Mapping[str, str], webhook_processing: str = "auto") -> None:
    """Refuse a celery backend the workers cannot share a store or reach a broker with, and
    webhook processing on a queue there is none of."""
    if jobs.backend != "celery":
        if webhook_processing == "queue":
            raise ConfigError(
                "webhook processing on the job queue needs the celery backend",
                file=file, key="web.webhook_processing",
                remedy='set [jobs] backend = "celery" (docs/scale-out.md), or use '
                       'webhook_processing = "auto"')
        return
    if store_url.startswith("sqlite"):
        raise ConfigError(
            "the celery backend needs a PostgreSQL store: workers on several machines share "
            "one store, and a SQLite store is one file on one machine with one writer",
            file=file, key="jobs.backend",
            remedy='set [store] url = "postgresql://…" (or SHOPLOOP_DATABASE_URL), or use '
                   'backend = "inprocess"')
    if jobs.broker_url_env is None:
        raise ConfigError(
            "the celery backend needs a broker", file=file, key="jobs.broker_url_env",
            remedy='add broker_url_env = "SHOPLOOP_BROKER_URL" and set that variable to '
                   "redis://… or amqp://…")
    if not (environ.get(jobs.broker_url_env) or "").strip():
        raise ConfigError(
            f"the broker URL variable {jobs.broker_url_env} is not set",
            file=file, key="jobs.broker_url_env",
            remedy=f"export {jobs.broker_url_env}=redis://host:6379/0 (or amqp://…) in the "
                   "environment of every shoploop process")
