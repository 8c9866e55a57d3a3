"""Smoke test for ``bench/cells_bench.py``: the notebook-tools benchmark still runs end to end.

It runs the ``--quick`` sizes in a subprocess and checks that every measure has a number.
It asserts no timing targets: timings belong to the benchmark, not to tests; the page size
is not a timing, and every page must fit the tools' limit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "cells_bench.py"


def test_quick_cells_bench_reports_every_measure(tmp_path: Path) -> None:
    out = tmp_path / "cells.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    cells, hook = result["notebook_cells"], result["hook"]
    for key in ("cold_ms", "warm_ms", "nbformat_read_ms", "json_parse_ms"):
        assert isinstance(cells[key], float), (key, cells)
        assert cells[key] > 0, (key, cells)
    for key in ("cell_plain_ms", "cell_hooked_ms", "hooks_ok_ms", "hooks_error_ms"):
        assert isinstance(hook[key], float), (key, hook)
        assert hook[key] > 0, (key, hook)
    assert cells["pages"] > 1  # 200 cells do not fit one page
    assert cells["largest_page_chars"] <= 16_000
    assert "| `notebook_cells` page 1, file read afresh, median ms |" in proc.stdout
    assert "| added per cell, median ms |" in proc.stdout
