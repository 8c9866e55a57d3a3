"""Benchmark the ``query`` tool's DuckDB engine against pandas in ``run_python``'s sandbox.

Run ``python bench/query_bench.py`` (``--quick`` for a smoke run of a few seconds,
``--rows N`` for another size, ``--json PATH`` to keep the numbers, ``--out PATH`` for the
Markdown). The question is a group-by over a pandas frame of 10,000,000 rows (a
categorical ``region`` of 8 names, a float ``amount``, an int ``qty``): total amount,
mean quantity and row count per region.

- **query**: :func:`chatkit_notebook.previews.sql.run_query`, the engine behind the tool
  (the connection, the parse check, registering the frame, the run, bounding and redaction).
- **pandas in run_python**: the same question as pandas code, run with the package's
  ``execute`` in a ``sandbox_namespace`` (copy-on-write frames), as an approved
  ``run_python`` call runs it (the approval itself excluded).

Each variant runs in a child process of its own, so one's memory cannot hide in another's:
the child builds the frame, then a thread samples its resident set size (``/proc/self/statm``)
every 2 ms while the variant runs; "peak extra memory" is the highest sample minus the
sample just before. tracemalloc would not see DuckDB's memory (C++ allocations), RSS does.
If the query copied the frame it would need at least the frame's own size again; it needs
a fraction of it, because DuckDB scans the pandas columns in place. Wall time is the median
of the runs after one warm-up; memory is the first (cold) run's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import _common

QUESTION_SQL = (
    "SELECT region, SUM(amount) AS total, AVG(qty) AS mean_qty, COUNT(*) AS n "
    "FROM sales GROUP BY region ORDER BY total DESC"
)
QUESTION_PANDAS = (
    "sales.groupby('region', observed=True)"
    ".agg(total=('amount', 'sum'), mean_qty=('qty', 'mean'), n=('amount', 'size'))"
    ".sort_values('total', ascending=False)"
)
VARIANTS = ("query", "pandas in run_python")


def _rss() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


class _Sampler:
    """The peak resident set size while it runs, sampled every 2 ms."""

    def __init__(self) -> None:
        self.peak = _rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _frame(rows: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    names = ["north", "south", "east", "west", "centre", "islands", "coast", "hills"]
    return pd.DataFrame(
        {
            "region": pd.Categorical.from_codes(rng.integers(0, 8, rows), names),
            "amount": rng.random(rows) * 100,
            "qty": rng.integers(1, 50, rows, dtype=np.int32),
        }
    )


def _variant(name: str, rows: int, repeats: int) -> dict[str, Any]:
    """Run one variant in this (child) process."""
    import gc

    from chatkit_notebook import NotebookContext
    from chatkit_notebook.agent.sandbox import Stopper, execute, sandbox_namespace
    from chatkit_notebook.previews.sql import run_query

    sales = _frame(rows)
    frame_bytes = int(sales.memory_usage(deep=True).sum())
    nb = NotebookContext(namespace={"sales": sales})

    def once() -> Any:
        if name == "query":
            result = run_query(nb, QUESTION_SQL, seconds=600)
            return len(result.rows)
        namespace = sandbox_namespace(nb.namespace, set(), {})
        outcome = execute(QUESTION_PANDAS, namespace, timeout=600, stopper=Stopper())
        assert outcome.status == "ok", outcome.error
        return outcome

    gc.collect()
    before = _rss()
    with _Sampler() as sampler:
        started = time.perf_counter()
        once()
        cold = time.perf_counter() - started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        once()
        times.append(time.perf_counter() - started)
    return {
        "variant": name,
        "rows": rows,
        "frame_mib": frame_bytes / 2**20,
        "cold_ms": cold * 1000,
        "median_ms": statistics.median(times) * 1000 if times else cold * 1000,
        "peak_extra_mib": (sampler.peak - before) / 2**20,
    }


def _child(name: str, rows: int, repeats: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--variant", name, "--rows", str(rows)]
    command += ["--repeats", str(repeats)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def report(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    rows = results[0]["rows"]
    frame = results[0]["frame_mib"]
    lines = [
        f"Group-by over a pandas frame of {rows:,} rows ({frame:,.0f} MiB): "
        "total, mean and count per region.",
        "",
        _common.machine_line(
            info,
            extras=[
                f"duckdb {info['packages'].get('duckdb')}",
                f"pandas {info['packages'].get('pandas')}",
            ],
        ),
        "",
    ]
    base = next(r for r in results if r["variant"] != "query")
    table = [
        [
            r["variant"],
            f"{r['median_ms']:,.1f}",
            f"{r['cold_ms']:,.1f}",
            f"{r['median_ms'] / base['median_ms']:.2f}",
            f"{r['peak_extra_mib']:,.1f}",
            f"{r['peak_extra_mib'] / frame:.2f}",
        ]
        for r in results
    ]
    header = [
        "variant",
        "median ms",
        "first run ms",
        "time vs pandas",
        "peak extra RSS MiB",
        "extra / frame size",
    ]
    lines.append(_common.markdown_table(header, table))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 rows, 2 repeats")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = args.rows or (200_000 if args.quick else 10_000_000)
    repeats = args.repeats or (2 if args.quick else 5)
    if args.variant:
        print(json.dumps(_variant(args.variant, rows, repeats)))
        return
    results = [_child(name, rows, repeats) for name in VARIANTS]
    info = _common.machine(packages=["duckdb", "pandas", "pyarrow"])
    text = report(results, info)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2))


if __name__ == "__main__":
    main()
