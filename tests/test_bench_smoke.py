"""Smoke test for ``bench/store_bench.py``: the store benchmark still runs end to end.

It runs the ``--quick`` sizes in a subprocess and checks the shape of the JSON report. It
asserts no timing targets: timings belong to the benchmark, not to tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "store_bench.py"
STORES = ("notebook", "sqlite")


def test_quick_store_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out), "--tmp-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "NotebookStore" in proc.stdout
    assert "SQLiteStore" in proc.stdout

    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert {"machine", "config", "results", "ratios", "targets", "checks"} <= report.keys()
    assert report["machine"]["cores"] > 0
    for store in STORES:
        result = report["results"][store]
        for size in ("append_small", "append_large"):
            assert result[size]["median_ms"] > 0
            assert result[size]["p95_ms"] >= result[size]["median_ms"]
        assert result["append_ratio_large_over_small"] > 0
        assert result["reopen_list_ms"]["median_ms"] > 0
        assert len(result["reopen_list_ms"]["runs_ms"]) == report["config"]["reopen_repeats"]
        assert result["prefill_large_items_per_s"] > 0
        assert result["file_bytes"] > 0
        assert result["total_bytes"] >= result["file_bytes"]
    assert all(value > 0 for value in report["ratios"].values())
    assert set(report["checks"]) == {
        "notebook_append_ratio_large_over_small",
        "notebook_over_sqlite_append_small",
        "notebook_over_sqlite_append_large",
        "notebook_reopen_list",
    }
    # The temp dir is cleaned up: only the report is left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
