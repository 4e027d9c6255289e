"""Read models: dialogs as listings and detail pages show them (CLI, web, JSON alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from styrhjul.db.models import AuditEvent, Dialog, OrgUnit
from styrhjul.errors import NotFound
from styrhjul.services.context import App


@dataclass(frozen=True)
class DialogRow:
    """One dialog in a listing."""

    id: int
    school_year: str
    round_no: int
    unit: str
    unit_name: str
    area: str
    state: str
    state_title: str
    starts_at: datetime
    organizer: str
    participant: str
    version: int


@dataclass(frozen=True)
class StepView:
    """A checklist step on a detail page."""

    id: int
    key: str
    title: str
    assignee: str | None
    required: bool
    due_at: datetime
    remind_at: datetime
    escalate_at: datetime
    done_at: datetime | None
    done_by: str | None


@dataclass(frozen=True)
class AgreementView:
    """An agreed action on a detail page."""

    id: int
    text: str
    owner: str
    due_on: date
    done_at: datetime | None


@dataclass(frozen=True)
class AuditView:
    """One line of a dialog's history."""

    at: datetime
    actor: str
    trigger: str
    from_state: str | None
    to_state: str | None
    reason: str


@dataclass(frozen=True)
class DialogDetail:
    """Everything about one dialog."""

    dialog: DialogRow
    location: str
    ends_at: datetime
    prepare_at: datetime
    ical_uid: str
    ical_sequence: int
    minutes: str | None
    allowed: list[str]
    checklist: list[StepView]
    agreements: list[AgreementView]
    history: list[AuditView]


def _row(app: App, dialog: Dialog) -> DialogRow:
    definition = app.machine(dialog.workflow).definition
    return DialogRow(
        id=dialog.id,
        school_year=dialog.school_year,
        round_no=dialog.round_no,
        unit=dialog.unit.code,
        unit_name=dialog.unit.name,
        area=dialog.host_unit.code,
        state=dialog.state,
        state_title=definition.state_title(dialog.state),
        starts_at=dialog.starts_at.astimezone(app.clock.tz),
        organizer=dialog.organizer.email,
        participant=dialog.participant.email,
        version=dialog.version,
    )


def list_dialogs(
    app: App,
    *,
    school_year: str | None = None,
    round_no: int | None = None,
    state: str | None = None,
    area: str | None = None,
) -> list[DialogRow]:
    """Dialogs in date order, filtered as asked."""
    with app.db.session() as session:
        query = (
            select(Dialog)
            .options(
                selectinload(Dialog.unit),
                selectinload(Dialog.host_unit),
                selectinload(Dialog.organizer),
                selectinload(Dialog.participant),
            )
            .order_by(Dialog.starts_at, Dialog.id)
        )
        if school_year:
            query = query.where(Dialog.school_year == school_year)
        if round_no:
            query = query.where(Dialog.round_no == round_no)
        if state:
            query = query.where(Dialog.state == state)
        if area:
            query = query.join(OrgUnit, Dialog.host_unit_id == OrgUnit.id).where(
                OrgUnit.code == area
            )
        return [_row(app, d) for d in session.scalars(query)]


def dialog_detail(app: App, dialog_id: int) -> DialogDetail:
    with app.db.session() as session:
        dialog = session.get(Dialog, dialog_id)
        if dialog is None:
            raise NotFound("dialog", dialog_id)
        tz = app.clock.tz
        history = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "dialog", AuditEvent.entity_id == dialog_id)
            .order_by(AuditEvent.id)
        )
        return DialogDetail(
            dialog=_row(app, dialog),
            location=dialog.location,
            ends_at=dialog.ends_at.astimezone(tz),
            prepare_at=dialog.prepare_at.astimezone(tz),
            ical_uid=dialog.ical_uid,
            ical_sequence=dialog.ical_sequence,
            minutes=dialog.minutes,
            allowed=app.machine(dialog.workflow).allowed_triggers(dialog.state),
            checklist=[
                StepView(
                    i.id,
                    i.key,
                    i.title,
                    i.assignee.email if i.assignee else None,
                    i.required,
                    i.due_at.astimezone(tz),
                    i.remind_at.astimezone(tz),
                    i.escalate_at.astimezone(tz),
                    i.done_at.astimezone(tz) if i.done_at else None,
                    i.done_by,
                )
                for i in dialog.checklist
            ],
            agreements=[
                AgreementView(
                    a.id,
                    a.text,
                    a.owner.email,
                    a.due_on,
                    a.done_at.astimezone(tz) if a.done_at else None,
                )
                for a in dialog.agreements
            ],
            history=[
                AuditView(
                    e.at.astimezone(tz), e.actor, e.trigger, e.from_state, e.to_state, e.reason
                )
                for e in history
            ],
        )
