"""Drawing primitives of the årshjul SVG: the document, its layers and their elements.

:mod:`styrhjul.calendar.wheel` decides what to draw; this module knows how it looks (sizes,
greys, strokes) and writes it with :mod:`xml.etree.ElementTree`, which escapes every text
and attribute. Numbers are written with two decimals at most and attributes in a fixed
order, so the same drawing gives the same bytes. Elements carry ``class`` and ``data-``
attributes (ring key, event index) so that tests and style sheets can find them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from styrhjul.calendar.names import MONTHS, SHORT_MONTHS
from styrhjul.calendar.wheel_layout import PlacedLabel, point

__all__ = [
    "FONT",
    "INK",
    "LINE",
    "MONTHS",
    "SHORT_MONTHS",
    "Document",
    "clean",
    "sub",
    "text_width",
    "wrap",
]

FONT = 12  # labels and legend, in design units
LINE = 15  # one label line
_CHAR = 0.6  # estimated glyph width per unit of font size; generous for sans-serif
INK = "#222222"
_GREY = "#8a9099"
_RULE = "#c3c8cf"
_RING_GREYS = ("#f1f3f5", "#e4e7eb")
_TODAY = "#c62828"
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (control characters)."""
    return _NOT_XML.sub("\ufffd", text)


def text_width(text: str, font: float = FONT) -> float:
    """Estimated width of ``text``: 0.6 of the font size per character."""
    return _CHAR * font * len(text)


def wrap(text: str, chars: int, max_lines: int = 2) -> list[str]:
    """``text`` in at most ``max_lines`` lines of ``chars``; what does not fit ends in "…".

    Text that fits in two lines is split where the lines come out most even, and never
    after a dash, so that no line is left with a lone "VC" or ends in "–".
    """
    words = text.split()
    if len(" ".join(words)) > chars and max_lines == 2:
        split = _balanced_split(words, chars)
        if split is not None:
            return [" ".join(words[:split]), " ".join(words[split:])]
    lines: list[str] = []
    while words and len(lines) < max_lines:
        take = len(words) if len(lines) == max_lines - 1 else 1
        while take < len(words) and len(" ".join(words[: take + 1])) <= chars:
            take += 1
        line = " ".join(words[:take])
        words = words[take:]
        if len(line) > chars:
            line = line[: chars - 1].rstrip() + "…"
        lines.append(line)
    return lines or [""]


def _balanced_split(words: Sequence[str], chars: int) -> int | None:
    """Where to split ``words`` into two lines of ``chars``, if anywhere.

    The lines should come out even, a break after a comma is preferred, and a number stays
    with its neighbours ("17 maj", "Dialogrunda 2", "v. 44"); no line ends in a dash.
    """
    best: tuple[int, int] | None = None  # (cost, -split)
    for split in range(1, len(words)):
        before, after = words[split - 1], words[split]
        first, second = " ".join(words[:split]), " ".join(words[split:])
        if (
            len(first) > chars
            or len(second) > chars
            or before in {"–", "-", "—"}
            or before[-1].isdigit()
            or after[0].isdigit()
        ):
            continue
        cost = max(len(first), len(second)) - (8 if before.endswith(",") else 0)
        if best is None or (cost, -split) < best:
            best = (cost, -split)
    return None if best is None else -best[1]


def _num(value: float) -> str:
    """A coordinate with at most two decimals and no negative zero."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def sub(
    parent: ET.Element, tag: str, attrs: dict[str, str | float], text: str | None = None
) -> ET.Element:
    """A child element; numbers are formatted, text is cleaned (escaping is ElementTree's)."""
    element = ET.SubElement(
        parent, tag, {k: v if isinstance(v, str) else _num(v) for k, v in attrs.items()}
    )
    if text is not None:
        element.text = clean(text)
    if parent.tag != "text":
        element.tail = "\n"
    return element


def _arc_path(start: float, end: float, radius: float) -> str:
    """An SVG path along the circle of ``radius`` from angle ``start`` clockwise to ``end``."""
    if end - start >= 359.99:
        # A full turn is two half turns; one arc command cannot end where it starts.
        x0, y0 = point(radius, start)
        x1, y1 = point(radius, start + 180)
        r = _num(radius)
        half = f"A{r} {r} 0 0 1 {_num(x1)} {_num(y1)}A{r} {r} 0 0 1 {_num(x0)} {_num(y0)}"
        return f"M{_num(x0)} {_num(y0)}{half}"
    x0, y0 = point(radius, start)
    x1, y1 = point(radius, end)
    large = 1 if end - start > 180 else 0
    r = _num(radius)
    return f"M{_num(x0)} {_num(y0)}A{r} {r} 0 {large} 1 {_num(x1)} {_num(y1)}"


class Document:
    """An SVG document of the wheel, centred on (0, 0), built layer by layer.

    The layers are made up front in drawing order (leaders under month names and events,
    labels and the centre on top), so callers may add to them in any order; empty layers
    are left out of the document.
    """

    def __init__(
        self, *, view: tuple[float, float, float, float], size: int, label: str, description: str
    ) -> None:
        x, y, w, h = view
        self.root = ET.Element(
            "svg",
            {
                "xmlns": "http://www.w3.org/2000/svg",
                "viewBox": " ".join(_num(v) for v in view),
                "width": str(size),
                "height": _num(size * h / w),
                "role": "img",
                "aria-label": clean(label),
                "font-family": "sans-serif",
            },
        )
        self.root.text = "\n"
        sub(self.root, "title", {}, label)
        sub(self.root, "desc", {}, description)
        sub(self.root, "rect", {"x": x, "y": y, "width": w, "height": h, "fill": "#ffffff"})
        names = ("rings", "leaders", "months", "events", "today", "labels", "centre", "legend")
        self.layers = {n: sub(self.root, "g", {"class": f"wheel-{n}"}) for n in names}
        for layer in self.layers.values():
            layer.text = "\n"

    def ring(self, radius: float, thickness: float, order: int, key: str) -> None:
        sub(
            self.layers["rings"],
            "circle",
            {
                "class": "wheel-ring",
                "data-ring": key,
                "cx": 0,
                "cy": 0,
                "r": radius,
                "fill": "none",
                "stroke": _RING_GREYS[order % 2],
                "stroke-width": thickness,
            },
        )

    def spoke(self, angle: float, inner: float, outer: float) -> None:
        (x0, y0), (x1, y1) = point(inner, angle), point(outer, angle)
        sub(
            self.layers["months"],
            "line",
            {"x1": x0, "y1": y0, "x2": x1, "y2": y1, "stroke": _RULE, "stroke-width": 1},
        )

    def month_name(self, name: str, angle: float, radius: float) -> None:
        # Along the circle; turned half a turn in the lower half so no name is upside down.
        turn = (angle + 90) % 180 - 90  # in [-90, 90)
        x, y = point(radius, angle)
        sub(
            self.layers["months"],
            "text",
            {
                "class": "wheel-month",
                "transform": f"translate({_num(x)} {_num(y)}) rotate({_num(turn)})",
                "y": 4.5,
                "text-anchor": "middle",
                "font-size": 13,
                "fill": "#333333",
            },
            name,
        )

    def outline(self, *radii: float) -> None:
        for radius in radii:
            sub(
                self.layers["months"],
                "circle",
                {
                    "class": "wheel-outline",
                    "cx": 0,
                    "cy": 0,
                    "r": radius,
                    "fill": "none",
                    "stroke": _RULE,
                    "stroke-width": 1,
                },
            )

    def _event(
        self, tag: str, key: str, index: int, kind: str, attrs: dict[str, str | float]
    ) -> None:
        base: dict[str, str | float] = {
            "class": f"wheel-event wheel-{kind}",
            "data-ring": key,
            "data-event": str(index),
        }
        sub(self.layers["events"], tag, base | attrs)

    def arc(
        self,
        start: float,
        end: float,
        radius: float,
        lane: float,
        colour: str,
        key: str,
        index: int,
    ) -> None:
        self._event(
            "path",
            key,
            index,
            "arc",
            {
                "d": _arc_path(start, end, radius),
                "fill": "none",
                "stroke": colour,
                "stroke-width": lane * 0.62,
            },
        )

    def dot(
        self, angle: float, radius: float, lane: float, colour: str, key: str, index: int
    ) -> None:
        x, y = point(radius, angle)
        self._event(
            "circle",
            key,
            index,
            "dot",
            {
                "cx": x,
                "cy": y,
                "r": min(lane * 0.4, 5.5),
                "fill": colour,
                "stroke": "#ffffff",
                "stroke-width": 0.8,
            },
        )

    def tick(
        self,
        start: float,
        end: float,
        radius: float,
        lane: float,
        colour: str,
        key: str,
        index: int,
    ) -> None:
        if end - start > 1.5:
            self._event(
                "path",
                key,
                index,
                "tick",
                {
                    "d": _arc_path(start, end, radius),
                    "fill": "none",
                    "stroke": colour,
                    "stroke-width": lane * 0.35,
                },
            )
            return
        middle = (start + end) / 2
        (x0, y0), (x1, y1) = (
            point(radius - lane * 0.35, middle),
            point(radius + lane * 0.35, middle),
        )
        self._event(
            "line",
            key,
            index,
            "tick",
            {"x1": x0, "y1": y0, "x2": x1, "y2": y1, "stroke": colour, "stroke-width": 1.2},
        )

    def _leader(
        self, layer: str, angle: float, inner: float, elbow: float, box: PlacedLabel, colour: str
    ) -> None:
        (x0, y0), (x1, y1) = point(inner, angle), point(elbow, angle)
        x2, y2 = box.x - box.side * 3, box.top + LINE / 2
        sub(
            self.layers[layer],
            "path",
            {
                "class": "wheel-leader",
                "d": f"M{_num(x0)} {_num(y0)}L{_num(x1)} {_num(y1)}L{_num(x2)} {_num(y2)}",
                "fill": "none",
                "stroke": colour,
                "stroke-width": 0.7,
            },
        )

    def _text(
        self, parent: ET.Element, box: PlacedLabel, lines: Sequence[str], colour: str
    ) -> None:
        # One <text> per line and no <tspan>: renderers differ in anchoring tspans (cairosvg
        # anchors each piece on its own), and plain lines read the same everywhere.
        for k, line in enumerate(lines):
            attrs: dict[str, str | float] = {
                "x": box.x,
                "y": box.top + 11.5 + k * LINE,
                "text-anchor": "start" if box.side > 0 else "end",
                "font-size": FONT,
                "fill": colour,
            }
            sub(parent, "text", attrs, line)

    def label(
        self,
        angle: float,
        radius: float,
        elbow: float,
        box: PlacedLabel,
        lines: Sequence[str],
        full: str,
        index: int,
    ) -> None:
        self._leader("leaders", angle, radius, elbow, box, _GREY)
        group = sub(self.layers["labels"], "g", {"class": "wheel-label", "data-event": str(index)})
        sub(group, "title", {}, full)
        self._text(group, box, lines, INK)

    def today(
        self, angle: float, inner: float, elbow: float, box: PlacedLabel, lines: Sequence[str]
    ) -> None:
        self._leader("today", angle, inner, elbow, box, _TODAY)
        self.layers["today"][-1].set("stroke-width", "1.8")
        self.layers["today"][-1].set("class", "wheel-today-marker")
        self._text(self.layers["today"], box, lines, _TODAY)

    def centre(self, year: str, title: str) -> None:
        lines = wrap(title, 22, max_lines=3) if title.strip() else []
        top = -6 - len(lines) * 7
        layer = self.layers["centre"]
        sub(
            layer,
            "text",
            {
                "class": "wheel-year",
                "x": 0,
                "y": top + 6,
                "text-anchor": "middle",
                "font-size": 34,
                "font-weight": "bold",
                "fill": INK,
            },
            year,
        )
        for k, line in enumerate(lines):
            sub(
                layer,
                "text",
                {
                    "class": "wheel-title",
                    "x": 0,
                    "y": top + 26 + k * 14,
                    "text-anchor": "middle",
                    "font-size": 12,
                    "fill": "#444444",
                },
                line,
            )

    def render(self) -> str:
        for name, layer in list(self.layers.items()):
            if len(layer) == 0:
                self.root.remove(layer)
                del self.layers[name]
        return ET.tostring(self.root, encoding="unicode") + "\n"
