"""The daemon's tick does work proportional to what is due, not to what the database holds.

A tick with nothing due reads a fixed handful of queries however many instances wait: a
director's dialog waiting for its round below, or a plan assignment that has this year's
report step already, is not loaded to be refused again. The waiting ones are still acted
on as soon as their time comes (see also tests/services/test_chain.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlcount import statements

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import ChecklistItem
from styrhjul.services.assignment_views import assignment_detail
from styrhjul.services.assignments import NewAssignment, create_assignment, move
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.escalation import send_due_notices
from styrhjul.services.planning import plan_round
from styrhjul.services.recurring import raise_recurring_steps
from styrhjul.services.runner import run_due

YEAR = SchoolYear(2026)
DIRECTOR = "utbildningsdirektor@example.se"
SECRETARY = "sekreterare.ledningsgrupp@example.se"
NORR = "verksamhetschef.grundskola-norr@example.se"
RAISE_DAY = date(2027, 4, 15)
"""The first day of the window of vp_assignment's yearly report (due 15 May, 20 days before)."""
IDLE_TICK = 6
"""The queries of a tick with nothing due: invites, preparations, recurring steps, and the
reminders, overdue notices and escalations."""


def _at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)


def _decided(app: App, title: str) -> int:
    """A plan assignment for Grundskola norr, decided: it owes the yearly report."""
    new = NewAssignment(
        title=title,
        responsible=NORR,
        school_year=YEAR,
        description="Höjda resultat.",
        units=("vastra-skolan", "norrbackaskolan"),
        steering_group=(DIRECTOR, NORR),
        support=(),
    )
    assignment = create_assignment(app, new, actor=DIRECTOR)
    move(app, assignment, "propose", actor=NORR)
    agenda = next(s for s in assignment_detail(app, assignment).steps if s.key == "lg_sg_agenda")
    complete_step(app, agenda.id, actor=NORR)
    move(app, assignment, "anchor", actor=SECRETARY)
    move(app, assignment, "decide", actor=DIRECTOR)
    return assignment


def test_a_tick_with_nothing_due_reads_a_fixed_handful_of_queries(
    app: App, clock: FixedClock
) -> None:
    """Five directors' dialogs wait for their rounds and two assignments have their step."""
    assert len(plan_round(app, YEAR, 1, level="director_area").created) == 5
    assignments = [_decided(app, title) for title in ("Matematik", "Läsning")]
    clock.set(_at(RAISE_DAY))
    first = run_due(app, drain=False)
    assert len(first.recurring) == len(assignments)
    assert first.opened == []  # no round below is compiled
    with statements(app) as seen:
        idle = run_due(app, drain=False)
    assert not idle.did_something
    assert len(seen) <= IDLE_TICK, seen


def test_the_yearly_step_is_looked_for_only_where_it_is_owed(app: App, clock: FixedClock) -> None:
    assignment = _decided(app, "Matematik")
    clock.set(_at(RAISE_DAY - timedelta(days=1), 20))
    with statements(app) as before:
        assert raise_recurring_steps(app) == []
    clock.set(_at(RAISE_DAY))
    (raised,) = raise_recurring_steps(app)
    with statements(app) as after:
        assert raise_recurring_steps(app) == []
    assert len(before) == len(after) == 1  # the candidates' SELECT; no instance is loaded

    # Last year's step done in this school year counts for this year too: nothing is loaded.
    clock.set(_at(date(2027, 9, 1)))
    complete_step(app, raised, actor=NORR)
    clock.set(_at(date(2028, 4, 12)))
    with statements(app) as done:
        assert raise_recurring_steps(app) == []
    assert len(done) == 1
    keys = [s.key for s in assignment_detail(app, assignment).steps]
    assert "report_lg_sg_2027" not in keys


NOTICE = 4
"""The statements of one reminder or overdue notice: the claim (a conditional UPDATE), the
step read with its assignee, instance and unit, and the outbox's key check and INSERT."""


def test_a_notice_reads_its_step_with_what_it_names_in_one_query(
    planned_app: App, clock: FixedClock
) -> None:
    """Round 1's forty dialogs: every rektor's quality report is reminded at the same instant."""
    clock.set(datetime(2026, 9, 17, 12, tzinfo=STOCKHOLM))
    send_due_notices(planned_app)  # whatever fell due earlier
    clock.set(datetime(2026, 9, 18, 8, tzinfo=STOCKHOLM))
    with statements(planned_app) as seen:
        report = send_due_notices(planned_app)
    sent = len(report.reminded) + len(report.overdue)
    assert sent >= 20
    assert report.escalated == []
    assert len(seen) <= 3 + NOTICE * sent


def test_a_pass_asks_for_each_persons_superior_once(planned_app: App, clock: FixedClock) -> None:
    """A catch-up over round 1: many steps of each rektor escalate to the same area head."""
    clock.set(datetime(2026, 10, 20, 12, tzinfo=STOCKHOLM))
    with statements(planned_app) as seen:
        report = send_due_notices(planned_app)
    with planned_app.db.session() as session:
        assignees = set(
            session.scalars(
                select(ChecklistItem.assignee_id).where(
                    ChecklistItem.id.in_([step for step, _ in report.escalated])
                )
            )
        )
    asked = [s for s in seen if "WHERE role_assignment.person_id = " in " ".join(s.split())]
    assert len(report.escalated) > 2 * len(assignees)
    # each assignee's superior, and each of those superiors' own, once: not twice a step
    assert len(asked) <= 2 * len(assignees)
