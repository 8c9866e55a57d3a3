"""Smoke test for ``bench/input_bench.py``: the model-input benchmark still runs end to end.

It runs the ``--quick`` size (12 turns) in a subprocess and checks that the report has a
row per shown turn, before and after, and that the latest preview went whole in both. The
figures themselves belong to the benchmark; the bound is the one thing checked, since the
scenario is deterministic (a scripted model, characters not time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "input_bench.py"


def test_quick_input_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out, numbers = tmp_path / "input.md", tmp_path / "input.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(out), "--json", str(numbers)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = out.read_text()
    assert "Machine: " in report
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in report.splitlines()
        if line.startswith("| ") and not line.startswith("| turn")
    ]
    assert [row[0] for row in rows] == ["1", "2", "3", "5", "10", "12"]
    assert "The latest preview sent whole in the last call: before yes, after yes." in report
    data = json.loads(numbers.read_text())
    before, after = data["before"], data["after"]
    assert len(before) == len(after) == 12
    assert before[0] == after[0]  # nothing to repeat on the first turn
    assert after[-1][0] < before[-1][0] / 3  # the larger call at turn 12
