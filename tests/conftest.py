"""Shared fixtures: a real database of each kind, settings in a temp folder, a fixed clock,
the example organisation, round 1 of 2026/27 already planned, the CLI over each of these,
and a real SMTP server. No test sees the developer's STYRHJUL_* environment variables.

``db_url`` is parametrised over SQLite and a private PostgreSQL server that this suite
starts itself (``tests/pgserver.py``). Each kind is migrated once per session into a
template; each test gets a fresh copy (a copied SQLite file, ``CREATE DATABASE ... TEMPLATE``).
``planned_url`` does the same with a template in which round 1 is planned.

Plain helpers (``write_config``, ``START``, the ``Cli`` harness, the SMTP ``Collector`` ...)
live in ``tests/support.py``; this module puts tests/ on ``sys.path`` so that they import.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from aiosmtpd.controller import Controller
from pgserver import PostgresServer
from support import START, UPDATE_GOLDEN, Cli, Collector, free_port, write_config

from styrhjul.calendar import SchoolYear
from styrhjul.clock import FixedClock
from styrhjul.config import Settings, load_settings
from styrhjul.db.migrate import upgrade
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.context import App
from styrhjul.services.definitions import remember_definitions
from styrhjul.services.org_import import import_organisation
from styrhjul.services.planning import plan_round
from styrhjul.wiring import build

PG_TEMPLATE = "styrhjul_template"
PG_PLANNED_TEMPLATE = "styrhjul_planned_template"
PLANNED_YEAR = SchoolYear(2026)
PLANNED_ROUND = 1
_names = itertools.count(1)


# --- the environment ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing from the developer's shell may steer the code under test.

    Every STYRHJUL_* variable is removed but STYRHJUL_UPDATE_GOLDEN and STYRHJUL_SCREENSHOTS,
    which steer the suite itself (``support.check_golden``, ``web.webkit.shot``). COLUMNS is
    wide so that rich tables never truncate.
    """
    for name in list(os.environ):
        if name.startswith("STYRHJUL_") and name not in (UPDATE_GOLDEN, "STYRHJUL_SCREENSHOTS"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "250")


# --- databases ---------------------------------------------------------------------------


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


# --- the application ---------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return load_settings(write_config(tmp_path, db_url), environ={})


@pytest.fixture
def clock() -> FixedClock:
    """Tuesday 1 September 2026, 09:00 in Stockholm: before round 1 of 2026/27."""
    return FixedClock(START)


@pytest.fixture
def empty_app(settings: Settings, clock: FixedClock) -> Iterator[App]:
    app = build(settings, clock=clock, transport=MaildirTransport(settings.maildir_path))
    remember_definitions(app)
    yield app
    app.close()


@pytest.fixture
def app(empty_app: App) -> App:
    """An application with the example organisation loaded."""
    with as_file(files("styrhjul.examples") / "organisation.toml") as path:
        import_organisation(empty_app, Path(path))
    return empty_app


# --- round 1 of 2026/27 planned ----------------------------------------------------------
# Planning a round renders 80 invites (about a second), so each kind of database is planned
# once per session into a template, and each test gets a fresh copy of it, the same way
# ``db_url`` copies the migrated template.


def _plan_into(url: str, folder: Path) -> None:
    settings = load_settings(write_config(folder, url), environ={})
    clock = FixedClock(START)
    app = build(settings, clock=clock, transport=MaildirTransport(settings.maildir_path))
    try:
        with as_file(files("styrhjul.examples") / "organisation.toml") as path:
            import_organisation(app, Path(path))
        result = plan_round(app, PLANNED_YEAR, PLANNED_ROUND)
        assert len(result.created) == 40
    finally:
        app.close()


@pytest.fixture(scope="session")
def planned_templates() -> dict[str, str]:
    """Kind of database -> its planned template (a file path or a database name)."""
    return {}


@pytest.fixture
def planned_url(
    db_url: str,
    request: pytest.FixtureRequest,
    planned_templates: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """Like ``db_url``, but with the example organisation and round 1 of 2026/27 planned.

    Its outbox holds the 80 invites, pending: nothing has been sent.
    """
    if db_url.startswith("sqlite"):
        if "sqlite" not in planned_templates:
            template: Path = request.getfixturevalue("sqlite_template")
            folder = tmp_path_factory.mktemp("planned-sqlite")
            target = folder / "planned.db"
            shutil.copyfile(template, target)
            _plan_into(f"sqlite:///{target}", folder)
            planned_templates["sqlite"] = str(target)
        shutil.copyfile(planned_templates["sqlite"], db_url.removeprefix("sqlite:///"))
        return db_url
    server: PostgresServer = request.getfixturevalue("pg_server")
    if "postgresql" not in planned_templates:
        server.create_database(PG_PLANNED_TEMPLATE, template=PG_TEMPLATE)
        _plan_into(server.url(PG_PLANNED_TEMPLATE), tmp_path_factory.mktemp("planned-pg"))
        planned_templates["postgresql"] = PG_PLANNED_TEMPLATE
    name = f"planned_{next(_names)}"
    server.create_database(name, template=planned_templates["postgresql"])
    return server.url(name)


@pytest.fixture
def planned_app(planned_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[App]:
    """An application on a copy of the planned database; its Maildir lies under tmp_path."""
    folder = tmp_path / "planned-app"
    folder.mkdir()
    settings = load_settings(write_config(folder, planned_url), environ={})
    app = build(settings, clock=clock, transport=MaildirTransport(settings.maildir_path))
    yield app
    app.close()


# --- the command line --------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The CLI over a migrated, empty database of each kind, at ``NOW``."""
    return Cli(write_config(tmp_path, db_url), capsys)


@pytest.fixture
def org_cli(cli: Cli) -> Cli:
    """``cli`` with the example organisation loaded (``init --example``)."""
    cli.ok("init", "--example")
    return cli


@pytest.fixture
def planned_cli(tmp_path: Path, planned_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The CLI over a copy of the planned database (``planned_url``), at ``NOW``.

    Nothing has run yet: the 80 invites are pending, the Maildir is empty.
    """
    return Cli(write_config(tmp_path, planned_url), capsys)


# --- a real SMTP server on loopback ------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Controller]]:
    """Starts aiosmtpd controllers on 127.0.0.1; a server that cannot start fails the test.

    ``smtp_server(handler, port=None, **kwargs)`` returns the running controller; its
    ``port`` is where to connect. Every server still running is stopped after the test.
    """
    started: list[Controller] = []

    def start(handler: Collector, port: int | None = None, **kwargs: Any) -> Controller:
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port or free_port(),
            ready_timeout=5.0,
            server_hostname="smtp.test",
            **kwargs,
        )
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        if controller._thread is not None:  # stopped already by the test
            controller.stop()
