"""What a simulation reports, day by day, and the sorting of the audit trail into it.

Per day: the instances created and moved, other changes, messages sent and escalations;
totals at the end.

:func:`classify_events` sorts a day's audit events from the copy into those lists;
:mod:`styrhjul.services.simulation` adds what its run reports say (overdue notices,
escalations with their recipients) and what the recording transport received.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from styrhjul.db.models import AuditEvent

MOVING_TRIGGER = "postpone"


@dataclass(frozen=True)
class Created:
    """An instance that came into being, and the audit trigger that made it."""

    at: datetime
    instance_id: int
    kind: str
    key: str
    title: str
    by: str


@dataclass(frozen=True)
class Moved:
    """An instance moved to another time (postponed, or its calendar sequence raised)."""

    at: datetime
    instance_id: int
    kind: str
    title: str
    starts_at: datetime | None
    sequence: int
    reason: str


@dataclass(frozen=True)
class Change:
    """Anything else that happened to an instance: a transition, an overdue step ..."""

    at: datetime
    instance_id: int
    kind: str
    title: str
    what: str
    detail: str


@dataclass(frozen=True)
class Sent:
    """A message the recording transport received."""

    at: datetime
    kind: str
    to: str
    subject: str
    message_id: str


@dataclass(frozen=True)
class Escalated:
    """A step escalated up the chain of command; ``to`` is None with nobody above."""

    at: datetime
    step_id: int
    step: str
    instance_id: int
    title: str
    level: int
    to: str | None


@dataclass
class DayReport:
    """What happened on one day of the period."""

    day: date
    created: list[Created] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    escalated: list[Escalated] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        return not (self.created or self.moved or self.changes or self.sent or self.escalated)


@dataclass(frozen=True)
class SimulationReport:
    """The days on which something happened, and how many days and ticks were walked."""

    first: date
    last: date
    days: list[DayReport]
    days_simulated: int
    quiet_days: int
    ticks: int
    totals: dict[str, int]
    sent_by_kind: dict[str, int]


def classify_events(
    report: DayReport,
    events: list[AuditEvent],
    instances: dict[int, Any],
    sequences: dict[int, int],
    tz: ZoneInfo,
) -> None:
    """Sort the day's audit events into created, moved and changes.

    An instance is created when it was not there at the start of the day; its first audit
    event says how. Escalations are left out here: the run reports them with the recipient.
    """
    first_event: dict[int, AuditEvent] = {}
    moved_by_audit: set[int] = set()
    cancelled: set[int] = set()
    for audited in events:
        inst = instances.get(audited.entity_id)
        if inst is None or inst.kind != audited.entity:
            continue  # not an instance's event
        at = audited.at.astimezone(tz)
        if inst.id not in sequences and inst.id not in first_event:
            first_event[inst.id] = audited
            continue
        if audited.trigger == "escalate":
            continue
        if audited.trigger == "cancel":
            cancelled.add(inst.id)
        if audited.trigger == MOVING_TRIGGER:
            moved_by_audit.add(inst.id)
            report.moved.append(
                Moved(
                    at,
                    inst.id,
                    inst.kind,
                    inst.title,
                    inst.starts_at.astimezone(tz) if inst.starts_at else None,
                    inst.ical_sequence,
                    audited.reason,
                )
            )
            continue
        detail = audited.reason
        if audited.from_state != audited.to_state:
            states = f"{audited.from_state} → {audited.to_state}"
            detail = f"{states}: {detail}" if detail else states
        report.changes.append(Change(at, inst.id, inst.kind, inst.title, audited.trigger, detail))
    for inst in instances.values():
        if inst.id in sequences:
            before = sequences[inst.id]
            if inst.ical_sequence > before and not (moved_by_audit | cancelled) & {inst.id}:
                report.moved.append(
                    Moved(
                        inst.updated_at.astimezone(tz),
                        inst.id,
                        inst.kind,
                        inst.title,
                        inst.starts_at.astimezone(tz) if inst.starts_at else None,
                        inst.ical_sequence,
                        "calendar sequence raised",
                    )
                )
            continue
        creation = first_event.get(inst.id)
        report.created.append(
            Created(
                (creation.at if creation else inst.created_at).astimezone(tz),
                inst.id,
                inst.kind,
                inst.key,
                inst.title,
                creation.trigger if creation else "",
            )
        )


def summarise(
    first: date, last: date, days: list[DayReport], count: int, ticks: int
) -> SimulationReport:
    totals = {
        "created": sum(len(d.created) for d in days),
        "moved": sum(len(d.moved) for d in days),
        "changes": sum(len(d.changes) for d in days),
        "sent": sum(len(d.sent) for d in days),
        "escalated": sum(len(d.escalated) for d in days),
    }
    by_kind: dict[str, int] = {}
    for d in days:
        for message in d.sent:
            by_kind[message.kind] = by_kind.get(message.kind, 0) + 1
    return SimulationReport(
        first, last, days, count, count - len(days), ticks, totals, dict(sorted(by_kind.items()))
    )
