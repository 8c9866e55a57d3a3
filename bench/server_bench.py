"""Benchmark what ``NotebookChatServer`` adds on top of a bare Agents SDK run.

Run ``python bench/server_bench.py`` from anywhere (``--quick`` for a few-second smoke run,
``--json PATH`` to also write the numbers, ``--profile`` to profile the server path even
when it meets its target). Both paths use the same ``agents.testing.ScriptedModel``, an
``agents.Agent`` with no tools, and tracing off. In one run it measures:

- **Streaming overhead.** One answer of many ``response.output_text.delta`` events (5,000
  by default, each a short word), consumed (a) through ``NotebookChatServer.process`` with a
  ``threads.create`` request, a ``NotebookStore`` in a temp dir, and every SSE frame parsed
  by the package's ChatKit client decoder (``_client.decode_event``), as the panel parses
  them; and (b)
  straight from ``Runner.run_streamed(agent, text).stream_events()``. Two layers in between
  say where the difference goes: the bare run converted by chatkit's
  ``stream_agent_response``, and ``NotebookChatServer.respond`` called directly (no request
  parsing, store writes, SSE encoding or client parsing). Each path also runs a 1-delta
  answer, so the fixed cost per answer and the cost per further delta are told apart, and
  (a) and (b) run once more with a paced model that lets the event loop turn before each
  event, as a model read from the network does. All paths take turns; each figure is the
  median of several runs, after one warm-up run of each. If the (a)/(b) ratio misses its
  target (or with ``--profile``) one run of each is profiled with ``cProfile`` and the top
  costs are printed.
- **Turn overhead.** The time from calling ``server.process`` with a
  ``threads.add_user_message`` request to the moment the model is called, for a thread that
  already holds 1,000 items (alternating user and assistant messages of ~200 characters) and
  for a new, empty thread, in the same store, taking turns. It is split at the first SSE frame
  the client receives (the stored user message) and also taken at the model's
  ``stream_response`` entry, before ``ScriptedModel`` copies the call's input.

The scripted events are built once and replayed, so model-side object construction (the same
in both paths) does not dilute the ratio.

Target (from the project brief): streaming through the server <= 1.3x the direct run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, machine, machine_line, markdown_table
from agents import Agent, RunConfig, Runner
from agents.testing import ModelStep, ScriptedModel
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.server import StreamingResult
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ChatKitReq,
    InferenceOptions,
    ThreadAddUserMessageParams,
    ThreadCreateParams,
    ThreadMetadata,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadStreamEvent,
    UserMessageInput,
    UserMessageItem,
    UserMessageTextContent,
)
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)
from pydantic import TypeAdapter

from chatkit_notebook import NotebookContext
from chatkit_notebook._client import decode_event
from chatkit_notebook.agent.receipt import is_receipt

# NotebookStore and NotebookChatServer come from their modules: the package exports them lazily.
from chatkit_notebook.agent.server import DEFAULT_HISTORY_ITEMS, NotebookChatServer
from chatkit_notebook.config import current_config
from chatkit_notebook.stores.file import NotebookStore

TARGETS = {"stream_ratio_max": 1.3}
PACKAGES = ("openai-agents", "openai-chatkit", "openai", "pydantic", "pydantic-core")
PROFILE_TOP = 25

_WORDS = ("the ", "mean ", "of ", "price ", "is ", "41.2", ", ", "and ", "rows ", "drop")
_PROMPT = "Summarise the price column of df."
_MESSAGE = (
    "The price column is skewed right: median 41.2, mean 57.9, and 3% of the rows in "
    "'region' are missing. A log transform makes price close to linear in sqft (r = 0.81). "
)


@dataclass(frozen=True)
class Config:
    """Sizes for one run.

    Attributes:
        deltas: Text deltas in the streamed answer.
        stream_repeats: Timed runs of each streaming path (after one warm-up each).
        history: Items in the pre-filled thread for the turn-overhead measure.
        turn_repeats: Timed turns on each thread kind (after one warm-up each).
    """

    deltas: int
    stream_repeats: int
    history: int
    turn_repeats: int


FULL = Config(deltas=5_000, stream_repeats=7, history=1_000, turn_repeats=15)
QUICK = Config(deltas=200, stream_repeats=2, history=50, turn_repeats=3)


# -- the scripted answer ----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A streamed answer: its model events, built once, and the text they spell."""

    events: tuple[Any, ...]
    final: ResponseOutputMessage
    text: str
    deltas: int
    paced: bool = False

    def step(self, marks: list[float] | None = None) -> ModelStep:
        """A model step replaying the events; ``marks`` gets the time it is invoked.

        A paced answer gives the event loop one turn before each event, as a model read from
        the network does; an unpaced one lets the runner queue the whole answer at once.
        """

        async def stream(call: Any) -> AsyncIterator[Any]:
            if marks is not None:
                marks.append(time.perf_counter())
            for event in self.events:
                if self.paced:
                    await asyncio.sleep(0)
                yield event

        return ModelStep.stream(stream, output=[self.final])


def make_answer(n_deltas: int, *, item_id: str = "msg_bench") -> Answer:
    """The Responses API event sequence of one assistant message streamed in ``n_deltas``."""
    chunks = [_WORDS[i % len(_WORDS)] for i in range(n_deltas)]
    text = "".join(chunks)
    final = ResponseOutputMessage(
        id=item_id,
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text=text, annotations=[], logprobs=[])],
    )
    response = Response(
        id="resp_bench",
        created_at=0,
        model="scripted",
        object="response",
        output=[final],
        tool_choice="auto",
        tools=[],
        parallel_tool_calls=False,
        status="completed",
    )
    seq = iter(range(n_deltas + 10))
    events: list[Any] = [
        ResponseCreatedEvent(
            type="response.created",
            response=response.model_copy(update={"output": [], "status": "in_progress"}),
            sequence_number=next(seq),
        ),
        ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            output_index=0,
            item=final.model_copy(update={"content": [], "status": "in_progress"}),
            sequence_number=next(seq),
        ),
        ResponseContentPartAddedEvent(
            type="response.content_part.added",
            part=ResponseOutputText(type="output_text", text="", annotations=[], logprobs=[]),
            sequence_number=next(seq),
            item_id=item_id,
            output_index=0,
            content_index=0,
        ),
    ]
    events += [
        ResponseTextDeltaEvent(
            type="response.output_text.delta",
            delta=chunk,
            logprobs=[],
            sequence_number=next(seq),
            item_id=item_id,
            output_index=0,
            content_index=0,
        )
        for chunk in chunks
    ]
    events += [
        ResponseTextDoneEvent(
            type="response.output_text.done",
            text=text,
            logprobs=[],
            sequence_number=next(seq),
            item_id=item_id,
            output_index=0,
            content_index=0,
        ),
        ResponseContentPartDoneEvent(
            type="response.content_part.done",
            part=final.content[0],
            sequence_number=next(seq),
            item_id=item_id,
            output_index=0,
            content_index=0,
        ),
        ResponseOutputItemDoneEvent(
            type="response.output_item.done",
            output_index=0,
            item=final,
            sequence_number=next(seq),
        ),
        ResponseCompletedEvent(
            type="response.completed", response=response, sequence_number=next(seq)
        ),
    ]
    return Answer(tuple(events), final, text, n_deltas)


class TimedModel(ScriptedModel):
    """A ``ScriptedModel`` that notes when the runner starts its streamed call."""

    def __init__(self) -> None:
        super().__init__()
        self.entered: list[float] = []

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        # An async generator's body runs at the first ``anext``: when the runner begins
        # reading the model's stream, before ScriptedModel deep-copies the call's input.
        self.entered.append(time.perf_counter())
        async for event in super().stream_response(*args, **kwargs):
            yield event


def _user_input(text: str) -> UserMessageInput:
    return UserMessageInput(
        content=[UserMessageTextContent(text=text)],
        attachments=[],
        inference_options=InferenceOptions(),
    )


# -- 1. streaming overhead --------------------------------------------------------------------

# The paths timed, from the bare run to the full server; each adds one layer to the last.
PATHS = {
    "direct": "(b) Runner.run_streamed().stream_events()",
    "converter": "+ chatkit stream_agent_response",
    "respond": "+ NotebookChatServer.respond (history, ids)",
    "server": "(a) server.process + SSE parse (all layers)",
}

# Also timed with a paced answer (see ``Answer.step``).
PACED = ("direct", "server")


@dataclass
class _StreamRun:
    seconds: float
    frames: int
    deltas: int
    text: str
    parse_seconds: float = 0.0


class _ChatKitTally:
    """Counts text deltas in ChatKit events and keeps the finished answer's text."""

    def __init__(self) -> None:
        self.frames = 0
        self.deltas = 0
        self.text = ""

    def see(self, event: ThreadStreamEvent) -> None:
        self.frames += 1
        if event.type == "thread.item.updated" and event.update.type == (
            "assistant_message.content_part.text_delta"
        ):
            self.deltas += 1
        elif event.type == "thread.item.done" and event.item.type == "assistant_message":
            self.text = "".join(part.text for part in event.item.content)


async def _through_server(
    server: NotebookChatServer, model: ScriptedModel, answer: Answer, ctx: NotebookContext
) -> _StreamRun:
    """(a) One ``threads.create`` turn through ``server.process``, every frame parsed."""
    request = ThreadsCreateReq(params=ThreadCreateParams(input=_user_input(_PROMPT)))
    body = request.model_dump_json()
    model.enqueue(answer.step())
    tally = _ChatKitTally()
    parse = 0.0
    t0 = time.perf_counter()
    result = await server.process(body, ctx)
    if not isinstance(result, StreamingResult):
        raise TypeError(f"threads.create returned {type(result).__name__}, not a stream")
    async for chunk in result:
        p0 = time.perf_counter()
        event = decode_event(chunk)
        parse += time.perf_counter() - p0
        tally.see(event)
    seconds = time.perf_counter() - t0
    return _StreamRun(seconds, tally.frames, tally.deltas, tally.text, parse)


async def _through_respond(
    server: NotebookChatServer, model: ScriptedModel, answer: Answer, ctx: NotebookContext
) -> _StreamRun:
    """``server.respond`` on a stored thread and message: no request, store writes or SSE."""
    thread = ThreadMetadata(id=server.store.generate_thread_id(ctx), created_at=datetime.now())
    await server.store.save_thread(thread, ctx)
    message = UserMessageItem(
        id=server.store.generate_item_id("message", thread, ctx),
        thread_id=thread.id,
        created_at=datetime.now(),
        content=[UserMessageTextContent(text=_PROMPT)],
        attachments=[],
        inference_options=InferenceOptions(),
    )
    await server.store.add_thread_item(thread.id, message, ctx)
    model.enqueue(answer.step())
    tally = _ChatKitTally()
    t0 = time.perf_counter()
    async for event in server.respond(thread, message, ctx):
        tally.see(event)
    seconds = time.perf_counter() - t0
    return _StreamRun(seconds, tally.frames, tally.deltas, tally.text)


async def _through_converter(
    agent: Agent[Any],
    model: ScriptedModel,
    answer: Answer,
    store: NotebookStore,
    ctx: NotebookContext,
) -> _StreamRun:
    """The bare run converted to ChatKit events by ``chatkit.agents.stream_agent_response``."""
    thread = ThreadMetadata(id=store.generate_thread_id(ctx), created_at=datetime.now())
    agent_context = AgentContext[NotebookContext](thread=thread, store=store, request_context=ctx)
    model.enqueue(answer.step())
    tally = _ChatKitTally()
    t0 = time.perf_counter()
    result = Runner.run_streamed(
        agent, _PROMPT, context=agent_context, run_config=RunConfig(tracing_disabled=True)
    )
    async for event in stream_agent_response(agent_context, result):
        tally.see(event)
    seconds = time.perf_counter() - t0
    return _StreamRun(seconds, tally.frames, tally.deltas, tally.text)


async def _direct(agent: Agent[Any], model: ScriptedModel, answer: Answer) -> _StreamRun:
    """(b) The same answer read straight from ``Runner.run_streamed(...).stream_events()``."""
    model.enqueue(answer.step())
    frames = deltas = 0
    t0 = time.perf_counter()
    result = Runner.run_streamed(agent, _PROMPT, run_config=RunConfig(tracing_disabled=True))
    async for event in result.stream_events():
        frames += 1
        if event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
            deltas += 1
    seconds = time.perf_counter() - t0
    return _StreamRun(seconds, frames, deltas, str(result.final_output))


def _check(run: _StreamRun, answer: Answer, path: str) -> None:
    # The server merges deltas that wait behind a slower reader (chatkit_notebook/_coalesce.py),
    # so paths through it may see fewer, longer deltas; the text must be the same.
    if not 1 <= run.deltas <= answer.deltas or run.text != answer.text:
        msg = (
            f"the {path} path saw {run.deltas} deltas and {len(run.text)} characters; "
            f"expected at most {answer.deltas} and {len(answer.text)}"
        )
        raise RuntimeError(msg)


# Event-loop machinery and this file's own harness: they wrap everything, so their
# cumulative times only restate the total.
_PLUMBING = ("/asyncio/", "/selectors.py", str(Path(__file__).resolve()))


def _profile_rows(
    profile: cProfile.Profile, sort: str, top: int, *, skip_plumbing: bool = False
) -> list[dict[str, Any]]:
    """The ``top`` functions of ``profile`` by ``sort`` ("cumulative" or "tottime")."""
    stats = pstats.Stats(profile)
    # pstats keeps its table untyped: (file, line, name) -> (prim calls, calls, tt, ct, callers)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    key = 3 if sort == "cumulative" else 2
    ordered = sorted(raw.items(), key=lambda kv: kv[1][key], reverse=True)
    rows: list[dict[str, Any]] = []
    for (filename, line, name), (_prim, ncalls, tottime, cumtime, _callers) in ordered:
        if skip_plumbing and (
            any(p in filename for p in _PLUMBING) or "_contextvars.Context" in name
        ):
            continue
        rows.append(
            {
                "function": _where(filename, line, name),
                "ncalls": ncalls,
                "tottime_s": round(tottime, 4),
                "cumtime_s": round(cumtime, 4),
            }
        )
        if len(rows) == top:
            break
    return rows


def _where(filename: str, line: int, name: str) -> str:
    """``package/module.py:line(name)``, short for site-packages and the repo."""
    if filename.startswith("~") or filename.startswith("<"):
        return name
    path = Path(filename)
    parts = path.parts
    for anchor in ("site-packages", REPO_ROOT.name):
        if anchor in parts:
            parts = parts[len(parts) - parts[::-1].index(anchor) :]
            break
    return f"{'/'.join(parts[-3:])}:{line}({name})"


async def _profiled(run: Callable[[], Awaitable[_StreamRun]]) -> tuple[cProfile.Profile, float]:
    profile = cProfile.Profile()
    profile.enable()
    try:
        result = await run()
    finally:
        profile.disable()
    return profile, result.seconds


async def _streaming(
    cfg: Config, tmp: Path, *, force_profile: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    long = make_answer(cfg.deltas)
    answers = {"long": long, "short": make_answer(1), "paced": replace(long, paced=True)}
    ctx = NotebookContext()
    model = ScriptedModel()  # one model, one script queue: every path runs the same model
    store = NotebookStore(tmp / "stream.chatkit.json")
    server = NotebookChatServer(store, model=model, agent=Agent(name="bench"))
    agent: Agent[Any] = Agent(name="bench", model=model)

    def via(path: str, answer: Answer) -> Callable[[], Awaitable[_StreamRun]]:
        runs: dict[str, Callable[[], Awaitable[_StreamRun]]] = {
            "direct": lambda: _direct(agent, model, answer),
            "converter": lambda: _through_converter(agent, model, answer, store, ctx),
            "respond": lambda: _through_respond(server, model, answer, ctx),
            "server": lambda: _through_server(server, model, answer, ctx),
        }
        return runs[path]

    plan = [(path, size) for size in ("long", "short") for path in PATHS]
    plan += [(path, "paced") for path in PACED]
    for path, size in plan:  # warm-up: imports, caches, the store file
        await via(path, answers[size])()
    runs: dict[tuple[str, str], list[_StreamRun]] = {key: [] for key in plan}
    # Take turns so that drift and noise from other processes hit every path alike.
    for _ in range(cfg.stream_repeats):
        for path, size in plan:
            gc.collect()
            result = await via(path, answers[size])()
            _check(result, answers[size], path)
            runs[(path, size)].append(result)

    results: dict[str, Any] = {"deltas": cfg.deltas, "answer_chars": len(answers["long"].text)}
    for path in PATHS:
        long_s = [r.seconds for r in runs[(path, "long")]]
        short_s = [r.seconds for r in runs[(path, "short")]]
        results[path] = {
            "median_ms": statistics.median(long_s) * 1000.0,
            "min_ms": min(long_s) * 1000.0,
            "runs_ms": [s * 1000.0 for s in long_s],
            "frames": runs[(path, "long")][-1].frames,
            "one_delta_median_ms": statistics.median(short_s) * 1000.0,
            # The slope between a 1-delta and a full answer: the cost of each further delta.
            "us_per_delta": (statistics.median(long_s) - statistics.median(short_s))
            / (cfg.deltas - 1)
            * 1e6,
        }
    results["server"]["client_parse_median_ms"] = (
        statistics.median(r.parse_seconds for r in runs[("server", "long")]) * 1000.0
    )
    direct = results["direct"]
    for path in PATHS:
        results[path]["ratio_to_direct"] = results[path]["median_ms"] / direct["median_ms"]
    server_r = results["server"]
    paced = {path: statistics.median(r.seconds for r in runs[(path, "paced")]) for path in PACED}
    results["paced"] = {
        "direct_median_ms": paced["direct"] * 1000.0,
        "server_median_ms": paced["server"] * 1000.0,
        "ratio_server_over_direct": paced["server"] / paced["direct"],
    }
    results["ratio_server_over_direct"] = server_r["ratio_to_direct"]
    results["ratio_one_delta"] = server_r["one_delta_median_ms"] / direct["one_delta_median_ms"]
    results["ratio_per_delta"] = server_r["us_per_delta"] / direct["us_per_delta"]
    results["extra_fixed_ms"] = server_r["one_delta_median_ms"] - direct["one_delta_median_ms"]
    results["extra_us_per_delta"] = server_r["us_per_delta"] - direct["us_per_delta"]

    profile: dict[str, Any] | None = None
    if force_profile or results["ratio_server_over_direct"] > TARGETS["stream_ratio_max"]:
        gc.collect()
        server_profile, server_s = await _profiled(via("server", answers["long"]))
        gc.collect()
        direct_profile, direct_s = await _profiled(via("direct", answers["long"]))
        profile = {
            "server_profiled_ms": server_s * 1000.0,
            "direct_profiled_ms": direct_s * 1000.0,
            "server_by_cumulative": _profile_rows(
                server_profile, "cumulative", PROFILE_TOP, skip_plumbing=True
            ),
            "server_by_tottime": _profile_rows(server_profile, "tottime", PROFILE_TOP),
            "direct_by_cumulative": _profile_rows(
                direct_profile, "cumulative", 12, skip_plumbing=True
            ),
            "server_loop_iterations": _calls(server_profile, "_run_once"),
            "direct_loop_iterations": _calls(direct_profile, "_run_once"),
            "server_tasks_created": _calls(server_profile, "create_task"),
            "direct_tasks_created": _calls(direct_profile, "create_task"),
        }
    return results, profile


def _calls(profile: cProfile.Profile, name: str) -> int:
    """How often ``profile`` saw asyncio's ``name`` called (event-loop iterations, tasks)."""
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(
        profile
    ).stats  # type: ignore[attr-defined]
    return sum(v[1] for (f, _, n), v in raw.items() if n == name and "/asyncio/" in f)


# -- 2. turn overhead -------------------------------------------------------------------------


async def _prefill(
    store: NotebookStore, thread_id: str, n_items: int, ctx: NotebookContext
) -> None:
    """``n_items`` alternating user/assistant messages of ~200 characters, oldest first."""
    base = datetime.now() - timedelta(days=1)
    await store.save_thread(ThreadMetadata(id=thread_id, created_at=base, title="history"), ctx)
    for i in range(n_items):
        created = base + timedelta(milliseconds=i)
        text = f"[{i}] {_MESSAGE}"
        item: UserMessageItem | AssistantMessageItem
        if i % 2 == 0:
            item = UserMessageItem(
                id=f"msg_u{i:05d}",
                thread_id=thread_id,
                created_at=created,
                content=[UserMessageTextContent(text=text)],
                attachments=[],
                inference_options=InferenceOptions(),
            )
        else:
            item = AssistantMessageItem(
                id=f"msg_a{i:05d}",
                thread_id=thread_id,
                created_at=created,
                content=[AssistantMessageContent(text=text)],
            )
        await store.add_thread_item(thread_id, item, ctx)


@dataclass
class _TurnRun:
    first_frame_s: float
    model_entered_s: float
    model_called_s: float
    total_s: float


async def _turn(
    server: NotebookChatServer,
    model: TimedModel,
    answer: Answer,
    thread_id: str,
    ctx: NotebookContext,
) -> _TurnRun:
    """One ``threads.add_user_message`` turn; times measured from calling ``process``."""
    params = ThreadAddUserMessageParams(thread_id=thread_id, input=_user_input(_PROMPT))
    body = ThreadsAddUserMessageReq(params=params).model_dump_json()
    marks: list[float] = []
    model.enqueue(answer.step(marks))
    first_frame: float | None = None
    t0 = time.perf_counter()
    result = await server.process(body, ctx)
    if not isinstance(result, StreamingResult):
        raise TypeError(f"threads.add_user_message returned {type(result).__name__}")
    async for chunk in result:
        if first_frame is None:
            first_frame = time.perf_counter()
        decode_event(chunk)
    end = time.perf_counter()
    if first_frame is None or len(marks) != 1:
        raise RuntimeError(f"the turn on {thread_id} streamed nothing or never called the model")
    return _TurnRun(first_frame - t0, model.entered[-1] - t0, marks[0] - t0, end - t0)


def _turn_stats(runs: list[_TurnRun]) -> dict[str, Any]:
    called = [r.model_called_s * 1000.0 for r in runs]
    return {
        "to_model_call_median_ms": statistics.median(called),
        "to_model_call_min_ms": min(called),
        "to_model_call_runs_ms": called,
        "to_model_entry_median_ms": statistics.median(r.model_entered_s * 1000.0 for r in runs),
        "to_first_frame_median_ms": statistics.median(r.first_frame_s * 1000.0 for r in runs),
        "turn_total_median_ms": statistics.median(r.total_s * 1000.0 for r in runs),
    }


async def _turns(cfg: Config, tmp: Path) -> dict[str, Any]:
    ctx = NotebookContext()
    model = TimedModel()
    store = NotebookStore(tmp / "turns.chatkit.json")
    server = NotebookChatServer(store, model=model, agent=Agent(name="bench"))
    answer = make_answer(20, item_id="msg_turn")
    history_thread = "thr_history"
    t0 = time.perf_counter()
    await _prefill(store, history_thread, cfg.history, ctx)
    prefill_s = time.perf_counter() - t0

    async def new_thread() -> str:
        thread_id = store.generate_thread_id(ctx)
        await store.save_thread(ThreadMetadata(id=thread_id, created_at=datetime.now()), ctx)
        return thread_id

    await _turn(server, model, answer, history_thread, ctx)  # warm-up
    await _turn(server, model, answer, await new_thread(), ctx)
    runs: dict[str, list[_TurnRun]] = {"history": [], "empty": []}
    for _ in range(cfg.turn_repeats):
        gc.collect()
        runs["history"].append(await _turn(server, model, answer, history_thread, ctx))
        empty = await new_thread()
        gc.collect()
        runs["empty"].append(await _turn(server, model, answer, empty, ctx))
    page = await store.load_thread_items(history_thread, None, 2, "desc", ctx)
    newest = [item for item in page.data if not is_receipt(item)]
    history, empty_stats = _turn_stats(runs["history"]), _turn_stats(runs["empty"])
    return {
        "alone": await _fixed_costs(store, cfg.turn_repeats, ctx),
        "history_items": cfg.history,
        # Each turn stores its question, its answer and its receipt.
        "history_items_at_end": cfg.history + 3 * (cfg.turn_repeats + 1),
        "history_items_sent_to_model": DEFAULT_HISTORY_ITEMS,
        "last_item_is_answer": bool(newest) and newest[0].type == "assistant_message",
        "prefill_s": prefill_s,
        "history": history,
        "empty": empty_stats,
        "ratio_history_over_empty": history["to_model_call_median_ms"]
        / empty_stats["to_model_call_median_ms"],
        "history_minus_empty_ms": history["to_model_call_median_ms"]
        - empty_stats["to_model_call_median_ms"],
    }


async def _fixed_costs(store: NotebookStore, repeats: int, ctx: NotebookContext) -> dict[str, Any]:
    """Two fixed costs of every turn, timed alone: median ms of ``repeats`` each."""
    adapter_s: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        # What ChatKitServer.process does with every request before parsing it.
        TypeAdapter[ChatKitReq](ChatKitReq)
        adapter_s.append(time.perf_counter() - t0)
    thread = ThreadMetadata(id=store.generate_thread_id(ctx), created_at=datetime.now())
    await store.save_thread(thread, ctx)
    append_s: list[float] = []
    for i in range(repeats):
        item = AssistantMessageItem(
            id=f"msg_alone{i:04d}",
            thread_id=thread.id,
            created_at=datetime.now(),
            content=[AssistantMessageContent(text=_MESSAGE)],
        )
        t0 = time.perf_counter()
        await store.add_thread_item(thread.id, item, ctx)
        append_s.append(time.perf_counter() - t0)
    return {
        "request_adapter_build_ms": statistics.median(adapter_s) * 1000.0,
        "store_append_ms": statistics.median(append_s) * 1000.0,
    }


# -- report -----------------------------------------------------------------------------------


def _machine(tmp: Path) -> dict[str, Any]:
    """Describe the CPU, memory, Python, package versions, commit and the temp dir's filesystem."""
    info = machine(tmp, PACKAGES)
    del info["df_T"]
    commit = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    where = {key: info.pop(key) for key in ("tmp_dir", "filesystem", "device")}
    return {
        **info,
        "commit": commit.stdout.strip() if commit.returncode == 0 else "unknown",
        **where,
    }


def render(report: dict[str, Any]) -> str:
    """Format a result report as Markdown tables plus the machine and settings.

    Args:
        report: What ``run`` returns.

    Returns:
        Markdown text, also fit for a terminal.
    """
    cfg, m = report["config"], report["machine"]
    st, tu = report["streaming"], report["turns"]
    ok = "ok" if report["checks"]["stream_ratio"] else "MISSED"
    n = f"{cfg['deltas']:,}"
    stream_rows = []
    for path, label in PATHS.items():
        r = st[path]
        stream_rows.append(
            (
                label,
                f"{r['median_ms']:.1f}",
                f"{r['min_ms']:.1f}",
                f"{r['ratio_to_direct']:.2f}",
                f"{r['one_delta_median_ms']:.2f}",
                f"{r['us_per_delta']:.1f}",
            )
        )
    stream_rows.append(
        (
            "  of which the client's TypeAdapter parse",
            f"{st['server']['client_parse_median_ms']:.1f}",
            "",
            "",
            "",
            "",
        )
    )
    pc = st["paced"]
    stream_rows += [
        (
            "(b), paced: one event-loop turn per model event",
            f"{pc['direct_median_ms']:.1f}",
            "",
            "1.00",
            "",
            "",
        ),
        (
            "(a), paced: one event-loop turn per model event",
            f"{pc['server_median_ms']:.1f}",
            "",
            f"{pc['ratio_server_over_direct']:.2f}",
            "",
            "",
        ),
    ]
    h, e = tu["history"], tu["empty"]
    items = f"{tu['history_items']:,}"
    turn_rows = [
        (
            f"request -> model called: median ms of {cfg['turn_repeats']}",
            f"{h['to_model_call_median_ms']:.2f}",
            f"{e['to_model_call_median_ms']:.2f}",
            f"{tu['ratio_history_over_empty']:.2f}",
        ),
        (
            "request -> model called: min ms",
            f"{h['to_model_call_min_ms']:.2f}",
            f"{e['to_model_call_min_ms']:.2f}",
            "",
        ),
        (
            "request -> stream_response entered: median ms",
            f"{h['to_model_entry_median_ms']:.2f}",
            f"{e['to_model_entry_median_ms']:.2f}",
            "",
        ),
        (
            "request -> first SSE frame (user item stored): median ms",
            f"{h['to_first_frame_median_ms']:.2f}",
            f"{e['to_first_frame_median_ms']:.2f}",
            "",
        ),
        (
            "whole turn (20-delta answer): median ms",
            f"{h['turn_total_median_ms']:.2f}",
            f"{e['turn_total_median_ms']:.2f}",
            "",
        ),
    ]
    pk = m["packages"]
    lines = [
        machine_line(m),
        f"Packages: openai-agents {pk['openai-agents']}, openai-chatkit {pk['openai-chatkit']}, "
        f"openai {pk['openai']}, pydantic {pk['pydantic']}, pydantic-core "
        f"{pk['pydantic-core']}. Commit {m['commit']}.",
        f"Store: a temp dir ({m['tmp_dir']}), {m['filesystem']} on {m['device']}.",
        f"Run: {'--quick' if report['quick'] else 'full size'}; server tracing disabled: "
        f"{report['server_tracing_disabled']}.",
        "",
        f"Streaming one answer of {n} text deltas ({st['answer_chars']:,} characters):",
        "",
        markdown_table(
            (
                "path",
                f"{n} deltas: median ms of {cfg['stream_repeats']}",
                "min ms",
                "ratio to (b)",
                "1-delta answer: median ms",
                "each further delta: us",
            ),
            stream_rows,
        ),
        "",
        f"(a)/(b) = {st['ratio_server_over_direct']:.2f}, target <= "
        f"{TARGETS['stream_ratio_max']} ({ok}). The server adds {st['extra_fixed_ms']:.1f} ms "
        f"per answer and {st['extra_us_per_delta']:.1f} us per delta "
        f'({st["ratio_per_delta"]:.1f}x per delta); "each further delta" is the slope '
        "between the 1-delta and the full answer's medians.",
        "",
        f"Turn overhead, threads.add_user_message (model sees the newest "
        f"{tu['history_items_sent_to_model']} items):",
        "",
        markdown_table(("measure", f"{items}-item thread", "new thread", "ratio"), turn_rows),
        "",
        "Timed alone in the same run: chatkit's TypeAdapter(ChatKitReq), which "
        "ChatKitServer.process builds for every request, "
        f"{tu['alone']['request_adapter_build_ms']:.2f} ms; one NotebookStore.add_thread_item "
        f"(fsynced), {tu['alone']['store_append_ms']:.2f} ms.",
    ]
    profile = report.get("profile")
    if profile is not None:
        lines += [
            "",
            f"cProfile of one {n}-delta run of each path: (a) {profile['server_profiled_ms']:.0f} "
            f"ms, (b) {profile['direct_profiled_ms']:.0f} ms under the profiler. Event-loop "
            f"iterations (a) {profile['server_loop_iterations']:,} vs (b) "
            f"{profile['direct_loop_iterations']:,}; tasks created (a) "
            f"{profile['server_tasks_created']:,} vs (b) {profile['direct_tasks_created']:,}.",
            "",
            "(a) by cumulative time, event-loop plumbing left out:",
            "",
            _profile_table(profile["server_by_cumulative"]),
            "",
            "(a) by own time:",
            "",
            _profile_table(profile["server_by_tottime"]),
            "",
            "(b) by cumulative time, event-loop plumbing left out:",
            "",
            _profile_table(profile["direct_by_cumulative"]),
        ]
    return "\n".join(lines)


def _profile_table(rows: list[dict[str, Any]]) -> str:
    return markdown_table(
        ("function", "ncalls", "tottime s", "cumtime s"),
        [
            (r["function"], str(r["ncalls"]), f"{r['tottime_s']:.3f}", f"{r['cumtime_s']:.3f}")
            for r in rows
        ],
    )


def run(
    cfg: Config, tmp_parent: Path | None, *, quick: bool, force_profile: bool = False
) -> dict[str, Any]:
    """Run the benchmark in a temp dir under ``tmp_parent`` (default: the repo's parent).

    Args:
        cfg: The sizes to use.
        tmp_parent: Where to create the temp dir for the stores; ``None`` for the repo's
            parent folder, which is on the same disk as the repo.
        quick: Recorded in the report.
        force_profile: Profile the server path even if it meets its target.

    Returns:
        A JSON-able report: ``machine``, ``config``, ``streaming``, ``turns``, ``profile``
        (``None`` unless profiled), ``targets`` and ``checks``.
    """
    parent = REPO_ROOT.parent if tmp_parent is None else tmp_parent
    with tempfile.TemporaryDirectory(prefix="chatkit-server-bench-", dir=parent) as name:
        tmp = Path(name)
        machine_info = _machine(tmp)
        streaming, profile = asyncio.run(_streaming(cfg, tmp, force_profile=force_profile))
        turns = asyncio.run(_turns(cfg, tmp))
    return {
        "quick": quick,
        "machine": machine_info,
        "config": vars(cfg),
        "server_tracing_disabled": not current_config().tracing,
        "streaming": streaming,
        "turns": turns,
        "profile": profile,
        "targets": TARGETS,
        "checks": {
            "stream_ratio": streaming["ratio_server_over_direct"] <= TARGETS["stream_ratio_max"]
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the tables, and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    parser.add_argument(
        "--profile", action="store_true", help="profile the server path even if on target"
    )
    parser.add_argument(
        "--tmp-dir",
        type=Path,
        metavar="DIR",
        help="parent of the temp dir (default: the repo's parent folder, same disk as the repo)",
    )
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    report = run(cfg, args.tmp_dir, quick=args.quick, force_profile=args.profile)
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
