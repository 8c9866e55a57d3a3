"""Smoke test for ``bench/serve_bench.py``: the HTTP endpoint benchmark still runs end to end.

It runs the ``--quick`` sizes in a subprocess and checks the shape of the JSON report. It
asserts no timing targets: timings belong to the benchmark, not to tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "serve_bench.py"
PATHS = ("in_process", "http_other_process", "http_same_process")


def test_quick_serve_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "(b) HTTP, client in another process" in proc.stdout
    assert "time to first byte: p95 ms" in proc.stdout

    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert {"machine", "config", "single", "concurrent", "targets", "checks"} <= report.keys()
    assert {"fastapi", "uvicorn"} <= report["machine"]["packages"].keys()
    single = report["single"]
    assert single["deltas"] == report["config"]["deltas"]
    for path in PATHS:
        result = single[path]
        assert result["median_ms"] > 0
        assert len(result["runs_ms"]) == report["config"]["repeats"]
        assert 1 <= result["delta_events_median"] <= single["deltas"]  # merged when waiting
    assert single["ratio_http_other_process"] > 0
    many = report["concurrent"]
    assert many["clients"] == report["config"]["clients"]
    assert 0 < many["ttfb_p50_ms"] <= many["ttfb_p95_ms"] <= many["ttfb_max_ms"]
    assert many["http_deltas_per_s"] > 0
    assert many["in_process_deltas_per_s"] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no store left behind
