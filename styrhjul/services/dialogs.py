"""Dialog use cases: hold, close, postpone, cancel, tick the checklist, open preparations.

Each use case is one transaction: load the dialog, build the facts, let the workflow
machine decide, apply the change, write the audit row and any outbox rows, commit. A write
that lost a race (the version column moved) becomes a :class:`ConflictError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from styrhjul.db.models import Agreement, ChecklistItem, Dialog
from styrhjul.engine.guards import InstanceFacts
from styrhjul.errors import ConflictError, InputError, NotFound, PermissionDenied
from styrhjul.services.audit import audit_dialog
from styrhjul.services.context import App
from styrhjul.services.invites import enqueue_meeting_notice
from styrhjul.services.org import person_by_email, roles_of
from styrhjul.services.schedule import step_times
from styrhjul.vocabulary import SYSTEM


def ref(dialog_id: int) -> str:
    return f"dialog {dialog_id}"


@contextmanager
def dialog_transaction(
    app: App, dialog_id: int, expected_version: int | None = None
) -> Iterator[tuple[Session, Dialog]]:
    """Load a dialog for change; the commit fails with ConflictError if someone got there first."""
    try:
        with app.db.session() as session:
            dialog = session.get(
                Dialog,
                dialog_id,
                options=[selectinload(Dialog.checklist), selectinload(Dialog.agreements)],
            )
            if dialog is None:
                raise NotFound("dialog", dialog_id)
            if expected_version is not None and dialog.version != expected_version:
                raise ConflictError(ref(dialog_id), expected_version)
            read_version = dialog.version
            yield session, dialog
            session.flush()
    except StaleDataError:
        raise ConflictError(ref(dialog_id), read_version) from None


def facts_of(app: App, dialog: Dialog, new_starts_at: datetime | None = None) -> InstanceFacts:
    return InstanceFacts(
        ref=ref(dialog.id),
        state=dialog.state,
        now=app.clock.now(),
        starts_at=dialog.starts_at,
        prepare_at=dialog.prepare_at,
        steps_open_required=tuple(
            item.key for item in dialog.checklist if item.required and item.done_at is None
        ),
        agreements_total=len(dialog.agreements),
        agreements_open=tuple(a.id for a in dialog.agreements if a.done_at is None),
        new_starts_at=new_starts_at,
    )


def actor_roles(app: App, session: Session, dialog: Dialog, actor: str) -> set[str]:
    """The roles ``actor`` holds for this dialog today (``system`` is Styrhjul itself)."""
    if actor == SYSTEM:
        return {SYSTEM}
    person = person_by_email(session, actor)
    return roles_of(session, person, dialog.unit, app.clock.today())


def fire(
    app: App,
    session: Session,
    dialog: Dialog,
    trigger: str,
    actor: str,
    reason: str = "",
    *,
    new_starts_at: datetime | None = None,
) -> str:
    """Ask the machine, apply the new state and write the audit row (no commit)."""
    before = dialog.state
    dialog.state = app.machine(dialog.workflow).fire(
        facts_of(app, dialog, new_starts_at),
        trigger,
        actor_roles(app, session, dialog, actor),
    )
    audit_dialog(
        session,
        dialog,
        at=app.clock.now(),
        actor=actor,
        trigger=trigger,
        from_state=before,
        reason=reason,
    )
    return dialog.state


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
    with dialog_transaction(app, dialog_id, expected_version) as (session, dialog):
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
        session.flush()
        if dialog.agreements:
            state = fire(app, session, dialog, "follow_up", SYSTEM, "agreements recorded")
        return state


def complete_agreement(app: App, agreement_id: int, *, actor: str) -> Agreement:
    """Mark an agreed action done (by its owner, the secretary or the area head)."""
    return _tick(app, Agreement, agreement_id, actor=actor)


def complete_step(app: App, item_id: int, *, actor: str) -> ChecklistItem:
    """Tick a checklist step; when the last required one is done the dialog becomes ready."""
    return _tick(app, ChecklistItem, item_id, actor=actor)


Tickable = TypeVar("Tickable", Agreement, ChecklistItem)
_TICKS: dict[type, tuple[str, str]] = {
    ChecklistItem: ("checklist step", "step_done"),
    Agreement: ("agreement", "agreement_done"),
}


def _tick(app: App, model: type[Tickable], ident: int, *, actor: str) -> Tickable:
    """Mark a step or an agreement done, once, by its owner or someone who may hold the dialog."""
    kind, trigger = _TICKS[model]
    with app.db.session() as session:
        row = session.get(model, ident)
        if row is None:
            raise NotFound(kind, ident)
        dialog_id = row.dialog_id
    with dialog_transaction(app, dialog_id) as (session, dialog):
        rows = dialog.checklist if model is ChecklistItem else dialog.agreements
        row = next(r for r in rows if r.id == ident)
        owner_id = row.assignee_id if isinstance(row, ChecklistItem) else row.owner_id
        _require_owner_or_holder(app, session, dialog, actor, owner_id, f"{kind} {ident}")
        if row.done_at is not None:
            return row
        now = app.clock.now()
        row.done_at, row.done_by = now, actor
        label = row.key if isinstance(row, ChecklistItem) else str(row.id)
        audit_dialog(
            session,
            dialog,
            at=now,
            actor=actor,
            trigger=trigger,
            from_state=dialog.state,
            reason=f"{kind} {label} done",
        )
        machine = app.machine(dialog.workflow)
        if (
            "mark_ready" in machine.allowed_triggers(dialog.state)
            and not facts_of(app, dialog).steps_open_required
        ):
            fire(app, session, dialog, "mark_ready", SYSTEM, "all required steps done")
        return row


def _require_owner_or_holder(
    app: App, session: Session, dialog: Dialog, actor: str, owner_id: int | None, what: str
) -> None:
    """The owner of a step, or someone who may hold the dialog, may tick it."""
    if actor == SYSTEM or person_by_email(session, actor).id == owner_id:
        return
    if actor_roles(app, session, dialog, actor) & app.machine(dialog.workflow).roles_for("hold"):
        return
    raise PermissionDenied(
        f"{what}: only its owner, the secretary or the area head may mark it done"
    )


def close(
    app: App, dialog_id: int, *, actor: str, reason: str = "", expected_version: int | None = None
) -> str:
    """Close the follow-up; refused while an agreement is open."""
    with dialog_transaction(app, dialog_id, expected_version) as (session, dialog):
        return fire(app, session, dialog, "close", actor, reason)


def cancel(
    app: App, dialog_id: int, *, actor: str, reason: str, expected_version: int | None = None
) -> str:
    """Cancel the dialog and send a cancellation (METHOD:CANCEL) to everyone invited."""
    if not reason.strip():
        raise InputError("a reason is required to cancel a dialog", key="reason")
    with dialog_transaction(app, dialog_id, expected_version) as (session, dialog):
        state = fire(app, session, dialog, "cancel", actor, reason)
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
    if not reason.strip():
        raise InputError("a reason is required to move a dialog", key="reason")
    if not app.calendar.is_working_day(starts_at.astimezone(app.clock.tz).date()):
        day = starts_at.astimezone(app.clock.tz).date()
        raise InputError(
            f"{day} is not a working day ({app.calendar.non_working_reason(day)})", key="starts_at"
        )
    with dialog_transaction(app, dialog_id, expected_version) as (session, dialog):
        old = dialog.starts_at
        fire(app, session, dialog, "postpone", actor, reason, new_starts_at=starts_at)
        duration = dialog.ends_at - dialog.starts_at
        dialog.starts_at = starts_at
        dialog.ends_at = starts_at + duration
        definition = app.machine(dialog.workflow).definition
        times = step_times(app, definition, starts_at)
        dialog.prepare_at = times.prepare_at
        for item in dialog.checklist:
            if item.done_at is None and item.key in times.steps:
                item.due_at, item.remind_at, item.escalate_at = times.steps[item.key]
        dialog.ical_sequence += 1
        moved = f"{reason} (flyttad från {old.astimezone(app.clock.tz):%Y-%m-%d %H:%M})"
        enqueue_meeting_notice(app, session, dialog, method="REQUEST", reason=moved)
        return dialog


def open_due_preparations(app: App) -> list[int]:
    """Open preparation for every planned dialog whose window has come (the daemon's tick)."""
    now = app.clock.now()
    waiting = {
        state for machine in app.machines.values() for state in machine.sources("open_preparation")
    }
    with app.db.session() as session:
        due = list(
            session.scalars(
                select(Dialog.id)
                .where(Dialog.state.in_(waiting), Dialog.prepare_at <= now)
                .order_by(Dialog.prepare_at, Dialog.id)
            )
        )
    opened = []
    for dialog_id in due:
        try:
            with dialog_transaction(app, dialog_id) as (session, dialog):
                if dialog.state not in waiting:
                    continue
                fire(app, session, dialog, "open_preparation", SYSTEM, "preparation window opened")
                opened.append(dialog_id)
        except ConflictError:
            continue  # another process opened it first
    return opened
