"""Benchmark the stale-answer check's cost per cell, and the traced numbers' false flags.

Run ``python bench/stale_bench.py`` from anywhere (``--quick`` for a smaller, faster run;
``--out PATH`` for the Markdown results, default ``bench/STALE_RESULTS.md``). In one run,
on one machine, on a real IPython shell with ``%load_ext chatkit_notebook``:

- 50 variables are tracked (as if answers had read them): 49 frames of 1,000 rows and one
  frame of 1,000,000 rows (a number, a float and a text column);
- a cell that touches none of them (``scratch = [i * i for i in range(200)]``), a 42-line
  cell that touches none either (a function and 30 calls of it), and a cell that edits one
  value of the big frame in place (``big.loc[3, "amount"] = …``), are run many times with
  the hook and, as the baseline, with the hook taken out;
- "hook" is the time of the ``post_run_cell`` hook itself (parsing the cell, fingerprinting
  what it touched), "cell" the whole ``run_cell``, and "added" the difference of medians.

Then the traced numbers' check runs over ``tests/fixtures/traced/answers.json`` (answers
with their turn's tool outputs, the numbers that are really untraced marked) and reports
how many numbers it flagged that were in fact traced: the false-flag rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import BENCH_DIR, TESTS_DIR, machine, machine_line, markdown_table
from IPython.core.interactiveshell import InteractiveShell

from chatkit_notebook.agent.traced import numbers_in, trace
from chatkit_notebook.kernel import session as kernel_session
from chatkit_notebook.previews.fingerprint import fingerprint

ANSWERS = TESTS_DIR / "fixtures" / "traced" / "answers.json"
UNTOUCHED = "scratch = [i * i for i in range(200)]"
LONG = "\n".join(
    [
        "def summarise(values, *, scale=1.0):",
        '    """A helper a notebook might define."""',
        "    total = 0.0",
        "    for n, value in enumerate(values):",
        "        if n % 2:",
        "            total += value * scale",
        "        else:",
        "            total -= value / (n + 1)",
        "    return {'total': total, 'count': len(values)}",
        "",
        *(f"result_{n} = summarise(range({n + 10}), scale={n}.5)" for n in range(30)),
        "table = [result_0, result_1, result_2]",
        "print(len(table))",
    ]
)
EDIT = 'big.loc[3, "amount"] = {n}.5'
CELLS = (("untouched", UNTOUCHED), ("long", LONG), ("edit", EDIT))


def setup(shell: InteractiveShell, rows: int) -> None:
    rng = np.random.default_rng(0)
    shell.user_ns["big"] = pd.DataFrame(
        {
            "id": np.arange(rows),
            "amount": rng.random(rows),
            "region": rng.choice(["north", "south", "east", "west"], rows),
        }
    )
    for n in range(49):
        shell.user_ns[f"frame_{n}"] = pd.DataFrame({"x": rng.random(1000), "y": np.arange(1000)})


def cells(shell: InteractiveShell, code: str, runs: int, hook: list[float]) -> list[float]:
    """Run ``code`` ``runs`` times; the whole cell's milliseconds (the hook's go to ``hook``)."""
    times = []
    for n in range(runs):
        start = time.perf_counter()
        shell.run_cell(code.replace("{n}", str(n)), store_history=False, silent=False)
        times.append((time.perf_counter() - start) * 1000)
    return times


def per_cell(quick: bool) -> dict[str, Any]:
    rows = 100_000 if quick else 1_000_000
    runs = 15 if quick else 60
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "chatkit_notebook")
    loaded = kernel_session.loaded()
    assert loaded is not None
    setup(shell, rows)
    watch = loaded.stale
    tracked = {
        name: fingerprint(shell.user_ns[name])
        for name in ["big", *map("frame_{}".format, range(49))]
    }
    assert watch.notes(tracked) == []  # tracks all 50, as a panel showing answers would
    hook: list[float] = []
    real = loaded._after_cell

    def timing(result: Any) -> None:  # the session's hook, timed
        start = time.perf_counter()
        real(result)
        hook.append((time.perf_counter() - start) * 1000)

    shell.events.unregister("post_run_cell", real)
    shell.events.register("post_run_cell", timing)
    result: dict[str, Any] = {"rows": rows, "runs": runs, "tracked": len(tracked)}
    for label, code in CELLS:
        hook.clear()
        with_hook = cells(shell, code, runs, hook)
        result[label] = {"with": with_hook, "hook": list(hook)}
    assert watch.notes({"big": tracked["big"]}) != []  # the edit was noticed
    shell.events.unregister("post_run_cell", timing)
    for label, code in CELLS:
        result[label]["without"] = cells(shell, code, runs, [])
    shell.events.register("post_run_cell", real)
    shell.run_line_magic("unload_ext", "chatkit_notebook")
    return result


def false_flags() -> dict[str, Any]:
    cases = json.loads(ANSWERS.read_text(encoding="utf-8"))
    checked = flagged = false = missed = 0
    started = time.perf_counter()
    for case in cases:
        found = trace([case["answer"]], case["sources"], case["question"])
        expected = set(case["untraced"])
        checked += found.checked
        flagged += len(found.untraced)
        false += len(set(found.untraced) - expected)
        missed += len(expected - set(found.untraced))
    seconds = time.perf_counter() - started
    numbers = sum(len(numbers_in(case["answer"])) for case in cases)
    return {
        "answers": len(cases),
        "numbers": numbers,
        "checked": checked,
        "flagged": flagged,
        "false": false,
        "missed": missed,
        "should_trace": checked - sum(len(case["untraced"]) for case in cases),
        "ms_per_answer": seconds * 1000 / len(cases),
    }


def render(cell: dict[str, Any], flags: dict[str, Any], m: dict[str, Any]) -> str:
    header = (
        "cell",
        "hook median ms",
        "hook max ms",
        "cell median ms, hook",
        "cell median ms, no hook",
        "added median ms",
    )
    table = []
    names = {
        "untouched": "touches no tracked variable",
        "long": "a 42-line cell (a function, 30 calls) that touches none",
        "edit": f"edits one value of the tracked {cell['rows']:,}-row frame",
    }
    for key, label in names.items():
        part = cell[key]
        with_, without = statistics.median(part["with"]), statistics.median(part["without"])
        table.append(
            (
                label,
                f"{statistics.median(part['hook']):.2f}",
                f"{max(part['hook']):.2f}",
                f"{with_:.2f}",
                f"{without:.2f}",
                f"{with_ - without:+.2f}",
            )
        )
    rate = flags["false"] / max(1, flags["should_trace"])
    return "\n".join(
        [
            machine_line(m, extras=(f"pandas {pd.__version__}", f"numpy {np.__version__}")),
            f"Per cell: {cell['tracked']} tracked variables, {cell['runs']} runs of each cell "
            "on a real IPython shell with the extension loaded; the baseline is the same "
            "shell with the hook taken out. Targets: added ≤ 5 ms (untouched), ≤ 100 ms "
            "(the 1M-row edit).",
            "",
            markdown_table(header, table),
            "",
            f"Traced numbers over {flags['answers']} answers "
            f"({ANSWERS.relative_to(BENCH_DIR.parent)}): "
            f"{flags['numbers']} numbers written, {flags['checked']} checked (the rest are years, "
            f"list numbering, dates or the question's), {flags['flagged']} flagged, "
            f"{flags['false']} of them falsely: **false-flag rate {rate:.1%}** of the "
            f"{flags['should_trace']} numbers that are traced (goal ≤ 5%); "
            f"{flags['missed']} of the truly untraced missed. "
            f"{flags['ms_per_answer']:.2f} ms per answer.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 100,000-row frame, fewer runs")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "STALE_RESULTS.md")
    args = parser.parse_args()
    cell = per_cell(args.quick)
    flags = false_flags()
    text = render(cell, flags, machine())
    print(text)
    title = (
        "# Stale answers and traced numbers benchmark\n\n"
        f"Written by `python bench/stale_bench.py` on {datetime.now():%Y-%m-%d}.\n\n"
    )
    args.out.write_text(title + text + "\n")


if __name__ == "__main__":
    main()
