"""Shopify's API version calendar: which stable version is newest and which are still supported.

Shopify releases a stable version at the start of every quarter (``YYYY-01``, ``-04``, ``-07``,
``-10``) and supports each "for a minimum of 12 months"; a request for a version past support
"falls forward" and is served by the oldest supported stable version, which the
``X-Shopify-API-Version`` response header then names
(https://shopify.dev/docs/api/usage/versioning,
https://help.shopify.com/en/api/versioning/migration-guide). ``unstable`` is never a supported
version ("Unsupported API versions include unstable, release candidate, and end-of-life
versions", https://shopify.dev/docs/api/admin-graphql/latest/objects/ApiVersion).

Everything here is a pure function of the date it is given, so tests pass a fixed day. Dates are
whole UTC days: a version counts as released on its release day and as unsupported from the day
twelve months later (Shopify switches at 17:00 UTC; a few hours do not matter for a warning).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

UNSTABLE = "unstable"
RELEASE_MONTHS = (1, 4, 7, 10)
SUPPORT_MONTHS = 12
_STABLE = re.compile(r"^(\d{4})-(01|04|07|10)$")


def today_utc() -> date:
    return datetime.now(UTC).date()


def release_date(version: str) -> date:
    """``"2026-10"`` → 2026-10-01. ``ValueError`` for ``unstable`` or a malformed name."""
    match = _STABLE.match(version)
    if match is None:
        raise ValueError(f"{version!r} is not a stable Shopify API version (YYYY-01/04/07/10)")
    return date(int(match.group(1)), int(match.group(2)), 1)


def support_ends(version: str) -> date:
    """The first day ``version`` is no longer supported (release + 12 months)."""
    released = release_date(version)
    return released.replace(year=released.year + SUPPORT_MONTHS // 12)


def _name(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def newest_stable(today: date) -> str:
    """The newest stable version released on or before ``today``."""
    month = max(m for m in RELEASE_MONTHS if m <= today.month)
    return _name(date(today.year, month, 1))


def oldest_supported(today: date) -> str:
    """The oldest stable version still supported on ``today`` — the one Shopify serves a
    request for an expired version with: three quarters before the newest (the one four
    quarters back reached its 12 months when the newest was released)."""
    newest = release_date(newest_stable(today))
    months = newest.year * 12 + newest.month - 1 - 9
    return _name(date(months // 12, months % 12 + 1, 1))


def is_supported(version: str, today: date) -> bool:
    """Released and within its 12 months. ``unstable`` and release candidates are not."""
    if version == UNSTABLE:
        return False
    return release_date(version) <= today < support_ends(version)


def served_version(version: str, today: date) -> str:
    """The version Shopify answers a request for ``version`` with on ``today``: itself while
    supported (and ``unstable`` / a release candidate as asked), the oldest supported one
    once it has expired."""
    if version == UNSTABLE or release_date(version) > today or is_supported(version, today):
        return version
    return oldest_supported(today)


def version_warning(version: str, today: date) -> str | None:
    """What ``shoploop config check`` says about ``api_version = version`` on ``today``, or
    ``None`` when it is a supported stable version."""
    newest = newest_stable(today)
    if version == UNSTABLE:
        return (f"api_version \"unstable\" is Shopify's development version: it changes without "
                f"notice and is not supported; set api_version = \"{newest}\" for production")
    if release_date(version) > today:
        return (f"api_version \"{version}\" is a release candidate until "
                f"{release_date(version).isoformat()}; set api_version = \"{newest}\" (the "
                "newest stable version) for production")
    if is_supported(version, today):
        return None
    return (f"api_version \"{version}\" is past Shopify's support (ended "
            f"{support_ends(version).isoformat()}); Shopify now answers it with "
            f"{oldest_supported(today)} — set api_version = \"{newest}\"")
