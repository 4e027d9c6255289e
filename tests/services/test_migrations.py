"""The migrations build exactly the models' schema, on SQLite and PostgreSQL, and undo cleanly."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from styrhjul.db.migrate import alembic_config, current_revision, head_revision, upgrade
from styrhjul.db.models import Base

_fresh = itertools.count(1)
TABLES = {"agenda_item", "agreement", "assignment", "assignment_member", "assignment_unit",
          "audit_event", "calendar_event", "checklist_item", "daemon_job", "daemon_process",
          "dialog", "feed_token", "instance", "measure", "meeting", "meeting_attendee",
          "observation", "org_unit", "outbox_message", "outcome", "period_run", "person",
          "role_assignment", "unit_cycle", "web_account", "web_session",
          "workflow_source"}  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of each kind with nothing in it, not even Alembic's version table."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh' / 'styrhjul.db'}"
    server = request.getfixturevalue("pg_server")
    name = f"fresh_mig_{next(_fresh)}"
    server.create_database(name)
    return server.url(name)


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_from_empty_reaches_head(empty_url: str) -> None:
    assert head_revision() is not None
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    assert _tables(empty_url) == TABLES


def test_migrated_schema_matches_the_models(empty_url: str) -> None:
    upgrade(empty_url)
    assert _differences(empty_url) == []


def test_downgrade_to_base_and_upgrade_again(empty_url: str) -> None:
    upgrade(empty_url)
    command.downgrade(alembic_config(empty_url), "base")
    assert current_revision(empty_url) is None
    assert _tables(empty_url) == set()
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    assert _differences(empty_url) == []


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    upgrade(empty_url)
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()


def test_template_databases_are_at_head(db_url: str) -> None:
    assert current_revision(db_url) == head_revision()


def _execute(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = connection.execute(text(statement))
                if result.returns_rows:
                    rows.extend(tuple(r) for r in result)
            return rows
    finally:
        engine.dispose()


SEED_0001 = (
    "INSERT INTO org_unit (id, code, name, kind) VALUES (1, 'omr', 'Området', 'area')",
    "INSERT INTO org_unit (id, code, name, kind, parent_id) "
    "VALUES (2, 'skolan', 'Skolan', 'unit', 1)",
    "INSERT INTO person (id, email, title) VALUES (1, 'vc@example.se', 'Verksamhetschef')",
    "INSERT INTO person (id, email, title) VALUES (2, 'rektor@example.se', 'Rektor')",
    "INSERT INTO dialog (id, workflow, workflow_version, level, school_year, round_no, unit_id,"
    " host_unit_id, organizer_id, participant_id, state, starts_at, ends_at, prepare_at,"
    " location, ical_uid, ical_sequence, minutes, created_at, updated_at, version) VALUES"
    " (7, 'dialog_round', 1, 'area_rektor', '2026/27', 1, 2, 1, 1, 2, 'held',"
    " '2026-10-06 07:00:00', '2026-10-06 08:15:00', '2026-09-08 06:00:00', 'Rum 1',"
    " 'uid-7@example.se', 2, 'Protokoll', '2026-09-01 07:00:00', '2026-10-06 09:00:00', 3)",
    "INSERT INTO checklist_item (id, dialog_id, position, key, title, assignee_role,"
    " assignee_id, required, due_at, remind_at, escalate_at, done_at, done_by) VALUES"
    " (11, 7, 1, 'facts', 'Fakta', 'rektor', 2, true, '2026-09-24 14:00:00',"
    " '2026-09-22 06:00:00', '2026-09-28 06:00:00', NULL, NULL)",
    "INSERT INTO agreement (id, dialog_id, position, text, owner_id, due_on) VALUES"
    " (5, 7, 1, 'Följ upp', 2, '2027-01-15')",
)


def test_dialogs_of_0001_survive_the_move_to_instances_and_back(empty_url: str) -> None:
    upgrade(empty_url, "0001")
    _execute(empty_url, *SEED_0001)
    upgrade(empty_url)
    rows = _execute(
        empty_url,
        "SELECT i.id, i.kind, i.key, i.title, i.state, i.ical_sequence, i.version, d.level,"
        " d.round_no, d.participant_id FROM instance i JOIN dialog d ON d.id = i.id",
        "SELECT id, instance_id, key, escalation_level, origin FROM checklist_item",
        "SELECT id, instance_id, text, carried_to_id FROM agreement",
    )
    assert rows == [
        (7, "dialog", "area_rektor:2026/27:r1:skolan", "Verksamhetsdialog Skolan", "held", 2, 3,
         "area_rektor", 1, 2),
        (11, 7, "facts", 0, "definition"),
        (5, 7, "Följ upp", None),
    ]  # fmt: skip
    # New rows get fresh ids after the carried-over ones (PostgreSQL's sequences moved on).
    (new_id,) = _execute(
        empty_url,
        "INSERT INTO instance (kind, key, workflow, workflow_version, title, unit_id, state,"
        " ical_sequence, created_at, updated_at, version) VALUES ('process', 'k', 'w', 1, 't',"
        " 1, 's', 0, '2026-09-01 07:00:00', '2026-09-01 07:00:00', 1) RETURNING id",
    )
    assert new_id[0] > 7
    with pytest.raises(RuntimeError, match=r"holds instances that 0001 cannot store \(1 process\)"):
        command.downgrade(alembic_config(empty_url), "0001")
    _execute(empty_url, f"DELETE FROM instance WHERE id = {new_id[0]}")
    command.downgrade(alembic_config(empty_url), "0001")
    restored = _execute(
        empty_url,
        "SELECT id, state, location, ical_sequence, version FROM dialog",
        "SELECT id, dialog_id, key FROM checklist_item",
        "SELECT id, dialog_id, text FROM agreement",
    )
    assert restored == [(7, "held", "Rum 1", 2, 3), (11, 7, "facts"), (5, 7, "Följ upp")]


TICK_INDEXES = {
    "ix_checklist_item_pending_remind": ("remind_at", "reminded_at is null"),
    "ix_checklist_item_pending_overdue": ("due_at", "overdue_notified_at is null"),
    "ix_instance_state_prepare_at": ("workflow_version", None),
}
"""0008's indexes: a column each must have and the condition of the partial ones."""


def test_the_ticks_indexes_hold_only_pending_work(empty_url: str) -> None:
    """Partial conditions are not compared with the models by Alembic: read them back."""
    upgrade(empty_url)
    query = (
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        if empty_url.startswith("sqlite")
        else "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
    )
    found = {
        str(name): " ".join(str(text).lower().split())
        for name, text in _execute(empty_url, query)
        if text
    }
    for name, (column, condition) in TICK_INDEXES.items():
        assert column in found[name], found[name]
        assert condition is None or condition in found[name].replace("(", "").replace(")", "")
    assert "ix_checklist_item_open_remind" not in found
    command.downgrade(alembic_config(empty_url), "0007")
    assert "ix_checklist_item_open_remind" in {str(r[0]) for r in _execute(empty_url, query)}
