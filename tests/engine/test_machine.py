"""WorkflowMachine over the shipped dialog round: every move, every refusal, no leftovers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from styrhjul.engine.definition import load_definition
from styrhjul.engine.guards import InstanceFacts
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.errors import PermissionDenied, TransitionRefused, exit_code
from styrhjul.workflows import definition_path, definition_paths

STHLM = ZoneInfo("Europe/Stockholm")
STARTS = datetime(2025, 10, 20, 9, 0, tzinfo=STHLM)
PREPARE = datetime(2025, 9, 22, 8, 0, tzinfo=STHLM)
BEFORE_WINDOW = datetime(2025, 9, 15, 12, 0, tzinfo=STHLM)
IN_WINDOW = datetime(2025, 10, 1, 12, 0, tzinfo=STHLM)
AFTER_START = datetime(2025, 10, 20, 10, 30, tzinfo=STHLM)
SECRETARY = ("secretary",)
NON_FINAL = ("planned", "preparing", "ready", "held", "following_up")


@pytest.fixture(scope="module")
def machine() -> WorkflowMachine:
    return WorkflowMachine(load_definition(definition_path("dialog_round")))


def facts(state: str, now: datetime = IN_WINDOW, **changes: object) -> InstanceFacts:
    base = InstanceFacts(
        ref="dialog 412", state=state, now=now, starts_at=STARTS, prepare_at=PREPARE
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def no_models(machine: WorkflowMachine) -> bool:
    return len(machine._machine.models) == 0


# --- the declared shape ------------------------------------------------------------------------


def test_initial_and_allowed_triggers(machine: WorkflowMachine) -> None:
    assert machine.definition.spec.workflow.initial == "planned"
    assert machine.allowed_triggers("planned") == ["cancel", "open_preparation", "postpone"]
    assert machine.allowed_triggers("preparing") == ["cancel", "hold", "mark_ready", "postpone"]
    assert machine.allowed_triggers("ready") == ["cancel", "hold", "postpone"]
    assert machine.allowed_triggers("held") == ["cancel", "close", "follow_up"]
    assert machine.allowed_triggers("following_up") == ["cancel", "close"]
    assert machine.allowed_triggers("closed") == []
    assert machine.allowed_triggers("cancelled") == []
    assert no_models(machine)


def test_roles_for(machine: WorkflowMachine) -> None:
    assert machine.roles_for("open_preparation", "planned") == {
        "system",
        "area_head",
        "secretary",
    }
    assert machine.roles_for("cancel", "held") == {"secretary", "area_head", "director"}
    assert machine.roles_for("close", "planned") == set()


# --- every allowed move -------------------------------------------------------------------------


def test_open_preparation_when_window_open(machine: WorkflowMachine) -> None:
    assert machine.fire(facts("planned"), "open_preparation", ("system",)) == "preparing"
    assert no_models(machine)
    at_the_minute = facts("planned", now=PREPARE)
    assert machine.fire(at_the_minute, "open_preparation", ("area_head",)) == "preparing"


def test_open_preparation_refused_before_window(machine: WorkflowMachine) -> None:
    with pytest.raises(TransitionRefused) as info:
        machine.fire(facts("planned", now=BEFORE_WINDOW), "open_preparation", SECRETARY)
    err = info.value
    assert err.ref == "dialog 412"
    assert err.trigger == "open_preparation"
    assert err.state == "planned"
    assert err.reason == "preparation opens 2025-09-22T08:00+02:00"
    assert str(err) == (
        "dialog 412: cannot 'open_preparation' in state 'planned': "
        "preparation opens 2025-09-22T08:00+02:00"
    )
    assert exit_code(err) == 4
    assert no_models(machine)


def test_mark_ready_when_no_required_steps_open(machine: WorkflowMachine) -> None:
    assert machine.fire(facts("preparing"), "mark_ready", ("rektor",)) == "ready"
    assert no_models(machine)


def test_mark_ready_refused_with_open_steps(machine: WorkflowMachine) -> None:
    open_steps = facts("preparing", steps_open_required=("material", "questions"))
    with pytest.raises(TransitionRefused) as info:
        machine.fire(open_steps, "mark_ready", ("rektor",))
    assert info.value.reason == "required checklist steps are still open: material, questions"
    assert "dialog 412: cannot 'mark_ready' in state 'preparing'" in str(info.value)
    assert no_models(machine)


@pytest.mark.parametrize("state", ["preparing", "ready"])
def test_hold_after_start(machine: WorkflowMachine, state: str) -> None:
    assert machine.fire(facts(state, now=AFTER_START), "hold", ("area_head",)) == "held"
    assert machine.fire(facts(state, now=STARTS), "hold", SECRETARY) == "held"
    assert no_models(machine)


@pytest.mark.parametrize("state", ["preparing", "ready"])
def test_hold_refused_before_start(machine: WorkflowMachine, state: str) -> None:
    with pytest.raises(TransitionRefused) as info:
        machine.fire(facts(state, now=STARTS - timedelta(minutes=1)), "hold", SECRETARY)
    assert info.value.reason == "the dialog has not started yet (starts 2025-10-20T09:00+02:00)"
    assert info.value.state == state
    assert no_models(machine)


def test_follow_up_needs_agreements(machine: WorkflowMachine) -> None:
    with_agreements = facts("held", now=AFTER_START, agreements_total=2, agreements_open=(5, 6))
    assert machine.fire(with_agreements, "follow_up", ("system",)) == "following_up"
    with pytest.raises(TransitionRefused) as info:
        machine.fire(facts("held", now=AFTER_START), "follow_up", ("system",))
    assert info.value.reason == "no agreements were recorded"
    assert str(info.value) == (
        "dialog 412: cannot 'follow_up' in state 'held': no agreements were recorded"
    )
    assert no_models(machine)


def test_close_from_held_without_agreements(machine: WorkflowMachine) -> None:
    assert machine.fire(facts("held", now=AFTER_START), "close", SECRETARY) == "closed"
    assert no_models(machine)


def test_close_from_following_up_when_agreements_done(machine: WorkflowMachine) -> None:
    done = facts("following_up", now=AFTER_START, agreements_total=3, agreements_open=())
    assert machine.fire(done, "close", ("area_head",)) == "closed"


@pytest.mark.parametrize("state", ["held", "following_up"])
def test_close_refused_with_open_agreements(machine: WorkflowMachine, state: str) -> None:
    pending = facts(state, now=AFTER_START, agreements_total=3, agreements_open=(17, 23))
    with pytest.raises(TransitionRefused) as info:
        machine.fire(pending, "close", SECRETARY)
    err = info.value
    assert err.reason == "2 agreement(s) still open (ids 17, 23)"
    assert "17" in str(err)
    assert "23" in str(err)
    assert str(err).startswith(f"dialog 412: cannot 'close' in state '{state}'")
    assert no_models(machine)


@pytest.mark.parametrize("state", ["planned", "preparing", "ready"])
def test_postpone_keeps_the_state(machine: WorkflowMachine, state: str) -> None:
    later = STARTS + timedelta(days=7)
    assert machine.fire(facts(state, new_starts_at=later), "postpone", SECRETARY) == state
    earlier_but_future = IN_WINDOW + timedelta(days=1)
    moved = facts(state, new_starts_at=earlier_but_future)
    assert machine.fire(moved, "postpone", ("area_head",)) == state
    assert no_models(machine)


@pytest.mark.parametrize(
    ("new_starts_at", "reason"),
    [
        (None, "a new time is required"),
        (IN_WINDOW - timedelta(hours=1), "the new time must lie in the future"),
        (IN_WINDOW, "the new time must lie in the future"),
        (STARTS, "the new time is the same as the current one"),
    ],
    ids=["missing", "past", "now", "same"],
)
def test_postpone_refused(
    machine: WorkflowMachine, new_starts_at: datetime | None, reason: str
) -> None:
    with pytest.raises(TransitionRefused) as info:
        machine.fire(facts("ready", new_starts_at=new_starts_at), "postpone", SECRETARY)
    assert info.value.reason == reason
    assert str(info.value) == f"dialog 412: cannot 'postpone' in state 'ready': {reason}"
    assert no_models(machine)


def test_postpone_same_instant_in_another_zone_is_the_same_time(
    machine: WorkflowMachine,
) -> None:
    same_in_utc = STARTS.astimezone(ZoneInfo("UTC"))
    with pytest.raises(TransitionRefused, match="same as the current one"):
        machine.fire(facts("ready", new_starts_at=same_in_utc), "postpone", SECRETARY)


@pytest.mark.parametrize("state", NON_FINAL)
@pytest.mark.parametrize("role", ["secretary", "area_head", "director"])
def test_cancel_from_every_non_final_state(machine: WorkflowMachine, state: str, role: str) -> None:
    # cancel has no guard: it works before the window, with open steps and open agreements
    anything_open = facts(
        state,
        now=BEFORE_WINDOW,
        steps_open_required=("material",),
        agreements_total=1,
        agreements_open=(9,),
    )
    assert machine.fire(anything_open, "cancel", (role,)) == "cancelled"
    assert no_models(machine)


def test_full_happy_path(machine: WorkflowMachine) -> None:
    state = machine.definition.spec.workflow.initial
    state = machine.fire(facts(state), "open_preparation", ("system",))
    state = machine.fire(facts(state), "mark_ready", ("system",))
    state = machine.fire(facts(state, now=AFTER_START), "hold", SECRETARY)
    state = machine.fire(
        facts(state, now=AFTER_START, agreements_total=1, agreements_open=(1,)),
        "follow_up",
        ("system",),
    )
    state = machine.fire(facts(state, now=AFTER_START, agreements_total=1), "close", SECRETARY)
    assert state == "closed"
    assert no_models(machine)


# --- refusals --------------------------------------------------------------------------------


def test_undeclared_trigger_names_ref_trigger_state_and_allowed(
    machine: WorkflowMachine,
) -> None:
    with pytest.raises(TransitionRefused) as info:
        machine.fire(facts("held", now=AFTER_START), "mark_ready", SECRETARY)
    err = info.value
    assert err.ref == "dialog 412"
    assert err.trigger == "mark_ready"
    assert err.state == "held"
    assert err.allowed == ["cancel", "close", "follow_up"]
    assert err.reason is None
    assert str(err) == (
        "dialog 412: cannot 'mark_ready' in state 'held'; allowed: cancel, close, follow_up"
    )
    assert exit_code(err) == 4
    assert no_models(machine)


def test_unknown_trigger_is_refused(machine: WorkflowMachine) -> None:
    with pytest.raises(TransitionRefused) as info:
        machine.fire(facts("planned"), "teleport", ("system",))
    assert str(info.value) == (
        "dialog 412: cannot 'teleport' in state 'planned'; "
        "allowed: cancel, open_preparation, postpone"
    )
    assert no_models(machine)


@pytest.mark.parametrize("state", ["closed", "cancelled"])
@pytest.mark.parametrize("trigger", ["cancel", "close", "postpone", "open_preparation"])
def test_final_states_allow_nothing(machine: WorkflowMachine, state: str, trigger: str) -> None:
    with pytest.raises(TransitionRefused) as info:
        machine.fire(facts(state, now=AFTER_START), trigger, ("secretary", "system"))
    err = info.value
    assert err.allowed == []
    assert str(err) == (
        f"dialog 412: cannot '{trigger}' in state '{state}'; allowed: none (final state)"
    )
    assert no_models(machine)


def test_permission_beats_refusal(machine: WorkflowMachine) -> None:
    # an actor who may never cancel learns that, not the state the dialog is in (403, not 409)
    with pytest.raises(PermissionDenied, match="'cancel' needs one of the roles"):
        machine.fire(facts("closed"), "cancel", ())
    # one who may cancel elsewhere is told the state refuses it
    (role, *_) = sorted(machine.roles_for("cancel"))
    with pytest.raises(TransitionRefused):
        machine.fire(facts("closed"), "cancel", (role,))


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "trigger", "roles"),
    [
        ("planned", "open_preparation", ("rektor",)),
        ("preparing", "hold", ("system",)),
        ("ready", "postpone", ("rektor", "member")),
        ("held", "close", ("director",)),
        ("following_up", "cancel", ("rektor",)),
        ("planned", "cancel", ()),
    ],
)
def test_permission_denied(
    machine: WorkflowMachine, state: str, trigger: str, roles: tuple[str, ...]
) -> None:
    with pytest.raises(PermissionDenied) as info:
        machine.fire(facts(state, now=AFTER_START), trigger, roles)
    message = str(info.value)
    assert message.startswith(f"dialog 412: '{trigger}' needs one of the roles ")
    for role in machine.roles_for(trigger, state):
        assert role in message
    assert f"the actor holds {', '.join(sorted(roles)) or 'none'} here" in message
    assert exit_code(info.value) == 5
    assert no_models(machine)


def test_permission_checked_before_guards(machine: WorkflowMachine) -> None:
    # the guard would refuse (window not open), but the actor may not act at all
    with pytest.raises(PermissionDenied):
        machine.fire(facts("planned", now=BEFORE_WINDOW), "open_preparation", ("rektor",))


def test_any_one_matching_role_is_enough(machine: WorkflowMachine) -> None:
    roles = iter(["member", "rektor", "controller"])
    assert machine.fire(facts("preparing"), "mark_ready", roles) == "ready"


# --- no state kept ---------------------------------------------------------------------------


def test_machine_holds_no_models_after_many_fires(machine: WorkflowMachine) -> None:
    for _ in range(3):
        machine.fire(facts("planned"), "open_preparation", ("system",))
        with pytest.raises(TransitionRefused):
            machine.fire(facts("planned", now=BEFORE_WINDOW), "open_preparation", ("system",))
        with pytest.raises(TransitionRefused):
            machine.fire(facts("closed"), "cancel", SECRETARY)
        with pytest.raises(PermissionDenied):
            machine.fire(facts("planned"), "cancel", ("member",))
    assert len(machine._machine.models) == 0


def test_facts_are_not_changed_by_fire(machine: WorkflowMachine) -> None:
    before = facts("planned")
    assert machine.fire(before, "open_preparation", ("system",)) == "preparing"
    assert before.state == "planned"


def test_two_machines_over_one_definition_are_independent() -> None:
    definition = load_definition(definition_path("dialog_round"))
    first, second = WorkflowMachine(definition), WorkflowMachine(definition)
    assert first.fire(facts("held", now=AFTER_START), "close", SECRETARY) == "closed"
    assert second.fire(facts("held", now=AFTER_START), "cancel", SECRETARY) == "cancelled"
    assert no_models(first)
    assert no_models(second)


@pytest.mark.parametrize("path", definition_paths(), ids=lambda p: p.stem)
def test_what_the_machine_reads_once_is_what_the_definition_says(path: Path) -> None:
    """Triggers, sources and roles are indexed when the machine is built; the index must
    answer as a scan of the definition's transitions does, for every state and trigger."""
    definition = load_definition(path)
    machine = WorkflowMachine(definition)
    transitions = definition.spec.transition
    states = [*(s.name for s in definition.spec.state), "no-such-state"]
    triggers = [*sorted({t.trigger for t in transitions}), "no_such_trigger"]
    for state in states:
        declared = sorted({t.trigger for t in transitions if state in t.source})
        assert machine.allowed_triggers(state) == declared
    for trigger in triggers:
        mine = [t for t in transitions if t.trigger == trigger]
        assert machine.sources(trigger) == {s for t in mine for s in t.source}
        assert machine.roles_for(trigger) == {r for t in mine for r in t.roles}
        for state in states:
            here = [t for t in mine if state in t.source]
            assert machine.roles_for(trigger, state) == {r for t in here for r in t.roles}
            assert machine.override_roles(trigger, state) == {
                r for t in here for r in t.override_roles
            }
            assert machine.conditions(trigger, state) == {c for t in here for c in t.conditions}


def test_answers_are_copies_a_caller_may_change(machine: WorkflowMachine) -> None:
    machine.roles_for("cancel").add("member")
    machine.allowed_triggers("planned").append("close")
    machine.sources("close").clear()
    assert "member" not in machine.roles_for("cancel")
    assert "close" not in machine.allowed_triggers("planned")
    assert machine.sources("close") == {"held", "following_up"}
