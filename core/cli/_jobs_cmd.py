"""``shoploop worker | beat | jobs run | jobs status``: the jobs on Celery (docs/scale-out.md).

Exit codes (docs/cli.md): 0 ok · 2 configuration error (no celery backend, a SQLite store, a
missing broker variable) · 3 the broker unreachable.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import typer

from ._errors import UsageError
from ._state import State, console, print_json
from ._tables import ReadableTable

POOLS = ("prefork", "solo", "threads")
"""Celery's execution pools a worker may use (docs/scale-out.md, sizing)."""


def _app(state: State) -> tuple[Any, Any]:
    from shoploop.jobs._celery import make_app

    config = state.config()
    if config.jobs.backend != "celery":
        raise UsageError("this config runs its jobs in process ([jobs] backend = "
                         "\"inprocess\"); there is nothing for a worker to do",
                         remedy='set [jobs] backend = "celery" and broker_url_env '
                                "(docs/scale-out.md)")
    assert config.path is not None
    return make_app(config, str(config.path.resolve())), config


def _queue_length(app: Any, queue: str) -> int | None:
    """Messages waiting in ``queue`` (Redis and RabbitMQ alike, through kombu)."""
    try:
        with app.connection_for_write() as connection:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)
            return int(declared.message_count)
    except Exception:  # no such queue yet: nothing was ever sent
        return None


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        ctx: typer.Context,
        queues: str | None = typer.Option(None, "--queues", "-Q", help="Queues to consume "
                                          "(comma-separated; default: [jobs] queue)."),
        concurrency: int = typer.Option(os.cpu_count() or 1, "--concurrency", min=1,
                                        help="Worker processes (default: the CPU count)."),
        beat: bool = typer.Option(False, "--beat", help="Also send the [schedule] jobs "
                                  "(run exactly one beat in a deployment)."),
        hostname: str | None = typer.Option(None, "--hostname", help="Celery node name "
                                            "(default: shoploop@<host>-<pid>)."),
        loglevel: str = typer.Option("INFO", "--loglevel"),
        pool: str = typer.Option("prefork", "--pool", help="prefork (child processes, the "
                                 "default), solo (the tasks run in the worker's own process, "
                                 "one at a time) or threads."),
    ) -> None:
        """Start a Celery worker that runs this config's jobs (sync lanes, imports, …)."""
        if pool not in POOLS:
            raise UsageError(f"--pool {pool!r} is not a pool shoploop runs on",
                             remedy=f"pass one of {', '.join(POOLS)}")
        celery, config = _app(ctx.obj)
        args = ["worker", f"--queues={queues or config.jobs.queue}", f"--pool={pool}",
                f"--concurrency={concurrency}", f"--loglevel={loglevel}",
                f"--hostname={hostname or f'shoploop@{socket.gethostname()}-{os.getpid()}'}"]
        celery.worker_main([*args, *(["--beat"] if beat else [])])

    @app.command("beat")
    def beat(ctx: typer.Context, loglevel: str = typer.Option("INFO", "--loglevel")) -> None:
        """Send the [schedule] jobs at their times (run one beat per deployment)."""
        celery, _config = _app(ctx.obj)
        celery.start(["beat", f"--loglevel={loglevel}"])

    jobs = typer.Typer(help="Run jobs and see what the workers do.", no_args_is_help=True)
    app.add_typer(jobs, name="jobs")

    @jobs.command("run")
    def run(ctx: typer.Context,
            job: str = typer.Argument(..., help="sync, reco-build, reco-publish, "
                                      "webhooks-process or referral-run."),
            full: bool = typer.Option(False, "--full", help="sync: re-read from the start."),
            as_json: bool = typer.Option(False, "--json")) -> None:
        """Run a job: here, or sent to the workers when the jobs backend is celery."""
        from shoploop.jobs._dispatch import dispatch

        result = dispatch(ctx.obj.config(), job, full=full)
        if as_json:
            print_json(result)
        elif result["backend"] == "celery":
            console.print(f"sent {job}: task {result['task_id']} (`shoploop jobs status`)")
        else:
            console.print(f"ran {job} in process: {len(result['results'])} step(s)")

    @jobs.command("status")
    def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json"),
               timeout: float = typer.Option(2.0, "--timeout", min=0.1,
                                             help="Seconds to wait for workers' answers."),
               limit: int = typer.Option(10, "--limit", min=1),
               close_stale: bool = typer.Option(
                   False, "--close-stale", help="Record the runs whose process died (marked "
                   "running, their liveness lock free) as interrupted.")) -> None:
        """Queued, running and failed jobs (broker queue, workers' tasks, store runs)."""
        from shoploop.store import (
            FAILED,
            RUNNING,
            Store,
            close_stale_runs,
            recent_runs,
            stale_runs,
        )

        celery, config = _app(ctx.obj)
        inspect = celery.control.inspect(timeout=timeout)
        active = inspect.active() or {}
        reserved = inspect.reserved() or {}
        running = [{"worker": node, "task": t["name"], "id": t["id"],
                    "kwargs": t.get("kwargs", {})} for node, tasks in active.items()
                   for t in tasks]
        with Store(config.store_url) as store:
            closed = close_stale_runs(store, by="`shoploop jobs status --close-stale`") \
                if close_stale else []
            stale = [{"run_id": r.id, "job": r.job, "started_at": r.started_at.isoformat()}
                     for r in stale_runs(store)]
            with store.session() as session:
                runs = recent_runs(session, limit=200)
                failed = [{"run_id": r.id, "job": r.job,
                           "started_at": r.started_at.isoformat()}
                          for r in runs if r.status == FAILED][:limit]
                in_store = sum(1 for r in runs if r.status == RUNNING)
        data = {"queue": config.jobs.queue, "queued": _queue_length(celery, config.jobs.queue),
                "reserved": sum(len(t) for t in reserved.values()), "workers": sorted(active),
                "running": running, "runs_running": in_store, "runs_stale": len(stale),
                "stale_runs": stale[:limit], "closed_stale": closed, "failed_runs": failed}
        if as_json:
            print_json(data)
            return
        queued = "?" if data["queued"] is None else data["queued"]
        console.print(f"queue {data['queue']}: {queued} queued · {data['reserved']} reserved · "
                      f"{len(running)} "
                      f"running on {len(data['workers'])} worker(s) · {in_store} run(s) "
                      f"marked running in the store, {len(stale)} of them stale (their "
                      "process died)")
        if closed:
            console.print(f"closed {len(closed)} stale run(s) as interrupted")
        elif stale:
            console.print("close them with `shoploop jobs status --close-stale` (the next "
                          "run of the same job and connection closes them too)")
        table = ReadableTable("running", [("worker", "left"), ("task", "left"),
                                          ("id", "left")])
        for task in running:
            table.add_row(task["worker"], task["task"], task["id"][:8])
        console.print(table)
        failures = ReadableTable("failed runs", [("run", "left"), ("job", "left"),
                                                 ("started", "left")])
        for row in failed:
            failures.add_row(row["run_id"][:8], row["job"], row["started_at"][:19])
        console.print(failures)
