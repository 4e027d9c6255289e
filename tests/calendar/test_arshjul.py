"""Loading the årshjul file: every mistake names its file, line and key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from styrhjul.calendar import WorkingCalendar
from styrhjul.calendar.arshjul import load_arshjul
from styrhjul.calendar.rules import Anchored, NthWeekday, Term, Weekly, Window
from styrhjul.errors import DefinitionError

EXAMPLE = Path(__file__).parents[2] / "styrhjul" / "examples" / "arshjul.toml"

HEAD = """
[arshjul]
title = "Test"
unit = "sff"

[[ring]]
key = "ledning"
title = "Ledning"
"""


def load(text: str) -> object:
    return load_arshjul(Path("arshjul.toml"), text=HEAD + text)


def error_of(text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as raised:
        load(text)
    return raised.value


def line_of(text: str, needle: str) -> int:
    full = HEAD + text
    return next(i for i, line in enumerate(full.splitlines(), start=1) if needle in line)


def test_the_example_loads_and_resolves_many_years() -> None:
    arshjul = load_arshjul(EXAMPLE)
    calendar = WorkingCalendar()
    for year in range(2020, 2041):
        occurrences = arshjul.resolve(year, calendar)
        rules = {o.rule_id for o in occurrences}
        assert {e.id for e in arshjul.events} == rules, year
    specs = {e.id: e for e in arshjul.events}
    assert specs["vp_joint_check"].rule.when == NthWeekday(5, 1, 3)
    assert specs["vp_lg_check"].rule.when == NthWeekday(5, 1, -1)
    assert specs["vp_proposals"].rule.when == Anchored("vp_joint_check", -8)
    assert isinstance(specs["lg_spring"].rule.when, Weekly)
    assert isinstance(specs["area_rektor_r1"].rule.when, Term)
    assert isinstance(specs["vp_done"].rule.when, Window)
    assert specs["area_rektor_r1"].dialog_level == "area_rektor"
    assert specs["quality_full"].for_each == "unit"


def test_school_holidays_by_week_and_dated_exceptions() -> None:
    arshjul = load(
        '[[school_holiday]]\nname = "Sportlov"\nweek = 9\n\n'
        '[[school_holiday]]\nname = "Sportlov"\nfirst = 2027-02-22\nlast = 2027-02-26\n\n'
        '[[event]]\nid = "a"\ntitle = "A"\nring = "ledning"\nwhen = { on = "03-01" }\n'
        'move = "later"\navoid_school_holidays = true\n'
    )
    assert isinstance(arshjul, type(load_arshjul(EXAMPLE)))
    assert arshjul.school_holidays(2026)[date(2026, 2, 23)] == "Sportlov"  # week 9 of 2026
    days_2027 = arshjul.school_holidays(2027)
    assert date(2027, 2, 22) in days_2027  # the dated exception (week 8) ...
    assert date(2027, 3, 1) not in days_2027  # ... replaces week 9 that year


@pytest.mark.parametrize(
    ("event", "needle", "message"),
    [
        (
            'id = "a"\ntitle = "A"\nring = "ledningen"\nwhen = { on = "03-01" }\nmove = "later"',
            "ring =",
            "unknown ring 'ledningen' (did you mean 'ledning'?)",
        ),
        (
            'id = "a"\ntitle = "A"\nring = "ledning"\nwhen = { on = "02-30" }\nmove = "later"',
            "when =",
            "'02-30' is not a day of the year",
        ),
        (
            'id = "a"\ntitle = "A"\nring = "ledning"\nwhen = { nth = 2, month = 5 }\n'
            'move = "later"',
            "when =",
            "a 'nth' date also needs: weekday",
        ),
        (
            'id = "a"\ntitle = "A"\nring = "ledning"\nwhen = { on = "03-01", week = 3 }\n'
            'move = "later"',
            "when =",
            "week does not belong to a 'on' date",
        ),
        (
            'id = "a"\ntitle = "A"\nring = "ledning"\nwhen = { last = "fredagen", month = 5 }\n'
            'move = "later"',
            "when =",
            "unknown weekday 'fredagen'",
        ),
        (
            'id = "a"\ntitle = "A"\nring = "ledning"\nwhen = { on = "03-01" }\nmove = "later"\n'
            'at = "13:00"',
            "at =",
            "a timed event needs its length in minutes",
        ),
        (
            'id = "a"\ntitle = "A"\nring = "ledning"\nwhen = { on = "03-01" }\nmove = "later"\n'
            'workflow = "budget_cycle"\nmeeting = "lg"',
            "meeting =",
            "not both workflow and meeting",
        ),
        (
            'id = "a"\ntitle = "A"\nring = "ledning"\nwhen = { on = "03-01" }\nmove = "sooner"',
            "move =",
            "'earlier', 'later' or 'skip'",
        ),
        (
            'id = "a"\ntitle = "A"\nring = "ledning"\nwhen = { after = "b", working_days = 2 }\n'
            'move = "later"',
            "when =",
            "'b'",
        ),
    ],
)
def test_a_bad_event_names_line_and_key(event: str, needle: str, message: str) -> None:
    text = f"\n[[event]]\n{event}\n"
    error = error_of(text)
    assert message in str(error)
    assert error.file == "arshjul.toml"
    assert error.line == line_of(text, needle), str(error)


def test_an_anchor_loop_is_named_with_its_line() -> None:
    text = (
        '\n[[event]]\nid = "a"\ntitle = "A"\nring = "ledning"\n'
        'when = { after = "b", working_days = 2 }\nmove = "later"\n'
        '\n[[event]]\nid = "b"\ntitle = "B"\nring = "ledning"\n'
        'when = { before = "a", working_days = 1 }\nmove = "later"\n'
    )
    error = error_of(text)
    assert "a -> b -> a" in str(error) or "b -> a -> b" in str(error)
    assert error.line in {line_of(text, 'after = "b"'), line_of(text, 'before = "a"')}


def test_an_empty_window_is_named_with_its_line_and_year() -> None:
    text = (
        '\n[[school_holiday]]\nname = "Höstlov"\nfirst = 2026-11-02\nlast = 2026-11-10\n'
        '\n[[event]]\nid = "a"\ntitle = "A"\nring = "ledning"\n'
        'when = { month = 11, part = "early", weekday = "måndag" }\nmove = "later"\n'
        "avoid_school_holidays = true\n"
    )
    arshjul = load(text)
    arshjul.resolve(2027, WorkingCalendar())  # Mondays 1 and 8 Nov 2027 are free
    with pytest.raises(DefinitionError) as raised:
        arshjul.resolve(2026, WorkingCalendar())  # Mondays 2 and 9 Nov 2026 are in the holiday
    assert "empty window" in str(raised.value)
    assert "2026" in str(raised.value)
    assert raised.value.line == line_of(text, "when = { month = 11")


def test_an_unknown_holiday_ring_names_its_line() -> None:
    text = HEAD.replace('unit = "sff"', 'unit = "sff"\nholiday_ring = "lov"') + (
        '\n[[event]]\nid = "a"\ntitle = "A"\nring = "ledning"\nwhen = { on = "03-01" }\n'
        'move = "later"\n'
    )
    with pytest.raises(DefinitionError) as raised:
        load_arshjul(Path("arshjul.toml"), text=text)
    assert "unknown ring 'lov'" in str(raised.value)
    assert raised.value.line == 5
    assert raised.value.key == "arshjul.holiday_ring"
    assert load_arshjul(EXAMPLE).holiday_ring == "lasar"
