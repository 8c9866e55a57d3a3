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

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from agents.testing import ScriptedModel, assistant_message
from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from scripted import ChatClient
from test_magics import session, shell_fixture  # noqa: F401  (the `shell` fixture)
from test_serve import HANG, auth, start, stream

from chatkit_notebook import NotebookContext
from chatkit_notebook.agent.server import TITLE_LIMIT, NotebookChatServer
from chatkit_notebook.errors import RequestError
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
