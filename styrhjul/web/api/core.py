"""The JSON API's core routes: the session, reads and actions of every role.

Each handler does what the page of the same operation does, on the same services with
the same checks: reading an instance is ``access.require_instance`` (403), acting on one
is the service's role check (a secretary acts only on what they keep: 403), a state that
forbids the action is the machine's refusal (409), and ``expected_version`` older than
the stored one is a :class:`~styrhjul.errors.ConflictError` (409). Handlers parse, call a
service and shape the answer (:mod:`styrhjul.web.api.schemas`); nothing else. The pages'
confirmation box has no counterpart here: a client that sends the request has decided.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from styrhjul.services import meeting_minutes, meetings
from styrhjul.services.access import require_instance
from styrhjul.services.accounts import log_in, log_out
from styrhjul.services.checklist import complete_agreement, complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import AgreementInput, cancel, close, hold, postpone
from styrhjul.services.feed_tokens import create_token
from styrhjul.services.meeting_views import meeting_detail
from styrhjul.services.views import dialog_detail, instance_detail
from styrhjul.services.web_director import (
    scoped_assignments,
    scoped_scorecard,
    scoped_year_events,
    visible_units,
)
from styrhjul.services.web_participant import agenda, invite_ics, revoke_own_token, tokens_of
from styrhjul.services.web_secretary import (
    carry_on,
    desk_of,
    dialog_agreements,
    kept_instance,
)
from styrhjul.web.api import schemas as s
from styrhjul.web.api.deps import Core, Me
from styrhjul.web.params import RowId
from styrhjul.web.security import COOKIE, clear_session_cookie

router = APIRouter()


def _state(app: App, instance_id: int) -> s.StateOut:
    return s.StateOut.model_validate(instance_detail(app, instance_id))


# --- the session ---------------------------------------------------------------------------


@router.post("/session", response_model=s.SessionOut, status_code=201, tags=["session"])
def open_session(app: Core, body: s.LoginIn) -> s.SessionOut:
    """Log in with e-mail and password; wrong ones count towards the account's lockout."""
    login = log_in(app, body.email, body.password)
    return s.SessionOut(token=login.token, expires_at=login.expires_at, csrf_token=login.csrf)


@router.delete("/session", status_code=204, response_class=Response, tags=["session"])
def close_session(request: Request, app: Core, me: Me) -> Response:
    """Log out: the token (or cookie) this request came with stops working."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if me.via == "bearer" else request.cookies.get(COOKIE, "")
    log_out(app, token)
    answer = Response(status_code=204)
    if me.via == "cookie":
        clear_session_cookie(answer, app)
    return answer


@router.get("/me", response_model=s.MeOut, tags=["session"])
def who_am_i(app: Core, me: Me) -> s.MeOut:
    """Who is logged in, the roles they hold today and the units they read."""
    viewer = me.viewer
    return s.MeOut(
        email=viewer.email,
        title=viewer.title,
        admin=viewer.admin,
        roles=[s.RoleOut(role=role, unit=unit) for role, unit in viewer.roles],
        reads_all=viewer.reads_all,
        units=[u.code for u in visible_units(app, viewer)],
    )


# --- reads ---------------------------------------------------------------------------------


@router.get("/agenda", response_model=list[s.AgendaEntryOut], tags=["participant"])
def my_agenda(app: Core, me: Me) -> list[s.AgendaEntryOut]:
    """The caller's coming dialogs and meetings, each with its preparation checklist."""
    return [s.AgendaEntryOut.model_validate(e) for e in agenda(app, me.email)]


@router.get("/desk", response_model=s.DeskOut, tags=["secretary"])
def my_desk(app: Core, me: Me) -> s.DeskOut:
    """The dialogs and meetings the caller keeps as secretary, by what is left to do."""
    return s.DeskOut.model_validate(desk_of(app, me.viewer))


@router.get("/dialogs/{dialog_id}", response_model=s.DialogOut, tags=["dialogs"])
def read_dialog(app: Core, me: Me, dialog_id: RowId) -> s.DialogOut:
    """A dialog the caller may read, its checklist, agreements and timeline."""
    kept = kept_instance(app, me.viewer, dialog_id)
    detail = dialog_detail(app, dialog_id)
    row = detail.dialog
    return s.DialogOut(
        **{name: getattr(row, name) for name in type(row).__dataclass_fields__},
        ends_at=detail.ends_at,
        prepare_at=detail.prepare_at,
        location=detail.location,
        minutes=detail.minutes,
        allowed=detail.allowed,
        may_run=kept.may_run,
        checklist=[s.StepOut.model_validate(i) for i in detail.checklist],
        agreements=[
            s.DialogAgreementOut.model_validate(a) for a in dialog_agreements(app, dialog_id)
        ],
        timeline=[s.AuditOut.model_validate(e) for e in detail.history],
        observations=[s.ObservationOut.model_validate(o) for o in detail.observations],
    )


@router.get(
    "/dialogs/{dialog_id}/invite.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {"schema": {"type": "string"}}}}},
    tags=["dialogs"],
)
def dialog_invite(app: Core, me: Me, dialog_id: RowId) -> Response:
    """The dialog's latest invite (``text/calendar``), the caller's own copy if mailed one."""
    require_instance(app, me.viewer, dialog_id)
    return Response(invite_ics(app, dialog_id, me.email), media_type="text/calendar")


@router.get("/meetings/{meeting_id}", response_model=s.MeetingOut, tags=["meetings"])
def read_meeting(app: Core, me: Me, meeting_id: RowId) -> s.MeetingOut:
    """A meeting the caller may read: agenda, attendance, actions, checklist, timeline."""
    kept = kept_instance(app, me.viewer, meeting_id)
    detail = meeting_detail(app, meeting_id)
    row = detail.meeting
    return s.MeetingOut(
        **{n: getattr(row, n) for n in s.MeetingOut.model_fields if hasattr(row, n)},
        minutes=detail.minutes,
        allowed=detail.allowed,
        may_run=kept.may_run,
        agenda=[s.AgendaItemOut.model_validate(i) for i in detail.agenda],
        attendance=[s.AttendeeOut.model_validate(a) for a in detail.attendance],
        actions=[s.ActionOut.model_validate(a) for a in detail.actions],
        earlier_open_actions=[s.ActionOut.model_validate(a) for a in detail.earlier_open_actions],
        checklist=[s.StepOut.model_validate(i) for i in detail.checklist],
        timeline=[s.AuditOut.model_validate(e) for e in detail.history],
    )


@router.get("/instances/{instance_id}", response_model=s.InstanceOut, tags=["instances"])
def read_instance(app: Core, me: Me, instance_id: RowId) -> s.InstanceOut:
    """Any instance the caller may read: its state, checklist and timeline (audit trail)."""
    require_instance(app, me.viewer, instance_id)
    return s.InstanceOut.model_validate(instance_detail(app, instance_id))


@router.get("/events", response_model=list[s.EventOut], tags=["overview"])
def year_events(
    app: Core, me: Me, year: Annotated[int | None, Query(ge=1901, le=2199)] = None
) -> list[s.EventOut]:
    """The year's events (the årshjul wheel's data) that concern the caller's units or them."""
    chosen = year if year is not None else app.clock.today().year
    return [s.EventOut.model_validate(e) for e in scoped_year_events(app, me.viewer, chosen)]


@router.get("/assignments", response_model=list[s.AssignmentOut], tags=["overview"])
def assignments(app: Core, me: Me) -> list[s.AssignmentOut]:
    """The VP-uppdrag the caller reads, with their state and next step."""
    return [s.AssignmentOut.model_validate(a) for a in scoped_assignments(app, me.viewer)]


@router.get("/scorecard", response_model=list[s.MeasureOut], tags=["overview"])
def scorecard(app: Core, me: Me) -> list[s.MeasureOut]:
    """The measures of the units the caller reads, each outcome met or not."""
    return [s.MeasureOut.model_validate(m) for m in scoped_scorecard(app, me.viewer)]


# --- steps and agreements ------------------------------------------------------------------


@router.post("/steps/{step_id}/done", response_model=s.StepDoneOut, tags=["participant"])
def tick_step(app: Core, me: Me, step_id: RowId) -> s.StepDoneOut:
    """Tick a checklist step done (its assignee, or someone who runs the instance)."""
    item = complete_step(app, step_id, actor=me.email)
    return s.StepDoneOut(
        id=item.id,
        key=item.key,
        title=item.title,
        done_at=item.done_at.astimezone(app.clock.tz) if item.done_at else None,
        done_by=item.done_by,
        instance=_state(app, item.instance_id),
    )


@router.post(
    "/agreements/{agreement_id}/done", response_model=s.AgreementDoneOut, tags=["secretary"]
)
def agreement_done(app: Core, me: Me, agreement_id: RowId) -> s.AgreementDoneOut:
    """Mark an agreed action done (its owner, or someone who runs the dialog or meeting)."""
    row = complete_agreement(app, agreement_id, actor=me.email)
    return s.AgreementDoneOut(
        id=row.id,
        done_at=row.done_at.astimezone(app.clock.tz) if row.done_at else None,
        done_by=row.done_by,
        instance=_state(app, row.instance_id),
    )


@router.post("/agreements/{agreement_id}/carry", response_model=s.CarriedOut, tags=["secretary"])
def agreement_carry(
    app: Core, me: Me, agreement_id: RowId, body: Annotated[s.CarryIn | None, Body()] = None
) -> s.CarriedOut:
    """Carry an open agreement on: a dialog's to the next round, a meeting's to a later meeting."""
    sent = body or s.CarryIn()
    carried = carry_on(
        app, agreement_id, actor=me.email, due_on=sent.due_on, to_meeting=sent.to_meeting
    )
    return s.CarriedOut.model_validate(carried)


# --- dialogs -------------------------------------------------------------------------------


@router.post("/dialogs/{dialog_id}/held", response_model=s.StateOut, tags=["dialogs"])
def dialog_held(app: Core, me: Me, dialog_id: RowId, body: s.HoldDialogIn) -> s.StateOut:
    """Record the dialog as held: minutes, and agreed actions with owner and due date."""
    hold(
        app,
        dialog_id,
        actor=me.email,
        minutes=body.minutes,
        agreements=[AgreementInput(a.text, a.owner, a.due_on) for a in body.agreements],
        expected_version=body.expected_version,
    )
    return _state(app, dialog_id)


@router.post("/dialogs/{dialog_id}/close", response_model=s.StateOut, tags=["dialogs"])
def dialog_close(
    app: Core, me: Me, dialog_id: RowId, body: Annotated[s.CloseIn | None, Body()] = None
) -> s.StateOut:
    """Close the dialog's follow-up (refused while an agreement is open)."""
    sent = body or s.CloseIn()
    close(
        app, dialog_id, actor=me.email, reason=sent.reason, expected_version=sent.expected_version
    )
    return _state(app, dialog_id)


@router.post("/dialogs/{dialog_id}/cancel", response_model=s.StateOut, tags=["dialogs"])
def dialog_cancel(app: Core, me: Me, dialog_id: RowId, body: s.CancelIn) -> s.StateOut:
    """Cancel the dialog; everyone invited gets a cancellation."""
    cancel(
        app, dialog_id, actor=me.email, reason=body.reason, expected_version=body.expected_version
    )
    return _state(app, dialog_id)


@router.post("/dialogs/{dialog_id}/postpone", response_model=s.StateOut, tags=["dialogs"])
def dialog_postpone(app: Core, me: Me, dialog_id: RowId, body: s.PostponeIn) -> s.StateOut:
    """Move the dialog to another working day and time; everyone gets an updated invite."""
    postpone(
        app,
        dialog_id,
        actor=me.email,
        starts_at=body.starts_at,
        reason=body.reason,
        expected_version=body.expected_version,
    )
    return _state(app, dialog_id)


# --- meetings ------------------------------------------------------------------------------

Versioned = Annotated[s.VersionIn | None, Body()]


@router.post(
    "/meetings/{meeting_id}/send-agenda", response_model=s.AgendaSentOut, tags=["meetings"]
)
def meeting_send_agenda(
    app: Core, me: Me, meeting_id: RowId, body: Versioned = None
) -> s.AgendaSentOut:
    """Send the agenda to everyone called (a calendar invitation each)."""
    version = body.expected_version if body else None
    sent = meetings.send_agenda(app, meeting_id, actor=me.email, expected_version=version)
    return s.AgendaSentOut(instance=_state(app, meeting_id), messages=sent)


@router.post("/meetings/{meeting_id}/held", response_model=s.MeetingHeldOut, tags=["meetings"])
def meeting_held(app: Core, me: Me, meeting_id: RowId, body: s.HoldMeetingIn) -> s.MeetingHeldOut:
    """Record the meeting as held: who was absent, each item's record, the actions agreed."""
    record = meeting_minutes.MeetingRecord(
        notes=body.notes,
        absent=tuple(body.absent),
        guests=tuple(body.guests),
        items=tuple(
            meeting_minutes.ItemRecord(i.id, i.notes, i.decision, i.take_up_again)
            for i in body.items
        ),
        actions=tuple(meeting_minutes.ActionInput(a.text, a.owner, a.due_on) for a in body.actions),
    )
    held = meeting_minutes.hold_meeting(
        app, meeting_id, record, actor=me.email, expected_version=body.expected_version
    )
    return s.MeetingHeldOut(
        instance=_state(app, meeting_id),
        present=held.present,
        absent=held.absent,
        actions=held.actions,
        resumed_at=held.resumed_at,
        take_up_again=held.take_up_again,
    )


@router.post("/meetings/{meeting_id}/approve", response_model=s.StateOut, tags=["meetings"])
def meeting_approve(app: Core, me: Me, meeting_id: RowId, body: Versioned = None) -> s.StateOut:
    """The chair approves (justerar) the minutes."""
    version = body.expected_version if body else None
    meetings.approve_minutes(app, meeting_id, actor=me.email, expected_version=version)
    return _state(app, meeting_id)


@router.post("/meetings/{meeting_id}/close", response_model=s.StateOut, tags=["meetings"])
def meeting_close(
    app: Core, me: Me, meeting_id: RowId, body: Annotated[s.CloseIn | None, Body()] = None
) -> s.StateOut:
    """Close the meeting (refused while an action agreed at it is open)."""
    sent = body or s.CloseIn()
    meetings.close_meeting(
        app, meeting_id, actor=me.email, reason=sent.reason, expected_version=sent.expected_version
    )
    return _state(app, meeting_id)


@router.post("/meetings/{meeting_id}/cancel", response_model=s.StateOut, tags=["meetings"])
def meeting_cancel(app: Core, me: Me, meeting_id: RowId, body: s.CancelIn) -> s.StateOut:
    """Cancel the meeting; items taken up again move on, invitees get a cancellation."""
    meetings.cancel_meeting(
        app, meeting_id, actor=me.email, reason=body.reason, expected_version=body.expected_version
    )
    return _state(app, meeting_id)


@router.post("/meetings/{meeting_id}/postpone", response_model=s.StateOut, tags=["meetings"])
def meeting_postpone(app: Core, me: Me, meeting_id: RowId, body: s.PostponeIn) -> s.StateOut:
    """Move the meeting (same length) to a free working day; invitees get an update."""
    meetings.postpone_meeting(
        app,
        meeting_id,
        actor=me.email,
        starts_at=body.starts_at,
        reason=body.reason,
        expected_version=body.expected_version,
    )
    return _state(app, meeting_id)


# --- calendar feeds ------------------------------------------------------------------------


@router.get("/feed-tokens", response_model=list[s.TokenOut], tags=["participant"])
def my_feed_tokens(app: Core, me: Me) -> list[s.TokenOut]:
    """The caller's own calendar-feed tokens, newest first (never the secret itself)."""
    return [s.TokenOut.model_validate(t) for t in tokens_of(app, me.email)]


@router.post(
    "/feed-tokens", response_model=s.CreatedTokenOut, status_code=201, tags=["participant"]
)
def make_feed_token(
    app: Core, me: Me, body: Annotated[s.TokenIn | None, Body()] = None
) -> s.CreatedTokenOut:
    """A new personal feed address, returned this once."""
    made = create_token(app, person=me.email, label=(body or s.TokenIn()).label)
    return s.CreatedTokenOut(feed=s.TokenOut.model_validate(made.row), address=made.address)


@router.delete("/feed-tokens/{token_id}", response_model=s.TokenOut, tags=["participant"])
def revoke_feed_token(app: Core, me: Me, token_id: RowId) -> s.TokenOut:
    """Revoke one of the caller's own feed tokens; the address stops working at once."""
    return s.TokenOut.model_validate(revoke_own_token(app, token_id, me.email))
