"""``styrhjul meetings ...`` end to end, in-process: the main path of two LG meetings, and the
exit codes on bad input, wrong state and wrong role.

Each test writes its own config into ``tmp_path`` and loads the example organisation with
``init --example``; the clock is fixed with the global ``--now`` option.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Cli, write_config

SECRETARY = "sekreterare.ledningsgrupp@example.se"
DIRECTOR = "utbildningsdirektor@example.se"
MEMBER = "verksamhetschef.forskola@example.se"
PC_HEAD = "avdelningschef.pedagogiskt-center@example.se"
MONDAY = "2026-09-07 09:00"
TUESDAY_AFTER = "2026-09-08 16:30"

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def cli(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The CLI on ``MONDAY``, with the example organisation loaded that day."""
    cli = Cli(write_config(tmp_path, db_url), capsys, now=MONDAY)
    cli.ok("init", "--example")
    return cli


def _minutes(tmp_path: Path, text: str, name: str = "protokoll.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_two_meetings_of_lg_with_an_item_and_an_action_carried(cli: Cli, tmp_path: Path) -> None:
    scheduled = cli.json(
        "meetings", "schedule", "lg", "--at", "2026-09-08 13:00", "--until", "16:00",
        "--place", "Jupiter", "--as", SECRETARY,
    )  # fmt: skip
    first = scheduled["meeting_id"]
    assert len(scheduled["attendees"]) == 10
    out = cli.ok(
        "meetings", "agenda-add", str(first), "--kind", "information", "--title", "Lokaler",
        "--presenter", MEMBER, "--as", SECRETARY,
    )  # fmt: skip
    info = int(out.split()[2])
    out = cli.ok(
        "meetings", "agenda-add", str(first), "--kind", "dialog",
        "--title", "FoU: självstyrande team", "--presenter", PC_HEAD, "--as", DIRECTOR,
    )  # fmt: skip
    dialog = int(out.split()[2])
    cli.ok("meetings", "agenda-move", str(dialog), "1", "--as", SECRETARY)
    assert "11 messages queued" in cli.ok("meetings", "send-agenda", str(first), "--as", SECRETARY)
    (row,) = cli.json("meetings", "list", "--group", "lg")
    assert (row["id"], row["state"], row["ends_at"][11:16]) == (first, "agenda_sent", "16:00")

    minutes = _minutes(
        tmp_path,
        f'notes = "Tema: lokaler och FoU"\nabsent = ["{MEMBER}"]\n\n'
        f'[[item]]\nid = {dialog}\nnotes = "Förslaget presenterades."\ntake_up_again = true\n\n'
        f'[[item]]\nid = {info}\ndecision = "Inga nyproduktioner 2027."\n\n'
        f'[[action]]\ntext = "Skickar mer information om förslaget via mejl"\nowner = "{PC_HEAD}"\n'
        "due = 2026-09-11\n",
    )
    held = cli.json("meetings", "hold", str(first), "--file", minutes, "--as", SECRETARY,
                    now=TUESDAY_AFTER)  # fmt: skip
    assert (held["state"], held["present"], held["absent"]) == ("held", 9, 1)
    assert held["take_up_again"] == ["FoU: självstyrande team"]
    assert "approved" in cli.ok("meetings", "approve", str(first), "--as", DIRECTOR,
                                now=TUESDAY_AFTER)  # fmt: skip

    out = cli.ok(
        "meetings", "schedule", "lg", "--at", "2026-09-15 13:00", "--place", "Jupiter",
        "--as", SECRETARY, now=TUESDAY_AFTER,
    )  # fmt: skip
    assert "on the agenda: Återupptas: FoU: självstyrande team" in out
    (action,) = held["actions"]
    assert f"open action {action} (meeting {first})" in out
    second = int(out.split()[1].rstrip(":"))
    out = cli.ok("meetings", "carry", str(action), "--as", SECRETARY, now=TUESDAY_AFTER)
    assert f"carried from meeting {first} to meeting {second}" in out
    assert "closed" in cli.ok("meetings", "close", str(first), "--as", SECRETARY, now=TUESDAY_AFTER)

    detail = cli.json("meetings", "show", str(second), now=TUESDAY_AFTER)
    (resumed,) = detail["agenda"]
    assert (resumed["carried_from_meeting"], resumed["carried_from_item"]) == (first, dialog)
    (copy,) = detail["actions"]
    assert (copy["carried_from_meeting"], copy["owner"], copy["is_open"]) == (first, PC_HEAD, True)
    done = cli.ok("meetings", "action-done", str(copy["id"]), "--as", PC_HEAD, now=TUESDAY_AFTER)
    assert f"of meeting {second}: done" in done

    text = cli.ok("meetings", "show", str(first), now=TUESDAY_AFTER)
    assert "Protokollet justerat" not in text  # closed now
    assert "Avslutat" in text
    assert "frånvarande" in text
    assert f"tas upp igen (möte {second})" in text
    assert f"förd till möte {second}" in text
    assert "Beslut: Inga nyproduktioner 2027." in text

    out = cli.ok(
        "meetings", "postpone", str(second), "--to", "2026-09-16 09:00", "--reason", "Nämnd",
        "--as", DIRECTOR, now=TUESDAY_AFTER,
    )  # fmt: skip
    assert "moved to 2026-09-16 09:00" in out
    assert "cancelled" in cli.ok(
        "meetings", "cancel", str(second), "--reason", "Ersätts", "--as", SECRETARY,
        now=TUESDAY_AFTER,
    )  # fmt: skip
    states = {r["id"]: r["state"] for r in cli.json("meetings", "list", "--from", "2026-09-08")}
    assert states == {first: "closed", second: "cancelled"}
    assert cli.json("meetings", "list", "--to", "2026-09-07") == []


@sqlite_only
def test_exit_codes_on_bad_input_wrong_state_and_wrong_role(cli: Cli, tmp_path: Path) -> None:
    def schedule(at: str, *extra: str) -> list[str]:
        return ["meetings", "schedule", "lg", "--at", at, "--place", "Jupiter", *extra]

    err = cli.fails(2, *schedule("2026-12-24 13:00", "--as", SECRETARY))
    assert "2026-12-24 is not a working day (Julafton)" in err
    assert "--at" in cli.fails(2, *schedule("nästa tisdag", "--as", SECRETARY))
    assert "--until" in cli.fails(2, *schedule("2026-09-08 13:00", "--until", "sent", "--as",
                                               SECRETARY))  # fmt: skip
    cli.fails(2, *schedule("2026-09-08 13:00"))  # no --as
    assert "may schedule meetings of lg" in cli.fails(5, *schedule("2026-09-08 13:00", "--as",
                                                                   MEMBER))  # fmt: skip
    assert "unit 'xx' not found" in cli.fails(
        3, "meetings", "schedule", "xx", "--at", "2026-09-08 13:00", "--place", "X",
        "--as", SECRETARY,
    )  # fmt: skip
    meeting = cli.json(*schedule("2026-09-08 13:00", "--as", SECRETARY))["meeting_id"]

    cli.fails(2, "meetings", "agenda-add", str(meeting), "--kind", "beslut", "--title", "X",
              "--as", SECRETARY)  # fmt: skip
    assert "needs a presenter" in cli.fails(
        2, "meetings", "agenda-add", str(meeting), "--kind", "information", "--title", "X",
        "--as", SECRETARY,
    )  # fmt: skip
    assert "meeting 999 not found" in cli.fails(3, "meetings", "show", "999")
    assert "cannot 'hold' in state 'planned'" in cli.fails(
        4, "meetings", "hold", str(meeting), "--file", _minutes(tmp_path, ""), "--as", SECRETARY,
        now=TUESDAY_AFTER,
    )  # fmt: skip
    assert "the agenda is empty" in cli.fails(2, "meetings", "send-agenda", str(meeting), "--as",
                                              SECRETARY)  # fmt: skip
    cli.ok("meetings", "agenda-add", str(meeting), "--kind", "dialog", "--title", "Budget",
           "--as", SECRETARY)  # fmt: skip
    assert "'send_agenda' needs one of the roles" in cli.fails(
        5, "meetings", "send-agenda", str(meeting), "--as", MEMBER
    )
    cli.ok("meetings", "send-agenda", str(meeting), "--as", SECRETARY)

    bad = _minutes(
        tmp_path,
        f'[[action]]\ntext = "Ringer"\nowner = "{PC_HEAD}"\ndue = 2026-09-11\n\n'
        '[[action]]\ntext = "Mejlar"\nowner = "okand@example.se"\ndue = 2026-09-11\n',
        "okand.toml",
    )
    err = cli.fails(2, "meetings", "hold", str(meeting), "--file", bad, "--as", SECRETARY,
                    now=TUESDAY_AFTER)  # fmt: skip
    assert f"{bad}:8: action[1].owner: action 2 ('Mejlar'): person 'okand@example.se'" in err
    unknown_key = _minutes(tmp_path, "absent = []\nsekreterare = 'x'\n", "fel.toml")
    err = cli.fails(2, "meetings", "hold", str(meeting), "--file", unknown_key, "--as",
                    SECRETARY, now=TUESDAY_AFTER)  # fmt: skip
    assert f"{unknown_key}:2: sekreterare: unknown key" in err
    cli.fails(2, "meetings", "hold", str(meeting), "--file", str(tmp_path / "saknas.toml"),
              "--as", SECRETARY, now=TUESDAY_AFTER)  # fmt: skip
    assert cli.json("meetings", "show", str(meeting))["meeting"]["state"] == "agenda_sent"

    good = _minutes(
        tmp_path, f'[[action]]\ntext = "Ringer"\nowner = "{PC_HEAD}"\ndue = 2026-09-11\n'
    )
    cli.ok("meetings", "hold", str(meeting), "--file", good, "--as", SECRETARY, now=TUESDAY_AFTER)
    assert "cannot 'close' in state 'held'" in cli.fails(
        4, "meetings", "close", str(meeting), "--as", SECRETARY, now=TUESDAY_AFTER
    )
    cli.ok("meetings", "approve", str(meeting), "--as", DIRECTOR, now=TUESDAY_AFTER)
    assert "still open" in cli.fails(
        4, "meetings", "close", str(meeting), "--as", SECRETARY, now=TUESDAY_AFTER
    )
    assert "no later meeting of lg is scheduled" in cli.fails(
        2, "meetings", "carry", str(cli.json("meetings", "show", str(meeting))["actions"][0]["id"]),
        "--as", SECRETARY, now=TUESDAY_AFTER,
    )  # fmt: skip
