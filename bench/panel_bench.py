"""Benchmark what a streaming answer costs on the widget comm, and how often it updates.

Run ``python bench/panel_bench.py`` from anywhere (``--quick`` for a few-second smoke run,
``--json PATH`` to also write the results). No kernel is started: ``comm.create_comm``
(which ipywidgets 8 calls when a widget opens) is replaced by a recording comm, a
``comm.base_comm.BaseComm`` whose ``publish_msg`` keeps what ipykernel would send: the
message's ``data`` (method and state, or custom content: what the widget protocol
carries), the whole comm content around it (``comm_id``...), both as ``jupyter_client``'s
JSON packer serialises them, and the approximate size on the websocket (the content in a
full Jupyter message: header, parent header, metadata, channel).

Two answers, each on a simulated clock, after the item was added at t = 0, then
``content_part.done`` and ``thread.item.done`` as the panel receives them:

- **burst**: ~10,000 characters of Markdown (paragraphs, bullet lists, a table, fenced
  Python) in 2,000 deltas, one every 5 ms;
- **paced**: one ~2,000-character prose paragraph (a little inline markup) in 400 deltas,
  one every 20 ms, as a model streams words.

Every event goes through the client's reducer (``ThreadState``) and the view draws the item
as the reducer holds it, with a fake ``clock`` and a ``schedule`` that runs deferred sends
in simulated time order, so nothing sleeps. Variants, all in the same run:

- **new view**: ``views.AssistantMessageView`` as shipped: an ``AnswerWidget`` (anywidget)
  that receives appended text and, when a Markdown block is finished, a patch that turns
  the text it has into that block's HTML.
- **today's panel**: the view the issue compares against (core ``HTML`` widgets: finished
  blocks frozen into widgets of their own, the growing tail re-sent whole), copied below
  from ``chatkit_notebook/views.py`` at commit 38ac4e6 and frozen.
- **naive**: the whole answer re-rendered into one ``HTML`` widget on every delta.

For each it reports messages, bytes against the final HTML (what the browser shows at the
end), the most messages in any simulated second, and the delay from the first delta to
the first message carrying text; and CPU time (``time.perf_counter``, median of several
runs, with a comm that sends nothing). It replays the new view's messages as ``answer.js``
does (``_anywidgets.apply_patch``) and fails unless that yields exactly the widget's HTML.

Targets (issue 19), for the new view: streamed bytes <= 1.5x the final HTML for the burst
and <= 2x for the paced paragraph, <= 10 messages a second, first text <= 100 ms after the
first delta (the browser then paces the reveal: ``stream_browser_bench.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import heapq
import html
import itertools
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import comm
import ipywidgets as W
from _common import machine, machine_line, markdown_table
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ThreadItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)
from comm.base_comm import BaseComm, BuffersType, MaybeDict
from ipywidgets.widgets.widget_string import HTMLStyle
from jupyter_client.session import Session, json_packer
from markdown_it import MarkdownIt

from chatkit_notebook._client import ThreadState
from chatkit_notebook.panel import views
from chatkit_notebook.panel.anywidgets import AnswerWidget, apply_patch
from chatkit_notebook.panel.markdown import render_markdown

TARGETS = {
    "bytes_over_final_html_max": 1.5,  # a burst; issue 19: a paced paragraph 2x
    "paced_bytes_over_final_html_max": 2.0,
    "messages_per_s_max": 10.0,  # issue 19 (the browser paces the reveal)
    "first_text_delay_ms_max": 100.0,
}


@dataclass(frozen=True)
class Case:
    """One streamed answer.

    Attributes:
        name: ``burst`` or ``paced``.
        deltas: Text deltas the answer is split into.
        interval_ms: Simulated time between deltas.
    """

    name: str
    deltas: int
    interval_ms: float


@dataclass(frozen=True)
class Config:
    """Sizes for one run.

    Attributes:
        burst: The long Markdown answer.
        paced: The prose paragraph.
        time_repeats: Timed runs of each view (the naive one gets fewer in the burst case).
    """

    burst: Case
    paced: Case
    time_repeats: int


FULL = Config(
    burst=Case("burst", deltas=2_000, interval_ms=5.0),
    paced=Case("paced", deltas=400, interval_ms=20.0),
    time_repeats=5,
)
QUICK = Config(
    burst=Case("burst", deltas=200, interval_ms=5.0),
    paced=Case("paced", deltas=100, interval_ms=20.0),
    time_repeats=2,
)

# -- the answers --------------------------------------------------------------------------

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


_PROSE = (
    "The `sales` frame holds 48,210 orders from January to June, and the north region "
    "accounts for **31%** of revenue, more than any other.",
    "Most of its lead comes from repeat customers: they place two orders in five, against "
    "one in four elsewhere, and their baskets are about 18% larger.",
    "The gap narrowed after the April price change, when the south region's weekly orders "
    "rose by a quarter while the north's stayed flat.",
    "Returns are low everywhere except in the east, where 7.9% of orders come back, nearly "
    "all of them from the *outdoor* product line.",
    "I left out the 212 test orders flagged in `is_internal`, and counted amounts in euros "
    "after converting the few orders booked in pounds.",
    "Seasonality matters here: the same months last year showed a similar dip in May, so "
    "part of what looks like a trend is the calendar.",
)


def make_paragraph(chars: int = 2_000) -> str:
    """One paragraph of prose of about ``chars`` characters, with a little inline markup."""
    words: list[str] = []
    n = 0
    while len(" ".join(words)) < chars:
        words.append(_PROSE[n % len(_PROSE)])
        n += 1
    return " ".join(words) + "\n"


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
    carries_text: bool  # custom content, or state with a non-empty value/html/live
    data_bytes: int  # the message's `data`: what the widget protocol carries
    content_bytes: int  # the whole comm content: data, comm_id, target...
    wire_bytes: int  # the content in a full Jupyter message (approximate)
    payload: Any = None  # a custom message's content, or an open's html/live, to replay


_TEXT_STATE = ("value", "html", "live")


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
        data = content.get("data") or {}
        msg = self._session.msg(msg_type, content, parent=self._parent, metadata=meta or {})
        wire = json_packer({**msg, "channel": "iopub", "buffers": []})
        method = str(data.get("method", ""))
        state = data.get("state") or {}
        custom = data.get("content") if method == "custom" else None
        payload = custom
        if msg_type == "comm_open":
            payload = {k: state[k] for k in ("html", "live") if k in state}
        self.sent.append(
            Sent(
                t=self.clock(),
                comm_id=comm_id,
                msg_type=msg_type,
                method=method,
                carries_text=bool(custom) or any(state.get(k) for k in _TEXT_STATE),
                data_bytes=len(json_packer(data)),
                content_bytes=len(json_packer(content)),
                wire_bytes=len(wire),
                payload=payload,
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


# -- today's panel: the frozen baseline ---------------------------------------------------
#
# The streaming view the issue measures against ("today's panel"), copied from
# chatkit_notebook/views.py at commit 38ac4e6 and kept here unchanged, so this benchmark
# compares against the same code whatever the package's view becomes. Core ipywidgets only:
# finished blocks are frozen into HTML widgets of their own, the tail is re-sent whole.

TODAY_FLUSH_HZ = 20
"""How many times a second today's view re-rendered a streaming answer, at most."""
FREEZE_MIN_CHARS = 600
"""Finished blocks are frozen together once they hold this many characters of markdown."""
TAIL_BYTES_FACTOR = 1.0
"""The tail is re-sent only while it is at most this many times what arrived since."""
TAIL_MAX_WAIT = 0.5
"""...or when this many seconds passed since it was last sent, so text keeps moving."""

_BLOCKS = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


class TodayAssistantMessageView:
    """Today's panel (the baseline): streaming markdown in core ``HTML`` widgets.

    ipywidgets re-sends a trait's whole value on every change. So the answer is split into
    top-level markdown blocks: once a later block has begun, the blocks before it are
    final, and are rendered once into an HTML widget of their own ("frozen"). Only the
    growing tail is re-rendered, at most ``TODAY_FLUSH_HZ`` times a second, and only when
    that is cheap next to what arrived since the last send (or ``TAIL_MAX_WAIT`` has
    passed). An open code fence is shown as plain text until it closes.
    """

    def __init__(
        self,
        item: AssistantMessageItem,
        *,
        allowed_image_domains: list[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        schedule: Callable[[float, Callable[[], None]], Any] | None = None,
    ) -> None:
        # What ItemView.__init__ did at 38ac4e6 (a first HTML widget, replaced at once).
        self.item: ThreadItem = item
        self.widget: W.Widget = W.HTML()
        self.widget = W.VBox().add_class("ck-assistant")
        self.widget.add_class("ck-bubble")
        self.widget.add_class("ck-bubble-assistant")
        self._tail = W.HTML(layout=_shared_layout(), style=_shared_style()).add_class("ck-md-tail")
        self.widget.children = (self._tail,)
        self._parts: list[str] = [c.text for c in item.content]
        self._allowed = allowed_image_domains
        self._clock = clock
        self._schedule = schedule
        self._last_flush = float("-inf")
        self._last_tail_send = float("-inf")
        self._frozen_source = ""  # the start of the text shown in frozen widgets
        self._sent_chars = 0  # how much of the text the tail showed when last sent
        self._pending = False
        self.flushes = 0
        self._render(final=True)

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def shown_html(self) -> str:
        """What the browser shows: the frozen blocks' HTML, then the tail's."""
        return "".join(str(child.value) for child in self.widget.children)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, AssistantMessageItem)
        self.item = item
        self._parts = [c.text for c in item.content]
        if final:
            self._render(final=True)
        else:
            self._flush_soon()

    def _flush_soon(self) -> None:
        """Render now if the last render is old enough, else once, a little later."""
        wait = self._last_flush + 1 / TODAY_FLUSH_HZ - self._clock()
        if wait <= 0:
            self._render(final=False)
            return
        if self._pending or self._schedule is None:
            return  # a render is already due; or the final draw will render
        self._pending = True
        self._schedule(wait, self._deferred)

    def _deferred(self) -> None:
        self._pending = False
        self._render(final=False)

    def _render(self, *, final: bool) -> None:
        now = self._clock()
        self._last_flush = now
        text = self.text
        if not text.startswith(self._frozen_source):
            self._thaw()  # the text was replaced by something else: start over
        if not final:
            self._freeze(text)
        tail = text[len(self._frozen_source) :]
        if not final and not self._worth_sending(tail, text, now):
            return
        value = _render_tail(tail, self._allowed, final=final)
        self._last_tail_send = now
        self._sent_chars = len(text)
        if value != self._tail.value:
            self._tail.value = value
            self.flushes += 1

    def _worth_sending(self, tail: str, text: str, now: float) -> bool:
        if self._last_tail_send == float("-inf"):
            return True  # the first text shows at once
        if now - self._last_tail_send >= TAIL_MAX_WAIT:
            return True
        arrived = len(text) - self._sent_chars
        return arrived > 0 and len(tail) <= TAIL_BYTES_FACTOR * arrived

    def _freeze(self, text: str) -> None:
        """Move the finished blocks out of the tail, once they are worth a widget."""
        suffix = text[len(self._frozen_source) :]
        group_end = _block_starts(suffix)[-1]  # everything before the last block is final
        if group_end < FREEZE_MIN_CHARS or not suffix[:group_end].strip():
            return
        block = W.HTML(
            render_markdown(suffix[:group_end], allowed_image_domains=self._allowed),
            layout=_shared_layout(),
            style=_shared_style(),
        ).add_class("ck-md-block")
        self.widget.children = (*self.widget.children[:-1], block, self._tail)
        self._frozen_source = text[: len(self._frozen_source) + group_end]
        self.flushes += 1

    def _thaw(self) -> None:
        self._frozen_source = ""
        self.widget.children = (self._tail,)


def _block_starts(source: str) -> list[int]:
    """Where each top-level markdown block of ``source`` starts, as character offsets."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    starts = []
    for token in _BLOCKS.parse(source):
        if token.level == 0 and token.map is not None and token.nesting >= 0:
            starts.append(offsets[min(token.map[0], len(lines))])
    return sorted(set(starts)) or [0]


def _render_tail(source: str, allowed: list[str] | None, *, final: bool) -> str:
    """Render the growing tail; an unclosed code fence stays plain text until it closes."""
    fences = list(_FENCE.finditer(source))
    if not final and len(fences) % 2 == 1:
        opening = fences[-1]
        head = render_markdown(source[: opening.start()], allowed_image_domains=allowed)
        body = source[opening.end() :].split("\n", 1)[1] if "\n" in source[opening.end() :] else ""
        return f'{head}<pre class="ck-code"><code>{html.escape(body)}</code></pre>'
    return render_markdown(source, allowed_image_domains=allowed)


_SHARED: dict[str, W.Widget] = {}


def _shared_layout() -> W.Layout:
    """One Layout for every markdown part: each Layout widget costs a comm to open."""
    if "layout" not in _SHARED:
        _SHARED["layout"] = W.Layout()
    return _SHARED["layout"]


def _shared_style() -> HTMLStyle:
    """One HTMLStyle for every markdown part, for the same reason."""
    if "style" not in _SHARED:
        _SHARED["style"] = HTMLStyle()
    return _SHARED["style"]


# -- the naive design ---------------------------------------------------------------------


class NaiveView:
    """For comparison: the whole answer re-rendered into one HTML widget on every delta."""

    def __init__(self, item: AssistantMessageItem, **_: Any) -> None:
        self.item: ThreadItem = item
        self.widget = W.HTML().add_class("ck-assistant")
        self.text = ""
        self.draw(item)

    @property
    def shown_html(self) -> str:
        return str(self.widget.value)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, AssistantMessageItem)
        self.item = item
        self.text = "".join(part.text for part in item.content)
        value = render_markdown(self.text) if self.text else ""
        if value != self.widget.value:
            self.widget.value = value


# -- one streamed answer ------------------------------------------------------------------

VARIANTS: dict[str, type[Any]] = {
    "new": views.AssistantMessageView,
    "today": TodayAssistantMessageView,
    "naive": NaiveView,
}
LABELS = {
    "new": "new view (AnswerWidget: appends + patches)",
    "today": "today's panel (baseline, 38ac4e6: HTML widgets)",
    "naive": "naive: whole answer re-rendered per delta",
}


def _item(text: str) -> AssistantMessageItem:
    content = [AssistantMessageContent(text=text)] if text else []
    return AssistantMessageItem(
        id="msg_bench", thread_id="thr_bench", created_at=datetime.now(), content=content
    )


def stream(chunks: list[str], interval: float, view_cls: type[Any]) -> tuple[Any, float]:
    """Play one answer through a new view on simulated time.

    Returns:
        The view, and the real seconds the whole answer took to process.
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
    return view, time.perf_counter() - start


def _per_second_max(times: list[float]) -> int:
    """The most of ``times`` (sorted) in any half-open one-second window."""
    best = lo = 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0 - 1e-9:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _stats(sent: list[Sent], final_html: int, first_delta: float) -> dict[str, Any]:
    """Sizes and timing of what was sent.

    "Setup" is what the view sent when it was created, before any text (opening its
    widgets); "stream" is everything from the first delta on. The targets apply to the
    stream; the ``*_incl_setup`` figures add the one-time setup.
    """
    setup = [s for s in sent if s.t < first_delta]
    streamed = [s for s in sent if s.t >= first_delta]
    times = sorted(s.t for s in streamed)
    span = (times[-1] - first_delta) if times else 0.0
    first_text = next((s.t for s in streamed if s.carries_text), None)
    data = sum(s.data_bytes for s in streamed)
    content = sum(s.content_bytes for s in streamed)
    wire = sum(s.wire_bytes for s in streamed)
    setup_data = sum(s.data_bytes for s in setup)
    # Where a custom message's bytes go: appended text, patches, and the rest (the JSON
    # around them: {"method": "custom", "content": [n, ...]}, quotes, escapes).
    text_bytes = patch_bytes = 0
    for s in streamed:
        parsed = _stream_message(s.payload) if s.method == "custom" else None
        if parsed is not None:
            _, ops, text = parsed
            text_bytes += len(str(text).encode())
            patch_bytes += 0 if ops is None else len(json_packer(ops))
    custom_data = sum(s.data_bytes for s in streamed if s.method == "custom")
    return {
        "messages": len(streamed),
        "opens": sum(1 for s in streamed if s.msg_type == "comm_open"),
        "updates": sum(1 for s in streamed if s.method == "update"),
        "customs": sum(1 for s in streamed if s.method == "custom"),
        "data_bytes": data,
        "content_bytes": content,
        "wire_bytes": wire,
        # What a Jupyter message adds around its data, on average.
        "envelope_bytes_per_message": (wire - data) / len(streamed) if streamed else 0.0,
        "final_html_bytes": final_html,
        "data_over_final_html": data / final_html,
        "content_over_final_html": content / final_html,
        "wire_over_final_html": wire / final_html,
        "setup_messages": len(setup),
        "setup_data_bytes": setup_data,
        "setup_wire_bytes": sum(s.wire_bytes for s in setup),
        "data_over_final_html_incl_setup": (data + setup_data) / final_html,
        "custom_text_bytes": text_bytes,
        "custom_patch_bytes": patch_bytes,
        "custom_overhead_bytes": custom_data - text_bytes - patch_bytes,
        "other_data_bytes": data - custom_data,
        "messages_per_s_max": _per_second_max(times),
        "messages_per_s_mean": len(streamed) / span if span > 0 else 0.0,
        "first_text_delay_ms": None if first_text is None else (first_text - first_delta) * 1e3,
    }


def _shown_html(view: Any) -> str:
    """What the browser shows once the answer is done."""
    if isinstance(view, views.AssistantMessageView):
        return view._answer.html + html.escape(view._answer.live)
    return str(view.shown_html)


def _stream_message(message: Any) -> tuple[int, Any, str] | None:
    """A stream message ``[n, text]`` or ``[n, ops, text]`` as ``(n, ops, text)``."""
    if not isinstance(message, list) or len(message) not in (2, 3):
        return None
    ops = message[1] if len(message) == 3 else None
    return message[0], ops, message[-1]


def replay(sent: list[Sent], answer: AnswerWidget) -> dict[str, Any]:
    """Do what ``answer.js`` does with the answer widget's messages; compare with the widget.

    The page starts from the state the widget opened with, then applies each numbered
    stream message in turn (a patch on the open text, then the appended text), as
    ``followAnswer`` does; a gap in the numbers would make the page ask for the whole
    state, so it counts as a failure here.

    Raises:
        AssertionError: a message is missing or malformed, or the replayed page differs from
            the widget's ``html``/``live``.
    """
    mine = [s for s in sent if s.comm_id == answer.comm.comm_id]
    opened = [s.payload for s in mine if s.msg_type == "comm_open"]
    page_html, live = (opened[0]["html"], opened[0]["live"]) if opened else ("", "")
    customs = [s.payload for s in mine if s.method == "custom"]
    applied = 0
    problem = "" if opened else "the widget's comm_open was not seen"
    for message in customs:
        parsed = _stream_message(message)
        if parsed is None or parsed[0] != applied + 1:
            problem = f"message {applied + 1} is missing or malformed: {str(message)[:80]}"
            break
        applied, ops, text = parsed
        if ops is not None:
            made, used = apply_patch(live, ops)
            page_html += made
            live = live[used:]
        live += text
    if not problem and (page_html != answer.html or live != answer.live or answer.live):
        problem = (
            f"replaying the new view's {len(customs)} messages as answer.js does gave "
            f"{len(page_html):,} bytes of HTML and {len(live):,} of open text; the widget holds "
            f"{len(answer.html):,} and {len(answer.live):,}"
        )
    if problem:
        raise AssertionError(problem)
    return {"ok": True, "messages": len(customs), "html_bytes": len(page_html.encode())}


def _measure(chunks: list[str], interval: float, variant: str) -> tuple[dict[str, Any], Any]:
    view, _ = stream(chunks, interval, VARIANTS[variant])
    final_html = len(_shown_html(view).encode())
    stats = _stats(RECORDER.sent, final_html, first_delta=interval)
    if isinstance(view, views.AssistantMessageView):
        stats["replay"] = replay(RECORDER.sent, view._answer)
    return stats, view


def _time(chunks: list[str], interval: float, variant: str, repeats: int) -> dict[str, Any]:
    RECORDER.enabled = False  # time the view, not this file's byte counting
    runs = []
    try:
        for _ in range(repeats):
            gc.collect()  # so no run pays for the garbage of the one before
            runs.append(stream(chunks, interval, VARIANTS[variant])[1])
    finally:
        RECORDER.enabled = True
    median = statistics.median(runs)
    return {
        "cpu_runs_ms": [r * 1000.0 for r in runs],
        "cpu_median_ms": median * 1000.0,
        "cpu_us_per_delta": median * 1e6 / len(chunks),
    }


def _bytes_target(case: str) -> float:
    key = "paced_bytes_over_final_html_max" if case == "paced" else "bytes_over_final_html_max"
    return TARGETS[key]


def _checks(new: dict[str, Any], case: str) -> dict[str, bool]:
    delay = new["first_text_delay_ms"]
    return {
        "bytes": new["data_over_final_html"] <= _bytes_target(case),
        "messages_per_s": new["messages_per_s_max"] <= TARGETS["messages_per_s_max"],
        "first_text": delay is not None and delay <= TARGETS["first_text_delay_ms_max"],
        "replay": bool(new["replay"]["ok"]),
    }


def run_case(case: Case, text: str, repeats: int) -> dict[str, Any]:
    """Every variant on one answer: bytes and timing on the recording comm, then CPU."""
    chunks = split_deltas(text, case.deltas)
    interval = case.interval_ms / 1000.0
    variants: dict[str, dict[str, Any]] = {}
    views: dict[str, Any] = {}
    for name in VARIANTS:
        variants[name], views[name] = _measure(chunks, interval, name)
    for name in VARIANTS:
        # The naive view re-renders ~10 KB per delta in the burst case: fewer runs.
        n = max(1, repeats // 2) if name == "naive" and case.name == "burst" else repeats
        variants[name] |= _time(chunks, interval, name, n)
    return {
        "name": case.name,
        "answer": {
            "chars": len(text),
            "deltas": len(chunks),
            "interval_ms": case.interval_ms,
            "stream_s": len(chunks) * interval,
            "mean_delta_chars": len(text) / len(chunks),
            # The answer rendered in one piece, for scale; views may split it by block.
            "whole_html_bytes": len(render_markdown(text).encode()),
        },
        "variants": variants,
        "checks": _checks(variants["new"], case.name),
    }


# -- report -------------------------------------------------------------------------------

# The packages that shape the numbers, reported with the machine.
PACKAGES = ("ipywidgets", "anywidget", "comm", "jupyter_client", "markdown-it-py", "pygments")


def run(cfg: Config, *, quick: bool) -> dict[str, Any]:
    """Run both cases.

    Returns:
        A JSON-able report: ``machine``, ``config``, ``cases`` (``burst``, ``paced``: each
        ``answer``, ``variants`` and ``checks``), ``targets``, ``checks`` and ``replay_ok``.
    """
    texts = {"burst": make_answer(), "paced": make_paragraph()}
    cases: dict[str, Any] = {}
    with recording_comms():
        # Today's view shares one Layout and one HTMLStyle across all answers of a
        # process; open them before measuring, as an earlier answer would have.
        _shared_layout(), _shared_style()
        for case in (cfg.burst, cfg.paced):
            cases[case.name] = run_case(case, texts[case.name], cfg.time_repeats)
    return {
        "quick": quick,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(packages=PACKAGES, missing=None),
        "config": {
            "burst": vars(cfg.burst),
            "paced": vars(cfg.paced),
            "time_repeats": cfg.time_repeats,
            "flush_hz": views.FLUSH_HZ,
            "min_send_chars": views.MIN_SEND_CHARS,
            "max_wait_s": views.MAX_WAIT,
        },
        "cases": cases,
        "targets": TARGETS,
        "checks": {name: case["checks"] for name, case in cases.items()},
        "replay_ok": all(case["checks"]["replay"] for case in cases.values()),
    }


def _case_table(case: dict[str, Any], time_repeats: int) -> str:
    def ok(key: str) -> str:
        return "ok" if case["checks"][key] else "MISSED"

    rows = []
    for name, s in case["variants"].items():
        delay = s["first_text_delay_ms"]
        runs = len(s["cpu_runs_ms"])
        target = ""
        if name == "new":
            target = (
                f"<= {_bytes_target(case['name']):g}x ({ok('bytes')}); "
                f"<= {TARGETS['messages_per_s_max']:g}/s ({ok('messages_per_s')}); "
                f"<= 100 ms ({ok('first_text')})"
            )
        rows.append(
            (
                LABELS[name],
                f"{s['messages']:,}",
                f"{s['data_bytes'] / 1000:,.1f}",
                f"**{s['data_over_final_html']:.2f}**",
                f"{s['content_bytes'] / 1000:,.1f}",
                f"{s['wire_bytes'] / 1000:,.1f} ({s['wire_over_final_html']:.1f}x)",
                f"{s['setup_messages']} / {s['setup_data_bytes'] / 1000:,.1f}",
                f"{s['data_over_final_html_incl_setup']:.2f}",
                str(s["messages_per_s_max"]),
                "" if delay is None else f"{delay:.0f}",
                f"{s['cpu_median_ms']:,.1f} ({s['cpu_us_per_delta']:.0f} us/delta"
                + ("" if runs == time_repeats else f", {runs} runs")
                + ")",
                target,
            )
        )
    header = (
        "variant",
        "msgs",
        "data KB",
        "data / final HTML",
        "content KB",
        "~wire KB (x HTML)",
        "setup msgs / KB",
        "x HTML incl. setup",
        "max msgs/s",
        "first text ms",
        "CPU ms, median",
        "target (new view)",
    )
    return markdown_table(header, rows)


def render(report: dict[str, Any]) -> str:
    """The report as two Markdown tables with the machine and run above them."""
    m, cfg = report["machine"], report["config"]
    pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    lines = [
        machine_line(m, suffix=f"; {pkgs}"),
        f"Run: {'--quick' if report['quick'] else 'full size'}. New view: FLUSH_HZ="
        f"{cfg['flush_hz']}, MIN_SEND_CHARS={cfg['min_send_chars']}, MAX_WAIT="
        f"{cfg['max_wait_s']:g} s. data = each message's `data` as ipykernel packs it; "
        "content adds comm_id; wire = the content in a full Jupyter message (header, parent, "
        "metadata), approximate. Setup = the messages that open the view's widgets at t = 0 "
        "(not in the other columns). CPU = median of "
        f"{cfg['time_repeats']} runs with a comm that sends nothing, each after gc.collect().",
    ]
    for name, case in report["cases"].items():
        ans = case["answer"]
        new = case["variants"]["new"]
        replayed = new["replay"]
        lines += [
            "",
            f"**{name}**: {ans['chars']:,} characters in {ans['deltas']:,} deltas "
            f"(~{ans['mean_delta_chars']:.1f} chars), one every {ans['interval_ms']:g} ms of "
            f"simulated time ({ans['stream_s']:g} s). Final HTML: new view "
            f"{new['final_html_bytes']:,} bytes, today's "
            f"{case['variants']['today']['final_html_bytes']:,}, naive "
            f"{case['variants']['naive']['final_html_bytes']:,}. Replay of the new view's "
            f"{replayed['messages']} messages as answer.js does: "
            f"{'identical to the widget HTML' if replayed['ok'] else 'DIFFERENT'}. "
            f"The new view's {new['data_bytes']:,} data bytes: appended text "
            f"{new['custom_text_bytes']:,}, patches {new['custom_patch_bytes']:,}, the JSON "
            f"around them {new['custom_overhead_bytes']:,} ({new['customs']} custom messages, "
            f"~{new['custom_overhead_bytes'] / max(1, new['customs']):.0f} bytes each), state "
            f"updates {new['other_data_bytes']:,}.",
            "",
            _case_table(case, cfg["time_repeats"]),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the tables, and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer deltas, for a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    args = parser.parse_args(argv)
    report = run(QUICK if args.quick else FULL, quick=args.quick)
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
