"""The director's overview pages, scoped by who looks: Försenat, Årshjulet, VP-uppdrag, Styrkort.

Round 1 of 2026/27 is planned; a month later (the FixedClock advanced) its preparation
steps are overdue. The director and the controller see every area, an area head only
their area, a rektor only their school.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from styrhjul.calendar import SchoolYear
from styrhjul.services.assignments import NewAssignment, create_assignment
from styrhjul.services.context import App
from styrhjul.services.scorecard_import import import_scorecard

from .webkit import ROLES, logged_in

NORR = "grundskola-norr"
FORSKOLA = "forskola"
SCHOOL = "vastra-skolan"


def _late(web: FastAPI) -> App:
    app: App = web.state.app
    app.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    return app


def _listing(html: str) -> str:
    """The page after its filter form (whose menus name every unit the viewer reads)."""
    return html.rsplit("</form>", 1)[1]


def _shown(html: str) -> tuple[int, int, int]:
    """The page's "Visar 1–100 av 236": first and last position, and the total."""
    found = re.search(r"Visar <strong>(\d+)–(\d+)</strong> av\s+<strong>(\d+)</strong>", html)
    assert found is not None, html
    first, last, total = (int(n) for n in found.groups())
    return first, last, total


def _link(html: str, rel: str) -> str | None:
    """The href of the first pager link ``rel`` (next, prev, first, last), unescaped."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _instance_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/arenden/(\d+)"', html)}


def test_the_director_sees_overdue_steps_of_every_area_grouped_with_counts(
    planned_web: FastAPI,
) -> None:
    _late(planned_web)
    page = logged_in(planned_web, ROLES["director"]).get("/oversikt/forsenat")
    assert page.status_code == 200
    html = page.text
    assert _shown(html) == (1, 100, 236)
    assert "Verksamhetschef – rektor" in html
    for area in ("Förskola", "Grundskola norr", "Grundskola söder"):
        assert area in html
    assert "Ej eskalerat" in html
    assert len(_instance_ids(html)) > 20


def test_an_area_head_sees_only_their_area_and_a_rektor_only_their_school(
    planned_web: FastAPI,
) -> None:
    app = _late(planned_web)
    everything = logged_in(planned_web, ROLES["director"]).get("/oversikt/forsenat").text
    head = logged_in(planned_web, ROLES["area_head"]).get("/oversikt/forsenat").text
    rektor = _listing(logged_in(planned_web, ROLES["rektor"]).get("/oversikt/forsenat").text)
    head = _listing(head)
    assert "Grundskola norr" in head
    assert "Förskola</strong>" not in head
    assert "Björkdalens" not in head
    assert _instance_ids(head) < _instance_ids(everything)
    assert _instance_ids(rektor) <= _instance_ids(head)
    assert _instance_ids(rektor)
    assert "Västra skolan" in rektor
    assert "Norrbackaskolan" not in rektor
    other = logged_in(planned_web, ROLES["other_rektor"]).get(f"/oversikt/forsenat?enhet={SCHOOL}")
    assert other.status_code == 400
    assert SCHOOL in other.text
    assert app.clock.today().month == 10  # type: ignore[attr-defined]


def test_filters_narrow_the_listing(planned_web: FastAPI) -> None:
    _late(planned_web)
    client = logged_in(planned_web, ROLES["director"])
    everything = _instance_ids(client.get("/oversikt/forsenat").text)
    norr = _listing(client.get(f"/oversikt/forsenat?omrade={NORR}").text)
    assert "Grundskola norr" in norr
    assert "Björkdalens" not in norr
    school = client.get(f"/oversikt/forsenat?omrade={NORR}&enhet={SCHOOL}").text
    assert _instance_ids(school) < _instance_ids(norr) < everything
    level = _listing(client.get("/oversikt/forsenat?niva=director_area").text)
    assert "Verksamhetschef – rektor" not in level
    who = "verksamhetschef.forskola@example.se"
    mine = _listing(client.get(f"/oversikt/forsenat?ansvarig={who}").text)
    assert "Förskola" in mine
    assert "Grundskola norr</strong>" not in mine
    assert client.get("/oversikt/forsenat?dagar=400").text.count("Inga försenade steg") == 1
    some = client.get("/oversikt/forsenat?dagar=5").text
    assert 0 < len(_instance_ids(some)) <= len(everything)
    bad = client.get("/oversikt/forsenat?dagar=fem")
    assert bad.status_code == 400
    assert "dagar" in bad.text
    unknown = client.get("/oversikt/forsenat?niva=nonsense")
    assert unknown.status_code == 400
    assert "nonsense" in unknown.text


def test_days_overdue_filter_counts_working_days(planned_web: FastAPI) -> None:
    _late(planned_web)
    client = logged_in(planned_web, ROLES["director"])
    days = [
        int(d)
        for d in re.findall(r'<td class="late">(\d+)</td>', client.get("/oversikt/forsenat").text)
    ]
    assert days
    cut = sorted(set(days))[len(set(days)) // 2]
    kept = re.findall(
        r'<td class="late">(\d+)</td>', client.get(f"/oversikt/forsenat?dagar={cut}").text
    )
    assert sorted(int(d) for d in kept) == sorted(d for d in days if d >= cut)


def test_nothing_overdue_says_so(planned_web: FastAPI) -> None:
    page = logged_in(planned_web, ROLES["director"]).get("/oversikt/forsenat")
    assert page.status_code == 200
    assert "Inga försenade steg." in page.text
    assert "/arenden/" not in page.text


def test_the_overdue_listing_pages_by_a_hundred_forward_and_back(planned_web: FastAPI) -> None:
    _late(planned_web)
    client = logged_in(planned_web, ROLES["director"])

    def follow(html: str, rel: str) -> str:
        href = _link(html, rel)
        assert href is not None, rel
        page = client.get(href)
        assert page.status_code == 200, href
        return page.text

    first = client.get("/oversikt/forsenat").text
    assert _shown(first) == (1, 100, 236)
    assert (_link(first, "prev"), _link(first, "first")) == (None, None)
    assert "Grupperingen nedan gäller stegen på den här sidan." in first
    second = follow(first, "next")
    third = follow(second, "next")
    assert [_shown(p) for p in (second, third)] == [(101, 200, 236), (201, 236, 236)]
    assert (_link(third, "next"), _link(third, "last")) == (None, None)
    rows = [_listing(p).count('<td class="late">') for p in (first, second, third)]
    assert rows == [100, 100, 36]
    assert _shown(follow(third, "prev")) == (101, 200, 236)
    assert _link(third, "first") == "/oversikt/forsenat"
    last = follow(first, "last")
    assert _shown(last) == (137, 236, 236)
    assert _link(last, "next") is None
    back = follow(last, "prev")
    assert _shown(back) == (37, 136, 236)


def test_the_pager_keeps_the_filters_and_the_viewer_s_scope(planned_web: FastAPI) -> None:
    _late(planned_web)
    client = logged_in(planned_web, ROLES["director"])
    query = "/oversikt/forsenat?niva=area_rektor&dagar=1"
    first = client.get(query).text
    assert _shown(first)[2] > 100
    href = _link(first, "next")
    assert href is not None
    assert "niva=area_rektor" in href
    assert "dagar=1" in href
    assert "sida=e101." in href
    second = client.get(href).text
    assert _shown(second)[0] == 101
    assert _shown(second)[2] == _shown(first)[2]
    assert 'value="area_rektor" selected' in second
    head = logged_in(planned_web, ROLES["area_head"]).get("/oversikt/forsenat").text
    first_head, last_head, total_head = _shown(head)
    assert first_head == 1
    assert last_head == total_head < 100  # one area: a single page, no pager
    assert 'rel="next"' not in head
    assert "Grupperingen nedan" not in head
    assert "Förskola</strong>" not in _listing(head)


def test_a_bad_or_stale_page_cursor(planned_web: FastAPI) -> None:
    _late(planned_web)
    client = logged_in(planned_web, ROLES["director"])
    for bad, status in (
        ("nonsense", 400),
        ("e0.1.1", 400),
        ("e1.999999999999999999.1", 400),
        ("x" * 201, 422),  # longer than any query text the pages take
    ):
        page = client.get(f"/oversikt/forsenat?sida={bad}")
        assert page.status_code == status, bad
        assert "sida" in page.text, bad
    beyond = client.get("/oversikt/forsenat?niva=area_rektor&sida=e301.4102444800000000.1")
    assert beyond.status_code == 200
    assert "Inga fler försenade steg på den här sidan" in beyond.text
    assert 'href="/oversikt/forsenat?niva=area_rektor"' in beyond.text


def test_the_wheel_page_serves_the_svg_and_the_year_s_events(planned_web: FastAPI) -> None:
    client = logged_in(planned_web, ROLES["director"])
    page = client.get("/oversikt/arshjul")
    assert page.status_code == 200
    assert '<img src="/oversikt/arshjul.svg?ar=2026"' in page.text
    assert "?ar=2027" in page.text
    assert "?ar=2025" in page.text
    assert "Verksamhetsdialog" in page.text
    svg = client.get("/oversikt/arshjul.svg?ar=2026")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith(("<svg", "<?xml"))
    later = client.get("/oversikt/arshjul?ar=2031")
    assert later.status_code == 200
    assert "Inget är planerat 2031" in later.text
    assert client.get("/oversikt/arshjul?ar=abc").status_code == 400
    assert client.get("/oversikt/arshjul.svg?ar=99999").status_code == 400


def test_a_rektor_sees_the_events_of_their_school_only(planned_web: FastAPI) -> None:
    everything = logged_in(planned_web, ROLES["director"]).get("/oversikt/arshjul").text
    rektor = logged_in(planned_web, ROLES["rektor"]).get("/oversikt/arshjul").text
    assert "Verksamhetsdialog Björkdalens förskoleområde" in everything
    assert "Verksamhetsdialog Björkdalens förskoleområde" not in rektor
    assert "Verksamhetsdialog Västra skolan" in rektor
    assert rektor.count("<tr") < everything.count("<tr")


def _assignment(app: App) -> int:
    new = NewAssignment(
        title="Matematik",
        responsible=ROLES["area_head"],
        school_year=SchoolYear(2026),
        units=(SCHOOL, "norrbackaskolan"),
    )
    return create_assignment(app, new, actor=ROLES["director"])


def test_assignments_are_listed_by_scope(planned_web: FastAPI) -> None:
    app: App = planned_web.state.app
    empty = logged_in(planned_web, ROLES["director"]).get("/oversikt/vp-uppdrag").text
    assert "Inga VP-uppdrag" in empty
    ident = _assignment(app)
    for role in ("director", "controller", "area_head", "rektor"):
        html = logged_in(planned_web, ROLES[role]).get("/oversikt/vp-uppdrag").text
        assert f'href="/arenden/{ident}">Matematik' in html, role
    other = logged_in(planned_web, ROLES["other_rektor"]).get("/oversikt/vp-uppdrag").text
    assert "Matematik" not in other
    assert "Inga VP-uppdrag" in other


def _scorecard(app: App, folder: Path) -> None:
    rows = [
        "unit,code,title,target,comparator,unit_label,period,value",
        f"{SCHOOL},trygghet,Andel elever som känner trygghet,Minst 97 %,,,2025/26,96",
        "norrbackaskolan,trygghet,Andel elever som känner trygghet,Minst 97 %,,,2025/26,98",
        "ekbackens-forskoleomrade,nojdhet,Nöjda vårdnadshavare,Minst 90 %,,,2025/26,91",
    ]
    path = folder / "styrkort.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_scorecard(app, path)


def test_the_scorecard_marks_unmet_targets_by_scope(planned_web: FastAPI, tmp_path: Path) -> None:
    app: App = planned_web.state.app
    empty = logged_in(planned_web, ROLES["rektor"]).get("/oversikt/styrkort").text
    assert "Inga mått i styrkortet" in empty
    _scorecard(app, tmp_path)
    director = logged_in(planned_web, ROLES["director"]).get("/oversikt/styrkort").text
    assert director.count('class="unmet"') == 1
    assert director.count('class="met"') == 2
    assert "1 utfall når inte målet" in director
    head = logged_in(planned_web, ROLES["area_head"]).get("/oversikt/styrkort").text
    assert "Norrbackaskolan" in head
    assert "Nöjda vårdnadshavare" not in head
    rektor = logged_in(planned_web, ROLES["rektor"]).get("/oversikt/styrkort").text
    assert "Västra skolan" in rektor
    assert "Norrbackaskolan" not in rektor
    assert 'class="unmet"' in rektor
    other = logged_in(planned_web, ROLES["other_rektor"]).get("/oversikt/styrkort").text
    assert "Nöjda vårdnadshavare" in other
    assert "Västra skolan" not in other
    assert "Alla utfall når målet" in other


def test_the_pages_need_a_login(planned_web: FastAPI) -> None:
    client = TestClient(planned_web, follow_redirects=False)
    for path in ("/oversikt/forsenat", "/oversikt/arshjul", "/oversikt/arshjul.svg",
                 "/oversikt/vp-uppdrag", "/oversikt/styrkort"):  # fmt: skip
        assert client.get(path).status_code == 303, path
