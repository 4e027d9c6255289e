"""``[workflows] folder``: the installed definitions, overlaying the shipped ones.

An application runs on the shipped definitions, each replaced by a file in the configured
folder that defines the same workflow with a higher version, plus the workflows defined
only there; a lower or equal version is refused naming the file, the line and
``workflow.version``. Installing from the web writes into that folder, never into the
package. The commands that read definitions (``styrhjul workflows ...``) see the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import START, Cli, line_with

from styrhjul.clock import FixedClock
from styrhjul.config import Settings
from styrhjul.errors import ConfigError, DefinitionError, InputError
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.context import App
from styrhjul.services.definitions import (
    list_workflows,
    overlay,
    remember_definitions,
    running_definitions,
    validate_paths,
)
from styrhjul.services.workflow_install import install_definition
from styrhjul.wiring import build
from styrhjul.workflows import DEFINITIONS, definition_path, definition_paths

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""The rules are about files: one database kind is enough."""

SHIPPED = definition_path("team_dialog")
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")
ADMIN = "admin@example.se"


def raised(version: int, title: str = "Dialog med arbetslaget") -> str:
    """team_dialog at ``version``, retitled so that its text differs from the shipped one."""
    assert "version = 1\n" in SHIPPED_TEXT
    return SHIPPED_TEXT.replace("version = 1\n", f"version = {version}\n", 1).replace(
        'title = "Dialog med arbetslag"', f'title = "{title}"', 1
    )


def other_workflow(name: str) -> str:
    """A workflow the package does not ship: team_dialog under another name."""
    return SHIPPED_TEXT.replace('name = "team_dialog"', f'name = "{name}"', 1)


@pytest.fixture
def folder(settings: Settings) -> Path:
    """The configured folder (``data/workflows`` beside the config file), created here."""
    folder = settings.workflows_folder
    assert folder == settings.root / "data" / "workflows"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def apps() -> Iterator[list[App]]:
    built: list[App] = []
    yield built
    for app in built:
        app.close()


def start(settings: Settings, apps: list[App]) -> App:
    app = build(
        settings, clock=FixedClock(START), transport=MaildirTransport(settings.maildir_path)
    )
    apps.append(app)
    return app


# --- the overlay -----------------------------------------------------------------------------


@sqlite_only
def test_an_installed_file_replaces_the_shipped_definition(
    settings: Settings, folder: Path, apps: list[App]
) -> None:
    installed = folder / "team_dialog.toml"
    installed.write_text(raised(2), encoding="utf-8")
    app = start(settings, apps)
    definition = app.machine("team_dialog").definition
    assert (definition.version, definition.source.path) == (2, installed)
    assert definition.spec.workflow.title == "Dialog med arbetslaget"
    shipped_names = {p.stem for p in definition_paths()}
    assert set(app.machines) == shipped_names  # the others are the shipped ones
    assert app.machine("dialog_round").definition.source.path == definition_path("dialog_round")


@sqlite_only
def test_an_installed_version_equal_to_the_shipped_one_is_refused(
    settings: Settings, folder: Path, apps: list[App]
) -> None:
    installed = folder / "mitt-arbetslag.toml"
    text = raised(1)
    installed.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as refused:
        start(settings, apps)
    error = refused.value
    assert (error.file, error.key) == (str(installed), "workflow.version")
    assert error.line == line_with(text, "version = 1")
    assert "version 1 does not replace the shipped version 1" in error.detail
    assert str(SHIPPED) in error.detail


@pytest.mark.parametrize("version", [1, 2])
def test_an_installed_version_below_the_shipped_one_is_refused(
    tmp_path: Path, version: int
) -> None:
    """As after an upgrade whose package raised the shipped version past the installed one."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "team_dialog.toml").write_text(raised(2, "Ny i paketet"), encoding="utf-8")
    installed = tmp_path / "installed"
    installed.mkdir()
    text = raised(version)
    (installed / "team_dialog.toml").write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as refused:
        running_definitions(installed, shipped=shipped)
    error = refused.value
    assert (error.file, error.line, error.key) == (
        str(installed / "team_dialog.toml"),
        line_with(text, f"version = {version}"),
        "workflow.version",
    )
    assert "needs a higher workflow.version (at least 3)" in error.detail
    (installed / "team_dialog.toml").write_text(raised(3), encoding="utf-8")
    (definition,) = running_definitions(installed, shipped=shipped)
    assert definition.version == 3


@sqlite_only
def test_a_workflow_only_in_the_folder_is_added(
    settings: Settings, folder: Path, apps: list[App]
) -> None:
    (folder / "extra_dialog.toml").write_text(other_workflow("extra_dialog"), encoding="utf-8")
    app = start(settings, apps)
    assert app.machine("extra_dialog").definition.version == 1
    assert app.machine("team_dialog").definition.source.path == SHIPPED
    assert ("extra_dialog", 1) in remember_definitions(app)


@sqlite_only
def test_a_missing_folder_is_empty_and_not_created(settings: Settings, apps: list[App]) -> None:
    app = start(settings, apps)
    assert {d.source.path for d in (m.definition for m in app.machines.values())} == set(
        definition_paths()
    )
    assert not settings.workflows_folder.exists()
    assert not settings.workflows_folder.parent.exists()


@sqlite_only
def test_two_installed_files_for_one_workflow_are_refused(folder: Path) -> None:
    (folder / "a.toml").write_text(raised(2), encoding="utf-8")
    (folder / "b.toml").write_text(raised(3), encoding="utf-8")
    with pytest.raises(DefinitionError) as refused:
        running_definitions(folder)
    assert (refused.value.file, refused.value.key) == (str(folder / "b.toml"), "workflow.name")
    assert f"also defined in {folder / 'a.toml'}" in refused.value.detail


def test_the_shipped_folder_cannot_be_the_installed_one() -> None:
    definitions, errors = overlay(DEFINITIONS)
    assert len(definitions) == len(definition_paths())
    (error,) = errors
    assert isinstance(error, ConfigError)
    assert error.key == "workflows.folder"
    assert "outside the package" in error.detail


@sqlite_only
def test_validate_reports_every_refusal_of_the_overlay(folder: Path) -> None:
    (folder / "team_dialog.toml").write_text(raised(1), encoding="utf-8")
    (folder / "extra_dialog.toml").write_text(other_workflow("extra_dialog"), encoding="utf-8")
    (folder / "broken.toml").write_text("[workflow\n", encoding="utf-8")
    report = validate_paths((), folder)
    assert sorted((p.file, p.key) for p in report.problems) == [
        (str(folder / "broken.toml"), None),
        (str(folder / "team_dialog.toml"), "workflow.version"),
    ]
    files = {d.name: d.file for d in report.definitions}
    assert files["extra_dialog"] == str(folder / "extra_dialog.toml")
    assert files["team_dialog"] == str(SHIPPED)


# --- installing ------------------------------------------------------------------------------


@sqlite_only
def test_install_writes_into_the_configured_folder_not_the_package(
    settings: Settings, apps: list[App]
) -> None:
    app = start(settings, apps)
    folder = settings.workflows_folder
    assert not folder.exists()
    installed = install_definition(app, "team_dialog.toml", raised(2), actor=ADMIN)
    target = folder / "team_dialog.toml"
    assert installed.path == str(target)
    assert (installed.version, installed.old_version) == (2, 1)
    assert target.read_text(encoding="utf-8") == raised(2)
    assert folder.stat().st_mode & 0o777 == 0o750
    assert SHIPPED.read_text(encoding="utf-8") == SHIPPED_TEXT
    assert [p.name for p in folder.iterdir()] == ["team_dialog.toml"]  # no temporary left
    assert app.machine("team_dialog").definition.source.path == target

    again = install_definition(app, "x.toml", raised(3, "Arbetslagets dialog"), actor=ADMIN)
    assert again.path == str(target)  # the installed file is replaced, not joined
    added = install_definition(app, "extra.toml", other_workflow("extra_dialog"), actor=ADMIN)
    assert added.path == str(folder / "extra_dialog.toml")
    assert SHIPPED.read_text(encoding="utf-8") == SHIPPED_TEXT

    restarted = start(settings, apps)  # another process: the same definitions from the folder
    assert restarted.machine("team_dialog").definition.version == 3
    assert restarted.machine("extra_dialog").definition.source.path == Path(added.path)


@sqlite_only
def test_install_replaces_an_installed_file_of_another_name(
    settings: Settings, folder: Path, apps: list[App]
) -> None:
    """The folder never holds two files for one workflow, which would stop the next start."""
    mine = folder / "mitt-arbetslag.toml"
    mine.write_text(raised(2), encoding="utf-8")
    app = start(settings, apps)
    install_definition(app, "team_dialog.toml", raised(3, "Arbetslagets dialog"), actor=ADMIN)
    assert sorted(p.name for p in folder.iterdir()) == ["mitt-arbetslag.toml"]
    assert start(settings, apps).machine("team_dialog").definition.version == 3


@sqlite_only
def test_install_refuses_a_file_name_taken_by_another_workflow(
    settings: Settings, folder: Path, apps: list[App]
) -> None:
    (folder / "extra_dialog.toml").write_text(other_workflow("annat_dialog"), encoding="utf-8")
    app = start(settings, apps)
    with pytest.raises(InputError) as refused:
        install_definition(app, "extra.toml", other_workflow("extra_dialog"), actor=ADMIN)
    assert refused.value.key == "workflow.name"
    assert "extra_dialog.toml already exists" in refused.value.detail
    assert "extra_dialog" not in app.machines


# --- the commands ----------------------------------------------------------------------------


@pytest.fixture
def cli(settings: Settings, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(settings.path, capsys, now=None)


@sqlite_only
def test_the_commands_read_the_overlay(
    settings: Settings, folder: Path, cli: Cli, tmp_path: Path
) -> None:
    installed = folder / "team_dialog.toml"
    installed.write_text(raised(2), encoding="utf-8")
    out = cli.ok("workflows", "validate")
    assert f"ok {installed}: team_dialog version 2" in out
    assert f"ok {SHIPPED}" not in out
    assert f"ok {definition_path('dialog_round')}: dialog_round version 1" in out

    old = tmp_path / "old.toml"
    old.write_text(SHIPPED_TEXT, encoding="utf-8")
    (diff,) = cli.json("workflows", "diff", "--against", str(old))
    assert (diff["new"], diff["old_version"], diff["new_version"]) == (str(installed), 1, 2)

    rows = {r["name"]: r for r in cli.json("workflows", "list")}
    assert rows["team_dialog"]["version"] == 2

    installed.write_text(raised(1), encoding="utf-8")
    code, out, _ = cli("workflows", "validate")
    assert code == 2
    assert f"{installed}:{line_with(raised(1), 'version = 1')}: workflow.version:" in out
    error = cli.fails(2, "workflows", "list")
    assert f"{installed}:" in error
    assert "workflow.version" in error


def test_validate_without_configuration_reads_the_shipped_definitions_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from styrhjul.cli.main import main  # noqa: PLC0415 - as the other CLI tests call it

    monkeypatch.chdir(tmp_path)  # no config.toml here, none named
    capsys.readouterr()
    assert main(["workflows", "validate", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(d["file"] for d in report["definitions"]) == sorted(
        str(p) for p in definition_paths()
    )
    missing = tmp_path / "finns-inte.toml"
    assert main(["--config", str(missing), "workflows", "validate"]) == 2
    assert "configuration file not found" in capsys.readouterr().err


@sqlite_only
def test_list_shows_the_installed_version(settings: Settings, apps: list[App]) -> None:
    app = start(settings, apps)
    install_definition(app, "team_dialog.toml", raised(2), actor=ADMIN)
    (listing,) = [w for w in list_workflows(app) if w.name == "team_dialog"]
    assert listing.version == 2
    assert [v.version for v in listing.versions] == [1, 2]
