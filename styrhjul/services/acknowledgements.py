"""Acknowledgements (kvittenser): a rektor always hears of what is submitted for their unit.

The governance chain promises that "a rektor must always get an acknowledgement of ideas
that concern their unit". :func:`acknowledge` is the one way to keep that promise: any
use case that submits or completes something concerning a unit calls it inside its own
transaction, with a key naming the cause, so the kvittens is written with the change and
sent once. The rektor is not told of what they did themselves.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from styrhjul.db.models import ChecklistItem, Instance, OrgUnit
from styrhjul.errors import NotFound
from styrhjul.notifications.notices import ACKNOWLEDGEMENT, Acknowledgement
from styrhjul.services.context import App
from styrhjul.services.notices import enqueue_notice
from styrhjul.services.org import holder_over, person_by_email
from styrhjul.vocabulary import SYSTEM

RECTOR = "rektor"
KEY_PREFIX = "acknowledgement:"
"""Outbox keys of acknowledgements are ``acknowledgement:<the caller's key>``."""


def acknowledge(
    app: App,
    session: Session,
    unit: OrgUnit,
    *,
    what: str | Mapping[str, str],
    actor: str,
    key: str,
) -> bool:
    """Enqueue a kvittens of ``what`` to the rektor of ``unit``, in the caller's transaction.

    ``what`` is one Swedish sentence naming what was submitted or done, or that sentence
    per locale (``{"sv": ..., "en": ...}``; the rektor's own language is used, Swedish if
    it is missing); ``actor`` the e-mail of who did it (or ``system``), ``key`` what makes it
    unique (the same key never sends twice). Returns False when nothing was enqueued: the
    unit has no rektor (an area, a group), the rektor is the actor, or the key was used
    before.
    """
    today = app.clock.today()
    rector = holder_over(session, unit, RECTOR, today)
    if rector is None or rector.email == actor.strip().lower():
        return False
    if not isinstance(what, str):
        what = what.get(rector.locale, what["sv"])
    return enqueue_notice(
        app,
        session,
        ACKNOWLEDGEMENT,
        rector,
        key=KEY_PREFIX + key,
        ack=Acknowledgement(
            unit=unit.name,
            what=" ".join(what.split()),
            actor=_title_of(session, actor),
            at=app.clock.now(),
        ),
    )


def acknowledge_step_done(
    app: App, session: Session, instance: Instance, item: ChecklistItem, actor: str
) -> bool:
    """The kvittens of a step ticked done (see :func:`acknowledge`)."""
    return acknowledge(
        app,
        session,
        instance.unit,
        what={
            "sv": f"Steget ”{item.title}” i {instance.title} är klart.",
            "en": f"The step “{item.title}” in {instance.title} is done.",
        },
        actor=actor,
        key=f"step-done:{item.id}",
    )


def _title_of(session: Session, actor: str) -> str:
    """How a kvittens names who acted: their role title, Styrhjul itself, or the address."""
    if actor == SYSTEM:
        return "Styrhjul"
    try:
        return person_by_email(session, actor).title
    except NotFound:
        return actor
