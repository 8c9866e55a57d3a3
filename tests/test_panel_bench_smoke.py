"""Smoke test for ``bench/panel_bench.py``: the widget-traffic benchmark still runs end to end.

It runs the ``--quick`` size in a subprocess and checks the shape of the JSON report, and
that the new view's messages, replayed as ``answer.js`` replays them, rebuild exactly the
widget's HTML. It asserts no timing or byte targets: those belong to the benchmark, not to
tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "panel_bench.py"
STATS = {
    "messages",
    "opens",
    "updates",
    "customs",
    "data_bytes",
    "content_bytes",
    "wire_bytes",
    "envelope_bytes_per_message",
    "final_html_bytes",
    "data_over_final_html",
    "content_over_final_html",
    "wire_over_final_html",
    "setup_messages",
    "setup_data_bytes",
    "setup_wire_bytes",
    "data_over_final_html_incl_setup",
    "custom_text_bytes",
    "custom_patch_bytes",
    "custom_overhead_bytes",
    "other_data_bytes",
    "messages_per_s_max",
    "messages_per_s_mean",
    "first_text_delay_ms",
    "cpu_runs_ms",
    "cpu_median_ms",
    "cpu_us_per_delta",
}


def test_quick_panel_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Machine:" in proc.stdout
    assert "today's panel" in proc.stdout
    assert "identical to the widget HTML" in proc.stdout

    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert {"machine", "config", "cases", "targets", "checks", "replay_ok"} <= report.keys()
    assert report["machine"]["cores"] > 0
    assert report["replay_ok"] is True
    assert set(report["cases"]) == {"burst", "paced"}

    for name, case in report["cases"].items():
        assert case["answer"]["deltas"] == report["config"][name]["deltas"]
        assert case["answer"]["chars"] > 0
        assert set(case["checks"]) == {"bytes", "messages_per_s", "first_text", "replay"}
        assert case["checks"]["replay"] is True
        variants = case["variants"]
        assert set(variants) == {"new", "today", "naive"}
        for stats in variants.values():
            assert stats.keys() >= STATS
            assert stats["messages"] > 0
            assert stats["final_html_bytes"] > 0
            assert stats["wire_bytes"] > stats["content_bytes"] > stats["data_bytes"] > 0
            assert stats["cpu_median_ms"] > 0
        # Every variant ends on the same page; the naive one sends on (nearly) every delta.
        assert len({v["final_html_bytes"] for v in variants.values()}) == 1
        assert variants["naive"]["messages"] >= 0.9 * case["answer"]["deltas"]
        assert variants["new"]["messages"] < variants["naive"]["messages"]
        # The new view streams custom messages only: no state update carries text.
        new = variants["new"]
        assert new["customs"] > 0
        assert new["replay"]["ok"] is True
        assert new["replay"]["messages"] == new["customs"]
        assert new["replay"]["html_bytes"] == new["final_html_bytes"]
