"""Days as the unit of purchase intervals (no heavy imports: the strategies use it)."""

from __future__ import annotations

from datetime import datetime

DAY_SECONDS = 86_400


def day_of(moment: datetime) -> int:
    """Days since 1970-01-01 (UTC)."""
    return int(moment.timestamp() // DAY_SECONDS)
