"""One sync run per store: a second run is refused while the first holds the lock, and a
dead run's lock is gone with its process (the kernel / the server releases it)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text

from shoploop.store import Store
from shoploop.sync._lock import _PG_SYNC_LOCK, SyncAlreadyRunning, exclusive_run


def test_a_second_run_is_refused_while_the_first_holds_the_lock(store: Store) -> None:
    with Store(store.engine.url) as other:
        with exclusive_run(store):
            with pytest.raises(SyncAlreadyRunning, match=r"another .* is running") as refused, \
                    exclusive_run(other):
                pass
            assert "do not overlap" in refused.value.remedy
        with exclusive_run(other):  # released on exit
            pass


def test_a_killed_holder_leaves_no_stale_lock(store: Store) -> None:
    # A child process takes the lock and is killed while holding it.
    url = store.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from shoploop.store import Store\n"
         "from shoploop.sync._lock import exclusive_run\n"
         f"s = Store({url!r})\n"
         "with exclusive_run(s):\n"
         "    print('held', flush=True); sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(SyncAlreadyRunning), exclusive_run(store):
            pass
    finally:
        child.kill()
        child.wait()
    if store.backend == "postgresql":
        # The server ends the dead client's session when it sees the socket close, a moment
        # after the kill (later on a loaded machine): wait for that with a blocking lock call —
        # it returns once the dead session's lock is gone, and times out if it never is.
        with store.engine.connect() as connection:
            connection.execute(text("SET lock_timeout = '60s'"))
            connection.execute(text("SELECT pg_advisory_lock(:k, hashtext(current_schema()))"),
                               {"k": _PG_SYNC_LOCK})
            connection.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"),
                               {"k": _PG_SYNC_LOCK})
            connection.commit()
    with exclusive_run(store):
        pass
