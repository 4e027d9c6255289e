"""Definition versions: a running instance keeps the version it started with.

The application is built on a private copy of every shipped definition, so that a test
can edit ``dialog_round.toml`` as an administration would: version 2 no longer lets a
planned dialog be cancelled. Dialogs planned on version 1 are still driven by the
version-1 machine, rebuilt from the text stored when it was first used; dialogs planned
afterwards start on version 2. Changing a file without raising its version is refused.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from support import dialog_id_of, line_with

from styrhjul.calendar import SchoolYear
from styrhjul.clock import FixedClock
from styrhjul.config import Settings
from styrhjul.db.models import Dialog, OrgUnit, WorkflowSource
from styrhjul.errors import DefinitionError, NotFound, TransitionRefused
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.context import App
from styrhjul.services.definitions import digest, list_workflows, remember_definitions
from styrhjul.services.dialogs import cancel
from styrhjul.services.org_import import import_organisation
from styrhjul.services.planning import plan_round
from styrhjul.wiring import build
from styrhjul.workflows import definition_paths

AREA_HEAD = "verksamhetschef.grundskola-norr@example.se"
YEAR = SchoolYear(2026)
EXAMPLE = Path(__file__).parents[2] / "styrhjul" / "examples" / "organisation.toml"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of every shipped definition."""
    target = tmp_path / "workflows"
    target.mkdir()
    for path in definition_paths():
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture
def apps() -> Iterator[list[App]]:
    """Builds apps on ``folder``; each is closed after the test."""
    built: list[App] = []
    yield built
    for app in built:
        app.close()


def start(settings: Settings, clock: FixedClock, folder: Path, apps: list[App]) -> App:
    """Build on the definitions in ``folder`` and remember them, as the CLI does."""
    app = build(
        settings,
        clock=clock,
        transport=MaildirTransport(settings.maildir_path),
        workflows_dir=folder,
    )
    apps.append(app)
    remember_definitions(app)
    return app


def no_cancel_while_planned(text: str) -> str:
    """Version 2 of dialog_round: a planned dialog can no longer be cancelled."""
    text = re.sub(r"(?m)^version = 1$", "version = 2", text, count=1)
    cancel_table = re.search(r'trigger = "cancel"\n(?:[^\[].*\n|\n)*', text)
    assert cancel_table is not None
    table = cancel_table.group(0)
    assert '"planned", ' in table
    return text.replace(table, table.replace('"planned", ', "", 1))


def dialog_of(app: App, round_no: int, unit: str = "vastra-skolan") -> int:
    with app.db.session() as session:
        found = session.scalar(
            select(Dialog.id)
            .join(OrgUnit, Dialog.unit_id == OrgUnit.id)
            .where(OrgUnit.code == unit, Dialog.round_no == round_no)
        )
    assert found is not None
    return found


def version_of(app: App, dialog_id: int) -> int:
    with app.db.session() as session:
        dialog = session.get(Dialog, dialog_id)
        assert dialog is not None
        return dialog.workflow_version


def test_running_instances_keep_their_version_new_ones_get_the_new(
    settings: Settings, clock: FixedClock, folder: Path, apps: list[App]
) -> None:
    v1 = start(settings, clock, folder, apps)
    import_organisation(v1, EXAMPLE)
    plan_round(v1, YEAR, 1)
    old_dialog = dialog_id_of(v1)
    other_old = dialog_of(v1, 1, "norrbackaskolan")
    assert version_of(v1, old_dialog) == 1

    path = folder / "dialog_round.toml"
    path.write_text(no_cancel_while_planned(path.read_text(encoding="utf-8")), encoding="utf-8")
    clock.advance(timedelta(days=1))
    v2 = start(settings, clock, folder, apps)

    with v2.db.session() as session:
        stored = {
            (row.version, row.first_used_at)
            for row in session.scalars(
                select(WorkflowSource).where(WorkflowSource.name == "dialog_round")
            )
        }
    assert {version for version, _ in stored} == {1, 2}
    assert dict(stored)[2] == clock.now()

    # the version-1 machine comes from the stored text, and still allows the old move
    older = v2.machine("dialog_round", 1)
    assert older is not v2.machine("dialog_round")
    assert str(older.definition.source.path) == "stored:dialog_round@1"
    assert "cancel" in older.allowed_triggers("planned")
    assert "cancel" not in v2.machine("dialog_round").allowed_triggers("planned")
    assert v2.machine("dialog_round", 1) is older  # built once, then cached

    assert cancel(v2, old_dialog, actor=AREA_HEAD, reason="sjukdom") == "cancelled"

    plan_round(v2, YEAR, 2)
    new_dialog = dialog_of(v2, 2)
    assert version_of(v2, new_dialog) == 2
    with pytest.raises(TransitionRefused) as refused:
        cancel(v2, new_dialog, actor=AREA_HEAD, reason="sjukdom")
    assert refused.value.state == "planned"
    assert "cancel" not in refused.value.allowed

    (listing,) = [w for w in list_workflows(v2) if w.name == "dialog_round"]
    assert listing.version == 2
    by_version = {use.version: (use.running, use.finished) for use in listing.versions}
    assert by_version[1] == (39, 1)  # round 1: one dialog cancelled (a final state)
    assert by_version[2] == (40, 0)
    assert version_of(v2, other_old) == 1


def test_same_version_with_changed_text_is_refused(
    settings: Settings, clock: FixedClock, folder: Path, apps: list[App]
) -> None:
    start(settings, clock, folder, apps)
    path = folder / "dialog_round.toml"
    text = path.read_text(encoding="utf-8").replace(
        'title = "Förberedd"', 'title = "Klar för dialog"', 1
    )
    path.write_text(text, encoding="utf-8")
    app = build(settings, clock=clock, workflows_dir=folder)
    apps.append(app)
    with pytest.raises(DefinitionError) as info:
        remember_definitions(app)
    err = info.value
    assert err.file == str(path)
    assert err.key == "workflow.version"
    assert err.line == line_with(text, "version = 1")
    assert "workflow 'dialog_round' version 1 was changed without raising workflow.version; " in (
        err.detail
    )
    assert "the stored text differs" in err.detail
    with app.db.session() as session:
        (stored,) = session.scalars(
            select(WorkflowSource.sha256).where(WorkflowSource.name == "dialog_round")
        )
    assert stored != digest(text)


def test_remembering_twice_stores_each_version_once(
    settings: Settings, clock: FixedClock, folder: Path, apps: list[App]
) -> None:
    app = start(settings, clock, folder, apps)
    names = {p.stem for p in definition_paths(folder)}
    with app.db.session() as session:
        rows = list(session.scalars(select(WorkflowSource)))
    assert {r.name for r in rows} >= {"dialog_round"}
    assert len(rows) == len(names)  # one file per workflow, named after it
    assert all(r.first_used_at == clock.now() and r.sha256 == digest(r.text) for r in rows)
    assert remember_definitions(app) == []


def test_a_version_never_stored_is_not_found(
    settings: Settings, clock: FixedClock, folder: Path, apps: list[App]
) -> None:
    app = start(settings, clock, folder, apps)
    with pytest.raises(NotFound, match="workflow version dialog_round 7"):
        app.machine("dialog_round", 7)
