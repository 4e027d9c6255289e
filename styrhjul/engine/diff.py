"""What changed between two versions of a workflow definition.

A running instance keeps the definition version it started with, so whoever raises
``workflow.version`` must be able to see what the new version changes for the instances
that will start on it: states, transitions, who may fire them, timing, checklist steps
and the dialog schedule. :func:`diff_definitions` compares two loaded definitions and
returns one :class:`Change` per difference, each with a line a person can read (English,
with the Swedish titles quoted). It is pure: it reads no file and no database.

Items are matched by their natural key: a state by name, a transition by trigger (the
n-th transition with a trigger matches the n-th in the other version), a step by key, a
round by number. A renamed item therefore shows as one removed and one added.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from styrhjul.engine.definition import (
    DefinitionFile,
    RoundSpec,
    ScheduleSpec,
    StateSpec,
    StepSpec,
    TimingSpec,
    TransitionSpec,
    WorkflowDefinition,
    WorkflowHeader,
)

Value = str | int | bool | list[str] | None
Action = Literal["added", "removed", "changed"]


def _fields_of(model: type[BaseModel], *identity: str) -> tuple[str, ...]:
    """The fields compared one by one: all but those that identify the item."""
    return tuple(name for name in model.model_fields if name not in identity)


HEADER_FIELDS = _fields_of(WorkflowHeader)
TRANSITION_FIELDS = _fields_of(TransitionSpec, "trigger")
TIMING_FIELDS = _fields_of(TimingSpec)
STEP_FIELDS = _fields_of(StepSpec, "key")
SCHEDULE_FIELDS = _fields_of(ScheduleSpec, "round")
ROUND_FIELDS = _fields_of(RoundSpec, "number")
KNOWN_SECTIONS = frozenset({"workflow", "state", "transition", "timing", "step", "schedule"})


@dataclass(frozen=True)
class Change:
    """One difference between two definition versions.

    ``section`` is the part of the file (workflow, state, transition, timing, step,
    schedule, round); ``item`` names the state, trigger, step key or round number
    ("" for the single tables); ``field`` is "" when the whole item was added or removed.
    """

    section: str
    action: Action
    item: str
    field: str
    old: Value
    new: Value
    line: str


def diff_definitions(old: WorkflowDefinition, new: WorkflowDefinition) -> list[Change]:
    """Every change from ``old`` to ``new``.

    In file order: header, states, transitions, timing, steps, schedule, rounds, then any
    further section.
    """
    a, b = old.spec, new.spec
    changes = _fields("workflow", "", a.workflow, b.workflow, HEADER_FIELDS)
    changes += _states(a.state, b.state)
    changes += _transitions(a.transition, b.transition)
    changes += _fields("timing", "", a.timing, b.timing, TIMING_FIELDS)
    changes += _steps(a.step, b.step)
    changes += _schedule(a.schedule, b.schedule)
    for section in _fields_of(DefinitionFile, *KNOWN_SECTIONS):
        changes += _section(section, getattr(a, section), getattr(b, section))
    return changes


# --- one kind of item each -----------------------------------------------------------------


def _states(old: list[StateSpec], new: list[StateSpec]) -> list[Change]:
    changes: list[Change] = []
    before = {s.name: s for s in old}
    after = {s.name: s for s in new}
    for name, state in before.items():
        if name not in after:
            changes.append(_whole("state", "removed", name, f"{_final(state)}{_q(state.title)}"))
    for name, state in after.items():
        if name not in before:
            changes.append(_whole("state", "added", name, f"{_final(state)}{_q(state.title)}"))
            continue
        was = before[name]
        if was.title != state.title:
            changes.append(
                Change(
                    "state",
                    "changed",
                    name,
                    "title",
                    was.title,
                    state.title,
                    f"state {name} retitled: {_q(was.title)} → {_q(state.title)}",
                )
            )
        if was.final != state.final:
            now = "is now final" if state.final else "is no longer final"
            changes.append(
                Change(
                    "state", "changed", name, "final", was.final, state.final, f"state {name} {now}"
                )
            )
    return changes


def _transitions(old: list[TransitionSpec], new: list[TransitionSpec]) -> list[Change]:
    changes: list[Change] = []
    before, after = _by_trigger(old), _by_trigger(new)
    for label, tr in before.items():
        if label not in after:
            changes.append(_whole("transition", "removed", label, _transition_text(tr)))
    for label, tr in after.items():
        if label not in before:
            changes.append(_whole("transition", "added", label, _transition_text(tr)))
        else:
            changes += _fields("transition", label, before[label], tr, TRANSITION_FIELDS)
    return changes


def _steps(old: list[StepSpec], new: list[StepSpec]) -> list[Change]:
    changes: list[Change] = []
    before = {s.key: s for s in old}
    after = {s.key: s for s in new}
    for key, step in before.items():
        if key not in after:
            changes.append(_whole("step", "removed", key, _step_text(step)))
    for key, step in after.items():
        if key not in before:
            changes.append(_whole("step", "added", key, _step_text(step)))
        else:
            changes += _fields("step", key, before[key], step, STEP_FIELDS)
    return changes


def _schedule(old: ScheduleSpec | None, new: ScheduleSpec | None) -> list[Change]:
    if old is None and new is None:
        return []
    if old is None or new is None:
        action: Action = "added" if old is None else "removed"
        schedule = new or old
        assert schedule is not None
        rounds = ", ".join(str(r.number) for r in schedule.round)
        return [_whole("schedule", action, "", f"level {schedule.level}, rounds {rounds}")]
    changes = _fields("schedule", "", old, new, SCHEDULE_FIELDS)
    before = {r.number: r for r in old.round}
    after = {r.number: r for r in new.round}
    for number, spec in before.items():
        if number not in after:
            changes.append(_whole("round", "removed", str(number), _round_text(spec)))
    for number, spec in after.items():
        if number not in before:
            changes.append(_whole("round", "added", str(number), _round_text(spec)))
        else:
            changes += _fields("round", str(number), before[number], spec, ROUND_FIELDS)
    return changes


def _section(section: str, old: Any, new: Any) -> list[Change]:
    """A section this module has no special wording for, compared generically.

    An array of tables is keyed by its first field, like the others; a single table is
    compared field by field.
    """
    if isinstance(old, list) or isinstance(new, list):
        before, after = _by_first_field(old or []), _by_first_field(new or [])
        changes = [
            _whole(section, "removed", k, _dump(v)) for k, v in before.items() if k not in after
        ]
        for key, item in after.items():
            if key not in before:
                changes.append(_whole(section, "added", key, _dump(item)))
            else:
                fields = _fields_of(type(item), next(iter(type(item).model_fields)))
                changes += _fields(section, key, before[key], item, fields)
        return changes
    if old is None or new is None:
        if old is new:
            return []
        return [_whole(section, "added" if old is None else "removed", "", _dump(new or old))]
    return _fields(section, "", old, new, _fields_of(type(new)))


def _by_first_field(items: Iterable[BaseModel]) -> dict[str, BaseModel]:
    return {str(getattr(i, next(iter(type(i).model_fields)))): i for i in items}


def _dump(item: BaseModel) -> str:
    return ", ".join(f"{k} {_show(_value(v))}" for k, v in item.model_dump().items())


# --- shared helpers ------------------------------------------------------------------------


def _by_trigger(transitions: Iterable[TransitionSpec]) -> dict[str, TransitionSpec]:
    """Transitions by trigger; a trigger declared again is labelled ``trigger#2`` and so on."""
    out: dict[str, TransitionSpec] = {}
    seen: dict[str, int] = {}
    for tr in transitions:
        seen[tr.trigger] = seen.get(tr.trigger, 0) + 1
        out[tr.trigger if seen[tr.trigger] == 1 else f"{tr.trigger}#{seen[tr.trigger]}"] = tr
    return out


def _fields(
    section: str, item: str, old: BaseModel, new: BaseModel, names: Sequence[str]
) -> list[Change]:
    changes = []
    for name in names:
        was, now = _value(getattr(old, name)), _value(getattr(new, name))
        if was == now:
            continue
        where = f"{section} {item}" if item else section
        if isinstance(was, list) and isinstance(now, list):
            told = _members(was, now)
        else:
            told = f"{_show(was)} → {_show(now)}"
        changes.append(Change(section, "changed", item, name, was, now, f"{where} {name}: {told}"))
    return changes


def _whole(section: str, action: Action, item: str, what: str) -> Change:
    """An item added or removed as a whole; ``what`` describes it."""
    label = f"{section} {item} {action}" if item else f"{section} {action}"
    return Change(section, action, item, "", None, None, f"{label}: {what}")


def _value(value: Any) -> Value:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def _members(old: list[str], new: list[str]) -> str:
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    parts = []
    if added:
        parts.append(f"added {', '.join(added)}")
    if removed:
        parts.append(f"removed {', '.join(removed)}")
    return "; ".join(parts) or f"reordered: {', '.join(old)} → {', '.join(new)}"


def _show(value: Value) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, str):
        return _q(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _q(text: str) -> str:
    return f'"{text}"'


def _final(state: StateSpec) -> str:
    return "final, " if state.final else ""


def _transition_text(tr: TransitionSpec) -> str:
    text = f"{_q(tr.title)} from {', '.join(tr.source)} to {tr.dest}, roles {', '.join(tr.roles)}"
    if tr.conditions:
        text += f", conditions {', '.join(tr.conditions)}"
    if tr.override_roles:
        text += f", override by {', '.join(tr.override_roles)}"
    return text


def _step_text(step: StepSpec) -> str:
    if step.due_working_days_before is not None:
        due = f"{step.due_working_days_before} working days before {step.anchor}"
    else:
        due = f"{step.due_working_days_after} working days after {step.anchor}"
    required = "required" if step.required else "optional"
    return f"{_q(step.title)}, {step.assignee} of {step.of}, due {due}, {required}"


def _round_text(spec: RoundSpec) -> str:
    return f"{_q(spec.title)} opening {spec.window_start}"
