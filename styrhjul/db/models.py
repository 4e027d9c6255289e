"""The tables. Due times are columns; every state change leaves an audit row.

Organisation: :class:`OrgUnit` (a tree), :class:`Person`, :class:`RoleAssignment` (with
validity dates). Work: :class:`Instance` (any workflow instance) with its
:class:`ChecklistItem` steps and :class:`Agreement` rows; :class:`Dialog` is the instance
subtype for one performance dialog (verksamhetsdialog) of a dialog round (dialogrunda);
:mod:`styrhjul.db.governance` holds the other subtypes (assignments, meetings) and the
scorecard. :class:`WorkflowSource` keeps every definition version in use. Cross-cutting:
:class:`AuditEvent` (append-only, enforced by a database trigger) and
:class:`OutboxMessage` (the transactional outbox).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.schema import SchemaItem

from styrhjul.db.types import UTCDateTime
from styrhjul.vocabulary import INSTANCE_KINDS, ROLES, SCHOOL_FORMS, UNIT_KINDS

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy's API


class OrgUnit(Base):
    """A node of the chain of command (styrkedja): council, board, area, unit, team..."""

    __tablename__ = "org_unit"
    __table_args__ = (
        CheckConstraint(_in("kind", UNIT_KINDS), name="kind"),
        CheckConstraint(
            "school_form IS NULL OR " + _in("school_form", SCHOOL_FORMS), name="school_form"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    school_form: Mapped[str | None] = mapped_column(String(40))

    parent: Mapped[OrgUnit | None] = relationship(remote_side="OrgUnit.id")


class UnitCycle(Base):
    """A unit's own dialog cycle: when round N of a level opens for it and the units below.

    Rektor ↔ team dialogs follow each school's own cycle; a unit without an entry follows
    the nearest unit above it that has one, or else the level's definition.
    """

    __tablename__ = "unit_cycle"
    __table_args__ = (UniqueConstraint("unit_id", "level", "round_no", name="unit_level_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(40))
    round_no: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[str] = mapped_column(String(5))


class Person(Base):
    """Someone who takes part; identified by email, shown by role title."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8), default="sv", server_default="sv")
    """The language of the person's messages: "sv" (the users' language) or "en"."""


class RoleAssignment(Base):
    """A person holds a role in a unit from ``valid_from`` to ``valid_to`` (inclusive)."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        Index("ix_role_assignment_unit_role", "unit_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    role: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship()
    unit: Mapped[OrgUnit] = relationship()


class Instance(Base):
    """A running workflow instance of any kind: a dialog, a plan assignment, a meeting, a process.

    ``kind`` says which subtype table holds the rest (joined-table inheritance); a plain
    process (the budget cycle, the VP process, a quality report) needs none. ``key`` is the
    natural key planning uses to stay idempotent. The event columns (``starts_at`` ...
    ``ical_sequence``) are set for instances that take place at a time: dialogs, meetings,
    and processes anchored to a date. ``version`` is the optimistic-concurrency column: a
    write that read an older version fails instead of overwriting someone else's change.
    ``workflow_version`` is the definition version the instance started with, and keeps.
    """

    __tablename__ = "instance"
    # typed as any tuple of schema items, so that Dialog (a joined-table subclass) can give its
    # own table different ones
    __table_args__: tuple[SchemaItem, ...] = (
        CheckConstraint(_in("kind", INSTANCE_KINDS), name="kind"),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="span"),
        # the tick's preparations: due by state and window, the definition version read
        # from the index (a chained version waits for its round below: chain_facts)
        Index(
            "ix_instance_state_prepare_at", "state", "prepare_at", "workflow", "workflow_version"
        ),
        Index("ix_instance_workflow_state", "workflow", "state"),
        Index("ix_instance_invite_at", "invite_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(300), unique=True)
    workflow: Mapped[str] = mapped_column(String(64))
    workflow_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"), index=True)
    school_year: Mapped[str | None] = mapped_column(String(7))
    state: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    prepare_at: Mapped[datetime | None]
    invite_at: Mapped[datetime | None]
    """When the invite goes out, for instances planned ahead (the yearly plan); None once sent
    or when it went out at planning time."""
    location: Mapped[str | None] = mapped_column(String(200))
    ical_uid: Mapped[str | None] = mapped_column(String(200), unique=True)
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    unit: Mapped[OrgUnit] = relationship(foreign_keys=[unit_id])
    parent: Mapped[Instance | None] = relationship(remote_side="Instance.id")
    checklist: Mapped[list[ChecklistItem]] = relationship(
        back_populates="instance",
        order_by="ChecklistItem.position",
        cascade="all, delete-orphan",
    )
    agreements: Mapped[list[Agreement]] = relationship(
        back_populates="instance",
        order_by="Agreement.position",
        cascade="all, delete-orphan",
        foreign_keys="Agreement.instance_id",
    )

    __mapper_args__ = {  # noqa: RUF012 - SQLAlchemy's API
        "version_id_col": version,
        "polymorphic_on": kind,
        "polymorphic_identity": "process",
    }


class Dialog(Instance):
    """One performance dialog (verksamhetsdialog) of a dialog round (dialogrunda)."""

    __tablename__ = "dialog"
    __table_args__ = (CheckConstraint("round_no >= 1", name="round_no"),)

    id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[str] = mapped_column(String(40))
    round_no: Mapped[int] = mapped_column(Integer)
    host_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)

    host_unit: Mapped[OrgUnit] = relationship(foreign_keys=[host_unit_id])
    organizer: Mapped[Person] = relationship(foreign_keys=[organizer_id])
    participant: Mapped[Person] = relationship(foreign_keys=[participant_id])

    __mapper_args__ = {"polymorphic_identity": "dialog"}  # noqa: RUF012 - SQLAlchemy's API


_OPEN: dict[str, Any] = {
    "sqlite_where": text("done_at IS NULL"),
    "postgresql_where": text("done_at IS NULL"),
}
"""The condition of the partial indexes of open steps."""


def _pending(sent: str) -> dict[str, Any]:
    """The partial index condition of open steps whose notice recorded in ``sent`` is to come."""
    condition = f"done_at IS NULL AND {sent} IS NULL"
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


class ChecklistItem(Base):
    """A step of an instance, with its due, reminder and escalation instants.

    ``remind_at`` and ``escalate_at`` hold the next instant something is due (NULL when
    nothing more is): the daemon's tick finds work by comparing them with the clock.
    ``escalation_level`` counts how far up the chain of command the step has gone.
    ``reminded_at`` and ``overdue_notified_at`` record that the reminder and the overdue
    notice went out (each goes out once). ``notice_round`` counts how often the step was
    re-dated (a moved dialog or meeting): each new date has its reminders and escalations
    anew, and the round keeps their outbox keys apart.
    ``origin`` says what raised it: the definition, a rule, a chain from another instance.
    """

    __tablename__ = "checklist_item"
    __table_args__ = (
        UniqueConstraint("instance_id", "key", name="instance_key"),
        CheckConstraint("escalation_level >= 0", name="escalation_level"),
        # Open steps only (done_at IS NULL), the done ones, most of the table, left out:
        # by due instant and id, the overdue listing's keyset order,
        # with the instance id so that the join to the instance (is it live?) and the count
        # read no table row; by escalation instant, the daemon's escalations.
        # An index that led with done_at made SQLite take "done_at IS NULL" for a selective
        # equality and sort every open step for the listing's first page.
        Index("ix_checklist_item_overdue", "due_at", "id", "instance_id", **_OPEN),
        Index("ix_checklist_item_open_escalate", "escalate_at", **_OPEN),
        # The reminders and overdue notices still to send, and only those: open steps
        # reminded or notified already would be read again on every tick.
        Index("ix_checklist_item_pending_remind", "remind_at", **_pending("reminded_at")),
        Index("ix_checklist_item_pending_overdue", "due_at", **_pending("overdue_notified_at")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    assignee_role: Mapped[str] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    required: Mapped[bool] = mapped_column(Boolean)
    origin: Mapped[str] = mapped_column(String(200), default="definition")
    due_at: Mapped[datetime]
    remind_at: Mapped[datetime | None]
    escalate_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    overdue_notified_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    notice_round: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(254))

    instance: Mapped[Instance] = relationship(back_populates="checklist")
    assignee: Mapped[Person | None] = relationship()


class Agreement(Base):
    """An agreed action (överenskommelse) of a dialog or meeting: owner and due date.

    It is open until it is done, or carried over to a later instance (``carried_to_id``),
    such as the next meeting of the same group.
    """

    __tablename__ = "agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instance.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(254))
    carried_to_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"))

    instance: Mapped[Instance] = relationship(
        back_populates="agreements", foreign_keys=[instance_id]
    )
    carried_to: Mapped[Instance | None] = relationship(foreign_keys=[carried_to_id])
    owner: Mapped[Person] = relationship()

    @property
    def is_open(self) -> bool:
        return self.done_at is None and self.carried_to_id is None


class Observation(Base):
    """Compiled observations attached to an instance: information going up the chain.

    After the area head ↔ rektor round the area head compiles observations, assessments
    and conclusions per school form; they are attached to the director's dialog with the
    area, where they are the material of the round above.
    """

    __tablename__ = "observation"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instance.id", ondelete="CASCADE"), index=True
    )
    school_form: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(254))
    recorded_at: Mapped[datetime]


class WorkflowSource(Base):
    """The text of every workflow definition version that ever started an instance.

    A running instance keeps the version it started with, even after the file on disk
    changed: its machine is rebuilt from the text stored here.
    """

    __tablename__ = "workflow_source"
    __table_args__ = (UniqueConstraint("name", "version", name="name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    first_used_at: Mapped[datetime]


class AuditEvent(Base):
    """Who changed what, when, from which state to which, and why. Append-only."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(254))
    trigger: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")


class FeedToken(Base):
    """An unguessable, revocable token for a person's or a unit's calendar feed (.ics).

    Only a SHA-256 digest of the token is stored; the token itself is shown once, when it
    is made. Exactly one of ``person_id`` and ``unit_id`` is set.
    """

    __tablename__ = "feed_token"
    __table_args__ = (
        CheckConstraint("(person_id IS NULL) <> (unit_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    person: Mapped[Person | None] = relationship()
    unit: Mapped[OrgUnit | None] = relationship()


EVENT_STATUSES = ("planned", "cancelled")


class CalendarEvent(Base):
    """One occurrence of an årshjul rule in a calendar year: what the yearly plan holds.

    ``key`` (``rule:year:seq``) is the identity that planning keeps when a rule or the
    calendar moves the date, so the event's UID stays and its SEQUENCE rises. ``nominal``
    is the day the rule gave before a non-working day moved it, ``moved_because`` why.
    ``instance_id`` links an event that started a process or scheduled a meeting.
    """

    __tablename__ = "calendar_event"
    __table_args__ = (
        CheckConstraint(_in("status", EVENT_STATUSES), name="status"),
        CheckConstraint("ends_at > starts_at", name="span"),
        Index("ix_calendar_event_year_rule", "year", "rule"),
        Index("ix_calendar_event_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    ring: Mapped[str] = mapped_column(String(64))
    series: Mapped[str | None] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    nominal: Mapped[date] = mapped_column(Date)
    moved_because: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"), index=True)
    ical_uid: Mapped[str] = mapped_column(String(200), unique=True)
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    unit: Mapped[OrgUnit | None] = relationship()
    instance: Mapped[Instance | None] = relationship()


OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class OutboxMessage(Base):
    """A rendered message waiting to be sent, written in the transaction that caused it.

    ``key`` is the idempotency key: the same cause can never yield a second row. The
    Message-ID is derived from it, so a resend after a crash is recognisable.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_message_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(300))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
