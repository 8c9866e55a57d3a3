"""Helpers for driving NotebookChatServer with ``agents.testing.ScriptedModel``.

``streamed_text`` makes a model step that streams an answer in many deltas (ScriptedModel's
plain steps stream one delta per part); ``slowed`` spaces its deltas out in time, like a
real model, for the browser tests' notebooks. ``Gate`` lets a test pause the model mid-answer and
see whether it was cancelled. ``ChatClient`` is the package's own ChatKit client (the one the
panel and ``%chat`` use) with shorthands for tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from agents.testing import ModelStep
from chatkit.types import (
    InferenceOptions,
    StreamingReq,
    ThreadAddUserMessageParams,
    ThreadCreateParams,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadStreamEvent,
    ToolChoice,
    UserMessageInput,
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

from chatkit_notebook._client import ChatKitClient

# How long a paused model waits for the test to let it go on: a hang detector, not pacing.
# A test that never releases it then fails with a TimeoutError instead of hanging.
PAUSE_TIMEOUT = 30.0


@dataclass
class Gate:
    """Pauses a streamed answer after ``after`` deltas until released, and records what happened."""

    after: int
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Pacer:
    """Lets a streamed answer produce one delta per :meth:`allow`, like a slow network."""

    permits: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(0))

    def allow(self) -> None:
        self.permits.release()


def streamed_text(
    chunks: list[str],
    *,
    item_id: str = "msg_model",
    gate: Gate | None = None,
    pacer: Pacer | None = None,
) -> ModelStep:
    """A model step that streams ``chunks`` as separate ``output_text.delta`` events."""
    full = "".join(chunks)
    final = ResponseOutputMessage(
        id=item_id,
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text=full, annotations=[], logprobs=[])],
    )
    response = Response(
        id="resp_scripted",
        created_at=0,
        model="scripted",
        object="response",
        output=[final],
        tool_choice="auto",
        tools=[],
        parallel_tool_calls=False,
        status="completed",
    )

    async def events(call: Any) -> AsyncIterator[Any]:
        number = iter(range(1_000_000))
        started = response.model_copy(update={"output": [], "status": "in_progress"})
        yield ResponseCreatedEvent(
            type="response.created", response=started, sequence_number=next(number)
        )
        yield ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            output_index=0,
            item=final.model_copy(update={"content": [], "status": "in_progress"}),
            sequence_number=next(number),
        )
        yield ResponseContentPartAddedEvent(
            type="response.content_part.added",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=ResponseOutputText(type="output_text", text="", annotations=[], logprobs=[]),
            sequence_number=next(number),
        )
        try:
            for index, chunk in enumerate(chunks):
                if gate is not None and index == gate.after:
                    gate.reached.set()
                    await asyncio.wait_for(gate.release.wait(), PAUSE_TIMEOUT)
                if pacer is not None:
                    await asyncio.wait_for(pacer.permits.acquire(), PAUSE_TIMEOUT)
                yield ResponseTextDeltaEvent(
                    type="response.output_text.delta",
                    item_id=item_id,
                    output_index=0,
                    content_index=0,
                    delta=chunk,
                    logprobs=[],
                    sequence_number=next(number),
                )
                if gate is not None:
                    gate.sent += 1
        except asyncio.CancelledError:
            if gate is not None:
                gate.cancelled.set()
            raise
        yield ResponseTextDoneEvent(
            type="response.output_text.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            text=full,
            logprobs=[],
            sequence_number=next(number),
        )
        yield ResponseContentPartDoneEvent(
            type="response.content_part.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=final.content[0],
            sequence_number=next(number),
        )
        yield ResponseOutputItemDoneEvent(
            type="response.output_item.done",
            output_index=0,
            item=final,
            sequence_number=next(number),
        )
        yield ResponseCompletedEvent(
            type="response.completed", response=response, sequence_number=next(number)
        )

    return ModelStep.stream(events, output=[final])


def slowed(step: ModelStep, delay: float) -> ModelStep:
    """``step`` with ``delay`` seconds before each text delta: a slow model, not a wait for
    the test (the browser tests watch an answer stream in)."""
    events = step.stream_events
    assert callable(events), "slowed() takes a step with streamed events (streamed_text)"

    async def slow(call: Any) -> AsyncIterator[Any]:
        async for event in events(call):
            if event.type == "response.output_text.delta":
                await asyncio.sleep(delay)
            yield event

    return dataclasses.replace(step, stream_events=slow)


def user_input(text: str, *, model: str | None = None, tool: str | None = None) -> UserMessageInput:
    options = InferenceOptions(model=model, tool_choice=ToolChoice(id=tool) if tool else None)
    return UserMessageInput(
        content=[UserMessageTextContent(text=text)], attachments=[], inference_options=options
    )


class ChatClient(ChatKitClient):
    """The package's ChatKit client, with shorthands for tests."""

    async def collect(self, request: StreamingReq) -> list[ThreadStreamEvent]:
        """Every event of a streaming request."""
        return [event async for event in self.stream(request)]

    async def create(self, text: str, **options: Any) -> tuple[str, list[ThreadStreamEvent]]:
        events = await self.collect(create_request(text, **options))
        thread_id = next(e.thread.id for e in events if e.type == "thread.created")
        return thread_id, events

    async def send(self, thread_id: str, text: str, **options: Any) -> list[ThreadStreamEvent]:
        params = ThreadAddUserMessageParams(thread_id=thread_id, input=user_input(text, **options))
        return await self.collect(ThreadsAddUserMessageReq(params=params))


def create_request(text: str, **options: Any) -> ThreadsCreateReq:
    return ThreadsCreateReq(params=ThreadCreateParams(input=user_input(text, **options)))


def answer_text(events: list[ThreadStreamEvent]) -> list[str]:
    """The text of each finished assistant message in a stream."""
    return [
        "".join(part.text for part in e.item.content)
        for e in events
        if e.type == "thread.item.done" and e.item.type == "assistant_message"
    ]


def deltas(events: list[ThreadStreamEvent]) -> list[str]:
    return [
        e.update.delta
        for e in events
        if e.type == "thread.item.updated"
        and e.update.type == "assistant_message.content_part.text_delta"
    ]
