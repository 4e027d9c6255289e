"""Meeting notices for dialogs: what an invite, an update or a cancellation contains.

The dialog's UID never changes; its SEQUENCE rises with every change. Each recipient gets
their own message (their own checklist items first, the text in their own language; the
calendar entry's summary stays Swedish), each with its own idempotency key,
so a failing address never holds back the others and no change is announced twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from styrhjul.db.models import Dialog, Person
from styrhjul.notifications.compose import KIND_BY_METHOD, compose_invite
from styrhjul.notifications.messages import ChecklistLine, MeetingInvite, Method, Party
from styrhjul.notifications.notices import HELD, AgreedAction, HeldDialog
from styrhjul.services.context import App
from styrhjul.services.notices import enqueue_notice
from styrhjul.services.outbox import enqueue


def round_title(app: App, dialog: Dialog) -> str:
    """The round's title from the dialog's workflow definition ("Dialogrunda 1 (hösttermin)")."""
    spec = app.machine(dialog.workflow, dialog.workflow_version).definition.round(dialog.round_no)
    return spec.title if spec else f"Dialogrunda {dialog.round_no}"


def enqueue_meeting_notice(
    app: App, session: Session, dialog: Dialog, *, method: Method, reason: str = ""
) -> int:
    """Render and enqueue one message per party for the dialog's current SEQUENCE."""
    # planning gives every dialog its time and UID (services/planning.py)
    assert dialog.starts_at is not None
    assert dialog.ends_at is not None
    assert dialog.ical_uid is not None
    tz = app.clock.tz
    title = round_title(app, dialog)
    kind_title = app.machine(
        dialog.workflow, dialog.workflow_version
    ).definition.spec.workflow.title
    organizer = Party(dialog.organizer.email, dialog.organizer.title, "CHAIR")
    participant = Party(dialog.participant.email, dialog.participant.title, "REQ-PARTICIPANT")
    count = 0
    for person, party in ((dialog.organizer, organizer), (dialog.participant, participant)):
        checklist = (
            ()
            if method == "CANCEL"
            else tuple(
                ChecklistLine(
                    title=item.title,
                    assignee=item.assignee.title if item.assignee else item.assignee_role,
                    due=item.due_at.astimezone(tz).date(),
                    required=item.required,
                    mine=item.assignee_id == person.id,
                )
                for item in dialog.checklist
            )
        )
        invite = MeetingInvite(
            uid=dialog.ical_uid,
            sequence=dialog.ical_sequence,
            method=method,
            summary=f"{dialog.title} – {title} {dialog.school_year}",
            description=(
                f"{kind_title} mellan {organizer.title} och {dialog.unit.name}"
                f" ({title}, läsåret {dialog.school_year})."
            ),
            location=dialog.location or "",
            start=dialog.starts_at.astimezone(tz),
            end=dialog.ends_at.astimezone(tz),
            organizer=organizer,
            attendees=(organizer, participant),
            checklist=checklist,
            reference=f"dialog {dialog.id}",
            reason=reason,
        )
        if enqueue_invite(app, session, invite, person, party):
            count += 1
    return count


@dataclass(frozen=True)
class InviteKey:
    """The parts of an invite's outbox key (see :func:`invite_key`)."""

    uid: str
    sequence: int
    method: str
    email: str


def invite_key(uid: str, sequence: int, method: str, email: str) -> str:
    """``meeting:<UID>:<SEQUENCE>:<METHOD>:<email>``: one announcement per change and person."""
    return f"{invite_key_prefix(uid)}{sequence}:{method}:{email}"


def invite_key_prefix(uid: str) -> str:
    """What every invite key of the event ``uid`` starts with."""
    return f"meeting:{uid}:"


def parse_invite_key(key: str) -> InviteKey:
    """The parts of an :func:`invite_key` (the UID may itself hold colons)."""
    head, sequence, method, email = key.rsplit(":", 3)
    return InviteKey(head.removeprefix("meeting:"), int(sequence), method, email)


def enqueue_invite(
    app: App, session: Session, invite: MeetingInvite, person: Person, party: Party
) -> bool:
    """Compose ``invite`` for one recipient in their language and put it in the outbox.

    The key names the event's UID, its SEQUENCE, the method and the recipient, so every
    change is announced once to each person, whoever (dialog or meeting) announces it.
    False if that announcement is already in the outbox.
    """
    now = app.clock.now()
    key = invite_key(invite.uid, invite.sequence, invite.method, person.email)
    message = compose_invite(
        invite,
        party,
        sender=app.sender,
        key=key,
        stamp=now,
        renderer=app.renderer,
        locale=person.locale,
    )
    return enqueue(session, now, key=key, kind=KIND_BY_METHOD[invite.method], message=message)


def enqueue_agreed_actions(app: App, session: Session, dialog: Dialog) -> int:
    """After a dialog is held: one message per agreement owner, their own actions first.

    Written in the transaction that records the hold, keyed ``held:<dialog>:<owner>``, so a
    dialog's agreements are announced once to each owner. Plain mail: the meeting is over,
    so there is nothing for a calendar to act on.
    """
    assert dialog.starts_at is not None  # a dialog that was held had a time
    tz = app.clock.tz
    actions = [
        (agreement.owner, AgreedAction(agreement.text, agreement.owner.title, agreement.due_on))
        for agreement in sorted(dialog.agreements, key=lambda a: a.position)
    ]
    owners = {owner.id: owner for owner, _ in actions}
    count = 0
    for owner in owners.values():
        held = HeldDialog(
            reference=f"dialog {dialog.id}",
            title=dialog.title,
            unit=dialog.unit.name,
            held_at=dialog.starts_at.astimezone(tz),
            own=tuple(action for person, action in actions if person.id == owner.id),
            others=tuple(action for person, action in actions if person.id != owner.id),
        )
        key = f"held:{dialog.id}:{owner.email}"
        if enqueue_notice(app, session, HELD, owner, key=key, held=held):
            count += 1
    return count
