"""``[[recurring]]`` in a definition: the shipped plan assignment declares its yearly report,
and every broken rule stops the load naming file, line, key and problem (exit code 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import line_with

from styrhjul.engine.definition import load_definition
from styrhjul.errors import DefinitionError, exit_code
from styrhjul.workflows import definition_path

SHIPPED = definition_path("vp_assignment")
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")
STATES = 'states = ["decided", "planning", "in_progress", "followed_up", "evaluated"]'


def test_the_plan_assignment_declares_its_yearly_report() -> None:
    definition = load_definition(SHIPPED)
    (rule,) = definition.recurring
    assert (rule.key, rule.assignee, rule.of, rule.due, rule.month_day) == (
        "report_lg_sg",
        "area_head",
        "unit",
        "05-15",
        (5, 15),
    )
    assert rule.states == ["decided", "planning", "in_progress", "followed_up", "evaluated"]
    assert rule.raise_working_days_before == 20
    assert rule.required is False
    assert rule.step_key(2026) == "report_lg_sg_2026"
    # Reports are recorded in exactly the states in which the rule runs.
    report = next(t for t in definition.spec.transition if t.trigger == "report")
    assert report.source == rule.states


@pytest.mark.parametrize(
    ("old", "new", "key", "needle", "message"),
    [
        (
            STATES,
            'states = ["decided", "runnning"]',
            "recurring[0].states",
            '"runnning"]',
            "unknown state 'runnning'; states are: draft, proposed",
        ),
        (
            STATES,
            'states = ["in_progress", "closed"]',
            "recurring[0].states",
            '"closed"]',
            "'report_lg_sg' cannot apply in the final state 'closed'",
        ),
        (
            'assignee = "area_head"\nstates',
            'assignee = "styrgrupp"\nstates',
            "recurring[0].assignee",
            'assignee = "styrgrupp"',
            "unknown role 'styrgrupp'",
        ),
        (
            'due = "05-15"',
            'due = "02-30"',
            "recurring[0].due",
            'due = "02-30"',
            "'02-30' is not a day that every year has",
        ),
        (
            'due = "05-15"',
            'due = "02-29"',
            "recurring[0].due",
            'due = "02-29"',
            "'02-29' is not a day that every year has",
        ),
        (
            'due = "05-15"',
            'due = "15 maj"',
            "recurring[0].due",
            'due = "15 maj"',
            "String should match pattern",
        ),
        (
            "raise_working_days_before = 20",
            "raise_working_days_before = -1",
            "recurring[0].raise_working_days_before",
            "raise_working_days_before = -1",
            "greater than or equal to 0",
        ),
        (
            "raise_working_days_before = 20",
            'raise_working_days_before = 20\nwhen = "maj"',
            "recurring[0].when",
            'when = "maj"',
            "unknown key; allowed here: key, title, assignee, of, states, due",
        ),
        (
            'key = "report_lg_sg"',
            'key = "Rapport LG"',
            "recurring[0].key",
            'key = "Rapport LG"',
            "String should match pattern",
        ),
    ],
    ids=[
        "unknown state",
        "final state",
        "unknown role",
        "day no month has",
        "29 February",
        "not MM-DD",
        "negative window",
        "unknown key",
        "bad key",
    ],
)
def test_a_broken_rule_names_file_line_and_key(
    tmp_path: Path, old: str, new: str, key: str, needle: str, message: str
) -> None:
    assert SHIPPED_TEXT.count(old) == 1, old
    text = SHIPPED_TEXT.replace(old, new)
    path = tmp_path / "vp_assignment.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    error = info.value
    assert (error.file, error.key) == (str(path), key)
    assert error.line == line_with(text, needle)
    assert message in str(error)
    assert exit_code(error) == 2


def test_a_rule_defined_twice(tmp_path: Path) -> None:
    rule = SHIPPED_TEXT[SHIPPED_TEXT.index("[[recurring]]") :]
    text = SHIPPED_TEXT + "\n" + rule
    path = tmp_path / "vp_assignment.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert info.value.key == "recurring[1].key"
    assert info.value.line == line_with(text, 'key = "report_lg_sg"', occurrence=2)
    assert "recurring step 'report_lg_sg' is defined twice" in str(info.value)
