"""The outbox burst benchmark runs (a smoke run: it measures nothing the test checks)."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "bench"


def test_outbox_drain_quick_run_writes_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "outbox_drain.json"
    monkeypatch.setattr(sys, "argv", ["outbox_drain.py", "--quick", "--out", str(out)])
    monkeypatch.syspath_prepend(str(BENCH))
    with pytest.raises(SystemExit) as ended:
        runpy.run_path(str(BENCH / "outbox_drain.py"), run_name="__main__")
    assert ended.value.code == 0
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    assert result["workload"] == "outbox_drain"
    assert result["messages"] == 200
    assert result["mean_message_bytes"] > 4000  # whole invites: text, HTML, calendar twice
    for part in ("dispatch", "smtplib_floor", "enqueue"):
        figures = result[part]
        assert figures["min_s"] <= figures["median_s"] <= figures["max_s"]
        assert figures["rate_per_s"] > 0
    assert result["ratio_floor_to_dispatch"] > 0
