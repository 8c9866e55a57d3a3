"""A real ``ChatKitServer`` over ``NotebookStore``, driven only through ``server.process``.

Requests are chatkit's own pydantic request models dumped to JSON bytes, and streamed
answers are parsed back from their SSE frames by the package's ChatKit client decoder, the
way the notebook panel talks to the server. After every request the test opens a *new*
``NotebookStore`` on the same file and checks what it holds, so what is asserted is what
survived to disk, not only what the server answered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    AttachmentDeleteParams,
    AttachmentsDeleteReq,
    FileAttachment,
    InferenceOptions,
    ItemsListParams,
    ItemsListReq,
    Page,
    SDKHiddenContextItem,
    StreamOptionsEvent,
    Thread,
    ThreadAddUserMessageParams,
    ThreadCreatedEvent,
    ThreadCreateParams,
    ThreadDeleteParams,
    ThreadGetByIdParams,
    ThreadItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadListParams,
    ThreadMetadata,
    ThreadRetryAfterItemParams,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsDeleteReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadStreamEvent,
    ThreadsUpdateReq,
    ThreadUpdatedEvent,
    ThreadUpdateParams,
    ToolChoice,
    UserMessageInput,
    UserMessageItem,
    UserMessageTextContent,
)
from pydantic import BaseModel, TypeAdapter
from stored import read_items

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._client import decode_event

THREAD = TypeAdapter(Thread)
THREAD_PAGE = TypeAdapter(Page[Thread])
ITEM_PAGE = TypeAdapter(Page[ThreadItem])


def answer_deltas(number: int, question: str) -> list[str]:
    """The scripted answer, cut into 5-character deltas."""
    answer = f"Answer {number} to {question!r}: the mean is 4.2."
    return [answer[i : i + 5] for i in range(0, len(answer), 5)]


class ScriptedServer(ChatKitServer[NotebookContext]):
    """Answers each user message with a numbered text, streamed in several deltas.

    Titles a new thread after its first message. With ``pause_after=n`` it sends ``n``
    deltas, sets ``paused`` and waits forever, so a test can cancel it mid-answer.
    """

    def __init__(self, store: NotebookStore, *, pause_after: int | None = None) -> None:
        super().__init__(store, attachment_store=store)
        self.answers = 0
        self.pause_after = pause_after
        self.paused = asyncio.Event()
        self._never = asyncio.Event()

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: NotebookContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        assert input_user_message is not None
        question = "".join(
            part.text
            for part in input_user_message.content
            if isinstance(part, UserMessageTextContent)
        )
        if thread.title is None:
            thread.title = f"About {question}"
        self.answers += 1
        deltas = answer_deltas(self.answers, question)
        item = AssistantMessageItem(
            id=self.store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=datetime.now(),
            content=[],
        )
        yield ThreadItemAddedEvent(item=item)
        yield ThreadItemUpdatedEvent(
            item_id=item.id,
            update=AssistantMessageContentPartAdded(
                content_index=0, content=AssistantMessageContent(text="")
            ),
        )
        for index, delta in enumerate(deltas):
            if index == self.pause_after:
                # The consumer has received every delta so far: it asked for the next one.
                self.paused.set()
                await self._never.wait()
            yield ThreadItemUpdatedEvent(
                item_id=item.id,
                update=AssistantMessageContentPartTextDelta(content_index=0, delta=delta),
            )
        final = AssistantMessageContent(text="".join(deltas))
        yield ThreadItemUpdatedEvent(
            item_id=item.id,
            update=AssistantMessageContentPartDone(content_index=0, content=final),
        )
        yield ThreadItemDoneEvent(item=item.model_copy(update={"content": [final]}))


# -- talking to the server ---------------------------------------------------------------


def parse_frame(chunk: bytes) -> ThreadStreamEvent:
    """One SSE frame, ``data: <json>\\n\\n``, back into a stream event."""
    assert chunk.startswith(b"data: ")
    assert chunk.endswith(b"\n\n")
    return decode_event(chunk)


async def stream(server: ScriptedServer, request: BaseModel, ctx: NotebookContext) -> list[Any]:
    """Send a streaming request and collect every event it streams."""
    result = await server.process(request.model_dump_json().encode(), ctx)
    assert isinstance(result, StreamingResult)
    return [parse_frame(chunk) async for chunk in result]


async def call(server: ScriptedServer, request: BaseModel, ctx: NotebookContext) -> bytes:
    """Send a non-streaming request and return its JSON body."""
    result = await server.process(request.model_dump_json().encode(), ctx)
    assert isinstance(result, NonStreamingResult)
    return result.json


def user_input(text: str, *attachment_ids: str) -> UserMessageInput:
    return UserMessageInput(
        content=[UserMessageTextContent(text=text)],
        attachments=list(attachment_ids),
        inference_options=InferenceOptions(tool_choice=ToolChoice(id="inspect"), model="m-1"),
    )


def create(text: str, *attachment_ids: str) -> ThreadsCreateReq:
    return ThreadsCreateReq(params=ThreadCreateParams(input=user_input(text, *attachment_ids)))


def add_message(thread_id: str, text: str) -> ThreadsAddUserMessageReq:
    return ThreadsAddUserMessageReq(
        params=ThreadAddUserMessageParams(thread_id=thread_id, input=user_input(text))
    )


def wire(item: BaseModel) -> Any:
    """An item as the server puts it on the wire (no ``None`` fields, no attachment metadata)."""
    return json.loads(item.model_dump_json(exclude_none=True, context={"exclude_metadata": True}))


def done_items(events: list[Any]) -> list[ThreadItem]:
    return [event.item for event in events if isinstance(event, ThreadItemDoneEvent)]


def streamed_text(events: list[Any]) -> str:
    return "".join(
        event.update.delta
        for event in events
        if isinstance(event, ThreadItemUpdatedEvent)
        and isinstance(event.update, AssistantMessageContentPartTextDelta)
    )


def text_of(item: ThreadItem) -> str:
    assert isinstance(item, (AssistantMessageItem, UserMessageItem))
    return "".join(part.text for part in item.content if hasattr(part, "text"))


# -- reading the file back ----------------------------------------------------------------


async def stored_thread(path: Path, thread_id: str) -> ThreadMetadata:
    thread = await NotebookStore(path).load_thread(thread_id, NotebookContext())
    assert type(thread) is ThreadMetadata
    return thread


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "analysis.chatkit.json"


@pytest.fixture
def context() -> NotebookContext:
    return NotebookContext()


@pytest.fixture
def server(path: Path) -> ScriptedServer:
    return ScriptedServer(NotebookStore(path))


async def start_thread(server: ScriptedServer, context: NotebookContext, text: str) -> str:
    events = await stream(server, create(text), context)
    assert isinstance(events[0], ThreadCreatedEvent)
    return events[0].thread.id


# -- tests --------------------------------------------------------------------------------


async def test_threads_create_streams_the_answer_and_persists_the_turn(
    server: ScriptedServer, path: Path, context: NotebookContext
) -> None:
    attachment = FileAttachment(
        id="atc_csv", name="data.csv", mime_type="text/csv", metadata={"rows": 3}
    )
    await server.store.save_attachment(attachment, context)

    events = await stream(server, create("What is df?", "atc_csv"), context)

    created, user_done = events[0], events[1]
    assert isinstance(created, ThreadCreatedEvent)
    thread_id = created.thread.id
    assert isinstance(user_done, ThreadItemDoneEvent)
    assert isinstance(user_done.item, UserMessageItem)
    assert isinstance(events[2], StreamOptionsEvent)
    assert isinstance(events[3], ThreadItemAddedEvent)
    assert isinstance(events[-1], ThreadItemDoneEvent)
    assert streamed_text(events) == "".join(answer_deltas(1, "What is df?"))
    assert [e.thread.title for e in events if isinstance(e, ThreadUpdatedEvent)] == [
        "About What is df?"
    ]

    thread = await stored_thread(path, thread_id)
    assert (thread.id, thread.title) == (thread_id, "About What is df?")
    assert thread.created_at == created.thread.created_at
    items = await read_items(path, thread_id)
    assert [wire(item) for item in items] == [wire(item) for item in done_items(events)]
    user, answer = items
    assert isinstance(user, UserMessageItem)
    assert user.inference_options == InferenceOptions(
        tool_choice=ToolChoice(id="inspect"), model="m-1"
    )
    # The stored message keeps the attachment's metadata, which the wire form strips.
    assert user.attachments == [attachment.model_copy(update={"thread_id": thread_id})]
    assert text_of(answer) == "".join(answer_deltas(1, "What is df?"))
    linked = await NotebookStore(path).load_attachment("atc_csv", context)
    assert linked == attachment.model_copy(update={"thread_id": thread_id})


async def test_add_user_message_appends_a_turn_and_keeps_the_title(
    server: ScriptedServer, path: Path, context: NotebookContext
) -> None:
    thread_id = await start_thread(server, context, "first")

    events = await stream(server, add_message(thread_id, "second"), context)

    assert not any(isinstance(e, (ThreadCreatedEvent, ThreadUpdatedEvent)) for e in events)
    assert streamed_text(events) == "".join(answer_deltas(2, "second"))
    items = await read_items(path, thread_id)
    assert [(item.type, text_of(item)) for item in items] == [
        ("user_message", "first"),
        ("assistant_message", "".join(answer_deltas(1, "first"))),
        ("user_message", "second"),
        ("assistant_message", "".join(answer_deltas(2, "second"))),
    ]
    assert [wire(item) for item in items[2:]] == [wire(item) for item in done_items(events)]
    assert (await stored_thread(path, thread_id)).title == "About first"


async def test_threads_list_pages_newest_first(
    server: ScriptedServer, path: Path, context: NotebookContext
) -> None:
    ids = [await start_thread(server, context, text) for text in ("one", "two", "three")]

    first = THREAD_PAGE.validate_json(
        await call(server, ThreadsListReq(params=ThreadListParams(limit=2, order="desc")), context)
    )
    assert [t.id for t in first.data] == [ids[2], ids[1]]
    assert [t.title for t in first.data] == ["About three", "About two"]
    assert all(t.items.data == [] for t in first.data)
    assert (first.has_more, first.after) == (True, ids[1])
    rest = THREAD_PAGE.validate_json(
        await call(
            server,
            ThreadsListReq(params=ThreadListParams(limit=2, order="desc", after=first.after)),
            context,
        )
    )
    assert [t.id for t in rest.data] == [ids[0]]
    assert (rest.has_more, rest.after) == (False, None)

    reopened = await NotebookStore(path).load_threads(10, None, "asc", context)
    assert [t.id for t in reopened.data] == ids
    assert [t.title for t in reopened.data] == ["About one", "About two", "About three"]


async def test_items_list_pages_through_the_stored_items(
    server: ScriptedServer, path: Path, context: NotebookContext
) -> None:
    thread_id = await start_thread(server, context, "first")
    await stream(server, add_message(thread_id, "second"), context)
    stored = await read_items(path, thread_id)
    assert len(stored) == 4

    orders: list[tuple[Literal["asc", "desc"], list[ThreadItem]]] = [
        ("asc", stored),
        ("desc", stored[::-1]),
    ]
    for order, expected in orders:
        seen: list[ThreadItem] = []
        after: str | None = None
        while True:
            page = ITEM_PAGE.validate_json(
                await call(
                    server,
                    ItemsListReq(
                        params=ItemsListParams(
                            thread_id=thread_id, limit=3, order=order, after=after
                        )
                    ),
                    context,
                )
            )
            seen.extend(page.data)
            if not page.has_more:
                assert page.after is None
                break
            after = page.after
        assert [wire(item) for item in seen] == [wire(item) for item in expected]


async def test_get_by_id_returns_the_stored_thread_and_items(
    server: ScriptedServer, path: Path, context: NotebookContext
) -> None:
    thread_id = await start_thread(server, context, "first")
    await stream(server, add_message(thread_id, "second"), context)

    thread = THREAD.validate_json(
        await call(
            server, ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id)), context
        )
    )

    metadata = await stored_thread(path, thread_id)
    assert (thread.id, thread.title, thread.created_at, thread.status) == (
        metadata.id,
        metadata.title,
        metadata.created_at,
        metadata.status,
    )
    assert [wire(item) for item in thread.items.data] == [
        wire(item) for item in await read_items(path, thread_id)
    ]
    assert thread.items.has_more is False


async def test_update_renames_the_thread_on_disk(
    server: ScriptedServer, path: Path, context: NotebookContext
) -> None:
    thread_id = await start_thread(server, context, "first")
    other_id = await start_thread(server, context, "other")
    before = await stored_thread(path, thread_id)
    items_before = await read_items(path, thread_id)

    renamed = THREAD.validate_json(
        await call(
            server,
            ThreadsUpdateReq(params=ThreadUpdateParams(thread_id=thread_id, title="Outliers")),
            context,
        )
    )

    assert (renamed.id, renamed.title) == (thread_id, "Outliers")
    assert await stored_thread(path, thread_id) == before.model_copy(update={"title": "Outliers"})
    assert await read_items(path, thread_id) == items_before
    listed = await NotebookStore(path).load_threads(10, None, "asc", context)
    assert [t.id for t in listed.data] == [thread_id, other_id]


async def test_delete_removes_the_thread_and_unlinks_its_attachments(
    server: ScriptedServer, path: Path, context: NotebookContext
) -> None:
    attachment = FileAttachment(id="atc_csv", name="data.csv", mime_type="text/csv")
    await server.store.save_attachment(attachment, context)
    events = await stream(server, create("look", "atc_csv"), context)
    assert isinstance(events[0], ThreadCreatedEvent)
    thread_id = events[0].thread.id
    kept_id = await start_thread(server, context, "keep me")

    body = await call(
        server, ThreadsDeleteReq(params=ThreadDeleteParams(thread_id=thread_id)), context
    )

    assert json.loads(body) == {}
    with pytest.raises(NotFoundError):
        await stored_thread(path, thread_id)
    assert await read_items(path, thread_id) == []
    assert await NotebookStore(path).load_attachment("atc_csv", context) == attachment
    fresh = ScriptedServer(NotebookStore(path))
    with pytest.raises(NotFoundError):
        await call(
            fresh, ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id)), context
        )
    listed = THREAD_PAGE.validate_json(
        await call(fresh, ThreadsListReq(params=ThreadListParams()), context)
    )
    assert [t.id for t in listed.data] == [kept_id]
    assert len(await read_items(path, kept_id)) == 2


async def test_attachments_delete_removes_it_when_the_store_is_also_the_attachment_store(
    server: ScriptedServer, path: Path, context: NotebookContext
) -> None:
    # The server calls delete_attachment on both roles, so on the same object twice.
    await server.store.save_attachment(
        FileAttachment(id="atc_1", name="a.txt", mime_type="text/plain"), context
    )

    body = await call(
        server, AttachmentsDeleteReq(params=AttachmentDeleteParams(attachment_id="atc_1")), context
    )

    assert json.loads(body) == {}
    with pytest.raises(NotFoundError):
        await NotebookStore(path).load_attachment("atc_1", context)


async def test_retry_after_item_replaces_everything_after_the_user_message(
    server: ScriptedServer, path: Path, context: NotebookContext
) -> None:
    thread_id = await start_thread(server, context, "first")
    await stream(server, add_message(thread_id, "second"), context)
    first_user, first_answer, second_user, second_answer = await read_items(path, thread_id)

    events = await stream(
        server,
        ThreadsRetryAfterItemReq(
            params=ThreadRetryAfterItemParams(thread_id=thread_id, item_id=first_user.id)
        ),
        context,
    )

    assert streamed_text(events) == "".join(answer_deltas(3, "first"))
    items = await read_items(path, thread_id)
    assert items[0] == first_user
    assert [wire(item) for item in items[1:]] == [wire(item) for item in done_items(events)]
    assert [(item.type, text_of(item)) for item in items[1:]] == [
        ("assistant_message", "".join(answer_deltas(3, "first")))
    ]
    store = NotebookStore(path)
    for gone in (first_answer, second_user, second_answer):
        with pytest.raises(NotFoundError):
            await store.load_item(thread_id, gone.id, context)


async def test_cancelled_stream_persists_exactly_the_streamed_part_of_the_answer(
    path: Path, context: NotebookContext
) -> None:
    server = ScriptedServer(NotebookStore(path), pause_after=2)
    result = await server.process(create("Summarise df").model_dump_json().encode(), context)
    assert isinstance(result, StreamingResult)
    received: list[Any] = []

    async def consume() -> None:
        async for chunk in result:
            received.append(parse_frame(chunk))

    consumer = asyncio.create_task(consume())
    await server.paused.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    sent = answer_deltas(1, "Summarise df")[:2]
    assert streamed_text(received) == "".join(sent)
    created = received[0]
    assert isinstance(created, ThreadCreatedEvent)
    thread_id = created.thread.id
    added = next(e.item for e in received if isinstance(e, ThreadItemAddedEvent))

    items = await read_items(path, thread_id)
    assert [item.type for item in items] == [
        "user_message",
        "assistant_message",
        "sdk_hidden_context",
    ]
    user, partial, note = items
    assert text_of(user) == "Summarise df"
    assert partial == AssistantMessageItem(
        id=added.id,
        thread_id=thread_id,
        created_at=added.created_at,
        content=[AssistantMessageContent(text="".join(sent))],
    )
    assert isinstance(note, SDKHiddenContextItem)
    assert "cancelled" in note.content
    assert (await stored_thread(path, thread_id)).title == "About Summarise df"

    # The hidden note stays server-side: items.list over the same file leaves it out.
    listed = ITEM_PAGE.validate_json(
        await call(
            ScriptedServer(NotebookStore(path)),
            ItemsListReq(params=ItemsListParams(thread_id=thread_id, order="asc")),
            context,
        )
    )
    assert [wire(item) for item in listed.data] == [wire(user), wire(partial)]
