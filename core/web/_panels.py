"""The dashboard's panels (docs/web.md, "Dashboard"): storefront events per placement, the
referral funnel and one code's ledger, the webhook deliveries.

Charts are the server-rendered SVG of ``_charts``; every store read runs in the thread pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from ._charts import BAD, GOOD, bar_chart
from ._messages import translate
from ._pages import choose_language

if TYPE_CHECKING:
    from starlette.requests import Request

    from shoploop.store import PlacementFigures, Store

PLACEMENT_CHARTS = 12
"""At most this many placements get a chart (the table lists every one)."""

DELIVERY_COLORS = {"processed": GOOD, "failed": BAD}


def placement_label(figures: PlacementFigures) -> str:
    return f"{figures.connection} · {figures.placement}"


def placement_charts(request: Request,
                     rows: list[PlacementFigures]) -> list[tuple[str, Markup]]:
    """Per placement: impressions, clicks and add-to-carts as bars (the rates are in the
    table), labelled in the page's language."""
    language = choose_language(request)
    labels = [translate(language, key) for key in ("impressions", "clicks", "add_to_carts")]
    return [(placement_label(row), bar_chart(
        list(zip(labels, (row.impressions, row.clicks, row.add_to_carts), strict=True)),
        title=translate(language, "placement_chart", placement=placement_label(row))))
        for row in rows[:PLACEMENT_CHARTS]]


def funnel_chart(request: Request, rows: list[dict[str, Any]]) -> Markup:
    """The funnel's stages as bars (``rows`` carry their translated ``label``)."""
    language = choose_language(request)
    return bar_chart([(row["label"], row["count"]) for row in rows],
                     title=translate(language, "referral_funnel"), color=GOOD)


def delivery_chart(request: Request, counts: dict[str, int]) -> Markup:
    language = choose_language(request)
    return bar_chart(list(counts.items()), colors=DELIVERY_COLORS,
                     title=translate(language, "deliveries_by_status"))


async def funnel_context(request: Request, store: Store) -> dict[str, Any]:
    """The funnel's rows and chart (the overview's panel and the referrals page)."""
    from ._panels_data import referral_funnel_rows

    language = choose_language(request)
    rows = [{**row, "label": translate(language, f"stage_{row['stage']}")}
            for row in await run_in_threadpool(referral_funnel_rows, store)]
    return {"funnel": rows, "funnel_chart": funnel_chart(request, rows),
            "funnel_empty": not any(row["count"] for row in rows)}
