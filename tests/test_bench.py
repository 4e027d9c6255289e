"""The benchmark harness runs (a smoke run: it measures nothing the test checks)."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "bench"


def test_plan_year_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "plan_year.json"
    monkeypatch.setattr(sys, "argv", ["plan_year.py", "--quick", "--out", str(out)])
    monkeypatch.syspath_prepend(str(BENCH))
    with pytest.raises(SystemExit) as ended:
        runpy.run_path(str(BENCH / "plan_year.py"), run_name="__main__")
    assert ended.value.code == 0
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    assert result["workload"] == "plan_year"
    assert result["units"] == 10
    assert result["rows"] > 100
    assert result["min_s"] <= result["median_s"] <= result["max_s"]
