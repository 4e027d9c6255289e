"""Tables of the governance workflows beyond dialogs: plan assignments, meetings, scorecards.

:class:`Assignment` (VP-uppdrag) and :class:`Meeting` (of LG or SG) are subtypes of
:class:`~styrhjul.db.models.Instance`; their steps, agreed actions and audit trail are
the instance's. :class:`Measure` and :class:`Outcome` are the scorecard (styrkort):
measures with a target per unit, outcomes per period.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from styrhjul.db.models import Base, Instance, OrgUnit, Person, _in
from styrhjul.vocabulary import AGENDA_KINDS, ASSIGNMENT_MEMBER_ROLES, COMPARATORS


class Assignment(Instance):
    """A plan assignment (VP-uppdrag) the director gives an area head for a school year."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), primary_key=True)
    responsible_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    revised_from_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))

    responsible: Mapped[Person] = relationship(foreign_keys=[responsible_id])
    units: Mapped[list[AssignmentUnit]] = relationship(
        back_populates="assignment", order_by="AssignmentUnit.id", cascade="all, delete-orphan"
    )
    members: Mapped[list[AssignmentMember]] = relationship(
        back_populates="assignment", order_by="AssignmentMember.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"polymorphic_identity": "assignment"}  # noqa: RUF012 - SQLAlchemy's API


class AssignmentUnit(Base):
    """A unit the assignment concerns (e.g. the eight schools of a mathematics assignment)."""

    __tablename__ = "assignment_unit"
    __table_args__ = (UniqueConstraint("assignment_id", "unit_id", name="assignment_unit_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))

    assignment: Mapped[Assignment] = relationship(back_populates="units")
    unit: Mapped[OrgUnit] = relationship()


class AssignmentMember(Base):
    """A person in the assignment's steering group, or supporting it."""

    __tablename__ = "assignment_member"
    __table_args__ = (
        UniqueConstraint("assignment_id", "person_id", name="assignment_person"),
        CheckConstraint(_in("role", ASSIGNMENT_MEMBER_ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    role: Mapped[str] = mapped_column(String(20))

    assignment: Mapped[Assignment] = relationship(back_populates="members")
    person: Mapped[Person] = relationship()


class Meeting(Instance):
    """A meeting of a group (LG, SG): its chair and secretary, agenda and attendance."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), primary_key=True)
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    secretary_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    chair: Mapped[Person | None] = relationship(foreign_keys=[chair_id])
    secretary: Mapped[Person | None] = relationship(foreign_keys=[secretary_id])
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        order_by="AgendaItem.position",
        cascade="all, delete-orphan",
        foreign_keys="AgendaItem.meeting_id",
    )
    attendees: Mapped[list[MeetingAttendee]] = relationship(
        back_populates="meeting", order_by="MeetingAttendee.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"polymorphic_identity": "meeting"}  # noqa: RUF012 - SQLAlchemy's API


class AgendaItem(Base):
    """An item on a meeting's agenda: information, dialog or decision, with a presenter.

    ``take_up_again`` marks an unresolved item; planning the group's next meeting puts a
    continuation on its agenda, linked back by ``carried_from_id``.
    """

    __tablename__ = "agenda_item"
    __table_args__ = (CheckConstraint(_in("kind", AGENDA_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(Text)
    take_up_again: Mapped[bool] = mapped_column(Boolean, default=False)
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"), unique=True)

    meeting: Mapped[Meeting] = relationship(back_populates="agenda", foreign_keys=[meeting_id])
    presenter: Mapped[Person | None] = relationship()
    carried_from: Mapped[AgendaItem | None] = relationship(remote_side="AgendaItem.id")


class MeetingAttendee(Base):
    """Who was called to a meeting, and whether they were there (NULL until recorded)."""

    __tablename__ = "meeting_attendee"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id", name="meeting_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    present: Mapped[bool | None] = mapped_column(Boolean)

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")
    person: Mapped[Person] = relationship()


class Measure(Base):
    """A scorecard measure (mätetal) of a unit with its target (målvärde)."""

    __tablename__ = "measure"
    __table_args__ = (
        UniqueConstraint("unit_id", "code", name="unit_code"),
        CheckConstraint(_in("comparator", COMPARATORS), name="comparator"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    comparator: Mapped[str] = mapped_column(String(10))
    target: Mapped[float] = mapped_column(Float)
    unit_label: Mapped[str] = mapped_column(String(20), default="")

    unit: Mapped[OrgUnit] = relationship()
    outcomes: Mapped[list[Outcome]] = relationship(
        back_populates="measure", order_by="Outcome.period", cascade="all, delete-orphan"
    )


class Outcome(Base):
    """The outcome (utfall) of a measure for one period (a school year, a term, a tertial)."""

    __tablename__ = "outcome"
    __table_args__ = (UniqueConstraint("measure_id", "period", name="measure_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[datetime]

    measure: Mapped[Measure] = relationship(back_populates="outcomes")
