"""Calendar notices for group meetings (LG, SG): the agenda goes out as the invitation.

A group's members book its meetings long ahead, but what they need from Styrhjul is the
agenda: sending it (``send_agenda``) mails every member, the chair and the secretary a
calendar invitation whose description is the agenda. Moving the meeting afterwards sends
an update (same UID, higher SEQUENCE), cancelling it a cancellation. Before the agenda
went out nobody was invited, so nothing is sent. One message per recipient, each with its
own idempotency key, as for dialogs (:mod:`styrhjul.services.invites`). The mail text is
in each recipient's language; the calendar entry, one for everyone, keeps the Swedish agenda.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from styrhjul.db.governance import Meeting
from styrhjul.db.models import Person
from styrhjul.notifications.messages import MeetingInvite, Method, Party
from styrhjul.services.context import App
from styrhjul.services.invites import enqueue_invite
from styrhjul.services.meeting_views import AGENDA_KIND_TITLES


def agenda_text(meeting: Meeting) -> str:
    """The agenda as the invitation's description (Swedish, one numbered line per item)."""
    lines = ["Dagordning:"]
    for item in meeting.agenda:
        line = f"{item.position}. {AGENDA_KIND_TITLES.get(item.kind, item.kind)}: {item.title}"
        if item.presenter is not None:
            line += f" (föredragande: {item.presenter.title})"
        lines.append(line)
    if meeting.secretary is not None:
        lines += ["", f"Sekreterare: {meeting.secretary.title}"]
    return "\n".join(lines)


def recipients(meeting: Meeting) -> list[tuple[Person, Party]]:
    """The chair, everyone called, and the secretary; each once, the chair as CHAIR."""
    people: list[tuple[Person, Party]] = []
    seen: set[int] = set()
    called = [a.person for a in meeting.attendees]
    for person in [meeting.chair, *called, meeting.secretary]:
        if person is None or person.id in seen:
            continue
        seen.add(person.id)
        chair = meeting.chair is not None and person.id == meeting.chair.id
        people.append(
            (person, Party(person.email, person.title, "CHAIR" if chair else "REQ-PARTICIPANT"))
        )
    return people


def enqueue_meeting_notice(
    app: App, session: Session, meeting: Meeting, *, method: Method, reason: str = ""
) -> int:
    """Render and enqueue one invitation (or cancellation) per recipient at the current SEQUENCE."""
    assert meeting.starts_at is not None
    assert meeting.ends_at is not None
    assert meeting.ical_uid is not None
    tz = app.clock.tz
    parties = recipients(meeting)
    organizer = next((party for _, party in parties if party.role == "CHAIR"), parties[0][1])
    invite = MeetingInvite(
        uid=meeting.ical_uid,
        sequence=meeting.ical_sequence,
        method=method,
        summary=meeting.title,
        description=agenda_text(meeting),
        location=meeting.location or "",
        start=meeting.starts_at.astimezone(tz),
        end=meeting.ends_at.astimezone(tz),
        organizer=Party(organizer.email, organizer.title),
        attendees=tuple(party for _, party in parties),
        checklist=(),
        reference=f"meeting {meeting.id}",
        reason=reason,
    )
    count = 0
    for person, party in parties:
        if enqueue_invite(app, session, invite, person, party):
            count += 1
    return count
