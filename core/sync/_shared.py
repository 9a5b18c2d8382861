"""What a run computes once and every target's pipeline shares: per master, the match-key
values several customers hold (ambiguous) and the check for mapped fields none of them has
(:class:`._guard.FieldCheck`), from one streamed pass; the derived attributes' rows."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

from shoploop.hooks import ConfigError, HookContext

from .._plugins import PluginHost
from ._guard import FieldCheck
from ._mapping import SyncMapping
from ._plan import NORMALISERS
from ._state import customer_chunks

log = logging.getLogger("shoploop.sync")

PASS_CHUNK = 5000
"""Records read per transaction in the streamed passes."""


class RunShared:
    """The shared values of one run, each computed by the first pipeline that needs it."""

    def __init__(self, host: PluginHost, store: Any, mapping: SyncMapping, config_path: str,
                 now: datetime) -> None:
        self.host, self.store, self.mapping = host, store, mapping
        self.config_path, self.now = config_path, now
        self._shared_lock = threading.Lock()
        self._derived_lock = threading.Lock()
        self.shared_values: dict[str, dict[str, dict[str, int]]] = {}
        self.derived_rows: list[tuple[list[tuple[str, str]], dict[str, Any]]] | None = None
        self.field_checks: dict[str, FieldCheck] = {}
        self.field_refusals: dict[str, ConfigError | None] = {}

    def shared_key_values(self, master: str) -> dict[str, dict[str, int]]:
        """Per match key, the master's values held by more than one of its customers (those
        are ambiguous), from one streamed pass; computed once per run."""
        with self._shared_lock:
            if master not in self.shared_values:
                started = time.perf_counter()
                counts: dict[str, Counter[str]] = {k: Counter() for k in self.mapping.match_keys}
                check = self.field_checks[master] = FieldCheck(
                    r for r in self.mapping.rules if r.master == master)
                for records in customer_chunks(self.store, master, PASS_CHUNK):
                    for record in records:
                        check.see(record)
                        for key, counter in counts.items():
                            value = NORMALISERS[key](record.data.get(key))
                            if value is not None:
                                counter[value] += 1
                self.shared_values[master] = {key: {v: n for v, n in counter.items() if n > 1}
                                              for key, counter in counts.items()}
                log.info("counted %s's match-key values in %.1f s", master,
                         time.perf_counter() - started)
            return self.shared_values[master]

    def check_fields(self, master: str) -> None:
        """Refuse the run if a field mapped from ``master`` is one none of its customers has
        (:class:`FieldCheck`); decided once per run and master."""
        self.shared_key_values(master)  # the pass that also looks for the fields
        with self._shared_lock:
            if master not in self.field_refusals:
                self.field_refusals[master] = self.field_checks[master].refusal(
                    master, self.config_path,
                    customer_chunks(self.store, master, PASS_CHUNK))
            refusal = self.field_refusals[master]
        if refusal is not None:
            raise refusal

    def derived(self, context: HookContext) -> list[tuple[list[tuple[str, str]],
                                                           dict[str, Any]]]:
        from shoploop.attributes.profiles import build_profile_members
        from shoploop.combine import derive_attributes

        with self._derived_lock:
            if self.derived_rows is None:
                rows = []
                with self.store.session() as session:
                    for profile, members in build_profile_members(session, as_of=self.now):
                        if members:
                            rows.append((members, derive_attributes(self.host, context,
                                                                    profile)))
                self.derived_rows = rows
            return self.derived_rows
