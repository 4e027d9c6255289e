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


def test_plan_year_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (result,) = quick_run("plan_year.py", tmp_path, monkeypatch)
    assert result["workload"] == "plan_year"
    assert result["units"] == 10
    assert result["rows"] > 100
    assert result["min_s"] <= result["median_s"] <= result["max_s"]


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
