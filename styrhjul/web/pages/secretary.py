"""The secretary's pages: the dialogs and meetings they keep, holding, closing, carrying.

Every form calls the same service as the CLI command of the same name (``dialog hold``,
``dialog close``, ``dialog agreement-done``, ``dialog agreement-carry``, ``meetings
carry``), so the services decide who may do what: a form posted by someone who does not
run the dialog gets the service's 403. What cannot be undone needs the confirmation box
ticked (400 without it, nothing changed); after it the page names the audit row it made.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from styrhjul.errors import InputError
from styrhjul.services.checklist import complete_agreement
from styrhjul.services.context import App
from styrhjul.services.dialogs import AgreementInput, carry_agreement_on, close, hold
from styrhjul.services.meeting_minutes import carry_action
from styrhjul.services.meeting_views import meeting_detail
from styrhjul.services.views import dialog_detail, instance_detail
from styrhjul.services.web_secretary import (
    RECENT,
    Kept,
    desk_of,
    dialog_agreements,
    instance_of_agreement,
    kept_instance,
    last_audit,
    participants_of,
    trigger_titles,
)
from styrhjul.web.render import page, sv_datetime
from styrhjul.web.security import Caller, caller, core, form_lists

router = APIRouter()
Me = Annotated[Caller, Depends(caller)]
ACTION_ROWS = 3
"""Empty rows for agreed actions in the "held" form."""
PATHS = {"dialog": "/sekreterare/dialog", "meeting": "/sekreterare/mote"}


def _one(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0].strip()


def _confirmed(fields: dict[str, list[str]], what: str) -> None:
    if _one(fields, "confirm") != "ja":
        raise InputError(
            f"{what}: tick the box to confirm (it cannot be undone); nothing was changed",
            key="confirm",
        )


def _version(fields: dict[str, list[str]]) -> int | None:
    sent = _one(fields, "version")
    if not sent:
        return None
    if not sent.isdigit():
        raise InputError(f"version {sent!r} is not a number", key="version")
    return int(sent)


def _day(text: str, key: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", key=key) from None


def _done(app: App, kind: str, instance_id: int, message: str) -> RedirectResponse:
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


@router.get("/sekreterare", response_class=HTMLResponse, include_in_schema=False)
def secretary_desk(request: Request, me: Me) -> HTMLResponse:
    return page(
        request,
        "secretary/desk.html",
        desk=desk_of(core(request), me.viewer),
        recent_days=RECENT.days,
    )


def _kept_page(request: Request, template: str, found: Kept, **context: Any) -> HTMLResponse:
    """A dialog's or meeting's page: its forms if the caller runs it, its named trail."""
    return page(
        request,
        template,
        may_run=found.may_run,
        triggers=found.triggers,
        states=found.states,
        today=core(request).clock.today(),
        **context,
    )


@router.get("/sekreterare/dialog/{dialog_id}", response_class=HTMLResponse, include_in_schema=False)
def secretary_dialog(request: Request, dialog_id: int, me: Me) -> HTMLResponse:
    app = core(request)
    found = kept_instance(app, me.viewer, dialog_id)
    return _kept_page(
        request,
        "secretary/dialog.html",
        found,
        detail=dialog_detail(app, dialog_id),
        agreements=dialog_agreements(app, dialog_id),
        owners=participants_of(app, dialog_id),
        rows=range(1, ACTION_ROWS + 1),
    )


@router.post("/sekreterare/dialog/{dialog_id}/genomford", include_in_schema=False)
async def secretary_hold(request: Request, dialog_id: int, me: Me) -> RedirectResponse:
    fields = await form_lists(request)
    _confirmed(fields, f"dialog {dialog_id}: record as held")
    texts, owners, dues = (fields.get(k, []) for k in ("action_text", "action_owner", "action_due"))
    items = []
    for i, (text, owner, due) in enumerate(zip(texts, owners, dues, strict=False), start=1):
        if not (text.strip() or due.strip()):
            continue  # an empty row of the form
        if not (text.strip() and owner.strip() and due.strip()):
            raise InputError(
                f"agreed action {i} needs what, an owner and a due date", key=f"action[{i}]"
            )
        items.append(AgreementInput(text.strip(), owner, _day(due.strip(), f"action[{i}].due")))
    app = core(request)
    hold(
        app,
        dialog_id,
        actor=me.email,
        minutes=_one(fields, "minutes"),
        agreements=items,
        expected_version=_version(fields),
    )
    return _done(
        app, "dialog", dialog_id, f"Dialogen är registrerad som genomförd ({len(items)} åtgärder)."
    )


@router.post("/sekreterare/dialog/{dialog_id}/avsluta", include_in_schema=False)
async def secretary_close(request: Request, dialog_id: int, me: Me) -> RedirectResponse:
    fields = await form_lists(request)
    _confirmed(fields, f"dialog {dialog_id}: close")
    app = core(request)
    close(
        app,
        dialog_id,
        actor=me.email,
        reason=_one(fields, "reason"),
        expected_version=_version(fields),
    )
    return _done(app, "dialog", dialog_id, "Uppföljningen är avslutad.")


@router.post("/sekreterare/overenskommelse/{agreement_id}/klar", include_in_schema=False)
async def secretary_agreement_done(request: Request, agreement_id: int, me: Me) -> RedirectResponse:
    fields = await form_lists(request)
    _confirmed(fields, f"agreement {agreement_id}: mark done")
    app = core(request)
    kind, instance_id = instance_of_agreement(app, agreement_id)
    complete_agreement(app, agreement_id, actor=me.email)
    return _done(app, kind, instance_id, "Överenskommelsen är markerad som klar.")


@router.post("/sekreterare/overenskommelse/{agreement_id}/flytta", include_in_schema=False)
async def secretary_agreement_carry(
    request: Request, agreement_id: int, me: Me
) -> RedirectResponse:
    fields = await form_lists(request)
    _confirmed(fields, f"agreement {agreement_id}: carry on")
    app = core(request)
    kind, instance_id = instance_of_agreement(app, agreement_id)
    due = _one(fields, "due")
    due_on = _day(due, "due") if due else None
    if kind == "meeting":
        to = _one(fields, "to")
        if to and not to.isdigit():
            raise InputError(f"meeting {to!r} is not a number", key="to")
        carried = carry_action(
            app, agreement_id, actor=me.email, to_meeting=int(to) if to else None, due_on=due_on
        )
        message = f"Åtgärden är förd till möte {carried.to_meeting}."
        # an action carried here from an earlier meeting: show this meeting's trail
        return _done(app, kind, carried.to_meeting if to else instance_id, message)
    copy = carry_agreement_on(app, agreement_id, actor=me.email, due_on=due_on)
    return _done(
        app, kind, instance_id, f"Överenskommelsen är förd till nästa dialog ({copy.instance_id})."
    )


@router.get("/sekreterare/mote/{meeting_id}", response_class=HTMLResponse, include_in_schema=False)
def secretary_meeting(request: Request, meeting_id: int, me: Me) -> HTMLResponse:
    app = core(request)
    found = kept_instance(app, me.viewer, meeting_id)
    return _kept_page(
        request, "secretary/meeting.html", found, detail=meeting_detail(app, meeting_id)
    )
