"""Benchmark the notebook tools: ``notebook_cells`` on a long notebook, and the run hook's cost.

Run ``python bench/cells_bench.py`` (``--quick`` for a smoke run of a few seconds,
``--json PATH`` to keep the numbers). In one process it measures:

- **notebook_cells** on a saved notebook of 200 cells (150 code cells with outputs: printed
  text, results, a PNG figure every tenth cell; 50 Markdown cells), every code cell also
  in the kernel's record, a few secret and hidden variables in the namespace: the whole
  tool computation (reading the file, merging it with the record, redacting, paging), with
  the file read afresh each time ("cold") and from the parse cache ("warm"), beside
  ``nbformat.read`` of the same file alone. Every page's size is checked against 16,000
  characters. Targets: cold <= 50 ms, every page <= 16,000 characters.
- **the run hooks' added time per cell**: an IPython ``InteractiveShell`` runs a cell
  (``x = 1``) again and again, in rounds that alternate between the shell as it is and the
  shell with :class:`~chatkit_notebook.kernel.cells.CellWatch` started; the difference of
  the medians per cell, and the hooks alone (``pre_run_cell`` + ``post_run_cell`` called
  with a real ``ExecutionResult``), for a cell that succeeds and one that raises a
  ``KeyError`` in pandas. Target: <= 1 ms median per cell.

Each figure is the median of several runs after one untimed warm-up.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import statistics
import struct
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import machine

CELLS = 200
PAGE_LIMIT = 16_000


def _png(width: int, height: int, size: int) -> str:
    """A PNG header of the given size, padded to about ``size`` bytes, base64: what a
    saved figure's output holds."""
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
    header += struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    header += struct.pack(">I", zlib.crc32(header[12:]))
    return base64.b64encode(header + bytes(size)).decode()


def _notebook(path: Path, cells: int) -> list[str]:
    """Write a notebook of ``cells`` cells with outputs; the code cells' sources."""
    import nbformat

    book = nbformat.v4.new_notebook()
    sources = []
    figure = _png(640, 480, 30_000)
    for n in range(cells):
        if n % 4 == 3:
            book.cells.append(nbformat.v4.new_markdown_cell(f"## Step {n}\nWhat we saw " * 5))
            continue
        source = f"result_{n} = df.groupby('region')['revenue'].sum()\nprint(result_{n})\n"
        source += f"# step {n}: " + "a comment " * 20
        cell = nbformat.v4.new_code_cell(source, execution_count=len(sources) + 1)
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="north 120\nsouth 80\n" * 60)
        ]
        if n % 10 == 0:
            cell.outputs.append(
                nbformat.v4.new_output(
                    "display_data", data={"image/png": figure, "text/plain": "<Figure>"}
                )
            )
        cell.outputs.append(
            nbformat.v4.new_output(
                "execute_result",
                data={"text/plain": "region\nnorth 120\nsouth 80\n" * 10},
                execution_count=len(sources) + 1,
            )
        )
        book.cells.append(cell)
        sources.append(source)
    nbformat.write(book, path)
    return sources


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_notebook_cells(quick: bool) -> dict[str, Any]:
    import nbformat
    import pandas as pd

    from chatkit_notebook.agent import _cellview
    from chatkit_notebook.agent.cell_tools import compute_cells
    from chatkit_notebook.context import NotebookContext
    from chatkit_notebook.previews.cells import CellRecord

    repeats = 5 if quick else 21
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.ipynb"
        record = CellRecord()
        sources = _notebook(path, CELLS)
        for number, source in enumerate(sources, start=1):  # ran, then saved
            record.started()
            record.printed("stdout", "north 120\nsouth 80\n")
            record.finished(number, source, result=pd.Series([120, 80]))
        _notebook(path, CELLS)  # saved after the runs
        namespace: dict[str, Any] = {
            "df": pd.DataFrame({"region": ["north", "south"], "revenue": [120, 80]}),
            "api_key": "sk-proj-" + "x" * 40,
            "note": "a hidden note",
        }
        nb = NotebookContext(namespace=namespace, notebook_path=path, hidden={"note"}, cells=record)

        def cold() -> object:
            _cellview._read_saved.cache_clear()
            return compute_cells(nb, 1)

        cold_ms = _median_ms(cold, repeats)
        warm_ms = _median_ms(lambda: compute_cells(nb, 1), repeats)
        nbformat_ms = _median_ms(lambda: nbformat.read(path, as_version=4), repeats)
        json_ms = _median_ms(lambda: json.loads(path.read_text(encoding="utf-8")), repeats)
        first = json.loads(compute_cells(nb, 1).result)
        pages = first["pages"]
        sizes = [len(compute_cells(nb, page).result) for page in range(1, pages + 1)]
        size_kb = path.stat().st_size / 1024
    return {
        "cells": CELLS,
        "file_kib": round(size_kb),
        "cold_ms": cold_ms,
        "warm_ms": warm_ms,
        "nbformat_read_ms": nbformat_ms,
        "json_parse_ms": json_ms,
        "pages": pages,
        "largest_page_chars": max(sizes),
    }


def _shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("import pandas as pd\ndf = pd.DataFrame({'revenue': [120, 80]})")
    return shell


def bench_hook(quick: bool) -> dict[str, Any]:
    from chatkit_notebook.kernel.cells import CellWatch

    shell = _shell()
    watch = CellWatch(shell)
    rounds, per_round = (4, 50) if quick else (30, 300)

    def per_cell_ms(hooked: bool) -> float:
        if hooked:
            watch.start()
        started = time.perf_counter()
        for _ in range(per_round):
            shell.run_cell("x = 1", store_history=True)
        elapsed = (time.perf_counter() - started) * 1000 / per_round
        watch.stop()
        return elapsed

    plain, hooked = [], []
    per_cell_ms(False)  # warm-up
    per_cell_ms(True)
    for _ in range(rounds):  # alternating, so load on the machine hits both alike
        plain.append(per_cell_ms(False))
        hooked.append(per_cell_ms(True))
    ok = shell.run_cell("x = 1")
    with contextlib.redirect_stdout(io.StringIO()):  # the traceback the shell prints
        failing = shell.run_cell("total = df['revenu'].sum()")

    def hooks_only(result: Any) -> Callable[[], object]:
        def call() -> object:
            watch._pre_run_cell(result.info)
            watch._post_run_cell(result)
            return None

        return call

    repeats = 200 if quick else 2000
    return {
        "cell_plain_ms": statistics.median(plain),
        "cell_hooked_ms": statistics.median(hooked),
        "added_ms": statistics.median(hooked) - statistics.median(plain),
        "hooks_ok_ms": _median_ms(hooks_only(ok), repeats),
        "hooks_error_ms": _median_ms(hooks_only(failing), repeats // 10),
    }


def run(quick: bool) -> dict[str, Any]:
    return {
        "machine": machine(packages=("ipython", "ipykernel", "nbformat", "pandas")),
        "notebook_cells": bench_notebook_cells(quick),
        "hook": bench_hook(quick),
        "targets": {"cold_ms": 50.0, "largest_page_chars": PAGE_LIMIT, "added_ms": 1.0},
    }


def _ok(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def report(result: dict[str, Any]) -> str:
    cells, hook = result["notebook_cells"], result["hook"]
    return "\n".join(
        [
            f"A saved notebook of {cells['cells']} cells ({cells['file_kib']:,} KiB), every "
            "code cell also in the kernel's record.",
            "",
            "| measure | chatkit-notebook | baseline | target |",
            "|---|---|---|---|",
            f"| `notebook_cells` page 1, file read afresh, median ms | {cells['cold_ms']:.1f} | "
            f"`nbformat.read` alone (it validates): {cells['nbformat_read_ms']:.1f}; "
            f"`json.loads` alone: {cells['json_parse_ms']:.1f} | <= 50 ms "
            f"({_ok(cells['cold_ms'], 50)}) |",
            f"| `notebook_cells` page 1, file parsed before, median ms | "
            f"{cells['warm_ms']:.1f} | | report |",
            f"| largest page of {cells['pages']}, characters | "
            f"{cells['largest_page_chars']:,} | | <= 16,000 "
            f"({_ok(cells['largest_page_chars'], PAGE_LIMIT)}) |",
            f"| a cell (`x = 1`) with the run hooks, median ms | {hook['cell_hooked_ms']:.3f} "
            f"| without: {hook['cell_plain_ms']:.3f} | |",
            f"| added per cell, median ms | {hook['added_ms']:.3f} | | <= 1 ms "
            f"({_ok(hook['added_ms'], 1)}) |",
            f"| the hooks alone, a cell that succeeds, median ms | {hook['hooks_ok_ms']:.4f} "
            "| | report |",
            f"| the hooks alone, a cell raising `KeyError` in pandas, median ms | "
            f"{hook['hooks_error_ms']:.3f} | | report |",
        ]
    )


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
