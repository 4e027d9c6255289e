"""The overview pages of the director (and, scoped, of area heads and rektorer).

Directors "see overdue steps, anywhere in the chain, at a glance": Försenat groups them by
level, area and unit; Årshjulet draws the year as the CLI's ``styrhjul wheel`` does (an
SVG served as an image, so the strict CSP needs no inline style) with the year's events
below; VP-uppdrag and Styrkort list assignments and measures. Everything is narrowed to
what the caller reads (:mod:`styrhjul.services.web_director`); the handlers only parse
the query string, call one read service and render.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from styrhjul.errors import InputError
from styrhjul.services.calendar_events import wheel_svg
from styrhjul.services.overdue import MAX_MIN_DAYS, levels
from styrhjul.services.overdue_pages import overdue_page as read_overdue_page
from styrhjul.services.overdue_pages import parse_cursor, query_filter
from styrhjul.services.web_director import (
    areas_of,
    group_overdue,
    scoped_assignments,
    scoped_scorecard,
    scoped_year_events,
    visible_units,
)
from styrhjul.web.render import page
from styrhjul.web.security import Caller, caller, core

router = APIRouter()

LEVEL_NAMES = {
    "council_board": "Kommunstyrelse – nämnd",
    "director_area": "Direktör – verksamhetschef",
    "director_department": "Direktör – avdelningschef",
    "area_rektor": "Verksamhetschef – rektor",
    "rektor_team": "Rektor – arbetslag",
    "dialog": "Dialog",
    "assignment": "VP-uppdrag",
    "process": "Process",
    "meeting": "Möte",
}
"""The Swedish name of each level (a dialog level or an instance kind)."""

ESCALATION_NAMES = {
    0: "Ej eskalerat",
    1: "Eskalerat till närmaste chef",
    2: "Eskalerat till chefens chef",
}

EVENT_KINDS = {"event": "Årshjul", "dialog": "Dialog", "meeting": "Möte"}

Text = Annotated[str, Query(max_length=200)]


def _days(text: str) -> int:
    if not text.strip():
        return 0
    try:
        value = int(text)
    except ValueError:
        raise InputError(
            f"dagar: {text!r} is not a whole number of working days", key="dagar"
        ) from None
    if not 0 <= value <= MAX_MIN_DAYS:
        raise InputError(f"dagar: {value} must be from 0 to {MAX_MIN_DAYS}", key="dagar")
    return value


PAGE_PARAMETERS = {
    "level": "niva",
    "area": "omrade",
    "unit": "enhet",
    "assignee": "ansvarig",
    "min_days": "dagar",
    "cursor": "sida",
}
"""The page's query parameter for each filter of the service, to name it in errors."""


def _href(chosen: dict[str, str], cursor: str | None) -> str | None:
    if cursor is None:
        return None
    kept = {name: value for name, value in chosen.items() if value}
    if cursor:
        kept["sida"] = cursor
    return "/oversikt/forsenat" + (f"?{urlencode(kept)}" if kept else "")


@router.get("/oversikt/forsenat", response_class=HTMLResponse, include_in_schema=False)
def overdue_page(
    request: Request,
    me: Annotated[Caller, Depends(caller)],
    niva: Text = "",
    omrade: Text = "",
    enhet: Text = "",
    ansvarig: Text = "",
    dagar: Text = "",
    sida: Text = "",
) -> HTMLResponse:
    app = core(request)
    min_days = _days(dagar)
    filters = query_filter(
        level=niva, area=omrade, unit=enhet, assignee=ansvarig, min_days=min_days
    )
    try:
        listing = read_overdue_page(app, me.viewer, filters, cursor=parse_cursor(sida, key="sida"))
    except InputError as error:
        key = PAGE_PARAMETERS.get(error.key or "", error.key)
        raise InputError(error.detail, key=key) from None
    units = visible_units(app, me.viewer)
    chosen = {"niva": niva, "omrade": omrade, "enhet": enhet, "ansvarig": ansvarig}
    kept = {**chosen, "dagar": str(min_days) if min_days else ""}
    return page(
        request,
        "director/overdue.html",
        groups=group_overdue(listing.rows),
        listing=listing,
        links={
            "first": _href(kept, "") if sida.strip() and listing.first != 1 else None,
            "previous": _href(kept, listing.previous),
            "next": _href(kept, listing.next),
            "last": _href(kept, listing.last),
        },
        filtered=filters.active,
        levels=[(lv, LEVEL_NAMES.get(lv, lv)) for lv in levels(app)],
        level_names=LEVEL_NAMES,
        escalation_names=ESCALATION_NAMES,
        areas=areas_of(units),
        units=units,
        chosen=chosen,
        min_days=min_days,
        today=app.clock.today(),
    )


def _year(text: str, default: int) -> int:
    if not text.strip():
        return default
    try:
        year = int(text)
    except ValueError:
        raise InputError(f"ar: {text!r} is not a year", key="ar") from None
    if not 1900 < year < 2200:
        raise InputError(f"ar: {year} is not a year to draw (1901-2199)", key="ar")
    return year


@router.get("/oversikt/arshjul", response_class=HTMLResponse, include_in_schema=False)
def wheel_page(
    request: Request, me: Annotated[Caller, Depends(caller)], ar: Text = ""
) -> HTMLResponse:
    app = core(request)
    today = app.clock.today()
    year = _year(ar, today.year)
    return page(
        request,
        "director/wheel.html",
        year=year,
        today=today,
        events=scoped_year_events(app, me.viewer, year),
        kinds=EVENT_KINDS,
        level_names=LEVEL_NAMES,
    )


@router.get("/oversikt/arshjul.svg", include_in_schema=False)
def wheel_picture(
    request: Request, me: Annotated[Caller, Depends(caller)], ar: Text = ""
) -> Response:
    app = core(request)
    today = app.clock.today()
    svg = wheel_svg(app, _year(ar, today.year), today=today)
    return Response(svg, media_type="image/svg+xml")


@router.get("/oversikt/vp-uppdrag", response_class=HTMLResponse, include_in_schema=False)
def assignments_page(request: Request, me: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    app = core(request)
    return page(
        request,
        "director/assignments.html",
        assignments=scoped_assignments(app, me.viewer),
        today=app.clock.today(),
    )


@router.get("/oversikt/styrkort", response_class=HTMLResponse, include_in_schema=False)
def scorecard_page(request: Request, me: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    app = core(request)
    measures = scoped_scorecard(app, me.viewer)
    unmet = sum(1 for m in measures for o in m.outcomes if not o.met)
    return page(request, "director/scorecard.html", measures=measures, unmet=unmet)
