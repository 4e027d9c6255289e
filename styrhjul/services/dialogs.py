"""Dialog use cases: hold, close, postpone, cancel, open preparations.

Each use case is one transaction on the generic instance machinery
(:mod:`styrhjul.services.instances`) plus what only a dialog has: minutes and agreements
when held (and a message to each agreement owner listing their agreed actions), updated
invites when moved or cancelled. Ticking steps and agreements is
generic and lives there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from styrhjul.db.models import Agreement, Dialog, Instance
from styrhjul.errors import (
    ConflictError,
    InputError,
    NotFound,
    TransitionRefused,
)
from styrhjul.services.audit import audit_instance
from styrhjul.services.chain import steer_planned_rounds
from styrhjul.services.chain_facts import chain_may_pass
from styrhjul.services.checklist import carry_agreement
from styrhjul.services.context import App, Stop, never
from styrhjul.services.instances import (
    CHILDREN,
    fire,
    instance_transaction,
    redate_step,
    require_runner,
)
from styrhjul.services.invites import enqueue_agreed_actions, enqueue_meeting_notice
from styrhjul.services.org import person_by_email
from styrhjul.services.schedule import require_within_horizon, step_times
from styrhjul.vocabulary import SYSTEM


@contextmanager
def dialog_transaction(
    app: App,
    dialog_id: int,
    expected_version: int | None = None,
    *,
    children: tuple[str, ...] = CHILDREN,
) -> Iterator[tuple[Session, Dialog]]:
    """Load a dialog for change (see :func:`instance_transaction`), with ``children``."""
    with instance_transaction(
        app, dialog_id, expected_version, model=Dialog, children=children
    ) as pair:
        yield pair


@dataclass(frozen=True)
class AgreementInput:
    """An agreed action as a secretary records it."""

    text: str
    owner: str
    due_on: date


def hold(
    app: App,
    dialog_id: int,
    *,
    actor: str,
    minutes: str,
    agreements: Sequence[AgreementInput] = (),
    expected_version: int | None = None,
) -> str:
    """Record that the dialog was held, with its minutes and agreements; start follow-up."""
    if not minutes.strip():
        raise InputError("minutes are required: what was discussed and concluded", key="minutes")
    # Holding and closing read the agreements, not the steps (those load if a rule asks).
    with dialog_transaction(app, dialog_id, expected_version, children=("agreements",)) as (
        session,
        dialog,
    ):
        owners = []
        for i, item in enumerate(agreements, start=1):
            if not item.text.strip():
                raise InputError(f"agreement {i} has no text", key=f"agreement[{i}]")
            try:
                owners.append(person_by_email(session, item.owner))
            except NotFound as exc:
                raise InputError(f"agreement {i}: {exc}", key=f"agreement[{i}].owner") from None
        state = fire(app, session, dialog, "hold", actor)
        dialog.minutes = minutes.strip()
        for position, (item, owner) in enumerate(zip(agreements, owners, strict=True), start=1):
            dialog.agreements.append(
                Agreement(
                    position=position, text=item.text.strip(), owner=owner, due_on=item.due_on
                )
            )
        if dialog.agreements:
            state = fire(app, session, dialog, "follow_up", SYSTEM, "agreements recorded")
            steer_planned_rounds(app, session, dialog)
            enqueue_agreed_actions(app, session, dialog)
        return state


def carry_agreement_on(
    app: App, agreement_id: int, *, actor: str, due_on: date | None = None
) -> Agreement:
    """Carry an open agreement to the unit's next dialog of the same level (the next round).

    The agreement no longer keeps this dialog's follow-up open; it is followed up in the
    next round instead. Refused until that round is planned.
    """
    with app.db.session() as session:
        agreement = session.get(Agreement, agreement_id)
        if agreement is None or agreement.instance.kind != "dialog":
            what = agreement.instance.kind if agreement else "nothing"
            raise NotFound("agreement of a dialog", f"{agreement_id} (it belongs to {what})")
        dialog_id = agreement.instance_id
    with dialog_transaction(app, dialog_id) as (session, dialog):
        require_runner(app, session, dialog, actor, "carry its agreements")
        machine = app.machine(dialog.workflow, dialog.workflow_version)
        if dialog.state in machine.definition.final_states:
            raise TransitionRefused(f"dialog {dialog.id}", "carry_agreement", dialog.state, [])
        target = session.scalar(
            select(Dialog)
            .where(
                Dialog.level == dialog.level,
                Dialog.unit_id == dialog.unit_id,
                Dialog.starts_at > dialog.starts_at,
                Dialog.state.not_in(machine.definition.final_states),
            )
            .order_by(Dialog.starts_at)
            .limit(1)
        )
        if target is None:
            raise InputError(
                f"dialog {dialog.id}: {dialog.unit.name} has no later {dialog.level} dialog "
                "planned; plan the next round first",
                key="agreement",
            )
        source = next(a for a in dialog.agreements if a.id == agreement_id)
        return carry_agreement(app, session, dialog, source, target, actor=actor, due_on=due_on)


def close(
    app: App, dialog_id: int, *, actor: str, reason: str = "", expected_version: int | None = None
) -> str:
    """Close the follow-up; refused while an agreement is open."""
    with dialog_transaction(app, dialog_id, expected_version, children=("agreements",)) as (
        session,
        dialog,
    ):
        return fire(app, session, dialog, "close", actor, reason)


def cancel(
    app: App, dialog_id: int, *, actor: str, reason: str, expected_version: int | None = None
) -> str:
    """Cancel the dialog and send a cancellation (METHOD:CANCEL) to everyone invited."""
    if not reason.strip():
        raise InputError("a reason is required to cancel a dialog", key="reason")
    with dialog_transaction(app, dialog_id, expected_version) as (session, dialog):
        state = fire(app, session, dialog, "cancel", actor, reason)
        if dialog.invite_at is not None:
            dialog.invite_at = None  # never invited: nothing to take back
            return state
        dialog.ical_sequence += 1
        enqueue_meeting_notice(app, session, dialog, method="CANCEL", reason=reason)
        return state


def postpone(
    app: App,
    dialog_id: int,
    *,
    actor: str,
    starts_at: datetime,
    reason: str,
    expected_version: int | None = None,
) -> Dialog:
    """Move the dialog; checklist dates follow and everyone gets an updated invite."""
    if starts_at.tzinfo is None:
        raise InputError("the new time needs a time zone", key="starts_at")
    require_within_horizon(app, starts_at)
    if not reason.strip():
        raise InputError("a reason is required to move a dialog", key="reason")
    if not app.calendar.is_working_day(starts_at.astimezone(app.clock.tz).date()):
        day = starts_at.astimezone(app.clock.tz).date()
        raise InputError(
            f"{day} is not a working day ({app.calendar.non_working_reason(day)})", key="starts_at"
        )
    with dialog_transaction(app, dialog_id, expected_version) as (session, dialog):
        old = dialog.starts_at
        assert old is not None  # planning gives every dialog its time (services/planning.py)
        fire(app, session, dialog, "postpone", actor, reason, new_starts_at=starts_at)
        _retime(app, dialog, starts_at)
        if dialog.invite_at is not None:
            return dialog  # not invited yet: the first invite, still to come, has the new time
        dialog.ical_sequence += 1
        moved = f"{reason} (flyttad från {old.astimezone(app.clock.tz):%Y-%m-%d %H:%M})"
        enqueue_meeting_notice(app, session, dialog, method="REQUEST", reason=moved)
        return dialog


def _retime(app: App, dialog: Dialog, starts_at: datetime) -> None:
    """Move the dialog's times, preparation window and open steps (and a pending invite)."""
    # planning gives every dialog its start and end (services/planning.py)
    assert dialog.starts_at is not None
    assert dialog.ends_at is not None
    shift = starts_at - dialog.starts_at
    dialog.starts_at = starts_at
    dialog.ends_at += shift
    if dialog.invite_at is not None:
        dialog.invite_at += shift  # a first invite still to come keeps its lead
    definition = app.machine(dialog.workflow, dialog.workflow_version).definition
    times = step_times(app, definition, starts_at)
    dialog.prepare_at = times.prepare_at
    for item in dialog.checklist:
        if item.done_at is None and item.key in times.steps:
            redate_step(item, *times.steps[item.key])


def replan(app: App, dialog_id: int, *, actor: str, starts_at: datetime, reason: str) -> bool:
    """Move a dialog nobody has been invited to yet, as planning does; False if invited.

    A dialog planned a year ahead and not yet announced is not postponed (no one is told,
    no role is asked): its times, preparation window, step dates and invite time follow the
    plan, and the audit trail says why. Once invited it can only be postponed.
    """
    with dialog_transaction(app, dialog_id) as (session, dialog):
        if dialog.invite_at is None or dialog.state != "planned":
            return False
        old = dialog.starts_at
        assert old is not None  # planning gives every dialog its time (services/planning.py)
        _retime(app, dialog, starts_at)
        audit_instance(
            session,
            dialog,
            at=app.clock.now(),
            actor=actor,
            trigger="replan",
            from_state=dialog.state,
            reason=f"{reason} (from {old.astimezone(app.clock.tz):%Y-%m-%d %H:%M})",
        )
        return True


def send_due_invites(app: App, *, stop: Stop = never) -> list[int]:
    """Send the first invite of every dialog planned ahead whose invite time has come."""
    now = app.clock.now()
    with app.db.session() as session:
        due = list(
            session.scalars(
                select(Dialog.id)
                .where(Dialog.invite_at <= now)
                .order_by(Dialog.invite_at, Dialog.id)
            )
        )
    invited = []
    for dialog_id in due:
        if stop():
            break
        try:
            with dialog_transaction(app, dialog_id) as (session, dialog):
                if dialog.invite_at is None:
                    continue  # another process sent it first
                dialog.invite_at = None
                final = app.machine(dialog.workflow, dialog.workflow_version).definition
                if dialog.state in final.final_states:
                    continue
                enqueue_meeting_notice(app, session, dialog, method="REQUEST")
                invited.append(dialog_id)
        except ConflictError:
            continue
    return invited


OPEN_PREPARATION = "open_preparation"


def open_due_preparations(app: App, *, stop: Stop = never) -> list[int]:
    """Open preparation for every instance whose window has come (the daemon's tick).

    Only instances whose guards can pass are read: a director's dialog waits for its round
    below to be compiled (:func:`~styrhjul.services.chain_facts.chain_may_pass`), which
    opens it at once when its window has come, or leaves it to the first tick after that.
    Refusing every waiting dialog again on every tick cost a transaction each.
    """
    now = app.clock.now()
    waiting = {
        state for machine in app.machines.values() for state in machine.sources(OPEN_PREPARATION)
    }
    with app.db.session() as session:
        due = list(
            session.scalars(
                select(Instance.id)
                .where(
                    Instance.state.in_(waiting),
                    Instance.prepare_at <= now,
                    chain_may_pass(app, OPEN_PREPARATION),
                )
                .order_by(Instance.prepare_at, Instance.id)
            )
        )
    opened = []
    for dialog_id in due:
        if stop():
            break
        try:
            with instance_transaction(app, dialog_id, children=()) as (session, instance):
                if instance.state not in waiting:
                    continue
                fire(app, session, instance, OPEN_PREPARATION, SYSTEM, "preparation window opened")
                opened.append(dialog_id)
        except ConflictError:
            continue  # another process opened it first
        except TransitionRefused:
            continue  # a guard still says no (the round below grew after compiling): later
    return opened
