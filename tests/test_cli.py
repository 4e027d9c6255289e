"""End-to-end tests of the command line: ``styrhjul.cli.main.main(argv)`` in-process, and the
installed console script through a subprocess for the real entry point and exit codes.

Every test writes its own ``config.toml`` (``write_config``) into ``tmp_path``, so the Maildir
is ``tmp_path / "mail"``, and fixes the clock with the global ``--now`` option. Tests of a
planned round start from a copy of the planned database (``planned_url``); one test per
database plans and sends through the CLI itself.
"""

from __future__ import annotations

import email
import email.utils
import os
import subprocess
import sys
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from support import NOW, Cli, write_config

from styrhjul.cli.main import main

YEAR = "2026/27"
SCRIPT = Path(sys.executable).parent / "styrhjul"

SECRETARY = "sekreterare.ledningsgrupp@example.se"
VASTRA_REKTOR = "rektor.vastra-skolan@example.se"
NORR_HEAD = "verksamhetschef.grundskola-norr@example.se"
NORRBACKA_REKTOR = "rektor.norrbackaskolan@example.se"

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _at(moment: str, delta: timedelta = timedelta()) -> str:
    """An ISO time from ``dialog show --json``, moved by ``delta``, as a --now value."""
    return (datetime.fromisoformat(moment) + delta).isoformat()


def _calendar_part(path: Path) -> Message:
    message = email.message_from_bytes(path.read_bytes())
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, f"{path.name}: expected one text/calendar part"
    return parts[0]


@pytest.fixture
def sent_cli(planned_cli: Cli) -> Cli:
    """``planned_cli`` after its first ``run`` has sent the 80 invites into the empty Maildir."""
    assert planned_cli.mails() == []
    planned_cli.ok("run")
    assert len(planned_cli.mails()) == 80
    return planned_cli


# --- set-up and organisation -------------------------------------------------------------


def test_init_example_loads_once_and_db_is_at_head(cli: Cli) -> None:
    first = cli.ok("init", "--example")
    assert "database ready" in first
    assert "example organisation: 65 units, 68 people, 88 role assignments added" in first
    again = cli.ok("init", "--example")
    assert "example organisation: 0 units, 0 people, 0 role assignments added" in again
    lines = dict(
        line.split(":", 1) for line in cli.ok("db", "current", now=None).strip().splitlines()
    )
    assert lines["current"].strip() == lines["head"].strip() != "empty"


def test_org_tree_and_lookups(org_cli: Cli) -> None:
    roots = org_cli.json("org")
    assert len(roots) == 1
    assert roots[0]["kind"] == "council"

    def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
        return [node, *(n for child in node["children"] for n in walk(child))]

    areas = [n for n in walk(roots[0]) if n["kind"] == "area"]
    assert len(areas) == 5
    north = next(a for a in areas if a["code"] == "grundskola-norr")
    assert north["roles"]["area_head"] == [f"Verksamhetschef grundskola norr <{NORR_HEAD}>"]

    holder = org_cli.ok("org", "who", "area_head", "vastra-skolan").strip()
    assert holder.endswith(f"<{NORR_HEAD}>")
    assert org_cli.ok("org", "superior", VASTRA_REKTOR).strip().endswith(f"<{NORR_HEAD}>")
    assert (
        org_cli.ok("org", "superior", NORR_HEAD)
        .strip()
        .endswith("<utbildningsdirektor@example.se>")
    )
    # Role history: Östra skolan changed rektor on 2025-08-01.
    before = org_cli.ok("org", "who", "rektor", "ostra-skolan", "--on", "2025-07-31")
    after = org_cli.ok("org", "who", "rektor", "ostra-skolan", "--on", "2025-08-01")
    assert "<tidigare-rektor.ostra-skolan@example.se>" in before
    assert "<rektor.ostra-skolan@example.se>" in after

    table = org_cli.ok("org")
    assert "Västra skolan" in table
    assert VASTRA_REKTOR in table


@sqlite_only
def test_org_errors(org_cli: Cli) -> None:
    code, _, err = org_cli("org", "who", "boss", "vastra-skolan")
    assert code == 2
    assert "unknown role 'boss'" in err
    code, _, err = org_cli("org", "who", "rektor", "nowhere")
    assert code == 3
    assert "nowhere" in err
    code, _, err = org_cli("org", "superior", "nobody@example.se")
    assert code == 3
    code, _, err = org_cli("org", "--on", "2026-02-30")
    assert code == 2
    assert "--on" in err


@sqlite_only
def test_org_without_organisation_says_what_to_do(cli: Cli) -> None:
    assert "styrhjul init --example" in cli.ok("org")
    assert cli.json("org") == []


# --- planning and the run loop -----------------------------------------------------------


def test_plan_is_idempotent_and_run_sends_invites_once(org_cli: Cli) -> None:
    first = org_cli.json("plan", "--school-year", YEAR, "--round", "1")
    assert first["school_year"] == YEAR
    assert first["round"] == 1
    assert len(first["created"]) == 40
    assert first["existing"] == 0
    assert first["invites_queued"] == 80
    assert first["skipped"] == []

    again = org_cli.json("plan", "--school-year", YEAR, "--round", "1")
    assert again["created"] == []
    assert again["existing"] == 40
    assert again["invites_queued"] == 0

    out = org_cli.ok("run")
    assert out.startswith("preparations opened: 0;")
    assert "messages sent: 80, to retry: 0, failed: 0" in out
    assert len(org_cli.mails()) == 80
    out = org_cli.ok("run")
    assert "messages sent: 0" in out
    assert len(org_cli.mails()) == 80


@sqlite_only
def test_plan_text_output_and_unknown_round(org_cli: Cli) -> None:
    out = org_cli.ok("plan", "--school-year", YEAR, "--round", "1")
    assert out.startswith(
        f"area_rektor, school year {YEAR}, round 1: 40 dialogs planned, 0 already planned"
    )
    code, out, err = org_cli("plan", "--school-year", YEAR, "--round", "9")
    assert code == 2
    assert "round 9" in err
    assert out == ""
    code, _, err = org_cli("plan", "--school-year", "26/27", "--round", "1")
    assert code == 2
    assert "26/27" in err


@sqlite_only
def test_plan_without_options_takes_the_next_round(org_cli: Cli) -> None:
    result = org_cli.json("plan")
    assert (result["school_year"], result["round"]) == (YEAR, 1)
    assert len(result["created"]) == 40


@sqlite_only
def test_plan_round_zero_is_refused_without_school_year(org_cli: Cli) -> None:
    code, _, err = org_cli("plan", "--round", "0")
    assert code == 2
    assert "round 0" in err


# --- dialogs -----------------------------------------------------------------------------


@sqlite_only
def test_dialog_list_and_show(sent_cli: Cli) -> None:
    rows = sent_cli.json("dialog", "list")
    assert len(rows) == 40
    assert {r["state"] for r in rows} == {"planned"}
    starts = [r["starts_at"] for r in rows]
    assert starts == sorted(starts)

    north = sent_cli.json("dialog", "list", "--area", "grundskola-norr")
    assert north
    assert {r["area"] for r in north} == {"grundskola-norr"}
    assert len(north) == sum(r["area"] == "grundskola-norr" for r in rows)
    assert sent_cli.json("dialog", "list", "--round", "2") == []
    assert len(sent_cli.json("dialog", "list", "--school-year", YEAR, "--round", "1")) == 40

    dialog_id = sent_cli.dialog_id("vastra-skolan")
    detail = sent_cli.show(dialog_id)
    assert detail["dialog"]["organizer"] == NORR_HEAD
    assert detail["dialog"]["participant"] == VASTRA_REKTOR
    assert len(detail["checklist"]) == 7
    assert sum(not step["required"] for step in detail["checklist"]) == 1
    assert [h["trigger"] for h in detail["history"]] == ["plan"]
    assert detail["allowed"] == ["cancel", "open_preparation", "postpone"]

    text = sent_cli.ok("dialog", "show", str(dialog_id))
    assert f"dialog {dialog_id}" in text
    assert "Västra skolan" in text
    assert "checklist" in text
    assert "Västra skolan" in sent_cli.ok("dialog", "list")


def test_dialog_walk_from_planned_to_closed(sent_cli: Cli) -> None:
    cli = sent_cli
    dialog_id = cli.dialog_id("vastra-skolan")
    detail = cli.show(dialog_id)
    opening = _at(detail["prepare_at"], timedelta(hours=1))
    during = _at(detail["dialog"]["starts_at"], timedelta(minutes=30))
    after = _at(detail["dialog"]["starts_at"], timedelta(days=1))

    before = _at(detail["prepare_at"], -timedelta(minutes=1))
    cli.ok("run", now=before)
    assert cli.show(dialog_id, now=before)["dialog"]["state"] == "planned"
    assert "preparations opened: 0" not in cli.ok("run", now=opening)
    assert cli.show(dialog_id, now=opening)["dialog"]["state"] == "preparing"
    assert "preparations opened: 0;" in cli.ok("run", now=opening)

    required = [s for s in detail["checklist"] if s["required"]]
    assert {s["assignee"] for s in required} == {VASTRA_REKTOR, NORR_HEAD}
    for step in required:
        out = cli.ok("dialog", "step-done", str(step["id"]), "--as", step["assignee"], now=opening)
        assert f"step {step['id']} ({step['key']}) of dialog {dialog_id}: done" in out
    assert cli.show(dialog_id, now=opening)["dialog"]["state"] == "ready"

    minutes = "Vi gick igenom kvalitetsrapporten."
    agreement = f"Ta fram en plan | {VASTRA_REKTOR} | 2026-11-30"
    hold = ["dialog", "hold", str(dialog_id), "--minutes", minutes, "--agreement", agreement]

    code, _, err = cli(*hold, "--as", SECRETARY, now=opening)  # before the meeting starts
    assert code == 4
    assert f"dialog {dialog_id}: cannot 'hold' in state 'ready'" in err
    code, _, err = cli(*hold, "--as", SECRETARY, "--version", "999", now=during)
    assert code == 6
    assert "changed by someone else" in err

    out = cli.ok(*hold, "--as", SECRETARY, now=during)
    assert f"dialog {dialog_id}: following_up (1 agreements recorded)" in out
    detail = cli.show(dialog_id, now=during)
    assert detail["minutes"] == minutes
    (recorded,) = detail["agreements"]
    assert recorded["text"] == "Ta fram en plan"
    assert recorded["owner"] == VASTRA_REKTOR
    assert recorded["due_on"] == "2026-11-30"
    assert recorded["done_at"] is None

    code, _, err = cli("dialog", "close", str(dialog_id), "--as", SECRETARY, now=after)
    assert code == 4
    assert f"dialog {dialog_id}: cannot 'close' in state 'following_up'" in err
    assert f"ids {recorded['id']}" in err

    out = cli.ok("dialog", "agreement-done", str(recorded["id"]), "--as", VASTRA_REKTOR, now=after)
    assert f"agreement {recorded['id']} of dialog {dialog_id}: done" in out
    out = cli.ok("dialog", "close", str(dialog_id), "--as", SECRETARY, now=after)
    assert out.strip() == f"dialog {dialog_id}: closed"

    detail = cli.show(dialog_id, now=after)
    assert detail["dialog"]["state"] == "closed"
    assert detail["allowed"] == []
    assert [h["trigger"] for h in detail["history"]] == [
        "plan",
        "open_preparation",
        *["step_done"] * len(required),
        "mark_ready",
        "hold",
        "follow_up",
        "agreement_done",
        "close",
    ]
    by_trigger = {h["trigger"]: h for h in detail["history"]}
    assert by_trigger["hold"]["actor"] == SECRETARY
    assert by_trigger["mark_ready"]["actor"] == "system"
    assert by_trigger["close"]["from_state"] == "following_up"
    # Nothing of the walk sends mail beyond the invites.
    assert len(cli.mails()) == 80


def test_postpone_and_cancel_send_updates(sent_cli: Cli) -> None:
    cli = sent_cli
    dialog_id = cli.dialog_id("norrbackaskolan")
    sequence = cli.show(dialog_id)["ical_sequence"]
    postpone = ["dialog", "postpone", str(dialog_id), "--reason", "Krock", "--as", NORR_HEAD]

    code, _, err = cli(*postpone, "--to", "2026-10-24 13:00")  # a Saturday
    assert code == 2
    assert "2026-10-24 is not a working day" in err
    code, _, err = cli(*postpone, "--to", "next week")
    assert code == 2
    assert "--to" in err
    code, _, err = cli(*postpone[:-2], "--as", NORRBACKA_REKTOR, "--to", "2026-10-20 13:00")
    assert code == 5
    assert cli.show(dialog_id)["ical_sequence"] == sequence

    out = cli.ok(
        "dialog",
        "postpone",
        str(dialog_id),
        "--to",
        "2026-10-20 13:00",
        "--reason",
        "Krock",
        "--as",
        NORR_HEAD,
    )
    assert out.strip() == f"dialog {dialog_id}: moved to 2026-10-20 13:00"
    detail = cli.show(dialog_id)
    assert detail["dialog"]["starts_at"] == "2026-10-20T13:00:00+02:00"
    assert detail["ical_sequence"] == sequence + 1
    assert "messages sent: 2" in cli.ok("run")
    mails = cli.mails()
    assert len(mails) == 82

    before = set(mails)
    out = cli.ok("dialog", "cancel", str(dialog_id), "--reason", "Sjukdom", "--as", NORR_HEAD)
    assert out.strip() == f"dialog {dialog_id}: cancelled"
    assert "messages sent: 2" in cli.ok("run")
    mails = cli.mails()
    assert len(mails) == 84
    cancels = [m for m in mails if m not in before]
    recipients = set()
    for path in cancels:
        message = email.message_from_bytes(path.read_bytes())
        recipients.add(email.utils.parseaddr(str(message["To"]))[1])
        part = _calendar_part(path)
        assert part.get_param("method") == "CANCEL"
        assert "METHOD:CANCEL" in part.get_payload(decode=True).decode()
    assert recipients == {NORR_HEAD, NORRBACKA_REKTOR}

    detail = cli.show(dialog_id)
    assert detail["dialog"]["state"] == "cancelled"
    assert [h["trigger"] for h in detail["history"]] == ["plan", "postpone", "cancel"]
    code, _, err = cli("dialog", "cancel", str(dialog_id), "--reason", "x", "--as", NORR_HEAD)
    assert code == 4
    assert "final state" in err

    outbox = cli.json("outbox", "list")
    assert len(outbox) == 84
    assert {m["status"] for m in outbox} == {"sent"}
    assert {m["kind"] for m in outbox} >= {"invite"}
    assert cli.json("outbox", "list", "--status", "failed") == []
    assert len(cli.json("outbox", "list", "--status", "sent")) == 84
    assert cli.json("outbox", "list", "--status", "pending") == []


# --- errors and their exit codes ---------------------------------------------------------


@sqlite_only
def test_dialog_errors_map_to_exit_codes(sent_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = sent_cli
    dialog_id = cli.dialog_id("vastra-skolan")
    start = cli.show(dialog_id)["dialog"]["starts_at"]
    during = _at(start, timedelta(minutes=30))
    hold = ["dialog", "hold", str(dialog_id), "--minutes", "Protokoll"]
    cli.ok("run", now=during)  # opens the preparation: 'hold' is allowed from here
    version = cli.show(dialog_id, now=during)["dialog"]["version"]

    code, out, err = cli("dialog", "show", "99999")
    assert (code, out) == (3, "")
    assert "dialog 99999 not found" in err
    code, _, err = cli("dialog", "step-done", "99999", "--as", SECRETARY)
    assert code == 3
    assert "checklist step 99999 not found" in err

    code, _, err = cli(*hold, now=during)
    assert code == 2
    assert "Missing option '--as'" in err

    monkeypatch.setenv("STYRHJUL_ACTOR", VASTRA_REKTOR)
    code, _, err = cli(*hold, now=during)  # the actor comes from the environment
    assert code == 5
    assert "secretary" in err
    assert "rektor" in err
    monkeypatch.delenv("STYRHJUL_ACTOR")

    code, _, err = cli(*hold, "--as", VASTRA_REKTOR, now=during)
    assert code == 5

    code, _, err = cli(*hold, "--as", "nobody@example.se", now=during)
    assert code == 3

    for bad in ("Ta fram en plan", f"Plan | {VASTRA_REKTOR}", f" | {VASTRA_REKTOR} | 2026-11-30"):
        code, _, err = cli(*hold, "--as", SECRETARY, "--agreement", bad, now=during)
        assert code == 2, bad
        assert "--agreement" in err
    code, _, err = cli(
        *hold, "--as", SECRETARY, "--agreement", f"Plan | {VASTRA_REKTOR} | 30/11", now=during
    )
    assert code == 2
    assert "expected a date" in err
    code, _, err = cli(
        *hold, "--as", SECRETARY, "--agreement", "Plan | okand@example.se | 2026-11-30", now=during
    )
    assert code == 2
    assert "okand@example.se" in err
    code, _, err = cli(
        "dialog", "hold", str(dialog_id), "--as", SECRETARY, now=during
    )  # no minutes at all
    assert code == 2
    assert "--minutes" in err

    # None of the refused attempts changed the dialog.
    detail = cli.show(dialog_id, now=during)
    assert detail["dialog"]["state"] == "preparing"
    assert detail["agreements"] == []
    assert detail["minutes"] is None
    assert detail["dialog"]["version"] == version

    code, _, err = cli(
        "dialog", "step-done", str(detail["checklist"][0]["id"]), "--as", NORRBACKA_REKTOR
    )
    assert code == 5
    assert "only its owner" in err


@sqlite_only
def test_bad_now_is_an_input_error(cli: Cli) -> None:
    code, out, err = cli("run", now="tomorrow-ish")
    assert (code, out) == (2, "")
    assert "--now" in err
    assert "'tomorrow-ish'" in err


def test_unknown_config_key_names_file_line_and_key_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "fresh.db"
    config = write_config(tmp_path, f"sqlite:///{database}", extra='colour = "red"\n')
    line = config.read_text(encoding="utf-8").splitlines().index('colour = "red"') + 1
    cli = Cli(config, capsys)
    for command in (["init", "--example"], ["run"], ["dialog", "list"]):
        code, out, err = cli(*command)
        assert (code, out) == (2, ""), command
        assert f"{config}:{line}: mail.colour: unknown key" in err
    assert not database.exists()
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / "mail").exists()


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.toml"
    code, out, err = Cli(missing, capsys)("init")
    assert (code, out) == (2, "")
    assert str(missing) in err
    assert "configuration file not found" in err
    assert list(tmp_path.iterdir()) == []


def test_help_and_version_need_no_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--help"]) == 0
    assert "dialog" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert "0.1.0" in capsys.readouterr().out
    assert main(["dialog", "hold", "--help"]) == 0
    assert "--agreement" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


# --- the installed console script ------------------------------------------------------


def _script(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRHJUL_")}
    env["STYRHJUL_CONFIG"] = str(config)
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@sqlite_only
def test_console_script_plans_and_sends(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    done = _script(tmp_path, config, "--now", NOW, "init", "--example")
    assert done.returncode == 0, done.stderr
    assert "65 units" in done.stdout
    done = _script(tmp_path, config, "--now", NOW, "plan", "--school-year", YEAR, "--round", "1")
    assert done.returncode == 0, done.stderr
    assert "40 dialogs planned" in done.stdout
    done = _script(tmp_path, config, "--now", NOW, "run")
    assert done.returncode == 0, done.stderr
    assert "messages sent: 80" in done.stdout
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 80


def test_console_script_exit_codes(tmp_path: Path) -> None:
    database = tmp_path / "styrhjul.db"
    config = write_config(tmp_path, "sqlite:///styrhjul.db")  # relative to the config file
    assert _script(tmp_path, config, "init").returncode == 0
    assert database.exists()

    done = _script(tmp_path, config, "dialog", "show", "99999")
    assert done.returncode == 3
    assert done.stderr.strip() == "error: dialog 99999 not found"
    assert "Traceback" not in done.stderr

    bad = tmp_path / "bad"
    bad.mkdir()
    bad_config = write_config(bad, "sqlite:///styrhjul.db", extra="retries = 3\n")
    done = _script(tmp_path, bad_config, "init")
    assert done.returncode == 2
    assert str(bad_config) in done.stderr
    assert "mail.retries: unknown key" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (bad / "styrhjul.db").exists()


def test_a_database_command_before_init_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(write_config(tmp_path, "sqlite:///never.db"), capsys)
    code, out, err = cli("dialog", "list", now=None)
    assert (code, out) == (2, "")
    assert "styrhjul init" in err
    assert not (tmp_path / "never.db").exists()
    assert not (tmp_path / "mail").exists()
