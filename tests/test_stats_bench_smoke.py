"""Smoke test for ``bench/stats_bench.py``: the statistics benchmark still runs end to end.

It runs the ``--quick`` size in a subprocess and checks that the report has every row with
numbers in it. It asserts no timing targets: timings belong to the benchmark, not to tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "stats_bench.py"
ROWS = (
    "describe, exact",
    "describe, sampled",
    "value_counts() of the name column",
    "describe() of the births column",
    'baseline: df.describe(include="all")',
)


def test_quick_stats_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "stats.md"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "200,000 rows" in text
    for row in ROWS:
        line = next((x for x in text.splitlines() if x.startswith(f"| {row} ")), None)
        assert line is not None, f"missing row {row!r}:\n{text}"
        assert re.search(r"\|\s+\d[\d,]*\.\d\s+\|", line), line
    # The sampled run names its counts as the sample's, never as the column's.
    sampled = next(x for x in text.splitlines() if x.startswith("| describe, sampled "))
    assert "sample (labelled)" in sampled
