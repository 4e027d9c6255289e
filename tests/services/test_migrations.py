"""The migrations build exactly the models' schema, on SQLite and PostgreSQL, and undo cleanly."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from styrhjul.db.migrate import alembic_config, current_revision, head_revision, upgrade
from styrhjul.db.models import Base

_fresh = itertools.count(1)
TABLES = {"agenda_item", "agreement", "assignment", "assignment_member", "assignment_unit",
          "audit_event", "checklist_item", "dialog", "instance", "measure", "meeting",
          "meeting_attendee", "observation", "org_unit", "outbox_message", "outcome", "person",
          "role_assignment", "workflow_source"}  # fmt: skip


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
