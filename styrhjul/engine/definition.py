"""Workflow definitions: the TOML schema, its loading, and the checks that run on load.

A definition declares states, transitions (trigger, sources, destination, guard names,
the roles that may fire it), checklist steps with due dates relative to the event, and
the schedule of its rounds. Every name is checked when the file is loaded: an unknown
state, guard or role, an unreachable state, a transition out of a final state or a step
due after the event it prepares stops the load with the file, line and key.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from styrhjul.engine.guards import GUARDS
from styrhjul.errors import DefinitionError
from styrhjul.tomlpos import PathPart
from styrhjul.validation import Source, StrictModel, read_toml, validate
from styrhjul.vocabulary import ROLES as PERSON_ROLES
from styrhjul.vocabulary import SYSTEM

ROLES = frozenset({*PERSON_ROLES, SYSTEM})
"""Roles a definition may name: every person's role, and ``system`` (Styrhjul itself)."""

NAME = r"^[a-z][a-z0-9_]*$"
STAY = "="
"""A destination of ``"="`` keeps the state (a reflexive transition such as postpone)."""


class WorkflowHeader(StrictModel):
    """``[workflow]``: identity and initial state."""

    name: Annotated[str, Field(pattern=NAME)]
    version: Annotated[int, Field(ge=1)]
    title: str
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


class TimingSpec(StrictModel):
    """``[timing]``: when preparation opens, reminders go out and steps escalate."""

    prepare_working_days_before: Annotated[int, Field(ge=1, le=120)]
    remind_working_days_before_due: Annotated[int, Field(ge=0, le=30)]
    escalate_working_days_after_due: Annotated[int, Field(ge=0, le=30)]


class StepSpec(StrictModel):
    """``[[step]]``: one checklist item, assigned by role relative to the instance."""

    key: Annotated[str, Field(pattern=NAME)]
    title: str
    assignee: str
    due_working_days_before: int
    required: bool = True


class RoundSpec(StrictModel):
    """``[[schedule.round]]``: a round and the month-day its window opens."""

    number: Annotated[int, Field(ge=1, le=12)]
    title: str
    window_start: Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class ScheduleSpec(StrictModel):
    """``[schedule]``: who meets whom, for how long, in which daily slots."""

    level: Annotated[str, Field(pattern=NAME)]
    host_role: str
    participant_role: str
    unit_kind: str
    duration_minutes: Annotated[int, Field(ge=15, le=480)]
    slots: Annotated[list[str], Field(min_length=1)]
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
    timing: TimingSpec
    step: list[StepSpec] = Field(default_factory=list)
    schedule: ScheduleSpec


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
    def final_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.spec.state if s.final)

    def state_title(self, name: str) -> str:
        return next((s.title for s in self.spec.state if s.name == name), name)

    def slot_times(self) -> list[time]:
        return [time.fromisoformat(s) for s in self.spec.schedule.slots]

    def round(self, number: int) -> RoundSpec | None:
        return next((r for r in self.spec.schedule.round if r.number == number), None)


def load_definition(path: Path) -> WorkflowDefinition:
    """Read, validate and check the definition at ``path``."""
    source, data = read_toml(path, DefinitionError)
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
    _check_steps(spec, fail)
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
        for role in tr.roles:
            if role not in ROLES:
                raise fail(
                    ("transition", i, "roles"),
                    f"unknown role {role!r}; known roles: {', '.join(sorted(ROLES))}",
                )


def _check_steps(spec: DefinitionFile, fail: Fail) -> None:
    opens = spec.timing.prepare_working_days_before
    for i, step in enumerate(spec.step):
        if step.assignee not in frozenset(PERSON_ROLES):
            raise fail(("step", i, "assignee"), f"unknown role {step.assignee!r}")
        if step.due_working_days_before < 0:
            raise fail(
                ("step", i, "due_working_days_before"),
                f"step {step.key!r} would be due after the event it prepares",
            )
        if step.due_working_days_before > opens:
            raise fail(
                ("step", i, "due_working_days_before"),
                f"step {step.key!r} would be due before preparation opens "
                f"({opens} working days before the event)",
            )
    keys = [s.key for s in spec.step]
    if (i := _first_duplicate(keys)) is not None:
        raise fail(("step", i, "key"), f"step {keys[i]!r} is defined twice")


def _check_schedule(spec: DefinitionFile, fail: Fail) -> None:
    schedule = spec.schedule
    for key in ("host_role", "participant_role"):
        role = getattr(schedule, key)
        if role not in frozenset(PERSON_ROLES):
            raise fail(("schedule", key), f"unknown role {role!r}")
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
