"""Checks on a parsed ChatKit request before the server acts on it.

The ChatKit schema admits requests the server cannot do as asked: a negative page size,
tool output for a thread with no pending client tool call, an upload to a store that
takes none, a retry after an item that does not exist or is not a user message, feedback on
unknown items, a 900,000-character title. chatkit would fail on them deep inside (a 500, or
a silent empty answer); here each becomes a :class:`~chatkit_notebook.errors.RequestError`
(or chatkit's ``NotFoundError``) with one line naming the bad field and what is allowed,
raised before anything streams, so ``%chatkit serve`` answers with a 4xx and the panel
shows the same line.
"""

from __future__ import annotations

from chatkit.store import AttachmentStore, Store
from chatkit.types import (
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    ChatKitReq,
    ClientToolCallItem,
    ItemsFeedbackReq,
    ItemsListReq,
    ThreadsAddClientToolOutputReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsUpdateReq,
    UserMessageItem,
)

from ..context import NotebookContext
from ..errors import RequestError

__all__ = ["TITLE_LIMIT", "bound_title", "check_request"]

TITLE_LIMIT = 200
"""The longest title a thread keeps; a longer one given is cut to this, ending in "…"."""


def bound_title(title: str) -> str:
    """``title`` cut to :data:`TITLE_LIMIT` characters (the last one "…") when longer."""
    if len(title) <= TITLE_LIMIT:
        return title
    return title[: TITLE_LIMIT - 1] + "…"


def takes_uploads(store: Store[NotebookContext]) -> bool:
    """Whether ``store`` implements ChatKit's two-phase attachment upload
    (``create_attachment``). Neither of the package's stores does: both keep attachment
    metadata only."""
    return isinstance(store, AttachmentStore) and (
        type(store).create_attachment is not AttachmentStore.create_attachment
    )


async def check_request(
    request: ChatKitReq, store: Store[NotebookContext], context: NotebookContext
) -> None:
    """Refuse ``request`` if the server cannot do it as asked; may bound its title in place.

    Raises:
        RequestError: a bad value (422), a request the thread's state refuses now (409), or
            something this store does not do (400); the message names the field.
        NotFoundError: the thread or an item the request names does not exist.
    """
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
        case _:
            pass
