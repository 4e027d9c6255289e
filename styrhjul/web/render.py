"""The Jinja2 environment of the pages: autoescape, StrictUndefined, Swedish dates.

Pages render through :func:`page`, which adds the caller (for the menu), the CSRF token
(for forms, with the ``csrf_field()`` macro in ``_macros.html``) and flash messages.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from styrhjul.calendar.names import SHORT_MONTHS, WEEKDAYS

TEMPLATES = Path(__file__).parent / "templates"


ROLE_NAMES = {
    "council_chair": "kommunstyrelsens ordförande",
    "board_chair": "nämndens ordförande",
    "board_member": "nämndledamot",
    "director": "utbildningsdirektör",
    "area_head": "verksamhetschef",
    "department_head": "avdelningschef",
    "rektor": "rektor",
    "secretary": "sekreterare",
    "controller": "controller",
    "team_leader": "arbetslagsledare",
    "member": "ledamot",
}
"""The Swedish name of each role (``vocabulary.ROLES``) as the pages show it."""


def sv_role(role: str) -> str:
    return ROLE_NAMES.get(role, role)


def sv_date(value: date | datetime | None) -> str:
    """``mån 5 okt 2026``: how the pages write a day."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    return f"{WEEKDAYS[day.weekday()][:3]} {day.day} {SHORT_MONTHS[day.month - 1]} {day.year}"


def sv_datetime(value: datetime | None, tz: Any = None) -> str:
    """``mån 5 okt 2026 13:00`` in local time."""
    if value is None:
        return ""
    local = value.astimezone(tz) if tz is not None else value
    return f"{sv_date(local)} {local:%H:%M}"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sv_date"] = sv_date
    env.filters["sv_datetime"] = sv_datetime
    env.filters["sv_role"] = sv_role
    return env


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the caller, CSRF token and flash message of ``request``."""
    env: Environment = request.app.state.templates
    caller = getattr(request.state, "caller", None)
    html = env.get_template(template).render(
        request=request,
        caller=caller,
        csrf=caller.csrf if caller is not None else "",
        flash=request.query_params.get("klart", ""),
        tz=request.app.state.app.settings.tz,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
