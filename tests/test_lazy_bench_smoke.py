"""Smoke test for ``bench/lazy_bench.py``: the lazy-preview benchmark still runs end to end.

It runs the ``--quick`` sizes in a subprocess (a local Spark session inside it: Java 17 is
needed, as for the ``spark`` group) and checks that the report has every row, with the
counts the previews promise. It asserts no timing targets: timings belong to the
benchmark, not to tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "lazy_bench.py"


def test_quick_lazy_bench_writes_a_complete_report(tmp_path: Path) -> None:
    if shutil.which("java") is None:
        reason = "the benchmark starts Spark, which needs Java 17"
        if os.environ.get("CHATKIT_REQUIRE_SPARK"):
            pytest.fail(f"CHATKIT_REQUIRE_SPARK is set, but {reason}")
        pytest.skip(reason)
    out = tmp_path / "lazy.md"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = out.read_text()
    assert "Machine: " in report
    rows = {
        cells[0]: cells[1:]
        for line in report.splitlines()
        if line.startswith("| ") and not line.startswith("| measure")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert len(rows) == 7
    for name, (ms, jobs, partitions) in rows.items():
        assert float(ms.replace(",", "")) > 0, name
        if name.startswith("preview: describe_variable, Spark"):
            assert int(jobs) <= 1
        if name.startswith("preview: describe_variable, Dask"):
            assert int(partitions) <= 2
        if name.startswith("preview: list_variables"):
            assert (int(jobs), int(partitions)) == (0, 0)
        if name.startswith("naive: ddf.compute()"):
            assert int(partitions) == 100
