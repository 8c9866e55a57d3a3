"""Smoke test for ``bench/pg_bench.py``: the PostgreSQL store benchmark still runs end to end.

It runs the ``--quick`` sizes in a subprocess, on a new database of the test run's
PostgreSQL server (``postgres.py``: skipped where PostgreSQL is not installed, failed then
if ``CHATKIT_REQUIRE_POSTGRES`` is set), and checks the shape of the JSON report. It
asserts no timing goals: timings belong to the benchmark, not to tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from postgres import PostgresServer, pg_dsn_fixture, postgres_fixture  # noqa: F401

BENCH = Path(__file__).resolve().parents[1] / "bench" / "pg_bench.py"
STORES = {"notebook": "NotebookStore", "sqlite": "SQLiteStore", "postgres": "PostgresStore"}


def test_quick_pg_bench_reports_every_store(
    postgres: PostgresServer, pg_dsn: str, tmp_path: Path
) -> None:
    out = tmp_path / "result.json"
    argv = [sys.executable, str(BENCH), "--quick", "--json", str(out), "--tmp-dir", str(tmp_path)]
    proc = subprocess.run(
        [*argv, "--dsn", pg_dsn], capture_output=True, text=True, check=False, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if line.startswith("| measure"))
    assert all(name in header for name in STORES.values()), proc.stdout
    assert "8 writers, one shared thread: items/s" in proc.stdout
    assert "8 writers, a thread each: items/s" in proc.stdout
    assert postgres.password not in proc.stdout + proc.stderr

    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert {"machine", "server", "config", "results", "goals", "checks"} <= report.keys()
    assert report["machine"]["cores"] > 0
    assert report["server"]["own"] == "no"
    assert report["server"]["server_version"]
    assert set(report["results"]) == set(STORES)
    for store, result in report["results"].items():
        for measure in (
            "append_small",
            "append_large",
            "newest20_small",
            "newest20_large",
            "writers_shared",
            "writers_own",
        ):
            stats = result[measure]
            assert stats["median_ms"] > 0, (store, measure)
            assert stats["p95_ms"] >= stats["median_ms"], (store, measure)
        assert result["append_ratio_large_over_small"] > 0
        for mode in ("shared", "own"):
            writers = result[f"writers_{mode}"]
            config = report["config"]
            expected = config["writers"] * config["writer_appends"] * config["writer_rounds"]
            assert writers["n"] == expected, (store, mode)
            assert writers["items_per_s"] > 0, (store, mode)
        assert result["fill_large_seconds"] > 0
    assert set(report["checks"]) == {"pg_append_ratio_large_over_small", "pg_newest20_large"}
    # The temp dir is cleaned up: only the report is left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
