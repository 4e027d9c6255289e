"""The legend of the årshjul drawing: each ring's colour and title, and its series beneath.

Laid out below the wheel in up to three columns, filled top to bottom in ring order (inside
out, as the heading says) and balanced by the number of lines; long names end in "…" so a
column never runs into the next.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from styrhjul.calendar.wheel_svg import FONT, INK, LINE, sub, text_width

__all__ = ["Legend"]


class Legend:
    """The legend's layout: each ring (swatch and title) and its series, in up to 3 columns."""

    def __init__(
        self, entries: Sequence[tuple[str, str, str, Sequence[tuple[str, int]]]], *, width: float
    ) -> None:
        self.entries = list(entries)  # (ring key, title, colour, [(series, count)])
        self.columns = max(1, min(3, len(self.entries)))
        self.column_width = width / self.columns
        self.chars = int((self.column_width - 30) / (text_width("x")))
        self.series_chars = int((self.column_width - 42) / (text_width("x", 11)))
        lines = [1 + len(series) for _, _, _, series in self.entries]
        target = math.ceil(sum(lines) / self.columns)
        self.column_of: list[int] = []
        column, used = 0, 0
        for n in lines:
            if used and used + n > target and column < self.columns - 1:
                column, used = column + 1, 0
            self.column_of.append(column)
            used += n
        heights = [0.0] * self.columns
        for n, c in zip(lines, self.column_of, strict=True):
            heights[c] += 20 + (n - 1) * LINE
        self.height = 24 + max(heights) if self.entries else 0.0

    def draw(self, layer: ET.Element, left: float, top: float) -> None:
        """Draw the legend into ``layer`` with its top left corner at (``left``, ``top``)."""
        if not self.entries:
            return
        sub(
            layer,
            "text",
            {"x": left, "y": top + 12, "font-size": FONT, "font-weight": "bold", "fill": INK},
            "Ringar inifrån och ut",
        )
        y = [top + 24.0] * self.columns
        for (key, title, colour, series), column in zip(self.entries, self.column_of, strict=True):
            x = left + column * self.column_width
            group = sub(layer, "g", {"class": "wheel-legend-ring", "data-ring": key})
            sub(
                group,
                "rect",
                {
                    "class": "wheel-swatch",
                    "x": x,
                    "y": y[column] + 2,
                    "width": 16,
                    "height": 10,
                    "fill": colour,
                },
            )
            sub(
                group,
                "text",
                {"x": x + 22, "y": y[column] + 11.5, "font-size": FONT, "fill": INK},
                _fit(title, self.chars),
            )
            y[column] += 20
            for name, count in series:
                sub(
                    group,
                    "line",
                    {
                        "x1": x + 27,
                        "y1": y[column] - 4,
                        "x2": x + 27,
                        "y2": y[column] + 7,
                        "stroke": colour,
                        "stroke-width": 1.5,
                    },
                )
                sub(
                    group,
                    "text",
                    {
                        "class": "wheel-series",
                        "x": x + 34,
                        "y": y[column] + 6.5,
                        "font-size": 11,
                        "fill": "#444444",
                    },
                    _fit(f"{name} ({count} tillfällen)", self.series_chars),
                )
                y[column] += LINE


def _fit(text: str, chars: int) -> str:
    """``text`` on one line of at most ``chars`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"
