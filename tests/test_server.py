"""NotebookChatServer end to end with a scripted model: no network, real store, real agent.

Every request goes through ``server.process`` as the panel sends it; assertions look at the
streamed events, at what the store holds on disk, and at what the model was sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import openai
import pytest
from agents import Agent, GuardrailFunctionOutput, InputGuardrail, RunContextWrapper
from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call
from chatkit.types import (
    AssistantMessageItem,
    HiddenContextItem,
    SDKHiddenContextItem,
    ThreadItem,
    WorkflowItem,
)
from scripted import ChatClient, Gate, Pacer, answer_text, create_request, deltas, streamed_text
from stored import read_items

from chatkit_notebook import NotebookContext
from chatkit_notebook._items import read_tool_result
from chatkit_notebook.agent.receipt import is_receipt
from chatkit_notebook.agent.server import NotebookChatServer, title_for
from chatkit_notebook.stores.file import NotebookStore


@pytest.fixture
def store(store_path: Path) -> NotebookStore:
    return NotebookStore(store_path)


@pytest.fixture
def namespace() -> dict[str, object]:
    return {"sales": {"north": 120, "south": 80}, "region_count": 2}


def client_for(server: NotebookChatServer, namespace: dict[str, object]) -> ChatClient:
    return ChatClient(server, NotebookContext(namespace=namespace))


def kept_text(item: object) -> str:
    """A kept tool result as the model reads it ("Result of tool({...}):" and the result)."""
    kept = read_tool_result(item)
    assert kept is not None, item
    return kept.text()


def message_texts(model_input: object) -> list[tuple[str, str]]:
    """(role, text) of each message the model was sent."""
    found = []
    for item in model_input:  # type: ignore[attr-defined]
        if not isinstance(item, dict) or item.get("type", "message") != "message":
            continue
        content = item["content"]
        text = (
            content
            if isinstance(content, str)
            else "".join(part.get("text", "") for part in content)
        )
        found.append((item["role"], text))
    return found


async def test_tool_call_then_streamed_answer_is_streamed_and_stored(
    store: NotebookStore, store_path: Path, namespace: dict[str, object]
) -> None:
    chunks = ["North ", "sold ", "most: ", "120 ", "units."]
    model = ScriptedModel(
        [
            [function_call("describe_variable", {"name": "sales"}, call_id="call_1")],
            streamed_text(chunks),
        ]
    )
    client = client_for(NotebookChatServer(store, model=model), namespace)
    thread_id, events = await client.create("Which region sold most in `sales`?")

    assert "".join(deltas(events)) == "".join(chunks)
    assert answer_text(events) == ["North sold most: 120 units."]
    workflows = [
        e.item
        for e in events
        if e.type == "thread.item.done"
        and isinstance(e.item, WorkflowItem)
        and not is_receipt(e.item)
    ]
    assert len(workflows) == 1
    assert "sales" in workflows[0].workflow.tasks[0].title  # the user sees what was read
    assert "120" not in workflows[0].workflow.tasks[0].title  # ...but no values

    items = await read_items(store_path, thread_id)
    kinds = [type(i).__name__ for i in items]
    # The workflow started when the tool did; the tool's result was kept when it finished.
    assert kinds == [
        "UserMessageItem",
        "WorkflowItem",
        "HiddenContextItem",
        "AssistantMessageItem",
        "WorkflowItem",  # the turn's receipt
    ]
    hidden = items[2]
    assert isinstance(hidden, HiddenContextItem)
    assert "describe_variable" in kept_text(hidden)
    assert "north" in kept_text(hidden)  # the tool's result, kept for the next turn
    assert all(e.item.type != "hidden_context_item" for e in events if e.type == "thread.item.done")
    model.assert_complete()


async def test_second_turn_sends_the_first_turn_and_its_tool_result(
    store: NotebookStore, namespace: dict[str, object]
) -> None:
    model = ScriptedModel(
        [
            [function_call("describe_variable", {"name": "sales"}, call_id="call_1")],
            [assistant_message("North sold most.")],
            [assistant_message("South sold 80.")],
        ]
    )
    client = client_for(NotebookChatServer(store, model=model), namespace)
    thread_id, _ = await client.create("Which region sold most?")
    await client.send(thread_id, "And south?")

    sent = message_texts(model.calls[-1].input)
    assert sent[0] == ("user", "Which region sold most?")
    assert any(
        role == "user" and "describe_variable" in text and "south" in text for role, text in sent
    )
    # Assistant history goes as plain text, which every Chat Completions provider accepts.
    assistant = [
        item
        for item in model.calls[-1].input
        if isinstance(item, dict) and item.get("role") == "assistant"
    ]
    assert assistant == [{"type": "message", "role": "assistant", "content": "North sold most."}]
    assert sent[-1] == ("user", "And south?")


async def test_every_answer_gets_its_own_id(store: NotebookStore, store_path: Path) -> None:
    # The scripted model, like Chat Completions providers, reuses one id for every message.
    model = ScriptedModel(
        [[assistant_message("one", item_id="same")], [assistant_message("two", item_id="same")]]
    )
    client = client_for(NotebookChatServer(store, model=model), {})
    thread_id, first = await client.create("Hi")
    second = await client.send(thread_id, "Again")
    answers = [
        i for i in await read_items(store_path, thread_id) if isinstance(i, AssistantMessageItem)
    ]
    assert [a.content[0].text for a in answers] == ["one", "two"]
    assert len({a.id for a in answers}) == 2
    assert "same" not in {a.id for a in answers}
    for events in (first, second):
        ids = {
            e.item.id
            for e in events
            if e.type in ("thread.item.added", "thread.item.done")
            and e.item.type == "assistant_message"
        }
        ids |= {e.item_id for e in events if e.type == "thread.item.updated"}
        assert len(ids) == 1  # added, updates and done agree on the new id


async def test_inference_options_choose_the_model_and_tool(store: NotebookStore) -> None:
    default = ScriptedModel([])
    picked = ScriptedModel([[assistant_message("from the picked model")]])
    server = NotebookChatServer(store, model=default, models={"picked": picked})
    client = client_for(server, {"df": [1, 2, 3]})
    _, events = await client.create("Use the other model", model="picked", tool="list_variables")
    assert answer_text(events) == ["from the picked model"]
    assert default.calls == ()
    assert picked.calls[0].model_settings.tool_choice == "list_variables"


async def test_cancel_stops_the_model_and_keeps_the_partial_answer(
    store: NotebookStore, store_path: Path
) -> None:
    gate = Gate(after=3)
    model = ScriptedModel(
        [streamed_text(["Once ", "upon ", "a ", "time ", "there ", "was"], gate=gate)]
    )
    client = client_for(NotebookChatServer(store, model=model), {})
    three_deltas = asyncio.Event()

    async def consume() -> None:
        seen = ""
        async for event in client.stream(create_request("Tell me a story")):
            if event.type == "thread.item.updated" and event.update.type.endswith("text_delta"):
                seen += event.update.delta  # waiting deltas may arrive merged
                if seen == "Once upon a ":
                    three_deltas.set()

    turn = asyncio.create_task(consume())
    await asyncio.wait_for(three_deltas.wait(), timeout=30)  # the user has seen 3 deltas
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    await asyncio.wait_for(gate.cancelled.wait(), timeout=30)  # the model itself was stopped
    assert gate.sent == 3  # and produced nothing after the cancel

    threads = await NotebookStore(store_path).load_threads(10, None, "desc", NotebookContext())
    items = await read_items(store_path, threads.data[0].id)
    partial = [i for i in items if isinstance(i, AssistantMessageItem)]
    assert [p.content[0].text for p in partial] == ["Once upon a "]
    assert any(isinstance(i, SDKHiddenContextItem) and "cancelled" in i.content for i in items)


async def test_new_threads_are_titled_from_the_first_message(
    store: NotebookStore, store_path: Path
) -> None:
    model = ScriptedModel([[assistant_message("a")], [assistant_message("b")]])
    client = client_for(NotebookChatServer(store, model=model), {})
    thread_id, events = await client.create("  What is the\nmean of `df.price`?  ")
    assert [e.thread.title for e in events if e.type == "thread.updated"][
        -1
    ] == "What is the mean of `df.price`?"
    await client.send(thread_id, "Something else entirely")
    thread = await NotebookStore(store_path).load_thread(thread_id, NotebookContext())
    assert thread.title == "What is the mean of `df.price`?"
    assert len(model.calls) == 2  # titling cost no extra model call


def test_long_titles_are_cut_at_a_word() -> None:
    from chatkit.types import InferenceOptions, UserMessageItem, UserMessageTextContent

    text = "Please compare the quarterly revenue figures across all regions and explain outliers"
    item = UserMessageItem(
        id="m",
        thread_id="t",
        created_at="2026-01-01T00:00:00",
        content=[UserMessageTextContent(text=text)],
        inference_options=InferenceOptions(),
    )
    title = title_for(item)
    assert len(title) <= 60
    assert title.endswith("…")
    assert text.startswith(title[:-1])
    assert title[-2] != " "


async def test_history_is_bounded_oldest_first(store: NotebookStore) -> None:
    model = ScriptedModel([[assistant_message(f"answer {n}")] for n in range(4)])
    client = client_for(NotebookChatServer(store, model=model, history_items=3), {})
    thread_id, _ = await client.create("q0")
    for n in range(1, 4):
        await client.send(thread_id, f"q{n}")
    # Stored: q0 a0 q1 a1 q2 a2 q3; the model sees the newest 3, oldest first.
    assert message_texts(model.calls[-1].input) == [
        ("user", "q2"),
        ("assistant", "answer 2"),
        ("user", "q3"),
    ]


def http_error(
    cls: type[openai.APIStatusError], status: int, code: str, message: str
) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/responses")
    body = {"error": {"message": message, "type": code, "code": code, "param": None}}
    response = httpx.Response(status, request=request, json=body)
    return cls(message, response=response, body=body["error"])


@pytest.mark.parametrize(
    ("error", "expected", "retry"),
    [
        (
            http_error(openai.AuthenticationError, 401, "invalid_api_key", "bad key"),
            "rejected the API key (401)",
            False,
        ),
        (
            http_error(openai.NotFoundError, 404, "model_not_found", "no such model"),
            "has no model",
            False,
        ),
        (
            http_error(openai.RateLimitError, 429, "rate_limit_exceeded", "slow down"),
            "rate limiting requests (429)",
            True,
        ),
        (
            http_error(openai.RateLimitError, 429, "insufficient_quota", "pay"),
            "no quota left",
            False,
        ),
        (
            http_error(openai.BadRequestError, 400, "context_length_exceeded", "too long"),
            "too long for ScriptedModel's context window",
            False,
        ),
        (
            openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1")),
            "Could not reach",
            True,
        ),
    ],
    ids=["bad-key", "no-model", "rate-limit", "quota", "context", "unreachable"],
)
async def test_provider_failures_become_actionable_messages(
    store: NotebookStore, error: Exception, expected: str, retry: bool
) -> None:
    model = ScriptedModel([ModelStep.raise_error(error)])
    client = client_for(NotebookChatServer(store, model=model), {})
    _, events = await client.create("hello")
    errors = [e for e in events if e.type == "error"]
    assert len(errors) == 1
    assert errors[0].code == "custom"
    assert expected in (errors[0].message or "")
    assert errors[0].allow_retry is retry


async def test_missing_api_key_is_reported_in_the_chat(store: NotebookStore) -> None:
    client = client_for(NotebookChatServer(store), {})
    thread_id, events = await client.create("hello")
    (error,) = [e for e in events if e.type == "error"]
    assert "No OpenAI API key: set OPENAI_API_KEY" in (error.message or "")
    # The question is kept: the user can fix the key and retry.
    assert [
        type(i).__name__
        for i in (await store.load_thread_items(thread_id, None, 9, "asc", NotebookContext())).data
    ] == ["UserMessageItem"]


async def test_tripped_guardrail_is_named(store: NotebookStore) -> None:
    async def no_passwords(
        ctx: RunContextWrapper[object], agent: Agent[object], text: object
    ) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(
            output_info=None, tripwire_triggered="password" in json.dumps(text, default=str)
        )

    agent: Agent[object] = Agent(
        name="guarded",
        input_guardrails=[InputGuardrail(guardrail_function=no_passwords, name="no_passwords")],
    )
    model = ScriptedModel([[assistant_message("never sent")]])
    client = client_for(NotebookChatServer(store, model=model, agent=agent), {})  # type: ignore[arg-type]
    _, events = await client.create("what is my password?")
    (error,) = [e for e in events if e.type == "error"]
    assert "guardrail 'no_passwords'" in (error.message or "")
    assert answer_text(events) == []


async def test_server_needs_no_kernel(store: NotebookStore) -> None:
    # Plain Python: no IPython, a NotebookContext built by hand.
    model = ScriptedModel(
        [[function_call("list_variables", {}, call_id="c1")], [assistant_message("You have x.")]]
    )
    client = ChatClient(NotebookChatServer(store, model=model), NotebookContext(namespace={"x": 1}))
    _, events = await client.create("What do I have?")
    assert answer_text(events) == ["You have x."]
    tool_output = [
        i
        for i in model.calls[1].input
        if isinstance(i, dict) and i.get("type") == "function_call_output"
    ]
    assert '"x"' in str(tool_output[0]["output"])


async def test_results_of_a_custom_agents_tools_are_kept_redacted(
    store: NotebookStore, store_path: Path
) -> None:
    from agents import function_tool

    @function_tool
    def lookup_config(section: str) -> str:
        """Return a config section."""
        return f"[{section}] url=postgres://admin:hunter2@db.internal/sales rows=12"

    agent: Agent[object] = Agent(name="custom", tools=[lookup_config])
    model = ScriptedModel(
        [
            [function_call("lookup_config", {"section": "db"}, call_id="c1")],
            [assistant_message("Configured.")],
            [assistant_message("Still 12 rows.")],
        ]
    )
    client = client_for(NotebookChatServer(store, model=model, agent=agent), {})  # type: ignore[arg-type]
    thread_id, _ = await client.create("What is configured?")
    await client.send(thread_id, "How many rows?")
    (hidden,) = [
        i for i in await read_items(store_path, thread_id) if isinstance(i, HiddenContextItem)
    ]
    assert "lookup_config" in kept_text(hidden)
    assert "rows=12" in kept_text(hidden)  # the next turn still knows what the tool said
    assert "hunter2" not in kept_text(hidden)
    assert "hunter2" not in store_path.read_text()
    assert any("rows=12" in text for _, text in message_texts(model.calls[-1].input))


async def test_secrets_never_reach_the_model_or_the_store(
    store: NotebookStore, store_path: Path
) -> None:
    secrets = {
        "openai": "sk-proj-" + "Ab3De5Gh7Jk9Mn2Pq4St6Vw8Yz" * 2,
        "aws": "AKIAIOSFODNN7" + "EXAMPLQ",
        "github": "ghp_" + "x9Y8z7W6v5U4t3S2r1Q0p9O8n7M6l5K4j3I2",
    }
    namespace = {
        "notes": f"deploy with {secrets['openai']} tomorrow",
        "servers": {"prod": {"key": secrets["aws"], "region": "eu-north-1"}},
        "api_token": "plain-looking-but-named-secret",
        "log": [f"cloned with {secrets['github']}", "ok"],
    }
    model = ScriptedModel(
        [
            [function_call("list_variables", {}, call_id="c1")],
            [function_call("describe_variable", {"name": "notes"}, call_id="c2")],
            [function_call("describe_variable", {"name": "servers"}, call_id="c3")],
            [function_call("preview_rows", {"name": "log"}, call_id="c4")],
            [function_call("describe_variable", {"name": "api_token"}, call_id="c5")],
            [assistant_message("Done looking.")],
            [assistant_message("Nothing else.")],
        ]
    )
    client = client_for(NotebookChatServer(store, model=model), namespace)
    thread_id, _ = await client.create("Show me everything")
    await client.send(thread_id, "Anything else?")
    sent_to_model = json.dumps([call.input for call in model.calls], default=str)
    on_disk = store_path.read_text()
    for secret in [*secrets.values(), "plain-looking-but-named-secret"]:
        assert secret not in sent_to_model
        assert secret not in on_disk
    assert "eu-north-1" in sent_to_model  # the data around them still arrives
    assert "[REDACTED" in on_disk


def test_tracing_is_off_and_never_carries_data(store: NotebookStore) -> None:
    from chatkit_notebook.config import configure

    server = NotebookChatServer(store, model=ScriptedModel([]))
    run_config = server.plan(None).run_config
    assert run_config.tracing_disabled is True
    assert run_config.trace_include_sensitive_data is False
    configure(tracing=True)
    run_config = server.plan(None).run_config
    assert run_config.tracing_disabled is False
    assert run_config.trace_include_sensitive_data is False  # on, but without notebook data


@pytest.mark.usefixtures("sigint_raises")
def test_a_turn_run_from_sync_code_is_cancelled_by_the_kernel_interrupt(store_path: Path) -> None:
    """What `%chat QUESTION` does: the runtime's sync bridge, interrupted mid-answer."""
    import _thread

    from scripted import create_request

    from chatkit_notebook._client import decode_event
    from chatkit_notebook.runtime import Runtime

    runtime = Runtime(name="interrupt-test")
    gate_holder: dict[str, Gate] = {}

    async def make_gate() -> None:
        gate_holder["gate"] = Gate(after=2)  # asyncio primitives made on the runtime's loop

    runtime.run(make_gate())
    gate = gate_holder["gate"]
    model = ScriptedModel([streamed_text(["Alpha ", "beta ", "gamma ", "delta"], gate=gate)])
    server = NotebookChatServer(NotebookStore(store_path), model=model)

    async def stream() -> AsyncIterator[bytes]:
        result = await server.process(
            create_request("Spell it").model_dump_json(), NotebookContext()
        )
        async for chunk in result:  # type: ignore[union-attr]
            yield chunk

    seen = ""
    try:
        with pytest.raises(KeyboardInterrupt):  # noqa: PT012 (the loop is the call under test)
            for chunk in runtime.iterate(stream):
                event = decode_event(chunk)
                if event.type == "thread.item.updated" and event.update.type.endswith("text_delta"):
                    seen += event.update.delta
                    if seen == "Alpha beta ":
                        _thread.interrupt_main()  # the kernel's interrupt button
        runtime.run(asyncio.wait_for(gate.cancelled.wait(), timeout=30))
    finally:
        runtime.stop()
    assert gate.sent == 2  # the model stopped
    items = asyncio.run(_all_items(store_path))
    assert [i.content[0].text for i in items if isinstance(i, AssistantMessageItem)] == [
        "Alpha beta "
    ]


async def _all_items(store_path: Path) -> list[ThreadItem]:
    store = NotebookStore(store_path)
    (thread,) = (await store.load_threads(5, None, "desc", NotebookContext())).data
    return (await store.load_thread_items(thread.id, None, 50, "asc", NotebookContext())).data


async def test_each_delta_streams_on_its_own_when_the_reader_keeps_up(store: NotebookStore) -> None:
    chunks = ["Rows ", "with ", "nulls: ", "3"]
    pacer = Pacer()
    model = ScriptedModel([streamed_text(chunks, pacer=pacer)])
    client = client_for(NotebookChatServer(store, model=model), {})
    seen: list[str] = []
    pacer.allow()
    async for event in client.stream(create_request("Count the nulls")):
        if event.type == "thread.item.updated" and event.update.type.endswith("text_delta"):
            seen.append(event.update.delta)
            pacer.allow()  # the model makes its next delta only after this one arrived
    assert seen == chunks


async def test_deltas_waiting_behind_a_slow_reader_are_merged(
    store: NotebookStore, store_path: Path
) -> None:
    chunks = [f"{n} " for n in range(500)]
    model = ScriptedModel([streamed_text(chunks)])  # produces everything at once
    client = client_for(NotebookChatServer(store, model=model), {})
    thread_id, events = await client.create("Count to 500")
    assert "".join(deltas(events)) == "".join(chunks)
    assert len(deltas(events)) < 50  # far fewer events than deltas
    (answer,) = [
        i for i in await read_items(store_path, thread_id) if isinstance(i, AssistantMessageItem)
    ]
    assert answer.content[0].text == "".join(chunks)


async def test_a_bad_base_url_in_the_environment_is_reported_not_crashed(
    store: NotebookStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:11434")
    client = client_for(NotebookChatServer(store), {})
    _, events = await client.create("hello")
    (error,) = [e for e in events if e.type == "error"]
    assert error.code == "custom"
    assert "'localhost:11434' is not an http(s) URL" in (error.message or "")


async def test_a_given_model_object_ignores_a_bad_environment(
    store: NotebookStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:11434")
    model = ScriptedModel([[assistant_message("fine")]])
    _, events = await client_for(NotebookChatServer(store, model=model), {}).create("hello")
    assert answer_text(events) == ["fine"]
