"""The SQL of :class:`~chatkit_notebook.stores.postgres.PostgresStore`: its tables and statements.

Every statement that touches a thread, an item or an attachment carries the scope
condition (the notebook key, and the user unless the store is shared), written in once per
kind of store by :func:`statements`; nothing here builds SQL from values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

__all__ = [
    "CHANNEL",
    "SCHEMA_LOCK",
    "SCHEMA_TABLE",
    "TABLES",
    "Direction",
    "Statements",
    "schema_version",
    "statements",
]

Connection = psycopg.AsyncConnection[TupleRow]

# pg_advisory_xact_lock key serialising schema creation: "ckNB".
SCHEMA_LOCK = 0x636B4E42

SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS chatkit_notebook_schema (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    major integer NOT NULL,
    minor integer NOT NULL
)"""

TABLES = (
    """
    CREATE TABLE IF NOT EXISTS chatkit_notebook_threads (
        pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        notebook_key text NOT NULL,
        owner text NOT NULL,
        id text NOT NULL,
        created_at timestamptz NOT NULL,
        data jsonb NOT NULL,
        UNIQUE (notebook_key, id)
    )""",
    # load_threads pages one user's threads of a notebook key, or (shared) all of them:
    # each is a range scan of one of these two indexes, in order, stopping at the limit.
    """
    CREATE INDEX IF NOT EXISTS chatkit_notebook_threads_by_owner
    ON chatkit_notebook_threads (notebook_key, owner, created_at, pk)""",
    """
    CREATE INDEX IF NOT EXISTS chatkit_notebook_threads_by_key
    ON chatkit_notebook_threads (notebook_key, created_at, pk)""",
    """
    CREATE TABLE IF NOT EXISTS chatkit_notebook_items (
        pk bigint GENERATED ALWAYS AS IDENTITY,
        thread_pk bigint NOT NULL
            REFERENCES chatkit_notebook_threads (pk) ON DELETE CASCADE,
        id text NOT NULL,
        created_at timestamptz NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (thread_pk, id)
    )""",
    """
    CREATE INDEX IF NOT EXISTS chatkit_notebook_items_in_order
    ON chatkit_notebook_items (thread_pk, created_at, pk)""",
    """
    CREATE TABLE IF NOT EXISTS chatkit_notebook_attachments (
        notebook_key text NOT NULL,
        owner text NOT NULL,
        id text NOT NULL,
        thread_id text,
        data jsonb NOT NULL,
        PRIMARY KEY (notebook_key, id)
    )""",
    """
    CREATE INDEX IF NOT EXISTS chatkit_notebook_attachments_by_thread
    ON chatkit_notebook_attachments (notebook_key, thread_id)""",
)


# The scope condition every statement carries, on threads (alias t) and attachments (a).
_THREADS_IN_SCOPE = {
    False: "t.notebook_key = %(key)s AND t.owner = %(user)s",
    True: "t.notebook_key = %(key)s",
}
_ATTACHMENTS_IN_SCOPE = {
    False: "a.notebook_key = %(key)s AND a.owner = %(user)s",
    True: "a.notebook_key = %(key)s",
}
# The thread's pk as a subquery evaluated once: the item scan that uses it stays a range
# scan of chatkit_notebook_items_in_order, in order (a join would sort the whole thread).
_THREAD_PK = """(
    SELECT t.pk FROM chatkit_notebook_threads t
    WHERE {threads_in_scope} AND t.id = %(thread_id)s
)"""

_LOAD_THREAD = """
SELECT t.data::text FROM chatkit_notebook_threads t
WHERE {threads_in_scope} AND t.id = %(thread_id)s"""

# An id taken by a thread out of scope updates nothing and returns no row.
_SAVE_THREAD = """
WITH saved AS (
    INSERT INTO chatkit_notebook_threads AS t (notebook_key, owner, id, created_at, data)
    VALUES (%(key)s, %(user)s, %(thread_id)s, %(created_at)s, %(data)s::jsonb)
    ON CONFLICT (notebook_key, id) DO UPDATE
    SET created_at = excluded.created_at, data = excluded.data
    WHERE {threads_in_scope}
    RETURNING true
)
SELECT true, {notify} FROM saved"""

_THREAD_CURSOR = """
SELECT t.created_at, t.pk FROM chatkit_notebook_threads t
WHERE {threads_in_scope} AND t.id = %(after)s"""

_PAGE_THREADS = """
SELECT t.id, t.data::text FROM chatkit_notebook_threads t
WHERE {threads_in_scope} {after}
ORDER BY t.created_at {direction}, t.pk {direction}
LIMIT %(limit)s"""

# One statement: the thread (its items by cascade) and the unlinking of its attachments.
_DELETE_THREAD = """
WITH deleted AS (
    DELETE FROM chatkit_notebook_threads t
    WHERE {threads_in_scope} AND t.id = %(thread_id)s
    RETURNING true
), unlinked AS (
    UPDATE chatkit_notebook_attachments a
    SET thread_id = NULL, data = jsonb_set(a.data, ARRAY['thread_id'], 'null')
    WHERE {attachments_in_scope} AND a.thread_id = %(thread_id)s
)
SELECT {notify} FROM deleted"""

_ITEM_CURSOR = """
SELECT i.created_at, i.pk FROM chatkit_notebook_items i
WHERE i.thread_pk = {thread_pk} AND i.id = %(after)s"""

_PAGE_ITEMS = """
SELECT i.id, i.data::text FROM chatkit_notebook_items i
WHERE i.thread_pk = {thread_pk} {after}
ORDER BY i.created_at {direction}, i.pk {direction}
LIMIT %(limit)s"""

# No row is returned when the thread is not in scope (or does not exist).
_SAVE_ITEM = """
WITH saved AS (
    INSERT INTO chatkit_notebook_items AS i (thread_pk, id, created_at, data)
    SELECT t.pk, %(item_id)s, %(created_at)s, %(data)s::jsonb
    FROM chatkit_notebook_threads t
    WHERE {threads_in_scope} AND t.id = %(thread_id)s
    ON CONFLICT (thread_pk, id) DO UPDATE
    SET created_at = excluded.created_at, data = excluded.data
    RETURNING true
)
SELECT true, {notify} FROM saved"""

_LOAD_ITEM = """
SELECT i.data::text FROM chatkit_notebook_items i
WHERE i.thread_pk = {thread_pk} AND i.id = %(item_id)s"""

_DELETE_ITEM = """
WITH deleted AS (
    DELETE FROM chatkit_notebook_items i
    WHERE i.thread_pk = {thread_pk} AND i.id = %(item_id)s
    RETURNING true
)
SELECT {notify} FROM deleted"""

# An attachment on a thread in scope takes that thread's owner; any other, the caller.
_SAVE_ATTACHMENT = """
INSERT INTO chatkit_notebook_attachments AS a (notebook_key, owner, id, thread_id, data)
VALUES (
    %(key)s,
    COALESCE(
        (SELECT t.owner FROM chatkit_notebook_threads t
         WHERE {threads_in_scope} AND t.id = %(thread_id)s),
        %(user)s
    ),
    %(attachment_id)s,
    %(thread_id)s,
    %(data)s::jsonb
)
ON CONFLICT (notebook_key, id) DO UPDATE
SET owner = excluded.owner, thread_id = excluded.thread_id, data = excluded.data
WHERE {attachments_in_scope}
RETURNING true"""

_LOAD_ATTACHMENT = """
SELECT a.data::text FROM chatkit_notebook_attachments a
WHERE {attachments_in_scope} AND a.id = %(attachment_id)s"""

_DELETE_ATTACHMENT = """
DELETE FROM chatkit_notebook_attachments a
WHERE {attachments_in_scope} AND a.id = %(attachment_id)s"""

# Writes that a watching panel shows (threads and their items) notify the channel, with the
# notebook key as payload, when they change a row: PostgreSQL delivers it to every session
# that LISTENs, once the write commits. One notification per key and transaction, at most.
CHANNEL = "chatkit_notebook"
_NOTIFY = f"pg_notify('{CHANNEL}', %(key)s)"

Direction = Literal["asc", "desc"]
_AFTER = {"asc": ">", "desc": "<"}


@dataclass(frozen=True)
class Statements:
    """Every statement of a store, its scope condition written in."""

    load_thread: sql.Composed
    save_thread: sql.Composed
    thread_cursor: sql.Composed
    page_threads: dict[tuple[Direction, bool], sql.Composed]  # by (order, has cursor)
    delete_thread: sql.Composed
    item_cursor: sql.Composed
    page_items: dict[tuple[Direction, bool], sql.Composed]
    save_item: sql.Composed
    load_item: sql.Composed
    delete_item: sql.Composed
    save_attachment: sql.Composed
    load_attachment: sql.Composed
    delete_attachment: sql.Composed


@functools.cache
def statements(shared: bool) -> Statements:
    threads_in_scope = sql.SQL(_THREADS_IN_SCOPE[shared])
    parts = {
        "threads_in_scope": threads_in_scope,
        "attachments_in_scope": sql.SQL(_ATTACHMENTS_IN_SCOPE[shared]),
        "thread_pk": sql.SQL(_THREAD_PK).format(threads_in_scope=threads_in_scope),
        "notify": sql.SQL(_NOTIFY),
    }

    def compose(template: str) -> sql.Composed:
        return sql.SQL(template).format(**parts)

    def pages(template: str, columns: str) -> dict[tuple[Direction, bool], sql.Composed]:
        statements = {}
        directions: tuple[Direction, ...] = ("asc", "desc")
        for direction in directions:
            for has_cursor in (False, True):
                after = f"AND ({columns}) {_AFTER[direction]} (%(at)s, %(pk)s)"
                statements[direction, has_cursor] = sql.SQL(template).format(
                    after=sql.SQL(after if has_cursor else ""),
                    direction=sql.SQL(direction.upper()),
                    **parts,
                )
        return statements

    return Statements(
        load_thread=compose(_LOAD_THREAD),
        save_thread=compose(_SAVE_THREAD),
        thread_cursor=compose(_THREAD_CURSOR),
        page_threads=pages(_PAGE_THREADS, "t.created_at, t.pk"),
        delete_thread=compose(_DELETE_THREAD),
        item_cursor=compose(_ITEM_CURSOR),
        page_items=pages(_PAGE_ITEMS, "i.created_at, i.pk"),
        save_item=compose(_SAVE_ITEM),
        load_item=compose(_LOAD_ITEM),
        delete_item=compose(_DELETE_ITEM),
        save_attachment=compose(_SAVE_ATTACHMENT),
        load_attachment=compose(_LOAD_ATTACHMENT),
        delete_attachment=compose(_DELETE_ATTACHMENT),
    )


async def schema_version(conn: Connection) -> tuple[int, int] | None:
    """The database's schema version, or ``None`` if the tables were never created."""
    cursor = await conn.execute("SELECT to_regclass('chatkit_notebook_schema') IS NOT NULL")
    exists = await cursor.fetchone()
    if exists is None or not exists[0]:
        return None
    cursor = await conn.execute("SELECT major, minor FROM chatkit_notebook_schema")
    row = await cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))
