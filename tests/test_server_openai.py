"""NotebookChatServer against an OpenAI-compatible endpoint on 127.0.0.1.

The real ``openai`` client streams over real HTTP from ``fake_openai`` (tests/fake_openai.py),
as it would from Ollama, vLLM or a llama.cpp server: this is the Chat Completions path,
with the two work-arounds it needs (plain-text assistant history, unique message ids).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from chatkit.types import AssistantMessageItem, HiddenContextItem
from fake_openai import FakeOpenAI, Turn, unreachable_url
from scripted import ChatClient, answer_text, create_request, deltas

from chatkit_notebook import NotebookContext
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.config import configure
from chatkit_notebook.stores.file import NotebookStore


@pytest.fixture(autouse=True)
def _real_looking_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A real-looking OpenAI key in the environment must never reach another endpoint.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key-must-not-leak")


@pytest.fixture
def client(fake_openai: FakeOpenAI, store_path: Path) -> ChatClient:
    configure(model="test-model", base_url=fake_openai.base_url, max_retries=0)
    server = NotebookChatServer(NotebookStore(store_path))
    return ChatClient(server, NotebookContext(namespace={"prices": [3, 5, 8], "city": "Oslo"}))


async def test_two_turns_with_a_tool_call_over_chat_completions(
    client: ChatClient, fake_openai: FakeOpenAI, store_path: Path
) -> None:
    fake_openai.script(
        Turn.tool_call("describe_variable", {"name": "prices"}, chunks=3),
        Turn.text("The prices are 3, 5 and 8.", chunks=4),
        Turn.text("Their mean is 5.33.", chunks=2),
    )
    thread_id, first = await client.create("What is in `prices`?")
    second = await client.send(thread_id, "And their mean?")

    assert "".join(deltas(first)) == "The prices are 3, 5 and 8."
    assert answer_text(first) == ["The prices are 3, 5 and 8."]
    assert answer_text(second) == ["Their mean is 5.33."]

    requests = fake_openai.chat_requests
    assert [r.model for r in requests] == ["test-model"] * 3
    assert {t["function"]["name"] for t in requests[0].body["tools"]} >= {
        "list_variables",
        "describe_variable",
        "preview_rows",
    }
    assert all(
        r.authorization == "Bearer not-needed" for r in requests
    )  # the OpenAI key stayed home
    # Turn 2's history: assistant text as a plain string, and the tool result as context.
    history = requests[2].messages
    assistant = [m for m in history if m["role"] == "assistant"]
    assert assistant == [{"role": "assistant", "content": "The prices are 3, 5 and 8."}]
    assert any(m["role"] == "user" and "describe_variable" in str(m["content"]) for m in history)
    assert history[-1]["role"] == "user"

    stored = await NotebookStore(store_path).load_thread_items(
        thread_id, None, 100, "asc", NotebookContext()
    )
    answers = [i for i in stored.data if isinstance(i, AssistantMessageItem)]
    assert len(answers) == 2
    assert len({a.id for a in answers}) == 2
    assert "__fake_id__" not in {a.id for a in answers}
    assert any(isinstance(i, HiddenContextItem) and "prices" in str(i.content) for i in stored.data)


async def test_base_url_without_v1_works(fake_openai: FakeOpenAI, store_path: Path) -> None:
    configure(model="test-model", base_url=fake_openai.root_url, max_retries=0)
    fake_openai.script(Turn.text("hello", chunks=1))
    client = ChatClient(NotebookChatServer(NotebookStore(store_path)))
    _, events = await client.create("hi")
    assert answer_text(events) == ["hello"]
    assert fake_openai.chat_requests[0].path == "/v1/chat/completions"


@pytest.mark.parametrize(
    ("turn", "expected", "retry"),
    [
        (Turn.fail(401), "rejected the API key (401)", False),
        (Turn.fail(404), "has no model 'test-model'", False),
        (Turn.fail(429, retry_after=0), "rate limiting requests (429)", True),
        (Turn.fail(400), "too long for test-model", False),
        (Turn.fail(500), "failed with a server error (500)", True),
    ],
    ids=["bad-key", "no-model", "rate-limit", "context-too-long", "server-error"],
)
async def test_each_provider_error_has_its_message(
    client: ChatClient, fake_openai: FakeOpenAI, turn: Turn, expected: str, retry: bool
) -> None:
    fake_openai.script(turn)
    _, events = await client.create("hi")
    (error,) = [e for e in events if e.type == "error"]
    assert expected in (error.message or "")
    assert fake_openai.base_url in (error.message or "") or "test-model" in (error.message or "")
    assert error.allow_retry is retry
    assert answer_text(events) == []


async def test_unreachable_endpoint_says_where_and_what_to_check(store_path: Path) -> None:
    url = unreachable_url()
    configure(model="llama3.1", base_url=url, max_retries=0)
    client = ChatClient(NotebookChatServer(NotebookStore(store_path)))
    _, events = await client.create("hi")
    (error,) = [e for e in events if e.type == "error"]
    assert f"Could not reach {url}" in (error.message or "")
    assert "/v1" in (error.message or "")
    assert error.allow_retry


async def test_cancel_closes_the_connection_and_keeps_the_partial_answer(
    client: ChatClient, fake_openai: FakeOpenAI, store_path: Path
) -> None:
    fake_openai.script(Turn.text(["It ", "was ", "a ", "dark ", "night"]).hang(2))
    two_deltas = asyncio.Event()

    async def consume() -> None:
        seen = ""
        async for event in client.stream(create_request("Tell me a story")):
            if event.type == "thread.item.updated" and event.update.type.endswith("text_delta"):
                seen += event.update.delta  # waiting deltas may arrive merged
                if seen == "It was ":
                    two_deltas.set()

    turn = asyncio.create_task(consume())
    await asyncio.wait_for(two_deltas.wait(), timeout=30)
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    recorded = await fake_openai.await_disconnect(timeout=30)
    assert recorded.deltas_sent == 2  # the model stopped: nothing more was generated
    store = NotebookStore(store_path)
    (thread,) = (await store.load_threads(5, None, "desc", NotebookContext())).data
    items = (await store.load_thread_items(thread.id, None, 50, "asc", NotebookContext())).data
    partial = [i for i in items if isinstance(i, AssistantMessageItem)]
    assert [p.content[0].text for p in partial] == ["It was "]
