"""The loopback fake behaves like the OpenAI API for the real ``openai`` and agents clients.

Every test talks real HTTP to :class:`FakeOpenAI` on 127.0.0.1, so what passes here is what
the package's own tests can rely on: separate SSE chunks, reassembled tool arguments, the
``openai`` exception class for each error status, and disconnects seen by the server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest
from agents import Agent, OpenAIChatCompletionsModel, RunConfig, Runner, function_tool
from fake_openai import (
    FakeOpenAI,
    Gate,
    ToolCall,
    Turn,
    fake_openai_fixture,  # noqa: F401 - the lead's conftest will import it for everyone
    unreachable_url,
)
from openai import AsyncOpenAI

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    """A real client on the fake, with retries off so each error surfaces once."""
    async with AsyncOpenAI(base_url=fake_openai.base_url, api_key="test", max_retries=0) as c:
        yield c


async def _stream(client: AsyncOpenAI, **kwargs: Any) -> list[Any]:
    stream = await client.chat.completions.create(
        model="test-model", messages=USER, stream=True, **kwargs
    )
    return [chunk async for chunk in stream]


def _content(chunks: list[Any]) -> list[str]:
    return [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]


async def test_text_streams_as_separate_chunks(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    fake_openai.script(Turn.text("Hello there, world", chunks=3))
    chunks = await _stream(client)
    assert _content(chunks) == ["Hello ", "there,", " world"]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].id.startswith("chatcmpl-")
    assert chunks[0].object == "chat.completion.chunk"
    assert chunks[0].model == "test-model"


async def test_gated_deltas_arrive_one_iteration_at_a_time(
    fake_openai: FakeOpenAI, client: AsyncOpenAI
):
    gate = Gate()
    fake_openai.script(Turn.text(["a", "b", "c"]).paced(gate))
    stream = await client.chat.completions.create(model="test-model", messages=USER, stream=True)
    await anext(stream)  # the role chunk goes out before the first delta
    for expected in "abc":
        gate.allow()
        chunk = await asyncio.wait_for(anext(stream), timeout=5)
        assert chunk.choices[0].delta.content == expected
    assert [c.choices[0].finish_reason async for c in stream] == ["stop"]


async def test_tool_call_arguments_reassemble(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    args = {"city": "Paris", "units": "metric"}
    fake_openai.script(Turn.tool_call("get_weather", args, call_id="call_1", chunks=4))
    chunks = await _stream(client)
    pieces = [
        tc for c in chunks if c.choices and c.choices[0].delta.tool_calls
        for tc in c.choices[0].delta.tool_calls
    ]  # fmt: skip
    assert pieces[0].id == "call_1"
    assert pieces[0].function.name == "get_weather"
    arg_deltas = [tc.function.arguments for tc in pieces[1:]]
    assert len(arg_deltas) == 4
    assert json.loads("".join(arg_deltas)) == args
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_several_tool_calls_not_streamed(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    calls = [ToolCall("a", {"x": 1}), ToolCall("b", '{"y": 2}', call_id="call_b")]
    fake_openai.script(Turn.tool_calls(*calls, text="Let me look."))
    reply = await client.chat.completions.create(model="test-model", messages=USER)
    message = reply.choices[0].message
    assert message.content == "Let me look."
    assert [(t.function.name, json.loads(t.function.arguments)) for t in message.tool_calls] == [
        ("a", {"x": 1}),
        ("b", {"y": 2}),
    ]
    assert message.tool_calls[1].id == "call_b"
    assert reply.choices[0].finish_reason == "tool_calls"
    assert reply.usage is not None


async def test_usage_chunk_comes_last_when_asked(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    fake_openai.script(Turn.text("ok", usage=usage))
    chunks = await _stream(client, stream_options={"include_usage": True})
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == 7


@pytest.mark.parametrize(
    ("turn", "error", "code"),
    [
        (Turn.fail(401), openai.AuthenticationError, "invalid_api_key"),
        (Turn.fail(404), openai.NotFoundError, "model_not_found"),
        (Turn.fail(429), openai.RateLimitError, "rate_limit_exceeded"),
        (Turn.fail(400), openai.BadRequestError, "context_length_exceeded"),
        (Turn.fail(500), openai.InternalServerError, None),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
async def test_error_status_raises_matching_exception(
    fake_openai: FakeOpenAI,
    client: AsyncOpenAI,
    turn: Turn,
    error: type[openai.APIStatusError],
    code: str | None,
    stream: bool,
):
    fake_openai.script(turn)
    with pytest.raises(error) as info:
        await client.chat.completions.create(model="test-model", messages=USER, stream=stream)
    assert info.value.code == code
    assert info.value.status_code == turn.status
    assert isinstance(info.value.body, dict)
    assert set(info.value.body) == {"message", "type", "code", "param"}
    if turn.status == 429:
        assert info.value.response.headers["retry-after"] == "1"
    assert len(fake_openai.chat_requests) == 1  # max_retries=0: no retry


async def test_default_client_retries_429_after_retry_after(fake_openai: FakeOpenAI):
    fake_openai.script(Turn.fail(429, headers={"retry-after-ms": "10"}), Turn.text("ok"))
    async with AsyncOpenAI(base_url=fake_openai.base_url, api_key="test", max_retries=1) as c:
        reply = await c.chat.completions.create(model="test-model", messages=USER)
    assert reply.choices[0].message.content == "ok"
    assert len(fake_openai.chat_requests) == 2


async def test_unreachable_url_raises_connection_error():
    async with AsyncOpenAI(base_url=unreachable_url(), api_key="test", max_retries=0) as c:
        with pytest.raises(openai.APIConnectionError):
            await c.models.list()


async def test_error_event_mid_stream_raises_api_error(
    fake_openai: FakeOpenAI, client: AsyncOpenAI
):
    fake_openai.script(Turn.stream_error("partial", message="model crashed"))
    stream = await client.chat.completions.create(model="test-model", messages=USER, stream=True)
    first, second = [c.choices[0].delta.content async for c in _take(stream, 2)]
    assert (first, second) == ("", "partial")
    with pytest.raises(openai.APIError, match="model crashed"):
        await anext(stream)


async def test_models_responses_and_missing_v1(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    models = await client.models.list()
    assert [m.id for m in models.data] == ["test-model"]
    with pytest.raises(openai.NotFoundError):
        await client.responses.create(model="test-model", input="hi")
    async with AsyncOpenAI(base_url=fake_openai.root_url, api_key="k", max_retries=0) as bare:
        with pytest.raises(openai.NotFoundError):
            await bare.chat.completions.create(model="test-model", messages=USER)
    assert [r.path for r in fake_openai.requests] == [
        "/v1/models",
        "/v1/responses",
        "/chat/completions",
    ]
    assert fake_openai.remaining == 0


async def test_requests_are_recorded(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    fake_openai.script(Turn.text("ok"), Turn.text("ok"))
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    history = [*USER, {"role": "assistant", "content": "earlier"}, *USER]
    await _stream(client, tools=[tool], tool_choice="auto")
    await client.chat.completions.create(model="other", messages=history)
    first, second = fake_openai.chat_requests
    assert first.method == "POST"
    assert first.authorization == "Bearer test"
    assert first.model == "test-model"
    assert first.body["stream"] is True
    assert first.body["tools"] == [tool]
    assert first.body["tool_choice"] == "auto"
    assert second.messages[1] == {"role": "assistant", "content": "earlier"}
    assert first.outcome == "completed"


async def test_request_past_the_script_is_a_500_and_recorded():
    with FakeOpenAI() as server:
        async with AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=2) as c:
            with pytest.raises(openai.InternalServerError, match="no scripted turn left"):
                await c.chat.completions.create(model="m", messages=USER)
        assert server.unscripted == server.chat_requests  # x-should-retry: false, one request
        assert len(server.unscripted) == 1


async def test_client_closing_mid_answer_is_recorded(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    turn = Turn.text(["one ", "two ", "three"]).hang(2)
    fake_openai.script(turn)
    stream = await client.chat.completions.create(model="test-model", messages=USER, stream=True)
    got = [c.choices[0].delta.content async for c in _take(stream, 3)]
    assert got == ["", "one ", "two "]
    await stream.close()
    request = await fake_openai.await_disconnect()
    assert request.disconnected
    assert request.deltas_sent == 2


async def test_released_hang_finishes_the_answer(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    turn = Turn.text(["one ", "two"]).hang(1)
    fake_openai.script(turn)
    stream = await client.chat.completions.create(model="test-model", messages=USER, stream=True)
    assert [c.choices[0].delta.content async for c in _take(stream, 2)] == ["", "one "]
    turn.release()
    assert _content([c async for c in stream]) == ["two"]
    assert fake_openai.chat_requests[0].finished.wait(5)
    assert fake_openai.chat_requests[0].outcome == "completed"


async def test_unreleased_hang_times_out():
    with FakeOpenAI(hang_timeout=0.1) as server:
        server.script(Turn.text("abc").hang())
        async with AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as c:
            stream = await c.chat.completions.create(model="m", messages=USER, stream=True)
            with pytest.raises(openai.APIConnectionError):  # the response ends mid-stream
                _ = [chunk async for chunk in stream]
    assert server.chat_requests[0].outcome == "timeout"


async def test_close_ends_a_hanging_turn():
    with FakeOpenAI() as server:
        server.script(Turn.text("abc").hang())
        async with AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as c:
            stream = await c.chat.completions.create(model="m", messages=USER, stream=True)
            server.close()  # joins the handler, so the outcome is final
            assert server.chat_requests[0].outcome == "closed"
            with pytest.raises(openai.APIConnectionError):
                _ = [chunk async for chunk in stream]


def test_client_on_another_threads_event_loop(fake_openai: FakeOpenAI):
    fake_openai.script(Turn.text("from a thread", chunks=2))

    async def ask() -> list[str]:
        async with AsyncOpenAI(base_url=fake_openai.base_url, api_key="t", max_retries=0) as c:
            return _content(await _stream(c))

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, ask()).result(timeout=10) == ["from a", " thread"]


@function_tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


def _agent(client: AsyncOpenAI) -> Agent[None]:
    model = OpenAIChatCompletionsModel(model="test-model", openai_client=client)
    return Agent(name="nb", instructions="Be brief.", model=model, tools=[add])


async def test_agents_tool_call_then_streamed_answer(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    fake_openai.script(
        Turn.tool_call("add", {"a": 1, "b": 2}, call_id="call_add"),
        Turn.text(["The sum", " is", " 3."]),
    )
    result = Runner.run_streamed(
        _agent(client), "What is 1 + 2?", run_config=RunConfig(tracing_disabled=True)
    )
    deltas = [
        event.data.delta
        async for event in result.stream_events()
        if event.type == "raw_response_event" and event.data.type == "response.output_text.delta"
    ]
    assert deltas == ["The sum", " is", " 3."]
    assert result.final_output == "The sum is 3."
    first, second = fake_openai.chat_requests
    assert first.body["tools"][0]["function"]["name"] == "add"
    assert first.body["stream"] is True
    assert first.messages[0] == {"role": "system", "content": "Be brief."}
    assert "stream_options" not in first.body  # agents only asks api.openai.com for usage
    assert second.messages[-2]["tool_calls"][0]["id"] == "call_add"
    assert second.messages[-1] == {"role": "tool", "tool_call_id": "call_add", "content": "3"}


async def test_agents_cancel_closes_the_model_stream(fake_openai: FakeOpenAI, client: AsyncOpenAI):
    fake_openai.script(Turn.text(["a", "b", "c", "d"]).hang(2))
    result = Runner.run_streamed(_agent(client), "hi", run_config=RunConfig(tracing_disabled=True))
    seen = 0
    async for event in result.stream_events():
        if event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
            seen += 1
            if seen == 2:
                result.cancel()
    request = await fake_openai.await_disconnect()
    assert request.deltas_sent == 2


async def _take(stream: Any, n: int) -> AsyncIterator[Any]:
    for _ in range(n):
        yield await asyncio.wait_for(anext(stream), timeout=5)


async def test_a_fallback_answers_from_the_request_once_the_script_is_empty() -> None:
    def echo(request: Any) -> Turn:
        return Turn.text([f"you said {request.messages[-1]['content']}"])

    with FakeOpenAI(fallback=echo) as server:
        server.script(Turn.text(["scripted"]))
        async with AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as c:
            first = await _stream(c)
            second = await _stream(c)
    assert _content(first) == ["scripted"]
    assert _content(second) == ["you said hi"]
    assert server.unscripted == []
