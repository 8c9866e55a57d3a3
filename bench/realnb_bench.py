"""The variable tools on the real-notebook corpus (issue 18): robustness and truth, in figures.

Run ``python bench/realnb_bench.py`` from anywhere (``--ci`` for the subset CI runs,
``--only ID ...`` for some notebooks, ``--no-server`` to skip the server path, ``--out PATH``
for the Markdown, default ``bench/REALNB_RESULTS.md``). For each notebook of
``tests/realnb/corpus.toml`` it runs the code cells in a real kernel, then calls every tool
on every name, through the tools and through the real server with a scripted model
(``tests/realnb/probe.py``), and prints:

- notebooks, cells run and cells that raised;
- names probed, and of them the ones the notebook's own cells assigned;
- tool calls (through the tools / through the server), calls that went wrong (an error, a
  result over 16,000 characters or not JSON, a call over 1 s), refusals ("no rows");
- the slowest call (ms, which) and the largest result (characters);
- the issue's semantic checks: how often each ran and how many problems each found.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
for path in (REPO_ROOT, REPO_ROOT / "tests", REPO_ROOT / "tests" / "realnb"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import corpus  # noqa: E402
import harness  # noqa: E402
from _common import machine, machine_line, markdown_table  # noqa: E402


def run(ids: list[str], ci: bool, server: bool) -> dict[str, Any]:
    notebooks = [nb for nb in corpus.load() if (not ids or nb.id in ids) and (nb.ci or not ci)]
    rows = []
    started = time.perf_counter()
    for nb in notebooks:
        print(f"running {nb.id} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="realnb-") as tmp:
            result = harness.run(nb, Path(tmp), server=server)
        rows.append(summarise(result))
        print("  " + ", ".join(f"{k} {v}" for k, v in rows[-1].items() if k != "id"), flush=True)
    packages = ("pandas", "numpy", "scikit-learn", "statsmodels", "scipy", "xarray", "sympy")
    return {
        "rows": rows,
        "seconds": time.perf_counter() - started,
        "server": server,
        "machine": machine(packages=packages),
    }


def summarise(result: harness.Run) -> dict[str, Any]:
    report = result.report
    calls = report["calls"]
    slowest = max((c for c in calls if c["ms"] is not None), key=lambda c: c["ms"])
    problems = Counter(p["check"] for p in report["problems"])
    return {
        "id": result.notebook.id,
        "cells": result.cells_run,
        "cells_failed": len(result.failed),
        "names": report["names"],
        "user_names": report["user_names"],
        "calls_tools": sum(c["path"] == "tools" for c in calls),
        "calls_server": sum(c["path"] == "server" for c in calls),
        "errors": sum(bool(c["problem"]) for c in calls),
        "refusals": sum(bool(c["refused"]) for c in calls),
        "max_ms": slowest["ms"],
        "slowest": f"{slowest['tool']}({slowest['arguments'].get('name', '')})",
        "max_chars": max(c["chars"] for c in calls),
        "checks_ran": dict(sorted(report["checks_ran"].items())),
        "problems": dict(sorted(problems.items())),
        "seconds": round(result.seconds_cells + result.seconds_probe, 1),
    }


def render(report: dict[str, Any]) -> str:
    rows = report["rows"]
    header = (
        "notebook", "cells (failed)", "names (user)", "calls tools + server", "errors",
        "refusals", "max ms", "max chars", "semantic problems",
    )  # fmt: skip
    table = [
        (
            r["id"],
            f"{r['cells']} ({r['cells_failed']})",
            f"{r['names']:,} ({r['user_names']:,})",
            f"{r['calls_tools']:,} + {r['calls_server']:,}",
            f"{r['errors']:,}",
            f"{r['refusals']:,}",
            f"{r['max_ms']:.0f}",
            f"{r['max_chars']:,}",
            ", ".join(f"{k} {v}" for k, v in r["problems"].items()) or "none",
        )
        for r in rows
    ]
    slowest = max(rows, key=lambda r: r["max_ms"])
    totals: Counter[str] = Counter()
    ran: Counter[str] = Counter()
    for r in rows:
        totals.update(r["problems"])
        ran.update(r["checks_ran"])
    table.append(
        (
            f"**{len(rows)} notebooks**",
            f"{sum(r['cells'] for r in rows):,} ({sum(r['cells_failed'] for r in rows)})",
            f"{sum(r['names'] for r in rows):,} ({sum(r['user_names'] for r in rows):,})",
            f"{sum(r['calls_tools'] for r in rows):,} + {sum(r['calls_server'] for r in rows):,}",
            f"{sum(r['errors'] for r in rows):,}",
            f"{sum(r['refusals'] for r in rows):,}",
            f"{slowest['max_ms']:.0f}",
            f"{max(r['max_chars'] for r in rows):,}",
            f"{sum(totals.values()):,}",
        )
    )
    checks = markdown_table(
        ("check", "times run", "problems found"),
        [(name, f"{ran[name]:,}", f"{totals.get(name, 0):,}") for name in sorted(ran)],
    )
    m = report["machine"]
    versions = tuple(f"{k} {v}" for k, v in m.get("packages", {}).items())
    return "\n".join(
        [
            machine_line(m, extras=versions),
            f"Whole run: {report['seconds']:.0f} s; server path "
            f"{'on' if report['server'] else 'off'}. Slowest call: {slowest['slowest']} in "
            f"{slowest['id']}. Errors: calls that failed, passed 16,000 characters, were not "
            'JSON or took over 1 s; refusals: preview_rows\' "no rows" answers.',
            "",
            markdown_table(header, table),
            "",
            checks,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ci", action="store_true", help="only the notebooks CI runs")
    parser.add_argument("--only", nargs="*", default=[], help="notebook ids")
    parser.add_argument("--no-server", action="store_true", help="skip the server path")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "REALNB_RESULTS.md")
    args = parser.parse_args()
    report = run(args.only, args.ci, not args.no_server)
    text = render(report)
    print(text)
    title = "# Real-notebook corpus\n\nWritten by `python bench/realnb_bench.py`.\n\n"
    args.out.write_text(title + text + "\n")


if __name__ == "__main__":
    main()
