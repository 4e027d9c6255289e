"""The Jinja2 environment of the pages: autoescape, StrictUndefined, Swedish dates.

Pages render through :func:`page`, which adds the caller (for the menu), the CSRF token
(for forms, with the ``csrf_field()`` macro in ``_macros.html``) and flash messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

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


OPTION_INDENT = "\n      "
"""What separates the options of a menu: a line break and the indent of the templates."""


@lru_cache(maxsize=16)
def _option_parts(choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    """Each choice's code and its option, escaped once, split where ``selected`` goes."""
    return tuple(
        (code, f'<option value="{escape(code)}"', f">{escape(name)}</option>")
        for code, name in choices
    )


def options(items: Sequence[tuple[Any, str, str, Any]], chosen: str) -> Markup:
    """The ``<option>`` lines of a menu of ``(id, code, name, kind)`` rows, ``chosen`` selected.

    The director's unit menu holds every unit of the organisation (hundreds, thousands in a
    big city) on every overdue page: rendered by a Jinja loop it was two escapes and a loop
    step per unit on every request. The escaped options of a list of units are kept (the
    same units come back request after request; a changed name makes a new key), so a
    request only joins them. The lines are those the loop wrote: one option per line, at
    the templates' indent, without a line break after the last (the template has it).
    """
    parts = _option_parts(tuple((code, name) for _, code, name, _ in items))
    return Markup(  # noqa: S704 - every code and name in it escaped by _option_parts
        OPTION_INDENT.join(
            head + " selected" + tail if code == chosen else head + tail
            for code, head, tail in parts
        )
    )


def environment() -> Environment:
    """The pages' environment, built once per web app.

    The templates ship inside the package and do not change while the app serves, so
    Jinja need not check each template's file on every render (``auto_reload``): a
    restart picks up edited templates.
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["sv_date"] = sv_date
    env.filters["sv_datetime"] = sv_datetime
    env.filters["sv_role"] = sv_role
    env.filters["options"] = options
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
