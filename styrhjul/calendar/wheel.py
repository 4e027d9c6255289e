"""The årshjul as a picture: one year's governance events drawn as an SVG wheel.

Swedish governance documents draw the year as a wheel: twelve months clockwise from January
at the top, each level of the chain on its own ring. :func:`render_wheel` draws that wheel
from plain data (rings and events), so the CLI can write it to a file and the web dashboard
can embed the same SVG inline.

Core layer: a pure function of its arguments, standard library only, no clock (``today`` is
given) and no I/O. Same input, same bytes. The SVG uses no ids, scripts or external
resources, so several wheels can sit on one page; text is real ``<text>`` in sans-serif,
and the picture scales by its viewBox. The geometry (angles, lanes, label placement) lives
in :mod:`styrhjul.calendar.wheel_layout`; the drawing primitives in
:mod:`styrhjul.calendar.wheel_svg` and the legend in :mod:`styrhjul.calendar.wheel_legend`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from styrhjul.calendar import wheel_svg as svg
from styrhjul.calendar.wheel_layout import (
    LabelSpot,
    assign_lanes,
    day_number,
    place_labels,
    year_days,
)
from styrhjul.calendar.wheel_legend import Legend

__all__ = ["PALETTE", "WheelEvent", "WheelRing", "render_wheel"]

# Colour-blind-safe ring colours (Okabe-Ito, without the yellow that vanishes on white),
# then a few darker ones; taken in ring order when a ring names no colour.
PALETTE = (
    "#0072b2",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#e69f00",
    "#56b4e9",
    "#6a3d9a",
    "#8c564b",
    "#1b7837",
    "#b2182b",
    "#444444",
)
_COLOUR = re.compile(
    r"#[0-9a-fA-F]{3,4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|[a-zA-Z]{3,30}"
    r"|(?:rgb|rgba|hsl|hsla)\([0-9.,%/ ]{1,60}\)"
)
_MAX_YEAR = 9999  # the last year a date can hold

# Design units of the viewBox; the picture is ``size`` pixels wide.
_WIDTH = 1000
_R_HOLE = 88  # the centre, holding the year and the title
_R_RINGS = 214  # outer edge of the outermost ring
_R_MONTHS = 242  # outer edge of the band of month names
_R_LABEL = 256  # labels keep outside this circle
_R_ELBOW = _R_MONTHS + 5  # where a leader leaves the wheel
_LABEL_CHARS = 32  # per label line, at most two lines
_MARGIN = 24


@dataclass(frozen=True)
class WheelRing:
    """One ring of the wheel: a level of the chain or a kind of event.

    ``colour`` is any CSS colour (``#0072b2``, ``teal``, ``rgb(0 114 178)``); ``None``
    takes a palette colour by the ring's position.
    """

    key: str
    title: str
    colour: str | None = None


@dataclass(frozen=True)
class WheelEvent:
    """One event on a ring, from ``first`` to ``last`` inclusive (equal for one day).

    Events that share a ``series`` (a weekly meeting) are drawn as small ticks without
    labels of their own; the series is named once, in the legend under its ring.
    """

    ring: str
    title: str
    first: date
    last: date
    series: str | None = None


@dataclass(frozen=True)
class _Placed:
    """An event clipped to the year, with its ring, lane and angles."""

    index: int
    event: WheelEvent
    ring: int
    start: float  # angle where its first day in the year begins
    end: float  # angle where its last day in the year ends
    radius: float  # middle of its lane
    lane_width: float

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2


def render_wheel(
    title: str,
    year: int,
    rings: Sequence[WheelRing],
    events: Sequence[WheelEvent],
    *,
    today: date | None = None,
    size: int = 900,
) -> str:
    """The SVG document (a string, starting with ``<svg``) of ``year``'s wheel.

    Rings are drawn from the inside out in the given order. Events outside ``year`` are
    left out; an event across New Year shows its part in ``year``. ``today`` inside the
    year draws a marker labelled "idag". ``size`` is the width in pixels; the height
    follows from the content. Raises :class:`ValueError` naming the ring or event at fault.
    """
    colours = _check(year, rings, events, size)
    placed = _place_events(year, rings, events)
    by_ring: list[list[_Placed]] = [[] for _ in rings]
    for p in placed:
        by_ring[p.ring].append(p)

    labelled = [p for p in placed if p.event.series is None]
    texts = [svg.wrap(_label_text(p.event, year), _LABEL_CHARS) for p in labelled]
    spots = [
        LabelSpot(p.middle, len(t), svg.text_width(max(t, key=len)))
        for p, t in zip(labelled, texts, strict=True)
    ]
    today_angle = None
    if today is not None and 0 <= day_number(year, today) < year_days(year):
        today_angle = (day_number(year, today) + 0.5) * 360 / year_days(year)
        today_text = [f"idag {_short(today)}"]
        texts.append(today_text)
        spots.append(LabelSpot(today_angle, 1, svg.text_width(today_text[0])))
    boxes = place_labels(spots, radius=_R_LABEL, line_height=svg.LINE, min_x=12)

    label_top = min((b.top for b in boxes), default=0.0)
    label_bottom = max((b.top + b.height for b in boxes), default=0.0)
    top = min(-_R_MONTHS, label_top) - _MARGIN
    legend_top = max(_R_MONTHS, label_bottom) + _MARGIN
    legend = Legend(
        [
            (ring.key, ring.title, colours[i], _series_of(by_ring[i]))
            for i, ring in enumerate(rings)
        ],
        width=_WIDTH - 2 * _MARGIN,
    )
    bottom = legend_top + legend.height + _MARGIN
    doc = svg.Document(
        view=(-_WIDTH / 2, top, _WIDTH, bottom - top),
        size=size,
        label=f"Årshjul {year}: {title}" if title.strip() else f"Årshjul {year}",
        description=_description(year, rings, by_ring, today if today_angle is not None else None),
    )
    _draw_wheel(doc, year, rings)
    for p in placed:
        colour = colours[p.ring]
        key = rings[p.ring].key
        if p.event.series is not None:
            doc.tick(p.start, p.end, p.radius, p.lane_width, colour, key, p.index)
        elif p.event.first == p.event.last or p.end - p.start < 1.5:
            doc.dot(p.middle, p.radius, p.lane_width, colour, key, p.index)
        else:
            doc.arc(p.start, p.end, p.radius, p.lane_width, colour, key, p.index)
    for p, text, box in zip(labelled, texts, boxes, strict=False):
        full = _label_text(p.event, year)
        doc.label(p.middle, p.radius, _R_ELBOW, box, text, full, p.index)
    if today_angle is not None:
        doc.today(today_angle, _R_HOLE, _R_ELBOW, boxes[-1], texts[-1])
    doc.centre(str(year), title)
    legend.draw(doc.layers["legend"], -_WIDTH / 2 + _MARGIN, legend_top)
    return doc.render()


def _check(
    year: int, rings: Sequence[WheelRing], events: Sequence[WheelEvent], size: int
) -> list[str]:
    """Validate the input; return each ring's colour."""
    if not 1 <= year <= _MAX_YEAR:
        raise ValueError(f"wheel year must be between 1 and {_MAX_YEAR}, not {year}")
    if size <= 0:
        raise ValueError(f"wheel size must be a positive number of pixels, not {size}")
    keys: set[str] = set()
    colours: list[str] = []
    for i, ring in enumerate(rings):
        if ring.key in keys:
            raise ValueError(f"wheel ring {i + 1}: key {ring.key!r} is used by an earlier ring")
        keys.add(ring.key)
        colour = ring.colour if ring.colour is not None else PALETTE[i % len(PALETTE)]
        if not _COLOUR.fullmatch(colour):
            raise ValueError(
                f"wheel ring {ring.key!r}: colour {colour!r} is not a CSS colour"
                " (use a name, #rgb, #rrggbb, rgb(...) or hsl(...))"
            )
        colours.append(colour)
    known = ", ".join(repr(r.key) for r in rings) or "none"
    for i, event in enumerate(events):
        where = f"wheel event {i + 1} ({event.title!r})"
        if event.ring not in keys:
            raise ValueError(f"{where}: unknown ring {event.ring!r}; rings: {known}")
        for name in ("first", "last"):
            value = getattr(event, name)
            if isinstance(value, datetime) or not isinstance(value, date):
                raise ValueError(f"{where}: {name} must be a date, not {value!r}")
        if event.last < event.first:
            raise ValueError(
                f"{where}: last day {event.last.isoformat()} is before"
                f" first day {event.first.isoformat()}"
            )
    return colours


def _place_events(
    year: int, rings: Sequence[WheelRing], events: Sequence[WheelEvent]
) -> list[_Placed]:
    """The events inside ``year``, clipped to it, each in its lane of its ring."""
    days = year_days(year)
    ring_of = {ring.key: i for i, ring in enumerate(rings)}
    thickness = (_R_RINGS - _R_HOLE) / max(len(rings), 1)
    per_ring: list[list[tuple[int, WheelEvent, int, int]]] = [[] for _ in rings]
    for index, event in enumerate(events):
        start = max(day_number(year, event.first), 0)
        end = min(day_number(year, event.last), days - 1)
        if start <= end:
            per_ring[ring_of[event.ring]].append((index, event, start, end))
    placed: list[_Placed] = []
    for ring, members in enumerate(per_ring):
        series = list(dict.fromkeys(e.series for _, e, _, _ in members if e.series is not None))
        singles = [m for m in members if m[1].series is None]
        # A one-day dot is wider than its day; give it room so neighbours take another lane.
        intervals = [(s - 2.0, e + 3.0) if s == e else (s - 0.5, e + 1.5) for _, _, s, e in singles]
        lanes, count = assign_lanes(intervals)
        lane_of = {m[0]: len(series) + lane for m, lane in zip(singles, lanes, strict=True)}
        lane_of |= {m[0]: series.index(m[1].series) for m in members if m[1].series is not None}
        total = len(series) + count
        width = thickness / max(total, 1)
        inner = _R_HOLE + ring * thickness
        for index, event, start, end in members:
            lane = lane_of[index]
            placed.append(
                _Placed(
                    index=index,
                    event=event,
                    ring=ring,
                    start=start * 360 / days,
                    end=(end + 1) * 360 / days,
                    radius=inner + width * (lane + 0.5),
                    lane_width=width,
                )
            )
    placed.sort(key=lambda p: p.index)
    return placed


def _draw_wheel(doc: svg.Document, year: int, rings: Sequence[WheelRing]) -> None:
    """Ring backgrounds, month spokes and names: the empty wheel."""
    thickness = (_R_RINGS - _R_HOLE) / max(len(rings), 1)
    for i, ring in enumerate(rings):
        doc.ring(_R_HOLE + thickness * (i + 0.5), thickness, i, ring.key)
    days = year_days(year)
    for month in range(12):
        first = day_number(year, date(year, month + 1, 1)) * 360 / days
        following = day_number(year, date(year, month + 2, 1)) if month < 11 else days
        end = following * 360 / days
        doc.spoke(first, _R_HOLE, _R_MONTHS)
        doc.month_name(svg.MONTHS[month], (first + end) / 2, (_R_RINGS + _R_MONTHS) / 2)
    doc.outline(_R_HOLE, _R_RINGS, _R_MONTHS)


def _series_of(placed: Sequence[_Placed]) -> list[tuple[str, int]]:
    """Each series drawn on a ring, in order of first appearance, with its count in the year."""
    counts: dict[str, int] = {}
    for p in sorted(placed, key=lambda p: (p.start, p.index)):
        if p.event.series is not None:
            counts[p.event.series] = counts.get(p.event.series, 0) + 1
    return list(counts.items())


def _short(day: date) -> str:
    """Day and short month name, as written in Swedish: "17 maj"."""
    return f"{day.day} {svg.SHORT_MONTHS[day.month - 1]}"


def _when(event: WheelEvent, year: int) -> str:
    """The event's dates, short: "17 maj", "14–30 sep", "28 sep–9 okt", "22 dec 2025–7 jan"."""
    first, last = event.first, event.last
    if first == last:
        return _short(first)
    start = _short(first) if first.year == year else f"{_short(first)} {first.year}"
    end = _short(last) if last.year == year else f"{_short(last)} {last.year}"
    if first.year == last.year == year and first.month == last.month:
        start = str(first.day)
    return f"{start}–{end}"


def _label_text(event: WheelEvent, year: int) -> str:
    """The full label: dates, then the title."""
    title = " ".join(event.title.split())
    return f"{_when(event, year)} {title}".strip()


def _description(
    year: int, rings: Sequence[WheelRing], by_ring: Sequence[Sequence[_Placed]], today: date | None
) -> str:
    """The wheel in words, for screen readers: every ring and its events in date order."""
    parts = [f"Årshjul för {year}, januari överst och månaderna medurs."]
    if rings:
        parts.append("Ringar inifrån och ut:")
    for ring, placed in zip(rings, by_ring, strict=True):
        singles = sorted(
            (p for p in placed if p.event.series is None), key=lambda p: (p.start, p.index)
        )
        items = [_label_text(p.event, year) for p in singles]
        items += [f"{name} ({count} tillfällen)" for name, count in _series_of(placed)]
        parts.append(f"{ring.title}: {'; '.join(items) if items else 'inga händelser'}.")
    if today is not None:
        parts.append(f"Idag är det {_short(today)}.")
    return " ".join(parts)
