"""Smoke test for ``bench/load_bench.py``: the extension-load benchmark still runs end to end.

It runs ``--quick`` in a subprocess and checks that the Markdown and JSON reports are
complete. It asserts no timing targets: timings belong to the benchmark, not to tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "load_bench.py"
MEASURES = {
    "load_chatkit",
    "load_autoreload",
    "import_sdks",
    "import_warm_up",
    "load_to_panel_at_once",
    "chat_at_once",
    "warm_up",
    "chat_after_warm_up",
    "reload",
}
ROW_LABELS = (
    "`%load_ext chatkit_notebook`, fresh shell",
    "baseline: `%load_ext autoreload`",
    "baseline: `import chatkit.server, agents`",
    "baseline: `import chatkit_notebook.agent.server, chatkit_notebook.panel.panel`",
    "`%load_ext` -> first `%chat` panel, `%chat` at once",
    "`%chat` alone, run at once after `%load_ext`",
    "`%load_ext` -> warm-up thread finished",
    "`%chat` alone, after the warm-up finished",
    "`%reload_ext chatkit_notebook` (panel built before each)",
)
NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _table_rows(markdown: str) -> dict[str, list[str]]:
    """The cells of every table row, by the row's first cell."""
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("| "):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_quick_load_bench_writes_a_complete_report(tmp_path: Path) -> None:
    out, raw = tmp_path / "LOAD_RESULTS.md", tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(out), "--json", str(raw)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr

    markdown = out.read_text()
    assert "Machine:" in markdown
    assert markdown.split("\n\n", 2)[2].strip() in proc.stdout  # as printed, under a title
    rows = _table_rows(markdown)
    for label in ROW_LABELS:
        median, p90, n, over_autoreload, over_sdks = rows[label]
        assert all(NUMBER.match(cell) for cell in (median, p90, n, over_autoreload, over_sdks))
        assert float(p90) >= float(median) > 0
    (threads,) = [cells for label, cells in rows.items() if "`chatkit-notebook-loop`" in label]
    assert threads[0].startswith("1 (")

    report = json.loads(raw.read_text())
    assert report["quick"] is True
    assert {"machine", "config", "measures", "loop_threads", "ratios", "checks"} <= report.keys()
    assert report["machine"]["cores"] > 0
    assert {"ipython", "openai-agents", "openai-chatkit"} <= report["machine"]["packages"].keys()
    assert report["measures"].keys() == MEASURES
    rounds, reloads = report["config"]["rounds"], report["config"]["reloads"]
    for name, stats in report["measures"].items():
        expected = {"load_chatkit": 3 * rounds, "reload": reloads * rounds}.get(name, rounds)
        assert stats["n"] == len(stats["runs_ms"]) == expected, name
        assert stats["p90_ms"] >= stats["median_ms"] > 0
    assert report["loop_threads"] == [1] * rounds
    assert report["loop_threads_after_each_reload"] == [[1] * reloads] * rounds
    assert all(ratio > 0 for ratio in report["ratios"].values())
    assert report["checks"]["loop_threads"] is True
    assert report["loop_threads_stale_panel"] == [1] * rounds  # an old panel reuses the loop
    assert report["checks"]["loop_threads_stale_panel"] is True
