"""Benchmark ``NotebookStore`` against a SQLite baseline with the same contract.

Run ``python bench/store_bench.py`` from anywhere (``--quick`` for a few-second smoke run,
``--json PATH`` to also write the results). For both stores, in the same run and on the same
disk, it measures:

- ``add_thread_item`` latency (median and p95 of individually timed appends of ~400-character
  assistant messages) into a store that already holds a small and a large number of items
  spread over several threads. The four store/size combinations are appended to in turn, so
  noise from other work on the machine hits them alike.
- Reopen + list: a fresh Python process that has already imported everything times
  constructing the store on the large file plus ``load_thread_items(tid, None, 20, "desc")``.
  The file is in the OS page cache (warm), as it is when a notebook is reopened.
- File sizes on disk.

Targets (from the project brief): NotebookStore's large/small append ratio <= 2.0, its
append time <= 2.0x SQLite's, and reopen + list < 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, REPO_ROOT, machine, machine_line, markdown_table
from chatkit.store import Store
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ThreadMetadata,
)
from sqlite_store import SQLiteStore

from chatkit_notebook import NotebookContext

# From its module: the package exports it lazily (a module __getattr__ mypy cannot see through).
from chatkit_notebook.stores.file import NotebookStore

STORE_NAMES = {"notebook": "NotebookStore", "sqlite": "SQLiteStore"}
STORE_FILES = {"notebook": "bench.chatkit.json", "sqlite": "threads.sqlite3"}
TARGETS = {
    "notebook_append_ratio_large_over_small_max": 2.0,
    "notebook_over_sqlite_append_max": 2.0,
    "reopen_list_ms_max": 250.0,
}

_TEXT = (
    "The dataframe has 12,480 rows and 9 columns; 'price' is skewed right (median 41.2, "
    "mean 57.9) and 3% of 'region' is missing. A log transform of price makes the "
    "relationship with 'sqft' close to linear (r = 0.81). Consider dropping the 14 rows "
    "with negative quantities before fitting, and group by region to check whether the "
    "slope differs; the north region alone accounts for most of the upper tail. "
)

# Runs in a fresh interpreter: import first, then time open + the newest page of one thread.
_REOPEN_SCRIPT = """
import asyncio, json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from chatkit_notebook import NotebookContext, NotebookStore
from sqlite_store import SQLiteStore
kind, path, thread_id = sys.argv[3], sys.argv[4], sys.argv[5]
cls = NotebookStore if kind == "notebook" else SQLiteStore
loop = asyncio.new_event_loop()
ctx = NotebookContext()
t0 = time.perf_counter()
store = cls(path)
page = loop.run_until_complete(store.load_thread_items(thread_id, None, 20, "desc", ctx))
ms = (time.perf_counter() - t0) * 1000.0
print(json.dumps({"ms": ms, "ids": [item.id for item in page.data]}))
"""


@dataclass(frozen=True)
class Config:
    """Sizes for one run.

    Attributes:
        small_items: Items stored before the "small" appends.
        large_items: Items stored before the "large" appends and the reopen test.
        threads: Threads the items are spread over (round robin).
        appends: Individually timed appends per store and size.
        reopen_repeats: Fresh-process reopen measurements per store.
    """

    small_items: int
    large_items: int
    threads: int
    appends: int
    reopen_repeats: int


FULL = Config(small_items=100, large_items=10_000, threads=50, appends=200, reopen_repeats=5)
QUICK = Config(small_items=20, large_items=200, threads=5, appends=20, reopen_repeats=2)


@dataclass
class _Fixture:
    """One store being appended to, and how to name its next item."""

    store: Store[Any]
    thread_ids: list[str]
    next_item: int
    timings: list[float] = field(default_factory=list)


class _Items:
    """Makes distinct assistant-message items with increasing ``created_at``."""

    def __init__(self) -> None:
        self._base = datetime.now()
        self._count = 0

    def make(self, thread_id: str, index: int) -> AssistantMessageItem:
        self._count += 1
        return AssistantMessageItem(
            id=f"msg_{index:07d}",
            thread_id=thread_id,
            created_at=self._base + timedelta(milliseconds=self._count),
            content=[AssistantMessageContent(text=f"[{index}] {_TEXT}")],
        )


def _open(kind: str, path: Path) -> Store[Any]:
    if kind == "notebook":
        return NotebookStore(path)
    return SQLiteStore(path)


async def _close(store: Store[Any]) -> None:
    """Close ``store`` by whichever of ``aclose``/``close`` it has (sync or async)."""
    for name in ("aclose", "close"):
        method: Callable[[], object] | None = getattr(store, name, None)
        if method is not None:
            result = method()
            if inspect.isawaitable(result):
                await result
            return


async def _build(
    kind: str, path: Path, n_items: int, n_threads: int, items: _Items, ctx: NotebookContext
) -> tuple[_Fixture, float]:
    """Create a store holding ``n_items`` items over ``n_threads`` threads; time the fill."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = _open(kind, path)
    t0 = time.perf_counter()
    thread_ids = [f"thr_{k:04d}" for k in range(n_threads)]
    base = datetime.now()
    for k, tid in enumerate(thread_ids):
        await store.save_thread(
            ThreadMetadata(id=tid, created_at=base + timedelta(microseconds=k)), ctx
        )
    for i in range(n_items):
        tid = thread_ids[i % n_threads]
        await store.add_thread_item(tid, items.make(tid, i), ctx)
    return _Fixture(store, thread_ids, n_items), time.perf_counter() - t0


async def _append_once(fixture: _Fixture, items: _Items, ctx: NotebookContext) -> None:
    tid = fixture.thread_ids[fixture.next_item % len(fixture.thread_ids)]
    item = items.make(tid, fixture.next_item)
    fixture.next_item += 1
    t0 = time.perf_counter()
    await fixture.store.add_thread_item(tid, item, ctx)
    fixture.timings.append(time.perf_counter() - t0)


def _stats_ms(seconds: list[float]) -> dict[str, float]:
    """Median and nearest-rank p95 of ``seconds``, in milliseconds."""
    ordered = sorted(seconds)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "median_ms": statistics.median(ordered) * 1000.0,
        "p95_ms": p95 * 1000.0,
        "n": float(len(ordered)),
    }


def _reopen_once(kind: str, path: Path, thread_id: str) -> tuple[float, list[str]]:
    """Time open + newest-20 listing in a fresh interpreter; return (ms, item ids)."""
    argv = [
        sys.executable,
        "-c",
        _REOPEN_SCRIPT,
        str(REPO_ROOT),
        str(BENCH_DIR),
        kind,
        str(path),
        thread_id,
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode != 0:
        msg = f"reopen of {STORE_NAMES[kind]} failed (exit {proc.returncode}):\n{proc.stderr}"
        raise RuntimeError(msg)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(result["ms"]), [str(i) for i in result["ids"]]


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


async def _run_stores(cfg: Config, tmp: Path) -> dict[str, dict[str, Any]]:
    """Build, append to, reopen and measure both stores; return per-store results."""
    ctx = NotebookContext()
    items = _Items()
    kinds = list(STORE_NAMES)
    results: dict[str, dict[str, Any]] = {kind: {} for kind in kinds}
    fixtures: dict[tuple[str, str], _Fixture] = {}
    large_paths: dict[str, Path] = {}
    for size, n_items in (("small", cfg.small_items), ("large", cfg.large_items)):
        for kind in kinds:
            path = tmp / f"{kind}-{size}" / STORE_FILES[kind]
            fixture, seconds = await _build(kind, path, n_items, cfg.threads, items, ctx)
            fixtures[(kind, size)] = fixture
            results[kind][f"prefill_{size}_items_per_s"] = n_items / seconds
            if size == "large":
                large_paths[kind] = path

    # Take turns so that drift and noise from other processes hit every combination alike.
    for _ in range(cfg.appends):
        for fixture in fixtures.values():
            await _append_once(fixture, items, ctx)
    for (kind, size), fixture in fixtures.items():
        results[kind][f"append_{size}"] = _stats_ms(fixture.timings)
        await _close(fixture.store)
    for kind in kinds:
        small, large = results[kind]["append_small"], results[kind]["append_large"]
        results[kind]["append_ratio_large_over_small"] = large["median_ms"] / small["median_ms"]

    # Newest 20 items of thread 0, newest first, as the fixture appended them.
    large0 = fixtures[(kinds[0], "large")]
    total = large0.next_item
    expected = [f"msg_{i:07d}" for i in range(total) if i % cfg.threads == 0][::-1][:20]
    runs: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(cfg.reopen_repeats):
        for kind in kinds:
            ms, ids = _reopen_once(kind, large_paths[kind], "thr_0000")
            if ids != expected:
                msg = f"{STORE_NAMES[kind]} listed {ids[:3]}..., expected {expected[:3]}..."
                raise RuntimeError(msg)
            runs[kind].append(ms)
    for kind in kinds:
        path = large_paths[kind]
        results[kind]["reopen_list_ms"] = {
            "median_ms": statistics.median(runs[kind]),
            "runs_ms": runs[kind],
        }
        results[kind]["file_bytes"] = path.stat().st_size
        results[kind]["total_bytes"] = _dir_bytes(path.parent)
        results[kind]["items_in_large_store"] = total
    return results


def _ratios(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    nb, sq = results["notebook"], results["sqlite"]
    return {
        "append_small_notebook_over_sqlite": nb["append_small"]["median_ms"]
        / sq["append_small"]["median_ms"],
        "append_large_notebook_over_sqlite": nb["append_large"]["median_ms"]
        / sq["append_large"]["median_ms"],
        "reopen_list_notebook_over_sqlite": nb["reopen_list_ms"]["median_ms"]
        / sq["reopen_list_ms"]["median_ms"],
    }


def _checks(results: dict[str, dict[str, Any]], ratios: dict[str, float]) -> dict[str, bool]:
    nb = results["notebook"]
    vs_sqlite = TARGETS["notebook_over_sqlite_append_max"]
    return {
        "notebook_append_ratio_large_over_small": nb["append_ratio_large_over_small"]
        <= TARGETS["notebook_append_ratio_large_over_small_max"],
        "notebook_over_sqlite_append_small": ratios["append_small_notebook_over_sqlite"]
        <= vs_sqlite,
        "notebook_over_sqlite_append_large": ratios["append_large_notebook_over_sqlite"]
        <= vs_sqlite,
        "notebook_reopen_list": nb["reopen_list_ms"]["median_ms"] < TARGETS["reopen_list_ms_max"],
    }


def render(report: dict[str, Any]) -> str:
    """Format a result report as a Markdown table plus the machine and settings.

    Args:
        report: What ``run`` returns.

    Returns:
        Markdown text, also fit for a terminal.
    """
    cfg, m = report["config"], report["machine"]
    nb, sq = report["results"]["notebook"], report["results"]["sqlite"]
    ratios, checks = report["ratios"], report["checks"]
    small, large = f"{cfg['small_items']:,}", f"{cfg['large_items']:,}"

    def ok(name: str) -> str:
        return "ok" if checks[name] else "MISSED"

    rows = [
        (
            f"append, {small} items stored: median ms",
            f"{nb['append_small']['median_ms']:.3f}",
            f"{sq['append_small']['median_ms']:.3f}",
            f"{ratios['append_small_notebook_over_sqlite']:.2f}",
            f"NB/SQLite <= 2.0 ({ok('notebook_over_sqlite_append_small')})",
        ),
        (
            f"append, {small} items stored: p95 ms",
            f"{nb['append_small']['p95_ms']:.3f}",
            f"{sq['append_small']['p95_ms']:.3f}",
            "",
            "",
        ),
        (
            f"append, {large} items stored: median ms",
            f"{nb['append_large']['median_ms']:.3f}",
            f"{sq['append_large']['median_ms']:.3f}",
            f"{ratios['append_large_notebook_over_sqlite']:.2f}",
            f"NB/SQLite <= 2.0 ({ok('notebook_over_sqlite_append_large')})",
        ),
        (
            f"append, {large} items stored: p95 ms",
            f"{nb['append_large']['p95_ms']:.3f}",
            f"{sq['append_large']['p95_ms']:.3f}",
            "",
            "",
        ),
        (
            f"append median ratio {large}/{small}",
            f"{nb['append_ratio_large_over_small']:.2f}",
            f"{sq['append_ratio_large_over_small']:.2f}",
            "",
            f"NB <= 2.0 ({ok('notebook_append_ratio_large_over_small')})",
        ),
        (
            f"reopen + newest 20 of one thread, {large} items: median ms"
            f" of {cfg['reopen_repeats']}",
            f"{nb['reopen_list_ms']['median_ms']:.1f}",
            f"{sq['reopen_list_ms']['median_ms']:.1f}",
            f"{ratios['reopen_list_notebook_over_sqlite']:.2f}",
            f"NB < 250 ms ({ok('notebook_reopen_list')})",
        ),
        (
            f"fill to {large} items: items/s",
            f"{nb['prefill_large_items_per_s']:,.0f}",
            f"{sq['prefill_large_items_per_s']:,.0f}",
            "",
            "",
        ),
        (
            f"file size, {nb['items_in_large_store']:,} items: MB (all files)",
            f"{nb['file_bytes'] / 1e6:.2f} ({nb['total_bytes'] / 1e6:.2f})",
            f"{sq['file_bytes'] / 1e6:.2f} ({sq['total_bytes'] / 1e6:.2f})",
            "",
            "",
        ),
    ]
    header = ("measure", "NotebookStore", "SQLiteStore", "NB/SQLite", "target")
    table = markdown_table(header, rows)
    where = "under the repo's parent" if report["tmp_under_repo_parent"] else "given by --tmp-dir"
    lines = [
        machine_line(m),
        f"Files: a temp dir {where} ({m['tmp_dir']}), {m['filesystem']} on {m['device']}.",
        f"Run: {'--quick' if report['quick'] else 'full size'}; {cfg['threads']} threads; "
        f"{cfg['appends']} timed appends per store and size, taken in turns; assistant "
        f"messages of ~{len(_TEXT)} characters; stores grow by {cfg['appends']} items "
        "while measured. SQLite: WAL, synchronous=FULL, one transaction per mutation. "
        "Reopen runs in a fresh process after imports, with the file in the page cache.",
        "",
        table,
    ]
    return "\n".join(lines)


def run(cfg: Config, tmp_parent: Path | None, *, quick: bool) -> dict[str, Any]:
    """Run the benchmark in a temp dir under ``tmp_parent`` (default: the repo's parent).

    Args:
        cfg: The sizes to use.
        tmp_parent: Where to create the temp dir; ``None`` for the repo's parent folder,
            which is on the same disk as the repo.
        quick: Recorded in the report.

    Returns:
        A JSON-able report: ``machine``, ``config``, ``results`` per store, ``ratios``,
        ``targets`` and ``checks``.
    """
    parent = REPO_ROOT.parent if tmp_parent is None else tmp_parent
    with tempfile.TemporaryDirectory(prefix="chatkit-store-bench-", dir=parent) as name:
        tmp = Path(name)
        machine_info = machine(tmp)
        results = asyncio.run(_run_stores(cfg, tmp))
    ratios = _ratios(results)
    return {
        "quick": quick,
        "tmp_under_repo_parent": tmp_parent is None,
        "machine": machine_info,
        "config": vars(cfg),
        "results": results,
        "ratios": ratios,
        "targets": TARGETS,
        "checks": _checks(results, ratios),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the table, and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    parser.add_argument(
        "--tmp-dir",
        type=Path,
        metavar="DIR",
        help="parent of the temp dir (default: the repo's parent folder, same disk as the repo)",
    )
    args = parser.parse_args(argv)
    report = run(QUICK if args.quick else FULL, args.tmp_dir, quick=args.quick)
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
