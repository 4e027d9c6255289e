"""Reminders, overdue notices and escalation up the chain of command (styrkedja).

A step's instants are columns: ``remind_at`` (a reminder to the assignee), ``due_at`` (an
overdue notice to the assignee once it passes) and ``escalate_at`` (the next escalation).
Escalation follows the chain: level 1, N working days after due, goes to the assignee's
superior; level 2, M working days after due, to the superior's superior (N and M are the
``[timing]`` of the definition version the instance started with; without M there is no
level 2). A step nobody holds escalates to the head over its unit first, then upwards.

:func:`send_due_notices` is one pass of the daemon's tick. It gathers everything due and
handles it in order of the due instant, so that after downtime the catch-up sends each
thing once, oldest first (a second escalation that fell due during the gap follows the
first). Each item is one transaction: a conditional ``UPDATE ... WHERE reminded_at IS
NULL`` (or ``escalation_level = :old``) claims it, so of two processes exactly one wins,
and the message is written to the outbox in the same transaction (its key is unique, too).
Escalations are audited on the instance (trigger ``escalate``).

Reminders and overdue notices of a step without an assignee are not sent; the pass reports
those steps, every time, until someone holds the step or it is done. A reminder that falls
due after its step is overdue (the catch-up after downtime) is recorded but not sent: the
overdue notice that follows it says more.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from styrhjul.calendar import local_datetime
from styrhjul.db.models import ChecklistItem, Instance, OrgUnit, Person
from styrhjul.services.audit import audit_instance
from styrhjul.services.context import App, Stop, never
from styrhjul.services.notices import enqueue_notice, step_notice
from styrhjul.services.org import ancestors, holders, superior
from styrhjul.services.overdue import live_instances
from styrhjul.services.schedule import OPENS_AT
from styrhjul.vocabulary import HEAD_ROLE, SYSTEM

REMINDER, OVERDUE, ESCALATION = "reminder", "overdue", "escalation"
_ORDER = {REMINDER: 0, OVERDUE: 1, ESCALATION: 2}
"""Of things due at the same instant, reminders go first and escalations last."""
TOP_LEVEL = 2


@dataclass
class NoticeReport:
    """What one pass did, by step id."""

    reminded: list[int] = field(default_factory=list)
    stale_reminders: list[int] = field(default_factory=list)
    """Reminders not sent because the step was overdue already (after downtime): the
    overdue notice that follows says more, and one message is enough."""
    overdue: list[int] = field(default_factory=list)
    escalated: list[tuple[int, int]] = field(default_factory=list)
    """(step id, level) of every escalation made, a message sent or not."""
    unassigned: list[int] = field(default_factory=list)
    """Steps due a reminder or an overdue notice that nobody holds: nothing was sent."""
    unreachable: list[tuple[int, int]] = field(default_factory=list)
    """(step id, level) of escalations with nobody above to tell: audited, nothing sent."""
    conflicts: int = 0
    """Items left for the next pass because a concurrent change touched their instance."""


Due = tuple[datetime, int, int, str, int]  # (instant, order, step id, kind, level)


def send_due_notices(app: App, *, stop: Stop = never) -> NoticeReport:
    """Send every reminder, overdue notice and escalation that is due, oldest first."""
    now = app.clock.now()
    report = NoticeReport()
    superiors = Superiors()
    queue = _due(app, now, report)
    while queue and not stop():
        _, _, step_id, kind, level = heapq.heappop(queue)
        try:
            if kind != ESCALATION:
                _notify_assignee(kind, app, step_id, now, report)
                continue
            follows = _escalate(app, step_id, level, now, report, superiors)
        except StaleDataError:
            report.conflicts += 1  # the claim was rolled back with the rest: next pass
            continue
        if follows is not None and follows <= now:
            heapq.heappush(queue, (follows, _ORDER[ESCALATION], step_id, ESCALATION, level + 1))
    return report


def _due(app: App, now: datetime, report: NoticeReport) -> list[Due]:
    """Everything due now, as a heap ordered by instant."""
    open_steps = (
        select(ChecklistItem.id, ChecklistItem.assignee_id)
        .join(Instance, Instance.id == ChecklistItem.instance_id)
        .where(ChecklistItem.done_at.is_(None), live_instances(app))
    )
    queries: list[tuple[str, Any]] = [
        (
            REMINDER,
            open_steps.add_columns(ChecklistItem.remind_at, ChecklistItem.escalation_level).where(
                ChecklistItem.reminded_at.is_(None), ChecklistItem.remind_at <= now
            ),
        ),
        (
            OVERDUE,
            open_steps.add_columns(ChecklistItem.due_at, ChecklistItem.escalation_level).where(
                ChecklistItem.overdue_notified_at.is_(None), ChecklistItem.due_at <= now
            ),
        ),
        (
            ESCALATION,
            open_steps.add_columns(ChecklistItem.escalate_at, ChecklistItem.escalation_level).where(
                ChecklistItem.escalate_at <= now, ChecklistItem.escalation_level < TOP_LEVEL
            ),
        ),
    ]
    queue: list[Due] = []
    unassigned: set[int] = set()
    with app.db.session() as session:
        for kind, query in queries:
            for step_id, assignee_id, at, level in session.execute(query):
                if kind != ESCALATION and assignee_id is None:
                    unassigned.add(step_id)
                    continue
                queue.append((at, _ORDER[kind], step_id, kind, level if kind == ESCALATION else 0))
    report.unassigned.extend(sorted(unassigned))
    heapq.heapify(queue)
    return queue


def notice_key(kind: str, item: ChecklistItem, *parts: object) -> str:
    """The outbox key of a notice: ``kind:step[:level]``, plus ``:rN`` once re-dated N times."""
    key = ":".join(str(p) for p in (kind, item.id, *parts))
    return f"{key}:r{item.notice_round}" if item.notice_round else key


def _claim(app: App, session: Session, step_id: int, *conditions: Any, **values: Any) -> bool:
    """Conditionally update the open step of a live instance; True if this process won it.

    The instance is looked up by the step's own ``instance_id`` (a correlated EXISTS): an
    ``IN (SELECT id FROM instance WHERE live)`` lists every live instance of the database
    for each claim, about 0.1 s a claim at a million steps (``bench/daemon_tick.py``).
    """
    live = (
        select(Instance.id)
        .where(Instance.id == ChecklistItem.instance_id, live_instances(app))
        .exists()
    )
    result = session.execute(
        update(ChecklistItem)
        .where(
            ChecklistItem.id == step_id,
            ChecklistItem.done_at.is_(None),
            live,
            *conditions,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


_NOTICE_COLUMNS = {
    REMINDER: (ChecklistItem.reminded_at, ChecklistItem.remind_at, "reminded_at"),
    OVERDUE: (ChecklistItem.overdue_notified_at, ChecklistItem.due_at, "overdue_notified_at"),
}
"""Per notice to the assignee: the column that records it went out, the instant it is
due, and the name to set."""


def _notify_assignee(
    kind: str, app: App, step_id: int, now: datetime, report: NoticeReport
) -> None:
    """Claim and send one reminder or overdue notice to the step's assignee."""
    sent_at, due_at, sent_name = _NOTICE_COLUMNS[kind]
    with app.db.session() as session:
        won = _claim(app, session, step_id, sent_at.is_(None), due_at <= now, **{sent_name: now})
        if not won:
            return
        item = _load(session, step_id)
        assert item.assignee is not None  # unassigned steps were reported, not queued
        if kind == REMINDER and item.due_at <= now:
            report.stale_reminders.append(step_id)
            return
        enqueue_notice(
            app,
            session,
            kind,
            item.assignee,
            key=notice_key(kind, item),
            step=step_notice(app, item, locale=item.assignee.locale),
        )
    (report.reminded if kind == REMINDER else report.overdue).append(step_id)


def _escalate(
    app: App,
    step_id: int,
    level: int,
    now: datetime,
    report: NoticeReport,
    superiors: Superiors,
) -> datetime | None:
    """Escalate one level up; the instant of the next escalation, if there is one."""
    new_level = level + 1
    with app.db.session() as session:
        item = _load(session, step_id)
        instance = item.instance
        follows = _second_escalation(app, item) if new_level == 1 else None
        won = _claim(
            app,
            session,
            step_id,
            ChecklistItem.escalation_level == level,
            ChecklistItem.escalate_at <= now,
            escalation_level=new_level,
            escalate_at=follows,
        )
        if not won:
            return None
        chain = escalation_chain(session, item, instance.unit, app.clock.today(), superiors)
        recipient = chain[new_level - 1]
        notice = step_notice(
            app,
            item,
            level=new_level,
            previous=chain[0].title if new_level == 2 and chain[0] is not None else "",
            locale=recipient.locale if recipient is not None else "sv",
        )
        if recipient is not None:
            enqueue_notice(
                app,
                session,
                ESCALATION,
                recipient,
                key=notice_key(ESCALATION, item, new_level),
                step=notice,
            )
        audit_instance(
            session,
            instance,
            at=now,
            actor=SYSTEM,
            trigger="escalate",
            from_state=instance.state,
            reason=(
                f"step {item.key} ({step_id}) overdue {notice.days_overdue} working days: "
                f"escalation level {new_level} to "
                + (recipient.email if recipient is not None else "nobody (no one above)")
            ),
        )
    report.escalated.append((step_id, new_level))
    if recipient is None:
        report.unreachable.append((step_id, new_level))
    return follows


class Superiors:
    """Who answers to whom on a day, looked up once in a pass of the tick.

    Every escalation of a rektor's step goes on to the same area head's superior, and a
    pass escalates many steps of the same people: reading the chain of command again for
    each (about eight queries) is the larger part of an escalation's work. The org changes
    rarely and a pass lasts seconds, so a change made during a pass is seen from the next.
    Ids are kept, not rows: each escalation's transaction reads its own.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[int, date], int | None] = {}

    def of(self, session: Session, person: Person, on: date) -> Person | None:
        """``person``'s superior on ``on`` (see :func:`~styrhjul.services.org.superior`)."""
        key = (person.id, on)
        if key not in self._known:
            found = superior(session, person, on)
            self._known[key] = None if found is None else found.id
            return found
        known = self._known[key]
        return None if known is None else session.get(Person, known)


def escalation_chain(
    session: Session,
    item: ChecklistItem,
    unit: OrgUnit,
    on: date,
    superiors: Superiors | None = None,
) -> tuple[Person | None, Person | None]:
    """Who hears of the step at level 1 and at level 2, on date ``on``.

    The assignee's superior, then theirs. A step nobody holds goes first to the head over
    the instance's unit (who can see that someone takes it), then to that head's superior.
    ``superiors`` remembers the answers across the steps of one pass.
    """
    ask = (superiors or Superiors()).of
    if item.assignee is not None:
        first = ask(session, item.assignee, on)
    else:
        first = _head_over(session, unit, on)
    second = ask(session, first, on) if first is not None else None
    return first, second


def _head_over(session: Session, unit: OrgUnit, on: date) -> Person | None:
    """Whoever leads ``unit`` or, if nobody does (a group), the nearest unit above it."""
    for candidate in ancestors(session, unit):
        role = HEAD_ROLE.get(candidate.kind)
        if role is not None and (found := holders(session, candidate, role, on)):
            return found[0]
    return None


def _second_escalation(app: App, item: ChecklistItem) -> datetime | None:
    """Due + M working days, at the start of the day; None without M in the definition."""
    instance = item.instance
    timing = app.machine(instance.workflow, instance.workflow_version).definition.spec.timing
    again = timing.escalate_again_working_days_after_due
    if again is None:
        return None
    due_day = item.due_at.astimezone(app.clock.tz).date()
    return local_datetime(app.calendar.add_working_days(due_day, again), OPENS_AT, app.clock.tz)


_WITH_CONTEXT = (
    joinedload(ChecklistItem.assignee),
    joinedload(ChecklistItem.instance).joinedload(Instance.unit),
)
"""What a notice about a step reads besides the step: one query, not four."""


def _load(session: Session, step_id: int) -> ChecklistItem:
    """The step with its assignee, instance and unit, which the notice names."""
    item = session.get(ChecklistItem, step_id, options=_WITH_CONTEXT)
    assert item is not None, f"checklist step {step_id} vanished"  # steps are never deleted
    return item
