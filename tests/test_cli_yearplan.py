"""``styrhjul plan YEAR``, ``events``, ``wheel`` and ``simulate`` over the example årshjul."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import cairosvg
import pytest
from PIL import Image
from support import Cli, write_config

SMALL = """
[arshjul]
title = "Litet årshjul"
unit = "sff"

[[ring]]
key = "ledning"
title = "Ledning"

[[event]]
id = "vp_joint_check"
title = "Gemensam avstämning av VP-utkastet"
ring = "ledning"
when = { nth = 3, weekday = "tisdag", month = 5 }
move = "earlier"
at = "13:00"
minutes = 120

[[event]]
id = "vp_proposals"
title = "Förslag på VP-uppdrag"
ring = "ledning"
when = { before = "vp_joint_check", working_days = 8 }
move = "earlier"
"""


@pytest.fixture
def small_cli(org_cli: Cli, tmp_path: Path) -> tuple[Cli, Path]:
    """The example organisation with a small årshjul of our own in config.toml."""
    arshjul = tmp_path / "arshjul.toml"
    arshjul.write_text(SMALL, encoding="utf-8")
    config = org_cli.config
    url = config.read_text(encoding="utf-8").split('url = "')[1].split('"')[0]
    write_config(tmp_path, url, extra=f'\n[calendar]\narshjul = "{arshjul}"\n')
    return org_cli, arshjul


def test_plan_2022_lists_the_vp_dates_of_the_minutes(org_cli: Cli) -> None:
    plan = org_cli.json("plan", "2022")
    assert plan["first_plan"] is True
    assert plan["applied"] is True
    rows = org_cli.json("events", "--from", "2022-05-01", "--to", "2022-08-31")
    days = {r["key"].split(":")[0]: r["starts_at"][:10] for r in rows}
    assert days["vp_proposals"] == "2022-05-04"  # midnight in Stockholm is 22:00 UTC the day before
    assert rows[0]["starts_at"] <= rows[-1]["starts_at"]
    text = org_cli.ok("events", "--from", "2022-05-01", "--to", "2022-08-31")
    for line in ("2022-05-05", "2022-05-17 13:00", "2022-05-31 13:00", "2022-08-02 09:00"):
        assert line in text, line


def test_plan_again_changes_nothing(org_cli: Cli) -> None:
    org_cli.ok("plan", "2022")
    out = org_cli.ok("plan", "2022")
    assert "0 to add, 0 to move, 0 to cancel" in out
    assert "the plan is up to date" in out


def test_a_changed_rule_is_shown_and_applied_only_with_apply(
    small_cli: tuple[Cli, Path],
) -> None:
    cli, arshjul = small_cli
    first = cli.ok("plan", "2027")
    assert "written" in first
    arshjul.write_text(SMALL.replace("working_days = 8", "working_days = 3"), encoding="utf-8")
    shown = cli.ok("plan", "2027")
    assert "1 to move" in shown
    assert "vp_proposals:2027:0" in shown
    assert "run again with --apply" in shown
    before = cli.json("events", "--from", "2027-05-01", "--to", "2027-05-31")
    applied = cli.json("plan", "2027", "--apply")
    assert applied["applied"] is True
    after = cli.json("events", "--from", "2027-05-01", "--to", "2027-05-31")
    moved_before = next(r for r in before if r["key"] == "vp_proposals:2027:0")
    moved_after = next(r for r in after if r["key"] == "vp_proposals:2027:0")
    assert moved_after["uid"] == moved_before["uid"]
    assert moved_after["sequence"] == moved_before["sequence"] + 1
    assert moved_after["starts_at"] > moved_before["starts_at"]


def test_compare_says_why_dates_moved(org_cli: Cli) -> None:
    out = org_cli.ok("plan", "2027", "--compare", "2026")
    assert "2027 compared with 2026" in out
    rows = {r["rule"]: r for r in org_cli.json("plan", "2027", "--compare", "2026")}
    assert rows["vp_joint_check"]["2026"] == ["2026-05-19"]
    assert rows["vp_joint_check"]["2027"] == ["2027-05-18"]
    assert rows["vp_joint_check"]["why"] == "weekday kept (tisdag)"


def test_events_for_a_unit_and_a_person(org_cli: Cli) -> None:
    org_cli.ok("plan", "2027")
    unit_rows = org_cli.json(
        "events", "--from", "2027-01-01", "--to", "2027-12-31", "--unit", "vastra-skolan"
    )
    assert {r["kind"] for r in unit_rows} == {"event", "dialog"}
    dialog_units = {r["unit"] for r in unit_rows if r["kind"] == "dialog"}
    assert "vastra-skolan" in dialog_units
    assert all(u.startswith("vastra-skolan") for u in dialog_units)  # the school and its teams
    director = org_cli.json(
        "events",
        "--from",
        "2027-01-01",
        "--to",
        "2027-12-31",
        "--person",
        "utbildningsdirektor@example.se",
    )
    assert "meeting" in {r["kind"] for r in director}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("events", "--from", "2027-05-01", "--to", "2027-04-01"), "before --from"),
        (("events", "--from", "2027-05-01", "--to", "2029-12-01"), "at most"),
        (("events", "--from", "2027-05-01", "--to", "2027-06-01", "--unit", "nope"), "nope"),
        (("plan", "2027", "--round", "1"), "plans the whole year"),
        (("plan", "--apply"), "go with YEAR"),
        (("plan", "20270"), "not a year"),
    ],
)
def test_bad_input_exits_2(org_cli: Cli, args: tuple[str, ...], message: str) -> None:
    code, _out, err = org_cli(*args)
    assert code in {2, 3}, err  # 3: not found
    assert message in err


def test_a_bad_arshjul_names_file_line_and_key(small_cli: tuple[Cli, Path]) -> None:
    cli, arshjul = small_cli
    arshjul.write_text(
        SMALL.replace('ring = "ledning"\nwhen = { before', 'ring = "x"\nwhen = { before')
    )
    err = cli.fails(2, "plan", "2027")
    assert f"{arshjul}:" in err
    assert "event[1].ring" in err
    assert "unknown ring 'x'" in err


def test_wheel_writes_an_svg_that_renders(org_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "hjul.svg"
    org_cli.ok("wheel", "2027", "--out", str(out))
    svg = out.read_text(encoding="utf-8")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "Gemensam avstämning av VP-utkastet i LG och SG" in texts
    png = cairosvg.svg2png(bytestring=svg.encode(), output_width=600)
    image = Image.open(io.BytesIO(png))
    assert image.size[0] == 600
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert len(colours) > 20  # rings, arcs and text, not a blank picture
    err = org_cli.fails(2, "wheel", "2027", "--out", str(tmp_path / "no" / "hjul.svg"))
    assert "does not exist" in err


def test_simulate_plans_the_year_and_leaves_the_database_alone(org_cli: Cli) -> None:
    report = org_cli.json("simulate", "--from", "2026-09-01", "--to", "2026-09-08")
    created = [c for day in report["days"] for c in day["created"]]
    assert any(c["kind"] == "meeting" for c in created)  # the LG Tuesdays of the plan
    assert org_cli.json("events", "--from", "2026-09-01", "--to", "2026-12-31") == []
    assert org_cli.mails() == []
