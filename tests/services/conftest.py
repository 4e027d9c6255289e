"""Fixtures for the service tests: a database with round 1 of 2026/27 already planned.

Planning a round renders 80 invites (about a second), so each kind of database is planned
once per session into a template, and each test gets a fresh copy of it, the same way
``db_url`` copies the migrated template.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from datetime import datetime
from importlib.resources import as_file, files
from pathlib import Path

import pytest

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import load_settings
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.context import App
from styrhjul.services.org_import import import_organisation
from styrhjul.services.planning import plan_round
from styrhjul.wiring import build

PLANNED_YEAR = SchoolYear(2026)
PLANNED_ROUND = 1
_names = itertools.count(1)


def write_config(folder: Path, db_url: str, extra: str = "") -> Path:
    """The same configuration as tests/conftest.py writes (that module is shadowed here)."""
    path = folder / "config.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n\n[mail]\ntransport = "maildir"\n\n'
        f'[mail.maildir]\npath = "mail"\n{extra}',
        encoding="utf-8",
    )
    return path


def _plan_into(url: str, folder: Path) -> None:
    settings = load_settings(write_config(folder, url), environ={})
    clock = FixedClock(datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM))
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
    """Like ``db_url``, but with the example organisation and round 1 of 2026/27 planned."""
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
    server = request.getfixturevalue("pg_server")
    if "postgresql" not in planned_templates:
        name = "styrhjul_planned_template"
        server.create_database(name, template="styrhjul_template")
        _plan_into(server.url(name), tmp_path_factory.mktemp("planned-pg"))
        planned_templates["postgresql"] = name
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
