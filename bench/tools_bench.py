"""Benchmark the notebook tools against naive previews of the same data.

Run ``python bench/tools_bench.py`` from anywhere (``--quick`` for a smaller, faster run;
``--out PATH`` to choose where the Markdown results go, default
``bench/TOOLS_RESULTS.md``). In one run, on one machine, it times:

- ``list_variables`` over 1,000 variables of mixed types (numbers, strings, lists, dicts,
  small frames, arrays, functions, classes, modules);
- ``describe_variable`` and ``preview_rows`` on a 10,000,000-row DataFrame (ids, prices,
  quantities, a 1,000-value text column and a category);
- the naive baseline: ``df.describe(include="all")`` on the whole frame, ``repr(df)``
  and ``df.isna().sum()``.

Tool calls go through the real path: a ``chatkit.agents.AgentContext`` over a
``NotebookStore`` in a temp dir, so each one includes its workflow task and the fsynced
hidden-context write. "preview only" times the same result without the task and the store
write. Each figure is the median of several runs (the baseline runs fewer times).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import BENCH_DIR, machine, machine_line, markdown_table
from agents import RunContextWrapper
from chatkit.agents import AgentContext
from chatkit.types import ThreadMetadata

from chatkit_notebook import NotebookContext
from chatkit_notebook.agent import tools as T
from chatkit_notebook.stores.file import NotebookStore


def big_frame(rows: int) -> pd.DataFrame:
    ids = np.arange(rows)
    return pd.DataFrame(
        {
            "id": ids,
            "price": ids * 0.25,
            "qty": (ids % 97).astype(np.int32),
            "city": pd.Series(ids % 1000).astype(str),
            "segment": pd.Categorical.from_codes(ids % 5, ["a", "b", "c", "d", "e"]),
        }
    )


def mixed_namespace(count: int) -> dict[str, Any]:
    """``count`` variables of mixed types, the way a long notebook accumulates them."""
    small = pd.DataFrame({"a": range(100), "b": [f"row {i}" for i in range(100)]})

    def helper(x: int) -> int:
        return x + 1

    class Model:
        pass

    makers: list[Callable[[int], Any]] = [
        lambda i: i,
        lambda i: i * 0.5,
        lambda i: f"note number {i} " * 20,
        lambda i: list(range(i % 50)),
        lambda i: {"k": i, "nested": {"v": [1, 2, 3]}},
        lambda i: small,
        lambda i: np.zeros((10, i % 7 + 1)),
        lambda i: helper,
        lambda i: Model,
        lambda i: math,
    ]
    return {f"var_{i:04d}": makers[i % len(makers)](i) for i in range(count)}


async def timed(call: Callable[[], Awaitable[Any]] | Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        if asyncio.iscoroutine(result):
            await result
        times.append((time.perf_counter() - started) * 1000)
    return times


async def run(quick: bool) -> dict[str, Any]:
    rows = 1_000_000 if quick else 10_000_000
    runs, baseline_runs = (3, 1) if quick else (7, 3)
    print(f"building a {rows:,}-row frame and 1,000 variables ...", flush=True)
    frame = big_frame(rows)
    namespace = mixed_namespace(1000)
    namespace["df"] = frame
    with tempfile.TemporaryDirectory() as tmp:
        store = NotebookStore(Path(tmp) / "bench.chatkit.json")
        nb = NotebookContext(namespace=namespace)
        thread = ThreadMetadata(id="thr_bench", created_at=datetime.now())
        await store.save_thread(thread, nb)
        ctx = RunContextWrapper(AgentContext(thread=thread, store=store, request_context=nb))
        measures: dict[str, tuple[list[float], list[float], int]] = {}
        cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
            (
                "list_variables, 1,001 variables",
                lambda: T._list_variables(ctx),
                lambda: T._compute_list(nb, False),
            ),
            (
                f"describe_variable, {rows:,}-row frame",
                lambda: T._describe_variable(ctx, "df"),
                lambda: T._compute_describe(nb, "df"),
            ),
            (
                f"preview_rows(start={rows // 2:,}, count=20), same frame",
                lambda: T._preview_rows(ctx, "df", rows // 2, 20, None),
                lambda: T._compute_rows(nb, "df", rows // 2, 20, None),
            ),
        ]
        for label, tool_call, compute in cases:
            size = len(await tool_call())  # warm up, and keep the result size
            measures[label] = (await timed(tool_call, runs), await timed(compute, runs), size)
        baseline: dict[str, tuple[list[float], int]] = {}
        for label, call in (
            ('df.describe(include="all"), whole frame', lambda: frame.describe(include="all")),
            ("repr(df)", lambda: repr(frame)),
            ("df.isna().sum(), whole frame", lambda: frame.isna().sum()),
        ):
            result = call()
            baseline[label] = (await timed(call, baseline_runs), len(str(result)))
    return {
        "quick": quick,
        "rows": rows,
        "runs": runs,
        "baseline_runs": baseline_runs,
        "machine": {**machine(), "pandas": pd.__version__, "numpy": np.__version__},
        "tools": measures,
        "baseline": baseline,
    }


def render(report: dict[str, Any]) -> str:
    """The results as Markdown: the machine, then one table."""
    m = report["machine"]
    header = ("measure", "median ms", "max ms", "preview only, median ms", "result chars")
    rows: list[tuple[str, ...]] = []
    for label, (tool_ms, compute_ms, size) in report["tools"].items():
        rows.append(
            (
                label,
                f"{statistics.median(tool_ms):.1f}",
                f"{max(tool_ms):.1f}",
                f"{statistics.median(compute_ms):.1f}",
                f"{size:,}",
            )
        )
    for label, (ms, size) in report["baseline"].items():
        median, worst = f"{statistics.median(ms):.1f}", f"{max(ms):.1f}"
        rows.append((f"baseline: {label}", median, worst, "", f"{size:,}"))
    table = markdown_table(header, rows)
    return "\n".join(
        [
            machine_line(m, extras=(f"pandas {m['pandas']}", f"numpy {m['numpy']}")),
            f"Run: {'--quick' if report['quick'] else 'full size'}; tool figures are the median"
            f" of {report['runs']} runs after one warm-up, baselines of "
            f"{report['baseline_runs']}. A tool call includes its workflow task and the "
            "fsynced hidden-context write to a NotebookStore; 'preview only' is the same "
            "result without them. Target: every tool call under 1,000 ms.",
            "",
            table,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1M rows and fewer runs")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "TOOLS_RESULTS.md")
    args = parser.parse_args()
    report = asyncio.run(run(args.quick))
    text = render(report)
    print(text)
    title = "# Notebook tools benchmark\n\nWritten by `python bench/tools_bench.py`.\n\n"
    args.out.write_text(title + text + "\n")


if __name__ == "__main__":
    main()
