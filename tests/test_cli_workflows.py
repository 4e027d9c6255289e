"""``styrhjul workflows diff`` and ``styrhjul workflows list`` through ``main(argv)``.

``validate`` is tested with the kinds of error in ``tests/engine/test_validate.py``. Here:
comparing two files needs no configuration; comparing with the database shows what
changed since the stored version (and says so when the text changed without a new
version number); ``list`` counts instances per stored version; and a command that opens
the application refuses a definition changed without raising its version.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from support import START, Cli, line_with, write_config

from styrhjul.cli.main import main
from styrhjul.clock import FixedClock
from styrhjul.config import load_settings
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.definitions import remember_definitions
from styrhjul.wiring import build
from styrhjul.workflows import definition_path, definition_paths

SHIPPED = definition_path("dialog_round")
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")
RETITLED = SHIPPED_TEXT.replace('title = "Förberedd"', 'title = "Klar för dialog"', 1)
RETITLED_LINE = 'state ready retitled: "Förberedd" → "Klar för dialog"'
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ok_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


# --- two files: no database ----------------------------------------------------------------


def test_diff_of_two_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "new.toml"
    new.write_text(RETITLED.replace("version = 1", "version = 2", 1), encoding="utf-8")
    code, out, err = run(capsys, "workflows", "diff", str(SHIPPED), str(new))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "dialog_round: version 1 → 2",
        "  workflow version: 1 → 2",
        f"  {RETITLED_LINE}",
    ]
    (diff,) = ok_json(capsys, "workflows", "diff", str(SHIPPED), str(new))
    assert (diff["old"], diff["new"]) == (str(SHIPPED), str(new))
    assert [c["field"] for c in diff["changes"]] == ["version", "title"]


def test_diff_without_differences_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "workflows", "diff", str(SHIPPED), str(SHIPPED))
    assert code == 0
    assert out.splitlines() == ["dialog_round: version 1 → 1", "  no changes"]


def test_diff_against_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.toml"
    old.write_text(RETITLED, encoding="utf-8")
    (diff,) = ok_json(capsys, "workflows", "diff", "--against", str(old))
    assert diff["new"] == str(SHIPPED)
    (change,) = diff["changes"]
    assert change["line"] == 'state ready retitled: "Klar för dialog" → "Förberedd"'


def test_diff_of_a_broken_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    text = SHIPPED_TEXT.replace('initial = "planned"', 'initial = "planed"')
    bad.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "workflows", "diff", str(SHIPPED), str(bad))
    assert code == 2
    assert out == ""
    assert err.startswith(
        f"error: {bad}:{line_with(text, 'initial = ')}: workflow.initial: unknown state 'planed'"
    )


# --- against the database ------------------------------------------------------------------


def _store_retitled_version_1(folder: Path, db_url: str) -> None:
    """As if a server had run with dialog_round version 1 retitled, then the file changed."""
    workflows = folder / "old-workflows"
    workflows.mkdir()
    for path in definition_paths():
        shutil.copy(path, workflows / path.name)
    (workflows / SHIPPED.name).write_text(RETITLED, encoding="utf-8")
    settings = load_settings(write_config(folder, db_url), environ={})
    app = build(
        settings,
        clock=FixedClock(START),
        transport=MaildirTransport(settings.maildir_path),
        workflows_dir=workflows,
    )
    try:
        remember_definitions(app)
    finally:
        app.close()


@sqlite_only
def test_diff_against_stored_and_the_refusal(tmp_path: Path, db_url: str, cli: Cli) -> None:
    _store_retitled_version_1(tmp_path, db_url)

    diffs = cli.json("workflows", "diff", now=None)
    assert sorted(d["name"] for d in diffs) == sorted(p.stem for p in definition_paths())
    by_name = {d["name"]: d for d in diffs}
    dialog = by_name.pop("dialog_round")
    assert dialog["note"] == "the text changed without raising workflow.version"
    assert dialog["old"] == "stored:dialog_round@1"
    assert [c["line"] for c in dialog["changes"]] == [
        'state ready retitled: "Klar för dialog" → "Förberedd"'
    ]
    assert all(d["changes"] == [] and d["note"] == "" for d in by_name.values())

    code, out, _ = cli("workflows", "diff", "dialog_round", now=None)
    assert code == 0
    assert out.splitlines()[0] == (
        "dialog_round: version 1 → 1 (the text changed without raising workflow.version)"
    )

    code, _, err = cli("workflows", "diff", "nonesuch", now=None)
    assert code == 3
    assert "workflow 'nonesuch'" in err

    # any command that opens the application refuses the changed file
    code, out, err = cli("workflows", "list", now=None)
    assert code == 2
    line = line_with(SHIPPED_TEXT, "version = 1")
    assert err.startswith(f"error: {SHIPPED}:{line}: workflow.version: workflow 'dialog_round' ")
    assert "changed without raising workflow.version; the stored text differs" in err


@sqlite_only
def test_diff_before_anything_is_stored(cli: Cli) -> None:
    code, out, _ = cli("workflows", "diff", "dialog_round", now=None)
    assert code == 0
    assert out.splitlines() == ["dialog_round: no version stored yet: no instance has used it"]


def test_list_counts_instances_per_version(planned_cli: Cli) -> None:
    rows = planned_cli.json("workflows", "list")
    assert sorted(r["name"] for r in rows) == sorted(p.stem for p in definition_paths())
    (dialog,) = [r for r in rows if r["name"] == "dialog_round"]
    assert (dialog["version"], dialog["kind"], dialog["title"]) == (
        1,
        "dialog",
        "Verksamhetsdialog",
    )
    (use,) = dialog["versions"]
    assert (use["version"], use["running"], use["finished"]) == (1, 40, 0)
    assert use["first_used_at"].startswith("2026-09-01T")

    code, out, _ = planned_cli("workflows", "list", now=None)
    assert code == 0
    assert "dialog_round" in out
    assert "Verksamhetsdialog" in out
