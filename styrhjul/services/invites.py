"""Meeting notices for dialogs: what an invite, an update or a cancellation contains.

The dialog's UID never changes; its SEQUENCE rises with every change. Each recipient gets
their own message (their own checklist items first), each with its own idempotency key,
so a failing address never holds back the others and no change is announced twice.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from styrhjul.calendar import SchoolYear
from styrhjul.db.models import Dialog, Person
from styrhjul.notifications.compose import compose_invite
from styrhjul.notifications.messages import ChecklistLine, MeetingInvite, Party
from styrhjul.services.context import App
from styrhjul.services.outbox import enqueue


def dialog_summary(dialog: Dialog, round_title: str) -> str:
    year = SchoolYear.parse(dialog.school_year)
    return f"Verksamhetsdialog {dialog.unit.name} – {round_title} {year}"


def parties(dialog: Dialog) -> list[tuple[Person, str]]:
    """The organiser (chair) and the participant of a dialog."""
    return [(dialog.organizer, "CHAIR"), (dialog.participant, "REQ-PARTICIPANT")]


def enqueue_meeting_notice(
    app: App,
    session: Session,
    dialog: Dialog,
    *,
    method: str,
    round_title: str,
    reason: str = "",
) -> int:
    """Render and enqueue one message per party for the dialog's current SEQUENCE."""
    now = app.clock.now()
    everyone = parties(dialog)
    organizer = dialog.organizer
    attendees = tuple(Party(p.email, p.title, role) for p, role in everyone)  # type: ignore[arg-type]
    count = 0
    for person, role in everyone:
        checklist = tuple(
            ChecklistLine(
                title=item.title,
                assignee=item.assignee.title if item.assignee else item.assignee_role,
                due=item.due_at.astimezone(app.clock.tz).date(),
                required=item.required,
                mine=item.assignee_id == person.id,
            )
            for item in dialog.checklist
            if method == "REQUEST"
        )
        invite = MeetingInvite(
            uid=dialog.ical_uid,
            sequence=dialog.ical_sequence,
            method=method,  # type: ignore[arg-type]
            summary=dialog_summary(dialog, round_title),
            description=(
                f"Verksamhetsdialog mellan {organizer.title} och {dialog.unit.name}"
                f" ({round_title}, läsåret {SchoolYear.parse(dialog.school_year)})."
            ),
            location=dialog.location,
            start=dialog.starts_at.astimezone(app.clock.tz),
            end=dialog.ends_at.astimezone(app.clock.tz),
            organizer=Party(organizer.email, organizer.title, "CHAIR"),
            attendees=attendees,
            checklist=checklist,
            reference=f"dialog {dialog.id}",
            reason=reason,
        )
        key = f"meeting:{dialog.ical_uid}:{dialog.ical_sequence}:{method}:{person.email}"
        message = compose_invite(
            invite,
            Party(person.email, person.title, role),  # type: ignore[arg-type]
            sender=app.sender,
            key=key,
            stamp=now,
            renderer=app.renderer,
        )
        if enqueue(
            session,
            now,
            key=key,
            kind="invite" if method == "REQUEST" else "cancel",
            message=message,
        ):
            count += 1
    return count
