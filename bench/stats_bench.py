"""What exact statistics cost: ``describe`` on a 1.69M-row names table, exact beside sampled.

Run ``python bench/stats_bench.py`` (``--quick`` for 200,000 rows; ``--out PATH`` for the
Markdown results, default ``bench/STATS_RESULTS.md``). The frame has the shape of the
US baby-names table that issue 18 found misdescribed (year, name, sex, births; 1,690,784
rows, 88,496 distinct names, the most common appearing in 262 rows), generated here with
a fixed seed. In one run, on one machine, it times:

- ``describe`` as it is now: every column's statistics from all rows (``exact``);
- ``describe`` with exact statistics turned off (``Caps(exact_count_rows=0)``), which
  is what the previews did before: a 10,000-row evenly spaced sample (``sampled``);
- the single costs behind the difference: ``value_counts()`` of the name column and
  ``describe()`` of one numeric column, on all rows;
- the naive baseline, ``df.describe(include="all")``.

and checks what each says about the name column against ``value_counts()``. Each figure
is the median of several runs after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import machine, machine_line, markdown_table  # noqa: E402

from chatkit_notebook.previews.values import Caps, describe  # noqa: E402

ROWS, NAMES, TOP = 1_690_784, 88_496, 262


def names_frame(rows: int) -> pd.DataFrame:
    """Rows of (year, name, sex, births): each name in 1 to 262 rows, most in few."""
    rng = np.random.default_rng(18)
    names = max(10, round(NAMES * rows / ROWS))
    counts = np.minimum(TOP, np.ceil(rng.exponential(rows / names, size=names))).astype(int)
    counts[0] = TOP
    while counts.sum() != rows:  # trim or pad the tail until the rows add up
        gap = rows - int(counts.sum())
        i = rng.integers(1, names)
        counts[i] = int(np.clip(counts[i] + np.sign(gap) * min(abs(gap), 50), 1, TOP))
    labels = np.array([f"Name{i:05d}" for i in range(names)], dtype=object)
    column = np.repeat(labels, counts)
    order = rng.permutation(rows)
    return pd.DataFrame(
        {
            "year": rng.integers(1880, 2011, size=rows),
            "name": column[order],
            "sex": np.where(rng.random(rows) < 0.5, "F", "M").astype(object),
            "births": rng.zipf(1.7, size=rows).clip(5, 100_000),
        }
    )


def timed(call: Callable[[], Any], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each run: on a shared machine the CPU time is
    the cost of the call itself, the wall clock also what other processes took."""
    call()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def run(quick: bool) -> dict[str, Any]:
    rows = 200_000 if quick else ROWS
    runs = 3 if quick else 7
    df = names_frame(rows)
    counts = df["name"].value_counts()
    truth = {"unique": len(counts), "top_freq": int(counts.iloc[0])}
    measures: list[dict[str, Any]] = []

    def name_stats(caps: Caps) -> dict[str, Any]:
        stats = describe(df, caps=caps).data["columns"][1]["stats"]
        assert isinstance(stats, dict)
        return stats

    for label, caps in (("exact", Caps()), ("sampled", Caps(exact_count_rows=0))):
        times, cpu = timed(lambda caps=caps: describe(df, caps=caps), runs)
        stats = name_stats(caps)
        unique = stats.get("unique", stats.get("unique_in_sample"))
        freq = stats.get("freq", stats.get("freq_in_sample"))
        said = "column" if "unique" in stats else "sample (labelled)"
        measures.append(
            {
                "measure": f"describe, {label}",
                "median_ms": statistics.median(times),
                "max_ms": max(times),
                "cpu_ms": statistics.median(cpu),
                "name_unique": unique,
                "name_freq": freq,
                "says": said,
            }
        )
    for label, call in (
        ("value_counts() of the name column", lambda: df["name"].value_counts()),
        ("describe() of the births column", lambda: df["births"].describe()),
        ('baseline: df.describe(include="all")', lambda: df.describe(include="all")),
    ):
        times, cpu = timed(call, runs if "baseline" not in label else max(1, runs // 2))
        measures.append(
            {
                "measure": label,
                "median_ms": statistics.median(times),
                "max_ms": max(times),
                "cpu_ms": statistics.median(cpu),
            }
        )
    return {
        "machine": machine(packages=("pandas", "numpy")),
        "rows": rows,
        "load": os.getloadavg()[0],
        "truth": truth,
        "measures": measures,
    }


def render(report: dict[str, Any]) -> str:
    truth = report["truth"]
    load = f"; load average {report['load']:.1f} when it ended"
    rows = [
        [
            m["measure"],
            f"{m['median_ms']:.1f}",
            f"{m['max_ms']:.1f}",
            f"{m['cpu_ms']:.1f}",
            f"{m['name_unique']:,}" if "name_unique" in m else "",
            f"{m['name_freq']:,}" if "name_freq" in m else "",
            m.get("says", ""),
        ]
        for m in report["measures"]
    ]
    table = markdown_table(
        [
            "measure",
            "median ms",
            "max ms",
            "CPU ms",
            "name: unique",
            "name: top freq",
            "counts of",
        ],
        rows,
    )
    return (
        f"# describe: exact beside sampled statistics, {report['rows']:,} rows\n\n"
        f"{machine_line(report['machine'], suffix=load)}\n\n"
        f"The name column really has {truth['unique']:,} distinct names; the most common "
        f"is in {truth['top_freq']:,} rows.\n\n{table}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200,000 rows and fewer runs")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "STATS_RESULTS.md")
    args = parser.parse_args()
    text = render(run(args.quick))
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
