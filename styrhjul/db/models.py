"""The tables. Due times are columns; every state change leaves an audit row.

Organisation: :class:`OrgUnit` (a tree), :class:`Person`, :class:`RoleAssignment` (with
validity dates). Work: :class:`Dialog` (one performance dialog, verksamhetsdialog, of a
dialog round, dialogrunda) with its :class:`ChecklistItem` steps and :class:`Agreement`
rows. Cross-cutting: :class:`AuditEvent` (append-only, enforced by a database trigger) and
:class:`OutboxMessage` (the transactional outbox).
"""

from __future__ import annotations

from datetime import date, datetime

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
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from styrhjul.db.types import UTCDateTime
from styrhjul.vocabulary import ROLES, SCHOOL_FORMS, UNIT_KINDS

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


class Person(Base):
    """Someone who takes part; identified by email, shown by role title."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    title: Mapped[str] = mapped_column(String(200))


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


class Dialog(Base):
    """One performance dialog (verksamhetsdialog) of a dialog round, as a workflow instance.

    ``version`` is the optimistic-concurrency column: a write that read an older version
    fails instead of overwriting someone else's change.
    """

    __tablename__ = "dialog"
    __table_args__ = (
        UniqueConstraint("level", "school_year", "round_no", "unit_id", name="round_unit"),
        CheckConstraint("round_no >= 1", name="round_no"),
        CheckConstraint("ends_at > starts_at", name="span"),
        Index("ix_dialog_state_prepare_at", "state", "prepare_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow: Mapped[str] = mapped_column(String(64))
    workflow_version: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(40))
    school_year: Mapped[str] = mapped_column(String(7))
    round_no: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    host_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    prepare_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(200))
    ical_uid: Mapped[str] = mapped_column(String(200), unique=True)
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    unit: Mapped[OrgUnit] = relationship(foreign_keys=[unit_id])
    host_unit: Mapped[OrgUnit] = relationship(foreign_keys=[host_unit_id])
    organizer: Mapped[Person] = relationship(foreign_keys=[organizer_id])
    participant: Mapped[Person] = relationship(foreign_keys=[participant_id])
    checklist: Mapped[list[ChecklistItem]] = relationship(
        back_populates="dialog", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )
    agreements: Mapped[list[Agreement]] = relationship(
        back_populates="dialog", order_by="Agreement.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's API


class ChecklistItem(Base):
    """A preparation step with its due, reminder and escalation instants."""

    __tablename__ = "checklist_item"
    __table_args__ = (
        UniqueConstraint("dialog_id", "key", name="dialog_key"),
        Index("ix_checklist_item_open_due", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    assignee_role: Mapped[str] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    required: Mapped[bool] = mapped_column(Boolean)
    due_at: Mapped[datetime]
    remind_at: Mapped[datetime]
    escalate_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(254))

    dialog: Mapped[Dialog] = relationship(back_populates="checklist")
    assignee: Mapped[Person | None] = relationship()


class Agreement(Base):
    """What a dialog agreed (överenskommelse): an action with an owner and a due date."""

    __tablename__ = "agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(254))

    dialog: Mapped[Dialog] = relationship(back_populates="agreements")
    owner: Mapped[Person] = relationship()


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
