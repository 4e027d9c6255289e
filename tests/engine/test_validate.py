"""``styrhjul workflows validate``: one test per kind of error, then the command itself.

Each test copies the shipped ``dialog_round.toml``, breaks one thing and checks that the
report names the file, the line and the key of the broken thing, and says what is wrong.
Edits are made inside one table (found by a marker such as ``trigger = "cancel"``), and
the expected index of an array of tables is counted in the broken text, so that the
tests keep their meaning when the shipped definition grows.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from support import line_with

from styrhjul.cli.main import main
from styrhjul.services.definitions import Problem, validate_paths
from styrhjul.workflows import DEFINITIONS, definition_path

SHIPPED_TEXT = definition_path("dialog_round").read_text(encoding="utf-8")


def edit(text: str, marker: str, old: str, new: str) -> str:
    """Replace ``old`` inside the table that contains the (unique) line ``marker``."""
    assert text.count(marker) == 1, marker
    at = text.index(marker)
    start = text.rfind("\n[", 0, at) + 1
    found = re.compile(r"^\[", re.MULTILINE).search(text, at + len(marker))
    end = found.start() if found else len(text)
    table = text[start:end]
    assert table.count(old) == 1, f"{old!r} in the table of {marker!r}"
    return text[:start] + table.replace(old, new) + text[end:]


def index_of(text: str, header: str, needle: str, occurrence: int = 1) -> int:
    """The index of the ``header`` table (e.g. ``[[step]]``) holding that line of ``needle``."""
    line = line_with(text, needle, occurrence)
    return sum(1 for row in text.splitlines()[:line] if row.strip() == header) - 1


def write(folder: Path, text: str, name: str = "dialog_round.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def the_problem(path: Path) -> Problem:
    report = validate_paths([path])
    assert not report.definitions
    (problem,) = report.problems
    assert problem.file == str(path)
    return problem


def check(
    tmp_path: Path,
    text: str,
    key: str,
    needle: str,
    message: str,
    occurrence: int = 1,
) -> Problem:
    path = write(tmp_path, text)
    problem = the_problem(path)
    line = line_with(text, needle, occurrence)
    assert (problem.line, problem.key) == (line, key), problem.text
    assert message in problem.message, problem.message
    assert problem.text.startswith(f"{path}:{line}: {key}: ")
    return problem


# --- unknown state -------------------------------------------------------------------------


def test_unknown_initial_state(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, "[workflow]", 'initial = "planned"', 'initial = "planed"')
    check(tmp_path, text, "workflow.initial", 'initial = "planed"', "unknown state 'planed'")


def test_unknown_transition_source(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, 'trigger = "hold"', '"preparing", "ready"]', '"preparng", "ready"]')
    i = index_of(text, "[[transition]]", '"preparng"')
    check(tmp_path, text, f"transition[{i}].source", '"preparng"', "unknown state 'preparng'")


def test_unknown_transition_dest(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, 'trigger = "hold"', 'dest = "held"', 'dest = "hold"')
    i = index_of(text, "[[transition]]", 'dest = "hold"')
    check(tmp_path, text, f"transition[{i}].dest", 'dest = "hold"', "unknown state 'hold'")


# --- the shape of the machine --------------------------------------------------------------


def test_unreachable_state(tmp_path: Path) -> None:
    archived = '[[state]]\nname = "archived"\ntitle = "Arkiverad"\n\n'
    text = SHIPPED_TEXT.replace("[[transition]]", archived + "[[transition]]", 1)
    i = index_of(text, "[[state]]", 'name = "archived"')
    check(
        tmp_path,
        text,
        f"state[{i}].name",
        'name = "archived"',
        "state 'archived' cannot be reached from 'planned'",
    )


def test_transition_out_of_a_final_state(tmp_path: Path) -> None:
    reopen = (
        '[[transition]]\ntrigger = "reopen"\ntitle = "Återöppna"\nsource = ["closed"]\n'
        'dest = "following_up"\nroles = ["director"]\n\n'
    )
    text = SHIPPED_TEXT.replace("[timing]", reopen + "[timing]", 1)
    i = index_of(text, "[[transition]]", 'trigger = "reopen"')
    check(
        tmp_path,
        text,
        f"transition[{i}].source",
        'source = ["closed"]',
        "'reopen' leaves the final state 'closed'",
    )


def test_duplicate_state(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, 'name = "ready"', 'name = "ready"', 'name = "preparing"')
    i = index_of(text, "[[state]]", 'name = "preparing"', occurrence=2)
    check(
        tmp_path,
        text,
        f"state[{i}].name",
        'name = "preparing"',
        "state 'preparing' is defined twice",
        occurrence=2,
    )


# --- guards and roles ----------------------------------------------------------------------


def test_unknown_guard(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, 'trigger = "hold"', '"meeting_started"', '"meeting_begun"')
    i = index_of(text, "[[transition]]", '"meeting_begun"')
    check(
        tmp_path,
        text,
        f"transition[{i}].conditions",
        '"meeting_begun"',
        "unknown guard 'meeting_begun'",
    )


def test_unknown_role_in_transition_roles(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, 'trigger = "cancel"', '"director"]', '"director", "janitor"]')
    i = index_of(text, "[[transition]]", '"janitor"')
    check(tmp_path, text, f"transition[{i}].roles", '"janitor"', "unknown role 'janitor'")


def test_unknown_role_in_override_roles(tmp_path: Path) -> None:
    text = edit(
        SHIPPED_TEXT,
        'trigger = "hold"',
        'conditions = ["meeting_started"]',
        'conditions = ["meeting_started"]\noverride_roles = ["caretaker"]',
    )
    i = index_of(text, "[[transition]]", '"caretaker"')
    check(
        tmp_path,
        text,
        f"transition[{i}].override_roles",
        '"caretaker"',
        "unknown role 'caretaker'",
    )


def test_override_roles_without_conditions(tmp_path: Path) -> None:
    text = edit(
        SHIPPED_TEXT,
        'trigger = "cancel"',
        'dest = "cancelled"',
        'dest = "cancelled"\noverride_roles = ["director"]',
    )
    i = index_of(text, "[[transition]]", 'trigger = "cancel"')
    check(
        tmp_path,
        text,
        f"transition[{i}].override_roles",
        'override_roles = ["director"]',
        "'cancel' has no conditions, so there is nothing to override",
    )


def test_unknown_role_as_step_assignee(tmp_path: Path) -> None:
    text = edit(
        SHIPPED_TEXT, 'key = "questions"', 'assignee = "area_head"', 'assignee = "vaktmästare"'
    )
    i = index_of(text, "[[step]]", 'key = "questions"')
    check(
        tmp_path,
        text,
        f"step[{i}].assignee",
        'assignee = "vaktmästare"',
        "unknown role 'vaktmästare'",
    )


# --- steps and their due dates -------------------------------------------------------------


def test_unknown_anchor(tmp_path: Path) -> None:
    text = edit(
        SHIPPED_TEXT,
        'key = "questions"',
        "required = true",
        'required = true\nanchor = "state:done"',
    )
    i = index_of(text, "[[step]]", 'key = "questions"')
    check(
        tmp_path, text, f"step[{i}].anchor", 'anchor = "state:done"', "unknown anchor 'state:done'"
    )


def test_due_after_the_event_it_prepares(tmp_path: Path) -> None:
    text = edit(
        SHIPPED_TEXT,
        'key = "questions"',
        "due_working_days_before = 2",
        "due_working_days_after = 1",
    )
    i = index_of(text, "[[step]]", 'key = "questions"')
    check(
        tmp_path,
        text,
        f"step[{i}].due_working_days_after",
        "due_working_days_after = 1",
        "step 'questions' would be due after the event it prepares",
    )


def test_due_before_preparation_opens(tmp_path: Path) -> None:
    text = re.sub(
        r"prepare_working_days_before = \d+", "prepare_working_days_before = 15", SHIPPED_TEXT
    )
    text = edit(
        text,
        'key = "quality_criteria"',
        "due_working_days_before = 12",
        "due_working_days_before = 16",
    )
    i = index_of(text, "[[step]]", 'key = "quality_criteria"')
    check(
        tmp_path,
        text,
        f"step[{i}].due_working_days_before",
        "due_working_days_before = 16",
        "step 'quality_criteria' would be due before preparation opens "
        "(15 working days before the event)",
    )


def test_both_offsets_given(tmp_path: Path) -> None:
    text = edit(
        SHIPPED_TEXT,
        'key = "questions"',
        "due_working_days_before = 2",
        "due_working_days_before = 2\ndue_working_days_after = 1",
    )
    i = index_of(text, "[[step]]", 'key = "questions"')
    check(
        tmp_path,
        text,
        f"step[{i}].key",
        'key = "questions"',
        "step 'questions' needs exactly one of due_working_days_before and due_working_days_after",
    )


def test_neither_offset_given(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, 'key = "questions"', "due_working_days_before = 2\n", "")
    i = index_of(text, "[[step]]", 'key = "questions"')
    check(
        tmp_path,
        text,
        f"step[{i}].key",
        'key = "questions"',
        "step 'questions' needs exactly one of due_working_days_before and due_working_days_after",
    )


def test_duplicate_step_key(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, 'key = "questions"', 'key = "questions"', 'key = "facts"')
    i = index_of(text, "[[step]]", 'key = "facts"', occurrence=2)
    check(
        tmp_path,
        text,
        f"step[{i}].key",
        'key = "facts"',
        "step 'facts' is defined twice",
        occurrence=2,
    )


# --- schedule and timing -------------------------------------------------------------------


def test_dialog_without_schedule(tmp_path: Path) -> None:
    text = SHIPPED_TEXT[: SHIPPED_TEXT.index("[schedule]")]
    check(
        tmp_path,
        text,
        "workflow.kind",
        'kind = "dialog"',
        "a dialog workflow needs a [schedule] of its rounds",
    )


def test_schedule_on_a_workflow_that_is_not_a_dialog(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, "[workflow]", 'kind = "dialog"', 'kind = "process"')
    check(
        tmp_path,
        text,
        "schedule",
        "[schedule]",
        "only a dialog workflow has a [schedule] of rounds",
    )


def test_second_escalation_not_after_the_first(tmp_path: Path) -> None:
    text = re.sub(r"\nescalate_again_working_days_after_due = \d+", "", SHIPPED_TEXT)
    text = re.sub(
        r"escalate_working_days_after_due = \d+",
        "escalate_working_days_after_due = 3\nescalate_again_working_days_after_due = 3",
        text,
    )
    check(
        tmp_path,
        text,
        "timing.escalate_again_working_days_after_due",
        "escalate_again_working_days_after_due = 3",
        "the second escalation (3 working days after due) must come after the first (3)",
    )


# --- the file itself -----------------------------------------------------------------------


def test_unknown_key(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, 'trigger = "hold"', "conditions = ", "condition = ")
    i = index_of(text, "[[transition]]", 'trigger = "hold"')
    problem = check(
        tmp_path,
        text,
        f"transition[{i}].condition",
        "condition = ",
        "unknown key; allowed here: trigger, title, source, dest, conditions",
    )
    assert "condition" in problem.text


def test_bad_toml_syntax(tmp_path: Path) -> None:
    text = edit(SHIPPED_TEXT, "[workflow]", 'initial = "planned"', "initial = planned")
    path = write(tmp_path, text)
    problem = the_problem(path)
    assert problem.line == line_with(text, "initial = planned")
    assert problem.key is None
    assert "not valid TOML" in problem.message
    assert problem.text.startswith(f"{path}:{problem.line}: not valid TOML")


def test_two_files_define_one_workflow(tmp_path: Path) -> None:
    first = write(tmp_path, SHIPPED_TEXT, "a_dialog.toml")
    second = write(tmp_path, SHIPPED_TEXT, "b_dialog.toml")
    report = validate_paths([tmp_path])
    assert [d.file for d in report.definitions] == [str(first)]
    (problem,) = report.problems
    assert problem.file == str(second)
    assert problem.key == "workflow.name"
    assert problem.line == line_with(SHIPPED_TEXT, 'name = "dialog_round"')
    assert problem.message == f"workflow 'dialog_round' is also defined in {first}"


def test_a_folder_without_definitions(tmp_path: Path) -> None:
    (problem,) = validate_paths([tmp_path]).problems
    assert problem.file == str(tmp_path)
    assert "no workflow definition files" in problem.message


# --- the command ---------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["workflows", "validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_command_reports_every_broken_file_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, SHIPPED_TEXT, "a_good.toml")
    bad_guard = edit(SHIPPED_TEXT, 'trigger = "hold"', '"meeting_started"', '"meeting_begun"')
    bad_state = edit(SHIPPED_TEXT, "[workflow]", 'initial = "planned"', 'initial = "planed"')
    bad_syntax = edit(SHIPPED_TEXT, "[workflow]", 'initial = "planned"', "initial = planned")
    broken = [
        write(tmp_path, bad_guard.replace('"dialog_round"', '"guard_dialog"'), "b_guard.toml"),
        write(tmp_path, bad_state.replace('"dialog_round"', '"state_dialog"'), "c_state.toml"),
        write(tmp_path, bad_syntax, "d_syntax.toml"),
    ]
    code, out, err = run(capsys, str(tmp_path))
    assert code == 2
    assert f"ok {good}: dialog_round version " in out
    lines = out.splitlines()
    assert any(line.startswith(f"{broken[0]}:") and "meeting_begun" in line for line in lines)
    assert any(line.startswith(f"{broken[1]}:") and "'planed'" in line for line in lines)
    syntax_line = line_with(bad_syntax, "initial = planned")
    assert any(line.startswith(f"{broken[2]}:{syntax_line}: not valid TOML") for line in lines)
    assert err.strip() == "error: 3 definition file(s) have errors; see above"


def test_command_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = edit(SHIPPED_TEXT, 'trigger = "cancel"', '"director"]', '"director", "janitor"]')
    path = write(tmp_path, bad)
    code, out, _ = run(capsys, str(path), "--json")
    assert code == 2
    report = json.loads(out)
    assert report["ok"] is False
    assert report["definitions"] == []
    (problem,) = report["problems"]
    assert problem["file"] == str(path)
    assert problem["line"] == line_with(bad, '"janitor"')
    assert problem["key"].endswith(".roles")
    assert "unknown role 'janitor'" in problem["message"]


def test_command_accepts_the_shipped_folder(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert (code, err) == (0, "")
    shipped = sorted(DEFINITIONS.glob("*.toml"))
    assert len(out.splitlines()) == len(shipped)
    assert f"ok {definition_path('dialog_round')}: dialog_round version " in out


def test_command_needs_no_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No config.toml in the working folder and a config path that does not exist."""
    shutil.copy(definition_path("dialog_round"), tmp_path / "dialog_round.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STYRHJUL_CONFIG", str(tmp_path / "absent.toml"))
    code, out, _ = run(capsys, "dialog_round.toml")
    assert code == 0
    assert out.startswith("ok dialog_round.toml: dialog_round version ")
