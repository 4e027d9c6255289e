"""The secretary's page of a group meeting (LG, SG) and its forms, from agenda to close.

Each form calls the service of the CLI command of the same name: ``meetings send-agenda``,
``hold`` (the minutes: attendance, the record of each agenda item, the actions agreed, as
``meeting_minutes.MeetingRecord``), ``approve`` (the chair), ``close``, ``postpone`` and
``cancel``. The page offers what the meeting's workflow allows from its state for a role
the caller holds (``web_secretary.kept_instance``); a form is refused with 403 before it is
read unless the caller may fire its trigger there, with 409 when the meeting changed since
the page was drawn (``version``), and with the 422 page when its input is bad.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from styrhjul.errors import InputError
from styrhjul.services.meeting_minutes import (
    ActionInput,
    ItemRecord,
    MeetingRecord,
    hold_meeting,
)
from styrhjul.services.meeting_views import meeting_detail
from styrhjul.services.meetings import (
    approve_minutes,
    cancel_meeting,
    close_meeting,
    postpone_meeting,
    send_agenda,
)
from styrhjul.services.web_secretary import kept_instance, require_may
from styrhjul.web.pages.secretary_forms import (
    ACTION_ROWS,
    FormRoute,
    confirmed,
    day,
    done,
    kept_page,
    moment,
    one,
    required,
    version,
)
from styrhjul.web.params import RowId
from styrhjul.web.render import sv_datetime
from styrhjul.web.security import Caller, caller, core, form_lists

router = APIRouter(route_class=FormRoute)
Me = Annotated[Caller, Depends(caller)]
_SEPARATORS = re.compile(r"[\s,;]+")


@router.get("/sekreterare/mote/{meeting_id}", response_class=HTMLResponse, include_in_schema=False)
def secretary_meeting(request: Request, meeting_id: RowId, me: Me) -> HTMLResponse:
    app = core(request)
    found = kept_instance(app, me.viewer, meeting_id)
    return kept_page(
        request,
        "secretary/meeting.html",
        found,
        detail=meeting_detail(app, meeting_id),
        rows=range(1, ACTION_ROWS + 1),
    )


@router.post("/sekreterare/mote/{meeting_id}/dagordning", include_in_schema=False)
async def meeting_send_agenda(request: Request, meeting_id: RowId, me: Me) -> RedirectResponse:
    app = core(request)
    require_may(app, me.viewer, "meeting", meeting_id, "send_agenda")
    fields = await form_lists(request)
    confirmed(fields, f"meeting {meeting_id}: send the agenda")
    queued = send_agenda(app, meeting_id, actor=me.email, expected_version=version(fields))
    return done(
        app, "meeting", meeting_id, f"Dagordningen är utskickad ({queued} meddelanden köade)."
    )


def _record(fields: dict[str, list[str]]) -> MeetingRecord:
    """The minutes as the form gives them; the service checks them against the meeting."""
    items = []
    for name in fields:
        found = re.fullmatch(r"item_notes_(\d+)", name)
        if found is None:
            continue
        item = found[1]
        notes, decision = one(fields, f"item_notes_{item}"), one(fields, f"item_decision_{item}")
        again = one(fields, f"item_again_{item}") == "ja"
        if notes or decision or again:
            items.append(ItemRecord(int(item), notes, decision, again))
    texts, owners, dues = (fields.get(k, []) for k in ("action_text", "action_owner", "action_due"))
    actions = []
    for i, (text, owner, due) in enumerate(zip(texts, owners, dues, strict=False), start=1):
        if not (text.strip() or due.strip()):
            continue  # an empty row of the form
        if not (text.strip() and owner.strip() and due.strip()):
            raise InputError(f"action {i} needs what, an owner and a due date", key=f"action[{i}]")
        actions.append(ActionInput(text.strip(), owner, day(due.strip(), f"action[{i}].due")))
    return MeetingRecord(
        notes=one(fields, "notes"),
        absent=tuple(fields.get("absent", [])),
        guests=tuple(g for g in _SEPARATORS.split(one(fields, "guests")) if g),
        items=tuple(items),
        actions=tuple(actions),
    )


@router.post("/sekreterare/mote/{meeting_id}/genomfort", include_in_schema=False)
async def meeting_hold(request: Request, meeting_id: RowId, me: Me) -> RedirectResponse:
    app = core(request)
    require_may(app, me.viewer, "meeting", meeting_id, "hold")
    fields = await form_lists(request)
    record = _record(fields)
    confirmed(fields, f"meeting {meeting_id}: record as held")
    held = hold_meeting(app, meeting_id, record, actor=me.email, expected_version=version(fields))
    message = (
        f"Mötet är registrerat som genomfört: {held.present} närvarande,"
        f" {held.absent} frånvarande, {len(held.actions)} åtgärder."
    )
    if held.take_up_again:
        where = f"möte {held.resumed_at}" if held.resumed_at else "nästa möte när det planeras"
        message += f" {len(held.take_up_again)} punkter tas upp igen på {where}."
    return done(app, "meeting", meeting_id, message)


@router.post("/sekreterare/mote/{meeting_id}/justera", include_in_schema=False)
async def meeting_approve(request: Request, meeting_id: RowId, me: Me) -> RedirectResponse:
    app = core(request)
    require_may(app, me.viewer, "meeting", meeting_id, "approve")
    fields = await form_lists(request)
    confirmed(fields, f"meeting {meeting_id}: approve the minutes")
    approve_minutes(app, meeting_id, actor=me.email, expected_version=version(fields))
    return done(app, "meeting", meeting_id, "Protokollet är justerat.")


@router.post("/sekreterare/mote/{meeting_id}/avsluta", include_in_schema=False)
async def meeting_close(request: Request, meeting_id: RowId, me: Me) -> RedirectResponse:
    app = core(request)
    require_may(app, me.viewer, "meeting", meeting_id, "close")
    fields = await form_lists(request)
    confirmed(fields, f"meeting {meeting_id}: close")
    close_meeting(
        app,
        meeting_id,
        actor=me.email,
        reason=one(fields, "reason"),
        expected_version=version(fields),
    )
    return done(app, "meeting", meeting_id, "Mötet är avslutat.")


@router.post("/sekreterare/mote/{meeting_id}/flytta", include_in_schema=False)
async def meeting_postpone(request: Request, meeting_id: RowId, me: Me) -> RedirectResponse:
    app = core(request)
    require_may(app, me.viewer, "meeting", meeting_id, "postpone")
    fields = await form_lists(request)
    starts_at = moment(fields, app.clock.tz)
    reason = required(fields, "reason", "a reason")
    confirmed(fields, f"meeting {meeting_id}: postpone")
    moved = postpone_meeting(
        app,
        meeting_id,
        actor=me.email,
        starts_at=starts_at,
        reason=reason,
        expected_version=version(fields),
    )
    assert moved.starts_at is not None  # a meeting is scheduled with its time
    when = sv_datetime(moved.starts_at, app.clock.tz)
    return done(app, "meeting", meeting_id, f"Mötet är flyttat till {when}.")


@router.post("/sekreterare/mote/{meeting_id}/installa", include_in_schema=False)
async def meeting_cancel(request: Request, meeting_id: RowId, me: Me) -> RedirectResponse:
    app = core(request)
    require_may(app, me.viewer, "meeting", meeting_id, "cancel")
    fields = await form_lists(request)
    reason = required(fields, "reason", "a reason")
    confirmed(fields, f"meeting {meeting_id}: cancel")
    cancel_meeting(app, meeting_id, actor=me.email, reason=reason, expected_version=version(fields))
    return done(app, "meeting", meeting_id, "Mötet är inställt.")
