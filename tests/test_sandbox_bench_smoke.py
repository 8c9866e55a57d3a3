"""Smoke test for ``bench/sandbox_bench.py``: the sandbox benchmark still runs end to end.

It runs the ``--quick`` sizes in a subprocess and checks that every measure has a number.
It asserts no timing targets: timings belong to the benchmark, not to tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "sandbox_bench.py"


def test_quick_sandbox_bench_reports_every_measure(tmp_path: Path) -> None:
    out = tmp_path / "sandbox.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    for key in ("setup_ms", "deepcopy_ms", "call_overhead_ms", "figure_capture_ms"):
        assert isinstance(result[key], float), (key, result)
        assert result[key] >= 0, (key, result)
    assert "| sandbox set-up, median ms |" in proc.stdout
    assert "| one call's overhead (`pass`), median ms |" in proc.stdout
