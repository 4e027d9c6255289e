"""Initial schema: organisation, dialogs with checklists and agreements, audit, outbox.

The audit table is made append-only by a trigger on each database, so that not even a
bug in the service layer can rewrite history.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:35:03.372659
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import styrhjul.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER audit_event_no_{op} BEFORE {OP} ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
)
APPEND_ONLY_PG_FUNCTION = """
CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only';
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_PG_TRIGGER = (
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
)


def _append_only_audit() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("update", "delete"):
            op.execute(APPEND_ONLY_SQLITE.format(op=name, OP=name.upper()))
    elif dialect == "postgresql":
        op.execute(APPEND_ONLY_PG_FUNCTION)
        op.execute(APPEND_ONLY_PG_TRIGGER)


def _drop_append_only_audit() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=40), nullable=True),
        sa.Column("to_state", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "org_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("school_form", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "kind IN ('council', 'board', 'administration', 'group', 'area', 'department', 'unit', 'team')",
            name=op.f("ck_org_unit_kind"),
        ),
        sa.CheckConstraint(
            "school_form IS NULL OR school_form IN ('förskola', 'grundskola', 'gymnasieskola', 'anpassad grundskola', 'anpassad gymnasieskola', 'fritidshem', 'international')",
            name=op.f("ck_org_unit_school_form"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["org_unit.id"], name=op.f("fk_org_unit_parent_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_org_unit_code")),
    )
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_unit_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("sent_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')",
            name=op.f("ck_outbox_message_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_message_key")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_message_status_next", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("email", name=op.f("uq_person_email")),
    )
    op.create_table(
        "role_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "role IN ('council_chair', 'board_chair', 'board_member', 'director', 'area_head', 'department_head', 'rektor', 'secretary', 'controller', 'team_leader', 'member')",
            name=op.f("ck_role_assignment_role"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_role_assignment_validity")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_role_assignment_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_role_assignment_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_assignment")),
    )
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_assignment_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index("ix_role_assignment_unit_role", ["unit_id", "role"], unique=False)

    create_work_tables()
    _append_only_audit()


def downgrade() -> None:
    _drop_append_only_audit()
    drop_work_tables()
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_role_assignment_unit_role")
        batch_op.drop_index(batch_op.f("ix_role_assignment_person_id"))

    op.drop_table("role_assignment")
    op.drop_table("person")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_status_next")

    op.drop_table("outbox_message")
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_unit_parent_id"))

    op.drop_table("org_unit")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_entity")

    op.drop_table("audit_event")


def create_work_tables() -> None:
    """The dialog tables of this revision (0002 recreates them when it is undone)."""
    op.create_table(
        "dialog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow", sa.String(length=64), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("school_year", sa.String(length=7), nullable=False),
        sa.Column("round_no", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("host_unit_id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("starts_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("prepare_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("ical_uid", sa.String(length=200), nullable=False),
        sa.Column("ical_sequence", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("created_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_dialog_span")),
        sa.CheckConstraint("round_no >= 1", name=op.f("ck_dialog_round_no")),
        sa.ForeignKeyConstraint(
            ["host_unit_id"], ["org_unit.id"], name=op.f("fk_dialog_host_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_dialog_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["person.id"], name=op.f("fk_dialog_organizer_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["person.id"], name=op.f("fk_dialog_participant_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialog")),
        sa.UniqueConstraint("ical_uid", name=op.f("uq_dialog_ical_uid")),
        sa.UniqueConstraint("level", "school_year", "round_no", "unit_id", name="round_unit"),
    )
    with op.batch_alter_table("dialog", schema=None) as batch_op:
        batch_op.create_index("ix_dialog_state_prepare_at", ["state", "prepare_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dialog_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dialog_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dialog_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["dialog_id"],
            ["dialog.id"],
            name=op.f("fk_agreement_dialog_id_dialog"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["person.id"], name=op.f("fk_agreement_owner_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement")),
    )
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_dialog_id"), ["dialog_id"], unique=False)

    op.create_table(
        "checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("assignee_role", sa.String(length=40), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("due_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("remind_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("escalate_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["person.id"], name=op.f("fk_checklist_item_assignee_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["dialog_id"],
            ["dialog.id"],
            name=op.f("fk_checklist_item_dialog_id_dialog"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_item")),
        sa.UniqueConstraint("dialog_id", "key", name="dialog_key"),
    )
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checklist_item_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index("ix_checklist_item_open_due", ["done_at", "due_at"], unique=False)


def drop_work_tables() -> None:
    """Drop the dialog tables of this revision (0002 does so when it upgrades)."""
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_item_open_due")
        batch_op.drop_index(batch_op.f("ix_checklist_item_assignee_id"))

    op.drop_table("checklist_item")
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_dialog_id"))

    op.drop_table("agreement")
    with op.batch_alter_table("dialog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dialog_unit_id"))
        batch_op.drop_index(batch_op.f("ix_dialog_organizer_id"))
        batch_op.drop_index(batch_op.f("ix_dialog_participant_id"))
        batch_op.drop_index("ix_dialog_state_prepare_at")

    op.drop_table("dialog")
