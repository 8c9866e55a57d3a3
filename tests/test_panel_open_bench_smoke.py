"""Smoke test for ``bench/panel_open_bench.py``: the panel-opening benchmark still runs.

It runs the ``--quick`` size (a small store) in a subprocess and checks the shape of the
JSON report. It asserts no timing targets: those belong to the benchmark, not to tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "panel_open_bench.py"
MEASURES = (
    "ready_cold",
    "ready_cold_no_collect",
    "ready_warm",
    "open",
    "baseline_threads_list_cold",
    "baseline_threads_list_cold_no_collect",
    "baseline_threads_list_warm",
    "baseline_open",
)


def test_quick_panel_open_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out), "--tmp", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Machine:" in proc.stdout
    assert "Where the time goes" in proc.stdout

    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert {*MEASURES, "machine", "config", "store", "targets", "checks", "profile"} <= set(report)
    cfg = report["config"]
    assert report["store"]["items"] == cfg["threads"] * cfg["items_per_thread"]
    assert set(report["checks"]) == {"ready_cold", "ready_cold_no_collect", "ready_warm", "open"}
    for name in MEASURES:
        assert len(report[name]["runs_ms"]) == cfg["repeats"]
        assert report[name]["ms"] > 0

    # Every stored thread is listed, and an opened thread shows its newest page.
    assert report["ready_cold"]["threads_listed"] == cfg["threads"]
    assert report["open"]["items_shown"] == min(cfg["history_page"], cfg["items_per_thread"])
    assert report["open"]["widgets"] > 0
    assert report["open"]["messages"] >= report["open"]["opens"] > 0
    assert "AnswerWidget" in report["open"]["widget_kinds"]

    for name in ("ready_cold", "open", "store_first_read"):
        profile = report["profile"][name]
        assert profile["samples_per_run"] > 0
        assert profile["categories_ms"]
        assert profile["functions_ms"]
