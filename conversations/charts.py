"""Dashboard charts, drawn on the server as SVG with pygal.

Each chart goes into the page as an <img> with a data: URL (the page's policy allows no
inline script or style, and an SVG shown as an image runs nothing); the page puts the same
numbers in a table beside it for screen readers.
"""

import base64

import pygal
from pygal.style import Style

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#2b2118",
    foreground_strong="#2b2118",
    foreground_subtle="#8a7b6a",
    colors=("#1f5f8b", "#c2571a", "#176b50", "#7a3e9d"),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    title_font_size=16,
)
OPTIONS = {
    "style": STYLE,
    "js": [],  # no script: the chart is a picture
    "disable_xml_declaration": True,
    "width": 720,
    "height": 320,
    "print_values": False,
    "show_y_guides": True,
}


def _data_url(chart):
    svg = chart.render()
    svg = svg.encode("utf-8") if isinstance(svg, str) else svg
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def by_day_chart(days, *, last=30):
    """Doors knocked and conversations on each of the last `last` days with visits."""
    days = days[-last:]
    chart = pygal.Bar(title="Doors and conversations by day", x_label_rotation=30, **OPTIONS)
    chart.x_labels = [day.label for day in days]
    chart.add("Doors knocked", [day.doors for day in days])
    chart.add("Conversations", [day.conversations for day in days])
    return _data_url(chart)


def ratings_chart(before, after):
    """How many rated each point 0–10, before and after (canvasser-reported)."""
    chart = pygal.Bar(title="Ratings before and after (canvasser-reported)", **OPTIONS)
    chart.x_labels = [str(point) for point in range(11)]
    chart.add("Before", [before.get(point, 0) for point in range(11)])
    chart.add("After", [after.get(point, 0) for point in range(11)])
    return _data_url(chart)


def themes_chart(themes):
    """How many story notes named each theme, most heard first."""
    chart = pygal.HorizontalBar(title="Story themes heard", show_legend=False, **OPTIONS)
    ordered = themes.most_common()
    chart.x_labels = [theme for theme, _count in ordered]
    chart.add("Story notes", [count for _theme, count in ordered])
    return _data_url(chart)
