"""Bar charts of column profiles as server-rendered SVG: axes, ticks, a title and a description.

No script is needed to read them: the SVG is an ``img`` whose accessible name is its ``<title>`` and whose
``<desc>`` says what it shows; every bar carries its own ``<title>`` (its range and count) for pointers.
The y axis starts at zero and ends at a round number above the largest bar; the x axis names the first,
middle and last bins. What a clipped range leaves out is said under the chart (``ColumnProfile.outliers``).
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from catalog.release_facts import ColumnProfile

WIDTH, HEIGHT = 250, 140
LEFT, RIGHT, TOP, BOTTOM = 34, 6, 8, 34  # the plot's margins, room for the axis labels


def nice_top(peak: int) -> int:
    """A round axis end at or above ``peak`` (1, 2, 2.5 or 5 times a power of ten)."""
    if peak <= 1:
        return 1
    power = 10 ** math.floor(math.log10(peak))
    for step in (1, 2, 2.5, 5, 10):
        if peak <= step * power:
            return max(1, int(step * power))
    return peak


def _short(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:g}M"
    if count >= 10_000:
        return f"{count / 1000:g}k"
    return f"{count:,}"


def _tick_label(label: str, first: bool) -> str:
    """A bin's label as an axis label: a histogram bin's start ("1.5 – 3" gives "1.5"), else the label."""
    return label.split(" – ")[0 if first else -1] if " – " in label else label


def bar_chart(profile: ColumnProfile, chart_id: str) -> Markup:
    """The SVG of a histogram or time-series profile."""
    bars = profile.bars
    if not bars:
        return Markup("")
    top = nice_top(max(b.count for b in bars))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    width = plot_w / len(bars)
    gap = min(1.0, width / 4)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" focusable="false" '
        f'aria-label="{escape(profile.summary)}" aria-describedby="{chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(_title(profile))}</title>',
        f'<desc id="{chart_id}-d">{escape(profile.summary)}</desc>',
    ]
    # y axis: 0, half and the top, with light grid lines
    for value in (0, top // 2 if top >= 2 else None, top):
        if value is None:
            continue
        y = TOP + plot_h - plot_h * value / top
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">{_short(value)}</text>')
    for i, bar in enumerate(bars):
        h = plot_h * bar.count / top
        x = LEFT + i * width + gap / 2
        out.append(
            f'<rect x="{x:.2f}" y="{TOP + plot_h - h:.2f}" width="{max(width - gap, 0.5):.2f}" height="{h:.2f}">'
            f"<title>{escape(bar.label)}: {bar.count:,}</title></rect>"
        )
    base = TOP + plot_h
    out.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}"/>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{base}"/>')
    ticks = [(0, "start", _tick_label(bars[0].label, True))]
    if len(bars) >= 3 and len(bars[0].label) <= 12:  # a long label (hours) leaves no room for a middle one
        middle = len(bars) // 2
        ticks.append((middle, "middle", _tick_label(bars[middle].label, True)))
    ticks.append((len(bars), "end", _tick_label(bars[-1].label, False) if profile.kind == "histogram"
                  else bars[-1].label))
    for position, anchor, label in ticks:
        x = LEFT + (position + (0.5 if profile.kind == "timeseries" and position < len(bars) else 0)) * width
        if profile.kind == "timeseries" and position == len(bars):
            x = LEFT + (len(bars) - 0.5) * width
        out.append(f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 3}"/>')
        out.append(f'<text class="tick" x="{x:.1f}" y="{base + 14}" text-anchor="{anchor}">{escape(label)}</text>')
    axis = f"rows per {profile.interval}" if profile.kind == "timeseries" else "rows per bin"
    out.append(f'<text class="axis-title" x="{LEFT}" y="{HEIGHT - 4}">{escape(axis)}; '
               f'{escape(profile.name)} →</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above is escaped


def _title(profile: ColumnProfile) -> str:
    if profile.kind == "timeseries":
        return f"Rows per {profile.interval} of {profile.name}"
    return f"Histogram of {profile.name}"
