"""The benchmark harnesses run (smoke runs: they measure nothing the tests check)."""

from __future__ import annotations

import importlib.util
import json
import re
import runpy
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).parents[1] / "bench"


def quick_run(script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``bench/<script> --quick`` in-process; its parsed JSON results."""
    out = tmp_path / "results.json"
    monkeypatch.setattr(sys, "argv", [script, "--quick", "--out", str(out)])
    monkeypatch.syspath_prepend(str(BENCH))
    with pytest.raises(SystemExit) as ended:
        runpy.run_path(str(BENCH / script), run_name="__main__")
    assert ended.value.code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def check_result(
    result: Any, workload: str, unit: str, subjects: tuple[str, ...] = ("styrhjul", "floor", "peer")
) -> None:
    """One workload's result has the harness's shape: its subjects, a ratio to each other."""
    assert result["workload"] == workload
    assert [f["subject"] for f in result["figures"]] == list(subjects)
    for figures in result["figures"]:
        assert figures["unit"] == unit
        assert figures["samples"] >= 1
        assert figures["min_s"] <= figures["median_s"] <= figures["max_s"]
        assert figures["rate_per_s"] > 0
    assert set(result["ratios"]) == {f"styrhjul/{s}" for s in subjects[1:]}
    assert all(ratio > 0 for ratio in result["ratios"].values())
    assert result["peak_rss_bytes"] > 0


def test_plan_year_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (result,) = quick_run("plan_year.py", tmp_path, monkeypatch)
    check_result(result, "plan_year", "instances")
    assert result["size"] == "10 units"
    notes = result["notes"]
    assert notes["rows"] > 100
    assert notes["rows_per_table"]["instance"] == notes["instances"] > 10
    # all three subjects did the same number of instances
    assert {f["count"] for f in result["figures"]} == {notes["instances"]}


def test_dialog_transitions_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite, postgres = quick_run("dialog_transitions.py", tmp_path, monkeypatch)
    check_result(sqlite, "dialog_transitions", "transitions")
    check_result(postgres, "dialog_transitions", "transitions", ("styrhjul", "floor"))
    assert (sqlite["size"], postgres["size"]) == ("5 dialogs", "5 dialogs, PostgreSQL")
    assert (sqlite["notes"]["database"], postgres["notes"]["database"]) == ("SQLite", "PostgreSQL")
    for result in (sqlite, postgres):
        assert {f["count"] for f in result["figures"]} == {25}  # five transitions a dialog
        assert set(result["notes"]["transaction_ms"]) == {
            "open_preparation",
            "mark_ready",
            "hold+follow_up",
            "close",
        }


def test_outbox_drain_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (result,) = quick_run("outbox_drain.py", tmp_path, monkeypatch)
    check_result(result, "outbox_drain", "messages", ("styrhjul", "floor"))
    assert result["size"] == "20 messages"
    assert {f["count"] for f in result["figures"]} == {20}
    notes = result["notes"]
    assert notes["mean_message_bytes"] > 4000  # whole invites: text, HTML, calendar twice
    assert notes["enqueue_rate_per_s"] > 0


def bench_run() -> ModuleType:
    """bench/run.py as a module (under a name of its own: ``run`` is too common)."""
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_run_quick_joins_the_workloads_into_json_and_markdown(tmp_path: Path) -> None:
    run = bench_run()
    results = tmp_path / "results"
    assert run.main(["--quick", "--only", "plan_year", "--results", str(results)]) == 0
    assert (results / "plan_year.json").is_file()
    report = json.loads((results / "results.json").read_text(encoding="utf-8"))
    assert report["quick"] is True
    assert report["machine"]["cores"] >= 1
    assert report["machine"]["ram_bytes"] > 0
    assert report["machine"]["cpu"]
    assert set(report["versions"]) == {"python", "sqlite", *run.LIBRARIES}
    (workload,) = report["workloads"]
    assert (workload["name"], workload["status"]) == ("plan_year", "ok")
    assert workload["wall_s"] > 0
    check_result(workload["results"][0], "plan_year", "instances")

    text = (results / "results.md").read_text(encoding="utf-8")
    assert f"- Date: {report['date']}" in text
    assert f"SQLite {report['versions']['sqlite']}" in text
    assert f"SpiffWorkflow {report['versions']['SpiffWorkflow']}" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    header = rows[0].split(" | ")
    assert [h.strip("| ") for h in header[:5]] == ["Workload", "Size", "Subject", "What", "Median"]
    plan = [
        [cell.strip() for cell in row.strip("|").split("|")]
        for row in rows
        if "| 10 units |" in row or row.startswith("|  |  |")
    ]
    assert [cells[2] for cells in plan] == ["styrhjul", "floor", "peer"]
    assert plan[0][9].endswith(" MiB")
    assert plan[0][10] == ""  # no ratio against itself
    for cells in plan[1:]:
        assert re.fullmatch(r"\*\*\d+\.\d\d×\*\*", cells[10]), cells
    assert "| plan_year | ok |" in text


def test_run_reports_missing_and_failing_workloads_and_goes_on(tmp_path: Path) -> None:
    run = bench_run()
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "memory.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    (bench / "feeds.py").write_text(
        "import sys\nopen(sys.argv[sys.argv.index('--out') + 1], 'w').write('{}')\n",
        encoding="utf-8",
    )
    results = tmp_path / "results"
    argv = ["--quick", "--only", "daemon_tick,feeds,memory", "--results", str(results)]
    assert run.main(argv, bench=bench) == 1
    report = json.loads((results / "results.json").read_text(encoding="utf-8"))
    statuses = {w["name"]: w["status"] for w in report["workloads"]}
    assert statuses["daemon_tick"] == "missing"
    assert statuses["memory"] == "failed (exit 3)"
    assert statuses["feeds"].startswith("bad output:")
    assert "| daemon_tick | missing |" in (results / "results.md").read_text(encoding="utf-8")


def test_run_interrupts_a_workload_over_the_budget_and_lets_it_clean_up(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    cleaned = tmp_path / "cleaned"
    (bench / "memory.py").write_text(
        "import time\n"
        "try:\n"
        "    time.sleep(120)\n"
        "finally:\n"
        f"    open({str(cleaned)!r}, 'w').close()\n",
        encoding="utf-8",
    )
    results = tmp_path / "results"
    argv = ["--only", "memory,feeds", "--budget", "2", "--results", str(results)]
    assert bench_run().main(argv, bench=bench) == 1
    report = json.loads((results / "results.json").read_text(encoding="utf-8"))
    memory, feeds = report["workloads"]
    assert memory["status"] == "interrupted: over the budget after 2 s"
    assert cleaned.exists()  # it got Ctrl-C, not SIGKILL: its finally ran
    assert feeds["status"] == "not run: the budget was spent"


def test_run_refuses_an_unknown_workload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        bench_run().main(["--only", "plan_yaer", "--results", str(tmp_path)])
    assert ended.value.code == 2
    assert "unknown workload(s) plan_yaer" in capsys.readouterr().err


def test_feeds_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (result,) = quick_run("feeds.py", tmp_path, monkeypatch)
    check_result(result, "feeds", "events", ("styrhjul", "floor"))
    assert result["size"] == "50 events"
    assert {f["count"] for f in result["figures"]} == {50}
    notes = result["notes"]
    assert notes["cold_feed_median_s"] > 0
    assert notes["feed_bytes"] > 50 * 200  # every event is in the feed, not only the header


def test_daemon_tick_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (result,) = quick_run("daemon_tick.py", tmp_path, monkeypatch)
    check_result(result, "daemon_tick", "due rows", ("styrhjul", "floor"))
    notes = result["notes"]
    assert notes["steps"] >= 1000
    assert notes["areas"] >= 5
    assert {f["count"] for f in result["figures"]} == {notes["due_rows_found"]}
    did = notes["one_run_did"]
    # five reminders and ten reopened overdue steps were made due: the tick handled them
    assert (did["reminded"], did["overdue"]) == (5, 10)
    assert did["escalated"] > 0


def test_memory_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (result,) = quick_run("memory.py", tmp_path, monkeypatch)
    assert result["workload"] == "memory"
    assert result["size"] == "40 units"
    (figures,) = result["figures"]
    assert figures["subject"] == "styrhjul"
    assert figures["median_s"] > 0
    notes = result["notes"]
    assert notes["vm_hwm_bytes"][0] >= notes["vm_rss_bytes"][0] > 10 * 2**20
    # the plan inserted with Core is complete: the daemon's daily plan changed nothing
    assert '"changes": 0' in notes["daemon_plan_job"]
    assert notes["steps"] > notes["template_steps"]


def test_overdue_view_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, http = quick_run("overdue_view.py", tmp_path, monkeypatch)
    for result in (service, http):
        check_result(result, "overdue_view", "requests", ("styrhjul", "floor"))
        assert all(f["per_item"] and f["samples"] == 30 for f in result["figures"])
    assert (service["size"], http["size"]) == ("2,000 steps", "2,000 steps, HTTP")
    notes = service["notes"]
    assert notes["steps"] == 2000
    assert 0 < notes["overdue_live"] < notes["steps"]
    assert notes["open_in_ended"] > 0  # ended instances keep open steps, as in a real database
    assert "ix_checklist_item_overdue" in notes["plan"]
    assert set(notes["cpu_ms"]) == {"floor", "service", "http"}
