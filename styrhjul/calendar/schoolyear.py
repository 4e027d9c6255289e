"""The school year (läsår), the unit the governance calendar repeats over.

A school year runs from 1 August to 31 July and is written "2026/27". A recurring date in a
workflow ("15 March") is a month and a day; :meth:`SchoolYear.date_for` places it in the
right calendar year: August to December in the first, January to July in the second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Self

from styrhjul.errors import InputError

__all__ = ["SchoolYear"]

_FIRST_MONTH = 8  # August
_LABEL = re.compile(r"([0-9]{4})/([0-9]{2}|[0-9]{4})")  # [0-9]: \d takes any Unicode digit
_EXPECTED = "expected a school year such as '2026/27' or '2026/2027'"
_MIN_YEAR = 1
_MAX_YEAR = 9998  # the school year must end in a year that ``date`` can represent


@dataclass(frozen=True, order=True)
class SchoolYear:
    """The school year that starts on 1 August of ``start_year``; ordered by that year."""

    start_year: int

    def __post_init__(self) -> None:
        if not _MIN_YEAR <= self.start_year <= _MAX_YEAR:
            raise ValueError(
                f"school year must start between {_MIN_YEAR} and {_MAX_YEAR}, not {self.start_year}"
            )

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read "2026/27" or "2026/2027" exactly; the second year must follow the first."""
        match = _LABEL.fullmatch(text)
        if match is None:
            raise InputError(f"{text!r} is not a school year: {_EXPECTED}")
        start = int(match.group(1))
        end_text = match.group(2)
        end = start + 1
        expected_end = f"{end % 100:02d}" if len(end_text) == 2 else f"{end:04d}"
        if end_text != expected_end:
            raise InputError(
                f"{text!r} is not a school year: the second year must follow the first"
                f" ({start}/{expected_end}); {_EXPECTED}"
            )
        try:
            return cls(start)
        except ValueError:
            raise InputError(f"{text!r} is outside the years a date can hold") from None

    @classmethod
    def of(cls, d: date) -> Self:
        """The school year of ``d``: its own year from August, the year before until July."""
        return cls(d.year if d.month >= _FIRST_MONTH else d.year - 1)

    @property
    def label(self) -> str:
        """The school year as written in Swedish documents, such as "2026/27"."""
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def starts(self) -> date:
        """1 August of ``start_year``."""
        return date(self.start_year, _FIRST_MONTH, 1)

    @property
    def ends(self) -> date:
        """31 July of the following year, the last day of the school year."""
        return date(self.start_year + 1, 7, 31)

    def date_for(self, month: int, day: int) -> date:
        """The date of ``day``/``month`` within this school year.

        August to December fall in ``start_year``, January to July in the year after. A day the
        month does not have (30 February, or 29 February outside a leap year) is an
        :class:`~styrhjul.errors.InputError` rather than a silent move to another day.
        """
        if not 1 <= month <= 12:
            raise InputError(f"month {month} does not exist; expected 1 to 12")
        year = self.start_year if month >= _FIRST_MONTH else self.start_year + 1
        try:
            return date(year, month, day)
        except ValueError:
            raise InputError(
                f"day {day} of month {month} is not a date in school year {self.label}"
                f" (the year {year})"
            ) from None

    def next(self) -> SchoolYear:
        """The school year after this one."""
        return SchoolYear(self.start_year + 1)

    def __str__(self) -> str:
        return self.label
