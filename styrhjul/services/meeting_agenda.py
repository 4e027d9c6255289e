"""Editing a group meeting's agenda (dagordning) before it is held: add, remove, reorder.

Items are information (with a presenter, föredragande), dialog or decision. Only the
roles that run the meeting (secretary, director) edit it, and only before it is held.
Removing an item resumed from an earlier meeting does not drop it: it is handed on to the
group's next meeting (see :mod:`styrhjul.services.meetings`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from styrhjul.db.governance import AgendaItem, Meeting
from styrhjul.errors import InputError, NotFound
from styrhjul.services.audit import audit_instance
from styrhjul.services.context import App
from styrhjul.services.instances import require_runner
from styrhjul.services.meetings import (
    hand_on,
    meeting_transaction,
    renumber,
    require_not_yet_held,
)
from styrhjul.services.org import person_by_email
from styrhjul.vocabulary import AGENDA_KINDS


def add_agenda_item(
    app: App,
    meeting_id: int,
    *,
    actor: str,
    kind: str,
    title: str,
    presenter: str | None = None,
    position: int | None = None,
) -> int:
    """Add an item (information needs a presenter); returns its id."""
    if kind not in AGENDA_KINDS:
        raise InputError(f"unknown kind {kind!r}; kinds are: {', '.join(AGENDA_KINDS)}", key="kind")
    if not title.strip():
        raise InputError("an agenda item needs a title", key="title")
    if kind == "information" and not presenter:
        raise InputError("an information item needs a presenter (föredragande)", key="presenter")
    with meeting_transaction(app, meeting_id) as (session, meeting):
        require_runner(app, session, meeting, actor, "edit the agenda")
        require_not_yet_held(app, meeting, "edit the agenda")
        person = person_by_email(session, presenter) if presenter else None
        item = AgendaItem(kind=kind, title=title.strip(), presenter=person, position=0)
        at = len(meeting.agenda) if position is None else _index(meeting, position)
        meeting.agenda.insert(at, item)
        renumber(meeting)
        _audit_agenda(app, session, meeting, actor, "agenda_add", f"{kind}: {item.title}")
        session.flush()
        return item.id


def _index(meeting: Meeting, position: int) -> int:
    if not 1 <= position <= len(meeting.agenda) + 1:
        raise InputError(
            f"position {position} is outside 1..{len(meeting.agenda) + 1}", key="position"
        )
    return position - 1


def _agenda_item(app: App, item_id: int) -> int:
    """The meeting of agenda item ``item_id``."""
    with app.db.session() as session:
        item = session.get(AgendaItem, item_id)
        if item is None:
            raise NotFound("agenda item", item_id)
        return item.meeting_id


def remove_agenda_item(app: App, item_id: int, *, actor: str) -> Meeting | None:
    """Remove an item; a resumed one is handed on to the next meeting (returned, if any)."""
    with meeting_transaction(app, _agenda_item(app, item_id)) as (session, meeting):
        require_runner(app, session, meeting, actor, "edit the agenda")
        require_not_yet_held(app, meeting, "edit the agenda")
        item = next(i for i in meeting.agenda if i.id == item_id)
        origin = item.carried_from
        meeting.agenda.remove(item)
        renumber(meeting)
        _audit_agenda(app, session, meeting, actor, "agenda_remove", item.title)
        session.flush()  # the resumed item goes before its origin is carried anew
        return hand_on(app, session, [origin], meeting, actor) if origin is not None else None


def move_agenda_item(app: App, item_id: int, position: int, *, actor: str) -> None:
    """Move an item to ``position`` (1 is first); the others close up."""
    with meeting_transaction(app, _agenda_item(app, item_id)) as (session, meeting):
        require_runner(app, session, meeting, actor, "edit the agenda")
        require_not_yet_held(app, meeting, "edit the agenda")
        item = next(i for i in meeting.agenda if i.id == item_id)
        if not 1 <= position <= len(meeting.agenda):
            raise InputError(
                f"position {position} is outside 1..{len(meeting.agenda)}", key="position"
            )
        items = [i for i in meeting.agenda if i.id != item_id]
        items.insert(position - 1, item)
        for number, each in enumerate(items, start=1):
            each.position = number
        _audit_agenda(app, session, meeting, actor, "agenda_move", f"{item.title} -> {position}")


def _audit_agenda(
    app: App, session: Session, meeting: Meeting, actor: str, trigger: str, reason: str
) -> None:
    audit_instance(
        session,
        meeting,
        at=app.clock.now(),
        actor=actor,
        trigger=trigger,
        from_state=meeting.state,
        reason=reason,
    )
