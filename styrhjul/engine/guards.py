"""Guards: conditions a transition needs, looked up by name from the definitions.

Definitions name guards; they never contain code. Each guard is a pure function of an
instance's facts and returns ``None`` when satisfied, or the reason it is not (shown to
the user in the refusal). :data:`READS` says which facts each guard reads, so that a
service assembles only those a transition's guards ask for: some cost a query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InstanceFacts:
    """What the machine may know about an instance: a snapshot the service assembles."""

    ref: str
    state: str
    now: datetime
    starts_at: datetime | None = None
    prepare_at: datetime | None = None
    steps_open_required: tuple[str, ...] = ()
    agreements_total: int = 0
    agreements_open: tuple[int, ...] = ()
    new_starts_at: datetime | None = None
    chain_waiting: tuple[str, ...] = ()
    """What the level below must finish first (its dialogs held, its compilation made)."""


Guard = Callable[[InstanceFacts], str | None]


def preparation_window_open(facts: InstanceFacts) -> str | None:
    if facts.prepare_at is None or facts.now >= facts.prepare_at:
        return None
    return f"preparation opens {facts.prepare_at.isoformat(timespec='minutes')}"


def checklist_complete(facts: InstanceFacts) -> str | None:
    if not facts.steps_open_required:
        return None
    return "required checklist steps are still open: " + ", ".join(facts.steps_open_required)


def meeting_started(facts: InstanceFacts) -> str | None:
    if facts.starts_at is None or facts.now >= facts.starts_at:
        return None
    return (
        f"the dialog has not started yet (starts {facts.starts_at.isoformat(timespec='minutes')})"
    )


def has_agreements(facts: InstanceFacts) -> str | None:
    return None if facts.agreements_total else "no agreements were recorded"


def agreements_done(facts: InstanceFacts) -> str | None:
    if not facts.agreements_open:
        return None
    ids = ", ".join(str(i) for i in facts.agreements_open)
    return f"{len(facts.agreements_open)} agreement(s) still open (ids {ids})"


def new_time_given(facts: InstanceFacts) -> str | None:
    if facts.new_starts_at is None:
        return "a new time is required"
    if facts.new_starts_at <= facts.now:
        return "the new time must lie in the future"
    if facts.new_starts_at == facts.starts_at:
        return "the new time is the same as the current one"
    return None


def chain_compiled(facts: InstanceFacts) -> str | None:
    if not facts.chain_waiting:
        return None
    return "waiting for the round below: " + "; ".join(facts.chain_waiting)


GUARDS: dict[str, Guard] = {
    guard.__name__: guard
    for guard in (
        preparation_window_open,
        checklist_complete,
        meeting_started,
        has_agreements,
        agreements_done,
        new_time_given,
        chain_compiled,
    )
}


READS: dict[str, frozenset[str]] = {
    preparation_window_open.__name__: frozenset({"now", "prepare_at"}),
    checklist_complete.__name__: frozenset({"steps_open_required"}),
    meeting_started.__name__: frozenset({"now", "starts_at"}),
    has_agreements.__name__: frozenset({"agreements_total"}),
    agreements_done.__name__: frozenset({"agreements_open"}),
    new_time_given.__name__: frozenset({"new_starts_at", "now", "starts_at"}),
    chain_compiled.__name__: frozenset({"chain_waiting"}),
}
"""The facts (fields of :class:`InstanceFacts`) each guard reads; a test checks each one."""


def facts_read(guards: Iterable[str]) -> frozenset[str]:
    """The facts the named guards read together."""
    return frozenset().union(*(READS[name] for name in guards))
