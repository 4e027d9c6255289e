"""Recurring steps: what a workflow owes once per school year, raised when the time comes.

A definition's ``[[recurring]]`` rules (``engine.recurring``) say which step an instance
owes every school year while it is in certain states, due on a day of the school year
and visible some working days before. :func:`raise_recurring_steps` is the daemon's
part (called from ``run_due``): for every instance in such a state it adds the step
``<key>_<yyyy>`` of the current school year when its window has opened, unless the step
exists already or a step of the same rule was done earlier in the school year. Running
it twice changes nothing; two processes running it at once cannot both add the step
(the instance's version column lets one of them win).

:func:`satisfy_recurring` is how an explicit act (a plan assignment's follow-up report to
LG and SG) counts for the year: it completes the open step, or records the year's step
as done when none was raised yet, so that the rule stays quiet for the rest of the year.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from styrhjul.calendar import SchoolYear, local_datetime
from styrhjul.db.models import ChecklistItem, Instance
from styrhjul.engine.recurring import RecurringSpec
from styrhjul.errors import ConflictError
from styrhjul.services.audit import audit_instance
from styrhjul.services.context import App, Stop, never
from styrhjul.services.instances import add_step, instance_transaction, resolve_assignee
from styrhjul.services.schedule import DUE_AT, due_times
from styrhjul.vocabulary import SYSTEM

RECURRING_ORIGIN = "recurring:"
"""A recurring step's origin is ``recurring:<rule key>``."""


def origin_of(rule: RecurringSpec) -> str:
    return f"{RECURRING_ORIGIN}{rule.key}"


def raise_recurring_steps(app: App, *, stop: Stop = never) -> list[int]:
    """Add every recurring step whose window has opened today; the ids of the steps added.

    Only instances that may owe a step are loaded (:func:`_may_owe`): an instance that has
    the year's step, or whose rules' windows have not opened, costs the tick nothing.
    """
    owing = _may_owe(app, app.clock.today())
    if owing is None:
        return []
    with app.db.session() as session:
        candidates = list(session.scalars(select(Instance.id).where(owing).order_by(Instance.id)))
    raised: list[int] = []
    for instance_id in candidates:
        if stop():
            break
        try:
            with instance_transaction(app, instance_id, model=Instance) as (session, instance):
                items = _raise_for(app, session, instance)
                session.flush()
                raised.extend(item.id for item in items)
        except ConflictError:
            continue  # another process changed it first; the next pass looks again
    return raised


def _may_owe(app: App, today: date) -> ColumnElement[bool] | None:
    """SQL: the instances that may owe a recurring step today; None when none can.

    What :func:`_raise_for` decides, asked of the database for each rule of each loaded
    definition version whose window has opened: in one of the rule's states, of this
    school year or an earlier one, without the year's step and without a step of the rule
    done within the school year. Instances of a version not loaded yet are read as before,
    by workflow and state (loading them loads their version). Necessary, not sufficient:
    :func:`_raise_for` still decides for each instance read.
    """
    year = SchoolYear.of(today)
    begins = local_datetime(year.starts, time(0), app.clock.tz)
    ends = local_datetime(year.ends + timedelta(days=1), time(0), app.clock.tz)
    not_ahead = or_(Instance.school_year.is_(None), Instance.school_year <= year.label)
    owing: list[ColumnElement[bool]] = []
    loaded: dict[str, set[int]] = {}
    states: dict[str, set[str]] = {}
    for machine in app.machines.values():
        definition = machine.definition
        loaded.setdefault(definition.name, set()).add(definition.version)
        for rule in definition.recurring:
            states.setdefault(definition.name, set()).update(rule.states)
            opens = app.calendar.add_working_days(
                due_day_of(app, rule, year), -rule.raise_working_days_before
            )
            if today < opens:
                continue
            has_step = (
                select(ChecklistItem.id)
                .where(
                    ChecklistItem.instance_id == Instance.id,
                    or_(
                        ChecklistItem.key == rule.step_key(year.start_year),
                        and_(
                            ChecklistItem.origin == origin_of(rule),
                            ChecklistItem.done_at >= begins,
                            ChecklistItem.done_at < ends,
                        ),
                    ),
                )
                .exists()
            )
            owing.append(
                and_(
                    Instance.workflow == definition.name,
                    Instance.workflow_version == definition.version,
                    Instance.state.in_(sorted(rule.states)),
                    not_ahead,
                    ~has_step,
                )
            )
    owing.extend(
        and_(
            Instance.workflow == name,
            Instance.workflow_version.not_in(sorted(loaded[name])),
            Instance.state.in_(sorted(watched)),
        )
        for name, watched in states.items()
    )
    return or_(*owing) if owing else None


def _raise_for(app: App, session: Session, instance: Instance) -> list[ChecklistItem]:
    """The recurring steps ``instance`` owes now and does not have yet (added and audited)."""
    today = app.clock.today()
    year = SchoolYear.of(today)
    if instance.school_year and SchoolYear.parse(instance.school_year) > year:
        return []  # an assignment of a coming school year owes nothing yet
    definition = app.machine(instance.workflow, instance.workflow_version).definition
    added = []
    for rule in definition.recurring:
        if instance.state not in rule.states or _owed_elsewhere(app, instance, rule, year):
            continue
        due_day = due_day_of(app, rule, year)
        if today < app.calendar.add_working_days(due_day, -rule.raise_working_days_before):
            continue
        item = _add(app, session, instance, rule, year)
        added.append(item)
        audit_instance(
            session,
            instance,
            at=app.clock.now(),
            actor=SYSTEM,
            trigger="recurring_step",
            from_state=instance.state,
            reason=f"{item.key}: due {due_day.isoformat()} ({rule.title})",
        )
    return added


def due_day_of(app: App, rule: RecurringSpec, year: SchoolYear) -> date:
    """The working day ``rule`` falls due in ``year`` (its month-day, or the working day before)."""
    return app.calendar.shift_to_working_day(year.date_for(*rule.month_day), "earlier")


def _owed_elsewhere(app: App, instance: Instance, rule: RecurringSpec, year: SchoolYear) -> bool:
    """Whether the year's step exists, or a step of the rule was done within the school year."""
    key = rule.step_key(year.start_year)
    return any(
        item.key == key
        or (
            item.origin == origin_of(rule)
            and item.done_at is not None
            and SchoolYear.of(item.done_at.astimezone(app.clock.tz).date()) == year
        )
        for item in instance.checklist
    )


def _add(
    app: App, session: Session, instance: Instance, rule: RecurringSpec, year: SchoolYear
) -> ChecklistItem:
    definition = app.machine(instance.workflow, instance.workflow_version).definition
    anchor = local_datetime(year.date_for(*rule.month_day), DUE_AT, app.clock.tz)
    due, remind, escalate = due_times(app, definition.spec.timing, anchor, 0, event=False)
    return add_step(
        instance,
        key=rule.step_key(year.start_year),
        title=rule.title,
        assignee_role=rule.assignee,
        assignee=resolve_assignee(session, instance, rule.assignee, rule.of, due.date()),
        required=rule.required,
        due_at=due,
        remind_at=remind,
        escalate_at=escalate,
        origin=origin_of(rule),
    )


def satisfy_recurring(
    app: App, session: Session, instance: Instance, *, actor: str, at: datetime
) -> list[ChecklistItem]:
    """Count an explicit act as this school year's recurring steps of ``instance`` (no commit).

    Every open recurring step is completed (an overdue one of last year too); a rule with
    no step this school year gets its step recorded as done, so it is not raised later.
    The caller audits the act itself. Returns the steps completed or recorded.
    """
    year = SchoolYear.of(at.astimezone(app.clock.tz).date())
    definition = app.machine(instance.workflow, instance.workflow_version).definition
    touched = []
    for rule in definition.recurring:
        open_items = [
            item
            for item in instance.checklist
            if item.origin == origin_of(rule) and item.done_at is None
        ]
        if not open_items and not _owed_elsewhere(app, instance, rule, year):
            open_items = [_add(app, session, instance, rule, year)]
        for item in open_items:
            item.done_at, item.done_by = at, actor
            touched.append(item)
    return touched
