"""``NotebookStore``: a notebook's ChatKit threads, kept durably in one file beside it.

The store implements ChatKit's ``Store`` (and ``AttachmentStore``) contract over the
journal format in ``_journal.py``. What it promises:

* Every mutation is fsynced before its coroutine returns, at a cost that does not grow
  with the file (an append), and no crash leaves a file that cannot be opened.
* Two kernels on one notebook do not lose each other's writes: every call takes the
  ``.<file>.lock`` file lock (across processes), and before it an asyncio lock (per event
  loop) and a thread lock shared by every store on that path in this process (filelock is
  re-entrant, so it alone cannot keep two coroutines of one kernel apart). It then catches
  up with what others appended before it reads or writes: nothing is written back from a
  stale in-memory snapshot.
* A corrupt or foreign file is copied aside byte for byte as ``<file>.corrupt-<UTC time>``
  and replaced by the last good state it held, with one ``StoreWarning`` naming both
  files. A file from a newer major schema version is opened read-only and never touched.
* Blocking file work runs in a worker thread, never on the kernel's event loop.

Loaded models are validated from the stored JSON on each call, so callers get fresh
objects they may mutate freely (the ChatKit server does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from chatkit.store import AttachmentStore, NotFoundError, Store, StoreItemType
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata
from filelock import FileLock, Timeout
from pydantic import BaseModel, TypeAdapter, ValidationError

from .._items import bounded_thread
from ..context import NotebookContext
from ..errors import (
    StoreCorruptError,
    StoreError,
    StoreLockTimeout,
    StoreReadOnlyError,
    StoreVersionError,
    StoreWarning,
)
from . import _journal
from ._state import Ordered, State

__all__ = ["NotebookStore"]

logger = logging.getLogger("chatkit_notebook")

_T = TypeVar("_T")
_R = TypeVar("_R", bound=BaseModel)
_THREAD = TypeAdapter(ThreadMetadata)
_ITEM: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
_ATTACHMENT: TypeAdapter[Attachment] = TypeAdapter(Attachment)

# Compact when superseded records exceed both the live data and this many bytes.
_COMPACT_MIN_GARBAGE = 1024 * 1024


class _ThreadRecord(BaseModel):
    data: ThreadMetadata


class _ItemRecord(BaseModel):
    data: ThreadItem


class _AttachmentRecord(BaseModel):
    data: Attachment


_THREAD_RECORD = TypeAdapter(_ThreadRecord)
_ITEM_RECORD = TypeAdapter(_ItemRecord)
_ATTACHMENT_RECORD = TypeAdapter(_AttachmentRecord)


# Three locks guard a store file, from the outside in:
# - an asyncio.Lock per event loop and path, so coroutines queue on the loop instead of
#   each tying up a worker thread while they wait;
# - a threading.Lock per path, shared by every store object on it in this process (other
#   loops and threads included), because the file lock is re-entrant within a process;
# - the .<file>.lock file lock (hidden), between processes.
_PROCESS_LOCKS: dict[Path, threading.Lock] = {}
_LOOP_LOCKS: dict[Path, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]] = {}
_LOCKS_GUARD = threading.Lock()


def _process_lock(path: Path) -> threading.Lock:
    """The lock for ``path`` that every thread and store object in this process shares."""
    with _LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(path, threading.Lock())


def _loop_lock(path: Path) -> asyncio.Lock:
    """The lock for ``path`` that coroutines on the running event loop share."""
    loop = asyncio.get_running_loop()
    with _LOCKS_GUARD:
        by_loop = _LOOP_LOCKS.setdefault(path, weakref.WeakKeyDictionary())
        lock = by_loop.get(loop)
        if lock is None:
            lock = by_loop[loop] = asyncio.Lock()
        return lock


def _new_id(item_type: StoreItemType) -> str:
    # chatkit's default ids carry 32 random bits; a notebook kept for years wants more.
    prefix = {
        "thread": "thr",
        "message": "msg",
        "tool_call": "tc",
        "workflow": "wf",
        "task": "tsk",
        "attachment": "atc",
        "sdk_hidden_context": "shcx",
    }[item_type]
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class LongIds:
    """The ids the package's stores make (see ``_new_id``): chatkit's prefixes, more bits."""

    def generate_thread_id(self, context: NotebookContext) -> str:
        return _new_id("thread")

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: NotebookContext
    ) -> str:
        return _new_id(item_type)

    def generate_attachment_id(self, mime_type: str, context: NotebookContext) -> str:
        return _new_id("attachment")


class NotebookStore(LongIds, Store[NotebookContext], AttachmentStore[NotebookContext]):
    """A ChatKit store for one notebook's threads, in one file that travels with it.

    Args:
        path: The store file, e.g. ``analysis.chatkit.json`` beside ``analysis.ipynb``
            (see :func:`chatkit_notebook.store_path_for`). Created, mode 0600, on the first
            write; its folder is created if missing.
        lock_timeout: Seconds to wait for another process's lock before raising
            :class:`~chatkit_notebook.errors.StoreLockTimeout`.

    Opening does no I/O; the file is read on the first call. Threads are not partitioned
    by user: the file belongs to one notebook.
    """

    compact_min_garbage: int = _COMPACT_MIN_GARBAGE
    """Superseded bytes the file may hold (and no more than its live bytes) before compaction."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path).expanduser().resolve()
        # A dot-name: Jupyter's file browser (and ls) leave hidden files out.
        self.lock_path = self.path.with_name(f".{self.path.name}.lock")
        self._lock_timeout = lock_timeout
        self._mutex = _process_lock(self.path)
        self._file_lock = FileLock(
            self.lock_path,
            timeout=lock_timeout,
            mode=0o600,
            thread_local=False,
            # filelock polls a held lock; its 50 ms default lets the holder win every
            # race, starving the other kernel. Writes take under a millisecond.
            poll_interval=0.001,
        )
        self._state = State()
        self._header: _journal.Header | None = None
        self._offset = 0  # bytes of the file replayed into _state
        self._fingerprint: tuple[int, int, int, int] | None = None
        self._opened = False
        self._read_only: StoreError | None = None

    def __repr__(self) -> str:
        return f"NotebookStore({str(self.path)!r})"

    @property
    def read_only(self) -> StoreError | None:
        """Why the store refuses writes (the error writes raise), or ``None`` if it accepts them."""
        return self._read_only

    # -- threads -----------------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: NotebookContext) -> ThreadMetadata:
        def read(state: State) -> ThreadMetadata:
            row = state.threads.rows.get(thread_id)
            thread = None if row is None else self._decode(_THREAD_RECORD, row.line)
            if thread is None:
                raise NotFoundError(f"Thread {thread_id} not found")
            return bounded_thread(thread.data)  # a title an older release kept whole

        return await self._read(read)

    async def save_thread(self, thread: ThreadMetadata, context: NotebookContext) -> None:
        thread = bounded_thread(thread)  # whoever saves it: the server, a client, a copy
        # Dumping through the ThreadMetadata adapter drops the `items` of a Thread.
        data = _THREAD.dump_python(thread, mode="json")
        await self._write(lambda state: [{"op": "thread", "id": thread.id, "data": data}])

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: NotebookContext
    ) -> Page[ThreadMetadata]:
        def read(state: State) -> Page[ThreadMetadata]:
            rows, has_more, next_after = state.threads.page(after, limit, order, "threads")
            decoded = (self._decode(_THREAD_RECORD, row.line) for row in rows)
            data = [bounded_thread(record.data) for record in decoded if record is not None]
            return Page(data=data, has_more=has_more, after=next_after)

        return await self._read(read)

    async def delete_thread(self, thread_id: str, context: NotebookContext) -> None:
        def build(state: State) -> list[dict[str, Any]]:
            linked = state.attachments_linked_to(thread_id)
            if thread_id in state.threads.rows or thread_id in state.items or linked:
                return [{"op": "delete_thread", "id": thread_id}]
            return []

        await self._write(build)

    # -- items -------------------------------------------------------------------------

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: NotebookContext,
    ) -> Page[ThreadItem]:
        def read(state: State) -> Page[ThreadItem]:
            rows, has_more, next_after = state.items.get(thread_id, Ordered()).page(
                after, limit, order, f"the items of thread {thread_id}"
            )
            decoded = (self._decode(_ITEM_RECORD, row.line) for row in rows)
            data = [record.data for record in decoded if record is not None]
            return Page(data=data, has_more=has_more, after=next_after)

        return await self._read(read)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: NotebookContext
    ) -> None:
        # An upsert that keeps the first insert's position: ChatKit adds a workflow that
        # was still open at the end of a run a second time when it closes.
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: NotebookContext) -> None:
        data = _ITEM.dump_python(item, mode="json")
        record = {"op": "item", "thread_id": thread_id, "id": item.id, "data": data}
        await self._write(lambda state: [record])

    async def load_item(self, thread_id: str, item_id: str, context: NotebookContext) -> ThreadItem:
        def read(state: State) -> ThreadItem:
            row = state.items.get(thread_id, Ordered()).rows.get(item_id)
            record = None if row is None else self._decode(_ITEM_RECORD, row.line)
            if record is None:
                raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")
            return record.data

        return await self._read(read)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: NotebookContext
    ) -> None:
        def build(state: State) -> list[dict[str, Any]]:
            if item_id in state.items.get(thread_id, Ordered()).rows:
                return [{"op": "delete_item", "thread_id": thread_id, "id": item_id}]
            return []

        await self._write(build)

    # -- attachments (metadata only) ---------------------------------------------------

    async def save_attachment(self, attachment: Attachment, context: NotebookContext) -> None:
        data = _ATTACHMENT.dump_python(attachment, mode="json")
        await self._write(lambda state: [{"op": "attachment", "id": attachment.id, "data": data}])

    async def load_attachment(self, attachment_id: str, context: NotebookContext) -> Attachment:
        def read(state: State) -> Attachment:
            row = state.attachments.get(attachment_id)
            record = None if row is None else self._decode(_ATTACHMENT_RECORD, row.line)
            if record is None:
                raise NotFoundError(f"Attachment {attachment_id} not found")
            return record.data

        return await self._read(read)

    async def delete_attachment(self, attachment_id: str, context: NotebookContext) -> None:
        def build(state: State) -> list[dict[str, Any]]:
            if attachment_id in state.attachments:
                return [{"op": "delete_attachment", "id": attachment_id}]
            return []

        await self._write(build)

    # -- maintenance -------------------------------------------------------------------

    async def change_token(
        self, context: NotebookContext, thread_id: str | None = None
    ) -> tuple[int, int, int, int] | None:
        """A value that changes whenever the file does (its fingerprint: device, inode, size
        and modification time), for a panel that shows what another kernel added; ``None``
        before it exists.
        """
        try:
            return _fingerprint(os.stat(self.path))
        except FileNotFoundError:
            return None

    async def compact(self) -> None:
        """Rewrite the file with only its live records (it is also done automatically).

        Superseded versions of upserted items and deleted records are dropped; unknown
        records from a newer minor schema version are kept.
        """

        def compact() -> None:
            with self._locked(write=True):
                self._refresh(locked=True)
                if self._read_only is not None:
                    raise self._read_only
                if self._fingerprint is not None:
                    self._compact()

        async with _loop_lock(self.path):
            await asyncio.to_thread(compact)

    # -- machinery ---------------------------------------------------------------------

    async def _read(self, read: Callable[[State], _T]) -> _T:
        async with _loop_lock(self.path):
            return await asyncio.to_thread(self._read_sync, read)

    async def _write(self, build: Callable[[State], list[dict[str, Any]]]) -> None:
        async with _loop_lock(self.path):
            await asyncio.to_thread(self._write_sync, build)

    def _read_sync(self, read: Callable[[State], _T]) -> _T:
        with self._locked(write=False) as locked:
            self._refresh(locked=locked)
            return read(self._state)

    def _write_sync(self, build: Callable[[State], list[dict[str, Any]]]) -> None:
        with self._locked(write=True):
            if isinstance(self._read_only, StoreCorruptError):
                self._fingerprint = None  # seen corrupt without the lock: repair it now
            self._refresh(locked=True)
            if self._read_only is not None:
                raise self._read_only
            records = build(self._state)
            if not records:
                return
            lines = [_journal.encode(record) for record in records]
            try:
                if self._fingerprint is None:
                    header = self._header = _journal.new_header()
                    stat = _journal.write_atomic(self.path, [header.line(), *lines])
                    self._offset = len(header.line())
                else:
                    stat = _journal.append_durably(self.path, self._offset, b"".join(lines))
            except OSError as e:
                msg = (
                    f"Could not save to the thread store {self.path}: {e}. Nothing was changed; "
                    "free disk space or fix the permissions, or choose another file with "
                    "CHATKIT_NOTEBOOK_STORE."
                )
                raise StoreError(msg) from e
            for line in lines:
                self._offset += len(line)
                parsed = _journal.parse_record(line[:-1], allow_unknown_ops=False)
                self._state.apply(parsed, line[:-1])
            self._fingerprint = _fingerprint(stat)
            self._maybe_compact()

    @contextlib.contextmanager
    def _locked(self, *, write: bool) -> Iterator[bool]:
        """Hold this process's lock for the path, then the lock file; yield whether locked."""
        with self._mutex:
            if write:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    msg = f"Cannot create the folder for the thread store {self.path}: {e}"
                    raise StoreError(msg) from e
            if not write and not self.path.exists():
                # Nothing to read, and reading must leave no folder or lock file behind.
                # The file only ever appears whole (created by an atomic rename).
                yield False
                return
            try:
                self._file_lock.acquire()
            except Timeout as e:
                msg = (
                    f"Another process has held {self.lock_path} for over {self._lock_timeout:g} s. "
                    "If no other kernel uses this notebook, delete the lock file and retry."
                )
                raise StoreLockTimeout(msg) from e
            except OSError as e:
                if write:
                    msg = f"Cannot lock the thread store {self.path} for writing: {e}"
                    raise StoreReadOnlyError(msg) from e
                # An unwritable folder: read without the lock. Appends are whole lines and
                # compaction is an atomic rename, so the reader still sees whole records.
                yield False
                return
            try:
                yield True
            finally:
                self._file_lock.release()

    def _refresh(self, *, locked: bool) -> None:
        """Catch up with the file: replay what was appended, or reload if it was replaced."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            if self._fingerprint is not None:
                logger.warning("The thread store %s was deleted; starting empty.", self.path)
            self._reset()
            self._first_open(locked)
            return
        except OSError as e:
            raise StoreError(f"Cannot read the thread store {self.path}: {e}") from e
        fingerprint = _fingerprint(stat)
        if fingerprint == self._fingerprint:
            return
        try:
            with open(self.path, "rb") as f:
                if self._can_continue(f, fingerprint):
                    f.seek(self._offset)
                    scan = _journal.scan_records(
                        f.read(),
                        first_line=0,
                        allow_unknown_ops=self._allows_unknown_ops(),
                        apply=self._state.apply,
                    )
                    if scan.error is None:
                        self._offset += scan.consumed
                        self._fingerprint = fingerprint
                        return
                    # The records before the bad line are applied; the whole file is
                    # replayed below. Forget them first, in case reading it fails.
                    self._reset()
                f.seek(0)
                data = f.read()
        except OSError as e:
            raise StoreError(f"Cannot read the thread store {self.path}: {e}") from e
        self._load(data, fingerprint, locked)
        self._first_open(locked)

    def _can_continue(self, f: Any, fingerprint: tuple[int, int, int, int]) -> bool:
        """Whether the file is the one replayed so far, grown by appends."""
        known = self._fingerprint
        if known is None or self._header is None or known[:2] != fingerprint[:2]:
            return False
        if fingerprint[2] < self._offset:
            return False
        try:
            header = _journal.parse_header(f.readline(_journal.MAX_HEADER_BYTES))
        except _journal.CorruptRecord:
            return False
        return header.generation == self._header.generation

    def _allows_unknown_ops(self) -> bool:
        return (
            self._header is not None and self._header.schema_version[1] > _journal.SCHEMA_VERSION[1]
        )

    def _reset(self) -> None:
        self._state = State()
        self._header = None
        self._offset = 0
        self._fingerprint = None
        self._read_only = None

    def _load(self, data: bytes, fingerprint: tuple[int, int, int, int], locked: bool) -> None:
        """Replay a whole file; quarantine it if it is corrupt."""
        self._reset()
        newline = data.find(b"\n")
        problem: str | None = None
        try:
            if newline < 0:
                raise _journal.CorruptRecord("the file has no header line")
            header = _journal.parse_header(data[:newline])
        except _journal.CorruptRecord as e:
            problem = f"line 1: {e}"
            header = None
        if header is not None and header.schema_version[0] > _journal.SCHEMA_VERSION[0]:
            self._open_newer(data, newline, header)
            self._fingerprint = fingerprint
            return
        scan = None
        if header is not None:
            scan = _journal.scan_records(
                data[newline + 1 :],
                first_line=2,
                allow_unknown_ops=header.schema_version[1] > _journal.SCHEMA_VERSION[1],
                apply=self._state.apply,
            )
            problem = scan.error
        if problem is None and header is not None and scan is not None:
            self._header = header
            self._offset = newline + 1 + scan.consumed
            self._fingerprint = fingerprint
            return
        self._fingerprint = fingerprint  # replaced below if the file is repaired
        self._quarantine(data, problem or "unreadable", header, locked)

    def _open_newer(self, data: bytes, newline: int, header: _journal.Header) -> None:
        found = header.schema_version
        supported = _journal.SCHEMA_VERSION
        msg = (
            f"The thread store {self.path} was written with store schema {found[0]}.{found[1]}, "
            f"but this chatkit-notebook reads schema {supported[0]}.x. It is open read-only and "
            "left untouched; upgrade chatkit-notebook (pip install -U chatkit-notebook) "
            "to add to it."
        )
        self._read_only = StoreVersionError(msg, found=found, supported=supported)
        scan = _journal.scan_records(
            data[newline + 1 :],
            first_line=2,
            allow_unknown_ops=True,
            lenient=True,
            apply=self._state.apply,
        )
        self._header = header
        self._offset = newline + 1 + scan.consumed
        warnings.warn(msg, StoreWarning, stacklevel=2)

    def _quarantine(
        self, data: bytes, problem: str, header: _journal.Header | None, locked: bool
    ) -> None:
        """Copy a corrupt file aside, then replace it with the good records it held."""
        kept = _count(self._state)
        if not locked:
            msg = (
                f"The thread store {self.path} is corrupt ({problem}) and its folder is not "
                f"writable, so it was left as it is. Showing the {kept} records before the damage, "
                "read-only; copy the file somewhere writable to repair it."
            )
            self._read_only = StoreCorruptError(msg)
            warnings.warn(msg, StoreWarning, stacklevel=2)
            return
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            _copy_exclusive(data, aside)
            repaired = _journal.new_header(header)
            stat = _journal.write_atomic(self.path, [repaired.line(), *self._state.lines()])
        except OSError as e:
            msg = (
                f"The thread store {self.path} is corrupt ({problem}) and could not be set aside "
                f"({e}). It was left as it is; the store is read-only until the file is moved away."
            )
            self._read_only = StoreCorruptError(msg)
            warnings.warn(msg, StoreWarning, stacklevel=2)
            return
        self._header = repaired
        self._offset = stat.st_size
        self._fingerprint = _fingerprint(stat)
        msg = (
            f"The thread store {self.path} was corrupt ({problem}). Its bytes were moved aside "
            f"unchanged to {aside}; the store carries on with the {kept} records written before "
            "the damage."
        )
        warnings.warn(msg, StoreWarning, stacklevel=2)

    def _first_open(self, locked: bool) -> None:
        """On the first read of the file: sweep temporary files that crashed writers left."""
        if self._opened or not locked:
            return
        self._opened = True
        # Writers hold the lock while a temporary file exists, so any we see is a leftover.
        prefix = _journal.temp_prefix(self.path)
        with contextlib.suppress(OSError):
            for leftover in self.path.parent.glob(f"{prefix}*"):
                with contextlib.suppress(OSError):
                    leftover.unlink()

    def _maybe_compact(self) -> None:
        live = self._state.live_bytes
        garbage = self._offset - live
        if garbage <= max(live, self.compact_min_garbage):
            return
        try:
            self._compact()
        except StoreError as e:  # the appended records are durable; compaction can wait
            logger.warning("%s", e)

    def _compact(self) -> None:
        header = _journal.new_header(self._header)
        try:
            stat = _journal.write_atomic(self.path, [header.line(), *self._state.lines()])
        except OSError as e:
            raise StoreError(f"Could not compact the thread store {self.path}: {e}") from e
        self._header = header
        self._offset = stat.st_size
        self._fingerprint = _fingerprint(stat)

    def _decode(self, adapter: TypeAdapter[_R], line: bytes) -> _R | None:
        """Validate a stored record, or skip it with a warning if it is not one we read."""
        try:
            return adapter.validate_json(line)
        except ValidationError as e:
            logger.warning(
                "Skipping a record in %s that this chatkit-notebook cannot read "
                "(from a newer version?): %s",
                self.path,
                e.errors(include_url=False)[:1],
            )
            return None


def _fingerprint(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _count(state: State) -> int:
    return len(state.threads.rows) + sum(len(items.rows) for items in state.items.values())


def _copy_exclusive(data: bytes, target: Path) -> None:
    """Write ``data`` to a new 0600 file ``target``, never overwriting one, and fsync it."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    _journal.fsync_dir(target.parent)
