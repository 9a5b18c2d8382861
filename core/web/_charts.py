"""Charts as inline SVG, rendered on the server: no JavaScript, no chart library.

Each chart is an ``<svg role="img">`` with a ``<title>`` (what a screen reader announces) and
its numbers as text beside the marks, so it reads without colour too. The colours meet WCAG's
3:1 contrast for graphics against the white page (green #1a7f37, red #c0392b, grey #57606a).
Values are escaped (labels come from data: connection and attribute names).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

GOOD, BAD, OTHER, INK = "#1a7f37", "#c0392b", "#57606a", "#1f2328"
STATUS_COLORS = {"written": GOOD, "confirmed": GOOD, "succeeded": GOOD, "failed": BAD,
                 "conflict": BAD, "interrupted": BAD}


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        + "".join(body) + "</svg>")


def bar_chart(items: Sequence[tuple[str, int | float]], *, title: str,
              color: str = OTHER, colors: Mapping[str, str] | None = None) -> Markup:
    """Horizontal bars, one per (label, value), longest scaled to the width; ``colors``
    picks a colour per label (else ``color``)."""
    row, label_width, bar_width, gap = 26, 230, 300, 6
    width, height = label_width + bar_width + 70, max(row, row * len(items))
    top = max((float(v) for _l, v in items), default=0.0) or 1.0
    body = []
    for index, (label, value) in enumerate(items):
        y = index * row
        length = max(1.0, bar_width * float(value) / top) if value else 0.0
        body.append(
            f'<text x="{label_width - 8}" y="{y + row / 2 + 5:.0f}" text-anchor="end" '
            f'font-size="13" fill="{INK}">{escape(str(label))[:40]}</text>'
            f'<rect x="{label_width}" y="{y + gap / 2:.0f}" width="{length:.1f}" '
            f'height="{row - gap}" fill="{(colors or {}).get(label, color)}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + row / 2 + 5:.0f}" '
            f'font-size="13" fill="{INK}">{_number(value)}</text>')
    return _svg(width, height, title, body)


def run_history_chart(runs: Sequence[tuple[str, int, int]], *, title: str,
                      legend: tuple[str, str] = ("written", "failed")) -> Markup:
    """Columns per run (oldest left): written changes up in green, failed ones down in red,
    on a shared scale, so a failing run stands out at a glance. ``runs`` are
    (label, written, failed), oldest first."""
    column, height, axis = 22, 180, 100
    # Wide enough for the columns and for the legend (about 7 px per character at 12 px).
    legend_width = 50 + 8 * len(legend[0]) + 24 + 16 + 8 * len(legend[1])
    width = max(260, column * len(runs) + 40, legend_width)
    top = max((max(w, f) for _l, w, f in runs), default=0) or 1
    scale = (axis - 20) / top
    body = [f'<line x1="30" y1="{axis}" x2="{width - 5}" y2="{axis}" stroke="{OTHER}"/>',
            f'<text x="26" y="24" text-anchor="end" font-size="11" fill="{INK}">'
            f'{_number(top)}</text>',
            f'<text x="26" y="{axis + 4}" text-anchor="end" font-size="11" fill="{INK}">0</text>']
    for index, (label, written, failed) in enumerate(runs):
        x = 34 + index * column
        up, down = written * scale, failed * scale
        body.append(f'<g><title>{escape(label)}: {written} written, {failed} failed</title>'
                    f'<rect x="{x}" y="{axis - up:.1f}" width="{column - 6}" '
                    f'height="{up:.1f}" fill="{GOOD}"/>'
                    f'<rect x="{x}" y="{axis}" width="{column - 6}" height="{down:.1f}" '
                    f'fill="{BAD}"/></g>')
    legend_y, second = height - 20, 50 + 8 * len(legend[0]) + 24
    body.append(f'<rect x="34" y="{legend_y}" width="12" height="12" fill="{GOOD}"/>'
                f'<text x="50" y="{legend_y + 11}" font-size="12" fill="{INK}">'
                f'{escape(legend[0])}</text>'
                f'<rect x="{second}" y="{legend_y}" width="12" height="12" fill="{BAD}"/>'
                f'<text x="{second + 16}" y="{legend_y + 11}" font-size="12" fill="{INK}">'
                f'{escape(legend[1])}</text>')
    return _svg(width, height, title, body)


def _number(value: int | float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
