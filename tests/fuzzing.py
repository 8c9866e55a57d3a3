"""The protocol fuzzer's parts: ChatKit requests drawn from chatkit's own schema, byte-level
mutations of valid ones, a world of real ids to aim them at, and the properties each answer
and the store afterwards must keep (tests/test_protocol_fuzz*.py use them).

Requests come from ``TypeAdapter(ChatKitReq).json_schema()`` through hypothesis-jsonschema,
one strategy per request type (its ``type`` fixed, since the schema lets a defaulted ``type``
be left out and chatkit routes on it), with ids swapped for ones that exist in the store most
of the time, so requests reach the code past "not found". Mutations start from valid
requests that name real ids, and flip, insert or delete bytes, truncate, duplicate keys, put
in huge numbers, deep nesting or values of the wrong type.

How much runs: a bounded number of examples in CI; ``pytest -m fuzz`` (``./dev test -m
fuzz``) selects the long run: conftest sets ``CHATKIT_FUZZ_LONG=1``, and each fuzz test then goes
on drawing for ``CHATKIT_FUZZ_MINUTES`` minutes (10 by default).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import time
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import hypothesis_jsonschema._from_schema as _jsonschema_internals
from agents.testing import ScriptedModel, assistant_message
from chatkit.server import StreamingResult
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    ChatKitReq,
    ClientToolCallItem,
    Page,
    StructuredInputFreeform,
    StructuredInputItem,
    WidgetItem,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as _conjecture
from hypothesis_jsonschema import from_schema
from pydantic import TypeAdapter, ValidationError
from scripted import ChatClient

from chatkit_notebook import NotebookContext
from chatkit_notebook._items import TITLE_LIMIT, approval_card, new_item
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.errors import ChatkitNotebookError, RequestError, ServerFailure


def long_run() -> bool:
    """Whether this is the long run: conftest sets ``CHATKIT_FUZZ_LONG`` for ``-m fuzz``."""
    return os.environ.get("CHATKIT_FUZZ_LONG") == "1"


LIMIT = 30.0
"""How long one request may take, answer streamed to its end, before it counts as a hang."""

FAILED = "the chat server failed"


def minutes() -> float:
    """How long each fuzz test draws in the long run."""
    return float(os.environ.get("CHATKIT_FUZZ_MINUTES", "10"))


def fuzz_settings(ci_examples: int) -> settings:
    """``ci_examples`` examples a round, in CI; a bigger round, repeated, in the long run.

    The store is built once per test and grows with every example (that is the point: later
    requests meet what earlier ones left), so the function-scoped fixture check is off.
    """
    return settings(
        max_examples=ci_examples * 3 if long_run() else ci_examples,  # rounds: see rounds()
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
        print_blob=True,
    )


def rounds() -> Iterator[int]:
    """Round numbers: one in CI; in the long run, rounds until :func:`minutes` have passed
    (checked between rounds, so a run ends up to one round late: keep rounds short)."""
    end = time.monotonic() + minutes() * 60
    done = 0
    while done == 0 or (long_run() and time.monotonic() < end):
        yield done
        done += 1


# -- hypothesis-jsonschema on today's Hypothesis ----------------------------------------------


class _Many:
    """hypothesis-jsonschema 0.23.1 draws an object's keys with ``cu.many(...).more()``, an API
    Hypothesis has since replaced by ``with many(...) as elements: for _ in elements``; every
    object schema then fails with "'many' object has no attribute 'more'". This is the old
    API over the new one, given to hypothesis-jsonschema only."""

    def __init__(self, data: Any, **sizes: Any) -> None:
        self._many = _conjecture.many(data, **sizes)
        self._many.__enter__()
        self._steps = iter(self._many)
        self._done = False

    def more(self) -> bool:
        if self._done:
            return False
        try:
            next(self._steps)
        except StopIteration:
            self._done = True
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


if not hasattr(_conjecture.many, "more"):
    _jsonschema_internals.cu = types.SimpleNamespace(many=_Many)  # type: ignore[attr-defined]


# -- the world the requests are aimed at ------------------------------------------------------


@dataclass
class World:
    """A server over a real store, and the real ids fuzzed requests should name."""

    server: NotebookChatServer
    model: ScriptedModel
    threads: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)  # user messages: retry_after_item's ids
    cards: list[str] = field(default_factory=list)  # widget items: actions' senders
    tool_thread: str = ""  # its last item is a pending client tool call
    input_thread: str = ""  # holds a pending structured input item
    input_item: str = ""

    def top_up(self) -> None:
        """Enough model steps for the next request's turns (each takes one)."""
        if self.model.remaining_steps < 8:
            self.model.extend([[assistant_message("Fine.")] for _ in range(32)])

    def __repr__(self) -> str:  # hypothesis prints it with every failing example
        return f"World({len(self.threads)} threads, {len(self.items)} items)"

    def ids(self) -> list[str]:
        return self.threads + self.items

    def saw(self, request: bytes, answer: Answer) -> None:
        """Forget a thread the request deleted, so ids keep reaching live threads."""
        if answer.status != 200:
            return
        payload = _parsed(request)
        if isinstance(payload, dict) and payload.get("type") == "threads.delete":
            gone = payload["params"]["thread_id"]
            self.threads = [thread for thread in self.threads if thread != gone]

    async def keep_seeded(self) -> None:
        """Seed again once the fuzzer has deleted most of the seeded threads."""
        if len(self.threads) < 3:
            await seed(self)


def make_world(store: Store[NotebookContext]) -> World:
    model = ScriptedModel([])
    world = World(NotebookChatServer(store, model=model), model)
    world.top_up()
    return world


async def seed(world: World) -> None:
    """Two real threads made by real turns, plus the items a turn with a client tool or a
    structured question would leave (written to the store, as that world would)."""
    context = NotebookContext(namespace={})
    client = ChatClient(world.server, context)
    store = world.server.store
    for text in ("Hello", "What is in df?"):
        thread_id, events = await client.create(text)
        world.threads.append(thread_id)
        done = [e.item for e in events if e.type == "thread.item.done"]
        world.items += [item.id for item in done]
        world.users += [item.id for item in done if item.type == "user_message"]
    first = await store.load_thread(world.threads[0], context)
    card = approval_card("print(1)", "call_fuzz")
    card_item = new_item(WidgetItem, store, first, context, widget=card, copy_text="print(1)")
    await store.add_thread_item(first.id, card_item, context)
    world.cards.append(card_item.id)
    world.items.append(card_item.id)

    tool_thread = world.threads[1]
    tool_call = ClientToolCallItem(
        id=store.generate_item_id("tool_call", first, context),
        thread_id=tool_thread,
        created_at=datetime.now(),
        status="pending",
        call_id="call_client",
        name="read_clipboard",
        arguments={},
    )
    await store.add_thread_item(tool_thread, tool_call, context)
    world.tool_thread = tool_thread
    world.items.append(tool_call.id)

    thread_id, _ = await client.create("Ask me something")
    world.threads.append(thread_id)
    question = StructuredInputItem(
        id=store.generate_item_id("message", first, context),
        thread_id=thread_id,
        created_at=datetime.now(),
        status="pending",
        inputs=[StructuredInputFreeform(id="q1", question="Which column?")],
    )
    await store.add_thread_item(thread_id, question, context)
    world.input_thread, world.input_item = thread_id, question.id
    world.items.append(question.id)
    world.top_up()


# -- requests -----------------------------------------------------------------------------------

_ID_KEYS = {"thread_id", "item_id", "after", "attachment_id"}


# Ids are drawn as tokens ("@T3@": the seeded thread 3, modulo how many there are) and put in
# just before the request is sent (:func:`resolve`): what Hypothesis draws never depends on
# the store, which every example changes, so its examples replay and shrink.
_TOKEN = re.compile(rb"@([TIUC])(\d+)@|@([XSQ])@")


@st.composite
def aimed(draw: st.DrawFn, payload: Any) -> Any:
    """``payload`` with most ids it names swapped for tokens of real ones (of any kind: an
    item id where a thread id goes is a good question too)."""
    if isinstance(payload, dict):
        out: dict[str, Any] = {}
        for key, value in payload.items():
            if key in _ID_KEYS and draw(st.integers(0, 9)) < 8:
                kind = "T" if key == "thread_id" else "I"
                kind = draw(st.sampled_from([kind, kind, "T", "I", "U", "C"]))
                out[key] = f"@{kind}{draw(st.integers(0, 63))}@"
            elif key == "item_ids" and isinstance(value, list) and draw(st.booleans()):
                out[key] = [f"@I{n}@" for n in draw(st.lists(st.integers(0, 63), max_size=3))]
            else:
                out[key] = draw(aimed(value))
        return out
    if isinstance(payload, list):
        return [draw(aimed(value)) for value in payload]
    return payload


def resolve(request: bytes, world: World) -> bytes:
    """``request`` with its id tokens replaced by the world's real ids."""
    pools = {b"T": world.threads, b"I": world.items, b"U": world.users, b"C": world.cards}
    fixed = {b"X": world.tool_thread, b"S": world.input_thread, b"Q": world.input_item}

    def real(match: re.Match[bytes]) -> bytes:
        if match.group(3):
            return fixed[match.group(3)].encode()
        pool = pools[match.group(1)] or world.ids()
        return pool[int(match.group(2)) % len(pool)].encode()

    return _TOKEN.sub(real, request)


@functools.cache
def kinds() -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """One strategy per request type, from its part of chatkit's schema."""
    with warnings.catch_warnings():  # a default pydantic cannot write: not ours
        warnings.simplefilter("ignore")
        whole = TypeAdapter(ChatKitReq).json_schema()
    strategies = {}
    for variant in whole["oneOf"]:
        schema = {"$defs": whole["$defs"], **variant}
        definition = whole["$defs"][variant["$ref"].rsplit("/", 1)[1]]
        kind = definition["properties"]["type"]["const"]
        strategies[kind] = from_schema(schema).map(lambda p, kind=kind: {**p, "type": kind})
    return strategies


def templates() -> list[dict[str, Any]]:
    """A valid request of every type, naming real ids (as tokens): the mutations' start."""
    thread, user, card = "@T0@", "@U0@", "@C0@"
    text = {"content": [{"type": "input_text", "text": "Hi"}], "attachments": []}
    message = {**text, "inference_options": {}}
    return [
        {"type": "threads.create", "params": {"input": message}},
        {"type": "threads.add_user_message", "params": {"thread_id": thread, "input": message}},
        {
            "type": "threads.add_client_tool_output",
            "params": {"thread_id": "@X@", "result": {"text": "clip"}},
        },
        {
            "type": "threads.add_structured_input",
            "params": {
                "thread_id": "@S@",
                "item_id": "@Q@",
                "input": {"answers": {"q1": {"values": ["a"]}}},
            },
        },
        {"type": "threads.retry_after_item", "params": {"thread_id": thread, "item_id": user}},
        {
            "type": "threads.custom_action",
            "params": {
                "thread_id": thread,
                "item_id": card,
                "action": {"type": "chatkit_notebook.run_python", "payload": {}},
            },
        },
        {"type": "threads.get_by_id", "params": {"thread_id": thread}},
        {"type": "threads.list", "params": {"limit": 2, "order": "asc"}},
        {"type": "items.list", "params": {"thread_id": thread, "limit": 3, "after": user}},
        {
            "type": "items.feedback",
            "params": {"thread_id": thread, "item_ids": [user], "kind": "positive"},
        },
        {"type": "attachments.delete", "params": {"attachment_id": "atc_1"}},
        {"type": "threads.update", "params": {"thread_id": thread, "title": "Sales"}},
        {"type": "input.transcribe", "params": {"audio_base64": "AAAA", "mime_type": "audio/wav"}},
    ]


def schema_requests() -> st.SearchStrategy[bytes]:
    """Requests the schema admits (mostly; its strings are not pydantic's), aimed at ids
    (tokens: :func:`resolve` them)."""
    drawn = st.one_of(*kinds().values()).flatmap(aimed)
    return drawn.map(lambda p: json.dumps(p).encode())


# A valid request's bytes turned into a bad one: each takes the bytes and a draw.
_WRONG = ["null", "true", "-1", "1e999", '"x"', "[]", "{}", "[[[[[]]]]]", '"\\u0000"']


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid request (naming real ids, as tokens) with one to three byte- or JSON-level
    mutations."""
    body = json.dumps(draw(st.sampled_from(templates()))).encode()
    for _ in range(draw(st.integers(1, 3))):
        body = draw(st.sampled_from(_MUTATIONS))(body, draw)
    return body


def _flip(body: bytes, draw: st.DrawFn) -> bytes:
    at = draw(st.integers(0, max(0, len(body) - 1)))
    bit = 1 << draw(st.integers(0, 7))
    return body[:at] + bytes([body[at] ^ bit]) + body[at + 1 :] if body else body


def _insert(body: bytes, draw: st.DrawFn) -> bytes:
    at = draw(st.integers(0, len(body)))
    return body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]


def _delete(body: bytes, draw: st.DrawFn) -> bytes:
    at = draw(st.integers(0, max(0, len(body) - 1)))
    return body[:at] + body[at + draw(st.integers(1, 8)) :]


def _truncate(body: bytes, draw: st.DrawFn) -> bytes:
    return body[: draw(st.integers(0, len(body)))]


def _parsed(body: bytes) -> Any:
    """``body`` as JSON, or ``None`` when an earlier mutation left it unreadable."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError too
        return None


def _at_a_value(body: bytes, draw: st.DrawFn, replacement: str) -> bytes:
    """``body`` (JSON) with one value, anywhere in it, replaced by the JSON text
    ``replacement`` (which may be what ``json`` would never write: huge, deep)."""
    payload = _parsed(body)
    if payload is None:
        return body
    marker = "\x00HERE\x00"
    paths = list(_paths(payload))
    if not paths:
        return replacement.encode()
    path = draw(st.sampled_from(paths))
    parent = payload
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = marker
    return json.dumps(payload).replace(json.dumps(marker), replacement, 1).encode()


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


def _wrong_type(body: bytes, draw: st.DrawFn) -> bytes:
    return _at_a_value(body, draw, draw(st.sampled_from(_WRONG)))


def _huge_number(body: bytes, draw: st.DrawFn) -> bytes:
    number = draw(st.sampled_from(["9" * 400, "-" + "9" * 5000, "1e999", "-0", "1e-999"]))
    return _at_a_value(body, draw, number)


def _deep(body: bytes, draw: st.DrawFn) -> bytes:
    depth = draw(st.sampled_from([100, 1_000, 20_000]))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    return _at_a_value(body, draw, opener * depth + "1" + closer * depth)


def _duplicate_key(body: bytes, draw: st.DrawFn) -> bytes:
    """A key of ``params`` given twice, first with a wrong value: the last one counts in
    Python's json and in pydantic's parser, so this must behave as the valid request."""
    payload = _parsed(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("params"), dict):
        return body
    params = payload["params"]
    if not params:
        return body
    key = draw(st.sampled_from(sorted(params)))
    first = f"{json.dumps(key)}: {draw(st.sampled_from(_WRONG))}"
    marker = "\x00PARAMS\x00"
    payload["params"] = marker
    again = "{" + first + ", " + json.dumps(params)[1:]
    return json.dumps(payload).replace(json.dumps(marker), again, 1).encode()


def _strange_id(body: bytes, draw: st.DrawFn) -> bytes:
    """An id that is a path, has a NUL or a lone surrogate, is huge, or is SQL."""
    payload = _parsed(body)
    params = payload.get("params") if isinstance(payload, dict) else None
    keys = sorted(_ID_KEYS & set(params)) if isinstance(params, dict) else []
    if not keys:
        return body
    odd = ["", "../../etc/passwd", "thr\u0000x", "\ud800", "x" * 10_000, "%s%n", "' OR 1=1 --"]
    params[draw(st.sampled_from(keys))] = draw(st.sampled_from(odd))
    return json.dumps(payload).encode()


_MUTATIONS = [
    _flip,
    _insert,
    _delete,
    _truncate,
    _wrong_type,
    _huge_number,
    _deep,
    _duplicate_key,
    _strange_id,
]


# -- answering, and the properties ---------------------------------------------------------------


@dataclass
class Answer:
    """What a client was given: a status as ``%chatkit serve`` maps it, and the text."""

    status: int
    text: str

    def check(self, request: bytes) -> None:
        """The properties every answer keeps: no 5xx and nothing that says the server failed
        (a bug), nor chatkit's text-less stream error (a bug it caught for us)."""
        shown = request[:300]
        assert self.status < 500, f"{self.status} {self.text[:500]} for {shown!r}"
        assert FAILED not in self.text, f"{self.text[:500]} for {shown!r}"
        for frame in self.text.split("\n\n"):
            if frame.startswith("data: "):
                event = json.loads(frame[6:])
                assert not (event.get("type") == "error" and event.get("code") == "stream.error"), (
                    f"a bare stream error for {shown!r}"
                )


async def answer(server: NotebookChatServer, request: bytes) -> Answer:
    """``request`` through ``server.process`` (what the panel and the magics use), its
    stream read to the end, mapped to a status as ``%chatkit serve`` maps it."""
    try:
        result = await server.process(request, NotebookContext(namespace={}))
    except ValidationError as e:
        return Answer(422, str(e).splitlines()[0])
    except RequestError as e:
        return Answer(e.status, str(e))
    except NotFoundError as e:
        return Answer(404, str(e))
    except (ServerFailure, ChatkitNotebookError) as e:  # %chatkit serve: a 500
        return Answer(500, f"{FAILED}: {type(e).__name__}: {e}")
    if isinstance(result, StreamingResult):
        try:
            frames = [frame async for frame in result]
        except NotFoundError as e:  # before the first frame: a 404 over HTTP
            return Answer(404, str(e))
        except (ServerFailure, ChatkitNotebookError) as e:
            return Answer(500, f"{FAILED}: {type(e).__name__}: {e}")
        return Answer(200, b"".join(frames).decode())
    return Answer(200, result.json.decode())


async def answer_in_time(world: World, request: bytes) -> Answer:
    """:func:`answer` from the world's server to ``request`` with its id tokens resolved,
    failing as a hang past :data:`LIMIT` seconds; the world is reseeded first if needed."""
    await world.keep_seeded()
    world.top_up()
    request = resolve(request, world)
    try:
        answered = await asyncio.wait_for(answer(world.server, request), LIMIT)
    except asyncio.TimeoutError:
        raise AssertionError(f"no answer in {LIMIT:g} s (a hang) for {request[:300]!r}") from None
    world.saw(request, answered)
    return answered


async def check_store(store: Store[NotebookContext]) -> int:
    """The store contract's invariants (tests/store_contract.py), over whatever the fuzzer
    left: pages in ``desc`` are the exact reverse of ``asc``, with no id twice and ``after``
    the last id; every listed thread and item loads by id as listed; titles are bounded.
    Returns how many items it walked."""
    context = NotebookContext(namespace={})
    asc = await _walk(lambda after, order: store.load_threads(3, after, order, context))
    desc = await _walk(lambda after, order: store.load_threads(3, after, order, context), "desc")
    assert [t.id for t in desc] == [t.id for t in asc][::-1]
    walked = 0
    for thread in asc:
        loaded = await store.load_thread(thread.id, context)
        assert loaded == thread
        assert thread.title is None or len(thread.title) <= TITLE_LIMIT
        items = await _walk(
            lambda after, order, t=thread.id: store.load_thread_items(t, after, 4, order, context)
        )
        back = await _walk(
            lambda after, order, t=thread.id: store.load_thread_items(t, after, 4, order, context),
            "desc",
        )
        assert [i.id for i in back] == [i.id for i in items][::-1]
        for item in items:
            assert await store.load_item(thread.id, item.id, context) == item
        walked += len(items)
    return walked


async def _walk(page: Callable[[str | None, str], Any], order: str = "asc") -> list[Any]:
    seen: list[Any] = []
    after = None
    for _ in range(10_000):
        got: Page[Any] = await page(after, order)
        seen += got.data
        if not got.has_more:
            assert got.after is None
            ids = [row.id for row in seen]
            assert len(ids) == len(set(ids)), f"an id listed twice: {ids}"
            return seen
        assert got.data
        assert got.after == got.data[-1].id
        after = got.after
    raise AssertionError("paging never ended")


async def a_normal_turn_works(server: NotebookChatServer, world: World) -> None:
    """After the fuzzing: a new chat, and a message in a seeded thread, both answered."""
    world.top_up()
    client = ChatClient(server, NotebookContext(namespace={}))
    _, events = await asyncio.wait_for(client.create("Still there?"), LIMIT)
    assert any(e.type == "thread.item.done" and e.item.type == "assistant_message" for e in events)
    for thread_id in world.threads:
        try:
            events = await asyncio.wait_for(client.send(thread_id, "And now?"), LIMIT)
        except NotFoundError:
            continue  # the fuzzer deleted it (threads.delete is a request like any other)
        assert any(
            e.type == "thread.item.done" and e.item.type == "assistant_message" for e in events
        ), events
        return
