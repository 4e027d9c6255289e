"""What the secretary's forms share: reading fields, Swedish dates and times, the answers.

A form's bad input (a missing reason, a date that is no date, a time the clocks skip, an
unticked confirmation) answers 422 with a page naming the field in Swedish, its key and
what was wrong, and a link back; nothing was written, because every service checks its
input before it changes anything. The routes of the secretary's routers are
:class:`FormRoute`, so the rule holds for every form without a try in each handler.

Dates and times are written the Swedish way (ISO 8601 dates, ``13:00`` or ``13.00``) and
read as wall-clock time in the configured zone (Europe/Stockholm), across daylight saving
as :func:`styrhjul.calendar.local_datetime` decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from styrhjul.calendar import local_datetime
from styrhjul.errors import InputError
from styrhjul.services.context import App
from styrhjul.services.views import instance_detail
from styrhjul.services.web_secretary import Kept, last_audit, trigger_titles
from styrhjul.web.render import page, sv_datetime
from styrhjul.web.security import core

PATHS = {"dialog": "/sekreterare/dialog", "meeting": "/sekreterare/mote"}
"""Where the page of a dialog or meeting lives."""
ACTION_ROWS = 3
"""Empty rows for agreed actions in the "held" form of a dialog or meeting."""

FIELDS = {
    "confirm": ("Bekräftelse", "Kryssa i rutan som bekräftar åtgärden och skicka igen."),
    "version": ("Formulärets version", "Ladda om sidan och fyll i formuläret igen."),
    "reason": ("Anledning", "Skriv varför; texten går ut till alla som är inbjudna."),
    "minutes": ("Minnesanteckningar", "Skriv vad som diskuterades och slutsatserna."),
    "notes": ("Protokollets anteckningar", "Skriv mötets allmänna anteckningar."),
    "new_day": ("Ny dag", "Skriv dagen som 2026-10-20."),
    "new_time": ("Nytt klockslag", "Skriv klockslaget som 13:00."),
    "starts_at": ("Ny tid", "Välj en arbetsdag och ett klockslag som inte har passerat."),
    "due": ("Nytt slutdatum", "Skriv datumet som 2026-12-01."),
    "action": ("Åtgärd", "Varje åtgärd behöver vad, en ansvarig och ett slutdatum framåt."),
    "agreement": ("Åtgärd", "Varje åtgärd behöver vad, en ansvarig och ett slutdatum framåt."),
    "absent": ("Frånvarande", "Markera bara personer som är kallade till mötet."),
    "guests": ("Gäster", "Skriv e-postadresser till personer som inte är kallade."),
    "item": ("Dagordningspunkt", "Ladda om sidan: dagordningen har ändrats."),
    "agenda": ("Dagordningen", "Lägg till punkter på dagordningen innan den skickas ut."),
    "to": ("Möte", "Välj ett senare möte i samma grupp."),
}
"""The Swedish name of each field (by the first part of its key) and how to put it right."""

_TIME = re.compile(r"(\d{1,2})[:.](\d{2})")


def field_title(key: str | None) -> tuple[str, str]:
    """(Swedish name, hint) of the field an error's key names; the row for ``action[2]``."""
    found = re.match(r"[a-z_]+", key or "")
    title, hint = FIELDS.get(found[0] if found else "", ("Uppgift", ""))
    row = re.search(r"\[(\d+)\]", key or "")
    return (f"{title} {row[1]}" if row else title), hint


def _back(request: Request) -> str:
    """The page the form was on: its dialog's or meeting's, else the secretary's desk."""
    found = re.match(r"(/sekreterare/(?:dialog|mote)/\d+)/", request.url.path)
    if found:
        return found[1]
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/sekreterare"):
        return referer.path
    return "/sekreterare"


def invalid(request: Request, error: InputError) -> Response:
    """The 422 page: which field, what was wrong, how to put it right; nothing was saved."""
    title, hint = field_title(error.key)
    return page(
        request,
        "secretary/invalid.html",
        status_code=422,
        field=title,
        key=error.key or "",
        hint=hint,
        detail=str(error),
        back=_back(request),
    )


class FormRoute(APIRoute):
    """A route whose bad input (:class:`InputError`) answers with the 422 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except InputError as error:
                return invalid(request, error)

        return route


def one(fields: dict[str, list[str]], name: str) -> str:
    """The first value of field ``name``, stripped ('' when missing)."""
    return (fields.get(name) or [""])[0].strip()


def confirmed(fields: dict[str, list[str]], what: str) -> None:
    """Refuse unless the confirmation box was ticked (the browser requires it, too)."""
    if one(fields, "confirm") != "ja":
        raise InputError(
            f"{what}: tick the box to confirm (it cannot be undone); nothing was changed",
            key="confirm",
        )


def version(fields: dict[str, list[str]]) -> int | None:
    """The version the form was made from, for the service to refuse a stale form (409)."""
    sent = one(fields, "version")
    if not sent:
        return None
    if not sent.isdigit():
        raise InputError(f"version {sent!r} is not a number", key="version")
    return int(sent)


def day(text: str, key: str) -> date:
    """A date written the Swedish way: 2026-10-20."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", key=key) from None


def required(fields: dict[str, list[str]], name: str, what: str) -> str:
    """Field ``name``, refused when empty."""
    value = one(fields, name)
    if not value:
        raise InputError(f"{what} is required", key=name)
    return value


def moment(fields: dict[str, list[str]], tz: ZoneInfo) -> datetime:
    """The instant of the fields ``new_day`` and ``new_time`` (13:00 or 13.00), local time."""
    on = day(required(fields, "new_day", "the new day"), "new_day")
    text = required(fields, "new_time", "the new time of day")
    found = _TIME.fullmatch(text)
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        raise InputError(f"{text!r} is not a time of day (HH:MM)", key="new_time")
    try:
        return local_datetime(on, time(int(found[1]), int(found[2])), tz)
    except InputError as error:  # a time the clocks skip: name the field
        raise InputError(error.detail, key="new_time") from None


def done(app: App, kind: str, instance_id: int, message: str) -> RedirectResponse:
    """Back to the page with a flash naming the audit row the action wrote."""
    row = last_audit(instance_detail(app, instance_id).history)
    if row is not None:
        titles = trigger_titles(app, instance_id)
        message += (
            f" Historiken: {sv_datetime(row.at, app.clock.tz)}"
            f" {titles.get(row.trigger, row.trigger)} av {row.actor}."
        )
    target = f"{PATHS[kind]}/{instance_id}?klart={quote(message)}#historik"
    return RedirectResponse(target, status_code=303)


def kept_page(request: Request, template: str, found: Kept, **context: Any) -> HTMLResponse:
    """A dialog's or meeting's page: the forms the caller is offered, its named trail."""
    return page(
        request,
        template,
        may_run=found.may_run,
        offered=found.offered,
        triggers=found.triggers,
        states=found.states,
        today=core(request).clock.today(),
        **context,
    )
