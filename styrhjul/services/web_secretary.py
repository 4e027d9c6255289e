"""Read models of the secretary's pages: what a secretary keeps, and what they may do to it.

A secretary keeps the dialogs and meetings of the units where they hold the ``secretary``
role (or below them), and the meetings that name them as secretary. The pages group them
by what is left to do: to hold, to close, closed recently. Which forms a page shows is
read here from the workflow and the same roles the services check: the triggers declared
from the instance's state for a role the viewer holds (``Kept.offered``), and which
agreements may still be ticked or carried. The services still decide; a form posted by
someone who may not fire its trigger is refused before it is read (:func:`require_may`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from styrhjul.db.governance import Meeting
from styrhjul.db.models import Agreement, Dialog, Instance, OrgUnit
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.errors import InputError, NotFound, PermissionDenied
from styrhjul.services.access import Viewer, require_instance
from styrhjul.services.context import App
from styrhjul.services.dialogs import carry_agreement_on
from styrhjul.services.instances import actor_roles, runner_roles
from styrhjul.services.meeting_minutes import carry_action
from styrhjul.services.org import subtree_ids
from styrhjul.services.views import AuditView

SECRETARY = "secretary"
RECENT = timedelta(days=60)
"""How long a closed dialog or meeting stays under "closed recently"."""

TRIGGER_TITLES = {
    "create": "Skapad",
    "schedule": "Mötet planerat",
    "plan": "Planerad",
    "step_done": "Steg klart",
    "agreement_done": "Överenskommelse klar",
    "carry_agreement": "Överenskommelse förd vidare",
    "carry_action": "Åtgärd förd vidare",
    "carry_item": "Punkt återupptas",
    "agenda_add": "Punkt tillagd",
    "agenda_remove": "Punkt borttagen",
    "agenda_move": "Punkt flyttad",
    "waive_step": "Steg efterskänkt",
    "replan": "Omplanerad",
}
"""Swedish names of the audit triggers no workflow transition names."""


@dataclass(frozen=True)
class KeptRow:
    """A dialog or meeting on the secretary's list."""

    kind: str
    id: int
    title: str
    unit: str
    unit_name: str
    starts_at: datetime | None
    state: str
    state_title: str


@dataclass(frozen=True)
class Desk:
    """What a secretary keeps, by what is left to do."""

    to_hold: list[KeptRow] = field(default_factory=list)
    to_close: list[KeptRow] = field(default_factory=list)
    closed: list[KeptRow] = field(default_factory=list)


@dataclass(frozen=True)
class Kept:
    """What a secretary's page of one dialog or meeting shows beside the instance itself."""

    may_run: bool
    """Whether the viewer holds a role that runs the instance (hold, close, carry)."""
    triggers: dict[str, str]
    """How the audit trail names each trigger, in Swedish."""
    states: dict[str, str]
    """The Swedish title of each state of the instance's workflow."""
    offered: frozenset[str] = frozenset()
    """The triggers the viewer may fire now: declared from the instance's state by its
    workflow, for a role the viewer holds (the guards may still refuse, with a reason)."""


@dataclass(frozen=True)
class DialogAgreement:
    """An agreement on the secretary's dialog page, with what may still be done to it."""

    id: int
    text: str
    owner: str
    due_on: date
    done_at: datetime | None
    carried_to: int | None
    """The dialog the agreement was carried on to, if it was."""
    open: bool
    """Neither done nor carried while the dialog follows up: it may be ticked or carried."""


def _dest(machine: WorkflowMachine, trigger: str) -> set[str]:
    return {t.dest for t in machine.definition.spec.transition if t.trigger == trigger}


def _trigger_titles(machine: WorkflowMachine) -> dict[str, str]:
    titles = dict(TRIGGER_TITLES)
    titles.update({t.trigger: t.title for t in machine.definition.spec.transition})
    return titles


def _secretary_units(session: Session, viewer: Viewer) -> set[int]:
    codes = [code for role, code in viewer.roles if role == SECRETARY]
    units: set[int] = set()
    for unit_id in session.scalars(select(OrgUnit.id).where(OrgUnit.code.in_(codes))):
        units.update(session.scalars(subtree_ids(unit_id)))
    return units


def desk_of(app: App, viewer: Viewer) -> Desk:
    """The dialogs and meetings ``viewer`` keeps as secretary, grouped, in date order.

    Refused (403) to someone who is no secretary today and keeps no meeting: an empty desk
    would say "nothing to do" where the truth is "not yours".
    """
    desk = Desk()
    since = app.clock.now() - RECENT
    tz = app.clock.tz
    with app.db.session() as session:
        units = _secretary_units(session, viewer)
        keeps_meetings = session.scalar(
            select(Meeting.id).where(Meeting.secretary_id == viewer.person_id).limit(1)
        )
        if not units and keeps_meetings is None:
            raise PermissionDenied(
                f"{viewer.email} is no secretary today and keeps no meeting: the secretary's"
                " desk is for those who keep dialogs and meetings"
            )
        kept = or_(
            Instance.unit_id.in_(units),
            Instance.id.in_(select(Meeting.id).where(Meeting.secretary_id == viewer.person_id)),
        )
        query = (
            select(Instance)
            .where(Instance.kind.in_(("dialog", "meeting")), kept)
            .order_by(Instance.starts_at, Instance.id)
        )
        for instance in session.scalars(query):
            machine = app.machine(instance.workflow, instance.workflow_version)
            definition = machine.definition
            row = KeptRow(
                kind=instance.kind,
                id=instance.id,
                title=instance.title,
                unit=instance.unit.code,
                unit_name=instance.unit.name,
                starts_at=instance.starts_at.astimezone(tz) if instance.starts_at else None,
                state=instance.state,
                state_title=definition.state_title(instance.state),
            )
            if instance.state in _dest(machine, "close"):
                if instance.updated_at >= since:  # the close's audit row set it
                    desk.closed.append(row)
            elif instance.state in definition.final_states:
                continue  # cancelled: nothing left to do
            elif "close" in machine.allowed_triggers(instance.state):
                desk.to_close.append(row)
            else:
                desk.to_hold.append(row)
    desk.closed.sort(key=lambda r: r.starts_at or since, reverse=True)
    return desk


def kept_instance(app: App, viewer: Viewer, instance_id: int) -> Kept:
    """What ``viewer`` may do to the instance and how its trail is named.

    Refused unless they may read it (``access.require_instance``).
    """
    require_instance(app, viewer, instance_id)
    with app.db.session() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None  # require_instance found it
        machine = app.machine(instance.workflow, instance.workflow_version)
        held = actor_roles(app, session, instance, viewer.email)
        offered = frozenset(
            trigger
            for trigger in machine.allowed_triggers(instance.state)
            if machine.roles_for(trigger, instance.state) & held
        )
    return Kept(
        may_run=bool(held & runner_roles(machine)),
        triggers=_trigger_titles(machine),
        states={s.name: s.title for s in machine.definition.spec.state},
        offered=offered,
    )


def require_may(app: App, viewer: Viewer, kind: str, instance_id: int, trigger: str) -> None:
    """Refuse before reading a form unless ``viewer`` keeps the instance and may ``trigger``.

    The dialog or meeting must be of ``kind`` (404 otherwise), ``trigger`` open to a role
    the viewer holds for it in its workflow, and the instance readable by them (403
    otherwise), so that a form posted by someone else is refused as such rather than for
    its contents. Whether the current state allows it is left to the service, which
    refuses a stale form (409).
    """
    with app.db.session() as session:
        instance = session.get(Instance, instance_id)
        if instance is None or instance.kind != kind:
            raise NotFound(kind, instance_id)
        machine = app.machine(instance.workflow, instance.workflow_version)
        needed = machine.roles_for(trigger)
        held = actor_roles(app, session, instance, viewer.email)
    if not needed & held:
        raise PermissionDenied(
            f"{kind} {instance_id}: '{trigger}' needs one of the roles"
            f" {', '.join(sorted(needed))}; {viewer.email} holds"
            f" {', '.join(sorted(held)) or 'none'} here"
        )
    require_instance(app, viewer, instance_id)


def dialog_agreements(app: App, dialog_id: int) -> list[DialogAgreement]:
    """The dialog's agreements: where each carried one went, and which are still open.

    Ticking and carrying are offered while the dialog follows up (the state its
    ``follow_up`` leads to), for an agreement neither done nor carried on.
    """
    tz = app.clock.tz
    with app.db.session() as session:
        dialog = session.get(Dialog, dialog_id)
        if dialog is None:
            raise NotFound("dialog", dialog_id)
        machine = app.machine(dialog.workflow, dialog.workflow_version)
        following_up = dialog.state in _dest(machine, "follow_up")
        return [
            DialogAgreement(
                id=a.id,
                text=a.text,
                owner=a.owner.email,
                due_on=a.due_on,
                done_at=a.done_at.astimezone(tz) if a.done_at else None,
                carried_to=a.carried_to_id,
                open=following_up and a.is_open,
            )
            for a in dialog.agreements
        ]


def participants_of(app: App, dialog_id: int) -> list[tuple[str, str]]:
    """(e-mail, title) of who takes part in the dialog: the owners an agreement may have."""
    with app.db.session() as session:
        dialog = session.get(Dialog, dialog_id)
        if dialog is None:
            raise NotFound("dialog", dialog_id)
        people = {p.email: p.title for p in (dialog.organizer, dialog.participant)}
        for item in dialog.checklist:
            if item.assignee is not None:
                people.setdefault(item.assignee.email, item.assignee.title)
        return sorted(people.items())


def instance_of_agreement(app: App, agreement_id: int) -> tuple[str, int]:
    """(kind, id) of the dialog or meeting agreement ``agreement_id`` belongs to."""
    with app.db.session() as session:
        agreement = session.get(Agreement, agreement_id)
        if agreement is None:
            raise NotFound("agreement", agreement_id)
        return agreement.instance.kind, agreement.instance_id


@dataclass(frozen=True)
class CarriedOn:
    """An agreement carried on, from the dialog or meeting it belongs to, to a later one."""

    kind: str
    """What the agreement belongs to: ``dialog`` or ``meeting``."""
    agreement_id: int
    from_instance: int
    to_instance: int
    new_agreement_id: int


def carry_on(
    app: App,
    agreement_id: int,
    *,
    actor: str,
    due_on: date | None = None,
    to_meeting: int | None = None,
) -> CarriedOn:
    """Carry an open agreement on, whatever it belongs to (the page and the API alike).

    A dialog's goes to the unit's next round (``dialogs.carry_agreement_on``); a meeting's
    action to ``to_meeting`` or the group's next meeting (``meeting_minutes.carry_action``).
    Those services decide who may; naming a meeting for a dialog's agreement is refused.
    """
    kind, instance_id = instance_of_agreement(app, agreement_id)
    if kind == "meeting":
        carried = carry_action(app, agreement_id, actor=actor, to_meeting=to_meeting, due_on=due_on)
        return CarriedOn(
            kind, agreement_id, carried.from_meeting, carried.to_meeting, carried.new_action_id
        )
    if to_meeting is not None:
        raise InputError(
            f"agreement {agreement_id} belongs to {kind} {instance_id}: it is carried to the"
            " next round, not to a meeting",
            key="to",
        )
    copy = carry_agreement_on(app, agreement_id, actor=actor, due_on=due_on)
    return CarriedOn(kind, agreement_id, instance_id, copy.instance_id, copy.id)


def trigger_titles(app: App, instance_id: int) -> dict[str, str]:
    """How the audit trail of the instance names each trigger, in Swedish."""
    with app.db.session() as session:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound("instance", instance_id)
        machine = app.machine(instance.workflow, instance.workflow_version)
    return _trigger_titles(machine)


def last_audit(history: list[AuditView]) -> AuditView | None:
    """The newest row of a history (oldest first), which the flash after an action names.

    The last written, not the latest ``at``: the rows of one action share their instant.
    """
    return history[-1] if history else None
