"""The one ChatKit client of the in-kernel server, and the one reducer of its events.

Everything that talks to a :class:`~chatkit.server.ChatKitServer` in this package goes
through here: the chat panel, ``%chat``, ``%chatkit``, the tests and the benchmarks.
:class:`ChatKitClient` sends requests built from chatkit's own types to
``server.process`` as JSON (the same bytes the official web component sends over HTTP)
and decodes what comes back with chatkit's own types: one SSE decoder, one place to
change when the protocol does.

:class:`ThreadState` is the reducer: it folds streamed events into what a client knows of
a thread (its metadata, its items in order, which are still streaming, the turn's
progress, errors and notices). Views only draw that state; none of them interprets an
item update itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from chatkit.actions import Action
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartAnnotationAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ClientEffectEvent,
    ErrorEvent,
    FeedbackKind,
    GeneratedImageItem,
    GeneratedImageUpdated,
    InferenceOptions,
    ItemFeedbackParams,
    ItemsFeedbackReq,
    ItemsListParams,
    ItemsListReq,
    NonStreamingReq,
    NoticeEvent,
    Page,
    StreamingReq,
    Thread,
    ThreadAddUserMessageParams,
    ThreadCreateParams,
    ThreadCustomActionParams,
    ThreadDeleteParams,
    ThreadGetByIdParams,
    ThreadItem,
    ThreadItemUpdate,
    ThreadListParams,
    ThreadMetadata,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadStreamEvent,
    ThreadsUpdateReq,
    ThreadUpdateParams,
    UserMessageContent,
    UserMessageInput,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
    WidgetRootUpdated,
    WorkflowItem,
    WorkflowTaskAdded,
    WorkflowTaskUpdated,
)
from pydantic import TypeAdapter

from ._items import VARIABLE_TAG, mentions, stopped_step, variable_tag
from .context import NotebookContext

__all__ = [
    "VARIABLE_TAG",
    "ChatKitClient",
    "ThreadState",
    "decode_event",
    "message_request",
    "stopped_step",
    "variable_tags",
]


_EVENT: TypeAdapter[ThreadStreamEvent] = TypeAdapter(ThreadStreamEvent)
_THREADS: TypeAdapter[Page[Thread]] = TypeAdapter(Page[Thread])
_THREAD: TypeAdapter[Thread] = TypeAdapter(Thread)
_ITEMS: TypeAdapter[Page[ThreadItem]] = TypeAdapter(Page[ThreadItem])


def decode_event(frame: bytes) -> ThreadStreamEvent:
    """One server-sent event frame (``b"data: {...}\\n\\n"``) as a typed ChatKit event."""
    return _EVENT.validate_json(frame.removeprefix(b"data: "))


def variable_tags(text: str, names: Collection[str]) -> list[UserMessageTagContent]:
    """ChatKit input tags for the ``@name`` mentions in ``text`` that name one of ``names``.

    Each variable is tagged once, in the order first mentioned; unknown names stay text.
    """
    found: list[str] = []
    for match in mentions(text):
        name = match.group(1)
        if name in names and name not in found:
            found.append(name)
    return [variable_tag(name) for name in found]


def message_request(
    thread_id: str | None,
    text: str,
    *,
    tags: Iterable[UserMessageTagContent] = (),
    inference_options: InferenceOptions | None = None,
) -> ThreadsCreateReq | ThreadsAddUserMessageReq:
    """The request that sends ``text``: a new thread, or a message in ``thread_id``.

    ``tags`` (ChatKit input tags, such as ``@df``) follow the text in the message, which
    keeps its ``@df`` mentions: clients that show tags show a mentioned one in its place.
    """
    content: list[UserMessageContent] = [UserMessageTextContent(text=text), *tags]
    message = UserMessageInput(
        content=content,
        attachments=[],
        inference_options=inference_options or InferenceOptions(),
    )
    if thread_id is None:
        return ThreadsCreateReq(params=ThreadCreateParams(input=message))
    return ThreadsAddUserMessageReq(
        params=ThreadAddUserMessageParams(thread_id=thread_id, input=message)
    )


def action_request(
    thread_id: str, item_id: str | None, action_type: str, payload: object
) -> ThreadsCustomActionReq:
    """The request that sends a widget's action (a click on a card's button)."""
    params = ThreadCustomActionParams(
        thread_id=thread_id,
        item_id=item_id,
        action=Action[str, Any](type=action_type, payload=payload),
    )
    return ThreadsCustomActionReq(params=params)


class ChatKitClient:
    """A typed ChatKit client over ``server.process``.

    Args:
        server: The server to talk to.
        context: The request context, or a function that makes one per request (the
            session's: the variables hidden from the agent may change between requests).
    """

    def __init__(
        self,
        server: ChatKitServer[NotebookContext],
        context: NotebookContext | Callable[[], NotebookContext] | None = None,
    ) -> None:
        self.server = server
        self._context = context if context is not None else NotebookContext()

    def __repr__(self) -> str:
        return f"<ChatKitClient server={type(self.server).__name__}>"

    @property
    def context(self) -> NotebookContext:
        """The context the next request carries."""
        return self._context() if callable(self._context) else self._context

    async def call(self, request: NonStreamingReq) -> bytes:
        """Send a request that answers at once; its JSON response."""
        result = await self.server.process(request.model_dump_json(), self.context)
        if not isinstance(result, NonStreamingResult):
            msg = f"{request.type} streamed its answer; use stream() for it"
            raise TypeError(msg)
        return result.json

    async def stream(self, request: StreamingReq) -> AsyncIterator[ThreadStreamEvent]:
        """Send a request that streams; its events, as they arrive.

        Errors the server raises before the stream starts (an unknown thread, a bad retry)
        come out of this iterator, not as ``error`` events.
        """
        result = await self.server.process(request.model_dump_json(), self.context)
        if not isinstance(result, StreamingResult):
            msg = f"{request.type} does not stream; use call() for it"
            raise TypeError(msg)
        async for frame in result:
            yield decode_event(frame)

    async def threads(
        self, *, limit: int = 100, order: Literal["asc", "desc"] = "desc"
    ) -> Page[Thread]:
        """The notebook's threads, newest first by default."""
        request = ThreadsListReq(params=ThreadListParams(limit=limit, order=order))
        return _THREADS.validate_json(await self.call(request))

    async def thread(self, thread_id: str) -> Thread:
        """One thread's metadata, with its newest items."""
        request = ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id))
        return _THREAD.validate_json(await self.call(request))

    async def items(
        self,
        thread_id: str,
        *,
        limit: int = 50,
        order: Literal["asc", "desc"] = "desc",
        after: str | None = None,
    ) -> Page[ThreadItem]:
        """A page of a thread's items."""
        params = ItemsListParams(thread_id=thread_id, limit=limit, order=order, after=after)
        return _ITEMS.validate_json(await self.call(ItemsListReq(params=params)))

    async def rename(self, thread_id: str, title: str) -> None:
        """Give a thread a new title."""
        await self.call(
            ThreadsUpdateReq(params=ThreadUpdateParams(thread_id=thread_id, title=title))
        )

    async def delete(self, thread_id: str) -> None:
        """Delete a thread and its items."""
        await self.call(ThreadsDeleteReq(params=ThreadDeleteParams(thread_id=thread_id)))

    async def feedback(self, thread_id: str, item_ids: list[str], kind: FeedbackKind) -> None:
        """Say whether answers were good (``positive``) or bad (``negative``)."""
        params = ItemFeedbackParams(thread_id=thread_id, item_ids=item_ids, kind=kind)
        await self.call(ItemsFeedbackReq(params=params))


ItemChange = Literal["added", "updated", "done", "removed"]


@dataclass
class ThreadState:
    """What a client knows of one thread: the reducer of ChatKit's streamed events.

    :meth:`apply` folds one event in and says which item it changed, so a view can redraw
    just that item from :attr:`items`.

    Attributes:
        thread: The thread's metadata (``None`` until the thread exists).
        items: The thread's items by id, in the order they are shown.
        streaming: Ids of items that were added and are not done yet.
        progress: The turn's progress text ("Reading the data…"), empty when none.
        allow_cancel: Whether the server lets the client stop the turn.
        errors: The turn's ``error`` events, oldest first.
        notices: The turn's ``notice`` events, oldest first.
        effects: ``client_effect`` events that arrived and were not yet taken.
    """

    thread: ThreadMetadata | None = None
    items: dict[str, ThreadItem] = field(default_factory=dict)
    streaming: set[str] = field(default_factory=set)
    progress: str = ""
    allow_cancel: bool = False
    errors: list[ErrorEvent] = field(default_factory=list)
    notices: list[NoticeEvent] = field(default_factory=list)
    effects: list[ClientEffectEvent] = field(default_factory=list)

    @classmethod
    def loaded(cls, thread: ThreadMetadata | None, items: Iterable[ThreadItem]) -> ThreadState:
        """The state of a stored thread, from its items oldest first."""
        return cls(thread=thread, items={item.id: item for item in items})

    @property
    def thread_id(self) -> str | None:
        return self.thread.id if self.thread is not None else None

    def prepend(self, items: Iterable[ThreadItem]) -> None:
        """Put older items (oldest first) before the ones known."""
        self.items = {**{item.id: item for item in items}, **self.items}

    def apply(self, event: ThreadStreamEvent) -> tuple[ItemChange, str] | None:
        """Fold ``event`` in; the item it changed and how, or ``None`` for other events."""
        if event.type in ("thread.created", "thread.updated"):
            self.thread = event.thread
        elif event.type == "thread.item.added":
            self.progress = ""
            self.items[event.item.id] = event.item
            self.streaming.add(event.item.id)
            return "added", event.item.id
        elif event.type in ("thread.item.done", "thread.item.replaced"):
            self.progress = ""
            self.items[event.item.id] = event.item
            self.streaming.discard(event.item.id)
            return "done", event.item.id
        elif event.type == "thread.item.updated":
            item = self.items.get(event.item_id)
            if item is not None:
                self.items[item.id] = _updated(item, event.update)
                return "updated", item.id
        elif event.type == "thread.item.removed":
            if self.items.pop(event.item_id, None) is not None:
                self.streaming.discard(event.item_id)
                return "removed", event.item_id
        elif event.type == "stream_options":
            self.allow_cancel = event.stream_options.allow_cancel
        elif event.type == "progress_update":
            self.progress = event.text
        elif event.type == "error":
            self.errors.append(event)
        elif event.type == "notice":
            self.notices.append(event)
        elif event.type == "client_effect":
            self.effects.append(event)
        return None

    def finish(self, *, stopped: bool = False) -> list[str]:
        """End the turn (done or stopped): every item still streaming is taken as it is.

        With ``stopped``, a step still running (a workflow task ``loading``) says it was
        stopped instead of spinning on.

        Returns the ids of the items that were still streaming.
        """
        unfinished = [item_id for item_id in self.items if item_id in self.streaming]
        if stopped:
            for item_id in unfinished:
                item = self.items[item_id]
                if isinstance(item, WorkflowItem):
                    self.items[item_id] = stopped_step(item)
        self.streaming.clear()
        self.progress = ""
        self.allow_cancel = False
        return unfinished


def _updated(item: ThreadItem, update: ThreadItemUpdate) -> ThreadItem:
    """``item`` with ``update`` applied (in place where the item is a streaming one)."""
    if isinstance(item, AssistantMessageItem):
        _apply_to_message(item, update)
    elif isinstance(item, WorkflowItem):
        tasks = item.workflow.tasks
        if isinstance(update, WorkflowTaskAdded):
            tasks.append(update.task)
        elif isinstance(update, WorkflowTaskUpdated):
            if update.task_index < len(tasks):
                tasks[update.task_index] = update.task
            else:
                tasks.append(update.task)
    elif isinstance(item, WidgetItem) and isinstance(update, WidgetRootUpdated):
        return item.model_copy(update={"widget": update.widget})
    elif isinstance(item, GeneratedImageItem) and isinstance(update, GeneratedImageUpdated):
        return item.model_copy(update={"image": update.image})
    # Streaming text inside a widget (value deltas, component updates) shows when it is done.
    return item


def _apply_to_message(item: AssistantMessageItem, update: ThreadItemUpdate) -> None:
    if not isinstance(
        update,
        (
            AssistantMessageContentPartAdded,
            AssistantMessageContentPartTextDelta,
            AssistantMessageContentPartAnnotationAdded,
            AssistantMessageContentPartDone,
        ),
    ):
        return
    while len(item.content) <= update.content_index:  # updates may name a part not yet added
        item.content.append(AssistantMessageContent(text=""))
    part = item.content[update.content_index]
    if isinstance(update, AssistantMessageContentPartTextDelta):
        part.text += update.delta
    elif isinstance(update, AssistantMessageContentPartAnnotationAdded):
        part.annotations.insert(update.annotation_index, update.annotation)
    else:
        item.content[update.content_index] = update.content
