"""Plain notices into the outbox: who is addressed, and what a step notice says.

Reminders, overdue notices, escalations and acknowledgements (kvittenser) are mails
without a calendar part. They are rendered here from database rows into the frozen
records of :mod:`styrhjul.notifications.notices` and enqueued in the caller's
transaction, keyed for idempotency, like invites are in :mod:`styrhjul.services.invites`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from styrhjul.db.models import ChecklistItem, Person
from styrhjul.notifications.compose import compose_notice
from styrhjul.notifications.messages import Party
from styrhjul.notifications.notices import StepNotice
from styrhjul.services.context import App
from styrhjul.services.outbox import enqueue

UNASSIGNED = {"sv": "ingen ansvarig ({role})", "en": "nobody ({role})"}
"""How a notice names the assignee of a step that nobody holds, per locale."""


def party(person: Person) -> Party:
    """A person as a message addresses them: by e-mail, shown by role title."""
    return Party(person.email, person.title)


def enqueue_notice(
    app: App, session: Session, kind: str, to: Person, *, key: str, **context: Any
) -> bool:
    """Render template ``kind`` for ``to`` and add it to the outbox; False if ``key`` is known.

    The message is in ``to``'s language (``person.locale``).
    """
    now = app.clock.now()
    message = compose_notice(
        kind,
        party(to),
        sender=app.sender,
        key=key,
        stamp=now,
        renderer=app.renderer,
        locale=to.locale,
        **context,
    )
    return enqueue(session, now, key=key, kind=kind, message=message)


def step_notice(
    app: App, item: ChecklistItem, *, level: int = 0, previous: str = "", locale: str = "sv"
) -> StepNotice:
    """What a notice about ``item`` says, as of the clock's today, to a reader of ``locale``."""
    instance = item.instance
    tz = app.clock.tz
    days = max(
        app.calendar.working_days_between(item.due_at.astimezone(tz).date(), app.clock.today()), 0
    )
    return StepNotice(
        step_id=item.id,
        title=item.title,
        due=item.due_at.astimezone(tz),
        reference=f"{instance.kind} {instance.id}",  # as services.instances.ref names it
        instance_title=instance.title,
        unit=instance.unit.name,
        assignee=(
            item.assignee.title
            if item.assignee
            else UNASSIGNED.get(locale, UNASSIGNED["sv"]).format(role=item.assignee_role)
        ),
        days_overdue=days,
        level=level,
        previous=previous,
        event=instance.starts_at.astimezone(tz) if instance.starts_at else None,
    )
