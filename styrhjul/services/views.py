"""Read models: dialogs and instances as listings and detail pages show them (CLI, web, JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from styrhjul.db.models import Dialog, Instance, Observation, OrgUnit
from styrhjul.errors import NotFound
from styrhjul.services.audit import history
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
    remind_at: datetime | None
    escalate_at: datetime | None
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
    observations: list[ObservationView]


def _row(app: App, dialog: Dialog) -> DialogRow:
    definition = app.machine(dialog.workflow).definition
    # planning gives every dialog its school year and time (services/planning.py)
    assert dialog.school_year is not None
    assert dialog.starts_at is not None
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
        parts = _parts(app, session, dialog)
        assert dialog.ends_at is not None
        assert dialog.prepare_at is not None
        return DialogDetail(
            dialog=_row(app, dialog),
            location=dialog.location or "",
            ends_at=dialog.ends_at.astimezone(tz),
            prepare_at=dialog.prepare_at.astimezone(tz),
            ical_uid=dialog.ical_uid or "",
            ical_sequence=dialog.ical_sequence,
            minutes=dialog.minutes,
            allowed=parts.allowed,
            checklist=parts.checklist,
            agreements=parts.agreements,
            history=parts.history,
            observations=parts.observations,
        )


@dataclass(frozen=True)
class ObservationView:
    """Observations compiled from the round below, per school form."""

    school_form: str | None
    text: str
    author: str
    recorded_at: datetime


@dataclass(frozen=True)
class InstanceDetail:
    """Everything about one workflow instance of any kind, as the generic pages show it."""

    id: int
    kind: str
    workflow: str
    workflow_version: int
    title: str
    unit: str
    unit_name: str
    period: str | None
    state: str
    state_title: str
    final: bool
    starts_at: datetime | None
    version: int
    allowed: list[str]
    checklist: list[StepView]
    agreements: list[AgreementView]
    history: list[AuditView]
    observations: list[ObservationView]


@dataclass(frozen=True)
class _Parts:
    allowed: list[str]
    checklist: list[StepView]
    agreements: list[AgreementView]
    history: list[AuditView]
    observations: list[ObservationView]


def instance_detail(app: App, instance_id: int) -> InstanceDetail:
    """One instance of any kind: state, steps, agreements, observations and audit trail."""
    with app.db.session() as session:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound("instance", instance_id)
        definition = app.machine(instance.workflow, instance.workflow_version).definition
        parts = _parts(app, session, instance)
        return InstanceDetail(
            id=instance.id,
            kind=instance.kind,
            workflow=instance.workflow,
            workflow_version=instance.workflow_version,
            title=instance.title,
            unit=instance.unit.code,
            unit_name=instance.unit.name,
            period=instance.school_year,
            state=instance.state,
            state_title=definition.state_title(instance.state),
            final=instance.state in definition.final_states,
            starts_at=instance.starts_at.astimezone(app.clock.tz) if instance.starts_at else None,
            version=instance.version,
            allowed=parts.allowed,
            checklist=parts.checklist,
            agreements=parts.agreements,
            history=parts.history,
            observations=parts.observations,
        )


def _local(value: datetime | None, app: App) -> datetime | None:
    return value.astimezone(app.clock.tz) if value else None


def _parts(app: App, session: Session, instance: Instance) -> _Parts:
    tz = app.clock.tz
    observations = session.scalars(
        select(Observation)
        .where(Observation.instance_id == instance.id)
        .order_by(Observation.school_form, Observation.id)
    )
    return _Parts(
        allowed=app.machine(instance.workflow, instance.workflow_version).allowed_triggers(
            instance.state
        ),
        checklist=[
            StepView(
                i.id,
                i.key,
                i.title,
                i.assignee.email if i.assignee else None,
                i.required,
                i.due_at.astimezone(tz),
                _local(i.remind_at, app),
                _local(i.escalate_at, app),
                _local(i.done_at, app),
                i.done_by,
            )
            for i in instance.checklist
        ],
        agreements=[
            AgreementView(a.id, a.text, a.owner.email, a.due_on, _local(a.done_at, app))
            for a in instance.agreements
        ],
        history=[
            AuditView(e.at.astimezone(tz), e.actor, e.trigger, e.from_state, e.to_state, e.reason)
            for e in history(session, instance)
        ],
        observations=[
            ObservationView(o.school_form, o.text, o.author, o.recorded_at.astimezone(tz))
            for o in observations
        ],
    )
