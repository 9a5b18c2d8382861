"""One entry for every job: run it here (``backend = "inprocess"``) or send it to Celery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shoploop._config import Config
from shoploop.hooks import ConfigError

from . import _functions as jobs

JOBS = ("sync", *jobs.COMMAND_JOBS)


def dispatch(config: Config, job: str, *, full: bool = False) -> dict[str, Any]:
    """Run ``job`` (one of ``JOBS``) in this process, or send it to the workers; what was done
    (in process: each step's result) or sent (the task ids)."""
    path = _path_of(config)
    _check_job(job)
    if config.jobs.backend == "celery":
        return {"backend": "celery", "job": job,
                "task_id": job_sender(config)(job, full=full)}
    if job != "sync":
        return {"backend": "inprocess", "job": job, "results": [jobs.command_job(path, job)]}
    imports, lanes = jobs.sync_steps(config, path, full)
    results: list[dict[str, Any]] = [jobs.import_stream(**step.kwargs) for step in imports]
    results.append({"bound": jobs.bind_masters(path)})  # as the Celery fan-out does
    results += [jobs.sync_lane(**step.kwargs) for step in lanes]
    return {"backend": "inprocess", "job": job, "results": results}


def job_sender(config: Config) -> Callable[..., str]:
    """``send(job, full=False)`` → the task id: sends jobs of the celery backend's ``config``
    through one Celery app (the serve process's webhook dispatcher sends many)."""
    from ._celery import make_app

    path = _path_of(config)
    app = make_app(config, path)

    def send(job: str, *, full: bool = False) -> str:
        _check_job(job)
        if job == "sync":
            sent = app.send_task("shoploop.sync", kwargs={"config_path": path, "full": full})
        else:
            sent = app.send_task("shoploop.cli_job", kwargs={"config_path": path, "job": job})
        return str(sent.id)

    return send


def _path_of(config: Config) -> str:
    if config.path is None:
        raise ConfigError("a job needs a config file (workers load it by its path)",
                          remedy="pass --config FILE, or run `shoploop init`")
    return str(config.path.resolve())


def _check_job(job: str) -> None:
    if job not in JOBS:
        raise ConfigError(f"unknown job {job!r}; jobs: {', '.join(JOBS)}",
                          remedy="pick one of the jobs listed")
