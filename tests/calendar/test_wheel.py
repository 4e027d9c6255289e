"""The årshjul drawing: parsed back as XML, measured, and rendered by a real SVG renderer."""

from __future__ import annotations

import math
import struct
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import cairosvg  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from styrhjul.calendar.wheel import PALETTE, WheelEvent, WheelRing, render_wheel

NS = "{http://www.w3.org/2000/svg}"
MONTHS = [
    *("januari", "februari", "mars", "april", "maj", "juni"),
    *("juli", "augusti", "september", "oktober", "november", "december"),
]


def realistic_rings() -> list[WheelRing]:
    return [
        WheelRing("politik", "Politiska beslut och dialoger"),
        WheelRing("forvaltning", "Förvaltningen: UD, SG och LG"),
        WheelRing("dialog_ud", "Dialoger UD – VC och avdelningschefer"),
        WheelRing("dialog_vc", "Dialoger VC – rektorer"),
        WheelRing("kvalitet", "Kvalitetsrapporten"),
        WheelRing("lov", "Skollov", colour="#8c8c8c"),
    ]


def realistic_events(year: int = 2026) -> list[WheelEvent]:
    """One year of SFF's governance calendar as the documents describe it."""

    def d(month: int, day: int, y: int = year) -> date:
        return date(y, month, day)

    def one(ring: str, title: str, day: date) -> WheelEvent:
        return WheelEvent(ring, title, day, day)

    events = [
        one("politik", "KS-dialog om inriktning, mål och ekonomi", d(4, 14)),
        one("politik", "BUN lämnar förslag till mål och ekonomi", d(4, 22)),
        one("politik", "Finansdirektörens dialog med oppositionen", d(5, 12)),
        one("politik", "KF beslutar ramarna för nästa år", d(6, 16)),
        one("politik", "KS-dialog om verksamhet och ekonomi", d(10, 13)),
        one("politik", "BUN beslutar internbudget", d(11, 25)),
        one("forvaltning", "Förslag VP-uppdrag och nulägesanalyser", d(5, 5)),
        one("forvaltning", "LG och SG stämmer av VP-utkastet", d(5, 17)),
        one("forvaltning", "LG stämmer av VP-utkastet", d(5, 31)),
        one("forvaltning", "Verksamhetsplanen klar", d(8, 11)),
        one("forvaltning", "Särskild ekonomisk uppföljning", d(9, 15)),
        WheelEvent("dialog_vc", "Dialogrunda 2, VC – rektorer", d(1, 19), d(2, 6)),
        WheelEvent("dialog_vc", "Dialogrunda 3, VC – rektorer", d(4, 20), d(5, 8)),
        WheelEvent("dialog_vc", "Dialogrunda 1, VC – rektorer", d(9, 14), d(10, 2)),
        WheelEvent("dialog_ud", "Dialogrunda 2, UD – VC", d(2, 16), d(3, 6)),
        WheelEvent("dialog_ud", "Dialogrunda 3, UD – VC", d(5, 18), d(6, 5)),
        WheelEvent("dialog_ud", "Dialogrunda 1, UD – VC", d(10, 12), d(10, 23)),
        one("kvalitet", "Uppdatera kvalitetsrapporten inför runda 2", d(1, 12)),
        one("kvalitet", "Uppdatera kvalitetsrapporten inför runda 3", d(4, 10)),
        one("kvalitet", "Uppdatera kvalitetsrapporten inför runda 1", d(9, 4)),
        WheelEvent("kvalitet", "Kvalitetsrapporten sammanställs", d(12, 1), d(12, 18)),
        WheelEvent("lov", "Jullov", d(12, 20, year - 1), d(1, 6)),
        WheelEvent("lov", "Sportlov (v. 9)", d(2, 23), d(2, 27)),
        WheelEvent("lov", "Påsklov", d(4, 6), d(4, 10)),
        WheelEvent("lov", "Sommarlov", d(6, 12), d(8, 17)),
        WheelEvent("lov", "Höstlov (v. 44)", d(10, 26), d(10, 30)),
        WheelEvent("lov", "Jullov", d(12, 21), d(1, 8, year + 1)),
    ]
    tuesday = d(1, 6)
    while tuesday.year == year:
        if not date(year, 6, 23) <= tuesday <= date(year, 8, 4):
            events.append(
                WheelEvent(
                    "forvaltning", "Ledningsgruppen", tuesday, tuesday, "Ledningsgruppen, tisdagar"
                )
            )
        tuesday += timedelta(days=7)
    for month, day in (
        (1, 28),
        (2, 25),
        (3, 25),
        (5, 27),
        (6, 17),
        (8, 26),
        (9, 23),
        (10, 21),
        (12, 16),
    ):
        events.append(
            WheelEvent("politik", "BUN", d(month, day), d(month, day), "BUN:s sammanträden")
        )
    return events


def render(events: list[WheelEvent] | None = None, **kwargs: object) -> ET.Element:
    svg = render_wheel(
        str(kwargs.pop("title", "Skol- och fritidsförvaltningen")),
        int(kwargs.pop("year", 2026)),  # type: ignore[call-overload]
        kwargs.pop("rings", realistic_rings()),  # type: ignore[arg-type]
        realistic_events() if events is None else events,
        **kwargs,  # type: ignore[arg-type]
    )
    assert svg.startswith("<svg ")
    return ET.fromstring(svg)


def with_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def colour_of(element: ET.Element) -> str | None:
    return element.get("fill") if element.tag == f"{NS}circle" else element.get("stroke")


def numbers(text: str) -> list[float]:
    return [float(n) for n in text.replace("M", " ").replace("A", " ").replace("L", " ").split()]


def anchor_point(element: ET.Element) -> tuple[float, float]:
    """Where an event's marker starts: a dot's centre, a tick's inner end, an arc's start."""
    if element.tag == f"{NS}circle":
        return float(element.get("cx", "nan")), float(element.get("cy", "nan"))
    if element.tag == f"{NS}line":
        return float(element.get("x1", "nan")), float(element.get("y1", "nan"))
    x, y = numbers(element.get("d", ""))[:2]
    return x, y


def end_point(element: ET.Element) -> tuple[float, float]:
    x, y = numbers(element.get("d", ""))[-2:]
    return x, y


def angle(xy: tuple[float, float]) -> float:
    """Degrees clockwise from 12 o'clock around the centre (0, 0), SVG's y pointing down."""
    x, y = xy
    return math.degrees(math.atan2(x, -y)) % 360


def label_boxes(root: ET.Element) -> list[tuple[float, float, float, float, str]]:
    """Every label line's estimated box (left, top, right, bottom) and its text."""
    boxes = []
    for group in with_class(root, "wheel-label") + with_class(root, "wheel-today"):
        for text in group.iter(f"{NS}text"):
            font = float(text.get("font-size", "nan"))
            content = "".join(text.itertext())
            width = 0.6 * font * len(content)
            x, y = float(text.get("x", "nan")), float(text.get("y", "nan"))
            left = {"start": x, "end": x - width, "middle": x - width / 2}[
                text.get("text-anchor", "start")
            ]
            boxes.append((left, y - font, left + width, y + 0.2 * font, content))
    return boxes


def overlapping(boxes: list[tuple[float, float, float, float, str]]) -> list[tuple[str, str]]:
    return [
        (a[4], b[4])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


def labels_by_event(root: ET.Element) -> dict[int, list[str]]:
    return {
        int(g.get("data-event", "-1")): ["".join(t.itertext()) for t in g.iter(f"{NS}text")]
        for g in with_class(root, "wheel-label")
    }


def test_the_document_is_accessible_scalable_and_self_contained() -> None:
    svg = render_wheel("SFF", 2026, realistic_rings(), realistic_events(), size=1200)
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Årshjul 2026: SFF"
    assert root.get("font-family") == "sans-serif"
    assert root.get("width") == "1200"
    assert len(root.get("viewBox", "").split()) == 4
    assert root.find(f"{NS}title").text == "Årshjul 2026: SFF"  # type: ignore[union-attr]
    desc = root.find(f"{NS}desc").text or ""  # type: ignore[union-attr]
    assert "Politiska beslut och dialoger: 14 apr KS-dialog om inriktning, mål och ekonomi;" in desc
    assert "Ledningsgruppen, tisdagar (45 tillfällen)" in desc
    for forbidden in ("<script", "href", "<image", "<foreignObject", " id=", "url("):
        assert forbidden not in svg
    assert svg == render_wheel("SFF", 2026, realistic_rings(), realistic_events(), size=1200)


def test_every_event_in_the_year_has_one_marker_in_its_rings_colour() -> None:
    rings = realistic_rings()
    events = [
        *realistic_events(),
        WheelEvent("politik", "Förra året", date(2025, 5, 1), date(2025, 5, 2)),
        WheelEvent("politik", "Nästa år", date(2027, 1, 1), date(2027, 1, 1)),
    ]
    root = render(events)
    markers = with_class(root, "wheel-event")
    for i, ring in enumerate(rings):
        colour = ring.colour or PALETTE[i]
        expected = sorted(
            n
            for n, e in enumerate(events)
            if e.ring == ring.key and e.first.year <= 2026 <= e.last.year
        )
        mine = [m for m in markers if m.get("data-ring") == ring.key]
        assert sorted(int(m.get("data-event", "-1")) for m in mine) == expected, ring.key
        assert {colour_of(m) for m in mine} == {colour}, ring.key
    assert len(markers) == len(events) - 2


def test_each_labelled_event_has_a_dated_label_and_series_have_none() -> None:
    events = realistic_events()
    labels = labels_by_event(render(events))
    for n, event in enumerate(events):
        if event.series is None:
            assert n in labels, event.title
        else:
            assert n not in labels, event.title
    by_date = {(events[n].first, events[n].title): lines for n, lines in labels.items()}
    # Two lines where one does not hold the text: even, after a comma, never after a dash.
    assert by_date[date(2026, 5, 17), "LG och SG stämmer av VP-utkastet"] == [
        "17 maj LG och SG",
        "stämmer av VP-utkastet",
    ]
    assert by_date[date(2026, 2, 16), "Dialogrunda 2, UD – VC"] == [
        "16 feb–6 mar Dialogrunda 2,",
        "UD – VC",
    ]
    assert by_date[date(2026, 10, 12), "Dialogrunda 1, UD – VC"] == [
        "12–23 okt Dialogrunda 1, UD – VC"
    ]
    # Across New Year the label gives the other year.
    assert by_date[date(2025, 12, 20), "Jullov"] == ["20 dec 2025–6 jan Jullov"]
    assert by_date[date(2026, 12, 21), "Jullov"] == ["21 dec–8 jan 2027 Jullov"]


def test_titles_are_text_not_markup() -> None:
    rings = [WheelRing("lov", "Skollov & <lov>")]
    events = [
        WheelEvent("lov", "<b>&\"'", date(2026, 5, 17), date(2026, 5, 17)),
        WheelEvent("lov", "Höstlov å ä ö", date(2026, 10, 26), date(2026, 10, 30)),
        WheelEvent("lov", "Nul\x00 och \x1b", date(2026, 3, 3), date(2026, 3, 3)),
    ]
    svg = render_wheel("Ett & två", 2026, rings, events)
    root = ET.fromstring(svg)
    assert not [e for e in root.iter() if e.tag in (f"{NS}b", "b")]
    labels = labels_by_event(root)
    assert labels[0] == ["17 maj <b>&\"'"]
    assert labels[1] == ["26–30 okt Höstlov å ä ö"]
    assert labels[2] == ["3 mar Nul\ufffd och \ufffd"]
    titles = [g.find(f"{NS}title").text for g in with_class(root, "wheel-label")]  # type: ignore[union-attr]
    assert titles == ["17 maj <b>&\"'", "26–30 okt Höstlov å ä ö", "3 mar Nul\ufffd och \ufffd"]
    assert "&lt;b&gt;&amp;" in svg
    legend = "".join(with_class(root, "wheel-legend")[0].itertext())
    assert "Skollov & <lov>" in legend
    assert "Ett & två" in "".join(with_class(root, "wheel-centre")[0].itertext())


def test_the_twelve_months_run_clockwise_from_the_top_and_are_never_upside_down() -> None:
    months = with_class(render(), "wheel-month")
    assert [m.text for m in months] == MONTHS
    angles = []
    for month in months:
        translate, rotate = month.get("transform", "").split(") ")
        x, y = (float(n) for n in translate.removeprefix("translate(").split())
        angles.append(angle((x, y)))
        turn = float(rotate.removeprefix("rotate(").removesuffix(")"))
        assert -90 <= turn <= 90, (month.text, turn)
    assert angles == sorted(angles)
    assert 10 < angles[0] < 20  # mid January
    assert 190 < angles[6] < 200  # mid July


@pytest.mark.parametrize(
    ("year", "day", "low", "high"),
    [
        (2026, date(2026, 1, 1), 0.0, 1.0),
        (2026, date(2026, 7, 1), 178.9, 179.2),  # 181.5 days of 365: just before the bottom
        (2028, date(2028, 7, 1), 179.4, 179.7),  # leap year: 182.5 days of 366
        (2028, date(2028, 12, 31), 359.0, 360.0),
        (2027, date(2027, 12, 31), 359.0, 360.0),
    ],
)
def test_a_day_sits_at_its_share_of_the_year(year: int, day: date, low: float, high: float) -> None:
    rings = [WheelRing("r", "Ring")]
    root = render([WheelEvent("r", "Dag", day, day)], year=year, rings=rings)
    (dot,) = with_class(root, "wheel-event")
    assert low < angle(anchor_point(dot)) < high


def test_a_span_is_an_arc_and_an_event_across_new_year_shows_its_part() -> None:
    rings = [WheelRing("r", "Ring", colour="teal")]
    events = [
        WheelEvent("r", "Vår", date(2026, 4, 1), date(2026, 6, 30)),
        WheelEvent("r", "Jul", date(2025, 12, 20), date(2026, 1, 6)),
        WheelEvent("r", "Hela året och mer", date(2025, 1, 1), date(2027, 12, 31)),
    ]
    spring, christmas, whole = with_class(render(events, rings=rings), "wheel-event")
    assert 88 < angle(anchor_point(spring)) < 89.5  # 90 days of 365 before 1 April
    assert 178.4 < angle(end_point(spring)) < 178.6  # the end of 30 June: 181 days of 365
    assert angle(anchor_point(christmas)) < 0.01 or angle(anchor_point(christmas)) > 359.99
    assert 5.8 < angle(end_point(christmas)) < 6.0  # the end of 6 January
    assert anchor_point(whole) == pytest.approx(end_point(whole))  # a full turn
    assert all(
        m.tag == f"{NS}path" and m.get("stroke") == "teal" for m in (spring, christmas, whole)
    )


def test_the_legend_names_every_ring_with_its_colour_and_its_series() -> None:
    root = render()
    entries = with_class(root, "wheel-legend-ring")
    assert [e.get("data-ring") for e in entries] == [r.key for r in realistic_rings()]
    for i, (entry, ring) in enumerate(zip(entries, realistic_rings(), strict=True)):
        (swatch,) = with_class(entry, "wheel-swatch")
        assert swatch.get("fill") == (ring.colour or PALETTE[i])
        assert ring.title in "".join(entry.itertext())
    series = {
        e.get("data-ring"): ["".join(s.itertext()) for s in with_class(e, "wheel-series")]
        for e in entries
    }
    assert series["forvaltning"] == ["Ledningsgruppen, tisdagar (45 tillfällen)"]
    assert series["politik"] == ["BUN:s sammanträden (9 tillfällen)"]
    assert series["lov"] == []


@pytest.mark.parametrize(
    ("today", "shown"),
    [
        (date(2026, 3, 12), True),
        (date(2026, 1, 1), True),
        (date(2026, 12, 31), True),
        (date(2025, 12, 31), False),
        (date(2027, 1, 1), False),
        (None, False),
    ],
)
def test_today_is_marked_only_inside_the_year(today: date | None, shown: bool) -> None:
    root = render(today=today)
    markers = with_class(root, "wheel-today-marker")
    texts = [
        "".join(t.itertext()) for g in with_class(root, "wheel-today") for t in g.iter(f"{NS}text")
    ]
    if not shown:
        assert markers == []
        assert texts == []
        return
    assert today is not None
    (marker,) = markers
    inner, outer = numbers(marker.get("d", ""))[:2], numbers(marker.get("d", ""))[2:4]
    expected = (today.timetuple().tm_yday - 0.5) * 360 / 365
    assert angle((inner[0], inner[1])) == pytest.approx(expected, abs=0.05)
    assert angle((outer[0], outer[1])) == pytest.approx(expected, abs=0.05)
    assert math.hypot(*inner) < 100  # from the centre ...
    assert math.hypot(*outer) > 240  # ... through the rings and the months
    assert texts == [f"idag {today.day} {['jan', 'mar', 'dec'][[1, 3, 12].index(today.month)]}"]


def crowded_events(year: int = 2026) -> list[WheelEvent]:
    """40 labelled events, 34 of them in April-June and October-November, and two series."""
    keys = [r.key for r in realistic_rings()]
    titles = [
        "Dialog",
        "Budgetförslag till kommunfullmäktige",
        "Avstämning av verksamhetsplanens utkast med ledningsgrupp och styrgrupp",
        "VP",
        "Kvalitetsrapport: uppdatering inför dialogrunda",
    ]
    events = []
    for i in range(20):  # April to June, some days shared by several rings
        first = date(year, 4, 1) + timedelta(days=(i * 37) % 80)
        last = first + timedelta(days=(i % 3) * 9)
        events.append(WheelEvent(keys[i % 6], f"{titles[i % 5]} {i}", first, last))
    for i in range(14):  # October and November, same weeks
        first = date(year, 10, 5) + timedelta(days=(i * 3) % 45)
        events.append(WheelEvent(keys[(i * 5) % 6], f"{titles[(i + 2) % 5]} {i}", first, first))
    for i in range(6):
        first = date(year, 1, 10) + timedelta(days=i * 61)
        events.append(WheelEvent(keys[i], titles[i % 5], first, first + timedelta(days=2)))
    for week in range(52):
        tuesday = date(year, 1, 6) + timedelta(weeks=week)
        if tuesday.year == year:
            events.append(
                WheelEvent("forvaltning", "LG", tuesday, tuesday, "Ledningsgruppen, tisdagar")
            )
            events.append(
                WheelEvent(
                    "dialog_vc",
                    "Rektorsmöte",
                    tuesday + timedelta(days=2),
                    tuesday + timedelta(days=2),
                    "Rektorsmöten, torsdagar",
                )
            )
    return events


def assert_labels_readable(root: ET.Element) -> None:
    boxes = label_boxes(root)
    assert overlapping(boxes) == []
    rim = max(float(c.get("r", "nan")) for c in with_class(root, "wheel-outline"))
    view_x, view_y, view_w, view_h = (float(n) for n in root.get("viewBox", "").split())
    for left, top, right, bottom, text in boxes:
        nearest_x = 0.0 if left <= 0 <= right else min(abs(left), abs(right))
        nearest_y = 0.0 if top <= 0 <= bottom else min(abs(top), abs(bottom))
        assert math.hypot(nearest_x, nearest_y) > rim, f"{text!r} lies on the wheel"
        assert view_x <= left, f"{text!r} is cut off on the left"
        assert right <= view_x + view_w, f"{text!r} is cut off on the right"
        assert view_y <= top, f"{text!r} is cut off at the top"
        assert bottom <= view_y + view_h, f"{text!r} is cut off at the bottom"
    legend_top = min(float(r.get("y", "nan")) for r in with_class(root, "wheel-swatch"))
    assert max(b[3] for b in boxes) < legend_top


@pytest.mark.parametrize(
    ("events", "today", "labelled"),
    [
        (crowded_events(), date(2026, 5, 20), 40),
        (realistic_events(), date(2026, 3, 12), 27),
        (realistic_events(), date(2026, 10, 14), 27),  # today among October's labels
    ],
)
def test_labels_do_not_overlap_in_a_full_year(
    events: list[WheelEvent], today: date, labelled: int
) -> None:
    root = render(events, today=today)
    assert len(with_class(root, "wheel-label")) == labelled
    assert_labels_readable(root)


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.dates(date(2025, 11, 1), date(2027, 2, 1)),
            st.integers(0, 40),
            st.text(max_size=60),
        ),
        max_size=70,
    ),
    st.sampled_from([2026, 2028]),
)
def test_labels_never_overlap_whatever_the_events(
    specs: list[tuple[int, date, int, str]], year: int
) -> None:
    keys = [r.key for r in realistic_rings()]
    events = [
        WheelEvent(keys[k], title, first, first + timedelta(days=length))
        for k, first, length, title in specs
    ]
    root = render(events, year=year, today=date(year, 4, 30))
    assert_labels_readable(root)


@pytest.mark.parametrize(
    ("rings", "event", "message"),
    [
        (
            [WheelRing("a", "A")],
            WheelEvent("b", "Möte", date(2026, 1, 1), date(2026, 1, 1)),
            r"wheel event 1 \('Möte'\): unknown ring 'b'; rings: 'a'",
        ),
        (
            [WheelRing("a", "A"), WheelRing("a", "B")],
            None,
            r"wheel ring 2: key 'a' is used by an earlier ring",
        ),
        (
            [WheelRing("a", "A", colour='red" onload="alert(1)')],
            None,
            r"wheel ring 'a': colour 'red\" onload=.* is not a CSS colour",
        ),
        (
            [WheelRing("a", "A", colour="url(#x)")],
            None,
            r"wheel ring 'a': colour 'url\(#x\)' is not a CSS colour",
        ),
        (
            [WheelRing("a", "A")],
            WheelEvent("a", "Baklänges", date(2026, 2, 2), date(2026, 2, 1)),
            r"'Baklänges'\): last day 2026-02-01 is before first day 2026-02-02",
        ),
    ],
)
def test_wrong_input_is_named(
    rings: list[WheelRing], event: WheelEvent | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        render_wheel("T", 2026, rings, [event] if event else [])


def test_wrong_year_or_size_is_named() -> None:
    with pytest.raises(ValueError, match="wheel year must be between 1 and 9999, not 0"):
        render_wheel("T", 0, [], [])
    with pytest.raises(ValueError, match="wheel size must be a positive number of pixels, not 0"):
        render_wheel("T", 2026, [], [], size=0)


def test_an_empty_wheel_is_still_a_wheel() -> None:
    root = ET.fromstring(render_wheel("", 2026, [], []))
    assert with_class(root, "wheel-legend") == []
    assert [m.text for m in with_class(root, "wheel-month")] == MONTHS
    assert [t.text for t in with_class(root, "wheel-centre")[0]] == ["2026"]
    assert root.get("aria-label") == "Årshjul 2026"


def test_a_renderer_accepts_it() -> None:
    svg = render_wheel("SFF", 2026, realistic_rings(), realistic_events(), today=date(2026, 3, 12))
    png = cairosvg.svg2png(bytestring=svg.encode())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    root = ET.fromstring(svg)
    assert width == 900
    assert height == round(float(root.get("height", "nan")))


@pytest.mark.parametrize("year", [1, 2000, 9999])
def test_the_first_and_last_years_a_date_holds_are_drawn(year: int) -> None:
    events = [
        WheelEvent("r", "Första", date(year, 1, 1), date(year, 1, 1)),
        WheelEvent("r", "Sista", date(year, 12, 31), date(year, 12, 31)),
    ]
    root = render(events, year=year, rings=[WheelRing("r", "Ring")], today=date(year, 12, 31))
    assert len(with_class(root, "wheel-event")) == 2
    assert [t.text for t in with_class(root, "wheel-year")] == [str(year)]


def test_size_sets_the_pixel_width_and_the_height_keeps_the_proportions() -> None:
    small, large = render(size=450), render(size=1800)
    assert small.get("viewBox") == large.get("viewBox")
    _, _, view_w, view_h = (float(n) for n in small.get("viewBox", "").split())
    assert float(small.get("height", "nan")) == pytest.approx(450 * view_h / view_w, abs=0.01)
    assert float(large.get("height", "nan")) == pytest.approx(1800 * view_h / view_w, abs=0.01)


def test_rings_without_a_colour_take_the_palette_in_order_and_wrap_around() -> None:
    rings = [WheelRing(f"r{i}", f"Ring {i}") for i in range(len(PALETTE) + 2)]
    root = render([], rings=rings)
    swatches = [s.get("fill") for s in with_class(root, "wheel-swatch")]
    assert swatches == [*PALETTE, PALETTE[0], PALETTE[1]]
    assert len(set(PALETTE)) == len(PALETTE)


def test_overlapping_events_in_one_ring_take_separate_lanes() -> None:
    rings = [WheelRing("r", "Ring")]
    events = [
        WheelEvent("r", "Runda", date(2026, 4, 1), date(2026, 4, 20)),
        WheelEvent("r", "Möte", date(2026, 4, 10), date(2026, 4, 10)),
        WheelEvent("r", "Senare", date(2026, 4, 25), date(2026, 5, 5)),
    ]
    span, meeting, later = with_class(render(events, rings=rings), "wheel-event")
    radius = math.hypot(*anchor_point(span))
    assert abs(radius - math.hypot(*anchor_point(meeting))) > 10  # a lane apart
    assert radius == pytest.approx(math.hypot(*anchor_point(later)), abs=0.01)  # same lane
