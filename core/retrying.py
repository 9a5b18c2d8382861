"""The one place a connector says that it waits before trying a call again.

Every adapter retries transient failures (timeouts, dropped connections, 429/5xx, Shopify's
``THROTTLED``) with its own policy, since the platforms differ; what they share is this notice.
A retry that says nothing makes a run look hung (24 s of silence on an unreachable port), so each
wait is logged at warning level — visible with the default log level, on a terminal above the
progress bar and in a piped run on stderr — naming the connection, the operation, what failed,
the wait and the attempt. Plugins of other platforms call it the same way.
"""

from __future__ import annotations

import logging

log = logging.getLogger("shoploop.retry")


def announce_retry(*, connection: str, operation: str, failure: str, wait: float,
                   attempt: int, attempts: int | None) -> None:
    """Log that ``operation`` of ``connection`` failed with ``failure`` and is tried again in
    ``wait`` seconds as attempt ``attempt`` (the first call is attempt 1) of ``attempts``
    (None: bounded by time, not by a count)."""
    of = f" of {attempts}" if attempts is not None else ""
    log.warning("%s: %s failed (%s); retrying in %.1f s (attempt %d%s)",
                connection, operation, failure, wait, attempt, of,
                extra={"connection": connection, "operation": operation, "wait": wait,
                       "attempt": attempt, "attempts": attempts})
