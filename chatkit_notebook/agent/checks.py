"""Checks on a parsed ChatKit request before the server acts on it.

The ChatKit schema admits requests the server cannot do as asked: a negative page size,
tool output for a thread with no pending client tool call, an upload to a store that
takes none, a retry after an item that does not exist or is not a user message, feedback on
unknown items, a 900,000-character title, a NUL character PostgreSQL cannot keep, audio to
transcribe or a synchronous action this server does not do, an answer to a question that is
not pending, an action sent from an item that is not a widget. chatkit would fail on them
deep inside (a 500, or a silent empty answer); here each becomes a
:class:`~chatkit_notebook.errors.RequestError` (or chatkit's ``NotFoundError``) with one line
naming the bad field and what is allowed, raised before anything streams, so ``%chatkit
serve`` answers with a 4xx and the panel shows the same line.
"""

from __future__ import annotations

from typing import Any

from chatkit.server import ChatKitServer
from chatkit.store import AttachmentStore, Store
from chatkit.types import (
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    ChatKitReq,
    ClientToolCallItem,
    InputTranscribeReq,
    ItemsFeedbackReq,
    ItemsListReq,
    StructuredInputItem,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsCustomActionReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadsUpdateReq,
    UserMessageItem,
    WidgetItem,
)

from .._items import TITLE_LIMIT, bound_title
from ..context import NotebookContext
from ..errors import RequestError

__all__ = ["TITLE_LIMIT", "bound_title", "check_request", "overrides"]


def takes_uploads(store: Store[NotebookContext]) -> bool:
    """Whether ``store`` implements ChatKit's two-phase attachment upload
    (``create_attachment``). Neither of the package's stores does: both keep attachment
    metadata only."""
    return isinstance(store, AttachmentStore) and (
        type(store).create_attachment is not AttachmentStore.create_attachment
    )


def overrides(server: ChatKitServer[Any], name: str) -> bool:
    """Whether ``server`` implements chatkit's optional method ``name`` (whose default
    raises ``NotImplementedError``: a 500 for a request the server simply does not do)."""
    return getattr(type(server), name) is not getattr(ChatKitServer, name)


async def check_request(
    request: ChatKitReq, server: ChatKitServer[NotebookContext], context: NotebookContext
) -> None:
    """Refuse ``request`` if ``server`` cannot do it as asked; may bound its title in place.

    Raises:
        RequestError: a bad value (422), a request the thread's state refuses now (409), or
            something this server or store does not do (400); the message names the field.
        NotFoundError: the thread or an item the request names does not exist.
    """
    store = server.store
    _no_nul(request.type, request.params.model_dump(warnings=False), "params")
    match request:
        case ItemsListReq() | ThreadsListReq():
            limit = request.params.limit
            if limit is not None and limit < 0:
                raise RequestError(
                    f"{request.type}: params.limit must be 0 or more (0 or none for the "
                    f"default page), not {limit}"
                )
        case AttachmentsCreateReq():
            if not takes_uploads(store):
                raise RequestError(
                    f"{request.type}: this store ({type(store).__name__}) does not take "
                    "attachments (it keeps attachment metadata only); send text instead",
                    status=400,
                )
        case AttachmentsDeleteReq():
            if not isinstance(store, AttachmentStore):
                raise RequestError(
                    f"{request.type}: this store ({type(store).__name__}) keeps no attachments",
                    status=400,
                )
        case ThreadsAddClientToolOutputReq():
            thread_id = request.params.thread_id
            await store.load_thread(thread_id, context=context)
            last = await store.load_thread_items(thread_id, None, 1, "desc", context)
            if not any(
                isinstance(item, ClientToolCallItem) and item.status == "pending"
                for item in last.data
            ):
                raise RequestError(
                    f"{request.type}: params.thread_id {thread_id} has no client tool call "
                    "waiting for output; send it only after a client_tool_call item",
                    status=409,
                )
        case ThreadsRetryAfterItemReq():
            retry = request.params
            await store.load_thread(retry.thread_id, context=context)
            item = await store.load_item(retry.thread_id, retry.item_id, context=context)
            if not isinstance(item, UserMessageItem):
                raise RequestError(
                    f"{request.type}: params.item_id {retry.item_id} is a {item.type}; "
                    "retry after a user message's id"
                )
        case ItemsFeedbackReq():
            feedback = request.params
            await store.load_thread(feedback.thread_id, context=context)
            for item_id in feedback.item_ids:
                await store.load_item(feedback.thread_id, item_id, context=context)
        case ThreadsUpdateReq():
            request.params.title = bound_title(request.params.title)
        case InputTranscribeReq():
            if not overrides(server, "transcribe"):
                raise RequestError(
                    f"{request.type}: this server does not transcribe audio; send text instead",
                    status=400,
                )
        case ThreadsSyncCustomActionReq():
            if not overrides(server, "sync_action"):
                raise RequestError(
                    f"{request.type}: this server has no synchronous actions; send "
                    "threads.custom_action instead",
                    status=400,
                )
            await _widget_sender(
                request.type, request.params.thread_id, request.params.item_id, store, context
            )
        case ThreadsCustomActionReq():
            await _widget_sender(
                request.type, request.params.thread_id, request.params.item_id, store, context
            )
        case ThreadsAddStructuredInputReq():
            given = request.params
            await store.load_thread(given.thread_id, context=context)
            item = await store.load_item(given.thread_id, given.item_id, context=context)
            if not isinstance(item, StructuredInputItem):
                raise RequestError(
                    f"{request.type}: params.item_id {given.item_id} is a {item.type}; "
                    "answer a structured_input item"
                )
            if item.status != "pending":
                raise RequestError(
                    f"{request.type}: params.item_id {given.item_id} was {item.status} "
                    "already; only a pending structured_input item takes answers",
                    status=409,
                )
        case _:
            pass


def _no_nul(kind: str, value: object, where: str) -> None:
    """Refuse a NUL character in any text of the request: PostgreSQL cannot store one (its
    store would fail), and no chat text, id or title needs one, so both stores refuse it."""
    if isinstance(value, str):
        if "\x00" in value:
            raise RequestError(
                f"{kind}: {where} contains a NUL character (\\u0000); remove it and send again"
            )
    elif isinstance(value, dict):
        for key, child in value.items():
            _no_nul(kind, key, f"{where} (a key)")
            _no_nul(kind, child, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, child in enumerate(value):
            _no_nul(kind, child, f"{where}[{index}]")


async def _widget_sender(
    kind: str,
    thread_id: str,
    item_id: str | None,
    store: Store[NotebookContext],
    context: NotebookContext,
) -> None:
    """An action's thread exists, and its sender, if it names one, is a widget item there
    (chatkit would answer a stream with an error and no text, or fail with a 500)."""
    await store.load_thread(thread_id, context=context)
    if item_id is None:
        return
    item = await store.load_item(thread_id, item_id, context=context)
    if not isinstance(item, WidgetItem):
        raise RequestError(
            f"{kind}: params.item_id {item_id} is a {item.type}; an action's sender must be "
            "a widget item (or leave item_id out)"
        )
