"""``styrhjul scorecard import|show|evaluate`` end to end, in-process through ``main(argv)``.

The example scorecard (``styrhjul/examples/scorecard.csv``) is loaded into a copy of the
planned database (round 1 of 2026/27), so unmet targets land on the units' dialogs.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

import pytest
from support import Cli

RECTOR = "rektor.vastra-skolan@example.se"

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def example_csv() -> Path:
    with as_file(files("styrhjul.examples") / "scorecard.csv") as path:
        return Path(path)


def test_import_show_and_evaluate_the_example_scorecard(planned_cli: Cli, example_csv: Path):
    cli = planned_cli
    out = cli.ok("scorecard", "import", str(example_csv))
    assert "18 rows: measures added 18, updated 0; outcomes added 18" in out

    shown = cli.ok("scorecard", "show", "--unit", "vastra-skolan")
    (trygghet,) = [line for line in shown.splitlines() if "trygghet" in line]
    assert "minst 97 %" in trygghet
    assert "96 %" in trygghet
    assert "NOT MET" in trygghet
    (franvaro,) = [line for line in shown.splitlines() if "franvaro" in line]
    assert "högst 8 %" in franvaro
    assert "NOT MET" not in franvaro
    assert "norrbackaskolan" not in shown

    measures = cli.json("scorecard", "show", "--period", "2025/26")
    by_key = {(m["unit"], m["code"]): m for m in measures}
    assert by_key[("vastra-skolan", "trygghet")]["outcomes"][0]["met"] is False
    assert by_key[("norrbackaskolan", "trygghet")]["outcomes"][0]["met"] is True
    assert by_key[("vastra-skolan", "budgetavvikelse")]["outcomes"] == []  # another period

    out = cli.ok("scorecard", "evaluate")
    assert "18 outcomes checked: 9 targets not met, 9 dialog steps added" in out
    assert "2 economic follow-ups started" in out
    assert "NOT MET vastra-skolan/trygghet 2025/26: 96 % against minst 97 %" in out

    again = cli.json("scorecard", "evaluate")
    assert (again["steps_added"], again["follow_ups_started"]) == (0, 0)
    assert {u["status"] for u in again["unmet"]} == {"already"}
    assert sorted((d["unit"], d["status"]) for d in again["budget_deviations"]) == [
        ("norra-gymnasiet", "already"),
        ("vastra-skolan", "already"),
    ]

    dialogs = cli.json("dialog", "list")
    (vastra,) = [d["id"] for d in dialogs if d["unit"] == "vastra-skolan"]
    detail = cli.json("dialog", "show", str(vastra))
    titles = [s["title"] for s in detail["checklist"]]
    assert (
        "Analysera ej uppnått mål: Andel elever som känner trygghet i verksamheten – "
        "utfall 96 % mot målvärde minst 97 % (2025/26)"
    ) in titles

    out = cli.ok("scorecard", "import", str(example_csv), "--as", RECTOR)
    assert "outcomes added 0, updated 0, unchanged 18" in out


@sqlite_only
def test_a_changed_outcome_is_listed(planned_cli: Cli, tmp_path: Path):
    cli = planned_cli
    path = tmp_path / "styrkort.csv"
    header = "unit;code;title;target;period;value\n"
    path.write_text(header + "vastra-skolan;trygghet;Trygghet;Minst 97 %;2025/26;96\n", "utf-8")
    cli.ok("scorecard", "import", str(path))
    path.write_text(header + "vastra-skolan;trygghet;Trygghet;Minst 97 %;2025/26;97,5\n", "utf-8")
    summary = cli.json("scorecard", "import", str(path), "--as", RECTOR)
    assert summary["outcomes_updated"] == 1
    assert summary["changes"] == ["vastra-skolan/trygghet 2025/26: outcome 96 % -> 97,5 %"]
    assert cli.json("scorecard", "evaluate", "--period", "2025/26")["unmet"] == []


@sqlite_only
def test_exit_codes(planned_cli: Cli, tmp_path: Path):
    cli = planned_cli
    bad = tmp_path / "fel.csv"
    bad.write_text(
        "unit,code,title,target,period,value\n"
        "vastra-skolan,trygghet,Trygghet,Minst 97 %,2025/26,96\n"
        "okand-skola,trygghet,Trygghet,Minst 97 %,2025/26,96\n",
        encoding="utf-8",
    )
    code, _, err = cli("scorecard", "import", str(bad))
    assert code == 2
    assert err.startswith(f"error: {bad}:3: unit: unknown unit 'okand-skola'")
    assert cli.json("scorecard", "show") == []  # nothing was written

    code, _, err = cli("scorecard", "import", str(tmp_path / "saknas.csv"))
    assert (code, "file not found" in err) == (2, True)

    code, _, err = cli("scorecard", "show", "--unit", "okand-skola")
    assert (code, err.strip()) == (3, "error: unit 'okand-skola' not found")

    assert "no measures" in cli.ok("scorecard", "show")


@sqlite_only
def test_init_example_loads_the_scorecard_and_evaluate_reports_units_without_dialogs(cli: Cli):
    out = cli.ok("init", "--example")
    assert "example scorecard: 18 measures, 18 outcomes added" in out
    code, out, err = cli("scorecard", "evaluate")
    assert code == 0
    assert "9 targets not met, 0 dialog steps added" in out
    assert "NOT MET vastra-skolan/trygghet 2025/26" in err
    assert "no upcoming dialog" in err
