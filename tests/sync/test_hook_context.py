"""One factory builds the hooks' ``context`` (``shoploop._context.hook_context``): a hook sees
the same context whether the sync job or ``attributes show`` calls it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from shoploop import load_plugins
from shoploop._connections import Connections
from shoploop.cli._attributes_cmd import derived_rows
from shoploop.cli._state import State
from shoploop.hooks import CustomerProfile, HookContext, hookimpl
from shoploop.store import Store
from shoploop.sync.job import SyncJob, SyncOptions


class SeesContexts:
    """Records the context of every ``customer_attributes`` call."""

    def __init__(self) -> None:
        self.contexts: list[HookContext] = []

    @hookimpl
    def customer_attributes(self, context: HookContext, profile: CustomerProfile) -> None:
        self.contexts.append(context)


def test_the_sync_and_attributes_show_give_hooks_equal_contexts(make_env: Any) -> None:
    env = make_env(customers=5)
    env.write_config(env.derived_to_erp)
    seen = SeesContexts()
    host = load_plugins(extra=[("sees_contexts", seen)])
    config = env.config()
    with Connections(config, host.connectors) as connections, \
            Store(config.store_url) as store:
        SyncJob(host, config, store, connections, SyncOptions(dry_run=True)).run()
    from_sync = seen.contexts[-1]
    seen.contexts.clear()
    assert derived_rows(State(host, config_path=str(env.config_path)), None, 1)
    (from_show,) = seen.contexts

    # Each caller has its own clock and store handle; everything else is equal.
    same_now = datetime(2026, 1, 1, tzinfo=UTC)
    assert from_sync.store.url == from_show.store.url == config.store_url
    assert dataclasses.replace(from_sync, now=same_now, store=None) == \
        dataclasses.replace(from_show, now=same_now, store=None)
    assert sorted(from_show.connectors) == ["erp", "shop", "woo"]
    assert from_show.config == config.raw and from_show.logger.name == "shoploop.plugin"
