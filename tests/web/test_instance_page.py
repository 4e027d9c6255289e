"""The instance page: timeline, checklist and state diagram; refused outside the reader's units."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fastapi import FastAPI

from styrhjul.services.context import App
from styrhjul.web.diagram import main_path, state_diagram

from .webkit import ROLES, csrf_of, logged_in

SVG = "{http://www.w3.org/2000/svg}"


def _dialog_of_rektor(web: FastAPI) -> int:
    html = logged_in(web, ROLES["rektor"]).get("/mitt").text
    found = re.search(r'href="/arenden/(\d+)"', html)
    assert found
    return int(found.group(1))


def _diagram(html: str) -> ET.Element:
    found = re.search(r"<svg .*?</svg>", html, re.S)
    assert found, "no inline SVG on the page"
    return ET.fromstring(found.group(0))


def _current(svg: ET.Element) -> list[str]:
    return [
        g.attrib["data-state"]
        for g in svg.iter(f"{SVG}g")
        if "current" in g.attrib.get("class", "").split()
    ]


def test_a_reader_sees_title_state_timeline_checklist_and_diagram(planned_web: FastAPI) -> None:
    dialog = _dialog_of_rektor(planned_web)
    for role in ("rektor", "area_head", "director"):
        answer = logged_in(planned_web, ROLES[role]).get(f"/arenden/{dialog}")
        assert answer.status_code == 200, role
        html = answer.text
        assert "<h1>Verksamhetsdialog Västra skolan</h1>" in html
        assert 'id="state">Planerad<' in html
        assert "Västra skolan" in html
        assert '<ol class="timeline">' in html
        assert "Checklista" in html
        assert "Uppdatera kvalitetsrapporten" in html
        assert _current(_diagram(html)) == ["planned"]


def test_another_units_rektor_gets_the_403_page(planned_web: FastAPI) -> None:
    dialog = _dialog_of_rektor(planned_web)
    answer = logged_in(planned_web, ROLES["other_rektor"]).get(f"/arenden/{dialog}")
    assert answer.status_code == 403
    assert "Åtkomst nekad" in answer.text
    assert "<svg" not in answer.text
    assert logged_in(planned_web, ROLES["rektor"]).get("/arenden/999999").status_code == 404


def test_the_diagram_follows_the_state_and_the_timeline_grows(planned_web: FastAPI) -> None:
    dialog = _dialog_of_rektor(planned_web)
    area_head = logged_in(planned_web, ROLES["area_head"])
    before = area_head.get(f"/arenden/{dialog}").text
    rektor = logged_in(planned_web, ROLES["rektor"])
    steps = re.findall(r'action="/steg/(\d+)/klar"', rektor.get(f"/arenden/{dialog}").text)
    assert steps
    answer = rektor.post(
        f"/steg/{steps[0]}/klar",
        data={"csrf_token": csrf_of(rektor), "next": f"/arenden/{dialog}"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/arenden/{dialog}?klart=")
    after = area_head.get(f"/arenden/{dialog}").text
    assert after.count("<li><time") == before.count("<li><time") + 1
    assert "checklist step" in after


def test_the_svg_marks_exactly_the_current_state_and_has_no_style(planned_app: App) -> None:
    definition = planned_app.machine("dialog_round").definition
    assert main_path(definition) == [
        "planned",
        "preparing",
        "ready",
        "held",
        "following_up",
        "closed",
    ]
    for state in ("planned", "held", "cancelled"):
        text = state_diagram(definition, state, frozenset({"planned"}))
        svg = ET.fromstring(text)
        assert _current(svg) == [state]
        assert "style=" not in text
        states = [g.attrib["data-state"] for g in svg.iter(f"{SVG}g")]
        assert sorted(states) == sorted(s.name for s in definition.spec.state)
        arrows = [p for p in svg.iter(f"{SVG}path") if "edge" in p.attrib.get("class", "")]
        pairs = sum(len(t.source) for t in definition.spec.transition)
        assert len(arrows) == pairs
        assert sum("main" in p.attrib["class"] for p in arrows) == 5


def test_the_main_path_is_laid_out_left_to_right(planned_app: App) -> None:
    definition = planned_app.machine("dialog_round").definition
    svg = ET.fromstring(state_diagram(definition, "ready"))
    xs = {
        g.attrib["data-state"]: float(next(g.iter(f"{SVG}rect")).attrib["x"])
        for g in svg.iter(f"{SVG}g")
    }
    path = main_path(definition)
    assert [xs[name] for name in path] == sorted(xs[name] for name in path)
    ys = {
        g.attrib["data-state"]: float(next(g.iter(f"{SVG}rect")).attrib["y"])
        for g in svg.iter(f"{SVG}g")
    }
    assert ys["cancelled"] > ys["planned"]


def test_an_id_beyond_the_databases_integers_is_bad_input_not_a_crash(web: FastAPI) -> None:
    director = logged_in(web, ROLES["director"])
    for path in ("/arenden/2147483648", "/sekreterare/dialog/99999999999999999999"):
        answer = director.get(path)
        assert answer.status_code == 422, (path, answer.status_code)
        assert "Felaktig uppgift" in answer.text
        assert "less than or equal to 2147483647" in answer.text
    assert director.get("/arenden/2147483647").status_code == 404
