"""Processes walked through their whole life: the budget cycle, the VP, a quality report."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import AuditEvent, ChecklistItem, Instance
from styrhjul.errors import InputError, NotFound, PermissionDenied, TransitionRefused
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.instances import fire_trigger
from styrhjul.services.processes import list_processes, start_process
from styrhjul.services.views import instance_detail

DIRECTOR = "utbildningsdirektor@example.se"
BOARD_CHAIR = "ordforande.bun@example.se"
CONTROLLER = "chefscontroller@example.se"
SECRETARY = "sekreterare.ledningsgrupp@example.se"
RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
APRIL = datetime(2027, 4, 20, 13, 0, tzinfo=STOCKHOLM)


def _steps(app: App, instance_id: int) -> dict[str, ChecklistItem]:
    with app.db.session() as session:
        items = session.scalars(
            select(ChecklistItem).where(ChecklistItem.instance_id == instance_id)
        )
        return {item.key: item for item in items}


def _state(app: App, instance_id: int) -> str:
    return instance_detail(app, instance_id).state


def test_budget_cycle_from_proposal_to_internal_budget(app: App, clock: FixedClock) -> None:
    started = start_process(
        app, "budget_cycle", "sff", period="2027", actor=DIRECTOR, starts_at=APRIL
    )
    assert started.created
    again = start_process(app, "budget_cycle", "sff", period="2027", actor=DIRECTOR,
                          starts_at=APRIL)  # fmt: skip
    assert again == type(started)(started.id, created=False)
    steps = _steps(app, started.id)
    assert set(steps) == {"goals_and_economy", "proposal_to_board"}
    assert steps["goals_and_economy"].due_at < steps["proposal_to_board"].due_at < APRIL
    with app.db.session() as session:
        owner = session.get(ChecklistItem, steps["goals_and_economy"].id)
        assert owner is not None
        assert owner.assignee is not None
        assert owner.assignee.email == DIRECTOR

    with pytest.raises(TransitionRefused, match="required checklist steps are still open"):
        fire_trigger(app, started.id, "submit_proposal", actor=BOARD_CHAIR)
    with pytest.raises(PermissionDenied, match="'submit_proposal' needs one of the roles"):
        fire_trigger(app, started.id, "submit_proposal", actor=RECTOR)
    with pytest.raises(InputError, match="an override needs a reason"):
        fire_trigger(app, started.id, "submit_proposal", actor=BOARD_CHAIR, override=True)
    with pytest.raises(PermissionDenied, match="overriding 'submit_proposal'"):
        fire_trigger(app, started.id, "submit_proposal", actor=DIRECTOR, override=True,
                     reason="brådskande")  # fmt: skip
    state = fire_trigger(app, started.id, "submit_proposal", actor=BOARD_CHAIR, override=True,
                         reason="Presidiet föredrogs muntligt")  # fmt: skip
    assert state == "proposed"
    with app.db.session() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == started.id).order_by(AuditEvent.id)
        ).all()
        moved = next(r for r in rows if r.trigger == "submit_proposal")
        assert moved.entity == "process"
        assert moved.reason.startswith("override: Presidiet föredrogs muntligt (overrode: required")
        waived = [r.reason.split()[1] for r in rows if r.trigger == "waive_step"]
        assert waived == ["goals_and_economy", "proposal_to_board"]
    assert all(s.done_by == BOARD_CHAIR for s in _steps(app, started.id).values())

    clock.set(datetime(2027, 6, 15, 10, 0, tzinfo=STOCKHOLM))
    assert fire_trigger(app, started.id, "record_allocation", actor=SECRETARY) == "allocated"
    assert fire_trigger(app, started.id, "start_internal_budget", actor=CONTROLLER) == (
        "internal_budget"
    )
    steps = _steps(app, started.id)
    assert {"allocation_to_units", "internal_budget_review"} <= set(steps)
    assert steps["allocation_to_units"].due_at > clock.now() + timedelta(days=50)
    with pytest.raises(TransitionRefused, match="allocation_to_units"):
        fire_trigger(app, started.id, "decide_internal_budget", actor=BOARD_CHAIR)
    complete_step(app, steps["allocation_to_units"].id, actor=CONTROLLER)
    complete_step(app, steps["internal_budget_review"].id, actor=DIRECTOR)
    clock.set(datetime(2027, 11, 16, 18, 0, tzinfo=STOCKHOLM))
    assert fire_trigger(app, started.id, "decide_internal_budget", actor=BOARD_CHAIR) == "decided"
    later = _steps(app, started.id)
    assert {"inform_units", "deviation_review"} <= set(later)
    with pytest.raises(TransitionRefused):
        fire_trigger(app, started.id, "close", actor=CONTROLLER)
    for key in ("inform_units", "deviation_review"):
        complete_step(app, later[key].id, actor=CONTROLLER)
    assert fire_trigger(app, started.id, "close", actor=CONTROLLER) == "closed"
    with pytest.raises(TransitionRefused, match="cannot 'cancel' in state 'closed'"):
        fire_trigger(app, started.id, "cancel", actor=DIRECTOR)
    history = instance_detail(app, started.id).history
    assert [h.trigger for h in history if h.to_state != h.from_state] == [
        "start", "submit_proposal", "record_allocation", "start_internal_budget",
        "decide_internal_budget", "close",
    ]  # fmt: skip


def test_vp_process_anchors_in_lg_and_sg_and_is_decided(app: App, clock: FixedClock) -> None:
    clock.set(datetime(2027, 4, 13, 9, 0, tzinfo=STOCKHOLM))
    decision = datetime(2027, 8, 10, 10, 0, tzinfo=STOCKHOLM)
    started = start_process(app, "vp_process", "sff", period="2027/28", actor=SECRETARY,
                            starts_at=decision)  # fmt: skip
    steps = _steps(app, started.id)
    assert set(steps) == {"situation_analysis", "assignment_proposals", "final_text"}
    assert steps["situation_analysis"].due_at.astimezone(STOCKHOLM).date().month == 5
    for step in steps.values():
        complete_step(app, step.id, actor=DIRECTOR)
    assert fire_trigger(app, started.id, "submit_proposals", actor=SECRETARY) == "anchoring"
    anchoring = _steps(app, started.id)
    assert anchoring["joint_check"].due_at < anchoring["lg_check"].due_at
    for key in ("joint_check", "lg_check"):
        complete_step(app, anchoring[key].id, actor=SECRETARY)
    assert fire_trigger(app, started.id, "approve_draft", actor=DIRECTOR) == "preliminary"
    assert fire_trigger(app, started.id, "revise", actor=DIRECTOR) == "anchoring"
    # Entering anchoring again raises no step twice.
    assert sorted(_steps(app, started.id)) == sorted(anchoring)
    assert fire_trigger(app, started.id, "approve_draft", actor=DIRECTOR) == "preliminary"
    assert fire_trigger(app, started.id, "decide", actor=DIRECTOR) == "decided"
    assert "report_to_board" in _steps(app, started.id)
    assert [r.state for r in list_processes(app, workflow="vp_process")] == ["decided"]


def test_quality_report_is_compiled_reviewed_and_closed(app: App, clock: FixedClock) -> None:
    year_end = datetime(2027, 6, 11, 12, 0, tzinfo=STOCKHOLM)
    started = start_process(app, "quality_report", "vastra-skolan", period="2026/27",
                            actor=HEAD, starts_at=year_end)  # fmt: skip
    steps = _steps(app, started.id)
    assert {s.assignee_role for s in steps.values()} == {"rektor"}
    assert steps["full_report"].due_at <= year_end
    for step in steps.values():
        complete_step(app, step.id, actor=RECTOR)
    assert fire_trigger(app, started.id, "compile", actor=RECTOR) == "compiled"
    with pytest.raises(PermissionDenied):
        fire_trigger(app, started.id, "approve", actor=RECTOR)
    review = _steps(app, started.id)["review"]
    with app.db.session() as session:
        assignee = session.get(ChecklistItem, review.id)
        assert assignee is not None
        assert assignee.assignee is not None
        assert assignee.assignee.email == HEAD
    complete_step(app, review.id, actor=HEAD)
    assert fire_trigger(app, started.id, "return", actor=HEAD) == "open"
    assert fire_trigger(app, started.id, "compile", actor=RECTOR) == "compiled"
    assert fire_trigger(app, started.id, "approve", actor=HEAD) == "approved"
    assert fire_trigger(app, started.id, "close", actor=HEAD) == "closed"


@pytest.mark.parametrize(
    ("workflow", "unit", "period", "at", "error", "message"),
    [
        ("dialog_round", "sff", "2027", APRIL, InputError, "drives dialog instances"),
        ("budget_cycle", "sff", "27", APRIL, InputError, "does not start with its year"),
        ("budget_cycle", "sff", "2027", None, InputError, "give the event's date"),
        ("budget_cycle", "nowhere", "2027", APRIL, NotFound, "unit 'nowhere' not found"),
        ("no_such", "sff", "2027", APRIL, NotFound, "workflow 'no_such'"),
    ],
)
def test_bad_starts_are_refused_and_write_nothing(
    app: App,
    workflow: str,
    unit: str,
    period: str,
    at: datetime | None,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        start_process(app, workflow, unit, period=period, actor=DIRECTOR, starts_at=at)
    with app.db.session() as session:
        assert session.scalar(select(Instance.id).where(Instance.kind == "process")) is None


def test_only_someone_who_runs_it_may_start_a_process(app: App) -> None:
    with pytest.raises(PermissionDenied, match="may start budget_cycle for sff"):
        start_process(app, "budget_cycle", "sff", period="2027", actor=RECTOR, starts_at=APRIL)


def test_nothing_can_be_ticked_once_a_process_is_over(app: App) -> None:
    started = start_process(app, "budget_cycle", "sff", period="2027", actor=DIRECTOR,
                            starts_at=APRIL)  # fmt: skip
    assert fire_trigger(app, started.id, "cancel", actor=DIRECTOR, reason="ny tidplan") == (
        "cancelled"
    )
    step = _steps(app, started.id)["goals_and_economy"]
    with pytest.raises(InputError, match=r"process \d+ is cancelled; nothing more can be ticked"):
        complete_step(app, step.id, actor=DIRECTOR)
