"""Benchmark how long the chat panel takes to be ready, and to open a long thread.

Run ``python bench/panel_open_bench.py`` from anywhere (``--quick`` for a few-second smoke
run, ``--json PATH`` to also write the results, ``--tmp DIR`` to choose the store's disk).

It writes a ``NotebookStore`` in a temporary folder through the store's own API: 50 threads
of 200 items each (10,000 items), questions and Markdown answers of real length
(paragraphs, tables, fenced Python, lists). Then, with a ``NotebookChatServer`` whose model
is ``agents.testing.ScriptedModel([])`` (no model is called) and the package's ``Runtime``:

- **panel ready**: ``ChatPanel(server, context, runtime=..., thread_id=None)`` until
  ``panel.wait()`` returns, the thread list loaded. *Cold*: a new ``NotebookStore`` object
  each run, so the time includes the store's first read of the file, as when a notebook's
  first panel opens. *Warm*: the store object has read the file already.
- **open a thread**: ``panel.open_thread(id); panel.wait()`` on a new panel (built untimed,
  over a store that has read the file), a different 200-item thread each run; the panel
  shows the newest 50 items.

Widgets are counted as the growth of ``ipywidgets.Widget.widgets``; widget messages go to a
comm that serialises each one as ipykernel's ``Session`` would (JSON, HMAC signature) and
sends nothing, so the kernel-side cost of opening widgets is in the times. Beside each
panel figure, in the same run, the baseline is the store alone answering the same ChatKit
requests through ``server.process`` (and chatkit's parsing, ``_client.ChatKitClient``):
``threads.list`` for the ready panel, ``items.list`` (50) + ``threads.get_by_id`` for the
opened thread. The panel's own share is the median of the run-by-run differences; a measure
and its baseline take turns, each run after an untimed ``gc.collect()`` (one pair of rows
without), and the garbage collections inside each run are timed. Each figure is the median
of 7 runs (2 with ``--quick``) after one untimed warm-up run.

Then it says where the time goes: the same operations, untimed, on the caller's thread,
sampled every 0.5 ms (see ``Sampler``), by kind of work and by function.

Target (from the issue): ready and open each <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import signal
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import comm
import ipywidgets as W
from _common import machine, machine_line, markdown_table
from agents.testing import ScriptedModel
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
)
from comm.base_comm import BaseComm, BuffersType, MaybeDict
from jupyter_client.session import Session

from chatkit_notebook import NotebookContext
from chatkit_notebook._client import ChatKitClient
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.panel.panel import HISTORY_PAGE, ChatPanel
from chatkit_notebook.runtime import Runtime
from chatkit_notebook.stores.file import NotebookStore

_T = TypeVar("_T")

TARGETS = {"ready_ms_max": 150.0, "open_ms_max": 150.0}
TODAY = {"ready_ms": 543.0, "open_ms": 347.0, "open_widgets": 253}
"""The issue's figures for the panel before this work, for the report."""


@dataclass(frozen=True)
class Config:
    """Sizes for one run.

    Attributes:
        threads: Threads in the store.
        items_per_thread: Items in each thread, questions and answers in turn.
        repeats: Timed runs of each measure, after one untimed warm-up.
    """

    threads: int
    items_per_thread: int
    repeats: int


FULL = Config(threads=50, items_per_thread=200, repeats=7)
QUICK = Config(threads=4, items_per_thread=60, repeats=2)

# -- the conversation ---------------------------------------------------------------------

_TOPICS = (
    ("Which region sold the most last quarter?", "region", "units"),
    ("How did each product line do?", "product", "revenue"),
    ("What does the monthly trend look like?", "month", "orders"),
    ("Are returns a problem anywhere?", "region", "returns"),
    ("Did the spring discounts pay off?", "campaign", "uplift"),
    ("Which customer segments grew?", "segment", "customers"),
    ("Are there outliers in the order sizes?", "order", "amount"),
    ("How is the channel mix changing?", "channel", "share"),
)

_SENTENCES = (
    "The figures come from the `sales` frame in this notebook, read as it is now.",
    "North is still the largest region, but the gap to South narrowed over the quarter.",
    "Most of the change happened in the last six weeks, after the price update.",
    "Two stores reopened in March, which explains part of the jump in West.",
    "I left out the test orders flagged in the `is_internal` column.",
    "Seasonality matters here: the same quarter last year showed a similar dip.",
    "A weekly view would make the turning point easier to see than a monthly one.",
    "The median is a better summary than the mean here, because a few orders are **huge**.",
    "Returns are booked in the month they happen, not in the month of the sale.",
    "If you want, I can plot the series so the trend is easier to compare.",
)


def _paragraph(seed: int, sentences: int) -> str:
    return " ".join(_SENTENCES[(seed * 3 + k * 7) % len(_SENTENCES)] for k in range(sentences))


def _table(key: str, measure: str, rows: int, seed: int) -> str:
    lines = [f"| {key} | {measure} | change |", "|:--|--:|--:|"]
    for r in range(rows):
        value = 1000 + ((seed + 3) * (r + 7) * 37) % 900
        lines.append(f"| {key} {r + 1} | {value:,} | {((seed + r) % 9) - 4:+d}% |")
    return "\n".join(lines)


def _code(key: str, measure: str) -> str:
    return (
        "```python\n"
        f"by_{key} = sales.groupby({key!r})[{measure!r}].agg(['sum', 'mean', 'count'])\n"
        f"by_{key}['share'] = by_{key}['sum'] / by_{key}['sum'].sum()\n"
        f"by_{key}.sort_values('sum', ascending=False).head(10)\n"
        "```"
    )


def _list(seed: int, items: int, *, numbered: bool) -> str:
    marks = [f"{i + 1}." if numbered else "-" for i in range(items)]
    return "\n".join(
        f"{m} {_SENTENCES[(seed + 3 * i) % len(_SENTENCES)]}" for i, m in enumerate(marks)
    )


def question(index: int) -> str:
    return _TOPICS[index % len(_TOPICS)][0]


def answer(index: int) -> str:
    """A Markdown answer of 150 to 350 words, in one of four shapes."""
    _, key, measure = _TOPICS[index % len(_TOPICS)]
    shape = index % 4
    if shape == 0:
        parts = [
            _paragraph(index, 4),
            _table(key, measure, 5 + index % 3, index),
            _paragraph(index + 1, 5),
        ]
    elif shape == 1:
        parts = [
            _paragraph(index, 3),
            _code(key, measure),
            _paragraph(index + 1, 4),
            _list(index, 4, numbered=False),
        ]
    elif shape == 2:
        parts = [
            f"Three things stand out about **{measure}** by {key}:",
            _list(index, 3, numbered=True),
            _paragraph(index, 5),
            _paragraph(index + 3, 4),
        ]
    else:
        parts = [
            _paragraph(index, 2),
            _table(key, measure, 4, index),
            _code(key, measure),
            _list(index + 1, 3, numbered=False),
        ]
    return "\n\n".join(parts)


async def fill(store: NotebookStore, cfg: Config) -> list[str]:
    """Write the threads and their items through the store's API; return the thread ids."""
    ctx = NotebookContext()
    base = datetime.now() - timedelta(days=60)
    ids = []
    for t in range(cfg.threads):
        thread_id = f"thr_bench{t:04d}"
        start = base + timedelta(days=t)
        title = f"{question(t).rstrip('?')} ({t + 1})"
        await store.save_thread(ThreadMetadata(id=thread_id, title=title, created_at=start), ctx)
        for i in range(cfg.items_per_thread):
            at = start + timedelta(seconds=30 * i)
            n = t * cfg.items_per_thread + i
            item: UserMessageItem | AssistantMessageItem
            if i % 2 == 0:
                item = UserMessageItem(
                    id=f"msg_{n:07d}",
                    thread_id=thread_id,
                    created_at=at,
                    content=[UserMessageTextContent(text=question(n // 2))],
                    inference_options=InferenceOptions(),
                )
            else:
                item = AssistantMessageItem(
                    id=f"msg_{n:07d}",
                    thread_id=thread_id,
                    created_at=at,
                    content=[AssistantMessageContent(text=answer(n // 2))],
                )
            await store.add_thread_item(thread_id, item, ctx)
        ids.append(thread_id)
    return ids


# -- widget messages, serialised as a kernel would ----------------------------------------


class Counter:
    """Counts the widget messages sent, and their bytes as ipykernel's Session packs them."""

    def __init__(self) -> None:
        self.session = Session(key=b"bench-key", username="bench")
        self.messages = 0
        self.bytes = 0
        self.by_type: dict[str, int] = {}
        self.open_bytes: dict[str, int] = {}  # comm_open bytes by widget model
        self.updates: dict[str, int] = {}  # update messages by the traits they carry
        self._guard = threading.Lock()

    def reset(self) -> None:
        with self._guard:
            self.messages = self.bytes = 0
            self.by_type = {}
            self.open_bytes = {}
            self.updates = {}

    def send(self, msg_type: str, content: dict[str, Any], metadata: dict[str, Any]) -> None:
        msg = self.session.msg(msg_type, content, metadata=metadata)
        frames = self.session.serialize(msg)  # JSON of each part, and the HMAC signature
        size = sum(len(f) for f in frames)
        with self._guard:
            self.messages += 1
            self.bytes += size
            self.by_type[msg_type] = self.by_type.get(msg_type, 0) + 1
            if msg_type == "comm_open":
                state = content["data"].get("state", {})
                model = str(state.get("_anywidget_id") or state.get("_model_name"))
                model = model.rsplit(".", 1)[-1]
                self.open_bytes[model] = self.open_bytes.get(model, 0) + size
            elif content["data"].get("method") == "update":
                traits = ",".join(sorted(content["data"].get("state", {})))
                self.updates[traits] = self.updates.get(traits, 0) + 1


COUNTER = Counter()


class SerialisingComm(BaseComm):
    """A comm that packs and signs every message as ipykernel would, and sends nothing."""

    def publish_msg(
        self,
        msg_type: str,
        data: MaybeDict = None,
        metadata: MaybeDict = None,
        buffers: BuffersType = None,
        **keys: Any,
    ) -> None:
        content = {"data": data or {}, "comm_id": self.comm_id, **keys}
        COUNTER.send(msg_type, content, metadata or {})


@contextlib.contextmanager
def serialising_comms() -> Iterator[None]:
    saved = comm.create_comm
    comm.create_comm = lambda *a, **k: SerialisingComm(*a, **k)
    try:
        yield
    finally:
        comm.create_comm = saved


# -- measuring ----------------------------------------------------------------------------


def _namespace() -> dict[str, Any]:
    """A few variables, so the empty chat has suggestions to show."""
    return {
        "sales": [{"region": "north", "units": n} for n in range(100)],
        "regions": ["north", "south", "east", "west"],
        "threshold": 0.25,
    }


class GcWatch:
    """Times the garbage collections (of any thread) inside a ``with`` block."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started: float | None = None

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            self.full += info["generation"] == 2
        elif self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None

    def figures(self) -> dict[str, float]:
        return {"gc_ms": self.seconds * 1000.0, "full_collections": self.full}


class Bench:
    """The store file, the runtime, and the measures."""

    def __init__(self, path: Path, runtime: Runtime) -> None:
        self.path = path
        self.runtime = runtime
        self.context = NotebookContext(namespace=_namespace())
        self.warm_store = NotebookStore(path)
        self.warm_server = NotebookChatServer(self.warm_store, model=ScriptedModel([]))

    def server(self, *, cold: bool) -> NotebookChatServer:
        if not cold:
            return self.warm_server
        return NotebookChatServer(NotebookStore(self.path), model=ScriptedModel([]))

    def panel_ready(self, *, cold: bool) -> dict[str, Any]:
        """Build a panel and wait until its thread list is loaded."""
        server = self.server(cold=cold)
        before = set(_widgets())
        COUNTER.reset()
        with GcWatch() as collections:
            start = time.perf_counter()
            panel = ChatPanel(server, self.context, runtime=self.runtime, thread_id=None)
            panel.wait()
            seconds = time.perf_counter() - start
        shown = {"ms": seconds * 1000.0, **collections.figures(), **self._traffic(before)}
        (picker,) = _with_class(panel, "ck-threads")
        shown["threads_listed"] = len(picker.options) - 1  # and "New chat"
        _close_new(before)
        return shown

    def open_thread(self, thread_id: str) -> dict[str, Any]:
        """Open a stored thread in a new panel (built untimed on the warm store)."""
        panel = ChatPanel(self.warm_server, self.context, runtime=self.runtime)
        panel.wait()
        before = set(_widgets())
        COUNTER.reset()
        with GcWatch() as collections:
            start = time.perf_counter()
            panel.open_thread(thread_id)
            panel.wait()
            seconds = time.perf_counter() - start
        shown = {"ms": seconds * 1000.0, **collections.figures(), **self._traffic(before)}
        shown["items_shown"] = len(_with_class(panel, "ck-user", "ck-assistant"))
        _close_new(before)
        panel.close()
        return shown

    def store_threads(self, *, cold: bool) -> dict[str, Any]:
        """Baseline: the ready panel's request, ``threads.list``, and nothing else."""
        client = ChatKitClient(self.server(cold=cold), self.context)
        return self._time(lambda: client.threads(limit=100, order="desc"))

    def store_thread(self, thread_id: str) -> dict[str, Any]:
        """Baseline: the open's requests, ``items.list`` (newest 50) and ``threads.get``."""
        client = ChatKitClient(self.warm_server, self.context)

        async def load() -> None:
            await client.items(thread_id, limit=HISTORY_PAGE, order="desc")
            await client.thread(thread_id)

        return self._time(load)

    def _time(self, make: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        async def run() -> None:
            await make()

        with GcWatch() as collections:
            start = time.perf_counter()
            self.runtime.run(run())
            seconds = time.perf_counter() - start
        return {"ms": seconds * 1000.0, **collections.figures()}

    def _traffic(self, before: set[Any]) -> dict[str, Any]:
        new = [_widgets()[key] for key in set(_widgets()) - before]
        kinds: dict[str, int] = {}
        for widget in new:
            kinds[type(widget).__name__] = kinds.get(type(widget).__name__, 0) + 1
        return {
            "widgets": len(new),
            "messages": COUNTER.messages,
            "message_bytes": COUNTER.bytes,
            "opens": COUNTER.by_type.get("comm_open", 0),
            "widget_kinds": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
            "open_bytes_by_model": dict(sorted(COUNTER.open_bytes.items(), key=lambda kv: -kv[1])),
            "updates_by_traits": dict(sorted(COUNTER.updates.items(), key=lambda kv: -kv[1])),
        }


def _with_class(root: Any, *css: str) -> list[Any]:
    """The widgets under ``root`` that carry one of the CSS classes (as tests find them)."""
    found = []
    for child in getattr(root, "children", ()):
        if any(c in getattr(child, "_dom_classes", ()) for c in css):
            found.append(child)
        found += _with_class(child, *css)
    return found


def _full_collection_ms() -> dict[str, Any]:
    """What one full garbage collection costs in this process now (it has nothing to free)."""
    gc.collect()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - start) * 1000.0)
    return {"ms": statistics.median(times), "tracked_objects": len(gc.get_objects())}


def _widgets() -> dict[str, Any]:
    """``ipywidgets.Widget.widgets``: every live widget by id (deprecated, so read quietly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return W.Widget.widgets  # type: ignore[no-any-return]


def _close_new(before: set[Any]) -> None:
    """Close the widgets a run created, so runs do not pile up widgets."""
    for key in set(_widgets()) - before:
        widget = _widgets().get(key)
        if widget is not None:
            widget.close()


def _paired(
    measure: Callable[[int], dict[str, Any]],
    baseline: Callable[[int], dict[str, Any]],
    repeats: int,
    *,
    collect: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A measure and its baseline in turn (order alternating, so background load hits
    both alike): one untimed warm-up each, then ``repeats`` runs each.

    With ``collect``, each run follows an untimed ``gc.collect()``. Without it, the garbage
    that earlier runs left decides whether a full collection falls inside a run (a store's
    first read allocates enough to trigger one), and the figures depend on run order.

    Returns:
        For each, the median of every numeric field, ``runs_ms`` and ``warmup_ms``.
    """

    def one(run: Callable[[int], dict[str, Any]], i: int) -> dict[str, Any]:
        if collect:
            gc.collect()
        return run(i)

    runs: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    warmups = (one(measure, 0), one(baseline, 0))
    for i in range(1, repeats + 1):
        order = ((0, measure), (1, baseline)) if i % 2 else ((1, baseline), (0, measure))
        for slot, run in order:
            runs[slot].append(one(run, i))
    out = []
    # The measure's own share: the median of the differences, run by run.
    own = statistics.median(a["ms"] - b["ms"] for a, b in zip(*runs, strict=True))
    for first, done in zip(warmups, runs, strict=True):
        summary: dict[str, Any] = {
            "runs_ms": [r["ms"] for r in done],
            "full_runs": [r["full_collections"] for r in done],
            "warmup_ms": first["ms"],
        }
        for key, value in done[0].items():
            if isinstance(value, (int, float)):
                summary[key] = statistics.median(r[key] for r in done)
            else:
                summary[key] = value  # the same in every run (widget kinds)
        out.append(summary)
    out[0]["own_ms"] = own
    return out[0], out[1]


# -- where the time goes -----------------------------------------------------------------
#
# A statistical profiler driven by a timer signal (every 0.5 ms of wall time), as
# pyinstrument and statprof are: unlike cProfile it adds no cost per call, which would
# inflate the traitlets-heavy widget code several times over, and unlike a sampling thread
# it is not drawn to the moments the busy thread releases the GIL. A signal handler runs
# on the main thread only, so for these runs the panel's operations run there too: on an
# event loop in the caller's thread (``_CallerRuntime``), the same code in the same order.
# File reads still run in worker threads (``asyncio.to_thread``): their time shows as
# samples of the main thread waiting. A signal that arrives while a C call runs (or while
# another thread holds the GIL) is handled late, so each sample is weighted by the time
# since the previous one.

_IDLE_LEAVES = {
    ("selectors.py", "select"),
    ("threading.py", "wait"),
    ("threading.py", "_wait_for_tstate_lock"),
    ("queue.py", "get"),
}
_WAITING = "waiting for other threads (the store's file reads run there)"

# Where a sample's time goes: the first of these found from the innermost frame out.
CATEGORIES = (
    (
        "store: file replay and reads",
        ("chatkit_notebook/_journal.py", "chatkit_notebook/_state.py", "chatkit_notebook/store.py"),
    ),
    ("Markdown rendering", ("chatkit_notebook/_markdown.py", "/markdown_it/", "/pygments/")),
    ("widget messages: JSON + HMAC (Session)", ("/jupyter_client/session.py",)),
    (
        "widgets: create, validate, get state",
        ("/ipywidgets/", "/traitlets/", "/comm/", "/anywidget/"),
    ),
    (
        "ChatKit requests: server.process, pydantic",
        (
            "/chatkit/",
            "/pydantic/",
            "/pydantic_core/",
            "chatkit_notebook/_client.py",
            "chatkit_notebook/server.py",
        ),
    ),
)


class Sampler:
    """Records the main thread's stack every ``interval`` seconds inside ``with`` blocks."""

    def __init__(self, interval: float = 0.0005) -> None:
        self.interval = interval
        self.samples = 0
        self.functions: dict[str, float] = {}  # seconds with the function on the stack
        self.categories: dict[str, float] = {}
        self.seconds = 0.0
        self._saved: Any = None
        self._start = 0.0
        self._last = 0.0
        self._gc_started = 0.0
        self._gc_unclaimed = 0.0  # collection time not yet taken out of a sample's weight

    def __enter__(self) -> Sampler:
        self._saved = signal.signal(signal.SIGALRM, self._sample)
        gc.callbacks.append(self._collection)
        self._start = self._last = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        self.seconds += time.perf_counter() - self._start
        gc.callbacks.remove(self._collection)
        signal.signal(signal.SIGALRM, self._saved)

    def _collection(self, phase: str, info: dict[str, Any]) -> None:
        """Garbage collections (on any thread) are a category of their own: a signal that
        arrives during one is handled after it, in whatever frame allocated."""
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        spent = time.perf_counter() - self._gc_started
        self._gc_unclaimed += spent
        key = "garbage collection" + (" (full)" if info["generation"] == 2 else "")
        self.categories[key] = self.categories.get(key, 0.0) + spent

    def _sample(self, signum: int, leaf: Any) -> None:
        # Each sample stands for the time since the one before: a handler delayed while
        # another thread held the GIL (a file read) charges the delay to where the main
        # thread was (waiting), not to the next busy stack.
        now = time.perf_counter()
        weight, self._last = now - self._last, now
        claimed = min(weight, self._gc_unclaimed)
        weight, self._gc_unclaimed = weight - claimed, self._gc_unclaimed - claimed
        if leaf is None:
            return
        self.samples += 1
        if (Path(leaf.f_code.co_filename).name, leaf.f_code.co_name) in _IDLE_LEAVES:
            self.categories[_WAITING] = self.categories.get(_WAITING, 0.0) + weight
            return
        seen: set[str] = set()
        category = None
        frame = leaf
        while frame is not None:
            code = frame.f_code
            seen.add(f"{_short(code.co_filename)}:{code.co_firstlineno}({code.co_name})")
            if category is None:
                category = _category(code.co_filename)
            frame = frame.f_back
        for name in seen:
            self.functions[name] = self.functions.get(name, 0.0) + weight
        key = category or "other (panel code, asyncio)"
        self.categories[key] = self.categories.get(key, 0.0) + weight

    def report(self, runs: int, top: int) -> dict[str, Any]:
        """Milliseconds per run: by category, and the hottest functions."""

        def ms(seconds: float) -> float:
            return seconds * 1000.0 / runs

        hot = [(f, n) for f, n in sorted(self.functions.items(), key=lambda kv: -kv[1])]
        # The package's own functions (what its engineers can change), and the hottest
        # library functions under them.
        ours = [(f, n) for f, n in hot if f.startswith("chatkit_notebook/")]
        theirs = [(f, n) for f, n in hot if _shown(f) and not f.startswith("chatkit_notebook/")]
        hot = sorted(ours[:top] + theirs[: top // 2], key=lambda kv: -kv[1])
        return {
            "runs": runs,
            "wall_ms_per_run": self.seconds * 1000.0 / runs,
            "samples_per_run": self.samples / runs,
            "categories_ms": {
                k: ms(v) for k, v in sorted(self.categories.items(), key=lambda kv: -kv[1])
            },
            "functions_ms": [{"function": f, "ms": ms(n)} for f, n in hot if ms(n) >= 0.5],
        }


def _category(file: str) -> str | None:
    file = file.replace("\\", "/")
    return next((c for c, parts in CATEGORIES if any(p in file for p in parts)), None)


def _shown(function: str) -> bool:
    """Leave out the frames every sample shares (this file, the event loop's plumbing)."""
    return not any(
        part in function for part in ("bench/", "asyncio/", "runtime.py", "<module>", "(serially)")
    )


def _short(file: str) -> str:
    file = file.replace("\\", "/")
    for marker in ("site-packages/", "/lib/python3.", "/work/main/"):
        if marker in file:
            rest = file.split(marker, 1)[1]
            return rest.split("/", 1)[1] if marker == "/lib/python3." else rest
    return file


class _CallerRuntime(Runtime):
    """A ``Runtime`` whose loop runs on the caller's thread, so the sampler sees the panel."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(name="bench-caller")
        self._caller_loop = loop
        self._caller = threading.current_thread()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._caller_loop

    @property
    def thread(self) -> threading.Thread | None:
        return self._caller

    @property
    def is_running(self) -> bool:
        return True


def _settle(loop: asyncio.AbstractEventLoop, panel: ChatPanel) -> None:
    """Run the caller's loop until the panel's posted operations are over."""
    while True:
        try:
            panel.wait(timeout=0)
            return
        except TimeoutError:
            loop.run_until_complete(asyncio.sleep(0.0002))


def profile(bench: Bench, ids: list[str], runs: int, top: int) -> dict[str, Any]:
    """Sample ``runs`` cold panel builds, then ``runs`` thread opens (untimed runs)."""
    loop = asyncio.new_event_loop()
    here = _CallerRuntime(loop)
    ready, opens, reads = Sampler(), Sampler(), Sampler()
    try:
        for i in range(runs + 1):
            # The store's first read on this thread, so the sampler sees it (the panel
            # runs it in a worker thread). _read_sync is the store's blocking read.
            store = NotebookStore(bench.path)
            gc.collect()
            with reads if i else contextlib.nullcontext():
                store._read_sync(lambda state: None)
        for i in range(runs + 1):  # the first run of each warms up, unsampled
            server = bench.server(cold=True)
            before = set(_widgets())
            gc.collect()
            with ready if i else contextlib.nullcontext():
                panel = ChatPanel(server, bench.context, runtime=here, thread_id=None)
                _settle(loop, panel)
            _close_new(before)
        for i in range(runs + 1):
            panel = ChatPanel(bench.warm_server, bench.context, runtime=here)
            _settle(loop, panel)
            before = set(_widgets())
            gc.collect()
            with opens if i else contextlib.nullcontext():
                panel.open_thread(ids[i % len(ids)])
                _settle(loop, panel)
            _close_new(before)
            panel.close()
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    return {
        "ready_cold": ready.report(runs, top),
        "open": opens.report(runs, top),
        "store_first_read": reads.report(runs, top),
    }


# -- report -------------------------------------------------------------------------------

PACKAGES = ("ipywidgets", "anywidget", "openai-chatkit", "pydantic", "markdown-it-py", "pygments")


def _run_on_loop(runtime: Runtime, coro: Awaitable[_T]) -> _T:
    async def wrap() -> _T:
        return await coro

    return runtime.run(wrap())


def run(cfg: Config, tmp_parent: Path | None, *, quick: bool) -> dict[str, Any]:
    """Fill a store, then measure the ready panel and the thread open beside the baselines.

    Returns:
        A JSON-able report: ``machine``, ``config``, ``store``, ``ready_cold``,
        ``ready_cold_no_collect``, ``ready_warm``, ``open``, the ``baseline_*`` figures,
        ``full_gc``, ``targets``, ``checks`` and ``profile`` (where the time goes).
    """
    with tempfile.TemporaryDirectory(dir=tmp_parent) as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "bench.chatkit.json"
        runtime = Runtime(name="bench-panel-loop")
        try:
            start = time.perf_counter()
            ids = _run_on_loop(runtime, fill(NotebookStore(path), cfg))
            fill_s = time.perf_counter() - start
            store_info = {
                "threads": cfg.threads,
                "items": cfg.threads * cfg.items_per_thread,
                "file_mb": path.stat().st_size / 1e6,
                "fill_s": fill_s,
            }
            with serialising_comms():
                bench = Bench(path, runtime)
                ready_cold, base_cold = _paired(
                    lambda _: bench.panel_ready(cold=True),
                    lambda _: bench.store_threads(cold=True),
                    cfg.repeats,
                )
                ready_gc, base_gc = _paired(
                    lambda _: bench.panel_ready(cold=True),
                    lambda _: bench.store_threads(cold=True),
                    cfg.repeats,
                    collect=False,
                )
                full_gc = _full_collection_ms()
                ready_warm, base_warm = _paired(
                    lambda _: bench.panel_ready(cold=False),
                    lambda _: bench.store_threads(cold=False),
                    cfg.repeats,
                )
                opened, base_open = _paired(
                    lambda i: bench.open_thread(ids[i % len(ids)]),
                    lambda i: bench.store_thread(ids[i % len(ids)]),
                    cfg.repeats,
                )
                profiled = profile(bench, ids, cfg.repeats, top=20)
        finally:
            runtime.stop()
    report: dict[str, Any] = {
        "quick": quick,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(tmp=tmp_parent or Path(tempfile.gettempdir()), packages=PACKAGES),
        "config": vars(cfg) | {"history_page": HISTORY_PAGE},
        "store": store_info,
        "ready_cold": ready_cold,
        "ready_cold_no_collect": ready_gc,
        "baseline_threads_list_cold_no_collect": base_gc,
        "full_gc": full_gc,
        "ready_warm": ready_warm,
        "open": opened,
        "baseline_threads_list_cold": base_cold,
        "baseline_threads_list_warm": base_warm,
        "baseline_open": base_open,
        "today": TODAY,
        "targets": TARGETS,
        "checks": {
            "ready_cold": ready_cold["ms"] <= TARGETS["ready_ms_max"],
            "ready_cold_no_collect": ready_gc["ms"] <= TARGETS["ready_ms_max"],
            "ready_warm": ready_warm["ms"] <= TARGETS["ready_ms_max"],
            "open": opened["ms"] <= TARGETS["open_ms_max"],
        },
    }
    report["profile"] = profiled
    return report


def render(report: dict[str, Any]) -> str:
    """The report as a Markdown table with the machine and run above it."""
    m, cfg, store = report["machine"], report["config"], report["store"]

    def ok(key: str) -> str:
        return "ok" if report["checks"][key] else "MISSED"

    def row(
        name: str, s: dict[str, Any], base: dict[str, Any] | None, today: str, target: str
    ) -> tuple[str, ...]:
        own = "" if base is None else f"{s['own_ms']:,.1f}"
        return (
            name,
            f"{s['ms']:,.1f}",
            f"{min(s['runs_ms']):,.1f}",
            f"{s['warmup_ms']:,.1f}",
            "" if base is None else f"{base['ms']:,.1f}",
            own,
            f"{s['gc_ms']:,.1f} ({sum(1 for n in s['full_runs'] if n)}/{len(s['full_runs'])})",
            str(round(s["widgets"])) if "widgets" in s else "",
            f"{s['messages']:,.0f} / {s['message_bytes'] / 1000:,.0f}" if "messages" in s else "",
            today,
            target,
        )

    today = report["today"]
    rows = [
        row(
            "panel ready, cold (new store object: first read of the file)",
            report["ready_cold"],
            report["baseline_threads_list_cold"],
            f"{today['ready_ms']:g}",
            f"<= 150 ms ({ok('ready_cold')})",
        ),
        row(
            "panel ready, cold, no gc.collect() between runs",
            report["ready_cold_no_collect"],
            report["baseline_threads_list_cold_no_collect"],
            "",
            f"<= 150 ms ({ok('ready_cold_no_collect')})",
        ),
        row(
            "panel ready, warm (the store has read the file)",
            report["ready_warm"],
            report["baseline_threads_list_warm"],
            "",
            f"<= 150 ms ({ok('ready_warm')})",
        ),
        row(
            f"open a {cfg['items_per_thread']}-item thread (newest {cfg['history_page']} shown)",
            report["open"],
            report["baseline_open"],
            f"{today['open_ms']:g} ({today['open_widgets']} widgets)",
            f"<= 150 ms ({ok('open')})",
        ),
        row(
            "baseline: threads.list through server.process, cold",
            report["baseline_threads_list_cold"],
            None,
            "",
            "",
        ),
        row(
            "baseline: threads.list, cold, no gc.collect() between runs",
            report["baseline_threads_list_cold_no_collect"],
            None,
            "",
            "",
        ),
        row(
            "baseline: threads.list through server.process, warm",
            report["baseline_threads_list_warm"],
            None,
            "",
            "",
        ),
        row(
            "baseline: items.list (50) + threads.get_by_id, warm",
            report["baseline_open"],
            None,
            "",
            "",
        ),
    ]
    header = (
        "measure",
        f"median ms of {cfg['repeats']}",
        "min ms",
        "warm-up run ms",
        "store alone ms",
        "panel's own ms (median of run-by-run differences)",
        "GC ms (runs with a full GC)",
        "widgets",
        "widget msgs / KB",
        "today (issue)",
        "target",
    )
    lines = [
        machine_line(
            m,
            extras=[f"store on {m['filesystem']}"],
            suffix="; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()),
        ),
        f"Run: {'--quick' if report['quick'] else 'full size'}; store of {store['threads']} "
        f"threads x {cfg['items_per_thread']} items ({store['items']:,} items, "
        f"{store['file_mb']:.1f} MB, written in {store['fill_s']:.1f} s through the store API).",
        "",
        markdown_table(header, rows),
        "",
        f"A full garbage collection in this process takes {report['full_gc']['ms']:.0f} ms "
        f"({report['full_gc']['tracked_objects']:,} tracked objects).",
        _widget_line("Panel ready", report["ready_cold"]),
        _widget_line("Opening a thread", report["open"]),
    ]
    titles = {
        "ready_cold": "panel ready, cold",
        "open": "open a thread",
        "store_first_read": "the store's first read of the file alone",
    }
    for name, prof in report["profile"].items():
        lines += [
            "",
            f"Where the time goes, {titles[name]}: {prof['runs']} untimed runs doing their work "
            "on the caller's thread, sampled there every 0.5 ms, each sample weighted by the "
            "time since the one before; garbage collections timed apart "
            f"({prof['wall_ms_per_run']:,.0f} ms and {prof['samples_per_run']:,.0f} samples "
            "per run).",
            "",
            markdown_table(
                ("time, by what the innermost known frame belongs to", "ms per run"),
                [(k, f"{v:,.1f}") for k, v in prof["categories_ms"].items()],
            ),
            "",
            markdown_table(
                ("function (inclusive: time with it on the stack)", "ms per run"),
                [(r["function"], f"{r['ms']:,.1f}") for r in prof["functions_ms"]],
            ),
        ]
    return "\n".join(lines)


def _widget_line(what: str, s: dict[str, Any]) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in s["widget_kinds"].items())
    opens = ", ".join(f"{k} {v / 1000:,.1f}" for k, v in list(s["open_bytes_by_model"].items())[:4])
    updates = ", ".join(f"{n} of {k}" for k, n in list(s["updates_by_traits"].items())[:4])
    return (
        f"{what} created {s['widgets']:.0f} widgets ({kinds}); their comm_open messages, "
        f"KB by model: {opens}; update messages: {updates}."
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the table, and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a small store, for a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    parser.add_argument("--tmp", type=Path, help="where to write the store (default: temp)")
    args = parser.parse_args(argv)
    report = run(QUICK if args.quick else FULL, args.tmp, quick=args.quick)
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
