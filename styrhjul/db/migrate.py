"""Alembic, driven from code: ``styrhjul db upgrade`` and ``styrhjul init`` call :func:`upgrade`.

The migration scripts live in ``styrhjul/db/migrations`` inside the package, so an
installed Styrhjul can migrate its database without a checkout or an ``alembic.ini``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from styrhjul.errors import InputError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``; creates a SQLite file's folder."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def require_current(url: str) -> None:
    """Refuse to work on a database that is missing or not migrated to this version."""
    hint = "run 'styrhjul init' (or 'styrhjul db upgrade') first"
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise InputError(f"no database at {path}; {hint}", key="database.url")
    try:
        current = current_revision(url)
    except SQLAlchemyError as exc:
        raise InputError(
            f"cannot open the database: {getattr(exc, 'orig', None) or exc}",
            key="database.url",
        ) from None
    head = head_revision()
    if current != head:
        raise InputError(
            f"the database is at revision {current or 'none (empty)'},"
            f" this version needs {head}; {hint}",
            key="database.url",
        )
