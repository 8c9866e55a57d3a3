"""Smoke test for ``bench/query_bench.py``: the query benchmark still runs end to end.

It runs the ``--quick`` size (each variant in its own child process, as the full run does)
and checks the report has both rows with numbers in them. No timing targets: timings
belong to the benchmark, not to tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "query_bench.py"


def test_quick_query_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out, numbers = tmp_path / "query.md", tmp_path / "query.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(out), "--json", str(numbers)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "200,000 rows" in text
    for variant in ("query", "pandas in run_python"):
        line = next((x for x in text.splitlines() if x.startswith(f"| {variant} ")), None)
        assert line is not None, f"missing row {variant!r}:\n{text}"
        assert re.search(r"\|\s+\d[\d,]*\.\d\s+\|", line), line
    results = json.loads(numbers.read_text())["results"]
    assert [r["variant"] for r in results] == ["query", "pandas in run_python"]
    assert all(r["peak_extra_mib"] >= 0 for r in results)
