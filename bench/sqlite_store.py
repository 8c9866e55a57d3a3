"""A SQLite baseline store for benchmarking ``NotebookStore``.

``SQLiteStore`` implements ``chatkit.store.Store`` (and ``AttachmentStore``) on the stdlib
``sqlite3`` module with the same contract as ``chatkit_notebook.NotebookStore``: upserts that
keep an item's original position, ``(created_at, insertion sequence)`` ordering, exclusive id
cursors that raise ``NotFoundError`` when unknown, and exact pydantic round trips. Its
durability is set to match a journal that fsyncs every mutation (WAL, ``synchronous=FULL``,
one transaction per mutation), so ``bench/store_bench.py`` compares like with like. It is a
benchmark baseline, not part of the package.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

from chatkit.store import AttachmentStore, NotFoundError, Store
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata
from pydantic import TypeAdapter

__all__ = ["SQLiteStore"]

_T = TypeVar("_T")

_ITEM = TypeAdapter[ThreadItem](ThreadItem)
_THREAD = TypeAdapter(ThreadMetadata)
_ATTACHMENT = TypeAdapter[Attachment](Attachment)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)

# `seq` is an AUTOINCREMENT key so it never goes backwards, even after deletes; upserts
# (ON CONFLICT DO UPDATE) keep the row, so they keep `seq` and `sort_key`: its position.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sort_key INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS threads_order ON threads (sort_key, seq);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id TEXT NOT NULL,
    id TEXT NOT NULL,
    sort_key INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (thread_id, id)
);
CREATE INDEX IF NOT EXISTS items_order ON items (thread_id, sort_key, seq);
CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY,
    thread_id TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_thread ON attachments (thread_id);
"""


def _sort_key(created_at: datetime) -> int:
    """Return ``created_at`` as integer microseconds since the epoch.

    Naive datetimes are read as local time, as ``datetime.astimezone`` does.
    """
    return (created_at.astimezone(timezone.utc) - _EPOCH) // _MICROSECOND


def _check_paging(limit: int, order: str) -> None:
    if limit < 0:
        msg = f"limit must be >= 0, got {limit}"
        raise ValueError(msg)
    if order not in ("asc", "desc"):
        msg = f"order must be 'asc' or 'desc', got {order!r}"
        raise ValueError(msg)


def _page_query(table: str, where: str, order: str, *, has_cursor: bool) -> str:
    """Build the SELECT for one page of ``table`` in ``(sort_key, seq)`` order."""
    cmp = ">" if order == "asc" else "<"
    direction = "ASC" if order == "asc" else "DESC"
    conditions = [where] if where else []
    if has_cursor:
        conditions.append(f"(sort_key, seq) {cmp} (?, ?)")
    clause = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    return (
        f"SELECT id, data FROM {table} {clause}"
        f"ORDER BY sort_key {direction}, seq {direction} LIMIT ?"
    )


class SQLiteStore(Store[object], AttachmentStore[object]):
    """A ``chatkit`` store in one SQLite database file.

    One connection, shared by the worker threads that ``asyncio.to_thread`` uses and guarded
    by a ``threading.Lock``; every mutation is one ``BEGIN IMMEDIATE`` transaction committed
    before the coroutine returns. The context argument is accepted and ignored.

    Args:
        path: The database file; created with its schema if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # isolation_level=None: autocommit, so transactions are exactly the BEGINs below.
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        # Close on garbage collection too (Python 3.13 warns about unclosed connections).
        self._finalizer = weakref.finalize(self, self._conn.close)
        with self._lock:
            self._conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        with self._lock:
            self._finalizer()

    # -- plumbing ---------------------------------------------------------------------------

    def _transaction(self, fn: Callable[[sqlite3.Connection], _T], *, write: bool) -> _T:
        """Run ``fn`` in one transaction under the lock (in the calling worker thread)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = fn(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return result

    async def _read(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.to_thread(self._transaction, fn, write=False)

    async def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.to_thread(self._transaction, fn, write=True)

    # -- threads ----------------------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: object) -> ThreadMetadata:
        """Load a thread's metadata; raise ``NotFoundError`` if unknown."""

        def run(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT data FROM threads WHERE id = ?", (thread_id,)).fetchone()
            return None if row is None else str(row[0])

        data = await self._read(run)
        if data is None:
            msg = f"Thread {thread_id} not found"
            raise NotFoundError(msg)
        return _THREAD.validate_json(data)

    async def save_thread(self, thread: ThreadMetadata, context: object) -> None:
        """Upsert a thread's metadata, keeping its original position; drop a ``Thread``'s items."""
        data = _THREAD.dump_json(thread).decode()
        key = _sort_key(thread.created_at)

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO threads (id, sort_key, data) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                (thread.id, key, data),
            )

        await self._write(run)

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: object
    ) -> Page[ThreadMetadata]:
        """Load a page of threads ordered by ``created_at``, then insertion order."""
        _check_paging(limit, order)

        def run(conn: sqlite3.Connection) -> list[tuple[str, str]] | None:
            params: list[object] = []
            if after is not None:
                cursor = conn.execute(
                    "SELECT sort_key, seq FROM threads WHERE id = ?", (after,)
                ).fetchone()
                if cursor is None:
                    return None
                params.extend(cursor)
            sql = _page_query("threads", "", order, has_cursor=after is not None)
            return conn.execute(sql, [*params, limit + 1]).fetchall()

        rows = await self._read(run)
        if rows is None:
            msg = f"Cursor thread {after} not found"
            raise NotFoundError(msg)
        return _page(rows, limit, after, _THREAD.validate_json)

    async def delete_thread(self, thread_id: str, context: object) -> None:
        """Delete a thread and its items and unlink its attachments; unknown ids are a no-op."""

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,))
            conn.execute("DELETE FROM items WHERE thread_id = ?", (thread_id,))
            linked = conn.execute(
                "SELECT data FROM attachments WHERE thread_id = ?", (thread_id,)
            ).fetchall()
            for (data,) in linked:
                attachment = _ATTACHMENT.validate_json(data)
                attachment.thread_id = None
                conn.execute(
                    "UPDATE attachments SET thread_id = NULL, data = ? WHERE id = ?",
                    (_ATTACHMENT.dump_json(attachment).decode(), attachment.id),
                )

        await self._write(run)

    # -- items ------------------------------------------------------------------------------

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: object
    ) -> Page[ThreadItem]:
        """Load a page of a thread's items ordered by ``created_at``, then insertion order."""
        _check_paging(limit, order)

        def run(conn: sqlite3.Connection) -> list[tuple[str, str]] | None:
            params: list[object] = [thread_id]
            if after is not None:
                cursor = conn.execute(
                    "SELECT sort_key, seq FROM items WHERE thread_id = ? AND id = ?",
                    (thread_id, after),
                ).fetchone()
                if cursor is None:
                    return None
                params.extend(cursor)
            sql = _page_query("items", "thread_id = ?", order, has_cursor=after is not None)
            return conn.execute(sql, [*params, limit + 1]).fetchall()

        rows = await self._read(run)
        if rows is None:
            msg = f"Cursor item {after} not found in thread {thread_id}"
            raise NotFoundError(msg)
        return _page(rows, limit, after, _ITEM.validate_json)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: object) -> None:
        """Upsert an item by id; an existing item keeps its original position."""
        await self._upsert_item(thread_id, item)

    async def save_item(self, thread_id: str, item: ThreadItem, context: object) -> None:
        """Upsert an item by id; an existing item keeps its original position."""
        await self._upsert_item(thread_id, item)

    async def _upsert_item(self, thread_id: str, item: ThreadItem) -> None:
        data = _ITEM.dump_json(item).decode()
        key = _sort_key(item.created_at)

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO items (thread_id, id, sort_key, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (thread_id, id) DO UPDATE SET data = excluded.data",
                (thread_id, item.id, key, data),
            )

        await self._write(run)

    async def load_item(self, thread_id: str, item_id: str, context: object) -> ThreadItem:
        """Load one item of a thread; raise ``NotFoundError`` if unknown."""

        def run(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT data FROM items WHERE thread_id = ? AND id = ?", (thread_id, item_id)
            ).fetchone()
            return None if row is None else str(row[0])

        data = await self._read(run)
        if data is None:
            msg = f"Item {item_id} not found in thread {thread_id}"
            raise NotFoundError(msg)
        return _ITEM.validate_json(data)

    async def delete_thread_item(self, thread_id: str, item_id: str, context: object) -> None:
        """Delete one item of a thread; unknown ids are a no-op."""

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM items WHERE thread_id = ? AND id = ?", (thread_id, item_id))

        await self._write(run)

    # -- attachments ------------------------------------------------------------------------

    async def save_attachment(self, attachment: Attachment, context: object) -> None:
        """Upsert an attachment's metadata."""
        data = _ATTACHMENT.dump_json(attachment).decode()

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO attachments (id, thread_id, data) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET thread_id = excluded.thread_id, "
                "data = excluded.data",
                (attachment.id, attachment.thread_id, data),
            )

        await self._write(run)

    async def load_attachment(self, attachment_id: str, context: object) -> Attachment:
        """Load an attachment's metadata; raise ``NotFoundError`` if unknown."""

        def run(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT data FROM attachments WHERE id = ?", (attachment_id,)
            ).fetchone()
            return None if row is None else str(row[0])

        data = await self._read(run)
        if data is None:
            msg = f"Attachment {attachment_id} not found"
            raise NotFoundError(msg)
        return _ATTACHMENT.validate_json(data)

    async def delete_attachment(self, attachment_id: str, context: object) -> None:
        """Delete an attachment's metadata; unknown ids are a no-op."""

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM attachments WHERE id = ?", (attachment_id,))

        await self._write(run)


def _page(
    rows: list[tuple[str, str]],
    limit: int,
    after: str | None,
    parse: Callable[[str], _T],
) -> Page[_T]:
    """Turn ``limit + 1`` fetched ``(id, data)`` rows into a ``Page``."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    if not has_more:
        next_after = None
    elif rows:
        next_after = rows[-1][0]
    else:
        # limit == 0 with rows remaining: the caller's cursor is still the right one.
        next_after = after
    return Page(data=[parse(data) for _, data in rows], has_more=has_more, after=next_after)
