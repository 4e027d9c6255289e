"""``[[recurring]]``: steps a workflow owes once every school year, declared in its definition.

The documents say follow-up of a plan assignment (VP-uppdrag) "is reported to LG and SG
at least once per school year". That is a rule of the process, so it is data: a
definition names the step, who owes it (by role relative to the instance, as a
``[[step]]`` does), the states in which the obligation runs, the day of the school year
it is due ("05-15") and how many working days before that day it appears. The service
layer (``services.recurring``) raises the step; this module only declares and checks.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date
from typing import Annotated

from pydantic import Field

from styrhjul.errors import DefinitionError
from styrhjul.tomlpos import PathPart
from styrhjul.validation import StrictModel
from styrhjul.vocabulary import ROLES

MONTH_DAY = r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
"""A day of the year as "MM-DD", placed in a school year by ``SchoolYear.date_for``."""


class RecurringSpec(StrictModel):
    """``[[recurring]]``: a step every school year, while an instance is in one of ``states``.

    The step ``<key>_<yyyy>`` (``yyyy`` the year the school year starts) is due on the
    month-day ``due`` of the current school year and appears
    ``raise_working_days_before`` working days before that day; it is raised once per
    school year and not at all when it was already done that year (for a plan assignment,
    a recorded follow-up report). ``assignee`` and ``of`` read as for ``[[step]]``.
    """

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=58)]
    title: str
    assignee: str
    of: str = "unit"
    states: Annotated[list[str], Field(min_length=1)]
    due: Annotated[str, Field(pattern=MONTH_DAY)]
    raise_working_days_before: Annotated[int, Field(ge=0, le=120)]
    required: bool = False
    """A required recurring step holds back transitions guarded by ``checklist_complete``."""

    @property
    def month_day(self) -> tuple[int, int]:
        month, day = (int(part) for part in self.due.split("-"))
        return month, day

    def step_key(self, start_year: int) -> str:
        """The key of this rule's step in the school year starting in ``start_year``."""
        return f"{self.key}_{start_year}"


def check_recurring(
    rules: Sequence[RecurringSpec],
    states: Sequence[str],
    final: Collection[str],
    fail: Callable[[tuple[PathPart, ...], str], DefinitionError],
) -> None:
    """Stop the load at a rule with an unknown role or state, or a day not every year has."""
    for i, rule in enumerate(rules):
        if rule.assignee not in ROLES:
            raise fail(
                ("recurring", i, "assignee"),
                f"unknown role {rule.assignee!r}; known roles: {', '.join(ROLES)}",
            )
        for state in rule.states:
            if state not in states:
                raise fail(
                    ("recurring", i, "states"),
                    f"unknown state {state!r}; states are: {', '.join(states)}",
                )
            if state in final:
                raise fail(
                    ("recurring", i, "states"),
                    f"{rule.key!r} cannot apply in the final state {state!r}: nothing more happens",
                )
        month, day = rule.month_day
        try:
            date(2001, month, day)  # a year without 29 February: the day must exist every year
        except ValueError:
            raise fail(
                ("recurring", i, "due"), f"{rule.due!r} is not a day that every year has"
            ) from None
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.key in seen:
            raise fail(("recurring", i, "key"), f"recurring step {rule.key!r} is defined twice")
        seen.add(rule.key)
