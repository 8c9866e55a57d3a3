"""Benchmark the sandbox ``run_python`` runs in, against a deep copy, and one call's overhead.

Run ``python bench/sandbox_bench.py`` (``--quick`` for a smoke run of a few seconds,
``--json PATH`` to keep the numbers). In one process it measures:

- **set-up**: :func:`chatkit_notebook.agent.sandbox.sandbox_namespace` over a namespace of 100
  pandas DataFrames of 1,000,000 rows (two columns) plus 1,000 other names (ints, strings,
  short lists), beside ``copy.deepcopy`` of the same namespace, the baseline a sandbox
  that really copied the data would pay. Target: set-up <= 5 ms.
- **overhead of one call** beyond the user's code: building the sandbox, running ``pass``
  with output capture, working out the scratch names and formatting the model's result,
  on the main thread, as ``run_python``'s job does (approval excluded). Target <= 20 ms.
- **figure capture**: one matplotlib line plot made by the code, saved as PNG and closed,
  minus the same code with the capture's save step left out (figures closed unsaved).

Each figure is the median of several runs after one untimed warm-up.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts this checkout on sys.path)


def _namespace(frames: int, rows: int, others: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    namespace: dict[str, Any] = {}
    for n in range(frames):
        namespace[f"df{n}"] = pd.DataFrame(
            {"a": np.arange(rows, dtype="int64"), "b": np.zeros(rows)}
        )
    for n in range(others):
        namespace[f"v{n}"] = (n, f"text {n}", [n, n + 1])[n % 3]
    return namespace


def _median_ms(fn: Any, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(quick: bool) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from chatkit_notebook import NotebookContext
    from chatkit_notebook.agent.run_python import _result
    from chatkit_notebook.agent.sandbox import Stopper, execute, sandbox_namespace, scratch_after

    frames, rows, others = (5, 10_000, 100) if quick else (100, 1_000_000, 1_000)
    repeats = 3 if quick else 9
    namespace = _namespace(frames, rows, others)
    setup_ms = _median_ms(lambda: sandbox_namespace(namespace, (), {}), repeats)
    deepcopy_ms = _median_ms(lambda: copy.deepcopy(namespace), 3 if not quick else 2)
    nb = NotebookContext(namespace=namespace)

    def one_call(code: str) -> None:
        sandbox = sandbox_namespace(namespace, (), {})
        before = dict(sandbox)
        outcome = execute(code, sandbox, timeout=60, stopper=Stopper())
        _result(outcome, scratch_after(before, outcome.namespace), nb)

    call_ms = _median_ms(lambda: one_call("pass"), repeats * 3)
    plot = "import matplotlib.pyplot as plt\nplt.plot(range(100))"
    closed = plot + "\nplt.close('all')"  # the same figure, closed before capture sees it
    figure_ms = _median_ms(lambda: one_call(plot), repeats)
    no_figure_ms = _median_ms(lambda: one_call(closed), repeats)
    return {
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "namespace": {"frames": frames, "rows": rows, "others": others},
        "setup_ms": setup_ms,
        "deepcopy_ms": deepcopy_ms,
        "call_overhead_ms": call_ms,
        "figure_capture_ms": max(0.0, figure_ms - no_figure_ms),
        "targets": {"setup_ms": 5.0, "call_overhead_ms": 20.0},
    }


def report(result: dict[str, Any]) -> str:
    ns = result["namespace"]
    lines = [
        f"Namespace: {ns['frames']} DataFrames of {ns['rows']:,} rows x 2 columns, "
        f"plus {ns['others']:,} other names.",
        "",
        "| measure | chatkit-notebook | baseline | target |",
        "|---|---|---|---|",
        f"| sandbox set-up, median ms | {result['setup_ms']:.2f} | deepcopy: "
        f"{result['deepcopy_ms']:,.0f} | <= 5 ms "
        f"({'ok' if result['setup_ms'] <= 5 else 'MISSED'}) |",
        f"| one call's overhead (`pass`), median ms | {result['call_overhead_ms']:.2f} | | "
        f"<= 20 ms ({'ok' if result['call_overhead_ms'] <= 20 else 'MISSED'}) |",
        f"| figure capture (one line plot, PNG), median ms | {result['figure_capture_ms']:.1f} "
        "| | report |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    result = run(args.quick)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(report(result))


if __name__ == "__main__":
    main()
