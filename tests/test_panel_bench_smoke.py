"""Smoke test for ``bench/panel_bench.py``: the widget-traffic benchmark still runs end to end.

It runs the ``--quick`` size in a subprocess and checks the shape of the JSON report. It
asserts no timing or byte targets: those belong to the benchmark, not to tests.
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
    "content_bytes",
    "wire_bytes",
    "open_content_bytes",
    "update_content_bytes",
    "other_content_bytes",
    "final_html_bytes",
    "content_over_final_html",
    "wire_over_final_html",
    "envelope_bytes_per_message",
    "updates_per_s_max",
    "updates_per_s_mean",
    "first_update_delay_ms",
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
    assert "FLUSH_HZ" in proc.stdout

    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert {
        "machine",
        "config",
        "answer",
        "throttled",
        "naive",
        "sketches",
        "targets",
        "checks",
    } <= report.keys()
    assert report["machine"]["cores"] > 0
    assert report["answer"]["deltas"] == report["config"]["deltas"] == 200
    assert report["answer"]["chars"] > 0
    assert set(report["checks"]) == {"bytes_content", "bytes_wire", "updates_per_s", "first_update"}

    for name in ("throttled", "naive"):
        stats = report[name]
        assert stats.keys() >= STATS
        assert stats["updates"] > 0
        assert stats["final_html_bytes"] > 0
        assert stats["wire_bytes"] > stats["content_bytes"] > 0
        assert stats["cpu_median_ms"] > 0
    # Both views end on the same HTML; the naive one updates on (nearly) every delta: a
    # delta that leaves the HTML unchanged, such as a trailing newline, sends nothing.
    assert report["throttled"]["final_html_bytes"] == report["naive"]["final_html_bytes"]
    assert report["naive"]["updates"] >= 0.9 * report["answer"]["deltas"]
    assert report["throttled"]["updates"] < report["naive"]["updates"]

    sketches = report["sketches"]
    assert sketches["blocks"] > 1
    for name in ("widgets", "custom"):
        assert sketches[name].keys() >= STATS
        assert sketches[name]["updates"] > 0
