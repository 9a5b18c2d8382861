"""The jobs that are one CLI command each (``reco-build``, ``reco-publish``,
``webhooks-process``, ``referral-run``) call the command's engine functions: they return their
summary and write nothing to stdout (a worker runs many tasks in one process, possibly in
threads: no process-global redirection of stdout)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from shoploop import load_plugins
from shoploop._config import load_config
from shoploop.jobs._dispatch import JOBS, dispatch
from shoploop.store import Store, WebhookDeliveryRecord, record_delivery


def config_on(tmp_path: Path, store_url: str) -> Any:
    path = tmp_path / "shoploop.toml"
    path.write_text(f'[store]\nurl = "{store_url}"\n', encoding="utf-8")
    return load_config(path, load_plugins().connectors)


def deliver(store_url: str, *keys: str) -> None:
    with Store(store_url) as store, store.session() as session:
        for key in keys:
            record_delivery(session, connection="shop", dedupe_key=key,
                            topic="customers/update", event_type="customer.updated",
                            event={"type": "customer.updated", "connection": "shop",
                                   "dedupe_key": key})


def statuses(store_url: str) -> dict[str, str]:
    with Store(store_url) as store, store.session() as session:
        return {d.dedupe_key: d.status for d in session.scalars(select(WebhookDeliveryRecord))}


def only_result(done: dict[str, Any]) -> dict[str, Any]:
    assert done["backend"] == "inprocess"
    (result,) = done["results"]
    return dict(result)


def test_command_jobs_return_the_engine_summary_and_print_nothing(tmp_path, store, capfd):
    config = config_on(tmp_path, store.url)
    deliver(store.url, "a", "b")
    assert set(JOBS) == {"sync", "reco-build", "reco-publish", "webhooks-process",
                         "referral-run"}

    processed = only_result(dispatch(config, "webhooks-process"))
    assert processed["exit_code"] == 0
    assert processed["summary"]["processed"] == 2
    assert statuses(store.url) == {"a": "processed", "b": "processed"}

    built = only_result(dispatch(config, "reco-build"))
    assert (built["exit_code"], built["summary"]["version"]) == (0, 1)
    published = only_result(dispatch(config, "reco-publish"))
    assert (published["exit_code"], published["summary"]["model_version"]) == (0, 1)
    referral = only_result(dispatch(config, "referral-run"))
    assert referral["exit_code"] == 0 and referral["summary"]["run_id"]
    assert capfd.readouterr().out == ""


def test_command_jobs_in_threads_each_get_their_own_summary(tmp_path, store):
    """What a redirected stdout got wrong: two jobs at once in one process, each returning
    what it did (here: the deliveries of its own store)."""
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    with Store(other_url) as other:
        other.upgrade()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    configs = {store.url: config_on(tmp_path / "a", store.url),
               other_url: config_on(tmp_path / "b", other_url)}
    deliver(store.url, "a1", "a2", "a3")
    deliver(other_url, "b1")
    results: dict[str, dict[str, Any]] = {}
    start = threading.Barrier(2)

    def run(url: str) -> None:
        start.wait(timeout=30)
        results[url] = only_result(dispatch(configs[url], "webhooks-process"))

    threads = [threading.Thread(target=run, args=(url,)) for url in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert {url: r["summary"]["processed"] for url, r in results.items()} == \
        {store.url: 3, other_url: 1}
