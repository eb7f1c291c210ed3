"""A horizontal bar chart as SVG geometry, drawn server-side (no script, no external asset): the template places
the rectangles and the (escaped) labels."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, BAR_H, GAP, LABEL_W = 560, 22, 8, 150


@dataclass(frozen=True, kw_only=True)
class Bar:
    label: str
    value: int
    css: str
    y: int
    width: int


@dataclass(frozen=True, kw_only=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_w: int


def bar_chart(rows: list[tuple[str, int, str]]) -> BarChart:
    """`rows`: (label, value, css class). Bars scale to the largest value; a zero value gets no bar."""
    top = max((value for _, value, _ in rows), default=0) or 1
    room = WIDTH - LABEL_W - 60
    bars = [Bar(label=label, value=value, css=css, y=i * (BAR_H + GAP), width=round(room * value / top))
            for i, (label, value, css) in enumerate(rows)]
    return BarChart(bars=bars, width=WIDTH, height=max(len(rows), 1) * (BAR_H + GAP), label_w=LABEL_W)
