"""Benchmark ``PostgresStore`` beside ``NotebookStore`` and the SQLite baseline (issue 11).

Run ``python bench/pg_bench.py`` from anywhere (``--quick`` for a smoke run, ``--json PATH``
to also write the results, ``--dsn URL`` for a PostgreSQL server of your own). By default it
starts a throwaway server the way the tests do (``tests/postgres.py``), but with ``fsync``
and ``full_page_writes`` turned back on, so that a commit waits for the disk as the other
two stores' writes do. In one run, for ``NotebookStore`` (a JSON Lines file),
``bench/sqlite_store.py:SQLiteStore`` and ``PostgresStore``, it measures:

- **append**: ``add_thread_item`` of a ~400-character assistant message to a thread of 100
  items and to one of 100,000 items, each size in a store of its own (a file, or a
  database on the same server). Every call is timed on its own; the six store/size
  combinations take turns in a rotating order, so noise hits them alike. Goal: the
  PostgresStore median at 100,000 items is at most 1.5x the one at 100.
- **newest 20**: ``load_thread_items(thread, None, 20, "desc")`` on the same threads, with
  the store already open (as in a running kernel), taking turns the same way, before the
  appends. The stores must list the same ids. Goal: PostgresStore <= 5 ms at 100,000.
- **8 concurrent writers**: 8 processes, each with its own store object, append at once to
  the 100,000-item thread ("one shared thread"), and each to a thread of its own in the
  same store ("own threads"). Items/s is all their appends over the wall time from the
  "go" to the last writer's answer; the median and p95 are of every append. The stores and
  the two modes take turns, for several rounds. Afterwards each store must hold every
  writer's items, each writer's in the order it wrote them.

Filling 100,000 items with one fsynced append each would take minutes, so the untimed fill
takes short cuts: ``NotebookStore``'s file is written directly in its journal format (the
records its appends would have written), ``SQLiteStore``'s rows in one transaction, and
``PostgresStore`` gets its items through its own ``add_thread_item``, many calls at once
on several store objects. Everything timed goes through the stores' API. PostgresStore
timings include the round trip to the server, over TCP on 127.0.0.1 and on the same cores.
With ``--dsn`` both sizes share that database (under notebook keys of their own, deleted at
the end; the tables stay).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import psycopg
from _common import REPO_ROOT, machine, machine_line, markdown_table
from chatkit.store import Store
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ThreadItem,
    ThreadMetadata,
)
from pydantic import TypeAdapter

# The private helpers are the ones the file store and the SQLite baseline write their records
# with, so the fill matches them.
from sqlite_store import SQLiteStore, _sort_key
from store_bench import _TEXT, _close, _stats_ms

from chatkit_notebook import NotebookContext
from chatkit_notebook.stores import _journal
from chatkit_notebook.stores.file import NotebookStore
from chatkit_notebook.stores.postgres import PostgresStore

KINDS = ("notebook", "sqlite", "postgres")
STORE_NAMES = {"notebook": "NotebookStore", "sqlite": "SQLiteStore", "postgres": "PostgresStore"}
SIZES = ("small", "large")
MODES = ("shared", "own")
USER = "bench"
THREAD = "thr_bench"
GOALS = {"pg_append_ratio_large_over_small_max": 1.5, "pg_newest20_large_ms_max": 5.0}

_ITEM: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
_THREAD = TypeAdapter(ThreadMetadata)
# A hang detector for the writer processes, not pacing.
_WRITER_TIMEOUT = 600.0
_STARTED = time.perf_counter()


def _progress(text: str) -> None:
    """Say what the run is doing, on stderr (a full run takes minutes)."""
    print(f"[{time.perf_counter() - _STARTED:4.0f} s] {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Config:
    """Sizes for one run.

    Attributes:
        small_items: Items in the small thread before the appends.
        large_items: Items in the large thread before the appends.
        reads: Individually timed newest-20 reads per store and size.
        appends: Individually timed appends per store and size.
        writers: Concurrent writer processes.
        writer_appends: Appends per writer, per store, mode and round.
        writer_rounds: Rounds of (every store x both modes).
        fill_concurrency: PostgresStore ``add_thread_item`` calls in flight while filling.
    """

    small_items: int
    large_items: int
    reads: int
    appends: int
    writers: int
    writer_appends: int
    writer_rounds: int
    fill_concurrency: int


FULL = Config(
    small_items=100,
    large_items=100_000,
    reads=400,
    appends=400,
    writers=8,
    writer_appends=100,
    writer_rounds=3,
    fill_concurrency=16,
)
QUICK = Config(
    small_items=100,
    large_items=2_000,
    reads=30,
    appends=30,
    writers=8,
    writer_appends=10,
    writer_rounds=1,
    fill_concurrency=16,
)


def _message(thread_id: str, item_id: str, created_at: datetime) -> AssistantMessageItem:
    return AssistantMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=created_at,
        content=[AssistantMessageContent(text=f"[{item_id}] {_TEXT}")],
    )


def _fill_items(thread_id: str, count: int, end: datetime) -> Iterator[AssistantMessageItem]:
    """``msg_0000000``... one millisecond apart, the last just before ``end``: in the past,
    so that everything appended later is newer."""
    for i in range(count):
        yield _message(thread_id, f"msg_{i:07d}", end - timedelta(milliseconds=count - i))


def _open(kind: str, where: dict[str, str]) -> Store[Any]:
    if kind == "notebook":
        return NotebookStore(where["path"])
    if kind == "sqlite":
        return SQLiteStore(where["path"])
    return PostgresStore(where["dsn"], notebook_key=where["notebook_key"])


# -- filling (untimed) -----------------------------------------------------------------


def _thread_meta(thread_id: str, end: datetime, count: int) -> ThreadMetadata:
    return ThreadMetadata(id=thread_id, created_at=end - timedelta(milliseconds=count + 1))


def _fill_notebook(path: Path, count: int, end: datetime) -> None:
    """Write the journal that ``count`` appends to ``THREAD`` would leave."""

    def lines() -> Iterator[bytes]:
        yield _journal.new_header().line()
        data = _THREAD.dump_python(_thread_meta(THREAD, end, count), mode="json")
        yield _journal.encode({"op": "thread", "id": THREAD, "data": data})
        for item in _fill_items(THREAD, count, end):
            data = _ITEM.dump_python(item, mode="json")
            yield _journal.encode({"op": "item", "thread_id": THREAD, "id": item.id, "data": data})

    path.parent.mkdir(parents=True, exist_ok=True)
    _journal.write_atomic(path, lines())


def _fill_sqlite(path: Path, count: int, end: datetime) -> None:
    """The rows ``SQLiteStore`` would hold after ``count`` appends, in one transaction."""
    path.parent.mkdir(parents=True, exist_ok=True)
    SQLiteStore(path).close()  # creates the schema
    rows = (
        (THREAD, item.id, _sort_key(item.created_at), _ITEM.dump_json(item).decode())
        for item in _fill_items(THREAD, count, end)
    )
    thread = _thread_meta(THREAD, end, count)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO threads (id, sort_key, data) VALUES (?, ?, ?)",
            (THREAD, _sort_key(thread.created_at), _THREAD.dump_json(thread).decode()),
        )
        conn.executemany(
            "INSERT INTO items (thread_id, id, sort_key, data) VALUES (?, ?, ?, ?)", rows
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


async def _fill_postgres(
    where: dict[str, str], count: int, end: datetime, concurrency: int
) -> None:
    """``count`` calls of ``add_thread_item``, ``concurrency`` at a time on several stores."""
    ctx = NotebookContext(user=USER)
    # One store's pool holds up to 4 connections; enough stores to keep all calls busy.
    stores = [_open("postgres", where) for _ in range(max(1, concurrency // 4))]
    await stores[0].save_thread(_thread_meta(THREAD, end, count), ctx)
    free = asyncio.Semaphore(concurrency)

    async def add(n: int, item: AssistantMessageItem) -> None:
        async with free:
            await stores[n % len(stores)].add_thread_item(THREAD, item, ctx)

    batch: list[AssistantMessageItem] = []
    for item in _fill_items(THREAD, count, end):
        batch.append(item)
        if len(batch) == 1000:
            await asyncio.gather(*(add(n, it) for n, it in enumerate(batch)))
            batch = []
    await asyncio.gather(*(add(n, it) for n, it in enumerate(batch)))
    for store in stores:
        await _close(store)


async def _fill(kind: str, where: dict[str, str], count: int, cfg: Config) -> float:
    """Fill one store's ``THREAD`` with ``count`` items; return the seconds it took."""
    end = datetime.now()
    t0 = time.perf_counter()
    if kind == "notebook":
        await asyncio.to_thread(_fill_notebook, Path(where["path"]), count, end)
    elif kind == "sqlite":
        await asyncio.to_thread(_fill_sqlite, Path(where["path"]), count, end)
    else:
        await _fill_postgres(where, count, end, cfg.fill_concurrency)
    return time.perf_counter() - t0


# -- timing in this process ------------------------------------------------------------


def _rotations(keys: list[tuple[str, str]], rounds: int) -> Iterator[tuple[str, str]]:
    """Every key once a round, starting one further each round."""
    for r in range(rounds):
        shift = r % len(keys)
        yield from keys[shift:] + keys[:shift]


async def _time_reads(
    stores: dict[tuple[str, str], Store[Any]], sizes: dict[str, int], cfg: Config
) -> dict[tuple[str, str], list[float]]:
    ctx = NotebookContext(user=USER)
    timings: dict[tuple[str, str], list[float]] = {key: [] for key in stores}
    for key in _rotations(list(stores), cfg.reads):
        t0 = time.perf_counter()
        page = await stores[key].load_thread_items(THREAD, None, 20, "desc", ctx)
        timings[key].append(time.perf_counter() - t0)
        count = sizes[key[1]]
        expected = [f"msg_{i:07d}" for i in range(count - 1, max(-1, count - 21), -1)]
        ids = [item.id for item in page.data]
        if ids != expected:
            msg = f"{STORE_NAMES[key[0]]} listed {ids[:3]}..., expected {expected[:3]}..."
            raise RuntimeError(msg)
    return timings


async def _time_appends(
    stores: dict[tuple[str, str], Store[Any]], cfg: Config
) -> dict[tuple[str, str], list[float]]:
    ctx = NotebookContext(user=USER)
    timings: dict[tuple[str, str], list[float]] = {key: [] for key in stores}
    for key in _rotations(list(stores), cfg.appends):
        item = _message(THREAD, f"app_{len(timings[key]):05d}", datetime.now())
        t0 = time.perf_counter()
        await stores[key].add_thread_item(THREAD, item, ctx)
        timings[key].append(time.perf_counter() - t0)
    return timings


# -- concurrent writers ----------------------------------------------------------------


def _own_thread(index: int) -> str:
    return f"thr_writer_{index}"


def _writer_item_id(index: int, round_: int, mode: str, n: int) -> str:
    return f"w{index}_r{round_}_{mode}_{n:05d}"


async def _writer(spec: dict[str, Any], commands: IO[str]) -> None:
    """One writer process: open every store, then do what the lines of ``commands`` say.

    ``warm``: read each store once (replay the file, connect), then print ``ready``.
    ``run KIND MODE COUNT ROUND``: append COUNT items, then print each append's seconds as
    a JSON list. ``quit``: close the stores and return.
    """
    index: int = spec["index"]
    ctx = NotebookContext(user=USER)
    stores = {kind: _open(kind, spec["stores"][kind]) for kind in KINDS}
    while True:
        command = (await asyncio.to_thread(commands.readline)).split()
        if not command or command[0] == "quit":
            break
        if command[0] == "warm":
            for store in stores.values():
                await store.load_thread_items(THREAD, None, 1, "desc", ctx)
            print("ready", flush=True)
            continue
        kind, mode, count, round_ = command[1], command[2], int(command[3]), int(command[4])
        thread_id = THREAD if mode == "shared" else _own_thread(index)
        seconds = []
        for n in range(count):
            item_id = _writer_item_id(index, round_, mode, n)
            item = _message(thread_id, item_id, datetime.now())
            t0 = time.perf_counter()
            await stores[kind].add_thread_item(thread_id, item, ctx)
            seconds.append(time.perf_counter() - t0)
        print(json.dumps(seconds), flush=True)
    for store in stores.values():
        await _close(store)


def _writer_main() -> None:
    """Entry point of a writer process: its spec is the first line on stdin."""
    spec = json.loads(sys.stdin.readline())
    asyncio.run(_writer(spec, sys.stdin))


class _Writers:
    """The writer processes, started together and driven over their stdin and stdout."""

    def __init__(self, count: int, stores: dict[str, dict[str, str]]) -> None:
        argv = [sys.executable, str(Path(__file__).resolve()), "--writer"]
        self.procs: list[subprocess.Popen[str]] = []
        try:
            for index in range(count):
                proc = subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
                )
                self.procs.append(proc)
                # The spec goes on stdin, not argv: a --dsn may hold a password.
                self._send(proc, json.dumps({"index": index, "stores": stores}))
            # One at a time: NotebookStore replays the whole file on its first read, under
            # the file lock, which 8 processes at 100,000 items hold past its 10 s timeout.
            for proc in self.procs:
                self._send(proc, "warm")
                self._expect(proc, "ready")
        except BaseException:
            self.close()
            raise

    def run(self, kind: str, mode: str, count: int, round_: int) -> tuple[float, list[float]]:
        """All writers append ``count`` items at once; (wall seconds, each append's)."""
        t0 = time.perf_counter()
        for proc in self.procs:
            self._send(proc, f"run {kind} {mode} {count} {round_}")
        answers = [self._read(proc) for proc in self.procs]
        wall = time.perf_counter() - t0
        return wall, [float(s) for answer in answers for s in json.loads(answer)]

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(OSError):
                self._send(proc, "quit")
                assert proc.stdin is not None
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(_WRITER_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @staticmethod
    def _send(proc: subprocess.Popen[str], line: str) -> None:
        assert proc.stdin is not None
        proc.stdin.write(line + "\n")
        proc.stdin.flush()

    @staticmethod
    def _read(proc: subprocess.Popen[str]) -> str:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            msg = f"a writer process exited (code {proc.wait(_WRITER_TIMEOUT)}); see its stderr"
            raise RuntimeError(msg)
        return line

    def _expect(self, proc: subprocess.Popen[str], word: str) -> None:
        line = self._read(proc).strip()
        if line != word:
            raise RuntimeError(f"a writer process said {line!r}, expected {word!r}")


def _run_writers(cfg: Config, stores: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Every store and mode in turn, ``writer_rounds`` times; results by kind and mode."""
    walls: dict[tuple[str, str], float] = {}
    seconds: dict[tuple[str, str], list[float]] = {}
    keys = [(kind, mode) for kind in KINDS for mode in MODES]
    writers = _Writers(cfg.writers, stores)
    try:
        for n, (kind, mode) in enumerate(_rotations(keys, cfg.writer_rounds)):
            wall, each = writers.run(kind, mode, cfg.writer_appends, n // len(keys))
            walls[kind, mode] = walls.get((kind, mode), 0.0) + wall
            seconds.setdefault((kind, mode), []).extend(each)
    finally:
        writers.close()
    results: dict[str, Any] = {kind: {} for kind in KINDS}
    for kind, mode in keys:
        stats = _stats_ms(seconds[kind, mode])
        stats["items_per_s"] = len(seconds[kind, mode]) / walls[kind, mode]
        results[kind][f"writers_{mode}"] = stats
    return results


async def _check_writers(store: Store[Any], kind: str, cfg: Config) -> None:
    """Every writer's items are in the store, each writer's in the order it wrote them."""
    ctx = NotebookContext(user=USER)
    per_thread = cfg.writer_appends * cfg.writer_rounds
    for mode in MODES:
        for index in range(cfg.writers):
            thread_id = THREAD if mode == "shared" else _own_thread(index)
            limit = per_thread * (cfg.writers if mode == "shared" else 1)
            page = await store.load_thread_items(thread_id, None, limit, "desc", ctx)
            prefix = f"w{index}_"
            ids = [item.id for item in reversed(page.data) if item.id.startswith(prefix)]
            expected = [
                _writer_item_id(index, r, mode, n)
                for r in range(cfg.writer_rounds)
                for n in range(cfg.writer_appends)
            ]
            if ids != expected:
                msg = (
                    f"{STORE_NAMES[kind]}: writer {index} ({mode} thread) left "
                    f"{len(ids)} items, expected {len(expected)} in order"
                )
                raise RuntimeError(msg)


# -- the run ---------------------------------------------------------------------------


def _places(tmp: Path, dsns: dict[str, str], run_id: str) -> dict[tuple[str, str], dict[str, str]]:
    places: dict[tuple[str, str], dict[str, str]] = {}
    for size in SIZES:
        places["notebook", size] = {"path": str(tmp / size / "bench.chatkit.json")}
        places["sqlite", size] = {"path": str(tmp / size / "threads.sqlite3")}
        places["postgres", size] = {
            "dsn": dsns[size],
            "notebook_key": f"bench-{run_id}/{size}.ipynb",
        }
    return places


async def _run_stores(cfg: Config, tmp: Path, dsns: dict[str, str]) -> dict[str, dict[str, Any]]:
    ctx = NotebookContext(user=USER)
    sizes = {"small": cfg.small_items, "large": cfg.large_items}
    places = _places(tmp, dsns, uuid.uuid4().hex[:8])
    results: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
    for (kind, size), where in places.items():
        _progress(f"filling {STORE_NAMES[kind]} to {sizes[size]:,} items")
        results[kind][f"fill_{size}_seconds"] = await _fill(kind, where, sizes[size], cfg)
    # The fills wrote without waiting for the disk; flush now, not during the timings.
    os.sync()

    stores = {key: _open(key[0], where) for key, where in places.items()}
    try:
        for store in stores.values():  # open: replay the file, connect
            await store.load_thread_items(THREAD, None, 1, "desc", ctx)
        _progress("timing reads, then appends")
        reads = await _time_reads(stores, sizes, cfg)
        appends = await _time_appends(stores, cfg)
        for (kind, size), timings in reads.items():
            results[kind][f"newest20_{size}"] = _stats_ms(timings)
        for (kind, size), timings in appends.items():
            results[kind][f"append_{size}"] = _stats_ms(timings)
        for kind in KINDS:
            small, large = results[kind]["append_small"], results[kind]["append_large"]
            results[kind]["append_ratio_large_over_small"] = large["median_ms"] / small["median_ms"]

        for index in range(cfg.writers):
            for kind in KINDS:
                thread = ThreadMetadata(id=_own_thread(index), created_at=datetime.now())
                await stores[kind, "large"].save_thread(thread, ctx)
        large = {kind: places[kind, "large"] for kind in KINDS}
        _progress(f"{cfg.writers} writer processes")
        writers = await asyncio.to_thread(_run_writers, cfg, large)
        for kind in KINDS:
            results[kind].update(writers[kind])
            await _check_writers(stores[kind, "large"], kind, cfg)
        # A server of the caller's own keeps its tables, but not our threads.
        for (kind, size), store in stores.items():
            if kind == "postgres":
                await store.delete_thread(THREAD, ctx)
                if size == "large":
                    for index in range(cfg.writers):
                        await store.delete_thread(_own_thread(index), ctx)
    finally:
        for store in stores.values():
            await _close(store)
    return results


def _server_info(dsn: str) -> dict[str, str]:
    names = ("server_version", "fsync", "synchronous_commit", "full_page_writes")
    columns = ", ".join(f"current_setting('{name}')" for name in names)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT {columns}").fetchone()
    assert row is not None
    return dict(zip(names, (str(value) for value in row), strict=True))


@contextlib.contextmanager
def _throwaway_server() -> Iterator[dict[str, str]]:
    """A server as in the tests, made durable again; yields a new database's URL by size."""
    from postgres import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        sys.exit("No PostgreSQL binaries found (apt-get install postgresql), or pass --dsn.")
    server = PostgresServer(bindir)
    try:
        server.start()
        for setting in ("fsync", "full_page_writes"):
            server.execute(f"ALTER SYSTEM SET {setting} = on")
        server.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 10
        while _server_info(server.dsn())["fsync"] != "on":  # the reload is asynchronous
            if time.monotonic() > deadline:
                raise RuntimeError("the throwaway server did not turn fsync on")
            time.sleep(0.05)
        yield {size: server.dsn(server.create_database()) for size in SIZES}
    finally:
        server.cleanup()


def run(cfg: Config, tmp_parent: Path | None, dsn: str | None, *, quick: bool) -> dict[str, Any]:
    """Run the benchmark; files in a temp dir under ``tmp_parent`` (default: the repo's parent).

    Args:
        cfg: The sizes to use.
        tmp_parent: Where to create the temp dir for the file stores; ``None`` for the
            repo's parent folder, which is on the same disk as the repo.
        dsn: A PostgreSQL URL to use, or ``None`` to start a throwaway server.
        quick: Recorded in the report.

    Returns:
        A JSON-able report: ``machine``, ``server``, ``config``, ``results`` per store,
        ``goals`` and ``checks``.
    """
    parent = REPO_ROOT.parent if tmp_parent is None else tmp_parent
    server: contextlib.AbstractContextManager[dict[str, str]]
    if dsn is None:
        server = _throwaway_server()
    else:
        server = contextlib.nullcontext({size: dsn for size in SIZES})
    t0 = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="chatkit-pg-bench-", dir=parent) as name,
        server as dsns,
    ):
        tmp = Path(name)
        machine_info = machine(tmp, packages=("psycopg", "psycopg-pool"))
        server_info = _server_info(dsns["large"])
        server_info["own"] = "yes" if dsn is None else "no"
        results = asyncio.run(_run_stores(cfg, tmp, dsns))
    pg = results["postgres"]
    checks = {
        "pg_append_ratio_large_over_small": pg["append_ratio_large_over_small"]
        <= GOALS["pg_append_ratio_large_over_small_max"],
        "pg_newest20_large": pg["newest20_large"]["median_ms"] <= GOALS["pg_newest20_large_ms_max"],
    }
    return {
        "quick": quick,
        "machine": machine_info,
        "server": server_info,
        "config": vars(cfg),
        "results": results,
        "goals": GOALS,
        "checks": checks,
        "seconds": time.perf_counter() - t0,
    }


def render(report: dict[str, Any]) -> str:
    """Format a result report as Markdown (also fit for a terminal).

    Args:
        report: What ``run`` returns.
    """
    cfg, m, server = report["config"], report["machine"], report["server"]
    res, checks = report["results"], report["checks"]
    small, large = f"{cfg['small_items']:,}", f"{cfg['large_items']:,}"

    def ok(name: str) -> str:
        return "ok" if checks[name] else "MISSED"

    def row(label: str, cell: Callable[[dict[str, Any]], str], goal: str = "") -> list[str]:
        return [label, *(cell(res[kind]) for kind in KINDS), goal]

    def ms(key: str, stat: str, spec: str = ".3f") -> Callable[[dict[str, Any]], str]:
        return lambda r: format(r[key][stat], spec)

    rows = [
        row(f"append, {small} items in the thread: median ms", ms("append_small", "median_ms")),
        row(f"append, {small} items: p95 ms", ms("append_small", "p95_ms")),
        row(f"append, {large} items in the thread: median ms", ms("append_large", "median_ms")),
        row(f"append, {large} items: p95 ms", ms("append_large", "p95_ms")),
        row(
            f"append median ratio {large}/{small}",
            lambda r: f"{r['append_ratio_large_over_small']:.2f}",
            f"<= 1.5 ({ok('pg_append_ratio_large_over_small')})",
        ),
        row(f"newest 20, {small} items: median ms", ms("newest20_small", "median_ms")),
        row(
            f"newest 20, {large} items: median ms",
            ms("newest20_large", "median_ms"),
            f"<= 5 ms ({ok('pg_newest20_large')})",
        ),
        row(f"newest 20, {large} items: p95 ms", ms("newest20_large", "p95_ms")),
    ]
    writers = cfg["writers"]
    for mode, where in (("shared", "one shared thread"), ("own", "a thread each")):
        key = f"writers_{mode}"
        rows += [
            row(f"{writers} writers, {where}: items/s", ms(key, "items_per_s", ",.0f")),
            row(f"{writers} writers, {where}: append median ms", ms(key, "median_ms")),
            row(f"{writers} writers, {where}: append p95 ms", ms(key, "p95_ms")),
        ]
    header = ["measure", *(STORE_NAMES[kind] for kind in KINDS), "goal (PostgresStore)"]
    table = markdown_table(header, rows)
    fills = ", ".join(
        f"{STORE_NAMES[kind]} {res[kind]['fill_large_seconds']:.1f} s" for kind in KINDS
    )
    who = "a throwaway server" if server["own"] == "yes" else "the server given by --dsn"
    per_writer = cfg["writer_appends"] * cfg["writer_rounds"]
    psycopg_version, pg_version = m["packages"]["psycopg"], server["server_version"]
    lines = [
        machine_line(m, extras=[f"psycopg {psycopg_version}", f"PostgreSQL {pg_version}"]),
        f"Files: a temp dir ({m['tmp_dir']}), {m['filesystem']} on {m['device']}. PostgreSQL: "
        f"{who} on this machine over TCP 127.0.0.1, fsync={server['fsync']}, "
        f"synchronous_commit={server['synchronous_commit']}, "
        f"full_page_writes={server['full_page_writes']}.",
        f"Run: {'--quick' if report['quick'] else 'full size'}, {report['seconds']:.0f} s; "
        f"{cfg['reads']} reads and {cfg['appends']} appends per store and size, in turns; "
        f"{writers} writer processes x {cfg['writer_appends']} appends x "
        f"{cfg['writer_rounds']} rounds ({per_writer * writers:,} appends per store and mode); "
        f"assistant messages of ~{len(_TEXT)} characters; "
        f"untimed fill to {large} items: {fills}.",
        "",
        table,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the table, and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    parser.add_argument("--dsn", help="a PostgreSQL URL (default: a throwaway server)")
    parser.add_argument(
        "--tmp-dir",
        type=Path,
        metavar="DIR",
        help="parent of the temp dir (default: the repo's parent folder, same disk as the repo)",
    )
    # A writer process of this benchmark (it reads its spec from stdin).
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.writer:
        _writer_main()
        return 0
    report = run(QUICK if args.quick else FULL, args.tmp_dir, args.dsn, quick=args.quick)
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
