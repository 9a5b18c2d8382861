"""Resumable cursors for the three streams, kept apart from HTTP so they can be reasoned about.

All lists are read ``orderby=id&order=asc`` with ``page``/``per_page``: under a fixed filter the
id order is stable, so a scan resumed at page *n* continues where it stopped (new records append
at the end). Two kinds of change detection:

* **Orders and products** — ``modified_after`` (``after`` would be the *creation* date). The
  checkpoint is a watermark ``since`` plus the ids seen exactly at it; the next scan asks for
  ``modified_after = since - 1 s`` with ``dates_are_gmt=true`` (without it WooCommerce reads the
  date in the site's timezone) and drops what it already has — correct whether the platform
  compares inclusively or not. The watermark is capped at the server time the scan started, so a
  record changed *during* a scan (after its page was read) is read again next time.
  ``modified_after``/``dates_are_gmt`` exist since WooCommerce 5.8 (woocommerce/woocommerce#30585);
  dates without it are site-local (woocommerce/woocommerce#12594), and reports that the flag is
  ignored (#37809) are why records are also filtered here, on ``date_modified_gmt``.
* **Customers** — WooCommerce has no modified-since filter for customers (``wc/v3/customers``
  takes ``context, page, per_page, search, exclude, include, offset, order, orderby`` (``id``,
  ``include``, ``name``, ``registered_date``), ``email`` and ``role``:
  ``WC_REST_Customers_V1_Controller::get_collection_params``, inherited unchanged by V2 and V3,
  https://github.com/woocommerce/woocommerce/blob/trunk/plugins/woocommerce/includes/rest-api/Controllers/Version1/class-wc-rest-customers-v1-controller.php),
  so every read is a full scan. A short digest per customer of what was last delivered is kept
  outside the cursor (:class:`~shoploop.hooks.RecordDigests`); each page looks up its own
  customers' digests and only new and changed customers are delivered. The cursor is the scan
  position alone, so a page costs the same at 10k customers as at 1M. Digests of deleted
  customers stay (WordPress never reuses a user id, so they never match anyone).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from ._mapping import format_time, parse_time


class WatermarkPosition(BaseModel):
    """Cursor of ``orders`` and ``products``."""

    since: str | None = None
    """Watermark (UTC, ISO seconds) of the last finished scan; None: from the beginning."""
    skip: list[str] = Field(default_factory=list)
    """``id@modified`` of records already delivered at or after ``since``."""
    page: int = 1
    started: str | None = None
    """Server time when the current scan read its first page."""
    max: str | None = None
    at_max: list[str] = Field(default_factory=list)
    recent: list[str] = Field(default_factory=list)
    """``id@modified`` of records delivered in this scan modified at or after ``started``."""
    after_id: int = 0
    """Highest id read in this scan. A record modified during the scan enters the filtered
    set at its (lower) id and shifts later pages: what comes again is skipped by id, and the
    newcomer is read by the next scan (its modification is newer than ``started``)."""
    total: int | None = None
    """``X-WP-Total`` when the scan began: fewer at the end means records vanished (trashed)
    and shifted pages backwards, so a record may have been missed — the scan is repeated."""

    def query(self, margin: float = 1.0) -> dict[str, Any]:
        """``margin`` seconds before the watermark: 1 s covers inclusive/exclusive comparison;
        a store that ignores ``dates_are_gmt`` needs its UTC offset (up to 14 h)."""
        if self.since is None:
            return {}
        since = parse_time(self.since)
        assert since is not None
        return {"modified_after": format_time(since - timedelta(seconds=margin)),
                "dates_are_gmt": "true"}


def _stamp(record_id: str, modified: datetime) -> str:
    return f"{record_id}@{format_time(modified)}"


def filter_watermark(position: WatermarkPosition, records: list[tuple[str, datetime | None, Any]],
                     total: int | None = None) -> list[Any]:
    """Keep the records not delivered yet and advance ``max``/``at_max``/``recent`` in place."""
    since, started = parse_time(position.since), parse_time(position.started)
    if position.total is None:
        position.total = total
    skip = set(position.skip)
    kept = []
    top = parse_time(position.max)
    at_max = set(position.at_max)
    after_id = position.after_id
    for record_id, modified, item in records:
        number = int(record_id) if record_id.isdigit() else 0
        if number and number <= after_id:
            continue
        position.after_id = max(position.after_id, number)
        if since is not None and modified is not None and (
                modified < since or _stamp(record_id, modified) in skip):
            continue
        kept.append(item)
        if modified is None:
            continue
        if started is not None and modified >= started:
            position.recent.append(_stamp(record_id, modified))
        if top is None or modified > top:
            top, at_max = modified, {_stamp(record_id, modified)}
        elif modified == top:
            at_max.add(_stamp(record_id, modified))
    position.max = format_time(top) if top else None
    position.at_max = sorted(at_max)
    return kept


def finish_watermark(position: WatermarkPosition,
                     total: int | None = None) -> WatermarkPosition:
    """The checkpoint after the last page. Normally the newest modification seen; when records
    newer than the scan's start were seen (changed during the scan, or dated in the future)
    the scan's start, skipping exactly those versions — a change made during the scan to a
    record read earlier has a new modification time and is read next time."""
    top, started = parse_time(position.max), parse_time(position.started)
    if top is None or (total is not None and position.total is not None
                       and total < position.total):
        return WatermarkPosition(since=position.since, skip=position.skip)
    if started is not None and started < top:
        since, skip = format_time(started), set(position.recent)
    else:
        since, skip = format_time(top), set(position.at_max)
    # Versions skipped earlier that are not older than the new watermark stay skipped.
    floor = parse_time(since)
    skip |= {entry for entry in position.skip
             if (moment := parse_time(entry.rpartition("@")[2])) is not None
             and floor is not None and moment >= floor}
    return WatermarkPosition(since=since, skip=sorted(skip))


class ScanPosition(BaseModel):
    """Cursor of ``customers``: where the scan stands — no per-customer state, so saving it
    costs the same at any store size. The digests live in a
    :class:`~shoploop.hooks.RecordDigests` (the store's ``record_digests`` during imports)."""

    page: int = 1
    compare: bool = False
    """Deliver only customers whose digest changed (False: a first or full read delivers
    every customer; its last page's cursor turns this on)."""
    pending: dict[str, str] = Field(default_factory=dict)
    """customer id → digest of the customers this cursor's page delivered. Saved to the digests
    when the cursor comes back: a caller passes a cursor back only after it took the page, so a
    crash before that re-delivers the page instead of losing it."""
    # A cursor of an earlier version (a hash per customer, ``last_id``; extra keys are ignored)
    # reads as a full scan from its page: the customers from there are delivered once, those
    # before it on the next scan (they have no digest yet). Nothing is lost; the mirror finds
    # them unchanged.


def changed_since(digests: dict[str, str], stored: dict[str, str]) -> dict[str, str]:
    """The entries of ``digests`` (id → digest of what was read) that differ from ``stored``
    (what was delivered last time): new and changed records."""
    return {key: digest for key, digest in digests.items() if stored.get(key) != digest}
