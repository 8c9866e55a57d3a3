"""Which thread is this notebook's current one, kept in the store so it survives restarts.

A new panel, and ``%chat QUESTION`` in a fresh kernel, continue the thread the person used
last; the panel's New and ``%chatkit new`` start a fresh one, and that choice is kept too.
It lives in each thread's server-side metadata (ChatKit never sends thread metadata to a
client), under :data:`KEY`: ``opened_at`` when the thread was created, opened or
continued, ``left_at`` when the person moved on to a new chat from it. So any ChatKit
store keeps it with no schema of its own, and a store written before this existed falls
back to its newest thread.

Only the person's own clients stamp (the panel and ``%chat``, through the kernel's
session): a thread a ChatKit client created over HTTP (``%chatkit serve``) carries no
stamp, and a thread without one is never preferred to a thread that has one, so it cannot
take over the panel and ``%chat`` after a restart.

A request context that names its user keeps the stamps per user (under ``users``), so on a
shared notebook each person continues their own current thread, not the one a teammate
opened last. Stamps from before, kept for no user, count for everyone who has none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chatkit.store import NotFoundError, Store
from chatkit.types import ThreadMetadata

from ..context import NotebookContext

__all__ = ["KEY", "last_used", "recall", "remember"]

KEY = "chatkit_notebook"


async def remember(
    store: Store[NotebookContext],
    thread_id: str | None,
    previous: str | None,
    context: NotebookContext,
) -> None:
    """Make ``thread_id`` the current thread; ``None`` means a new chat, left from ``previous``."""
    target, field = (thread_id, "opened_at") if thread_id is not None else (previous, "left_at")
    if target is None:
        return
    try:
        thread = await store.load_thread(target, context)
    except NotFoundError:  # deleted meanwhile: nothing to remember it by
        return
    metadata = dict(thread.metadata)
    ours = dict(metadata.get(KEY) or {})
    now = datetime.now().isoformat()
    if context.user:
        users = dict(ours.get("users") or {})
        users[context.user] = {**(users.get(context.user) or {}), field: now}
        ours["users"] = users
    else:
        ours[field] = now
    metadata[KEY] = ours
    await store.save_thread(thread.model_copy(update={"metadata": metadata}), context)


async def recall(store: Store[NotebookContext], context: NotebookContext) -> str | None:
    """The current thread: the one opened last, unless a new chat was started after it.

    Threads this person opened (stamped) come first; only a store with no stamp for them
    falls back to its newest thread.
    """
    best: tuple[bool, str, ThreadMetadata] | None = None
    after = None
    while True:
        page = await store.load_threads(200, after, "desc", context)
        for thread in page.data:
            stamp = _stamp(thread, "opened_at", context)
            rank = (stamp is not None, stamp or thread.created_at.isoformat())
            if best is None or rank > best[:2]:
                best = (*rank, thread)
        if not page.has_more:
            break
        after = page.after
    if best is None:
        return None
    _, opened, thread = best
    left = _stamp(thread, "left_at", context)
    return None if left is not None and left >= opened else thread.id


async def last_used(store: Store[NotebookContext], context: NotebookContext) -> dict[str, datetime]:
    """When this person last opened or asked in each thread they used here (the thread
    list sorts and ages threads by it; a thread missing here was never used from the panel
    or ``%chat``: its creation counts)."""
    used: dict[str, datetime] = {}
    after = None
    while True:
        page = await store.load_threads(200, after, "desc", context)
        for thread in page.data:
            stamp = _stamp(thread, "opened_at", context)
            if stamp is None:
                continue
            try:
                used[thread.id] = datetime.fromisoformat(stamp)
            except ValueError:  # written by hand or by something else: the creation counts
                continue
        if not page.has_more:
            return used
        after = page.after


def _stamp(thread: ThreadMetadata, field: str, context: NotebookContext) -> str | None:
    """The context's user's stamp, else one kept for no user."""
    ours: Any = thread.metadata.get(KEY)
    if not isinstance(ours, dict):
        return None
    users = ours.get("users")
    mine = users.get(context.user) if context.user and isinstance(users, dict) else None
    value = mine.get(field) if isinstance(mine, dict) and mine else ours.get(field)
    return value if isinstance(value, str) else None
