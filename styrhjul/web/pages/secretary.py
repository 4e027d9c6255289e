"""The secretary's pages: the desk, and a dialog's forms (held, closed, moved, cancelled).

Every form calls the same service as the CLI command of the same name (``dialog hold``,
``dialog close``, ``dialog postpone``, ``dialog cancel``, ``dialog agreement-done``,
``dialog agreement-carry``, ``meetings carry``); the meeting's forms live in
:mod:`styrhjul.web.pages.secretary_meetings`. Which forms a page offers comes from the
workflow (the triggers of the current state, for a role the caller holds:
``web_secretary.kept_instance``), and the services decide: a form posted by someone who
does not keep the dialog gets a 403, a stale one (its ``version``) a 409. What cannot be
undone needs the confirmation box ticked; bad input answers the 422 page naming the field
(:mod:`styrhjul.web.pages.secretary_forms`), nothing changed. After an action the page
names the audit row it made.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from styrhjul.errors import InputError
from styrhjul.services.checklist import complete_agreement
from styrhjul.services.dialogs import AgreementInput, cancel, close, hold, postpone
from styrhjul.services.views import dialog_detail
from styrhjul.services.web_secretary import (
    RECENT,
    carry_on,
    desk_of,
    dialog_agreements,
    instance_of_agreement,
    kept_instance,
    participants_of,
    require_may,
)
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
from styrhjul.web.render import page, sv_datetime
from styrhjul.web.security import Caller, caller, core, form_lists

router = APIRouter(route_class=FormRoute)
Me = Annotated[Caller, Depends(caller)]


@router.get("/sekreterare", response_class=HTMLResponse, include_in_schema=False)
def secretary_desk(request: Request, me: Me) -> HTMLResponse:
    return page(
        request,
        "secretary/desk.html",
        desk=desk_of(core(request), me.viewer),
        recent_days=RECENT.days,
    )


@router.get("/sekreterare/dialog/{dialog_id}", response_class=HTMLResponse, include_in_schema=False)
def secretary_dialog(request: Request, dialog_id: RowId, me: Me) -> HTMLResponse:
    app = core(request)
    found = kept_instance(app, me.viewer, dialog_id)
    return kept_page(
        request,
        "secretary/dialog.html",
        found,
        detail=dialog_detail(app, dialog_id),
        agreements=dialog_agreements(app, dialog_id),
        owners=participants_of(app, dialog_id),
        rows=range(1, ACTION_ROWS + 1),
    )


@router.post("/sekreterare/dialog/{dialog_id}/genomford", include_in_schema=False)
async def secretary_hold(request: Request, dialog_id: RowId, me: Me) -> RedirectResponse:
    require_may(core(request), me.viewer, "dialog", dialog_id, "hold")
    fields = await form_lists(request)
    confirmed(fields, f"dialog {dialog_id}: record as held")
    texts, owners, dues = (fields.get(k, []) for k in ("action_text", "action_owner", "action_due"))
    items = []
    for i, (text, owner, due) in enumerate(zip(texts, owners, dues, strict=False), start=1):
        if not (text.strip() or due.strip()):
            continue  # an empty row of the form
        if not (text.strip() and owner.strip() and due.strip()):
            raise InputError(
                f"agreed action {i} needs what, an owner and a due date", key=f"action[{i}]"
            )
        items.append(AgreementInput(text.strip(), owner, day(due.strip(), f"action[{i}].due")))
    app = core(request)
    hold(
        app,
        dialog_id,
        actor=me.email,
        minutes=one(fields, "minutes"),
        agreements=items,
        expected_version=version(fields),
    )
    return done(
        app, "dialog", dialog_id, f"Dialogen är registrerad som genomförd ({len(items)} åtgärder)."
    )


@router.post("/sekreterare/dialog/{dialog_id}/avsluta", include_in_schema=False)
async def secretary_close(request: Request, dialog_id: RowId, me: Me) -> RedirectResponse:
    require_may(core(request), me.viewer, "dialog", dialog_id, "close")
    fields = await form_lists(request)
    confirmed(fields, f"dialog {dialog_id}: close")
    app = core(request)
    close(
        app,
        dialog_id,
        actor=me.email,
        reason=one(fields, "reason"),
        expected_version=version(fields),
    )
    return done(app, "dialog", dialog_id, "Uppföljningen är avslutad.")


@router.post("/sekreterare/overenskommelse/{agreement_id}/klar", include_in_schema=False)
async def secretary_agreement_done(
    request: Request, agreement_id: RowId, me: Me
) -> RedirectResponse:
    fields = await form_lists(request)
    confirmed(fields, f"agreement {agreement_id}: mark done")
    app = core(request)
    kind, instance_id = instance_of_agreement(app, agreement_id)
    complete_agreement(app, agreement_id, actor=me.email)
    return done(app, kind, instance_id, "Överenskommelsen är markerad som klar.")


@router.post("/sekreterare/overenskommelse/{agreement_id}/flytta", include_in_schema=False)
async def secretary_agreement_carry(
    request: Request, agreement_id: RowId, me: Me
) -> RedirectResponse:
    fields = await form_lists(request)
    confirmed(fields, f"agreement {agreement_id}: carry on")
    app = core(request)
    due = one(fields, "due")
    due_on = day(due, "due") if due else None
    to = one(fields, "to")
    if to and not to.isdigit():
        raise InputError(f"meeting {to!r} is not a number", key="to")
    carried = carry_on(
        app, agreement_id, actor=me.email, due_on=due_on, to_meeting=int(to) if to else None
    )
    if carried.kind == "meeting":
        message = f"Åtgärden är förd till möte {carried.to_instance}."
        # an action carried here from an earlier meeting: show this meeting's trail
        shown = carried.to_instance if to else carried.from_instance
        return done(app, carried.kind, shown, message)
    return done(
        app,
        carried.kind,
        carried.from_instance,
        f"Överenskommelsen är förd till nästa dialog ({carried.to_instance}).",
    )


@router.post("/sekreterare/dialog/{dialog_id}/flytta", include_in_schema=False)
async def secretary_postpone(request: Request, dialog_id: RowId, me: Me) -> RedirectResponse:
    app = core(request)
    require_may(app, me.viewer, "dialog", dialog_id, "postpone")
    fields = await form_lists(request)
    starts_at = moment(fields, app.clock.tz)
    reason = required(fields, "reason", "a reason")
    confirmed(fields, f"dialog {dialog_id}: postpone")
    moved = postpone(
        app,
        dialog_id,
        actor=me.email,
        starts_at=starts_at,
        reason=reason,
        expected_version=version(fields),
    )
    assert moved.starts_at is not None  # a dialog is planned with its time
    when = sv_datetime(moved.starts_at, app.clock.tz)
    return done(app, "dialog", dialog_id, f"Dialogen är flyttad till {when}.")


@router.post("/sekreterare/dialog/{dialog_id}/installa", include_in_schema=False)
async def secretary_cancel(request: Request, dialog_id: RowId, me: Me) -> RedirectResponse:
    app = core(request)
    require_may(app, me.viewer, "dialog", dialog_id, "cancel")
    fields = await form_lists(request)
    reason = required(fields, "reason", "a reason")
    confirmed(fields, f"dialog {dialog_id}: cancel")
    cancel(app, dialog_id, actor=me.email, reason=reason, expected_version=version(fields))
    return done(app, "dialog", dialog_id, "Dialogen är inställd.")
