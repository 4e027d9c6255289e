"""Plan assignments (VP-uppdrag) walked through their whole life on the injected clock.

The example organisation: the director gives "Matematik" to the area head of Grundskola
norr, concerning two of that area's schools and one upper-secondary school of another
area (as the documents' mathematics assignment did). Refusals name the state, the role or
the guard's reason; the director's override is audited with its reason; each unit gets
its dialog step when work starts (and when added later); the yearly report to LG and SG
is raised when its window opens, once, and not at all after an earlier report; an
evaluated assignment is revised into next school year's draft.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.errors import InputError, NotFound, PermissionDenied, TransitionRefused
from styrhjul.services.assignment_views import (
    AssignmentStep,
    assignment_detail,
    list_assignments,
)
from styrhjul.services.assignments import (
    NewAssignment,
    change_units,
    create_assignment,
    move,
    report_follow_up,
    revise,
)
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.recurring import raise_recurring_steps
from styrhjul.services.runner import run_due

DIRECTOR = "utbildningsdirektor@example.se"
SECRETARY = "sekreterare.ledningsgrupp@example.se"
NORR = "verksamhetschef.grundskola-norr@example.se"
SODER = "verksamhetschef.grundskola-soder@example.se"
PC = "avdelningschef.pedagogiskt-center@example.se"
HEALTH = "avdelningschef.elevhalsan@example.se"
CONTROLLER = "chefscontroller@example.se"
REKTOR = "rektor.vastra-skolan@example.se"
YEAR = SchoolYear(2026)
UNITS = ("vastra-skolan", "norrbackaskolan", "norra-gymnasiet")


def _new(**changes: object) -> NewAssignment:
    fields: dict[str, object] = {
        "title": "Matematik",
        "responsible": NORR,
        "school_year": YEAR,
        "description": "Höjda resultat i matematik genom förändrad undervisning.",
        "units": UNITS,
        "steering_group": (DIRECTOR, NORR),
        "support": (PC, HEALTH),
    }
    fields.update(changes)
    return NewAssignment(**fields)  # type: ignore[arg-type]


def _create(app: App, **changes: object) -> int:
    return create_assignment(app, _new(**changes), actor=DIRECTOR)


def _steps(app: App, assignment_id: int) -> dict[str, AssignmentStep]:
    return {s.key: s for s in assignment_detail(app, assignment_id).steps}


def _tick(app: App, assignment_id: int, *keys: str) -> None:
    """Each step done by the person it is assigned to."""
    steps = _steps(app, assignment_id)
    for key in keys:
        step = steps[key]
        assert step.assignee is not None, key
        complete_step(app, step.id, actor=step.assignee)


def _later(clock: FixedClock, days: int = 1) -> None:
    clock.advance(timedelta(days=days))


def _to_decided(app: App, assignment_id: int) -> None:
    move(app, assignment_id, "propose", actor=NORR)
    _tick(app, assignment_id, "lg_sg_agenda")
    move(app, assignment_id, "anchor", actor=SECRETARY)
    move(app, assignment_id, "decide", actor=DIRECTOR)


PLANNING_STEPS = ("situation_analysis", "identify_units", "follow_up_plan", "support_plan")


# --- creating ----------------------------------------------------------------------------


def test_the_director_creates_a_draft_for_an_area_head(app: App) -> None:
    assignment_id = _create(app)
    detail = assignment_detail(app, assignment_id)
    row = detail.assignment
    assert (row.state, row.state_title) == ("draft", "Utkast")
    assert (row.area, row.responsible, row.school_year) == ("grundskola-norr", NORR, "2026/27")
    assert detail.description.startswith("Höjda resultat")
    assert [(u.code, u.outside_area) for u in detail.units] == [
        ("vastra-skolan", False),
        ("norrbackaskolan", False),
        ("norra-gymnasiet", True),
    ]
    assert [m.email for m in detail.steering_group] == [DIRECTOR, NORR]
    assert [m.email for m in detail.support] == [PC, HEALTH]
    assert detail.steps == []
    assert detail.next_due_step is None
    assert detail.last_report is None
    assert detail.allowed == ["propose", "withdraw"]
    assert [(e.actor, e.trigger, e.to_state) for e in detail.history] == [
        (DIRECTOR, "create", "draft")
    ]


@pytest.mark.parametrize(
    ("changes", "actor", "error", "words"),
    [
        ({}, NORR, PermissionDenied, "only the director"),
        ({"responsible": REKTOR}, DIRECTOR, InputError, "not the area head"),
        ({"units": ("grundskola-soder",)}, DIRECTOR, InputError, "is a area, not a unit"),
        ({"units": ("vastra-skolan", "vastra-skolan")}, DIRECTOR, InputError, "named twice"),
        ({"units": ("ingen-skola",)}, DIRECTOR, NotFound, "unit 'ingen-skola' not found"),
        ({"support": (REKTOR,)}, DIRECTOR, InputError, "not a department head"),
        ({"support": (NORR,)}, DIRECTOR, InputError, "not a department head"),
        ({"title": "  "}, DIRECTOR, InputError, "needs a title"),
    ],
)
def test_creating_refuses_bad_input(
    app: App, changes: dict[str, object], actor: str, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        create_assignment(app, _new(**changes), actor=actor)
    assert list_assignments(app) == []


def test_a_title_is_given_once_per_school_year(app: App) -> None:
    first = _create(app)
    with pytest.raises(
        InputError, match=f"is too like 'Matematik', the title of assignment {first}"
    ):
        _create(app, title="matematik!")
    other = _create(app, school_year=SchoolYear(2027))
    assert [r.id for r in list_assignments(app)] == [first, other]


# --- the whole life ------------------------------------------------------------------------


def test_an_assignment_walks_from_draft_to_next_years_plan(app: App, clock: FixedClock) -> None:
    a = _create(app)

    with pytest.raises(TransitionRefused, match="cannot 'decide' in state 'draft'; allowed"):
        move(app, a, "decide", actor=DIRECTOR)
    with pytest.raises(PermissionDenied, match="'propose' needs one of the roles"):
        move(app, a, "propose", actor=REKTOR)
    assert move(app, a, "propose", actor=NORR) == "proposed"
    agenda = _steps(app, a)["lg_sg_agenda"]
    assert agenda.assignee == SECRETARY

    with pytest.raises(TransitionRefused, match="required checklist steps are still open: lg_sg"):
        move(app, a, "anchor", actor=SECRETARY)
    _later(clock, 7)
    _tick(app, a, "lg_sg_agenda")
    assert move(app, a, "anchor", actor=SECRETARY) == "anchored"
    with pytest.raises(PermissionDenied, match="'decide' needs one of the roles director"):
        move(app, a, "decide", actor=NORR)
    assert move(app, a, "decide", actor=DIRECTOR) == "decided"
    assert move(app, a, "plan", actor=NORR) == "planning"

    steps = _steps(app, a)
    assert set(PLANNING_STEPS) <= set(steps)
    assert steps["support_plan"].assignee == PC
    assert steps["situation_analysis"].assignee == NORR
    with pytest.raises(TransitionRefused) as refused:
        move(app, a, "start", actor=NORR)
    assert "situation_analysis" in str(refused.value)
    assert "identify_units" in str(refused.value)
    assert assignment_detail(app, a).assignment.state == "planning"

    _later(clock, 14)
    _tick(app, a, *PLANNING_STEPS)
    assert move(app, a, "start", actor=NORR) == "in_progress"
    steps = _steps(app, a)
    unit_steps = {s.origin: s for s in steps.values() if s.origin.startswith("assignment-unit:")}
    assert sorted(unit_steps) == [f"assignment-unit:{code}" for code in sorted(UNITS)]
    vastra = unit_steps["assignment-unit:vastra-skolan"]
    assert vastra.title == (
        "Dialog med enheten Västra skolan: analys, gemensam problemformulering, avgränsning"
    )
    assert vastra.assignee == NORR
    assert vastra.required
    assert steps["interventions_pc"].assignee == PC
    assert steps["follow_up_data"].assignee == CONTROLLER

    # A unit added during the work gets its dialog step; a unit removed loses its open one.
    change = change_units(app, a, actor=NORR, add=["bergaskolan"], remove=["norrbackaskolan"])
    assert (change.added, change.removed) == (["bergaskolan"], ["norrbackaskolan"])
    assert len(change.steps_raised) == 1
    assert len(change.steps_dropped) == 1
    origins = {s.origin for s in assignment_detail(app, a).steps}
    assert "assignment-unit:bergaskolan" in origins
    assert "assignment-unit:norrbackaskolan" not in origins

    with pytest.raises(TransitionRefused, match=r"still open: .*unit_dialog_"):
        move(app, a, "follow_up", actor=NORR)
    _later(clock, 60)
    work = [s.key for s in assignment_detail(app, a).steps if s.done_at is None and s.required]
    _tick(app, a, *work)
    assert move(app, a, "follow_up", actor=NORR) == "followed_up"
    assert {"evaluation", "consequences"} <= set(_steps(app, a))
    assert _steps(app, a)["consequences"].assignee == SECRETARY

    _later(clock, 7)
    assert report_follow_up(app, a, actor=NORR, summary="Resultaten i åk 3 har ökat.") == [
        "report_lg_sg_2026"
    ]
    _tick(app, a, "evaluation", "consequences")
    assert move(app, a, "evaluate", actor=NORR) == "evaluated"
    with pytest.raises(PermissionDenied, match="'close' needs one of the roles director"):
        move(app, a, "close", actor=NORR)

    with pytest.raises(PermissionDenied):
        revise(app, a, actor=NORR)
    draft = revise(app, a, actor=DIRECTOR, reason="Fortsätter med fokus på åk 4-6")
    old, new = assignment_detail(app, a), assignment_detail(app, draft)
    assert old.assignment.state == "revised"
    assert old.revised_into_id == draft
    assert old.allowed == []
    assert new.revised_from_id == a
    assert (new.assignment.state, new.assignment.school_year) == ("draft", "2027/28")
    assert (new.assignment.title, new.assignment.responsible) == ("Matematik", NORR)
    assert [u.code for u in new.units] == ["vastra-skolan", "norra-gymnasiet", "bergaskolan"]
    assert [m.email for m in new.steering_group] == [DIRECTOR, NORR]
    assert [m.email for m in new.support] == [PC, HEALTH]
    assert new.steps == []
    assert "revised from assignment" in new.history[0].reason

    with pytest.raises(TransitionRefused, match="has ended"):
        change_units(app, a, actor=DIRECTOR, add=["lonnskolan"])
    triggers = [e.trigger for e in old.history if e.trigger not in ("step_done",)]
    assert triggers == [
        "create",
        "propose",
        "anchor",
        "decide",
        "plan",
        "start",
        "units",
        "follow_up",
        "report",
        "evaluate",
        "revise",
    ]
    assert old.last_report is not None
    assert old.last_report.actor == NORR
    assert old.last_report.text == "reported to LG, SG: Resultaten i åk 3 har ökat."


def test_the_director_overrides_a_refusing_guard_with_a_reason(app: App) -> None:
    a = _create(app)
    _to_decided(app, a)
    move(app, a, "plan", actor=NORR)
    with pytest.raises(PermissionDenied, match="overriding 'start'"):
        move(app, a, "start", actor=NORR, reason="Bråttom", override=True)
    with pytest.raises(InputError, match="an override needs a reason"):
        move(app, a, "start", actor=DIRECTOR, override=True)
    state = move(app, a, "start", actor=DIRECTOR, reason="Analysen finns i VP", override=True)
    assert state == "in_progress"
    last = [e for e in assignment_detail(app, a).history if e.trigger == "start"][-1]
    assert last.actor == DIRECTOR
    assert last.reason.startswith("override: Analysen finns i VP (overrode: required checklist")
    assert "situation_analysis" in last.reason
    assert len([s for s in assignment_detail(app, a).steps if s.key.startswith("unit_dialog")]) == 3


def test_withdrawing_and_cancelling_need_a_reason(app: App) -> None:
    a = _create(app)
    with pytest.raises(InputError, match="'withdraw' needs a reason"):
        move(app, a, "withdraw", actor=DIRECTOR)
    with pytest.raises(InputError, match="use report_follow_up"):
        move(app, a, "report", actor=DIRECTOR)
    with pytest.raises(InputError, match="use revise"):
        move(app, a, "revise", actor=DIRECTOR)
    with pytest.raises(TransitionRefused, match="cannot 'cancel' in state 'draft'"):
        move(app, a, "cancel", actor=DIRECTOR, reason="Ingår i annat uppdrag")
    assert move(app, a, "withdraw", actor=DIRECTOR, reason="Ingår i annat uppdrag") == "withdrawn"
    with pytest.raises(TransitionRefused, match=r"none \(final state\)"):
        move(app, a, "propose", actor=DIRECTOR)


def test_changing_units_is_for_the_director_and_the_responsible(app: App) -> None:
    a = _create(app)
    for outsider in (REKTOR, SODER, SECRETARY):
        with pytest.raises(PermissionDenied, match="changing the units concerned"):
            change_units(app, a, actor=outsider, add=["lonnskolan"])
    with pytest.raises(InputError, match="already concerns vastra-skolan"):
        change_units(app, a, actor=NORR, add=["vastra-skolan"])
    with pytest.raises(InputError, match="does not concern lonnskolan"):
        change_units(app, a, actor=NORR, remove=["lonnskolan"])
    with pytest.raises(InputError, match="name a unit"):
        change_units(app, a, actor=NORR)
    change = change_units(app, a, actor=DIRECTOR, add=["ostra-skolan"], remove=["vastra-skolan"])
    assert change.steps_raised == []
    assert change.steps_dropped == []
    detail = assignment_detail(app, a)
    assert [u.code for u in detail.units] == ["norrbackaskolan", "norra-gymnasiet", "ostra-skolan"]
    assert detail.history[-1].reason == "added ostra-skolan; removed vastra-skolan"


def test_a_report_is_checked(app: App) -> None:
    a = _create(app)
    with pytest.raises(TransitionRefused, match="cannot 'report' in state 'draft'"):
        report_follow_up(app, a, actor=NORR, summary="Läget")
    _to_decided(app, a)
    with pytest.raises(InputError, match="needs a summary"):
        report_follow_up(app, a, actor=NORR, summary=" ")
    with pytest.raises(InputError, match="is a unit, not a group"):
        report_follow_up(app, a, actor=NORR, summary="Läget", to=["vastra-skolan"])
    with pytest.raises(PermissionDenied, match="'report' needs one of the roles"):
        report_follow_up(app, a, actor=REKTOR, summary="Läget")
    assert report_follow_up(app, a, actor=SECRETARY, summary="Läget", to=["lg"]) == [
        "report_lg_sg_2026"
    ]
    report = assignment_detail(app, a).last_report
    assert report is not None
    assert report.text == "reported to LG: Läget"


# --- the yearly report to LG and SG --------------------------------------------------------

RAISE_DAY = date(2027, 4, 15)
"""20 working days before Friday 14 May 2027 (15 May is a Saturday; Ascension is 6 May)."""


def _at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)


def test_the_yearly_report_is_raised_when_due_not_before_and_not_twice(
    app: App, clock: FixedClock
) -> None:
    a = _create(app)
    _to_decided(app, a)
    draft = _create(app, title="Språkutveckling")  # a draft owes no report
    coming = _create(app, title="Målkriterier i förskolan", school_year=SchoolYear(2027))
    _to_decided(app, coming)  # decided for next school year: owes nothing this year

    clock.set(_at(RAISE_DAY - timedelta(days=1), 20))
    assert raise_recurring_steps(app) == []
    clock.set(_at(RAISE_DAY))
    (raised,) = run_due(app).recurring
    step = next(s for s in assignment_detail(app, a).steps if s.id == raised)
    assert (step.key, step.origin, step.assignee, step.required) == (
        "report_lg_sg_2026",
        "recurring:report_lg_sg",
        NORR,
        False,
    )
    assert step.due_at == datetime(2027, 5, 14, 16, tzinfo=STOCKHOLM)
    assert assignment_detail(app, a).next_due_step == step
    assert raise_recurring_steps(app) == []
    _later(clock, 3)
    assert raise_recurring_steps(app) == []
    assert assignment_detail(app, draft).steps == []
    assert [s.key for s in assignment_detail(app, coming).steps] == ["lg_sg_agenda"]
    history = assignment_detail(app, a).history
    assert [e.trigger for e in history].count("recurring_step") == 1

    # The report completes the open step; the next school year owes a new one.
    assert report_follow_up(app, a, actor=NORR, summary="Halvtid") == ["report_lg_sg_2026"]
    done = next(s for s in assignment_detail(app, a).steps if s.id == raised)
    assert done.done_by == NORR
    clock.set(_at(date(2028, 4, 11)))
    assert raise_recurring_steps(app) == []
    clock.set(_at(date(2028, 4, 12)))
    raised_next = raise_recurring_steps(app)
    keys = {
        s.id: (owner, s.key) for owner in (a, coming) for s in assignment_detail(app, owner).steps
    }
    # The old one still runs, and next year's assignment has come into its own year.
    assert [keys[i] for i in raised_next] == [
        (a, "report_lg_sg_2027"),
        (coming, "report_lg_sg_2027"),
    ]


def test_a_report_made_earlier_in_the_school_year_satisfies_the_rule(
    app: App, clock: FixedClock
) -> None:
    a = _create(app)
    _to_decided(app, a)
    clock.set(_at(date(2026, 11, 17), 10))
    assert report_follow_up(app, a, actor=NORR, summary="Läget efter hösten") == [
        "report_lg_sg_2026"
    ]
    recorded = _steps(app, a)["report_lg_sg_2026"]
    assert recorded.done_at == _at(date(2026, 11, 17), 10)
    clock.set(_at(RAISE_DAY))
    assert raise_recurring_steps(app) == []
    clock.set(_at(date(2027, 6, 1)))
    assert raise_recurring_steps(app) == []
    assert [e.trigger for e in assignment_detail(app, a).history].count("recurring_step") == 0


def test_listing_filters(app: App) -> None:
    maths = _create(app)
    language = _create(
        app,
        title="Språkutveckling",
        responsible=SODER,
        units=("ostra-skolan",),
        steering_group=(),
        support=(),
    )
    move(app, maths, "propose", actor=NORR)
    assert [r.id for r in list_assignments(app)] == [maths, language]
    assert [r.id for r in list_assignments(app, area="grundskola-soder")] == [language]
    assert [r.id for r in list_assignments(app, responsible=NORR.upper())] == [maths]
    assert [r.id for r in list_assignments(app, state="proposed")] == [maths]
    assert list_assignments(app, school_year="2027/28") == []
    row = list_assignments(app, state="proposed")[0]
    agenda = _steps(app, maths)["lg_sg_agenda"]
    assert (row.units, row.steps_open, row.next_step, row.next_due_at) == (
        3,
        1,
        agenda.title,
        agenda.due_at,
    )
