"""The package's one ChatKit client and its reducer, against a real server and store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from agents.testing import ScriptedModel, assistant_message
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    CustomTask,
    ErrorEvent,
    ThreadCreatedEvent,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemUpdatedEvent,
    ThreadListParams,
    ThreadsListReq,
    UserMessageTagContent,
    Workflow,
    WorkflowItem,
    WorkflowTaskAdded,
    WorkflowTaskUpdated,
)
from scripted import ChatClient, streamed_text

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._client import ThreadState, decode_event, message_request
from chatkit_notebook.agent.server import NotebookChatServer

NOW = datetime(2026, 12, 1, 9, 0)


def message(item_id: str = "m1", text: str = "") -> AssistantMessageItem:
    content = [AssistantMessageContent(text=text)] if text else []
    return AssistantMessageItem(id=item_id, thread_id="t", created_at=NOW, content=content)


def delta(text: str, index: int = 0, item_id: str = "m1") -> ThreadItemUpdatedEvent:
    update = AssistantMessageContentPartTextDelta(content_index=index, delta=text)
    return ThreadItemUpdatedEvent(item_id=item_id, update=update)


def test_text_deltas_build_the_message_in_order() -> None:
    state = ThreadState()
    assert state.apply(ThreadItemAddedEvent(item=message())) == ("added", "m1")
    for piece in ["Hel", "lo", ", ", "world"]:
        assert state.apply(delta(piece)) == ("updated", "m1")
    state.apply(delta("second part", index=1))  # a part that was never announced
    item = state.items["m1"]
    assert isinstance(item, AssistantMessageItem)
    assert [c.text for c in item.content] == ["Hello, world", "second part"]
    assert state.streaming == {"m1"}
    done = AssistantMessageContentPartDone(
        content_index=0, content=AssistantMessageContent(text="Hello, world!")
    )
    state.apply(ThreadItemUpdatedEvent(item_id="m1", update=done))
    assert item.content[0].text == "Hello, world!"
    assert state.apply(ThreadItemDoneEvent(item=message(text="final"))) == ("done", "m1")
    assert state.streaming == set()
    assert state.items["m1"].content[0].text == "final"  # type: ignore[union-attr]


def test_a_part_added_replaces_what_was_there() -> None:
    state = ThreadState()
    state.apply(ThreadItemAddedEvent(item=message(text="old")))
    added = AssistantMessageContentPartAdded(
        content_index=0, content=AssistantMessageContent(text="new")
    )
    state.apply(ThreadItemUpdatedEvent(item_id="m1", update=added))
    assert state.items["m1"].content[0].text == "new"  # type: ignore[union-attr]


def test_workflow_tasks_are_added_and_updated() -> None:
    state = ThreadState()
    workflow = WorkflowItem(
        id="w", thread_id="t", created_at=NOW, workflow=Workflow(type="custom", tasks=[])
    )
    state.apply(ThreadItemAddedEvent(item=workflow))
    state.apply(
        ThreadItemUpdatedEvent(
            item_id="w", update=WorkflowTaskAdded(task_index=0, task=CustomTask(title="Reading"))
        )
    )
    state.apply(
        ThreadItemUpdatedEvent(
            item_id="w",
            update=WorkflowTaskUpdated(task_index=0, task=CustomTask(title="Read `df`")),
        )
    )
    tasks = state.items["w"].workflow.tasks  # type: ignore[union-attr]
    assert [t.title for t in tasks] == ["Read `df`"]  # type: ignore[union-attr]


def test_unknown_items_removals_errors_and_finish() -> None:
    state = ThreadState()
    assert state.apply(delta("lost", item_id="nobody")) is None  # an update for no item
    state.apply(ThreadItemAddedEvent(item=message("a")))
    state.apply(ThreadItemAddedEvent(item=message("b")))
    assert state.apply(ThreadItemRemovedEvent(item_id="a")) == ("removed", "a")
    assert state.apply(ThreadItemRemovedEvent(item_id="a")) is None
    assert state.apply(ErrorEvent(message="boom", allow_retry=True)) is None
    assert [e.message for e in state.errors] == ["boom"]
    assert state.finish() == ["b"]  # what was still streaming when the turn ended
    assert state.streaming == set()


def step(item_id: str) -> WorkflowItem:
    """A step of two tasks: one done, one still running."""
    tasks = [
        CustomTask(title="Read `df`", status_indicator="complete"),
        CustomTask(title="Running Python", status_indicator="loading"),
    ]
    workflow = Workflow(type="custom", tasks=tasks)
    return WorkflowItem(id=item_id, thread_id="thr_1", created_at=datetime.now(), workflow=workflow)


def test_a_stopped_turn_stops_its_running_steps_spinning() -> None:
    state = ThreadState()
    state.apply(ThreadItemAddedEvent(item=step("w")))
    assert state.finish(stopped=True) == ["w"]
    tasks = state.items["w"].workflow.tasks  # type: ignore[union-attr]
    assert [(t.title, t.status_indicator) for t in tasks] == [
        ("Read `df`", "complete"),
        ("Running Python (stopped)", "complete"),
    ]
    summary = state.items["w"].workflow.summary  # type: ignore[union-attr]
    assert summary is not None
    assert summary.title == "Stopped"
    # A turn that ended on its own leaves its steps as they are.
    state.apply(ThreadItemAddedEvent(item=step("w2")))
    assert state.finish() == ["w2"]
    assert state.items["w2"].workflow.tasks[1].status_indicator == "loading"  # type: ignore[union-attr]


def test_thread_events_and_older_pages() -> None:
    state = ThreadState.loaded(None, [message("c"), message("d")])
    thread = ThreadCreatedEvent.model_validate(
        {"type": "thread.created", "thread": {"id": "thr_1", "created_at": NOW, "items": {}}}
    )
    state.apply(thread)
    assert state.thread_id == "thr_1"
    state.prepend([message("a"), message("b")])
    assert list(state.items) == ["a", "b", "c", "d"]


def test_message_request_carries_text_and_tags() -> None:
    tag = UserMessageTagContent(id="df", text="df", data={"name": "df"}, interactive=False)
    new = message_request(None, "Describe", tags=[tag])
    assert new.type == "threads.create"
    assert [c.type for c in new.params.input.content] == ["input_text", "input_tag"]
    more = message_request("thr_1", "And now?")
    assert more.type == "threads.add_user_message"
    assert more.params.thread_id == "thr_1"  # type: ignore[union-attr]


def test_decode_event_reads_one_sse_frame() -> None:
    frame = b'data: {"type":"progress_update","text":"Reading"}\n\n'
    event = decode_event(frame)
    assert event.type == "progress_update"
    assert event.text == "Reading"


async def test_the_client_streams_a_real_turn_and_reduces_it(store_path: Path) -> None:
    model = ScriptedModel([streamed_text(["Nor", "th ", "sold ", "most."])])
    client = ChatClient(NotebookChatServer(NotebookStore(store_path), model=model))
    state = ThreadState()
    async for event in client.stream(message_request(None, "Which region?")):
        state.apply(event)
    assert state.thread_id is not None
    answers = [i for i in state.items.values() if isinstance(i, AssistantMessageItem)]
    assert [a.content[0].text for a in answers] == ["North sold most."]
    page = await client.threads()
    assert [t.id for t in page.data] == [state.thread_id]
    stored = await client.items(state.thread_id, order="asc")
    assert [i.id for i in stored.data] == list(state.items)  # the same items, same order


async def test_the_wrong_method_for_a_request_says_which_to_use(store_path: Path) -> None:
    model = ScriptedModel([[assistant_message("hi")]])
    client = ChatClient(NotebookChatServer(NotebookStore(store_path), model=model))
    with pytest.raises(TypeError, match="does not stream; use call"):
        async for _ in client.stream(ThreadsListReq(params=ThreadListParams())):  # type: ignore[arg-type]
            pass
    with pytest.raises(TypeError, match="use stream"):
        await client.call(message_request(None, "hi"))  # type: ignore[arg-type]


def test_the_context_may_be_made_per_request(store_path: Path) -> None:
    made: list[NotebookContext] = []

    def context() -> NotebookContext:
        made.append(NotebookContext(hidden={"secret"}))
        return made[-1]

    client = ChatClient(NotebookChatServer(NotebookStore(store_path)), context)
    assert client.context is made[-1]
    assert client.context is made[-1]
    assert len(made) == 2
