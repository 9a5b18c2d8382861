"""One entry for every job: run it here (``backend = "inprocess"``) or send it to Celery."""

from __future__ import annotations

from typing import Any

from shoploop._config import Config
from shoploop.hooks import ConfigError

from . import _functions as jobs

JOBS = ("sync", *jobs.COMMAND_JOBS)


def dispatch(config: Config, job: str, *, full: bool = False) -> dict[str, Any]:
    """Run ``job`` (one of ``JOBS``) in this process, or send it to the workers; what was done
    (in process: each step's result) or sent (the task ids)."""
    if config.path is None:
        raise ConfigError("a job needs a config file (workers load it by its path)",
                          remedy="pass --config FILE, or run `shoploop init`")
    path = str(config.path.resolve())
    if job not in JOBS:
        raise ConfigError(f"unknown job {job!r}; jobs: {', '.join(JOBS)}",
                          remedy="pick one of the jobs listed")
    if config.jobs.backend == "celery":
        from ._celery import make_app

        app = make_app(config, path)
        if job == "sync":
            sent = app.send_task("shoploop.sync", kwargs={"config_path": path, "full": full})
        else:
            sent = app.send_task("shoploop.cli_job", kwargs={"config_path": path, "job": job})
        return {"backend": "celery", "job": job, "task_id": sent.id}
    if job != "sync":
        return {"backend": "inprocess", "job": job, "results": [jobs.command_job(path, job)]}
    imports, lanes = jobs.sync_steps(config, path, full)
    results: list[dict[str, Any]] = [jobs.import_stream(**step.kwargs) for step in imports]
    results.append({"bound": jobs.bind_masters(path)})  # as the Celery fan-out does
    results += [jobs.sync_lane(**step.kwargs) for step in lanes]
    return {"backend": "inprocess", "job": job, "results": results}
