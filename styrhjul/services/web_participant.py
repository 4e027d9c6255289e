"""What a participant's pages read: their coming dialogs and meetings, their invite, their feeds.

The agenda is ``calendar_events.list_events`` for the person (the same scope as their
calendar feed), joined with each instance's checklist so a page can show what to prepare.
The invite a person downloads is the very ``text/calendar`` part the outbox mailed them
(or, if they were not mailed one, the organiser's copy), so the page and the mail can never
disagree. Feed tokens are filtered to the person's own: a person may revoke only theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlalchemy import select

from styrhjul.db.models import FeedToken, Instance, OutboxMessage
from styrhjul.errors import NotFound, PermissionDenied
from styrhjul.notifications.exchange_meeting import calendar_part
from styrhjul.services.calendar_events import list_events
from styrhjul.services.context import App
from styrhjul.services.feed_tokens import TokenRow, list_tokens, revoke_token
from styrhjul.services.invites import invite_key_prefix, parse_invite_key

AGENDA_DAYS = 400
"""How far ahead the participant's page looks (a school year and a summer)."""


@dataclass(frozen=True)
class AgendaStep:
    """One preparation step of a coming dialog or meeting."""

    id: int
    title: str
    assignee: str | None
    assignee_role: str
    required: bool
    due_at: datetime
    done_at: datetime | None
    mine: bool
    overdue: bool


@dataclass(frozen=True)
class AgendaEntry:
    """A coming dialog or meeting of the person, with its preparation checklist."""

    id: int
    kind: str
    title: str
    unit: str
    unit_name: str
    state: str
    state_title: str
    starts_at: datetime
    ends_at: datetime
    location: str
    has_invite: bool
    steps: list[AgendaStep]

    @property
    def open_mine(self) -> int:
        return sum(1 for s in self.steps if s.mine and s.done_at is None)


def agenda(app: App, email: str, *, today: date | None = None) -> list[AgendaEntry]:
    """The person's dialogs and meetings from today on, in date order, with their steps."""
    first = today or app.clock.today()
    rows = list_events(app, first, first + timedelta(days=AGENDA_DAYS), person=email)
    keys = [r.key for r in rows if r.kind in ("dialog", "meeting")]
    if not keys:
        return []
    now = app.clock.now()
    tz = app.clock.tz
    entries: list[AgendaEntry] = []
    with app.db.session() as session:
        instances = {
            i.key: i for i in session.scalars(select(Instance).where(Instance.key.in_(keys)))
        }
        for key in keys:
            instance = instances[key]
            assert instance.starts_at is not None  # list_events lists only timed instances
            assert instance.ends_at is not None
            definition = app.machine(instance.workflow, instance.workflow_version).definition
            steps = [
                AgendaStep(
                    id=item.id,
                    title=item.title,
                    assignee=item.assignee.title if item.assignee else None,
                    assignee_role=item.assignee_role,
                    required=item.required,
                    due_at=item.due_at.astimezone(tz),
                    done_at=item.done_at.astimezone(tz) if item.done_at else None,
                    mine=item.assignee is not None and item.assignee.email == email,
                    overdue=item.done_at is None and item.due_at < now,
                )
                for item in sorted(instance.checklist, key=lambda i: (i.due_at, i.position))
            ]
            entries.append(
                AgendaEntry(
                    id=instance.id,
                    kind=instance.kind,
                    title=instance.title,
                    unit=instance.unit.code,
                    unit_name=instance.unit.name,
                    state=instance.state,
                    state_title=definition.state_title(instance.state),
                    starts_at=instance.starts_at.astimezone(tz),
                    ends_at=instance.ends_at.astimezone(tz),
                    location=instance.location or "",
                    has_invite=instance.kind == "dialog" and instance.ical_uid is not None,
                    steps=steps,
                )
            )
    return entries


def invite_ics(app: App, instance_id: int, email: str) -> bytes:
    """The calendar part of the latest invite mailed for ``instance_id``, ``email``'s copy first.

    The caller checks the right to read the instance; this only finds the bytes.
    """
    with app.db.session() as session:
        instance = session.get(Instance, instance_id)
        if instance is None or instance.ical_uid is None:
            raise NotFound("invite of instance", instance_id)
        messages = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.key.startswith(invite_key_prefix(instance.ical_uid)))
                .order_by(OutboxMessage.id)
            )
        )
    if not messages:
        raise NotFound("invite of instance", instance_id)
    keys = {m.id: parse_invite_key(m.key) for m in messages}
    latest = max(k.sequence for k in keys.values())
    current = [m for m in messages if keys[m.id].sequence == latest]
    own = [m for m in current if keys[m.id].email == email]
    chosen = (own or current)[-1]
    mail = message_from_bytes(chosen.payload, policy=policy.default)
    assert isinstance(mail, EmailMessage)  # policy.default parses to EmailMessage
    data = calendar_part(mail)
    if data is None:
        raise NotFound("calendar part of the invite of instance", instance_id)
    return data


def tokens_of(app: App, email: str) -> list[TokenRow]:
    """The person's own feed tokens, newest first, revoked ones included (to see when)."""
    rows = [t for t in list_tokens(app) if t.owner_kind == "person" and t.owner == email]
    return sorted(rows, key=lambda t: t.id, reverse=True)


def revoke_own_token(app: App, token_id: int, email: str) -> TokenRow:
    """Revoke a feed token of the person's own; anyone else's is refused."""
    with app.db.session() as session:
        row = session.get(FeedToken, token_id)
        if row is None:
            raise NotFound("feed token", token_id)
        owner = row.person.email if row.person is not None else None
    if owner != email:
        raise PermissionDenied(f"{email} may not revoke feed token {token_id}: it is not theirs")
    return revoke_token(app, token_id)
