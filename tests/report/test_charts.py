"""SVG bar geometry (`tracker.report.charts`): scaled to the largest bar, stacked without drift."""

from __future__ import annotations

from tracker.report.charts import CHART_WIDTH, LABEL_WIDTH, ROW_HEIGHT, VALUE_ROOM, chart

ROOM = CHART_WIDTH - LABEL_WIDTH - VALUE_ROOM
"""Width the largest bar fills."""


def test_largest_bar_fills_the_room_and_others_scale() -> None:
    figure = chart("t", [("a", [("x", 30)]), ("b", [("x", 10), ("y", 5)])], ())
    a, b = figure.bars
    assert (a.segments[0].x, a.segments[0].width) == (LABEL_WIDTH, ROOM)
    # b's stack: 10 of 30, then 15 of 30, each end scaled from the running total.
    assert [(s.kind, s.x, s.width, s.value) for s in b.segments] == [
        ("x", LABEL_WIDTH, ROOM // 3, 10),
        ("y", LABEL_WIDTH + ROOM // 3, ROOM // 6, 5),
    ]
    assert (a.total, b.total) == (30, 15)
    assert (a.y, b.y) == (0, ROW_HEIGHT)


def test_empty_rows_and_segments_are_left_out() -> None:
    figure = chart("t", [("none", [("x", 0)]), ("some", [("x", 0), ("y", 2)])], ())
    assert [bar.label for bar in figure.bars] == ["some"]
    assert [segment.kind for segment in figure.bars[0].segments] == ["y"]


def test_a_tiny_value_stays_visible() -> None:
    figure = chart("t", [("big", [("x", 100_000)]), ("tiny", [("x", 1)])], ())
    assert figure.bars[1].segments[0].width == 1


def test_nothing_to_draw() -> None:
    figure = chart("t", [("a", [("x", 0)])], ())
    assert figure.empty and figure.bars == ()
    assert figure.height == ROW_HEIGHT  # still one row high, never a zero-height SVG


def test_legend_only_for_several_kinds() -> None:
    assert chart("t", [("a", [("x", 1)])], ("x",)).legend == ()
    legend = chart("t", [("a", [("x", 1)])], ("added", "action code only")).legend
    assert [(item.kind, item.title) for item in legend] == [
        ("added", "added"),
        ("action-code-only", "action code only"),
    ]
    # Each item starts after the previous swatch (16), its text and a gap.
    assert legend[1].x > legend[0].text_x + len("added")
