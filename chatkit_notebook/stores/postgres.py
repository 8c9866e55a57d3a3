"""``PostgresStore``: ChatKit threads in PostgreSQL, one database for a team.

The store implements ChatKit's ``Store`` and ``AttachmentStore`` with the semantics of
:class:`~chatkit_notebook.NotebookStore` (one contract suite tests both): upserts that keep
a row's first position, pages ordered by ``created_at`` then insertion, fresh objects on
every load. What it adds is scoping. Every thread belongs to a *notebook key* (the store's
``notebook_key``, e.g. the notebook's path from the Jupyter root) and to the user who made
it (the request context's); a user sees and changes only their own threads of that key, or
with ``shared=True`` everyone's threads of that key, never another key's. The condition is
part of every SQL statement, so a thread out of scope is "not found" exactly like one that
does not exist.

Tables, created on first use (see ``_pgsql.TABLES``; ``chatkit_notebook_schema`` holds the
schema version)::

    chatkit_notebook_threads      pk, notebook_key, owner, id, created_at, data
    chatkit_notebook_items        pk, thread_pk -> threads.pk (on delete cascade), id,
                                  created_at, data
    chatkit_notebook_attachments  notebook_key, owner, id, thread_id, data

``data`` is the ChatKit model's JSON (``jsonb``). ``pk`` is an identity column: it is the
insertion order that breaks ``created_at`` ties, and an upsert keeps it. Items and
attachments take the scope of their thread; an attachment not yet on a thread belongs to
whoever saved it.

Every operation is one SQL statement (so one transaction): an upsert or a delete by id, or
a read. Each is therefore safe to run twice, and one whose connection is lost (the server
restarted) is retried once on a new connection. Connections come from a
``psycopg_pool.AsyncConnectionPool`` opened on first use on the calling event loop; a
store used from several loops keeps one pool per loop.

Writes to threads and items notify the ``chatkit_notebook`` channel with their notebook key
(in the same statement, so when they commit); :meth:`PostgresStore.change_token` counts
what one LISTENing session per loop receives, so watching panels cost no queries.

Its parts: the SQL in ``_pgsql``, rows to and from ChatKit models in ``_pgrows``, and
connection strings and their failures put in words in ``_pgconn``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from chatkit.store import AttachmentStore, NotFoundError, Store
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool
from pydantic import TypeAdapter

from .._items import bounded_thread
from ..context import NotebookContext, default_user
from ..errors import ConfigError, StoreError, StoreVersionError
from . import _pgconn, _pgrows
from ._pgconn import masked
from ._pgsql import (
    CHANNEL,
    SCHEMA_LOCK,
    SCHEMA_TABLE,
    TABLES,
    schema_version,
    statements,
)
from .file import LongIds

__all__ = ["SCHEMA_VERSION", "PostgresStore", "masked"]

SCHEMA_VERSION = (1, 0)
"""The (major, minor) schema this version writes. A newer minor only adds; a newer major
is refused for writes."""

DEFAULT_NOTEBOOK_KEY = "default"
logger = logging.getLogger("chatkit_notebook")
_T = TypeVar("_T")
_R = TypeVar("_R")
_Connection = psycopg.AsyncConnection[TupleRow]
_Pool = AsyncConnectionPool[_Connection]

_THREAD = TypeAdapter(ThreadMetadata)
_ITEM: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
_ATTACHMENT: TypeAdapter[Attachment] = TypeAdapter(Attachment)

# Pool sizes: a kernel makes a handful of concurrent calls at most (a streamed answer saves
# items while the panel pages).
_MIN_CONNECTIONS = 1
_MAX_CONNECTIONS = 4
_CONNECT_TIMEOUT = 10  # seconds, when the connection string sets none
_POOL_TIMEOUT = 30.0  # seconds to wait for a free pooled connection: a hang detector
_CLOSE_TIMEOUT = 10.0
_LISTEN_RETRY = (0.5, 10.0)  # seconds between a listener's reconnection attempts: first, most


class PostgresStore(LongIds, Store[NotebookContext], AttachmentStore[NotebookContext]):
    """A ChatKit store in a PostgreSQL database, with each user's threads kept apart.

    Args:
        dsn: A libpq connection string, ``postgresql://user:password@host:port/dbname`` or
            ``host=... dbname=...``. Parts left out come from the ``PG*`` environment
            variables and ``~/.pgpass``, as for ``psql``.
        notebook_key: Which notebook's threads this store holds, usually the notebook's
            path relative to the Jupyter root. ``None`` means ``"default"``.
        user: The user for requests whose context names none. A request's user is its
            context's ``user``, else its ``user_id`` attribute (as in ChatKit's examples),
            else this, else :func:`~chatkit_notebook.context.default_user`
            (``JUPYTERHUB_USER``, else the OS user).
        shared: Everyone on the same notebook key sees and changes all its threads (each
            thread still records who made it).

    Raises:
        ConfigError: ``dsn`` is not a connection string, or ``notebook_key`` is empty.

    Thread ids are unique per notebook key: saving a thread under an id that another
    user's thread of the key has raises ``NotFoundError``, as every call on that id does.
    Unlike ``NotebookStore``, an item can only be added to a thread in scope (else
    ``NotFoundError``), since the item's scope is its thread's.

    Constructing the store connects to nothing and needs no event loop: the first call
    connects, creates the tables if they are missing, and raises
    :class:`~chatkit_notebook.errors.StoreError` naming the host, port and database (never
    the password) if it cannot. A database whose schema has a newer major version than
    ``SCHEMA_VERSION`` is read but never written: writes raise
    :class:`~chatkit_notebook.errors.StoreVersionError`.
    """

    def __init__(
        self,
        dsn: str,
        *,
        notebook_key: str | None = None,
        user: str | None = None,
        shared: bool = False,
    ) -> None:
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error:
            # psycopg's message quotes the string, password included.
            msg = (
                f"Not a PostgreSQL connection string: {masked(dsn)}. Use "
                "postgresql://USER:PASSWORD@HOST:PORT/DATABASE or 'host=... dbname=...'."
            )
            raise ConfigError(msg) from None
        if notebook_key == "":
            raise ConfigError("notebook_key is empty: pass the notebook's path, or None.")
        defaults: dict[str, str | int] = {
            "connect_timeout": _CONNECT_TIMEOUT,
            "application_name": "chatkit-notebook",
        }
        extra = {key: value for key, value in defaults.items() if key not in params}
        self._conninfo = make_conninfo(dsn, **extra)
        self._masked = masked(dsn)
        self.notebook_key = DEFAULT_NOTEBOOK_KEY if notebook_key is None else notebook_key
        self.user = user
        self.shared = shared
        self._sql = statements(shared)
        self._pools: dict[asyncio.AbstractEventLoop, _LoopPool] = {}
        self._pools_guard = threading.Lock()
        self._closing: set[asyncio.Task[None]] = set()
        self._newer_schema: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return (
            f"PostgresStore({self._masked!r}, notebook_key={self.notebook_key!r}, "
            f"shared={self.shared!r})"
        )

    @property
    def database(self) -> tuple[object, ...]:
        """The server and database the store connects to: host, hostaddr, port, dbname (as
        given; ``None`` for a part left to libpq's defaults). Two stores with the same
        ``database`` and ``notebook_key`` hold the same threads."""
        params = conninfo_to_dict(self._conninfo)
        return tuple(params.get(key) for key in ("host", "hostaddr", "port", "dbname"))

    def describe(self) -> str:
        """Where and whose threads, the password masked: for status lines and messages."""
        who = "everyone's threads (shared)" if self.shared else "each user's own threads"
        return f"PostgreSQL {self._masked} · notebook key {self.notebook_key!r}, {who}"

    @property
    def read_only(self) -> StoreError | None:
        """Why the store refuses writes (the error they raise), or ``None``.

        Known once a call has connected.
        """
        return None if self._newer_schema is None else self._version_error()

    # -- threads -----------------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: NotebookContext) -> ThreadMetadata:
        args = self._scope(context, thread_id=thread_id)
        missing = f"Thread {thread_id} not found"
        thread = await self._load_one(self._sql.load_thread, args, _THREAD, missing)
        return bounded_thread(thread)  # a row written longer, by hand or an older release

    async def save_thread(self, thread: ThreadMetadata, context: NotebookContext) -> None:
        thread = bounded_thread(thread)  # whoever saves it: the server, a client, a copy
        # Dumping through the ThreadMetadata adapter drops the `items` of a Thread.
        args = self._scope(
            context,
            thread_id=thread.id,
            created_at=_pgrows.instant(thread.created_at),
            data=_pgrows.dump(_THREAD, thread),
        )
        if await self._fetch_one(self._sql.save_thread, args, write=True) is None:
            # The id is taken by a thread out of this store's scope.
            raise NotFoundError(f"Thread {thread.id} not found")

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: NotebookContext
    ) -> Page[ThreadMetadata]:
        direction = _pgrows.check_page(limit, order)
        args = self._scope(context, after=after, limit=limit + 1)

        async def read(conn: _Connection) -> list[TupleRow]:
            if after is not None:
                cursor = await (await conn.execute(self._sql.thread_cursor, args)).fetchone()
                if cursor is None:
                    raise NotFoundError(f"Cannot page threads after {after}: no such id there")
                args["at"], args["pk"] = cursor
            return await (
                await conn.execute(self._sql.page_threads[direction, after is not None], args)
            ).fetchall()

        page = _pgrows.page(_THREAD, await self._run(read), limit, after)
        page.data = [bounded_thread(thread) for thread in page.data]
        return page

    async def delete_thread(self, thread_id: str, context: NotebookContext) -> None:
        # Its items go by cascade; its attachments stay, unlinked, as NotebookStore does.
        args = self._scope(context, thread_id=thread_id)
        await self._execute(self._sql.delete_thread, args)

    # -- items -------------------------------------------------------------------------

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: NotebookContext,
    ) -> Page[ThreadItem]:
        direction = _pgrows.check_page(limit, order)
        args = self._scope(context, thread_id=thread_id, after=after, limit=limit + 1)

        async def read(conn: _Connection) -> list[TupleRow]:
            if after is not None:
                cursor = await (await conn.execute(self._sql.item_cursor, args)).fetchone()
                if cursor is None:
                    what = f"the items of thread {thread_id}"
                    raise NotFoundError(f"Cannot page {what} after {after}: no such id there")
                args["at"], args["pk"] = cursor
            return await (
                await conn.execute(self._sql.page_items[direction, after is not None], args)
            ).fetchall()

        return _pgrows.page(_ITEM, await self._run(read), limit, after)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: NotebookContext
    ) -> None:
        # An upsert that keeps the first insert's position: ChatKit adds a workflow that
        # was still open at the end of a run a second time when it closes.
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: NotebookContext) -> None:
        args = self._scope(
            context,
            thread_id=thread_id,
            item_id=item.id,
            created_at=_pgrows.instant(item.created_at),
            data=_pgrows.dump(_ITEM, item),
        )

        async def save(conn: _Connection) -> TupleRow | None:
            try:
                return await (await conn.execute(self._sql.save_item, args)).fetchone()
            except psycopg.errors.ForeignKeyViolation:
                return None  # the thread was deleted while the item was added

        if await self._run(save, write=True) is None:
            raise NotFoundError(f"Thread {thread_id} not found")

    async def load_item(self, thread_id: str, item_id: str, context: NotebookContext) -> ThreadItem:
        args = self._scope(context, thread_id=thread_id, item_id=item_id)
        missing = f"Item {item_id} not found in thread {thread_id}"
        return await self._load_one(self._sql.load_item, args, _ITEM, missing)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: NotebookContext
    ) -> None:
        args = self._scope(context, thread_id=thread_id, item_id=item_id)
        await self._execute(self._sql.delete_item, args)

    # -- attachments (metadata only) ---------------------------------------------------

    async def save_attachment(self, attachment: Attachment, context: NotebookContext) -> None:
        args = self._scope(
            context,
            attachment_id=attachment.id,
            thread_id=attachment.thread_id,
            data=_pgrows.dump(_ATTACHMENT, attachment),
        )
        if await self._fetch_one(self._sql.save_attachment, args, write=True) is None:
            raise NotFoundError(f"Attachment {attachment.id} not found")

    async def load_attachment(self, attachment_id: str, context: NotebookContext) -> Attachment:
        args = self._scope(context, attachment_id=attachment_id)
        missing = f"Attachment {attachment_id} not found"
        return await self._load_one(self._sql.load_attachment, args, _ATTACHMENT, missing)

    async def delete_attachment(self, attachment_id: str, context: NotebookContext) -> None:
        args = self._scope(context, attachment_id=attachment_id)
        await self._execute(self._sql.delete_attachment, args)

    # -- watching ----------------------------------------------------------------------

    async def change_token(
        self, context: NotebookContext, thread_id: str | None = None
    ) -> tuple[int, int]:
        """A value that changes whenever a thread or item of this notebook key changes.

        A panel compares it between polls to show what another kernel added. Every write
        notifies PostgreSQL's ``chatkit_notebook`` channel when it commits; the first call
        starts a session on this loop that LISTENs to it (and reconnects if it drops), so a
        call costs no query. The value is (connections made, notifications for this key):
        a reconnection changes it too, since changes may have gone unseen meanwhile.
        """
        slot = await self._slot()
        if slot.listener is None:
            slot.listener = _Listener(self._conninfo, self.notebook_key)
        return (slot.listener.connections, slot.listener.count)

    # -- closing -----------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close this store's connection pools; a later call opens new ones."""
        with self._pools_guard:
            mine = self._pools.pop(asyncio.get_running_loop(), None)
        self.close()
        if mine is not None:
            await mine.aclose()

    def close(self) -> None:
        """Close this store's connection pools, from any thread; a later call opens new ones.

        A pool on a loop running in another thread is closed there (this waits for it), one
        on the calling thread's running loop by a task on that loop, one on a loop that is
        not running right here (unless another loop runs on this thread). A pool whose loop
        has closed went with it.
        """
        with self._pools_guard:
            pools, self._pools = self._pools, {}
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, slot in pools.items():
            if slot.idle or loop.is_closed():
                continue
            if loop is current:
                task = loop.create_task(slot.aclose())
                self._closing.add(task)  # keeps the task alive until it is done
                task.add_done_callback(self._closing.discard)
            elif loop.is_running():
                asyncio.run_coroutine_threadsafe(slot.aclose(), loop).result(_CLOSE_TIMEOUT)
            elif current is None:
                loop.run_until_complete(slot.aclose())

    # -- machinery ---------------------------------------------------------------------

    def _scope(self, context: NotebookContext, **args: Any) -> dict[str, Any]:
        """The statement's arguments, with the notebook key and user that scope it."""
        user = getattr(context, "user", None) or getattr(context, "user_id", None) or self.user
        args.update(key=self.notebook_key, user=str(user) if user else default_user())
        return args

    async def _load_one(
        self, statement: sql.Composed, args: dict[str, Any], adapter: TypeAdapter[_R], missing: str
    ) -> _R:
        """The one row ``statement`` selects, as a model; ``NotFoundError(missing)`` without
        one (or with a payload this version cannot read)."""
        row = await self._fetch_one(statement, args)
        loaded = None if row is None else _pgrows.load(adapter, row[0])
        if loaded is None:
            raise NotFoundError(missing)
        return loaded

    async def _fetch_one(
        self, statement: sql.Composed, args: dict[str, Any], *, write: bool = False
    ) -> TupleRow | None:
        async def fetch(conn: _Connection) -> TupleRow | None:
            return await (await conn.execute(statement, args)).fetchone()

        return await self._run(fetch, write=write)

    async def _execute(self, statement: sql.Composed, args: dict[str, Any]) -> None:
        async def execute(conn: _Connection) -> None:
            await conn.execute(statement, args)

        await self._run(execute, write=True)

    async def _run(
        self, work: Callable[[_Connection], Awaitable[_T]], *, write: bool = False
    ) -> _T:
        """Run ``work`` on a pooled connection; once more on a new pool if it was lost.

        Every operation of this store is safe to repeat (see the module docstring), so a
        call whose connection died, even after its statement committed, can run again.
        """
        try:
            return await self._run_once(work, write=write)
        except _ConnectionLost:
            try:
                return await self._run_once(work, write=write)
            except _ConnectionLost as lost:
                raise self._unreachable(lost.error) from None

    async def _run_once(self, work: Callable[[_Connection], Awaitable[_T]], *, write: bool) -> _T:
        pool = await self._pool()
        if write and self._newer_schema is not None:
            raise self._version_error()
        conn: _Connection | None = None
        try:
            async with pool.connection() as conn:
                return await work(conn)
        except psycopg.OperationalError as e:
            # No connection at all (the pool closed or timed out) or a broken one: the
            # server restarted or went away. Anything else is the statement's fault.
            if conn is not None and not conn.broken:
                raise self._failure(e) from e
            await self._discard(pool)
            raise _ConnectionLost(e) from None
        except psycopg.Error as e:
            raise self._failure(e) from e

    async def _slot(self) -> _LoopPool:
        """This event loop's pool and listener (either may not be open yet)."""
        loop = asyncio.get_running_loop()
        with self._pools_guard:
            for gone in [other for other in self._pools if other.is_closed()]:
                del self._pools[gone]  # its pool's tasks and connections went with it
            return self._pools.setdefault(loop, _LoopPool())

    async def _pool(self) -> _Pool:
        """This event loop's pool, opened (connecting and checking the schema) if needed."""
        slot = await self._slot()
        if slot.pool is None:
            async with slot.lock:
                if slot.pool is None:
                    slot.pool = await self._open_pool()
        return slot.pool

    async def _open_pool(self) -> _Pool:
        # A direct connection first: when the server cannot be reached, the pool would
        # only time out, while libpq says why (refused, bad password, no such database).
        try:
            conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        except psycopg.OperationalError as e:
            raise self._unreachable(e) from None
        try:
            async with conn:
                await self._prepare_schema(conn)
        except psycopg.Error as e:
            raise self._failure(e, "could not set up its tables") from e
        pool: _Pool = AsyncConnectionPool(
            self._conninfo,
            kwargs={"autocommit": True},
            min_size=_MIN_CONNECTIONS,
            max_size=_MAX_CONNECTIONS,
            timeout=_POOL_TIMEOUT,
            name=f"chatkit-notebook {self.notebook_key}",
            open=False,
        )
        try:
            # Waiting for the first connection keeps the pool from opening a second one
            # for the first call, which could still be connecting when the caller's loop
            # ends: psycopg_pool's workers outlive a cancel then, and the loop's shutdown
            # waits for them forever.
            await pool.open(wait=True, timeout=_POOL_TIMEOUT)
        except psycopg.OperationalError as e:  # the server went away since the check
            await pool.close()
            raise self._unreachable(e) from None
        return pool

    async def _discard(self, pool: _Pool) -> None:
        """Forget a pool whose connections were lost; the next call opens a new one."""
        with self._pools_guard:
            slot = self._pools.get(asyncio.get_running_loop())
        if slot is not None and slot.pool is pool:
            slot.pool = None
        await pool.close()

    async def _prepare_schema(self, conn: _Connection) -> None:
        """Create the tables if they are missing; note a newer schema version.

        Two kernels may start at once: the advisory lock lets one create the tables while
        the other waits, then finds them.
        """
        found = await schema_version(conn)
        if found is None:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                # Not to_regclass again: its cached "no such table" may predate the lock.
                await conn.execute(SCHEMA_TABLE)
                cursor = await conn.execute("SELECT major, minor FROM chatkit_notebook_schema")
                row = await cursor.fetchone()
                if row is None:
                    for statement in TABLES:
                        await conn.execute(statement)
                    await conn.execute(
                        "INSERT INTO chatkit_notebook_schema (major, minor) VALUES (%s, %s)",
                        SCHEMA_VERSION,
                    )
                found = SCHEMA_VERSION if row is None else (int(row[0]), int(row[1]))
        self._newer_schema = found if found[0] > SCHEMA_VERSION[0] else None

    def _where(self) -> str:
        """Host, port and database, as the connection will use them (for messages)."""
        return _pgconn.describe_target(self._conninfo)

    def _version_error(self) -> StoreVersionError:
        found = self._newer_schema or SCHEMA_VERSION
        msg = (
            f"The PostgreSQL thread store ({self._where()}) has schema {found[0]}.{found[1]}, "
            f"but this chatkit-notebook writes schema {SCHEMA_VERSION[0]}.x. It can be read "
            "but is left untouched; upgrade chatkit-notebook (pip install -U chatkit-notebook) "
            "to add to it."
        )
        return StoreVersionError(msg, found=found, supported=SCHEMA_VERSION)

    def _unreachable(self, error: psycopg.Error) -> StoreError:
        """The error for a server that cannot be reached or refuses the login."""
        reason = _pgconn.reason(error, self._conninfo)
        advice = _pgconn.advice(reason)
        msg = f"Cannot connect to the PostgreSQL thread store ({self._where()}): {reason}. {advice}"
        return StoreError(msg)

    def _failure(self, error: psycopg.Error, what: str = "failed") -> StoreError:
        if self._newer_schema is not None:
            return self._version_error()  # the newer schema changed what we read
        reason = _pgconn.reason(error, self._conninfo)
        msg = (
            f"The PostgreSQL thread store ({self._where()}) {what}: {reason}. Nothing was "
            "half-written (each change is one transaction)."
        )
        return StoreError(msg)


class _ConnectionLost(Exception):
    """The server went away during a call (the pool that held the connection is closed)."""

    def __init__(self, error: psycopg.OperationalError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class _LoopPool:
    """One event loop's pool and listener; the lock makes concurrent first calls open the
    pool once."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pool: _Pool | None = None
    listener: _Listener | None = None

    @property
    def idle(self) -> bool:
        """Nothing open to close."""
        return self.pool is None and self.listener is None

    async def aclose(self) -> None:
        pool, listener, self.pool, self.listener = self.pool, self.listener, None, None
        if listener is not None:
            await listener.aclose()
        if pool is not None:
            await pool.close()


class _Listener:
    """A session that LISTENs to the stores' channel and counts one notebook key's changes.

    It runs as a task on the loop that made it and reconnects, with a growing pause, when
    its connection drops or cannot be made; each connection made counts, since changes
    may have been missed while there was none.
    """

    def __init__(self, conninfo: str, notebook_key: str) -> None:
        self.connections = 0
        self.count = 0
        self._task = asyncio.get_running_loop().create_task(
            self._listen(conninfo, notebook_key), name="chatkit-notebook-store-listener"
        )

    async def _listen(self, conninfo: str, notebook_key: str) -> None:
        pause = _LISTEN_RETRY[0]
        listen = sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL))
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(listen)
                    self.connections += 1
                    pause = _LISTEN_RETRY[0]
                    async for note in conn.notifies():
                        if note.payload == notebook_key:
                            self.count += 1
            except psycopg.Error:
                logger.debug("listening for store changes failed; retrying", exc_info=True)
            await asyncio.sleep(pause)  # a back-off before reconnecting, not a wait for work
            pause = min(pause * 2, _LISTEN_RETRY[1])

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
