"""Requests the ChatKit schema admits but the server cannot do as asked (issue 23).

Each case is sent twice: through ``server.process`` in the kernel (what the panel and the
magics use), and over real HTTP to ``%chatkit serve``'s app. Both must give the same
answer: a 2xx, or a 4xx whose one-line reason names the bad field and what is allowed —
never "the chat server failed".

Decisions recorded here:
- ``attachments.create``: 400, the store does not take attachments (neither the file
  store nor the PostgreSQL one implements ChatKit's upload; both keep metadata only);
  ``attachments.delete`` stays an idempotent 200.
- ``threads.update`` with a title over 200 characters: stored cut to 200, ending in "…".
- ``items.feedback`` for an unknown thread or item: 404 naming it.
- ``threads.delete`` of an unknown thread: 200 ``{}`` (deleting is idempotent: a retry
  after a lost answer succeeds).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from agents.testing import ScriptedModel, assistant_message
from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from fuzzing import check_store
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from scripted import ChatClient, Gate, answer_text, streamed_text
from test_magics import session, shell_fixture  # noqa: F401  (the `shell` fixture)
from test_panel import html_of, type_and_send
from test_serve import HANG, answer_of, auth, start, stream

from chatkit_notebook import NotebookContext
from chatkit_notebook._items import bound_title
from chatkit_notebook.agent.server import TITLE_LIMIT, NotebookChatServer
from chatkit_notebook.errors import RequestError, ServerFailure
from chatkit_notebook.panel.panel import ChatPanel
from chatkit_notebook.panel.threadbar import thread_label
from chatkit_notebook.panel.transcript import transcript_bundle
from chatkit_notebook.runtime import Runtime
from chatkit_notebook.stores.file import NotebookStore

LONG_TITLE = "x" * 900_000


@dataclass(frozen=True)
class Case:
    name: str
    request: Callable[[str, str, str], dict[str, Any]]  # (thread, user item, answer item)
    status: int
    says: tuple[str, ...]  # what the one-line answer must contain


CASES = [
    Case(
        "negative items.list limit",
        lambda t, u, a: {"type": "items.list", "params": {"thread_id": t, "limit": -5}},
        422,
        ("params.limit", "-5", "0 or more"),
    ),
    Case(
        "negative threads.list limit",
        lambda t, u, a: {"type": "threads.list", "params": {"limit": -1}},
        422,
        ("params.limit", "-1", "0 or more"),
    ),
    Case(
        "client tool output with no pending call",
        lambda t, u, a: {
            "type": "threads.add_client_tool_output",
            "params": {"thread_id": t, "result": {"ok": True}},
        },
        409,
        ("params.thread_id", "THREAD", "no client tool call"),
    ),
    Case(
        "attachments.create on the file store",
        lambda t, u, a: {
            "type": "attachments.create",
            "params": {"name": "a.txt", "size": 3, "mime_type": "text/plain"},
        },
        400,
        ("attachments.create", "does not take attachments"),
    ),
    Case(  # metadata only: deleting is idempotent, as before
        "attachments.delete on the file store",
        lambda t, u, a: {"type": "attachments.delete", "params": {"attachment_id": "atc_1"}},
        200,
        ("{}",),
    ),
    Case(
        "retry after an unknown item",
        lambda t, u, a: {
            "type": "threads.retry_after_item",
            "params": {"thread_id": t, "item_id": "msg_nope"},
        },
        404,
        ("msg_nope",),
    ),
    Case(
        "retry after an answer, not a user message",
        lambda t, u, a: {
            "type": "threads.retry_after_item",
            "params": {"thread_id": t, "item_id": a},
        },
        422,
        ("params.item_id", "assistant_message", "user message"),
    ),
    Case(
        "feedback on an unknown item",
        lambda t, u, a: {
            "type": "items.feedback",
            "params": {"thread_id": t, "item_ids": [a, "msg_nope"], "kind": "positive"},
        },
        404,
        ("msg_nope",),
    ),
    Case(
        "feedback in an unknown thread",
        lambda t, u, a: {
            "type": "items.feedback",
            "params": {"thread_id": "thr_nope", "item_ids": [a], "kind": "negative"},
        },
        404,
        ("thr_nope",),
    ),
    Case(
        "deleting an unknown thread",
        lambda t, u, a: {"type": "threads.delete", "params": {"thread_id": "thr_nope"}},
        200,
        ("{}",),
    ),
    # Found by the fuzzer (test_protocol_fuzz_pg.py): PostgreSQL cannot keep a NUL in text,
    # and its store failed with a 500; both stores now refuse one up front.
    Case(
        "a NUL in a thread id",
        lambda t, u, a: {
            "type": "threads.add_user_message",
            "params": {"thread_id": "thr\u0000x", "input": _create("Hi")["params"]["input"]},
        },
        422,
        ("params.thread_id", "NUL character", "remove it"),
    ),
    Case(
        "a NUL in a message's text",
        lambda t, u, a: {
            "type": "threads.add_user_message",
            "params": {"thread_id": t, "input": _create("Hi\u0000there")["params"]["input"]},
        },
        422,
        ("params.input.content[0].text", "NUL character"),
    ),
    # chatkit's defaults for what this server does not do raise NotImplementedError (a 500).
    Case(
        "transcribing audio",
        lambda t, u, a: {
            "type": "input.transcribe",
            "params": {"audio_base64": "AAAA", "mime_type": "audio/wav"},
        },
        400,
        ("input.transcribe", "does not transcribe audio"),
    ),
    Case(
        "a synchronous action",
        lambda t, u, a: {
            "type": "threads.sync_custom_action",
            "params": {"thread_id": t, "action": {"type": "x"}},
        },
        400,
        ("threads.sync_custom_action", "no synchronous actions"),
    ),
    Case(  # chatkit raised ValueError: a 500
        "structured input for a user message",
        lambda t, u, a: {
            "type": "threads.add_structured_input",
            "params": {"thread_id": t, "item_id": u, "input": {"answers": {}}},
        },
        422,
        ("params.item_id", "user_message", "structured_input"),
    ),
]
IDS = [case.name for case in CASES]


def expected(case: Case, thread_id: str) -> list[str]:
    return [thread_id if part == "THREAD" else part for part in case.says]


async def answered_in_kernel(
    server: NotebookChatServer, payload: dict[str, Any], context: NotebookContext
) -> tuple[int, str]:
    """(status, body or reason) as ``%chatkit serve`` would map what ``process`` did."""
    try:
        result = await server.process(json.dumps(payload), context)
    except RequestError as e:
        return e.status, str(e)
    except NotFoundError as e:
        return 404, str(e)
    if isinstance(result, StreamingResult):
        return 200, b"".join([frame async for frame in result]).decode()
    return 200, result.json.decode()


@pytest.fixture
def store(store_path: Path) -> NotebookStore:
    return NotebookStore(store_path)


async def a_thread(server: NotebookChatServer) -> tuple[ChatClient, str, str, str]:
    client = ChatClient(server, NotebookContext(namespace={}))
    thread_id, events = await client.create("Hello")
    done = [e.item for e in events if e.type == "thread.item.done"]
    user = next(i.id for i in done if i.type == "user_message")
    answer = next(i.id for i in done if i.type == "assistant_message")
    return client, thread_id, user, answer


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_in_the_kernel(case: Case, store: NotebookStore) -> None:
    server = NotebookChatServer(store, model=ScriptedModel([[assistant_message("Hi.")]]))
    _, thread_id, user, answer = await a_thread(server)
    status, said = await answered_in_kernel(
        server, case.request(thread_id, user, answer), NotebookContext(namespace={})
    )
    assert status == case.status, said
    assert "\n" not in said.strip()
    for part in expected(case, thread_id):
        assert part in said


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_over_http(case: Case, shell: InteractiveShell) -> None:
    session().server().model = ScriptedModel([[assistant_message("Hi.")]])
    serving, _ = start(shell)
    events = stream(serving, json.dumps(_create("Hello")).encode())
    thread_id = events[0].thread.id  # type: ignore[union-attr]
    done = [e.item for e in events if e.type == "thread.item.done"]  # type: ignore[union-attr]
    user = next(i.id for i in done if i.type == "user_message")
    answer = next(i.id for i in done if i.type == "assistant_message")
    body = json.dumps(case.request(thread_id, user, answer)).encode()
    reply = httpx.post(serving.url, content=body, headers=auth(serving), timeout=HANG)
    assert reply.status_code == case.status, reply.text
    said = reply.text if reply.status_code < 300 else reply.json()["detail"]
    assert "the chat server failed" not in said
    for part in expected(case, thread_id):
        assert part in said


def _create(text: str) -> dict[str, Any]:
    return {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": text}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }


async def test_a_huge_title_is_stored_cut_in_the_kernel(store: NotebookStore) -> None:
    server = NotebookChatServer(store, model=ScriptedModel([[assistant_message("Hi.")]]))
    _, thread_id, _, _ = await a_thread(server)
    update = {"type": "threads.update", "params": {"thread_id": thread_id, "title": LONG_TITLE}}
    status, said = await answered_in_kernel(server, update, NotebookContext(namespace={}))
    assert status == 200, said
    title = json.loads(said)["title"]
    assert len(title) == TITLE_LIMIT
    assert title.endswith("…")
    stored = await store.load_thread(thread_id, NotebookContext(namespace={}))
    assert stored.title == title


def test_a_huge_title_is_stored_cut_over_http(shell: InteractiveShell) -> None:
    session().server().model = ScriptedModel([[assistant_message("Hi.")]])
    serving, _ = start(shell)
    events = stream(serving, json.dumps(_create("Hello")).encode())
    thread_id = events[0].thread.id  # type: ignore[union-attr]
    update = {"type": "threads.update", "params": {"thread_id": thread_id, "title": LONG_TITLE}}
    reply = httpx.post(
        serving.url, content=json.dumps(update).encode(), headers=auth(serving), timeout=HANG
    )
    assert reply.status_code == 200, reply.text
    title = reply.json()["title"]
    assert len(title) == TITLE_LIMIT
    assert title.endswith("…")
    listed = httpx.post(
        serving.url,
        content=json.dumps({"type": "threads.list", "params": {}}).encode(),
        headers=auth(serving),
        timeout=HANG,
    ).json()["data"]
    assert [t["title"] for t in listed if t["id"] == thread_id] == [title]
    with capture_output() as out:
        shell.run_line_magic("chatkit", "threads")
    assert LONG_TITLE[:TITLE_LIMIT] not in out.stdout


# -- titles: bounded wherever one is saved or shown ---------------------------------------------


async def test_the_title_the_server_makes_is_bounded(store: NotebookStore) -> None:
    server = NotebookChatServer(store, model=ScriptedModel([[assistant_message("Hi.")]]))
    client = ChatClient(server, NotebookContext(namespace={}))
    thread_id, _ = await client.create("y" * 900_000)  # one word: nowhere to cut at a space
    title = (await store.load_thread(thread_id, NotebookContext())).title
    assert title is not None
    assert 0 < len(title) <= 60
    assert title.endswith("…")


def _old_store(path: Path, title: str) -> None:
    """A store file as a release before the bound wrote it: one thread, titled ``title``."""
    header = {
        "format": "chatkit_notebook.store",
        "schema_version": [1, 0],
        "generation": "0" * 32,
        "written_by": "chatkit-notebook 0.1.0",
    }
    data = {
        "title": title,
        "id": "thr_old",
        "created_at": "2026-01-05T10:00:00",
        "status": {"type": "active"},
        "allowed_image_domains": None,
        "metadata": {},
    }
    record = {"op": "thread", "id": "thr_old", "data": data}
    path.write_text(json.dumps(header) + "\n" + json.dumps(record) + "\n")


def test_a_title_stored_long_is_shown_bounded_and_saved_bounded(
    shell: InteractiveShell, tmp_path: Path, runtime: Runtime
) -> None:
    store_path = tmp_path / "nb.chatkit.json"  # the shell fixture's store
    _old_store(store_path, LONG_TITLE)
    stored = runtime.run(NotebookStore(store_path).load_thread("thr_old", NotebookContext()))
    assert stored.title == bound_title(LONG_TITLE)  # read cut, so every client sees it cut
    assert LONG_TITLE in store_path.read_text()  # nothing rewritten behind the user's back

    with capture_output() as out:
        shell.run_line_magic("chatkit", "threads")
    shown = "".join(o.data.get("text/markdown", "") for o in out.outputs)
    assert "x" * (TITLE_LIMIT - 1) + "…" in shown
    assert "x" * TITLE_LIMIT not in shown
    with capture_output() as out:
        shell.run_line_magic("chatkit", "use thr_old")
    assert len(out.stdout) < TITLE_LIMIT + 30

    # Shown cut also where a title comes from another store (the panel and the transcripts
    # take any ChatKit server's threads).
    whole = stored.model_copy(update={"title": LONG_TITLE})
    assert thread_label(whole).startswith("x" * (TITLE_LIMIT - 1) + "… · ")
    bundle = transcript_bundle([], title=LONG_TITLE, what="chat panel")
    assert "x" * TITLE_LIMIT not in bundle["text/markdown"] + bundle["text/plain"]

    runtime.run(NotebookStore(store_path).save_thread(whole, NotebookContext()))
    records = [json.loads(line) for line in store_path.read_text().splitlines()[1:]]
    last = [r["data"]["title"] for r in records if r.get("op") == "thread"][-1]
    assert last == bound_title(LONG_TITLE)  # saved cut, whoever saves it (the journal's
    # older line goes when the file is next compacted)
    again = runtime.run(NotebookStore(store_path).load_thread("thr_old", NotebookContext()))
    assert again.title == bound_title(LONG_TITLE)
    assert len(again.title) == TITLE_LIMIT


def test_the_panels_thread_list_shows_a_long_title_bounded(
    store_path: Path, runtime: Runtime
) -> None:
    _old_store(store_path, LONG_TITLE)
    server = NotebookChatServer(NotebookStore(store_path), model=ScriptedModel([]))
    panel = ChatPanel(server, NotebookContext(namespace={}), runtime=runtime, status="scripted")
    panel.wait()
    labels = [label for label, value in panel._bar.threads.options if value == "thr_old"]
    assert len(labels) == 1
    assert labels[0].startswith("x" * (TITLE_LIMIT - 1) + "… · ")
    assert len(labels[0]) < TITLE_LIMIT + 20


# -- a failure that is a bug: "the chat server failed", with a request id in the log --------------


class BrokenStore(NotebookStore):
    """The file store, but for the methods named in ``broken``, which raise as a bug would.

    A test double for the world the server runs in (a store with a bug), not for the server.
    """

    broken: frozenset[str] = frozenset()

    def _fail(self, name: str) -> None:
        if name in self.broken:
            raise KeyError(f"{name} is broken in this test")

    async def load_threads(self, *args: Any, **kwargs: Any) -> Any:
        self._fail("load_threads")
        return await super().load_threads(*args, **kwargs)

    async def load_thread(self, *args: Any, **kwargs: Any) -> Any:
        self._fail("load_thread")
        return await super().load_thread(*args, **kwargs)

    async def load_thread_items(self, *args: Any, **kwargs: Any) -> Any:
        self._fail("load_thread_items")
        return await super().load_thread_items(*args, **kwargs)


def _logged_failure(caplog: pytest.LogCaptureFixture, request_id: str) -> logging.LogRecord:
    """The one log record about ``request_id``: it must carry the traceback."""
    records = [r for r in caplog.records if request_id in r.getMessage()]
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert records[0].exc_info is not None
    assert records[0].levelno == logging.ERROR
    return records[0]


def _request_id(said: str) -> str:
    match = re.search(r"request id (req_[0-9a-f]{12})", said)
    assert match is not None, said
    return match.group(1)


async def test_a_bug_is_reported_with_a_request_id_in_the_kernel(
    store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="chatkit_notebook")
    store = BrokenStore(store_path)
    server = NotebookChatServer(store, model=ScriptedModel([[assistant_message("Hi.")]] * 2))
    _, thread_id, _, _ = await a_thread(server)
    context = NotebookContext(namespace={})

    store.broken = frozenset({"load_threads"})  # a plain request
    with pytest.raises(ServerFailure) as failed:
        await server.process(json.dumps({"type": "threads.list", "params": {}}), context)
    said = str(failed.value)
    assert said.startswith("the chat server failed (request id ")
    assert "KeyError" in said
    assert "\n" not in said
    assert _request_id(said) == failed.value.request_id
    _logged_failure(caplog, failed.value.request_id)

    store.broken = frozenset({"load_thread_items"})  # inside a turn, once it streams
    _, events = await answered_in_kernel(
        server,
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": _create("Again")["params"]["input"]},
        },
        context,
    )
    errors = [json.loads(f[6:]) for f in events.split("\n\n") if '"type":"error"' in f]
    assert len(errors) == 1, events
    assert errors[0]["message"].startswith("the chat server failed (request id ")
    _logged_failure(caplog, _request_id(errors[0]["message"]))


def test_a_bug_is_reported_with_a_request_id_over_http(
    shell: InteractiveShell, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="chatkit_notebook")
    server = session().server()
    server.model = ScriptedModel([[assistant_message("Hi.")]])
    broken = BrokenStore(tmp_path / "nb.chatkit.json")
    server.store = broken
    serving, _ = start(shell)
    events = stream(serving, json.dumps(_create("Hello")).encode())
    thread_id = events[0].thread.id  # type: ignore[union-attr]

    broken.broken = frozenset({"load_threads", "load_thread"})
    for request in (
        {"type": "threads.list", "params": {}},  # answered as JSON
        {
            "type": "threads.add_user_message",
            "params": {  # fails before it streams
                "thread_id": thread_id,
                "input": _create("Again")["params"]["input"],
            },
        },
    ):
        reply = httpx.post(
            serving.url, content=json.dumps(request).encode(), headers=auth(serving), timeout=HANG
        )
        assert reply.status_code == 500, reply.text
        said = reply.json()["detail"]
        assert said.startswith("the chat server failed (request id ")
        assert reply.headers["x-request-id"] == _request_id(said)
        _logged_failure(caplog, _request_id(said))


# -- requests while a turn streams on the same thread --------------------------------------------


@dataclass(frozen=True)
class Meanwhile:
    name: str
    request: Callable[[dict[str, str]], dict[str, Any]]  # from the ids: thread, user, ...
    status: int
    says: tuple[str, ...] = ()


_INPUT = {
    "content": [{"type": "input_text", "text": "Me too"}],
    "attachments": [],
    "inference_options": {},
}

MEANWHILE = [
    Meanwhile(
        "retry after the streaming thread's message",
        lambda ids: {
            "type": "threads.retry_after_item",
            "params": {"thread_id": ids["thread"], "item_id": ids["user"]},
        },
        409,
        ("is answering another request",),
    ),
    Meanwhile(
        "another message to the streaming thread",
        lambda ids: {
            "type": "threads.add_user_message",
            "params": {"thread_id": ids["thread"], "input": _INPUT},
        },
        409,
        ("is answering another request",),
    ),
    Meanwhile(
        "client tool output to the streaming thread",
        lambda ids: {
            "type": "threads.add_client_tool_output",
            "params": {"thread_id": ids["thread"], "result": {}},
        },
        409,
        ("params.thread_id",),
    ),
    Meanwhile(
        "an action from an item that does not exist",
        lambda ids: {
            "type": "threads.custom_action",
            "params": {"thread_id": ids["thread"], "item_id": "msg_nope", "action": {"type": "x"}},
        },
        404,
        ("msg_nope",),
    ),
    Meanwhile(
        "an action from another thread's item",
        lambda ids: {
            "type": "threads.custom_action",
            "params": {
                "thread_id": ids["thread"],
                "item_id": ids["foreign"],
                "action": {"type": "x"},
            },
        },
        404,
        ("not found",),
    ),
    Meanwhile(
        "an action from an answer, not a widget",
        lambda ids: {
            "type": "threads.custom_action",
            "params": {
                "thread_id": ids["thread"],
                "item_id": ids["answer"],
                "action": {"type": "x"},
            },
        },
        422,
        ("params.item_id", "widget"),
    ),
    Meanwhile(
        "a synchronous action",
        lambda ids: {
            "type": "threads.sync_custom_action",
            "params": {"thread_id": ids["thread"], "item_id": None, "action": {"type": "x"}},
        },
        400,
        ("no synchronous actions",),
    ),
    Meanwhile(
        "items after an id not in the thread",
        lambda ids: {
            "type": "items.list",
            "params": {"thread_id": ids["thread"], "after": ids["foreign"]},
        },
        404,
        (),
    ),
    Meanwhile(
        "items, newest first",
        lambda ids: {
            "type": "items.list",
            "params": {"thread_id": ids["thread"], "order": "desc", "limit": 1},
        },
        200,
        ('"data"',),
    ),
    Meanwhile(
        "an unknown thread",
        lambda ids: {"type": "threads.get_by_id", "params": {"thread_id": "thr_nope"}},
        404,
        ("thr_nope",),
    ),
    Meanwhile(
        "the streaming thread itself",
        lambda ids: {"type": "threads.get_by_id", "params": {"thread_id": ids["thread"]}},
        200,
        ('"items"',),
    ),
    Meanwhile(
        "a message to another thread",
        lambda ids: {
            "type": "threads.add_user_message",
            "params": {"thread_id": ids["other"], "input": _INPUT},
        },
        200,
        ("assistant_message",),
    ),
]


async def test_requests_while_a_turn_streams_on_the_thread(store: NotebookStore) -> None:
    gate = Gate(after=2)
    model = ScriptedModel(
        [
            [assistant_message("Hi.")],
            [assistant_message("Other.")],
            streamed_text(["Slow ", "and ", "steady ", "answer."], gate=gate),
        ]
        + [[assistant_message("Fine.")]] * 4
    )
    server = NotebookChatServer(store, model=model)
    client, thread_id, user, answer = await a_thread(server)
    other, other_events = await client.create("Another thread")
    foreign = next(e.item.id for e in other_events if e.type == "thread.item.done")
    ids = {"thread": thread_id, "user": user, "answer": answer, "other": other, "foreign": foreign}
    turn = asyncio.create_task(client.send(thread_id, "Tell me slowly"))
    await asyncio.wait_for(gate.reached.wait(), HANG)

    for case in MEANWHILE:
        status, said = await asyncio.wait_for(
            answered_in_kernel(server, case.request(ids), NotebookContext(namespace={})), HANG
        )
        assert status == case.status, (case.name, said)
        assert "the chat server failed" not in said
        for part in case.says:
            assert part in said, (case.name, said)

    gate.release.set()
    events = await asyncio.wait_for(turn, HANG)
    assert answer_text(events) == ["Slow and steady answer."]
    assert await check_store(store) > 0
    reopened = NotebookStore(store.path)
    items = await reopened.load_thread_items(thread_id, None, 100, "asc", NotebookContext())
    kinds = [i.type for i in items.data if i.type in ("user_message", "assistant_message")]
    assert kinds == ["user_message", "assistant_message"] * 2  # nothing lost, nothing doubled
    again = await asyncio.wait_for(client.send(thread_id, "And now?"), HANG)
    assert answer_text(again) == ["Fine."]


def test_the_panel_shows_a_refused_requests_line(store_path: Path, runtime: Runtime) -> None:
    """Two panels on one thread: while one streams an answer, the other's message is refused
    (409), and that panel shows the server's one line, its question kept in the box."""
    holder: dict[str, Gate] = {}

    async def make_gate() -> None:
        holder["gate"] = Gate(after=2)  # asyncio primitives made on the runtime's loop

    runtime.run(make_gate())
    gate = holder["gate"]
    model = ScriptedModel(
        [[assistant_message("Hi.")], streamed_text(["Slow ", "and ", "steady."], gate=gate)]
    )
    server = NotebookChatServer(NotebookStore(store_path), model=model)
    one = ChatPanel(server, NotebookContext(namespace={}), runtime=runtime, status="scripted")
    two = ChatPanel(server, NotebookContext(namespace={}), runtime=runtime, status="scripted")
    type_and_send(one, "Hello")
    assert one.thread_id is not None
    two.open_thread(one.thread_id).result(timeout=HANG)

    one._input.value = "Tell me slowly"
    one._send_button.click()
    runtime.run(asyncio.wait_for(gate.reached.wait(), HANG))
    type_and_send(two, "Me too")
    notice = two._notice.value
    assert "is answering another request now" in notice, notice
    assert "the chat server failed" not in notice
    assert not two.busy

    gate.release.set()
    one.wait()
    assert "Slow and steady." in html_of(one)


def test_a_second_turn_on_a_streaming_thread_is_a_409_over_http(shell: InteractiveShell) -> None:
    chat = session()
    holder: dict[str, Gate] = {}

    async def make_gate() -> None:
        holder["gate"] = Gate(after=2)  # asyncio primitives made on the session's loop

    chat.runtime.run(make_gate())
    gate = holder["gate"]
    chat.server().model = ScriptedModel(
        [[assistant_message("Hi.")], streamed_text(["Slow ", "and ", "steady."], gate=gate)]
    )
    serving, _ = start(shell)
    events = stream(serving, json.dumps(_create("Hello")).encode())
    thread_id = events[0].thread.id  # type: ignore[union-attr]
    send = {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": _create("More")["params"]["input"]},
    }
    first: list[str] = []
    streaming = threading.Thread(
        target=lambda: first.append(answer_of(stream(serving, json.dumps(send).encode())))
    )
    streaming.start()
    chat.runtime.run(asyncio.wait_for(gate.reached.wait(), HANG))

    reply = httpx.post(
        serving.url, content=json.dumps(send).encode(), headers=auth(serving), timeout=HANG
    )
    assert reply.status_code == 409, reply.text
    assert "is answering another request now" in reply.json()["detail"]
    assert thread_id in reply.json()["detail"]

    chat.runtime.run(_release(gate))
    streaming.join(HANG)
    assert first == ["Slow and steady."]


async def _release(gate: Gate) -> None:
    gate.release.set()
