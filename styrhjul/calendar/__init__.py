"""Calendar arithmetic for the governance calendar: working days, school years, date rules.

Core layer: pure functions of their arguments, no I/O and no clock. The package is called
``styrhjul.calendar`` and is never run by path, so it does not shadow the standard library's
``calendar`` module.
"""

from styrhjul.calendar.rules import (
    WEEKDAYS,
    Anchored,
    Fixed,
    IsoWeek,
    Move,
    NthWeekday,
    Occurrence,
    Part,
    Rule,
    RuleError,
    Term,
    Weekday,
    Weekly,
    When,
    Window,
    resolve_year,
    school_holiday_days,
    validate_rules,
)
from styrhjul.calendar.schoolyear import SchoolYear
from styrhjul.calendar.workdays import Direction, WorkingCalendar, local_datetime

__all__ = [
    "WEEKDAYS",
    "Anchored",
    "Direction",
    "Fixed",
    "IsoWeek",
    "Move",
    "NthWeekday",
    "Occurrence",
    "Part",
    "Rule",
    "RuleError",
    "SchoolYear",
    "Term",
    "Weekday",
    "Weekly",
    "When",
    "Window",
    "WorkingCalendar",
    "local_datetime",
    "resolve_year",
    "school_holiday_days",
    "validate_rules",
]
