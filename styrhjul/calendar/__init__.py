"""Calendar arithmetic for the governance calendar: working days and school years.

Core layer: pure functions of their arguments, no I/O and no clock. The package is called
``styrhjul.calendar`` and is never run by path, so it does not shadow the standard library's
``calendar`` module.
"""

from styrhjul.calendar.schoolyear import SchoolYear
from styrhjul.calendar.workdays import Direction, WorkingCalendar, local_datetime

__all__ = ["Direction", "SchoolYear", "WorkingCalendar", "local_datetime"]
