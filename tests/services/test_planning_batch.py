"""Planning writes rows in batches: the same rows the ORM helpers make, a few statements each.

Planning a round or a batch of processes builds plain rows and inserts each table's with
one ``executemany`` (``services/batch.py``, ``services/dialog_rows.py``). These tests pin
both halves: the number of statements does not grow with the units, and every row is
what the ORM helpers the rest of Styrhjul uses (``raise_steps``, ``step_times``,
``resolve_assignee``, ``audit_instance``) make of the same instance, so that a planned
dialog or process cannot be told from one created object by object. Re-planning is
checked to write nothing. A group's series of meetings is written the same way
(``meetings.schedule_series``), its rows those two ORM flushes a meeting made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, selectinload

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.governance import Meeting
from styrhjul.db.models import Agreement, AuditEvent, ChecklistItem, Dialog, Instance, OrgUnit
from styrhjul.errors import InputError
from styrhjul.services.context import App
from styrhjul.services.instances import raise_steps, resolve_assignee
from styrhjul.services.meeting_agenda import add_agenda_item
from styrhjul.services.meeting_minutes import ItemRecord, MeetingRecord, hold_meeting
from styrhjul.services.meetings import schedule_meeting, schedule_series, send_agenda
from styrhjul.services.org import ancestors, holder_over, holders, unit_by_code
from styrhjul.services.planning import dialog_definition, plan_round
from styrhjul.services.processes import start_processes
from styrhjul.services.schedule import step_times
from styrhjul.services.yearplan import plan_year

YEAR = SchoolYear(2026)
REPORT_DAY = datetime(2027, 6, 10, 13, 0, tzinfo=STOCKHOLM)
PLAN_TABLES = (
    "instance",
    "dialog",
    "meeting",
    "meeting_attendee",
    "checklist_item",
    "audit_event",
    "outbox_message",
    "calendar_event",
)


@contextmanager
def statements(app: App) -> Iterator[Counter[str]]:
    """Count the statements sent to the database, by verb and table ("INSERT instance")."""
    counted: Counter[str] = Counter()

    def count(*args: Any) -> None:
        words = args[2].split()
        verb = words[0].upper()
        table = words[2] if verb == "INSERT" else words[1] if verb == "UPDATE" else ""
        counted[f"{verb} {table}".strip()] += 1

    event.listen(app.db.engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(app.db.engine, "before_cursor_execute", count)


def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables planning writes, in id order."""
    with app.db.engine.connect() as connection:
        return {
            table: [
                tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            ]
            for table in PLAN_TABLES
        }


def _unit_codes(app: App) -> list[str]:
    with app.db.session() as session:
        return sorted(session.scalars(select(OrgUnit.code).where(OrgUnit.kind == "unit")))


def test_a_round_is_written_with_one_insert_per_table(app: App) -> None:
    with statements(app) as counted:
        result = plan_round(app, YEAR, 1)
    assert len(result.created) == 40
    for table in ("instance", "dialog", "checklist_item", "audit_event"):
        assert counted[f"INSERT {table}"] == 1, counted
    assert not any(key.startswith("UPDATE") for key in counted), counted
    # one invite to each party, through the outbox, one by one (each checks its key)
    assert counted["INSERT outbox_message"] == result.invites == 80


def test_processes_for_every_unit_take_a_handful_of_statements(app: App) -> None:
    codes = _unit_codes(app)
    with statements(app) as counted:
        started = start_processes(
            app, "quality_report", codes, period="2026/27", actor="system", starts_at=REPORT_DAY
        )
    assert len(started) == len(codes) > 10
    assert all(s.created for s in started)
    for table in ("instance", "checklist_item", "audit_event"):
        assert counted[f"INSERT {table}"] == 1, counted
    assert sum(counted.values()) < len(codes), counted


def test_planned_dialogs_hold_what_the_orm_helpers_make_of_them(app: App) -> None:
    result = plan_round(app, YEAR, 1, invite_ahead=1)  # each invite waits until the day before
    definition = dialog_definition(app)
    schedule = definition.schedule
    now = app.clock.now()
    with app.db.session() as session:
        dialogs = list(
            session.scalars(
                select(Dialog)
                .options(selectinload(Dialog.checklist))
                .where(Dialog.id.in_(result.created))
                .order_by(Dialog.id)
            )
        )
        assert [d.id for d in dialogs] == sorted(result.created)
        for dialog in dialogs:
            assert dialog.starts_at is not None
            unit = dialog.unit
            assert dialog.key == f"{schedule.level}:{YEAR.label}:r1:{unit.code}"
            assert dialog.ends_at == dialog.starts_at + timedelta(minutes=schedule.duration_minutes)
            assert dialog.organizer in holders(
                session, dialog.host_unit, schedule.host_role, now.date()
            )
            assert dialog.invite_at is not None
            assert dialog.invite_at > now
            # the invite time was an update after the insert: the version rose once
            assert dialog.version == 2
            times = step_times(app, definition, dialog.starts_at)
            assert dialog.prepare_at == times.prepare_at
            people = {
                schedule.host_role: dialog.organizer,
                definition.participant_role(unit.kind): dialog.participant,
            }
            expected = []
            for position, step in enumerate(definition.steps_raised_in(None), start=1):
                due, remind, escalate = times.steps[step.key]
                assignee = (
                    people.get(step.assignee) if step.of == "unit" else None
                ) or resolve_assignee(session, dialog, step.assignee, step.of, due.date())
                expected.append(
                    (
                        position,
                        step.key,
                        step.title,
                        step.assignee,
                        assignee,
                        step.required,
                        "definition",
                        due,
                        remind,
                        escalate,
                    )
                )
            assert [
                (
                    i.position,
                    i.key,
                    i.title,
                    i.assignee_role,
                    i.assignee,
                    i.required,
                    i.origin,
                    i.due_at,
                    i.remind_at,
                    i.escalate_at,
                )
                for i in dialog.checklist
            ] == expected
            assert all(i.done_at is None and i.escalation_level == 0 for i in dialog.checklist)
        audits = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "dialog", AuditEvent.entity_id.in_(result.created))
                .order_by(AuditEvent.id)
            )
        )
        assert [(a.entity_id, a.trigger, a.from_state, a.to_state) for a in audits] == [
            (d.id, "plan", None, d.state) for d in dialogs
        ]


def test_started_processes_hold_what_raise_steps_makes_of_them(app: App) -> None:
    codes = _unit_codes(app)
    started = start_processes(
        app, "quality_report", codes, period="2026/27", actor="system", starts_at=REPORT_DAY
    )
    definition = app.machine("quality_report").definition
    with app.db.session() as session:
        for code, one in zip(codes, started, strict=True):
            stored = session.get(Instance, one.id, options=[selectinload(Instance.checklist)])
            assert stored is not None
            assert (stored.key, stored.unit.code, stored.version) == (
                f"quality_report:2026/27:{code}",
                code,
                1,
            )
            # the ORM path: a transient instance like it, its steps raised by raise_steps
            expected = _raised_like(app, session, stored, Instance, definition)
            assert [_step(i) for i in stored.checklist] == expected
            session.expunge_all()  # nothing of the probe is written


def test_a_unit_named_twice_is_started_once(app: App) -> None:
    started = start_processes(
        app,
        "quality_report",
        ["vastra-skolan", "vastra-skolan"],
        period="2026/27",
        actor="system",
        starts_at=REPORT_DAY,
    )
    assert [s.created for s in started] == [True, False]
    assert started[0].id == started[1].id


def test_planning_the_year_again_writes_nothing(app: App) -> None:
    first = plan_year(app, 2027)
    assert first.applied
    assert first.started
    before = snapshot(app)
    assert all(before[table] for table in ("checklist_item", "dialog", "audit_event"))
    with statements(app) as counted:
        again = plan_year(app, 2027, apply=True)
    assert again.changes == []
    assert not any(key.startswith(("INSERT", "UPDATE", "DELETE")) for key in counted), counted
    assert snapshot(app) == before
    # and the round itself, asked directly, finds every dialog in place
    level, round_no = "area_rektor", 2
    with app.db.session() as session:
        planned = session.scalars(
            select(Dialog.id).where(Dialog.level == level, Dialog.round_no == round_no)
        ).all()
    result = plan_round(app, YEAR, round_no, level=level)
    assert result.created == []
    assert result.existing == len(planned) > 0
    assert snapshot(app) == before


def test_steering_reaches_exactly_the_new_dialogs_under_an_agreement(app: App) -> None:
    """Only dialogs an agreement above can reach are loaded for steering, and all of them are.

    An agreement recorded (directly, as a dialog held would) on the director's dialog with
    one area in round 1 steers round 2 of that area's units and no other unit's.
    """
    plan_round(app, YEAR, 1, level="director_area")
    with app.db.session() as session:
        upper = session.scalars(
            select(Dialog).where(Dialog.level == "director_area").order_by(Dialog.id)
        ).first()
        assert upper is not None
        session.add(
            Agreement(
                instance_id=upper.id,
                position=1,
                text="Följ upp läsförståelsen",
                owner_id=upper.participant_id,
                due_on=date(2027, 1, 29),
            )
        )
        area = upper.unit_id
    result = plan_round(app, YEAR, 2)
    with app.db.session() as session:
        steered = {}
        under = set()
        for dialog in session.scalars(
            select(Dialog)
            .options(selectinload(Dialog.checklist))
            .where(Dialog.id.in_(result.created))
        ):
            steered[dialog.unit_id] = [
                i.key for i in dialog.checklist if i.key.startswith("steer_")
            ]
            if area in {u.id for u in ancestors(session, dialog.unit)}:
                under.add(dialog.unit_id)
    assert under
    assert len(under) < len(steered)
    assert {unit for unit, keys in steered.items() if keys} == under
    assert all(len(keys) == 1 for unit, keys in steered.items() if unit in under)


# --- a group's meetings --------------------------------------------------------------------

MEETING_SECRETARY = "sekreterare.ledningsgrupp@example.se"


def _tuesdays(first: date, count: int) -> list[tuple[datetime, datetime]]:
    days = [first + timedelta(weeks=n) for n in range(count)]
    return [
        (
            datetime.combine(day, time(13), tzinfo=STOCKHOLM),
            datetime.combine(day, time(16), tzinfo=STOCKHOLM),
        )
        for day in days
    ]


@pytest.mark.parametrize("count", [2, 6])
def test_a_meeting_series_is_written_with_one_insert_per_table(app: App, count: int) -> None:
    with statements(app) as counted:
        series = schedule_series(
            app, "lg", _tuesdays(date(2026, 9, 8), count), actor=MEETING_SECRETARY, place="Jupiter"
        )
    assert len(series) == count
    for table in ("instance", "meeting", "meeting_attendee", "checklist_item", "audit_event"):
        assert counted[f"INSERT {table}"] == 1, counted
    # the calendar UIDs name the ids: one UPDATE once the ids are known, for the whole series
    assert counted["UPDATE instance"] == 1, counted
    assert sum(n for key, n in counted.items() if key.startswith("UPDATE")) == 1, counted
    assert sum(counted.values()) < 40, counted  # reads for the group's people, not per meeting


def test_a_scheduled_series_holds_what_the_orm_helpers_make_of_it(
    app: App, clock: FixedClock
) -> None:
    """The rows are those the ORM wrote meeting by meeting (as scheduling did before)."""
    first = schedule_meeting(
        app, "lg", datetime(2026, 9, 8, 13, tzinfo=STOCKHOLM), actor=MEETING_SECRETARY, place="J"
    ).meeting_id
    item = add_agenda_item(app, first, actor=MEETING_SECRETARY, kind="dialog", title="FoU")
    add_agenda_item(app, first, actor=MEETING_SECRETARY, kind="decision", title="Budget")
    send_agenda(app, first, actor=MEETING_SECRETARY)
    clock.set(datetime(2026, 9, 8, 16, tzinfo=STOCKHOLM))
    hold_meeting(
        app,
        first,
        MeetingRecord(items=[ItemRecord(item, take_up_again=True)]),
        actor=MEETING_SECRETARY,
    )
    series = schedule_series(
        app, "lg", _tuesdays(date(2026, 9, 15), 3), actor=MEETING_SECRETARY, place="Jupiter"
    )
    ids = [s.meeting_id for s in series]
    assert ids == sorted(ids)
    assert [s.resumed_items for s in series] == [["Återupptas: FoU"], [], []]
    definition = app.machine("group_meeting").definition
    with app.db.session() as session:
        audits = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "meeting", AuditEvent.entity_id.in_(ids))
                .order_by(AuditEvent.id)
            )
        )
        # as flushed meeting by meeting: the first's schedule and carry, then the others
        assert [(a.entity_id, a.trigger) for a in audits] == [
            (ids[0], "schedule"),
            (ids[0], "carry_item"),
            (ids[1], "schedule"),
            (ids[2], "schedule"),
        ]
        attendee_ids: list[int] = []
        for scheduled in series:
            lg = unit_by_code(session, "lg")
            stored = session.get(Meeting, scheduled.meeting_id)
            assert stored is not None
            day = scheduled.starts_at.date()
            assert (stored.key, stored.title, stored.state, stored.location) == (
                f"meeting:lg:{day.isoformat()}",
                f"{lg.name} {day.isoformat()}",
                definition.spec.workflow.initial,
                "Jupiter",
            )
            # inserted, then given its calendar UID: version 2, as two flushes left it
            assert (stored.ical_uid, stored.ical_sequence, stored.version) == (
                f"meeting-{stored.id}@{app.sender.domain}",
                0,
                2,
            )
            assert stored.created_at == stored.updated_at == clock.now()
            chair = holder_over(session, lg, "director", day)
            secretary = holder_over(session, lg, "secretary", day)
            assert chair is not None
            assert secretary is not None
            assert (stored.chair_id, stored.secretary_id) == (chair.id, secretary.id)
            assert [a.person.email for a in stored.attendees] == scheduled.attendees
            assert [a.present for a in stored.attendees] == [None] * len(stored.attendees)
            assert all(a.id > max(attendee_ids, default=0) for a in stored.attendees)
            attendee_ids.extend(a.id for a in stored.attendees)
            expected = _raised_like(app, session, stored, Meeting, definition)
            assert [_step(i) for i in stored.checklist] == expected
            session.expunge_all()  # nothing of the probe is written


def _raised_like(
    app: App, session: Session, stored: Instance, model: type[Instance], definition: Any
) -> list[tuple[Any, ...]]:
    """The steps :func:`raise_steps` gives a transient copy of ``stored`` (the ORM path)."""
    probe = model(
        workflow=stored.workflow,
        workflow_version=stored.workflow_version,
        unit=stored.unit,
        unit_id=stored.unit_id,
        starts_at=stored.starts_at,
        created_at=stored.created_at,
    )
    return [_step(i) for i in raise_steps(app, session, probe, definition.steps_raised_in(None))]


def _step(item: ChecklistItem) -> tuple[Any, ...]:
    return (
        item.position,
        item.key,
        item.title,
        item.assignee_role,
        item.assignee.id if item.assignee else None,
        item.required,
        item.origin,
        item.due_at,
        item.remind_at,
        item.escalate_at,
        item.done_at,
        item.escalation_level,
        item.notice_round,
    )


def test_a_day_named_twice_in_a_series_is_refused_and_nothing_written(app: App) -> None:
    before = snapshot(app)
    slots = _tuesdays(date(2026, 9, 8), 2)
    with pytest.raises(InputError, match="lg already meets on 2026-09-08: twice in the series"):
        schedule_series(app, "lg", [*slots, slots[0]], actor=MEETING_SECRETARY, place="Jupiter")
    assert snapshot(app) == before
