"""Smoke test for ``bench/stale_bench.py``: the benchmark still runs end to end.

It runs the ``--quick`` sizes in a subprocess and checks that the report has the three cells'
rows with numbers and the false-flag line. It asserts no timing targets: timings belong
to the benchmark, not to tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "stale_bench.py"


def test_quick_stale_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "stale.md"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = out.read_text()
    assert "Machine: " in report
    rows = [line for line in report.splitlines() if line.startswith("| ") and "ms" not in line]
    assert len(rows) == 3
    for row in rows:
        assert len(re.findall(r"[+-]?\d+\.\d\d", row)) == 5, row
    assert re.search(r"false-flag rate \d+\.\d%", report)
