"""Workflow instances of every kind: dialogs become one subtype; assignments, meetings, scorecards.

Until now a dialog was the only kind of workflow instance. This revision moves what every
instance has (workflow and version, state, unit, event times, concurrency version) into
``instance``, keeps the dialog-only columns in ``dialog`` (joined-table inheritance), hangs
checklist steps and agreements on the instance, and adds plan assignments (VP-uppdrag),
meetings with agendas, the scorecard and the stored definition versions.

Existing dialogs, their steps and agreements are carried over with their ids, so audit
rows (``entity='dialog'``) and Message-IDs keep pointing at the same things. Undoing it
restores the dialog tables of 0001 and refuses while instances of other kinds exist,
rather than dropping them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:21:33.097794
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic import op

import styrhjul.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Rows = list[dict[str, Any]]

DIALOG_COLUMNS = (
    "id, workflow, workflow_version, level, school_year, round_no, unit_id, host_unit_id, "
    "organizer_id, participant_id, state, starts_at, ends_at, prepare_at, location, ical_uid, "
    "ical_sequence, minutes, created_at, updated_at, version"
)
INSTANCE_FIELDS = (
    "id", "workflow", "workflow_version", "unit_id", "school_year", "state", "starts_at",
    "ends_at", "prepare_at", "location", "ical_uid", "ical_sequence", "minutes", "created_at",
    "updated_at", "version",
)  # fmt: skip
DIALOG_FIELDS = ("id", "level", "round_no", "host_unit_id", "organizer_id", "participant_id")
STEP_FIELDS = (
    "id", "position", "key", "title", "assignee_role", "assignee_id", "required", "due_at",
    "remind_at", "escalate_at", "done_at", "done_by",
)  # fmt: skip
AGREEMENT_FIELDS = ("id", "position", "text", "owner_id", "due_on", "done_at", "done_by")


def _initial_schema() -> ModuleType:
    """Revision 0001, whose dialog tables this revision replaces and, undone, restores."""
    path = Path(__file__).with_name("0001_initial_schema.py")
    spec = importlib.util.spec_from_file_location("styrhjul_migration_0001", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(sql: str) -> Rows:
    return [dict(row._mapping) for row in op.get_bind().execute(sa.text(sql))]


def _table(name: str, *columns: str) -> sa.TableClause:
    """A lightweight table for bulk inserts, its columns untyped on purpose.

    Values go back exactly as they were read, so each database keeps its own
    representation of the instants (SQLite's text, PostgreSQL's timestamptz).
    """
    return sa.table(name, *(sa.column(c) for c in columns))


def _reset_sequences(*tables: str) -> None:
    """PostgreSQL: rows were inserted with their ids, so move each id sequence past them."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def upgrade() -> None:
    dialogs = _rows(
        "SELECT d.*, u.code AS unit_code, u.name AS unit_name "
        "FROM dialog d JOIN org_unit u ON u.id = d.unit_id"
    )
    steps = _rows("SELECT * FROM checklist_item")
    agreements = _rows("SELECT * FROM agreement")
    _initial_schema().drop_work_tables()
    _create_tables()
    op.bulk_insert(
        _table("instance", "kind", "key", "title", *INSTANCE_FIELDS),
        [
            {
                "kind": "dialog",
                "key": f"{d['level']}:{d['school_year']}:r{d['round_no']}:{d['unit_code']}",
                "title": f"Verksamhetsdialog {d['unit_name']}",
                **{f: d[f] for f in INSTANCE_FIELDS},
            }
            for d in dialogs
        ],
    )
    op.bulk_insert(
        _table("dialog", *DIALOG_FIELDS), [{f: d[f] for f in DIALOG_FIELDS} for d in dialogs]
    )
    op.bulk_insert(
        _table(
            "checklist_item",
            "instance_id",
            "origin",
            "escalation_level",
            "notice_round",
            *STEP_FIELDS,
        ),
        [
            {"instance_id": s["dialog_id"], "origin": "definition", "escalation_level": 0,
             "notice_round": 0,
             **{f: s[f] for f in STEP_FIELDS}}
            for s in steps
        ],
    )  # fmt: skip
    op.bulk_insert(
        _table("agreement", "instance_id", *AGREEMENT_FIELDS),
        [
            {"instance_id": a["dialog_id"], **{f: a[f] for f in AGREEMENT_FIELDS}}
            for a in agreements
        ],
    )
    _reset_sequences("instance", "checklist_item", "agreement")


def downgrade() -> None:
    others = _rows("SELECT kind, COUNT(*) AS n FROM instance WHERE kind <> 'dialog' GROUP BY kind")
    if others:
        held = ", ".join(f"{row['n']} {row['kind']}" for row in others)
        raise RuntimeError(
            f"cannot undo revision 0002: the database holds instances that 0001 cannot store "
            f"({held}); export or delete them first"
        )
    dialogs = _rows(f"SELECT {DIALOG_COLUMNS} FROM instance JOIN dialog USING (id)")  # noqa: S608
    steps = _rows("SELECT * FROM checklist_item")
    agreements = _rows("SELECT * FROM agreement")
    _drop_tables()
    initial = _initial_schema()
    initial.create_work_tables()
    op.bulk_insert(
        _table("dialog", *(c.strip() for c in DIALOG_COLUMNS.split(","))),
        [{**d, "location": d["location"] or ""} for d in dialogs],
    )
    fallback = {d["id"]: d["starts_at"] for d in dialogs}
    op.bulk_insert(
        _table("checklist_item", "dialog_id", *STEP_FIELDS),
        [
            {
                "dialog_id": s["instance_id"],
                **{f: s[f] for f in STEP_FIELDS},
                "remind_at": s["remind_at"] or s["due_at"],
                "escalate_at": s["escalate_at"] or fallback[s["instance_id"]],
            }
            for s in steps
        ],
    )
    op.bulk_insert(
        _table("agreement", "dialog_id", *AGREEMENT_FIELDS),
        [
            {"dialog_id": a["instance_id"], **{f: a[f] for f in AGREEMENT_FIELDS}}
            for a in agreements
        ],
    )
    _reset_sequences("dialog", "checklist_item", "agreement")


def _create_tables() -> None:
    op.create_table(
        "workflow_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_used_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_source")),
        sa.UniqueConstraint("name", "version", name="name_version"),
    )
    op.create_table(
        "instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("workflow", sa.String(length=64), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("school_year", sa.String(length=7), nullable=True),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("starts_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("prepare_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("ical_uid", sa.String(length=200), nullable=True),
        sa.Column("ical_sequence", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("created_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('process', 'dialog', 'assignment', 'meeting')", name=op.f("ck_instance_kind")
        ),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name=op.f("ck_instance_span")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["instance.id"], name=op.f("fk_instance_parent_id_instance")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_instance_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance")),
        sa.UniqueConstraint("ical_uid", name=op.f("uq_instance_ical_uid")),
        sa.UniqueConstraint("key", name=op.f("uq_instance_key")),
    )
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instance_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index("ix_instance_state_prepare_at", ["state", "prepare_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_instance_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index("ix_instance_workflow_state", ["workflow", "state"], unique=False)

    op.create_table(
        "measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("comparator", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("unit_label", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "comparator IN ('at_least', 'at_most')", name=op.f("ck_measure_comparator")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_measure_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure")),
        sa.UniqueConstraint("unit_id", "code", name="unit_code"),
    )
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measure_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=254), nullable=True),
        sa.Column("carried_to_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["carried_to_id"], ["instance.id"], name=op.f("fk_agreement_carried_to_id_instance")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instance.id"],
            name=op.f("fk_agreement_instance_id_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["person.id"], name=op.f("fk_agreement_owner_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement")),
    )
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_instance_id"), ["instance_id"], unique=False)

    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("responsible_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("revised_from_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["id"], ["instance.id"], name=op.f("fk_assignment_id_instance"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"], ["person.id"], name=op.f("fk_assignment_responsible_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["revised_from_id"],
            ["assignment.id"],
            name=op.f("fk_assignment_revised_from_id_assignment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_responsible_id"), ["responsible_id"], unique=False
        )

    op.create_table(
        "checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("assignee_role", sa.String(length=40), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("due_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("remind_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalate_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "overdue_notified_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("notice_round", sa.Integer(), nullable=False),
        sa.Column("done_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=254), nullable=True),
        sa.CheckConstraint(
            "escalation_level >= 0", name=op.f("ck_checklist_item_escalation_level")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["person.id"], name=op.f("fk_checklist_item_assignee_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instance.id"],
            name=op.f("fk_checklist_item_instance_id_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_item")),
        sa.UniqueConstraint("instance_id", "key", name="instance_key"),
    )
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checklist_item_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index("ix_checklist_item_open_due", ["done_at", "due_at"], unique=False)
        batch_op.create_index(
            "ix_checklist_item_open_escalate", ["done_at", "escalate_at"], unique=False
        )
        batch_op.create_index(
            "ix_checklist_item_open_remind", ["done_at", "remind_at"], unique=False
        )

    op.create_table(
        "dialog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("round_no", sa.Integer(), nullable=False),
        sa.Column("host_unit_id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("round_no >= 1", name=op.f("ck_dialog_round_no")),
        sa.ForeignKeyConstraint(
            ["host_unit_id"], ["org_unit.id"], name=op.f("fk_dialog_host_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["id"], ["instance.id"], name=op.f("fk_dialog_id_instance"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["person.id"], name=op.f("fk_dialog_organizer_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["person.id"], name=op.f("fk_dialog_participant_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialog")),
    )
    with op.batch_alter_table("dialog", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dialog_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dialog_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chair_id", sa.Integer(), nullable=True),
        sa.Column("secretary_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chair_id"], ["person.id"], name=op.f("fk_meeting_chair_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["id"], ["instance.id"], name=op.f("fk_meeting_id_instance"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["secretary_id"], ["person.id"], name=op.f("fk_meeting_secretary_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("recorded_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measure.id"],
            name=op.f("fk_outcome_measure_id_measure"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome")),
        sa.UniqueConstraint("measure_id", "period", name="measure_period"),
    )
    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("presenter_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("take_up_again", sa.Boolean(), nullable=False),
        sa.Column("carried_from_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('information', 'dialog', 'decision')", name=op.f("ck_agenda_item_kind")
        ),
        sa.ForeignKeyConstraint(
            ["carried_from_id"],
            ["agenda_item.id"],
            name=op.f("fk_agenda_item_carried_from_id_agenda_item"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_agenda_item_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["presenter_id"], ["person.id"], name=op.f("fk_agenda_item_presenter_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item")),
        sa.UniqueConstraint("carried_from_id", name=op.f("uq_agenda_item_carried_from_id")),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_item_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "assignment_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "role IN ('steering_group', 'support')", name=op.f("ck_assignment_member_role")
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_assignment_member_assignment_id_assignment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_assignment_member_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_member")),
        sa.UniqueConstraint("assignment_id", "person_id", name="assignment_person"),
    )
    op.create_table(
        "assignment_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_assignment_unit_assignment_id_assignment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_assignment_unit_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_unit")),
        sa.UniqueConstraint("assignment_id", "unit_id", name="assignment_unit_pair"),
    )
    op.create_table(
        "meeting_attendee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_attendee_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_meeting_attendee_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_attendee")),
        sa.UniqueConstraint("meeting_id", "person_id", name="meeting_person"),
    )

    op.create_table(
        "observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("school_form", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("recorded_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instance.id"],
            name=op.f("fk_observation_instance_id_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation")),
    )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_observation_instance_id"), ["instance_id"], unique=False
        )
    op.create_table(
        "unit_cycle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("round_no", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
            name=op.f("fk_unit_cycle_unit_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_cycle")),
        sa.UniqueConstraint("unit_id", "level", "round_no", name="unit_level_round"),
    )


def _drop_tables() -> None:
    op.drop_table("unit_cycle")
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_instance_id"))

    op.drop_table("observation")
    op.drop_table("meeting_attendee")
    op.drop_table("assignment_unit")
    op.drop_table("assignment_member")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_item_meeting_id"))

    op.drop_table("agenda_item")
    op.drop_table("outcome")
    op.drop_table("meeting")
    with op.batch_alter_table("dialog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dialog_participant_id"))
        batch_op.drop_index(batch_op.f("ix_dialog_organizer_id"))

    op.drop_table("dialog")
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_item_open_remind")
        batch_op.drop_index("ix_checklist_item_open_escalate")
        batch_op.drop_index("ix_checklist_item_open_due")
        batch_op.drop_index(batch_op.f("ix_checklist_item_assignee_id"))

    op.drop_table("checklist_item")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_responsible_id"))

    op.drop_table("assignment")
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_instance_id"))

    op.drop_table("agreement")
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measure_unit_id"))

    op.drop_table("measure")
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_workflow_state")
        batch_op.drop_index(batch_op.f("ix_instance_unit_id"))
        batch_op.drop_index("ix_instance_state_prepare_at")
        batch_op.drop_index(batch_op.f("ix_instance_parent_id"))

    op.drop_table("instance")
    op.drop_table("workflow_source")
