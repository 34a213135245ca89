"""SVG bar-chart geometry for the reports: positions and widths computed here, never in a template.

Bars are scaled to the largest total and stacked segment by segment, so the Markdown and HTML
reports draw the same figures the counts state.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracker.report.views import Bar, Chart, LegendItem, Segment

CHART_WIDTH = 720
LABEL_WIDTH = 190
BAR_HEIGHT = 18
ROW_HEIGHT = 24
VALUE_ROOM = 50


def chart(
    title: str, rows: Sequence[tuple[str, Sequence[tuple[str, int]]]], legend: Sequence[str]
) -> Chart:
    """Bars (stacked when a row has several segments) scaled to the largest total."""
    rows = [(label, parts) for label, parts in rows if sum(value for _, value in parts)]
    largest = max((sum(value for _, value in parts) for _, parts in rows), default=0)
    room = CHART_WIDTH - LABEL_WIDTH - VALUE_ROOM
    bars = []
    for index, (label, parts) in enumerate(rows):
        y = index * ROW_HEIGHT
        x = LABEL_WIDTH
        segments = []
        total = 0
        for kind, value in parts:
            if not value:
                continue
            total += value
            # Scale the running end, not each width, so rounding never drifts a stack's end.
            end = LABEL_WIDTH + round(room * total / largest)
            segments.append(Segment(kind, x, max(end - x, 1), value))
            x = end
        bars.append(
            Bar(
                label=label,
                y=y,
                text_y=y + BAR_HEIGHT - 5,
                segments=tuple(segments),
                total=total,
                total_x=max(x, segments[-1].x + segments[-1].width) + 6,
            )
        )
    legend_y = len(bars) * ROW_HEIGHT + 8
    items = []
    if len(legend) > 1:
        x = 8
        for name in legend:
            items.append(LegendItem(kind=name.replace(" ", "-"), title=name, x=x, text_x=x + 16))
            # About 7 units a character at the chart's 12-unit font, then a gap.
            x += 16 + 7 * len(name) + 14
    height = legend_y + (ROW_HEIGHT if items else 0)
    return Chart(
        title=title,
        width=CHART_WIDTH,
        height=max(height, ROW_HEIGHT),
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        bars=tuple(bars),
        legend=tuple(items),
        legend_y=legend_y,
        empty=not bars,
    )
