"""Smoke test for ``bench/server_bench.py``: the server benchmark still runs end to end.

It runs the ``--quick`` sizes in a subprocess and checks the shape of the JSON report. It
asserts no timing targets: timings belong to the benchmark, not to tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "server_bench.py"
PATHS = ("direct", "converter", "respond", "server")


def test_quick_server_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out), "--tmp-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Runner.run_streamed" in proc.stdout
    assert "server.process" in proc.stdout

    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert {"machine", "config", "streaming", "turns", "targets", "checks"} <= report.keys()
    machine = report["machine"]
    assert machine["cores"] > 0
    assert {"openai-agents", "openai-chatkit"} <= machine["packages"].keys()
    assert report["server_tracing_disabled"] is True

    streaming = report["streaming"]
    assert streaming["deltas"] == report["config"]["deltas"]
    for path in PATHS:
        result = streaming[path]
        assert result["median_ms"] > 0
        assert result["min_ms"] > 0
        assert result["one_delta_median_ms"] > 0
        assert len(result["runs_ms"]) == report["config"]["stream_repeats"]
        assert result["frames"] > 0  # the server merges deltas that wait, so maybe fewer
    assert streaming["server"]["client_parse_median_ms"] > 0
    assert streaming["ratio_server_over_direct"] > 0
    assert streaming["paced"]["ratio_server_over_direct"] > 0
    if report["checks"]["stream_ratio"]:
        assert report["profile"] is None
    else:  # a missed target is profiled
        assert report["profile"]["server_by_cumulative"]

    turns = report["turns"]
    assert turns["last_item_is_answer"] is True
    for kind in ("history", "empty"):
        stats = turns[kind]
        assert stats["to_model_call_median_ms"] > 0
        assert stats["to_first_frame_median_ms"] > 0
        assert stats["turn_total_median_ms"] >= stats["to_model_call_median_ms"]
        assert len(stats["to_model_call_runs_ms"]) == report["config"]["turn_repeats"]
    assert turns["ratio_history_over_empty"] > 0
    assert turns["alone"]["request_adapter_build_ms"] > 0
    assert turns["alone"]["store_append_ms"] > 0
    # The temp dir is cleaned up: only the report is left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
