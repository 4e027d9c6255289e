"""Workflow definitions: the shipped one loads; every check names file, line, key and problem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path

import pytest
from pydantic import ValidationError
from support import line_with

from styrhjul.engine.definition import ROLES, STAY, WorkflowDefinition, load_definition
from styrhjul.engine.guards import GUARDS
from styrhjul.errors import DefinitionError, exit_code
from styrhjul.workflows import definition_path

SHIPPED = definition_path("dialog_round")
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    """A copy of the shipped definition with ``old`` (which must occur once) replaced."""
    assert SHIPPED_TEXT.count(old) == 1, old
    text = SHIPPED_TEXT.replace(old, new)
    path = tmp_path / "dialog_round.toml"
    path.write_text(text, encoding="utf-8")
    return path, text


# --- the shipped definition --------------------------------------------------------------------


def test_shipped_definition_loads() -> None:
    definition = load_definition(SHIPPED)
    assert isinstance(definition, WorkflowDefinition)
    assert definition.name == "dialog_round"
    assert definition.version == 1
    assert definition.spec.workflow.initial == "planned"
    assert [s.name for s in definition.spec.state] == [
        "planned",
        "preparing",
        "ready",
        "held",
        "following_up",
        "closed",
        "cancelled",
    ]
    assert definition.final_states == frozenset({"closed", "cancelled"})
    assert [t.trigger for t in definition.spec.transition] == [
        "open_preparation",
        "mark_ready",
        "hold",
        "follow_up",
        "close",
        "postpone",
        "cancel",
    ]
    assert definition.state_title("held") == "Genomförd"
    assert definition.state_title("nowhere") == "nowhere"
    assert definition.slot_times() == [time(9), time(10, 30), time(13), time(14, 30)]
    round_two = definition.round(2)
    assert round_two is not None
    assert round_two.window_start == "02-01"
    assert definition.round(4) is None
    assert definition.source.path == SHIPPED
    assert definition.source.text == SHIPPED_TEXT


def test_shipped_definition_is_consistent() -> None:
    spec = load_definition(SHIPPED).spec
    names = {s.name for s in spec.state}
    for tr in spec.transition:
        assert set(tr.source) <= names
        assert tr.dest == STAY or tr.dest in names
        assert set(tr.conditions) <= set(GUARDS)
        assert set(tr.roles) <= ROLES
    opens = spec.timing.prepare_working_days_before
    assert all(0 <= s.due_working_days_before <= opens for s in spec.step)
    assert len({s.key for s in spec.step}) == len(spec.step)
    assert [r.number for r in spec.schedule.round] == [1, 2, 3]


def test_spec_is_frozen() -> None:
    spec = load_definition(SHIPPED).spec
    with pytest.raises(ValidationError, match="frozen"):
        spec.workflow.initial = "held"  # type: ignore[misc]


def test_missing_definition_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(DefinitionError) as info:
        load_definition(missing)
    assert info.value.file == str(missing)
    assert "file not found" in str(info.value)
    assert exit_code(info.value) == 2


def test_invalid_toml_definition(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, 'initial = "planned"', "initial = planned")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert info.value.file == str(path)
    assert "not valid TOML" in str(info.value)


# --- every check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    old: str
    new: str
    key: str
    needle: str
    message: str
    occurrence: int = 1


CANCEL_SOURCE = 'source = ["planned", "preparing", "ready", "held", "following_up"]'
CANCEL_ROLES = 'roles = ["secretary", "area_head", "director"]'

CASES = {
    "unknown initial state": Case(
        'initial = "planned"',
        'initial = "drafted"',
        "workflow.initial",
        'initial = "drafted"',
        "unknown state 'drafted'; states are: planned, preparing, ready",
    ),
    "unknown source state": Case(
        'source = ["preparing"]',
        'source = ["preparng"]',
        "transition[1].source",
        'source = ["preparng"]',
        "unknown state 'preparng'; states are: planned",
    ),
    "unknown dest": Case(
        'dest = "following_up"',
        'dest = "followup"',
        "transition[3].dest",
        'dest = "followup"',
        "unknown state 'followup'",
    ),
    "transition out of a final state": Case(
        CANCEL_SOURCE,
        CANCEL_SOURCE[:-1] + ', "closed"]',
        "transition[6].source",
        '"following_up", "closed"]',
        "'cancel' leaves the final state 'closed'; a final state has no way out",
    ),
    "unknown guard": Case(
        'conditions = ["meeting_started"]',
        'conditions = ["meeting_begun"]',
        "transition[2].conditions",
        "meeting_begun",
        "unknown guard 'meeting_begun'; known guards: agreements_done, chain_compiled, "
        "checklist_complete",
    ),
    "unknown transition role": Case(
        CANCEL_ROLES,
        CANCEL_ROLES[:-1] + ', "janitor"]',
        "transition[6].roles",
        '"janitor"]',
        "unknown role 'janitor'; known roles: area_head, board_chair",
    ),
    "unreachable state": Case(
        'name = "cancelled"\ntitle = "Inställd"\nfinal = true\n',
        'name = "cancelled"\ntitle = "Inställd"\nfinal = true\n\n'
        '[[state]]\nname = "archived"\ntitle = "Arkiverad"\n',
        "state[7].name",
        'name = "archived"',
        "state 'archived' cannot be reached from 'planned'",
    ),
    "step due after the event": Case(
        "due_working_days_before = 2\n",
        "due_working_days_before = -1\n",
        "step[6].due_working_days_before",
        "due_working_days_before = -1",
        "step 'questions' would be due after the event it prepares",
    ),
    "step due before preparation opens": Case(
        "due_working_days_before = 12\n",
        "due_working_days_before = 25\n",
        "step[1].due_working_days_before",
        "due_working_days_before = 25",
        "step 'quality_criteria' would be due before preparation opens "
        "(20 working days before the event)",
    ),
    "unknown step assignee": Case(
        'assignee = "area_head"\ndue_working_days_before = 2',
        'assignee = "caretaker"\ndue_working_days_before = 2',
        "step[6].assignee",
        'assignee = "caretaker"',
        "unknown role 'caretaker'",
    ),
    "step assigned to the system": Case(
        'assignee = "rektor"\ndue_working_days_before = 10',
        'assignee = "system"\ndue_working_days_before = 10',
        "step[0].assignee",
        'assignee = "system"',
        "unknown role 'system'",
    ),
    "unknown schedule host role": Case(
        'host_role = "area_head"',
        'host_role = "headmaster"',
        "schedule.host_role",
        'host_role = "headmaster"',
        "unknown role 'headmaster'",
    ),
    "unknown schedule participant role": Case(
        'participant_role = "rektor"',
        'participant_role = "system"',
        "schedule.participant_role",
        'participant_role = "system"',
        "unknown role 'system'",
    ),
    "duplicate state": Case(
        'name = "ready"\ntitle = "Förberedd"',
        'name = "preparing"\ntitle = "Förberedd"',
        "state[2].name",
        'name = "preparing"',
        "state 'preparing' is defined twice",
        occurrence=2,
    ),
    "duplicate step key": Case(
        'key = "questions"',
        'key = "facts"',
        "step[6].key",
        'key = "facts"',
        "step 'facts' is defined twice",
        occurrence=2,
    ),
    "duplicate round number": Case(
        "number = 3\n",
        "number = 1\n",
        "schedule.round[2].number",
        "number = 1",
        "round 1 is defined twice",
        occurrence=2,
    ),
    "unknown key in a state": Case(
        'title = "Förberedd"\n',
        'title = "Förberedd"\ncolour = "red"\n',
        "state[2].colour",
        'colour = "red"',
        "unknown key; allowed here: name, title, final",
    ),
    "unknown key in the timing table": Case(
        "prepare_working_days_before = 20\n",
        "prepare_working_days_before = 20\nprepare_hours_before = 3\n",
        "timing.prepare_hours_before",
        "prepare_hours_before = 3",
        "unknown key; allowed here: prepare_working_days_before, remind_working_days_before_due",
    ),
    "unknown key in a schedule round": Case(
        'window_start = "02-01"\n',
        'window_start = "02-01"\nwindow_end = "03-01"\n',
        "schedule.round[1].window_end",
        'window_end = "03-01"',
        "unknown key; allowed here: number, title, window_start",
    ),
    "unknown top-level table": Case(
        "[timing]\n",
        '[notify]\nchannel = "mail"\n\n[timing]\n',
        "notify",
        "[notify]",
        "unknown key; allowed here: workflow, state, transition, timing, step, recurring, schedule",
    ),
    "missing required key in a state": Case(
        'title = "Genomförd"\n',
        "",
        "state[3].title",
        "[[state]]",  # the key is not written: the error points at its table
        "required key is missing",
        occurrence=4,
    ),
    "missing required key in a transition": Case(
        'roles = ["system", "secretary", "area_head"]\n',
        "",
        "transition[3].roles",
        "[[transition]]",
        "required key is missing",
        occurrence=4,
    ),
    "bad slot time": Case(
        '"14:30"]',
        '"25:00"]',
        "schedule.slots",
        "slots = [",
        "slot '25:00' is not a time of day HH:MM",
    ),
    "bad state name": Case(
        'name = "following_up"',
        'name = "Following up"',
        "state[4].name",
        'name = "Following up"',
        "'Following up'",
    ),
    "wrong type": Case(
        "version = 1\n",
        'version = "1"\n',
        "workflow.version",
        'version = "1"',
        "integer",
    ),
    "bad round window": Case(
        'window_start = "05-10"',
        'window_start = "13-10"',
        "schedule.round[2].window_start",
        'window_start = "13-10"',
        "'13-10'",
    ),
    "empty roles": Case(
        'roles = ["secretary", "area_head"]\n\n[[transition]]\ntrigger = "follow_up"',
        'roles = []\n\n[[transition]]\ntrigger = "follow_up"',
        "transition[2].roles",
        "roles = []",
        "at least 1 item",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_broken_definition_names_file_line_key_and_problem(tmp_path: Path, case: Case) -> None:
    path, text = broken(tmp_path, case.old, case.new)
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    err = info.value
    expected_line = line_with(text, case.needle, case.occurrence)
    assert err.file == str(path)
    assert err.key == case.key
    assert err.line == expected_line
    assert case.message in err.detail
    assert str(err).startswith(f"{path}:{expected_line}: {case.key}: ")
    assert exit_code(err) == 2


def test_reachability_follows_reflexive_transitions(tmp_path: Path) -> None:
    # With open_preparation gone, 'preparing' and everything after it only hangs off
    # 'planned' through postpone ("=") and cancel: the first unreachable state is named.
    path, text = broken(
        tmp_path, 'source = ["planned"]\ndest = "preparing"', 'source = ["planned"]\ndest = "="'
    )
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert info.value.key == "state[1].name"
    assert info.value.line == line_with(text, 'name = "preparing"')
    assert "state 'preparing' cannot be reached from 'planned'" in str(info.value)


def test_several_schema_errors_are_listed(tmp_path: Path) -> None:
    text = SHIPPED_TEXT.replace("version = 1\n", "version = 0\n").replace(
        'title = "Förberedd"\n', 'title = "Förberedd"\ncolour = "red"\n'
    )
    path = tmp_path / "dialog_round.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    err = info.value
    assert err.key == "workflow.version"
    assert err.line == line_with(text, "version = 0")
    colour = line_with(text, 'colour = "red"')
    assert f"\n{path}:{colour}: state[2].colour: unknown key" in str(err)
