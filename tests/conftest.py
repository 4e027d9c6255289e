"""Shared fixtures: a real database of each kind, settings in a temp folder, a fixed clock.

``db_url`` is parametrised over SQLite and a private PostgreSQL server that this suite
starts itself (``tests/pgserver.py``). Each kind is migrated once per session into a
template; each test gets a fresh copy (a copied SQLite file, ``CREATE DATABASE ... TEMPLATE``).
"""

from __future__ import annotations

import itertools
import shutil
import sys
from collections.abc import Iterator
from datetime import datetime
from importlib.resources import as_file, files
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pgserver import PostgresServer

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import Settings, load_settings
from styrhjul.db.migrate import upgrade
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.context import App
from styrhjul.services.org_import import import_organisation
from styrhjul.wiring import build

PG_TEMPLATE = "styrhjul_template"
_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    with PostgresServer(tmp_path_factory.mktemp("pg")) as server:
        server.create_database(PG_TEMPLATE)
        upgrade(server.url(PG_TEMPLATE))
        yield server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind, private to the test."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "styrhjul.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"t{next(_names)}"
    server.create_database(name, template=PG_TEMPLATE)
    return server.url(name)


def write_config(folder: Path, db_url: str, extra: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n\n[mail]\ntransport = "maildir"\n\n'
        f'[mail.maildir]\npath = "mail"\n{extra}',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return load_settings(write_config(tmp_path, db_url), environ={})


@pytest.fixture
def clock() -> FixedClock:
    """Tuesday 1 September 2026, 09:00 in Stockholm: before round 1 of 2026/27."""
    return FixedClock(datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM))


@pytest.fixture
def empty_app(settings: Settings, clock: FixedClock) -> Iterator[App]:
    app = build(settings, clock=clock, transport=MaildirTransport(settings.maildir_path))
    yield app
    app.close()


@pytest.fixture
def app(empty_app: App) -> App:
    """An application with the example organisation loaded."""
    with as_file(files("styrhjul.examples") / "organisation.toml") as path:
        import_organisation(empty_app, Path(path))
    return empty_app
