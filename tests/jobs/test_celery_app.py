"""The Celery app a config makes (no broker needed): Redis's visibility timeout from
``[jobs] visibility_timeout_hours`` (a long lane must not be handed to a second worker while
it runs), and ``shoploop worker --pool`` refusing a pool it does not know."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shoploop import load_plugins
from shoploop._config import load_config
from shoploop.cli._app import build_app
from shoploop.jobs._celery import make_app


def config_file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "shoploop.toml"
    path.write_text('[store]\nurl = "postgresql://shoploop@db.invalid/shoploop"\n\n'
                    '[jobs]\nbackend = "celery"\nbroker_url_env = "TEST_BROKER"\n' + extra,
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(("extra", "seconds"), [("", 12 * 3600),
                                                ("visibility_timeout_hours = 30\n", 30 * 3600)])
def test_the_redis_visibility_timeout_comes_from_the_config(tmp_path, monkeypatch, extra,
                                                            seconds):
    monkeypatch.setenv("TEST_BROKER", "redis://127.0.0.1:6379/0")
    path = config_file(tmp_path, extra)
    app = make_app(load_config(path, load_plugins().connectors), str(path))
    assert app.conf.broker_transport_options["visibility_timeout"] == seconds
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost


def test_worker_refuses_an_unknown_pool(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_BROKER", "redis://127.0.0.1:6379/0")
    path = config_file(tmp_path)
    result = CliRunner().invoke(build_app(load_plugins()),
                                ["-c", str(path), "worker", "--pool", "gevent"])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())  # the console wraps long lines
    assert "--pool 'gevent'" in output and "prefork, solo, threads" in output
