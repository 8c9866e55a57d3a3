"""Benchmark what a streaming answer costs on the widget comm, and how often it updates.

Run ``python bench/panel_bench.py`` from anywhere (``--quick`` for a one-second smoke run,
``--json PATH`` to also write the results). No kernel is started: ``comm.create_comm``
(which ipywidgets 8 calls through ``ipywidgets.comm.create_comm`` when a widget opens) is
replaced by a recording comm, a ``comm.base_comm.BaseComm`` whose ``publish_msg`` keeps
each message's content as ipykernel would serialise it (``jupyter_client``'s JSON packer),
and its approximate size on the websocket (the same content in a full Jupyter message:
header, parent header, metadata, channel).

One answer of ~10,000 characters of markdown (paragraphs, bullet and numbered lists, a
table, fenced Python) is split into 2,000 deltas (200 with ``--quick``) that arrive one
every 5 ms on a simulated clock, after the item was added at t = 0; then
``content_part.done`` and ``thread.item.done`` arrive, as the panel receives them. The
``AssistantMessageView`` is driven directly with a fake ``clock`` and a ``schedule`` that
runs deferred renders in simulated time order, so nothing sleeps. Variants:

- **throttled**: the view as shipped (``FLUSH_HZ`` = 20, finished blocks frozen, the tail
  re-sent only when cheap next to what arrived).
- **naive**: the whole answer re-rendered into one HTML widget on every delta, i.e. a
  whole-value ``HTML.value`` update for every delta.
- Two **sketches** of a fix, replayed on the texts the throttled view rendered, at the
  same instants: finished top-level markdown blocks rendered and sent once, only the
  growing last block re-rendered; (a) each finished block as its own ``HTML`` widget in a
  ``VBox`` (core ipywidgets), (b) blocks and tail as custom messages (``Widget.send``, what
  an anywidget view would receive).

For each it reports messages, bytes against the final HTML's size, the highest number of
value updates in any simulated second, and the delay from the first delta to the first
update. The throttled and naive views are also timed with ``time.perf_counter`` (median
of several runs, with a comm that sends nothing, so the figure is rendering plus
ipywidgets' own work).

Targets (from the project brief): bytes <= 3x the final HTML, <= 20 updates a second,
first update <= 100 ms after the first delta.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import itertools
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# These imports need the sys.path entry above.
import comm  # noqa: E402
import ipywidgets as W  # noqa: E402
from _common import machine, machine_line, markdown_table  # noqa: E402
from chatkit.types import (  # noqa: E402
    AssistantMessageContent,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)
from comm.base_comm import BaseComm, BuffersType, MaybeDict  # noqa: E402
from jupyter_client.session import Session, json_packer  # noqa: E402
from markdown_it import MarkdownIt  # noqa: E402

from chatkit_notebook import _views  # noqa: E402
from chatkit_notebook._client import ThreadState  # noqa: E402
from chatkit_notebook._markdown import render_markdown  # noqa: E402

TARGETS = {
    "bytes_over_final_html_max": 3.0,
    "updates_per_s_max": 20.0,
    "first_update_delay_ms_max": 100.0,
}


@dataclass(frozen=True)
class Config:
    """Sizes for one run.

    Attributes:
        deltas: Text deltas the answer is split into.
        interval_ms: Simulated time between deltas.
        time_repeats: Timed runs of the throttled view (the naive one gets fewer).
    """

    deltas: int
    interval_ms: float
    time_repeats: int


FULL = Config(deltas=2_000, interval_ms=5.0, time_repeats=5)
QUICK = Config(deltas=200, interval_ms=5.0, time_repeats=2)

# -- the answer ---------------------------------------------------------------------------

_SECTION = """\
## {n}. {title}

Grouping the {rows:,} rows by `{key}` shows that {subject} is where most of the variance
sits: the median `price` there is {median}, against {overall} over the whole frame, and the
spread between the 10th and 90th percentile is almost twice as wide. Missing values are
not random either: {missing}% of the `{key}` column is empty, nearly all of it in rows
loaded from the second CSV file, so filling them with the mode would bias the comparison.

Before fitting anything, a few things stand out:

- **Skew.** `price` is skewed right (skewness {skew}); a log transform makes its relation
  to `sqft` close to linear, with r = 0.{r} instead of 0.6.
- **Outliers.** {outliers} rows have a negative `quantity`; they look like returns and
  should be dropped or modelled separately.
- **Duplicates.** `order_id` repeats in {dups} rows, all with identical values, so
  `df.drop_duplicates("order_id")` is safe.
- **Dates.** `ordered_at` is stored as text; parse it with `pd.to_datetime(..., utc=True)`
  so the monthly resample below lines up across time zones.

| {key} | rows | median price | mean price | missing % |
|---|---:|---:|---:|---:|
| north | {r1:,} | {m1} | {a1} | 1.2 |
| south | {r2:,} | {m2} | {a2} | 0.4 |
| east | {r3:,} | {m3} | {a3} | 7.9 |
| west | {r4:,} | {m4} | {a4} | 2.1 |

This computes the table above and the log-price slope per group:

```python
import numpy as np
import pandas as pd

clean = df[df["quantity"] > 0].drop_duplicates("order_id")
clean["log_price"] = np.log(clean["price"])
summary = clean.groupby("{key}").agg(
    rows=("price", "size"),
    median_price=("price", "median"),
    mean_price=("price", "mean"),
)
slopes = clean.groupby("{key}").apply(
    lambda g: np.polyfit(g["sqft"], g["log_price"], 1)[0]
)
print(summary.join(slopes.rename("slope")).round(2))
```

If the slope for {subject} differs from the others by more than its standard error, fit
one model per group rather than a single model with a `{key}` dummy; otherwise the dummy
is simpler and you keep the pooled estimate of the `sqft` effect.

"""

_TITLES = ("Regions", "Sales channels", "Customer segments", "Product lines", "Seasons")
_KEYS = ("region", "channel", "segment", "product_line", "season")


def make_answer(chars: int = 10_000) -> str:
    """Markdown of about ``chars`` characters, in whole sections like a real answer's."""
    parts = ["Here is what the data says, section by section.\n\n"]
    n = 0
    while sum(map(len, parts)) < chars:
        i = n % len(_TITLES)
        parts.append(
            _SECTION.format(
                n=n + 1,
                title=_TITLES[i],
                key=_KEYS[i],
                subject=f"the {_KEYS[i].replace('_', ' ')} 'north'",
                rows=12_480 + 997 * n,
                median=41.2 + n,
                overall=37.5 + n,
                missing=3 + n,
                skew=2.1 + n / 10,
                r=81 - n,
                outliers=14 + n,
                dups=57 + 3 * n,
                r1=4_102 + n,
                r2=3_377 + n,
                r3=2_950 + n,
                r4=2_051 + n,
                m1=44.0 + n,
                m2=39.5 + n,
                m3=36.1 + n,
                m4=41.8 + n,
                a1=61.3 + n,
                a2=52.0 + n,
                a3=49.7 + n,
                a4=58.2 + n,
            )
        )
        n += 1
    return "".join(parts).rstrip() + "\n"


def split_deltas(text: str, count: int) -> list[str]:
    """``text`` in ``count`` consecutive pieces of near-equal length (a few characters each)."""
    bounds = [round(i * len(text) / count) for i in range(count + 1)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


# -- the recording comm -------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One comm message as it would leave the kernel."""

    t: float  # simulated seconds
    comm_id: str
    msg_type: str  # comm_open, comm_msg, comm_close
    method: str  # update, custom, or "" for an open
    value_update: bool  # an update that carries a widget's ``value``
    content_bytes: int
    wire_bytes: int


class Recorder:
    """Collects what every :class:`RecordingComm` publishes, stamped with simulated time."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.clock: Callable[[], float] = lambda: 0.0
        self.enabled = True
        self._session = Session(username="bench")
        # Comm messages from a cell carry that cell's execute_request header as parent.
        self._parent = self._session.msg("execute_request", {"code": "panel"})["header"]

    def reset(self, clock: Callable[[], float]) -> None:
        self.sent = []
        self.clock = clock

    def record(self, comm_id: str, msg_type: str, content: dict[str, Any], meta: Any) -> None:
        if not self.enabled:
            return
        packed = json_packer(content)
        msg = self._session.msg(msg_type, content, parent=self._parent, metadata=meta or {})
        wire = json_packer({**msg, "channel": "iopub", "buffers": []})
        data = content.get("data") or {}
        method = str(data.get("method", ""))
        state = data.get("state") or {}
        self.sent.append(
            Sent(
                t=self.clock(),
                comm_id=comm_id,
                msg_type=msg_type,
                method=method,
                value_update=method == "update" and "value" in state,
                content_bytes=len(packed),
                wire_bytes=len(wire),
            )
        )


RECORDER = Recorder()


class RecordingComm(BaseComm):
    """A comm with no kernel behind it: what would be sent goes to :data:`RECORDER`."""

    def publish_msg(
        self,
        msg_type: str,
        data: MaybeDict = None,
        metadata: MaybeDict = None,
        buffers: BuffersType = None,
        **keys: Any,
    ) -> None:
        # The content ipykernel's Comm.publish_msg builds.
        content = {"data": data or {}, "comm_id": self.comm_id, **keys}
        RECORDER.record(self.comm_id, msg_type, content, metadata)


def _create_comm(*args: Any, **kwargs: Any) -> BaseComm:
    return RecordingComm(*args, **kwargs)


@contextlib.contextmanager
def recording_comms() -> Iterator[None]:
    """Make every widget opened inside the block talk to a :class:`RecordingComm`."""
    saved = comm.create_comm
    comm.create_comm = _create_comm
    try:
        yield
    finally:
        comm.create_comm = saved


@contextlib.contextmanager
def flush_hz(value: float) -> Iterator[None]:
    """Set ``_views.FLUSH_HZ`` (read on every delta) for the block."""
    saved = _views.FLUSH_HZ
    _views.FLUSH_HZ = value  # type: ignore[assignment]
    try:
        yield
    finally:
        _views.FLUSH_HZ = saved


# -- simulated time -----------------------------------------------------------------------


class SimTime:
    """A clock that only moves when told, and a ``schedule`` that runs in its order."""

    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (self.now + delay, self._seq, callback))
        self._seq += 1

    def run_until(self, t: float) -> None:
        """Run every callback due by ``t`` at its own time, then move the clock to ``t``."""
        while self._queue and self._queue[0][0] <= t:
            due, _, callback = heapq.heappop(self._queue)
            self.now = max(self.now, due)
            callback()
        self.now = max(self.now, t)

    def drain(self) -> None:
        while self._queue:
            self.run_until(self._queue[0][0])


# -- one streamed answer ------------------------------------------------------------------


class _ProbeView(_views.AssistantMessageView):
    """The shipped view, noting the text it rendered each time (for the sketches)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.rendered: list[tuple[float, str]] = []
        super().__init__(*args, **kwargs)

    def _render(self, *, final: bool) -> None:
        before = self.flushes
        super()._render(final=final)
        if self.flushes != before:
            self.rendered.append((self._clock(), self.text))


class _NaiveView(_views.AssistantMessageView):
    """The straightforward design, for comparison: the whole answer re-rendered into one
    HTML widget on every delta."""

    def _flush_soon(self) -> None:
        self._render(final=False)

    def _render(self, *, final: bool) -> None:
        value = render_markdown(self.text)
        if value != self._tail.value:
            self._tail.value = value
            self.flushes += 1


def _item(text: str) -> AssistantMessageItem:
    content = [AssistantMessageContent(text=text)] if text else []
    return AssistantMessageItem(
        id="msg_bench", thread_id="thr_bench", created_at=datetime.now(), content=content
    )


def stream(
    chunks: list[str], interval: float, view_cls: type[_views.AssistantMessageView]
) -> tuple[_views.AssistantMessageView, SimTime, float]:
    """Play one answer through a new view on simulated time.

    Returns:
        The view, its clock, and the real seconds the whole answer took to process.
    """
    text = "".join(chunks)
    events: list[ThreadStreamEvent] = [
        ThreadItemUpdatedEvent(
            item_id="msg_bench",
            update=AssistantMessageContentPartTextDelta(content_index=0, delta=chunk),
        )
        for chunk in chunks
    ]
    done = AssistantMessageContentPartDone(
        content_index=0, content=AssistantMessageContent(text=text)
    )
    sim = SimTime()
    RECORDER.reset(sim.clock)
    start = time.perf_counter()
    # As the panel does: every event through the client's reducer, then the view draws the
    # item as the reducer holds it. thread.item.added at t = 0 creates the view.
    state = ThreadState()
    state.apply(ThreadItemAddedEvent(item=_item("")))
    view = view_cls(state.items["msg_bench"], clock=sim.clock, schedule=sim.schedule)
    for i, event in enumerate(events, start=1):
        sim.run_until(i * interval)
        state.apply(event)
        view.draw(state.items["msg_bench"], final=False)
    sim.run_until((len(events) + 1) * interval)
    state.apply(ThreadItemUpdatedEvent(item_id="msg_bench", update=done))
    view.draw(state.items["msg_bench"], final=False)
    state.apply(ThreadItemDoneEvent(item=_item(text)))
    view.draw(state.items["msg_bench"], final=True)
    sim.drain()
    return view, sim, time.perf_counter() - start


def _stats(
    sent: list[Sent], final_html: int, first_delta: float, *, update_method: str = "update"
) -> dict[str, Any]:
    """Sizes and timing of what was sent; an update is a ``value`` update or a custom message."""

    def is_update(s: Sent) -> bool:
        return s.value_update if update_method == "update" else s.method == update_method

    updates = sorted(s.t for s in sent if is_update(s) and s.t >= first_delta)
    window = 0
    lo = 0
    for hi, t in enumerate(updates):
        while t - updates[lo] >= 1.0 - 1e-9:  # half-open one-second windows
            lo += 1
        window = max(window, hi - lo + 1)
    span = (updates[-1] - first_delta) if updates else 0.0
    content = sum(s.content_bytes for s in sent)
    wire = sum(s.wire_bytes for s in sent)
    return {
        "messages": len(sent),
        "opens": sum(1 for s in sent if s.msg_type == "comm_open"),
        "updates": len(updates),
        "content_bytes": content,
        "wire_bytes": wire,
        # Where the bytes go: opening widgets, the updates counted above, everything else
        # (``_dom_classes``, a ``VBox``'s ``children``).
        "open_content_bytes": sum(s.content_bytes for s in sent if s.msg_type == "comm_open"),
        "update_content_bytes": sum(s.content_bytes for s in sent if is_update(s)),
        "other_content_bytes": sum(
            s.content_bytes for s in sent if s.msg_type != "comm_open" and not is_update(s)
        ),
        # What a Jupyter message adds around its content, on average.
        "envelope_bytes_per_message": (wire - content) / len(sent) if sent else 0.0,
        "final_html_bytes": final_html,
        "content_over_final_html": content / final_html,
        "wire_over_final_html": wire / final_html,
        "updates_per_s_max": window,
        "updates_per_s_mean": len(updates) / span if span > 0 else 0.0,
        "first_update_delay_ms": (updates[0] - first_delta) * 1000.0 if updates else None,
    }


def _measure_view(
    chunks: list[str],
    interval: float,
    hz: float,
    view_cls: type[_views.AssistantMessageView] | None = None,
) -> tuple[dict[str, Any], Any]:
    with flush_hz(hz):
        view, _sim, _ = stream(chunks, interval, view_cls or _ProbeView)
    # The answer rendered whole: the same yardstick however the view splits it.
    final_html = len(render_markdown(view.text).encode())
    stats = _stats(RECORDER.sent, final_html, first_delta=interval)
    return stats, view


def _time_view(
    chunks: list[str],
    interval: float,
    hz: float,
    repeats: int,
    view_cls: type[_views.AssistantMessageView] = _views.AssistantMessageView,
) -> dict[str, Any]:
    RECORDER.enabled = False  # time the view, not this file's byte counting
    try:
        with flush_hz(hz):
            runs = [stream(chunks, interval, view_cls)[2] for _ in range(repeats)]
    finally:
        RECORDER.enabled = True
    median = statistics.median(runs)
    return {
        "cpu_runs_ms": [r * 1000.0 for r in runs],
        "cpu_median_ms": median * 1000.0,
        "cpu_us_per_delta": median * 1e6 / len(chunks),
    }


# -- sketches of the fix ------------------------------------------------------------------

_BLOCKS = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _split_blocks(text: str) -> tuple[list[str], str]:
    """Top-level markdown blocks that a later block has closed, and the rest (the tail).

    Once a new top-level block has started, CommonMark never changes the ones before it
    (reference definitions aside, which this sketch ignores).
    """
    lines = text.splitlines(keepends=True)
    starts = [
        tok.map[0] for tok in _BLOCKS.parse(text) if tok.level == 0 and tok.nesting >= 0 and tok.map
    ]
    if not starts:
        return [], text
    starts[0] = 0
    finished = ["".join(lines[a:b]) for a, b in itertools.pairwise(starts)]
    return finished, "".join(lines[starts[-1] :])


def _at(t: float) -> Callable[[], float]:
    """A clock stopped at ``t``: the instant the replayed render happened."""
    return lambda: t


def _sketch_widgets(rendered: list[tuple[float, str]]) -> W.VBox:
    """Each finished block an ``HTML`` widget appended to a ``VBox``; one tail ``HTML``.

    Block widgets share one ``Layout`` and one ``HTMLStyle`` and get their CSS class at
    construction, so each costs one ``comm_open`` instead of three opens and an update.
    """
    box = W.VBox().add_class("ck-assistant")
    tail = W.HTML().add_class("ck-tail")
    layout, style = tail.layout, tail.style
    box.children = (tail,)
    blocks: list[W.HTML] = []
    for t, text in rendered:
        RECORDER.clock = _at(t)
        finished, rest = _split_blocks(text)
        added = False
        while len(blocks) < len(finished):
            html = render_markdown(finished[len(blocks)])
            blocks.append(W.HTML(html, layout=layout, style=style, _dom_classes=("ck-block",)))
            added = True
        # One sync for both changes, as hold_sync() gives.
        with box.hold_sync(), tail.hold_sync():
            if added:
                box.children = (*blocks, tail)
            tail.value = render_markdown(rest)
    return box


def _sketch_custom(rendered: list[tuple[float, str]]) -> None:
    """Blocks sent once and the tail replaced, as custom messages to one widget's view."""
    carrier = W.DOMWidget()
    sent_blocks = 0
    for t, text in rendered:
        RECORDER.clock = _at(t)
        finished, rest = _split_blocks(text)
        new = [render_markdown(b) for b in finished[sent_blocks:]]
        sent_blocks = len(finished)
        carrier.send({"type": "blocks", "append": new, "tail": render_markdown(rest)})


def _measure_sketches(rendered: list[tuple[float, str]], interval: float) -> dict[str, Any]:
    text = rendered[-1][1]
    finished, rest = _split_blocks(text)
    sketch_html = sum(len(render_markdown(b).encode()) for b in [*finished, rest])
    out: dict[str, Any] = {"blocks": len(finished) + 1, "final_html_bytes": sketch_html}
    RECORDER.reset(lambda: 0.0)
    _sketch_widgets(rendered)
    out["widgets"] = _stats(RECORDER.sent, sketch_html, first_delta=interval)
    RECORDER.reset(lambda: 0.0)
    _sketch_custom(rendered)
    out["custom"] = _stats(RECORDER.sent, sketch_html, first_delta=interval, update_method="custom")
    return out


# -- report -------------------------------------------------------------------------------

# The packages that shape the numbers, reported with the machine.
PACKAGES = ("ipywidgets", "comm", "jupyter_client", "markdown-it-py", "pygments")


def _checks(throttled: dict[str, Any]) -> dict[str, bool]:
    delay = throttled["first_update_delay_ms"]
    return {
        "bytes_content": throttled["content_over_final_html"]
        <= TARGETS["bytes_over_final_html_max"],
        "bytes_wire": throttled["wire_over_final_html"] <= TARGETS["bytes_over_final_html_max"],
        "updates_per_s": throttled["updates_per_s_max"] <= TARGETS["updates_per_s_max"],
        "first_update": delay is not None and delay <= TARGETS["first_update_delay_ms_max"],
    }


def run(cfg: Config, *, quick: bool) -> dict[str, Any]:
    """Run every variant once for bytes, and time the two views.

    Returns:
        A JSON-able report: ``machine``, ``config``, ``answer``, ``throttled``, ``naive``,
        ``sketches``, ``targets`` and ``checks``.
    """
    text = make_answer()
    chunks = split_deltas(text, cfg.deltas)
    interval = cfg.interval_ms / 1000.0
    with recording_comms():
        throttled, probe = _measure_view(chunks, interval, float(_views.FLUSH_HZ))
        naive, _ = _measure_view(chunks, interval, math.inf, _NaiveView)
        sketches = _measure_sketches(probe.rendered, interval)
        throttled |= _time_view(chunks, interval, float(_views.FLUSH_HZ), cfg.time_repeats)
        naive |= _time_view(chunks, interval, math.inf, max(1, cfg.time_repeats // 2), _NaiveView)
    return {
        "quick": quick,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(packages=PACKAGES, missing=None),
        "config": vars(cfg) | {"flush_hz": _views.FLUSH_HZ},
        "answer": {
            "chars": len(text),
            "deltas": len(chunks),
            "stream_s": len(chunks) * interval,
            "mean_delta_chars": len(text) / len(chunks),
        },
        "throttled": throttled,
        "naive": naive,
        "sketches": sketches,
        "targets": TARGETS,
        "checks": _checks(throttled),
    }


def render(report: dict[str, Any]) -> str:
    """The report as a Markdown table with the machine and run above it."""
    m, cfg, ans = report["machine"], report["config"], report["answer"]
    th, nv, sk = report["throttled"], report["naive"], report["sketches"]

    def ok(key: str) -> str:
        return "ok" if report["checks"][key] else "MISSED"

    def row(name: str, s: dict[str, Any], cpu: str, target: str) -> tuple[str, ...]:
        delay = s["first_update_delay_ms"]
        return (
            name,
            f"{s['updates']:,}",
            f"{s['messages']:,}",
            f"{s['content_bytes'] / 1000:,.1f}",
            f"{s['wire_bytes'] / 1000:,.1f}",
            f"{s['content_over_final_html']:.1f} / {s['wire_over_final_html']:.1f}",
            str(s["updates_per_s_max"]),
            "" if delay is None else f"{delay:.0f}",
            cpu,
            target,
        )

    targets = (
        f"bytes <= 3x ({ok('bytes_content')} / {ok('bytes_wire')}); "
        f"<= 20/s ({ok('updates_per_s')}); "
        f"first <= 100 ms ({ok('first_update')})"
    )
    rows = [
        row(
            f"view, FLUSH_HZ={cfg['flush_hz']}",
            th,
            f"{th['cpu_median_ms']:,.1f} ({th['cpu_us_per_delta']:.0f} us/delta)",
            targets,
        ),
        row(
            "naive: render + whole value per delta",
            nv,
            f"{nv['cpu_median_ms']:,.1f} ({nv['cpu_us_per_delta']:.0f} us/delta)",
            "",
        ),
        row("sketch (a): block widgets + tail", sk["widgets"], "", ""),
        row("sketch (b): custom msgs, blocks + tail", sk["custom"], "", ""),
    ]
    header = (
        "variant",
        "updates",
        "msgs",
        "content KB",
        "~wire KB",
        "x final HTML (content / wire)",
        "max updates/s",
        "first update ms",
        "CPU ms, median",
        "target",
    )
    table = markdown_table(header, rows)
    pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    return "\n".join(
        [
            machine_line(m, suffix=f"; {pkgs}"),
            f"Run: {'--quick' if report['quick'] else 'full size'}; one answer of "
            f"{ans['chars']:,} characters in {ans['deltas']:,} deltas "
            f"(~{ans['mean_delta_chars']:.1f} chars), one every {cfg['interval_ms']:g} ms of "
            f"simulated time ({ans['stream_s']:g} s). Final HTML: {th['final_html_bytes']:,} "
            f"bytes (sketches: {sk['final_html_bytes']:,}, {sk['blocks']} blocks). Wire = the "
            "content in a full Jupyter message (header, parent, metadata); CPU = median of "
            f"{cfg['time_repeats']} runs (naive: {max(1, cfg['time_repeats'] // 2)}) with a "
            "comm that sends nothing.",
            "",
            table,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the table, and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="200 deltas, for a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    args = parser.parse_args(argv)
    report = run(QUICK if args.quick else FULL, quick=args.quick)
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
