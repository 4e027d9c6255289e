"""The benchmark harnesses run (smoke runs: they measure nothing the tests check)."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
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


def check_result(result: Any, workload: str, unit: str) -> None:
    """One workload's result has the harness's shape: three subjects, two ratios."""
    assert result["workload"] == workload
    assert [f["subject"] for f in result["figures"]] == ["styrhjul", "floor", "peer"]
    for figures in result["figures"]:
        assert figures["unit"] == unit
        assert figures["samples"] >= 1
        assert figures["min_s"] <= figures["median_s"] <= figures["max_s"]
        assert figures["rate_per_s"] > 0
    assert set(result["ratios"]) == {"styrhjul/floor", "styrhjul/peer"}
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
    (result,) = quick_run("dialog_transitions.py", tmp_path, monkeypatch)
    check_result(result, "dialog_transitions", "transitions")
    assert result["size"] == "5 dialogs"
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
    assert result["workload"] == "outbox_drain"
    assert result["size"] == "20 messages"
    assert [f["subject"] for f in result["figures"]] == ["styrhjul", "floor"]
    for figures in result["figures"]:
        assert figures["count"] == 20
        assert figures["unit"] == "messages"
        assert figures["min_s"] <= figures["median_s"] <= figures["max_s"]
        assert figures["rate_per_s"] > 0
    assert result["ratios"]["styrhjul/floor"] > 0
    notes = result["notes"]
    assert notes["mean_message_bytes"] > 4000  # whole invites: text, HTML, calendar twice
    assert notes["enqueue_rate_per_s"] > 0
