"""Workflow definitions: the TOML schema, its loading, and the checks that run on load.

A definition declares what kind of instance it drives (a dialog, a plan assignment, a
meeting, a process), its states, transitions (trigger, sources, destination, guard names,
the roles that may fire it and those that may override a refused guard with a reason),
checklist steps (assignee by role relative to the instance, due date relative to an
anchor), reminders and escalation, and for dialogs the schedule of their rounds.

Anchors: ``start`` is the instance's event (a dialog's or meeting's start, a process's
deadline), ``created`` the moment the instance was created, ``state:NAME`` the moment it
entered state NAME; a step anchored there is raised when the instance enters it.
``[[recurring]]`` steps come back every school year while an instance is in given states
(a plan assignment's yearly follow-up report to LG and SG).

Every name is checked when the file is loaded: an unknown state, guard, role or anchor,
an unreachable state, a transition out of a final state or a step due after the event it
prepares stops the load with the file, line and key.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, field_validator

from styrhjul.engine.guards import GUARDS
from styrhjul.engine.recurring import RecurringSpec, check_recurring
from styrhjul.errors import DefinitionError
from styrhjul.tomlpos import PathPart
from styrhjul.validation import Source, StrictModel, read_toml, validate
from styrhjul.vocabulary import HEAD_ROLE, INSTANCE_KINDS, SYSTEM, UNIT_KINDS
from styrhjul.vocabulary import ROLES as PERSON_ROLES

ROLES = frozenset({*PERSON_ROLES, SYSTEM})
"""Roles a definition may name: every person's role, and ``system`` (Styrhjul itself)."""

NAME = r"^[a-z][a-z0-9_]*$"
STAY = "="
"""A destination of ``"="`` keeps the state (a reflexive transition such as postpone)."""


def _real_day(value: str) -> str:
    month, day = (int(part) for part in value.split("-"))
    try:
        date(2000, month, day)  # a leap year: 02-29 is a day of some years
    except ValueError:
        raise ValueError(f"{value!r} is not a day of the year") from None
    return value


MonthDay = Annotated[
    str,
    Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"),
    AfterValidator(_real_day),
]
"""A day of the year as "MM-DD", how round windows are written."""
HEAD = "head"
"""As a schedule's participant role: whoever leads the unit, by its kind."""
START = "start"
CREATED = "created"
STATE_ANCHOR = "state:"
"""Anchors a step's due date may count from (see the module docstring)."""

InstanceKind = Literal["process", "dialog", "assignment", "meeting"]
assert set(get_args(InstanceKind)) == set(INSTANCE_KINDS)


class WorkflowHeader(StrictModel):
    """``[workflow]``: identity, the kind of instance it drives, and the initial state."""

    name: Annotated[str, Field(pattern=NAME)]
    version: Annotated[int, Field(ge=1)]
    title: str
    kind: InstanceKind
    initial: str


class StateSpec(StrictModel):
    """``[[state]]``."""

    name: Annotated[str, Field(pattern=NAME)]
    title: str
    final: bool = False


class TransitionSpec(StrictModel):
    """``[[transition]]``: who may move an instance from which states to which."""

    trigger: Annotated[str, Field(pattern=NAME)]
    title: str
    source: Annotated[list[str], Field(min_length=1)]
    dest: str
    conditions: list[str] = Field(default_factory=list)
    roles: Annotated[list[str], Field(min_length=1)]
    override_roles: list[str] = Field(default_factory=list)
    """Roles that may fire the transition although a condition refuses, giving a reason."""


class TimingSpec(StrictModel):
    """``[timing]``: when preparation opens, reminders go out and steps escalate.

    A step overdue by ``escalate_working_days_after_due`` working days is escalated to the
    assignee's superior; by ``escalate_again_working_days_after_due`` to the next level up.
    """

    prepare_working_days_before: Annotated[int, Field(ge=1, le=120)] | None = None
    remind_working_days_before_due: Annotated[int, Field(ge=0, le=30)] = 2
    escalate_working_days_after_due: Annotated[int, Field(ge=0, le=30)] = 2
    escalate_again_working_days_after_due: Annotated[int, Field(ge=1, le=60)] | None = None


class StepSpec(StrictModel):
    """``[[step]]``: one checklist item, assigned by role relative to the instance.

    ``of`` says whose role: ``unit`` (the instance's unit, or the nearest unit above it
    with a holder, so "area_head" of a school is the head of its area) or the code of a
    unit (``lg`` for "the secretary of LG"). The due date counts working days before or
    after the ``anchor``; exactly one of the two offsets is given.
    """

    key: Annotated[str, Field(pattern=NAME)]
    title: str
    assignee: str
    of: str = "unit"
    anchor: str = START
    due_working_days_before: int | None = None
    due_working_days_after: int | None = None
    required: bool = True

    @property
    def offset(self) -> int:
        """Working days from the anchor to the due date (negative: before it)."""
        if self.due_working_days_before is not None:
            return -self.due_working_days_before
        return self.due_working_days_after or 0

    @property
    def raised_in(self) -> str | None:
        """The state whose entry raises this step, or None when it comes with the instance."""
        return (
            self.anchor.removeprefix(STATE_ANCHOR) if self.anchor.startswith(STATE_ANCHOR) else None
        )


class RoundSpec(StrictModel):
    """``[[schedule.round]]``: a round and the month-day its window opens."""

    number: Annotated[int, Field(ge=1, le=12)]
    title: str
    window_start: MonthDay


class ScheduleSpec(StrictModel):
    """``[schedule]``: who meets whom, for how long, in which daily slots.

    One dialog per unit of the ``unit_kinds``; the organiser holds ``host_role`` in the unit
    or above it, the participant ``participant_role`` in the unit itself (``head``: the
    role that leads a unit of its kind, so areas meet their area head and departments
    their department head). ``chain_after`` names the level whose round of the same
    number must be compiled before this level's round may open its preparation (the
    dialogs "hook into each other": information goes up, steering comes down).
    """

    level: Annotated[str, Field(pattern=NAME)]
    host_role: str
    participant_role: str
    unit_kinds: Annotated[list[str], Field(min_length=1)]
    duration_minutes: Annotated[int, Field(ge=15, le=480)]
    slots: Annotated[list[str], Field(min_length=1)]
    chain_after: Annotated[str, Field(pattern=NAME)] | None = None
    round: Annotated[list[RoundSpec], Field(min_length=1)]

    @field_validator("slots")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        for slot in value:
            if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", slot):
                raise ValueError(f"slot {slot!r} is not a time of day HH:MM")
        return value


class DefinitionFile(StrictModel):
    """The whole file."""

    workflow: WorkflowHeader
    state: Annotated[list[StateSpec], Field(min_length=1)]
    transition: Annotated[list[TransitionSpec], Field(min_length=1)]
    timing: TimingSpec = Field(default_factory=TimingSpec)
    step: list[StepSpec] = Field(default_factory=list)
    recurring: list[RecurringSpec] = Field(default_factory=list)
    schedule: ScheduleSpec | None = None


@dataclass(frozen=True)
class WorkflowDefinition:
    """A loaded, checked definition and where it came from."""

    spec: DefinitionFile
    source: Source

    @property
    def name(self) -> str:
        return self.spec.workflow.name

    @property
    def version(self) -> int:
        return self.spec.workflow.version

    @property
    def kind(self) -> str:
        return self.spec.workflow.kind

    @property
    def schedule(self) -> ScheduleSpec:
        """The dialog schedule (checked on load to exist for every dialog workflow)."""
        assert self.spec.schedule is not None, f"{self.name} has no [schedule]"
        return self.spec.schedule

    @property
    def prepare_working_days(self) -> int:
        days = self.spec.timing.prepare_working_days_before
        assert days is not None, f"{self.name} has no [timing] prepare_working_days_before"
        return days

    @property
    def recurring(self) -> list[RecurringSpec]:
        """The ``[[recurring]]`` rules: steps raised once per school year (see RecurringSpec)."""
        return list(self.spec.recurring)

    def steps_raised_in(self, state: str | None) -> list[StepSpec]:
        """The steps created with the instance (``None``) or on entering ``state``."""
        return [s for s in self.spec.step if s.raised_in == state]

    def transition(self, trigger: str, state: str) -> TransitionSpec | None:
        return next(
            (t for t in self.spec.transition if t.trigger == trigger and state in t.source), None
        )

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.spec.state if s.final)

    def state_title(self, name: str) -> str:
        return next((s.title for s in self.spec.state if s.name == name), name)

    def participant_role(self, unit_kind: str) -> str:
        """The role a dialog's participant holds in a unit of ``unit_kind``."""
        role = self.schedule.participant_role
        return HEAD_ROLE[unit_kind] if role == HEAD else role

    def slot_times(self) -> list[time]:
        return [time.fromisoformat(s) for s in self.schedule.slots]

    def round(self, number: int) -> RoundSpec | None:
        return next((r for r in self.schedule.round if r.number == number), None)


def load_definition(path: Path, text: str | None = None) -> WorkflowDefinition:
    """Read, validate and check the definition at ``path`` (or ``text``, as if read there)."""
    source, data = read_toml(path, DefinitionError, text=text)
    spec = validate(source, data, DefinitionFile, DefinitionError)
    _check(spec, source)
    return WorkflowDefinition(spec, source)


Fail = Callable[[tuple[PathPart, ...], str], DefinitionError]


def _check(spec: DefinitionFile, source: Source) -> None:
    def fail(key: tuple[PathPart, ...], message: str) -> DefinitionError:
        error = source.error(DefinitionError, key, message)
        assert isinstance(error, DefinitionError)
        return error

    _check_states(spec, fail)
    _check_transitions(spec, fail)
    _check_reachable(spec, fail)
    _check_timing(spec, fail)
    _check_steps(spec, fail)
    check_recurring(
        spec.recurring, [s.name for s in spec.state], {s.name for s in spec.state if s.final}, fail
    )
    _check_schedule(spec, fail)


def _first_duplicate(values: list[str] | list[int]) -> int | None:
    seen: set[object] = set()
    for i, value in enumerate(values):
        if value in seen:
            return i
        seen.add(value)
    return None


def _check_states(spec: DefinitionFile, fail: Fail) -> None:
    names = [s.name for s in spec.state]
    if (i := _first_duplicate(names)) is not None:
        raise fail(("state", i, "name"), f"state {names[i]!r} is defined twice")
    if spec.workflow.initial not in names:
        raise fail(
            ("workflow", "initial"),
            f"unknown state {spec.workflow.initial!r}; states are: {', '.join(names)}",
        )


def _check_transitions(spec: DefinitionFile, fail: Fail) -> None:
    names = [s.name for s in spec.state]
    listed = ", ".join(names)
    final = {s.name for s in spec.state if s.final}
    for i, tr in enumerate(spec.transition):
        for src in tr.source:
            if src not in names:
                raise fail(
                    ("transition", i, "source"), f"unknown state {src!r}; states are: {listed}"
                )
            if src in final:
                raise fail(
                    ("transition", i, "source"),
                    f"'{tr.trigger}' leaves the final state {src!r}; a final state has no way out",
                )
        if tr.dest != STAY and tr.dest not in names:
            raise fail(
                ("transition", i, "dest"), f"unknown state {tr.dest!r}; states are: {listed}"
            )
        for name in tr.conditions:
            if name not in GUARDS:
                raise fail(
                    ("transition", i, "conditions"),
                    f"unknown guard {name!r}; known guards: {', '.join(sorted(GUARDS))}",
                )
        for key in ("roles", "override_roles"):
            for role in getattr(tr, key):
                if role not in ROLES:
                    raise fail(
                        ("transition", i, key),
                        f"unknown role {role!r}; known roles: {', '.join(sorted(ROLES))}",
                    )
        if tr.override_roles and not tr.conditions:
            raise fail(
                ("transition", i, "override_roles"),
                f"'{tr.trigger}' has no conditions, so there is nothing to override",
            )


def _check_timing(spec: DefinitionFile, fail: Fail) -> None:
    timing = spec.timing
    again = timing.escalate_again_working_days_after_due
    if again is not None and again <= timing.escalate_working_days_after_due:
        raise fail(
            ("timing", "escalate_again_working_days_after_due"),
            f"the second escalation ({again} working days after due) must come after the first "
            f"({timing.escalate_working_days_after_due})",
        )


def _check_steps(spec: DefinitionFile, fail: Fail) -> None:
    opens = spec.timing.prepare_working_days_before
    states = {s.name for s in spec.state}
    for i, step in enumerate(spec.step):
        if step.assignee not in frozenset(PERSON_ROLES):
            raise fail(
                ("step", i, "assignee"),
                f"unknown role {step.assignee!r}; known roles: {', '.join(PERSON_ROLES)}",
            )
        _check_anchor(step, i, states, fail)
        if (step.due_working_days_before is None) == (step.due_working_days_after is None):
            raise fail(
                ("step", i, "key"),
                f"step {step.key!r} needs exactly one of due_working_days_before and "
                "due_working_days_after",
            )
        if step.anchor == START and step.offset > 0:
            key = (
                "due_working_days_after"
                if step.due_working_days_after
                else "due_working_days_before"
            )
            raise fail(
                ("step", i, key), f"step {step.key!r} would be due after the event it prepares"
            )
        if step.anchor == START and opens is not None and -step.offset > opens:
            raise fail(
                ("step", i, "due_working_days_before"),
                f"step {step.key!r} would be due before preparation opens "
                f"({opens} working days before the event)",
            )
        if step.anchor != START and step.offset < 0:
            raise fail(
                ("step", i, "due_working_days_before"),
                f"step {step.key!r} would be due before its anchor {step.anchor!r} happens",
            )
    keys = [s.key for s in spec.step]
    if (dup := _first_duplicate(keys)) is not None:
        raise fail(("step", dup, "key"), f"step {keys[dup]!r} is defined twice")


def _check_anchor(step: StepSpec, i: int, states: set[str], fail: Fail) -> None:
    state = step.raised_in
    if step.anchor in (START, CREATED) or (state is not None and state in states):
        return
    raise fail(
        ("step", i, "anchor"),
        f"unknown anchor {step.anchor!r}; anchors are {START!r}, {CREATED!r} and "
        f"'{STATE_ANCHOR}NAME' for a state: {', '.join(sorted(states))}",
    )


def _check_schedule(spec: DefinitionFile, fail: Fail) -> None:
    schedule = spec.schedule
    if spec.workflow.kind != "dialog":
        if schedule is not None:
            raise fail(("schedule",), "only a dialog workflow has a [schedule] of rounds")
        return
    if schedule is None:
        raise fail(("workflow", "kind"), "a dialog workflow needs a [schedule] of its rounds")
    if spec.timing.prepare_working_days_before is None:
        raise fail(("timing",), "a dialog workflow needs timing.prepare_working_days_before")
    for key in ("host_role", "participant_role"):
        role = getattr(schedule, key)
        allowed = frozenset(PERSON_ROLES) | ({HEAD} if key == "participant_role" else set())
        if role not in allowed:
            raise fail(("schedule", key), f"unknown role {role!r}")
    for kind in schedule.unit_kinds:
        if kind not in UNIT_KINDS:
            raise fail(
                ("schedule", "unit_kinds"),
                f"unknown unit kind {kind!r}; kinds are: {', '.join(UNIT_KINDS)}",
            )
    if schedule.chain_after == schedule.level:
        raise fail(("schedule", "chain_after"), "a level cannot wait for its own rounds")
    numbers = [r.number for r in schedule.round]
    if (i := _first_duplicate(numbers)) is not None:
        raise fail(("schedule", "round", i, "number"), f"round {numbers[i]} is defined twice")


def _check_reachable(spec: DefinitionFile, fail: Fail) -> None:
    edges: dict[str, set[str]] = {}
    for tr in spec.transition:
        for src in tr.source:
            edges.setdefault(src, set()).add(src if tr.dest == STAY else tr.dest)
    seen = {spec.workflow.initial}
    queue = deque(seen)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    for i, state in enumerate(spec.state):
        if state.name not in seen:
            raise fail(
                ("state", i, "name"),
                f"state {state.name!r} cannot be reached from {spec.workflow.initial!r}",
            )
