"""Checks of date rules that do not depend on the year: fields, ids, anchors and loops.

:func:`validate_rules` is called by :func:`~styrhjul.calendar.rules.resolve_year` and can be
called by a loader as soon as the rules are built, so that a wrong rule is reported when the
file is read rather than when some year is planned. Every error names the rule, the field
and the value. What only shows in a particular year (29 February, week 53, a fifth Tuesday,
an empty window) is checked when that year is resolved.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import get_args

from styrhjul.calendar.ruletypes import (
    Anchored,
    Fixed,
    IsoWeek,
    Move,
    NthWeekday,
    Part,
    Rule,
    RuleError,
    Term,
    Weekly,
    When,
    Window,
    term_rule_id,
)

__all__ = ["depends_on", "validate_rules"]

_LEAP_YEAR = 2000  # a year in which every month/day that ever exists does
_WEEKDAY_RANGE = "0 (Monday) to 6 (Sunday)"
_PARTS = "'early' (days 1-10), 'mid' (11-20) or 'late' (21 to the end of the month)"


def depends_on(rule: Rule) -> str | None:
    """The id of the rule whose day ``rule`` is computed from, if any."""
    if isinstance(rule.when, Anchored):
        return rule.when.anchor
    if isinstance(rule.when, Term):
        return term_rule_id(rule.when.edge)
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_field(rule: Rule, field: str, value: object, low: int, high: int, expected: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuleError(f"{field} is {value!r}; expected {expected}", rule_id=rule.id, field=field)


def _month(rule: Rule, field: str, value: object) -> None:
    _int_field(rule, field, value, 1, 12, "a month 1 to 12")


def _weekday(rule: Rule, field: str, value: object, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    _int_field(rule, field, value, 0, 6, f"a weekday {_WEEKDAY_RANGE}")


def _fixed(rule: Rule, field: str, fixed: object) -> None:
    if not isinstance(fixed, Fixed):
        raise RuleError(
            f"{field} is {fixed!r}; expected a month and a day (Fixed)",
            rule_id=rule.id,
            field=field,
        )
    _month(rule, f"{field}.month", fixed.month)
    _int_field(rule, f"{field}.day", fixed.day, 1, 31, "a day of the month 1 to 31")
    try:
        date(_LEAP_YEAR, fixed.month, fixed.day)
    except ValueError:
        raise RuleError(
            f"{field} is {fixed.month:02d}-{fixed.day:02d}; month {fixed.month} has no day"
            f" {fixed.day}",
            rule_id=rule.id,
            field=field,
        ) from None


def _check_when(rule: Rule, when: When) -> None:  # noqa: PLR0912 - one branch per pattern
    if isinstance(when, Fixed):
        _fixed(rule, "when", when)
    elif isinstance(when, NthWeekday):
        _month(rule, "when.month", when.month)
        _weekday(rule, "when.weekday", when.weekday)
        if not _is_int(when.n) or when.n not in {1, 2, 3, 4, 5, -1}:
            raise RuleError(
                f"when.n is {when.n!r}; expected 1 to 5, or -1 for the last",
                rule_id=rule.id,
                field="when.n",
            )
    elif isinstance(when, IsoWeek):
        _int_field(rule, "when.week", when.week, 1, 53, "an ISO week 1 to 53")
        _weekday(rule, "when.weekday", when.weekday)
    elif isinstance(when, Window):
        _month(rule, "when.month", when.month)
        if when.part not in get_args(Part):
            raise RuleError(
                f"when.part is {when.part!r}; expected {_PARTS}", rule_id=rule.id, field="when.part"
            )
        _weekday(rule, "when.weekday", when.weekday, optional=True)
    elif isinstance(when, Anchored):
        if not isinstance(when.anchor, str) or not when.anchor:
            raise RuleError(
                f"when.anchor is {when.anchor!r}; expected the id of another rule",
                rule_id=rule.id,
                field="when.anchor",
            )
        _int_field(rule, "when.working_days", when.working_days, -366, 366, "-366 to 366")
    elif isinstance(when, Weekly):
        _weekday(rule, "when.weekday", when.weekday)
        _fixed(rule, "when.first", when.first)
        _fixed(rule, "when.last", when.last)
        _int_field(rule, "when.every", when.every, 1, 52, "1 to 52 (weeks between meetings)")
        if (when.first.month, when.first.day) > (when.last.month, when.last.day):
            raise RuleError(
                f"when.first ({when.first.month:02d}-{when.first.day:02d}) is after when.last"
                f" ({when.last.month:02d}-{when.last.day:02d}): a series that wraps around"
                " New Year is not supported; write it as two rules",
                rule_id=rule.id,
                field="when.first",
            )
    elif isinstance(when, Term):
        if not isinstance(when.edge, str) or not when.edge:
            raise RuleError(
                f"when.edge is {when.edge!r}; expected a term edge such as 'autumn_start'",
                rule_id=rule.id,
                field="when.edge",
            )
        _int_field(rule, "when.weeks", when.weeks, -53, 53, "-53 to 53")
        _weekday(rule, "when.weekday", when.weekday, optional=True)
    else:
        raise RuleError(
            f"when is {when!r}; expected Fixed, NthWeekday, IsoWeek, Window, Anchored, Weekly"
            " or Term",
            rule_id=rule.id,
            field="when",
        )


def _check_rule(rule: Rule) -> None:
    if not isinstance(rule.id, str) or not rule.id.strip():
        raise RuleError(f"id is {rule.id!r}; expected a non-empty text", rule_id=None, field="id")
    _check_when(rule, rule.when)
    if rule.at is not None and (not isinstance(rule.at, time) or rule.at.tzinfo is not None):
        raise RuleError(
            f"at is {rule.at!r}; expected a wall-clock time without a zone, such as 09:00",
            rule_id=rule.id,
            field="at",
        )
    _int_field(rule, "minutes", rule.minutes, 0, 7 * 24 * 60, "0 to 10080 (a week)")
    _int_field(rule, "days", rule.days, 1, 366, "1 to 366")
    if rule.at is None and rule.minutes:
        raise RuleError(
            f"minutes is {rule.minutes} but at is not set: an all-day event has no duration"
            " in minutes; set at, or use days",
            rule_id=rule.id,
            field="minutes",
        )
    if rule.at is not None and rule.days != 1:
        raise RuleError(
            f"days is {rule.days} but at is {rule.at:%H:%M}: days is the length of an all-day"
            " event; a timed event lasts minutes",
            rule_id=rule.id,
            field="days",
        )
    if rule.move not in get_args(Move):
        raise RuleError(
            f"move is {rule.move!r}; expected 'earlier', 'later' or 'skip'",
            rule_id=rule.id,
            field="move",
        )
    if not isinstance(rule.avoid_school_holidays, bool):
        raise RuleError(
            f"avoid_school_holidays is {rule.avoid_school_holidays!r}; expected true or false",
            rule_id=rule.id,
            field="avoid_school_holidays",
        )


def _check_reference(rule: Rule, by_id: Mapping[str, Rule]) -> None:
    target = depends_on(rule)
    if target is None:
        return
    if target not in by_id:
        if isinstance(rule.when, Term):
            edges = sorted(i.removeprefix("term:") for i in by_id if i.startswith("term:"))
            defined = ", ".join(edges) if edges else "none"
            raise RuleError(
                f"when.edge is {rule.when.edge!r} but no rule has the id {target!r};"
                f" defined term edges: {defined}",
                rule_id=rule.id,
                field="when.edge",
            )
        close = difflib.get_close_matches(target, list(by_id), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise RuleError(
            f"when.anchor is {target!r}, which is not the id of any rule{hint}",
            rule_id=rule.id,
            field="when.anchor",
        )
    if isinstance(by_id[target].when, Weekly):
        field = "when.edge" if isinstance(rule.when, Term) else "when.anchor"
        raise RuleError(
            f"{field} points at {target!r}, a weekly series: it has many days, so the anchor"
            " is ambiguous; anchor on a single rule",
            rule_id=rule.id,
            field=field,
        )


def _check_loops(rules: Sequence[Rule], by_id: Mapping[str, Rule]) -> None:
    """Each rule depends on at most one other, so a loop is found by walking the chain."""
    done: set[str] = set()
    for rule in rules:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = rule.id
        while node is not None and node not in done:
            if node in on_path:
                loop = [*path[path.index(node) :], node]
                raise RuleError(
                    f"anchors form a loop: {' -> '.join(loop)}",
                    rule_id=node,
                    field="when.anchor",
                )
            path.append(node)
            on_path.add(node)
            node = depends_on(by_id[node])
        done.update(path)


def validate_rules(rules: Sequence[Rule]) -> None:
    """Raise :class:`RuleError` for the first wrong rule: a field, a duplicate id, an anchor.

    Checks every field's type and range, that ids are unique, that every anchor and term edge
    names a rule that is not a weekly series, and that anchors form no loop.
    """
    by_id: dict[str, Rule] = {}
    for rule in rules:
        _check_rule(rule)
        if rule.id in by_id:
            raise RuleError(
                f"id {rule.id!r} is used by more than one rule; ids must be unique",
                rule_id=rule.id,
                field="id",
            )
        by_id[rule.id] = rule
    for rule in rules:
        _check_reference(rule, by_id)
    _check_loops(rules, by_id)
