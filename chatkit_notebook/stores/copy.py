"""Copying every thread of one ChatKit store into another (``%chatkit store --copy-to``).

A notebook's threads move between a sidecar file (``NotebookStore``) and PostgreSQL
(``PostgresStore``) either way through chatkit's public ``Store`` API alone, so any two
stores with the same contract work. Ids, contents and order are kept: threads and each
thread's items are read oldest first and written in that order, and since both stores sort
by ``created_at`` and then by first insertion, the target ends up in the source's order.
The copy merges and never deletes: what the target has that the source lacks stays, what
both have is made the source's version, and so a second copy writes nothing at all.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chatkit.store import AttachmentStore, NotFoundError, Store
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata, UserMessageItem
from pydantic import TypeAdapter

from ..context import NotebookContext
from ..errors import StoreError, StoreReadOnlyError
from .file import NotebookStore

__all__ = ["PAGE_SIZE", "CopyReport", "copy_threads"]

PAGE_SIZE = 200
"""Threads or items read per call, from either store."""

_T = TypeVar("_T")
_THREAD = TypeAdapter(ThreadMetadata)
_ITEM: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
_ATTACHMENT: TypeAdapter[Attachment] = TypeAdapter(Attachment)


@dataclass(frozen=True)
class CopyReport:
    """What a copy did to the target.

    Attributes:
        threads: Threads the target did not have, now copied.
        items: Items added to the target, in new threads or in ones it had already.
        attachments: Attachment records added to the target (those of the copied user
            messages that the source holds a record of).
        present: Threads the target had already; their missing items were added.
        updated: Threads, items and attachments the target had with other contents,
            overwritten with the source's. A repeated copy reports 0: identical ones are
            left alone.
        failed: ``(thread id, reason)`` for each thread the target refused, such as an id
            that belongs to another user's thread there. The others were copied.
    """

    threads: int = 0
    items: int = 0
    attachments: int = 0
    present: int = 0
    updated: int = 0
    failed: tuple[tuple[str, str], ...] = ()

    def describe(self, source: str, target: str) -> str:
        """A sentence or two for the magic's output, naming the two stores as given."""
        if self.threads or self.items or self.attachments or self.updated:
            copied = [_plural(self.threads, "new thread"), _plural(self.items, "new item")]
            if self.attachments:
                copied.append(_plural(self.attachments, "attachment"))
            text = f"Copied {', '.join(copied[:-1])} and {copied[-1]} from {source} to {target}"
            if self.present:
                text += f"; {_plural(self.present, 'thread')} {_were(self.present)} there already"
            if self.updated:
                text += (
                    f"; {self.updated} that differed there {_were(self.updated)} overwritten "
                    "with the source's version"
                )
        elif self.present:
            text = (
                f"Nothing new to copy from {source} to {target}: "
                f"{_plural(self.present, 'thread')} {_were(self.present)} there already"
            )
        elif self.failed:
            text = f"Nothing was copied from {source} to {target}"
        else:
            text = f"Nothing to copy: {source} has no threads"
        sentences = [text + "."]
        by_reason: dict[str, list[str]] = {}
        for thread_id, reason in self.failed:
            by_reason.setdefault(reason, []).append(thread_id)
        for reason, ids in by_reason.items():
            which = f"{_plural(len(ids), 'thread')} could not be copied ({', '.join(ids)})"
            sentences.append(f"{which}: {reason.rstrip('.')}.")
        return " ".join(sentences)


async def copy_threads(
    source: Store[NotebookContext],
    target: Store[NotebookContext],
    context: NotebookContext,
    *,
    target_context: NotebookContext | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CopyReport:
    """Copy every thread and item of ``source`` into ``target``, keeping ids and order.

    Idempotent: a thread or item the target already has with the same contents is not
    written again, one with other contents is overwritten with the source's, and nothing
    in the target is deleted. Attachment records of the copied user messages are copied
    when both stores are ``AttachmentStore``s; attachments no message refers to are not.

    Args:
        source: The store to read.
        target: The store to write; it must not be ``source`` (nor on the same file, or
            the same database and notebook key).
        context: The request context for ``source``, and for ``target`` unless
            ``target_context`` is given. A ``PostgresStore`` copies its ``user``'s threads,
            or writes them as that user's.
        target_context: The request context for ``target``.
        progress: Called with (threads done, threads in all) before the first thread and
            after each one.

    Returns:
        What was added, updated, and refused; see :class:`CopyReport`.

    Raises:
        ValueError: ``source`` and ``target`` are the same store.
        StoreError: Reading ``source`` failed, or ``target`` cannot be reached or refuses
            every write (:class:`~chatkit_notebook.errors.StoreReadOnlyError`). What was
            copied before stays; copying again carries on from there. A failure confined
            to one thread is reported in ``CopyReport.failed`` instead.
    """
    if _same_place(source, target):
        msg = (
            f"The source and the target are the same store ({source!r}): copy to another "
            "file, database or notebook key."
        )
        raise ValueError(msg)
    copier = _Copier(
        source,
        target,
        context,
        context if target_context is None else target_context,
        with_attachments=_attachment_stores(source, target),
    )
    threads = [
        thread
        async for thread in _each(
            lambda after: source.load_threads(PAGE_SIZE, after, "asc", context)
        )
    ]
    if progress is not None:
        progress(0, len(threads))
    for done, thread in enumerate(threads, start=1):
        try:
            await copier.copy_thread(thread)
        except _Refused as e:
            copier.failed.append((thread.id, e.reason))
        if progress is not None:
            progress(done, len(threads))
    return copier.report()


class _Refused(Exception):
    """One thread could not be copied; the others can."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Copier:
    """The two stores and contexts of one copy, and its running counts."""

    source: Store[NotebookContext]
    target: Store[NotebookContext]
    context: NotebookContext
    target_context: NotebookContext
    threads: int = 0
    items: int = 0
    attachments: int = 0
    present: int = 0
    updated: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    with_attachments: bool = False
    seen_attachments: set[str] = field(default_factory=set)

    def report(self) -> CopyReport:
        return CopyReport(
            threads=self.threads,
            items=self.items,
            attachments=self.attachments,
            present=self.present,
            updated=self.updated,
            failed=tuple(self.failed),
        )

    async def copy_thread(self, thread: ThreadMetadata) -> None:
        # The thread first: PostgresStore adds items only to a thread in scope.
        there = await self._to_target(self._target_thread(thread.id))
        if there is None:
            await self._to_target(self.target.save_thread(thread, self.target_context))
            self.threads += 1
        else:
            self.present += 1
            if _digest(_THREAD, there) != _digest(_THREAD, thread):
                await self._to_target(self.target.save_thread(thread, self.target_context))
                self.updated += 1
        held = {
            item.id: _digest(_ITEM, item)
            async for item in _each(lambda after: self._target_items(thread.id, after))
        }
        order: list[str] = []
        wrote = False
        async for item in _each(lambda after: self._source_items(thread.id, after)):
            order.append(item.id)
            await self._copy_attachments(item)
            digest = held.get(item.id)
            if digest is None:
                await self._to_target(
                    self.target.add_thread_item(thread.id, item, self.target_context)
                )
                self.items += 1
            elif digest != _digest(_ITEM, item):
                await self._to_target(self.target.save_item(thread.id, item, self.target_context))
                self.updated += 1
            else:
                continue
            wrote = True
        # Appended to items the target had already, new items may sort differently where
        # created_at ties (the target breaks ties by its own insertion order).
        if wrote and not held.keys().isdisjoint(order):
            await self._keep_order(thread.id, order)

    async def _copy_attachments(self, item: ThreadItem) -> None:
        """Copy the records of a user message's attachments, before the message itself."""
        if not self.with_attachments or not isinstance(item, UserMessageItem):
            return
        for embedded in item.attachments:
            if embedded.id in self.seen_attachments:
                continue
            self.seen_attachments.add(embedded.id)
            try:
                record = await self.source.load_attachment(embedded.id, self.context)
            except NotFoundError:
                continue  # deleted from the source; the message keeps its own copy
            there = await self._to_target(self._target_attachment(embedded.id))
            if there is not None and _digest(_ATTACHMENT, there) == _digest(_ATTACHMENT, record):
                continue
            await self._to_target(self.target.save_attachment(record, self.target_context))
            if there is None:
                self.attachments += 1
            else:
                self.updated += 1

    async def _keep_order(self, thread_id: str, order: list[str]) -> None:
        """Put the target's copies of ``order`` in that order, re-adding the misplaced tail.

        Deleted and added again, in the source's order, each item from the first one out of
        place gets a newer insertion rank than every other: ties then break as in the source.
        """
        wanted = set(order)
        held = [
            item.id
            async for item in _each(lambda after: self._target_items(thread_id, after))
            if item.id in wanted
        ]
        if held == order:
            return
        pairs = zip(held, order, strict=False)  # held lacks any deleted there meanwhile
        first = next((n for n, (a, b) in enumerate(pairs) if a != b), len(held))
        tail = set(order[first:])
        for item_id in order[first:]:
            await self._to_target(
                self.target.delete_thread_item(thread_id, item_id, self.target_context)
            )
        cursor = order[first - 1] if first else None
        async for item in _each(lambda after: self._source_items(thread_id, after), cursor):
            if item.id in tail:
                await self._to_target(
                    self.target.add_thread_item(thread_id, item, self.target_context)
                )

    # -- one call each, with its failures sorted out --------------------------------------

    async def _source_items(self, thread_id: str, after: str | None) -> Page[ThreadItem]:
        try:
            return await self.source.load_thread_items(
                thread_id, after, PAGE_SIZE, "asc", self.context
            )
        except NotFoundError as e:  # the item the page started after was deleted meanwhile
            raise _Refused(f"it changed in the source during the copy ({e}); copy again") from e

    async def _target_items(self, thread_id: str, after: str | None) -> Page[ThreadItem]:
        return await self._to_target(
            self.target.load_thread_items(thread_id, after, PAGE_SIZE, "asc", self.target_context)
        )

    async def _target_thread(self, thread_id: str) -> ThreadMetadata | None:
        try:
            return await self.target.load_thread(thread_id, self.target_context)
        except NotFoundError:
            return None

    async def _target_attachment(self, attachment_id: str) -> Attachment | None:
        try:
            return await self.target.load_attachment(attachment_id, self.target_context)
        except NotFoundError:
            return None

    async def _to_target(self, call: Awaitable[_T]) -> _T:
        """Await a call on the target; a refusal that concerns only this thread is ``_Refused``.

        A target that refuses all writes, or that no longer answers at all, raises its own
        error: every other thread would fail the same way.
        """
        try:
            return await call
        except NotFoundError as e:
            # The thread exists there out of this context's scope (another user's or another
            # notebook's thread in PostgreSQL), or was deleted there during the copy.
            raise _Refused(
                f"{e} in the target for this user; that id may be another user's there"
            ) from e
        except StoreReadOnlyError:
            raise
        except StoreError as e:
            if not await self._target_answers():
                raise
            raise _Refused(str(e)) from e

    async def _target_answers(self) -> bool:
        try:
            await self.target.load_threads(1, None, "asc", self.target_context)
        except StoreError:
            return False
        return True


async def _each(
    load: Callable[[str | None], Awaitable[Page[_T]]], after: str | None = None
) -> AsyncIterator[_T]:
    """Every row of a paged listing, from after the ``after`` id."""
    while True:
        page = await load(after)
        for row in page.data:
            yield row
        if not page.has_more or page.after is None:
            return
        after = page.after


def _digest(adapter: TypeAdapter[Any], value: Any) -> bytes:
    """A fingerprint of a model's contents, blind to what a store may change in transit.

    PostgreSQL's jsonb reorders object keys and reads ``1e20`` back as an integer, so keys
    are sorted and integral floats count as integers, as ``==`` would count them.
    """
    text = json.dumps(_integral(adapter.dump_python(value, mode="json")), sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(part) for part in value]
    if isinstance(value, dict):
        return {key: _integral(part) for key, part in value.items()}
    return value


def _attachment_stores(*stores: Store[NotebookContext]) -> bool:
    return all(isinstance(store, AttachmentStore) for store in stores)


def _same_place(a: Store[NotebookContext], b: Store[NotebookContext]) -> bool:
    """Whether two store objects hold the same threads."""
    if a is b:
        return True
    place = _place(a)
    return place is not None and place == _place(b)


def _place(store: Store[NotebookContext]) -> tuple[Any, ...] | None:
    """Where a store keeps its threads, if it is one of ours: its file, or its database and
    notebook key (all users' threads of a key share one id space)."""
    if isinstance(store, NotebookStore):
        return ("file", store.path)
    pgstore = sys.modules.get("chatkit_notebook.stores.postgres")  # not imported: no PostgresStore
    if pgstore is not None and isinstance(store, pgstore.PostgresStore):
        return ("postgresql", store.database, store.notebook_key)
    return None


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"
