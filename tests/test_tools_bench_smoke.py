"""Smoke test for ``bench/tools_bench.py``: the tools benchmark still runs end to end.

It runs the ``--quick`` sizes in a subprocess and checks that the report has every row with
numbers in it. It asserts no timing targets: timings belong to the benchmark, not to tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "tools_bench.py"
ROWS = (
    "list_variables, 1,001 variables",
    "describe_variable, 1,000,000-row frame",
    "preview_rows(start=500,000, count=20), same frame",
    'baseline: df.describe(include="all"), whole frame',
    "baseline: repr(df)",
    "baseline: df.isna().sum(), whole frame",
)


def test_quick_tools_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "tools.md"
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
    rows = {
        cells[0]: cells[1:]
        for line in report.splitlines()
        if line.startswith("| ") and not line.startswith("| measure")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert set(ROWS) <= rows.keys()
    for name in ROWS:
        median, largest, _, chars = rows[name]
        assert 0 < float(median) <= float(largest)
        assert re.fullmatch(r"[\d,]+", chars)
        assert int(chars.replace(",", "")) > 0
