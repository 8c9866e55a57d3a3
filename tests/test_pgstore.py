"""``PostgresStore`` on a real PostgreSQL server (``postgres.py``): beyond the Store contract.

* A real ``NotebookChatServer`` (``agents.testing.ScriptedModel``) over the store, driven
  through ``server.process`` by the package's ChatKit client; what is asserted is read back
  by a *new* store (new connections), as ``test_server_store.py`` does for the file store.
* Scoping: another user's or another notebook key's thread is "not found" for every
  operation, ``shared=True`` shares one key only, and who the user is.
* The schema: created once by racing kernels, a newer major version refused for writes,
  paging as index range scans.
* Connections: no loop and no server needed to construct, several event loops, a server
  restart or ``kill -9`` mid-session, and the errors for a server that is down, a bad
  password or a missing database (which never show the password).
* Concurrency: 8 processes appending to one thread, racing upserts of one item.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from agents.testing import ScriptedModel, assistant_message
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    FileAttachment,
    SDKHiddenContextItem,
    ThreadGetByIdParams,
    ThreadItem,
    ThreadMetadata,
    ThreadRetryAfterItemParams,
    ThreadsGetByIdReq,
    ThreadsRetryAfterItemReq,
    UserMessageItem,
)
from postgres import PostgresServer, free_port, pg_dsn_fixture, postgres_fixture  # noqa: F401
from scripted import ChatClient, Gate, answer_text, create_request, streamed_text

from chatkit_notebook import NotebookContext
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.errors import ConfigError, StoreError, StoreVersionError
from chatkit_notebook.stores._pgsql import statements as compose_statements
from chatkit_notebook.stores.postgres import SCHEMA_VERSION, PostgresStore, masked

KEY = "work/analysis.ipynb"
HANG = 60  # seconds: a hang detector, never pacing

MakeStore = Callable[..., PostgresStore]


@pytest.fixture
async def make_store(pg_dsn: str) -> AsyncIterator[MakeStore]:
    """``make_store(**options)``: a PostgresStore on this test's database, closed at the end."""
    made: list[PostgresStore] = []

    def make(**options: Any) -> PostgresStore:
        options.setdefault("notebook_key", KEY)
        store = PostgresStore(pg_dsn, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


def as_user(name: str) -> NotebookContext:
    return NotebookContext(user=name)


def thread(thread_id: str, title: str | None = None) -> ThreadMetadata:
    return ThreadMetadata(id=thread_id, title=title, created_at=datetime.now())


def message(thread_id: str, item_id: str, text: str = "hello") -> AssistantMessageItem:
    return AssistantMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=datetime.now(),
        content=[AssistantMessageContent(text=text)],
    )


async def all_items(store: PostgresStore, thread_id: str, ctx: NotebookContext) -> list[ThreadItem]:
    page = await store.load_thread_items(thread_id, None, 100_000, "asc", ctx)
    assert not page.has_more
    return page.data


async def client_create(client: ChatClient, text: str) -> tuple[str, list[Any]]:
    """A new thread's id and its first turn's events."""
    return await asyncio.wait_for(client.create(text), HANG)


# -- a real ChatKit server over the store ---------------------------------------------------


async def test_a_turn_is_streamed_and_stored(make_store: MakeStore) -> None:
    alice = as_user("alice")
    model = ScriptedModel([streamed_text(["North ", "sold ", "most."])])
    client = ChatClient(NotebookChatServer(make_store(), model=model), alice)

    thread_id, events = await client_create(client, "Which region sold most?")

    assert answer_text(events) == ["North sold most."]
    fresh = make_store()
    stored = await all_items(fresh, thread_id, alice)
    done = [e.item for e in events if e.type == "thread.item.done"]
    assert [i.id for i in stored] == [i.id for i in done]
    user, answer = (i for i in stored if i.type != "workflow")  # the workflow: a receipt
    assert isinstance(user, UserMessageItem)
    assert isinstance(answer, AssistantMessageItem)
    assert answer.content[0].text == "North sold most."
    metadata = await fresh.load_thread(thread_id, alice)
    assert metadata.title  # titled from the first message
    assert type(metadata) is ThreadMetadata


async def test_turns_append_and_pages_walk_threads_and_items(make_store: MakeStore) -> None:
    alice = as_user("alice")
    model = ScriptedModel([[assistant_message(f"answer {n}")] for n in range(5)])
    client = ChatClient(NotebookChatServer(make_store(), model=model), alice)
    first, _ = await client_create(client, "one")
    await client.send(first, "two")
    second, _ = await client_create(client, "three")
    third, _ = await client_create(client, "four")

    newest = await client.threads(limit=2, order="desc")
    assert [t.id for t in newest.data] == [third, second]
    assert (newest.has_more, newest.after) == (True, second)
    everything = await make_store().load_threads(10, None, "asc", alice)
    assert [t.id for t in everything.data] == [first, second, third]

    stored = await all_items(make_store(), first, alice)
    messages = [i.type for i in stored if i.type != "workflow"]
    assert messages == ["user_message", "assistant_message"] * 2
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await client.items(first, limit=3, order="asc", after=after)
        seen += [i.id for i in page.data]
        if not page.has_more:
            break
        after = page.after
    assert seen == [i.id for i in stored]


async def test_rename_and_delete_reach_the_database(make_store: MakeStore) -> None:
    alice = as_user("alice")
    model = ScriptedModel([[assistant_message("a")], [assistant_message("b")]])
    store = make_store()
    client = ChatClient(NotebookChatServer(store, model=model), alice)
    gone, _ = await client_create(client, "delete me")
    kept, _ = await client_create(client, "keep me")
    attachment = FileAttachment(id="atc_1", name="a.csv", mime_type="text/csv", thread_id=gone)
    await store.save_attachment(attachment, alice)

    await client.rename(kept, "Outliers")
    await client.delete(gone)

    fresh = make_store()
    assert (await fresh.load_thread(kept, alice)).title == "Outliers"
    with pytest.raises(NotFoundError):
        await fresh.load_thread(gone, alice)
    assert await all_items(fresh, gone, alice) == []
    assert len(await all_items(fresh, kept, alice)) >= 2
    unlinked = await fresh.load_attachment("atc_1", alice)
    assert unlinked == attachment.model_copy(update={"thread_id": None})


async def test_a_retry_replaces_the_answer(make_store: MakeStore) -> None:
    alice = as_user("alice")
    model = ScriptedModel([[assistant_message("first try")], [assistant_message("second try")]])
    client = ChatClient(NotebookChatServer(make_store(), model=model), alice)
    thread_id, _ = await client_create(client, "question")
    user = (await all_items(make_store(), thread_id, alice))[0]

    params = ThreadRetryAfterItemParams(thread_id=thread_id, item_id=user.id)
    events = await client.collect(ThreadsRetryAfterItemReq(params=params))

    assert answer_text(events) == ["second try"]
    items = await all_items(make_store(), thread_id, alice)
    assert items[0] == user
    assert [i.content[0].text for i in items[1:] if isinstance(i, AssistantMessageItem)] == [
        "second try"
    ]


async def test_a_cancelled_turn_keeps_the_streamed_part(make_store: MakeStore) -> None:
    alice = as_user("alice")
    gate = Gate(after=2)
    model = ScriptedModel([streamed_text(["Once ", "upon ", "a ", "time"], gate=gate)])
    client = ChatClient(NotebookChatServer(make_store(), model=model), alice)
    two_deltas = asyncio.Event()

    async def consume() -> None:
        seen = ""
        async for event in client.stream(create_request("Tell me a story")):
            if event.type == "thread.item.updated" and event.update.type.endswith("text_delta"):
                seen += event.update.delta
                if seen == "Once upon ":
                    two_deltas.set()

    turn = asyncio.create_task(consume())
    await asyncio.wait_for(two_deltas.wait(), HANG)
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    await asyncio.wait_for(gate.cancelled.wait(), HANG)

    fresh = make_store()
    threads = await fresh.load_threads(10, None, "desc", alice)
    items = await all_items(fresh, threads.data[0].id, alice)
    partial = [i for i in items if isinstance(i, AssistantMessageItem)]
    assert [p.content[0].text for p in partial] == ["Once upon "]
    assert any(isinstance(i, SDKHiddenContextItem) and "cancelled" in i.content for i in items)


async def test_the_server_answers_another_user_not_found(make_store: MakeStore) -> None:
    model = ScriptedModel([[assistant_message("mine")]])
    server = NotebookChatServer(make_store(), model=model)
    thread_id, _ = await client_create(ChatClient(server, as_user("alice")), "private")

    bob = ChatClient(server, as_user("bob"))
    assert (await bob.threads()).data == []
    with pytest.raises(NotFoundError, match=f"Thread {thread_id} not found"):
        await bob.call(ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id)))
    with pytest.raises(NotFoundError):
        await bob.send(thread_id, "let me in")
    assert len(await all_items(make_store(), thread_id, as_user("alice"))) >= 2


# -- scoping ----------------------------------------------------------------------------------


@pytest.fixture(params=["other user", "other notebook key", "other key, shared"])
def outsider(request: pytest.FixtureRequest, make_store: MakeStore) -> tuple[PostgresStore, Any]:
    """A store and context that must not reach alice's threads on KEY."""
    if request.param == "other user":
        return make_store(), as_user("bob")
    if request.param == "other notebook key":
        return make_store(notebook_key="other.ipynb"), as_user("alice")
    return make_store(notebook_key="other.ipynb", shared=True), as_user("alice")


async def test_a_thread_out_of_scope_is_not_found_for_every_operation(
    make_store: MakeStore, outsider: tuple[PostgresStore, Any]
) -> None:
    alice = as_user("alice")
    owner = make_store()
    original = thread("thr_private", "Alice's")
    item = message("thr_private", "msg_1", "secret")
    attachment = FileAttachment(id="atc_p", name="p.csv", mime_type="text/csv")
    await owner.save_thread(original, alice)
    await owner.add_thread_item("thr_private", item, alice)
    await owner.save_attachment(attachment, alice)
    other, ctx = outsider

    with pytest.raises(NotFoundError) as raised:
        await other.load_thread("thr_private", ctx)
    assert str(raised.value) == "Thread thr_private not found"
    assert (await other.load_threads(10, None, "asc", ctx)).data == []
    assert (await other.load_thread_items("thr_private", None, 10, "asc", ctx)).data == []
    with pytest.raises(NotFoundError):
        await other.load_thread_items("thr_private", "msg_1", 10, "asc", ctx)
    with pytest.raises(NotFoundError):
        await other.load_threads(10, "thr_private", "asc", ctx)
    with pytest.raises(NotFoundError):
        await other.load_item("thr_private", "msg_1", ctx)
    with pytest.raises(NotFoundError, match="Thread thr_private not found"):
        await other.add_thread_item("thr_private", message("thr_private", "msg_evil"), ctx)
    with pytest.raises(NotFoundError, match="Thread thr_private not found"):
        await other.save_item("thr_private", message("thr_private", "msg_1", "overwritten"), ctx)
    if other.notebook_key == owner.notebook_key:
        with pytest.raises(NotFoundError, match="Thread thr_private not found"):
            await other.save_thread(thread("thr_private", "Hijacked"), ctx)
    else:  # thread ids are per notebook key: this is a thread of the other key's own
        await other.save_thread(thread("thr_private", "Its own"), ctx)
        assert (await other.load_thread("thr_private", ctx)).title == "Its own"
    await other.delete_thread_item("thr_private", "msg_1", ctx)
    await other.delete_thread("thr_private", ctx)
    with pytest.raises(NotFoundError):
        await other.load_attachment("atc_p", ctx)
    await other.delete_attachment("atc_p", ctx)

    fresh = make_store()
    assert await fresh.load_thread("thr_private", alice) == original
    assert await all_items(fresh, "thr_private", alice) == [item]
    assert await fresh.load_attachment("atc_p", alice) == attachment


async def test_an_attachment_id_out_of_scope_cannot_be_overwritten(make_store: MakeStore) -> None:
    attachment = FileAttachment(id="atc_1", name="alice.csv", mime_type="text/csv")
    await make_store().save_attachment(attachment, as_user("alice"))
    forged = attachment.model_copy(update={"name": "bob.csv"})
    with pytest.raises(NotFoundError, match="Attachment atc_1 not found"):
        await make_store().save_attachment(forged, as_user("bob"))
    assert await make_store().load_attachment("atc_1", as_user("alice")) == attachment


async def test_one_thread_id_on_two_notebook_keys_is_two_threads(make_store: MakeStore) -> None:
    alice = as_user("alice")
    first, second = make_store(notebook_key="a.ipynb"), make_store(notebook_key="b.ipynb")
    await first.save_thread(thread("thr_same", "in a"), alice)
    await second.save_thread(thread("thr_same", "in b"), alice)
    await first.add_thread_item("thr_same", message("thr_same", "msg_a"), alice)
    assert (await first.load_thread("thr_same", alice)).title == "in a"
    assert (await second.load_thread("thr_same", alice)).title == "in b"
    assert await all_items(second, "thr_same", alice) == []
    await second.delete_thread("thr_same", alice)
    assert [i.id for i in await all_items(first, "thr_same", alice)] == ["msg_a"]


async def test_shared_stores_share_one_notebook_key_only(make_store: MakeStore) -> None:
    alice, bob = as_user("alice"), as_user("bob")
    shared = make_store(shared=True)
    await shared.save_thread(thread("thr_team", "Team"), alice)
    await shared.add_thread_item("thr_team", message("thr_team", "msg_alice"), alice)
    attachment = FileAttachment(id="atc_t", name="t.csv", mime_type="text/csv")
    await shared.save_attachment(attachment, alice)

    bobs = make_store(shared=True)
    assert [t.id for t in (await bobs.load_threads(10, None, "asc", bob)).data] == ["thr_team"]
    await bobs.add_thread_item("thr_team", message("thr_team", "msg_bob"), bob)
    await bobs.save_thread(thread("thr_team", "Renamed by Bob"), bob)
    assert await bobs.load_attachment("atc_t", bob) == attachment
    assert [i.id for i in await all_items(shared, "thr_team", alice)] == ["msg_alice", "msg_bob"]
    assert (await shared.load_thread("thr_team", alice)).title == "Renamed by Bob"

    # An unshared store on the same key still shows each user their own threads only.
    assert (await make_store().load_threads(10, None, "asc", bob)).data == []
    assert len((await make_store().load_threads(10, None, "asc", alice)).data) == 1
    # Another key, shared or not, sees nothing.
    elsewhere = make_store(notebook_key="other.ipynb", shared=True)
    assert (await elsewhere.load_threads(10, None, "asc", bob)).data == []
    with pytest.raises(NotFoundError):
        await elsewhere.load_thread("thr_team", alice)

    await bobs.delete_thread("thr_team", bob)
    with pytest.raises(NotFoundError):
        await shared.load_thread("thr_team", alice)


@dataclass
class RequestContext:
    """A context like ChatKit's examples use: only a ``user_id``."""

    user_id: str


async def test_who_the_user_is(make_store: MakeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store()
    await store.save_thread(thread("thr_ctx"), as_user("carol"))
    # A context with a user_id attribute, as in ChatKit's examples.
    assert (await store.load_thread("thr_ctx", RequestContext(user_id="carol"))).id == "thr_ctx"  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        await store.load_thread("thr_ctx", RequestContext(user_id="dave"))  # type: ignore[arg-type]
    # The store's user when the context has none.
    assert (await make_store(user="carol").load_thread("thr_ctx", NotebookContext())).id
    with pytest.raises(NotFoundError):
        await make_store(user="dave").load_thread("thr_ctx", NotebookContext())
    # Else JupyterHub's user, else the OS user.
    monkeypatch.setenv("JUPYTERHUB_USER", "carol")
    assert (await store.load_thread("thr_ctx", NotebookContext())).id == "thr_ctx"
    monkeypatch.delenv("JUPYTERHUB_USER")
    with pytest.raises(NotFoundError):
        await store.load_thread("thr_ctx", NotebookContext())


# -- payloads ---------------------------------------------------------------------------------


async def test_text_jsonb_cannot_hold_round_trips(make_store: MakeStore) -> None:
    # U+0000 (jsonb refuses it) and U+E000 (the escape character) must both come back.
    alice = as_user("alice")
    store = make_store()
    awkward = "nul \x00 escape \ue000 both \ue0000 \ue0001 \x00\ue000 end"
    titled = thread("thr_x", awkward).model_copy(update={"metadata": {awkward: [awkward]}})
    await store.save_thread(titled, alice)
    item = message("thr_x", "msg_x", awkward)
    await store.add_thread_item("thr_x", item, alice)
    fresh = make_store()
    assert await fresh.load_thread("thr_x", alice) == titled
    assert await fresh.load_item("thr_x", "msg_x", alice) == item
    # A lone surrogate is not text: it is stored as U+FFFD, as in the file store.
    await store.add_thread_item("thr_x", message("thr_x", "msg_s", "a\ud800b"), alice)
    loaded = await fresh.load_item("thr_x", "msg_s", alice)
    assert isinstance(loaded, AssistantMessageItem)
    assert loaded.content[0].text == "a\ufffdb"


async def test_rows_are_queryable_jsonb(
    make_store: MakeStore,
    postgres: PostgresServer,
    pg_dsn: str,
) -> None:
    await make_store().save_thread(thread("thr_j", "Queryable"), as_user("alice"))
    rows = postgres.execute(
        "SELECT notebook_key, owner, data->>'title', pg_typeof(data)::text "
        "FROM chatkit_notebook_threads",
        dsn=pg_dsn,
    )
    assert rows == [(KEY, "alice", "Queryable", "jsonb")]


# -- schema -----------------------------------------------------------------------------------


async def test_racing_kernels_create_the_schema_once(
    make_store: MakeStore,
    postgres: PostgresServer,
    pg_dsn: str,
) -> None:
    stores = [make_store(user=f"user{n}") for n in range(8)]
    await asyncio.gather(
        *(
            store.save_thread(thread(f"thr_{n}"), NotebookContext())
            for n, store in enumerate(stores)
        )
    )
    assert postgres.execute("SELECT major, minor FROM chatkit_notebook_schema", dsn=pg_dsn) == [
        SCHEMA_VERSION
    ]
    count = postgres.execute("SELECT count(*) FROM chatkit_notebook_threads", dsn=pg_dsn)
    assert count == [(8,)]


async def test_a_newer_major_schema_is_read_but_never_written(
    make_store: MakeStore,
    postgres: PostgresServer,
    pg_dsn: str,
) -> None:
    alice = as_user("alice")
    await make_store().save_thread(thread("thr_old", "Before"), alice)
    postgres.execute("UPDATE chatkit_notebook_schema SET major = major + 1, minor = 3", dsn=pg_dsn)

    store = make_store()
    assert (await store.load_thread("thr_old", alice)).title == "Before"
    assert isinstance(store.read_only, StoreVersionError)
    writes = [
        store.save_thread(thread("thr_old", "After"), alice),
        store.add_thread_item("thr_old", message("thr_old", "msg_new"), alice),
        store.delete_thread("thr_old", alice),
        store.save_attachment(FileAttachment(id="a", name="a", mime_type="text/plain"), alice),
    ]
    for write in writes:
        with pytest.raises(StoreVersionError) as raised:
            await write
        assert raised.value.found == (SCHEMA_VERSION[0] + 1, 3)
        assert raised.value.supported == SCHEMA_VERSION
        assert "upgrade chatkit-notebook" in str(raised.value)
    assert (await store.load_thread("thr_old", alice)).title == "Before"


async def test_a_newer_minor_schema_is_written(
    make_store: MakeStore,
    postgres: PostgresServer,
    pg_dsn: str,
) -> None:
    await make_store().load_threads(1, None, "asc", NotebookContext())
    postgres.execute("UPDATE chatkit_notebook_schema SET minor = minor + 5", dsn=pg_dsn)
    store = make_store()
    await store.save_thread(thread("thr_new"), NotebookContext())
    assert store.read_only is None


@pytest.mark.parametrize("shared", [False, True])
async def test_paging_is_an_index_range_scan(
    make_store: MakeStore,
    postgres: PostgresServer,
    pg_dsn: str,
    shared: bool,
) -> None:
    await make_store().load_threads(1, None, "asc", NotebookContext())  # creates the tables
    postgres.execute(
        """
        INSERT INTO chatkit_notebook_threads (notebook_key, owner, id, created_at, data)
        SELECT 'nb' || (n % 2), 'user' || (n % 2), 'thr_' || n,
               now() + n * interval '1 second', '{}'::jsonb
        FROM generate_series(1, 6000) AS n;
        INSERT INTO chatkit_notebook_items (thread_pk, id, created_at, data)
        SELECT t.pk, 'msg_' || n, now() + n * interval '1 second', '{}'::jsonb
        FROM chatkit_notebook_threads t, generate_series(1, 3000) AS n
        WHERE t.id = 'thr_3';
        ANALYZE
        """,
        dsn=pg_dsn,
    )
    statements = compose_statements(shared)
    args = {
        "key": "nb1",
        "user": "user1",
        "thread_id": "thr_3",
        "at": datetime.now(),
        "pk": 5,
        "limit": 20,
    }
    for order in ("asc", "desc"):
        for cursor in (False, True):
            for query in (statements.page_threads, statements.page_items):
                plan = postgres.execute(
                    b"EXPLAIN " + query[order, cursor].as_bytes(None), args, dsn=pg_dsn
                )
                text = "\n".join(row[0] for row in plan)
                assert "Index" in text, text
                assert "Sort" not in text, text
                assert "Seq Scan" not in text, text


# -- connections ------------------------------------------------------------------------------


def test_constructing_needs_no_event_loop_and_no_server() -> None:
    port = free_port()
    dsn = f"postgresql://alice:s3cret-pw@127.0.0.1:{port}/chat"
    store = PostgresStore(dsn, notebook_key="n.ipynb")  # no loop running, nothing listening
    assert "s3cret-pw" not in repr(store)
    assert repr(store) == (
        f"PostgresStore('postgresql://alice:***@127.0.0.1:{port}/chat', "
        "notebook_key='n.ipynb', shared=False)"
    )
    with pytest.raises(StoreError, match=f"host 127.0.0.1, port {port}, database chat"):
        asyncio.run(store.load_threads(10, None, "asc", NotebookContext()))


def test_one_store_works_from_several_event_loops(pg_dsn: str) -> None:
    alice = as_user("alice")
    store = PostgresStore(pg_dsn, notebook_key=KEY)
    asyncio.run(store.save_thread(thread("thr_loops", "one"), alice))
    assert asyncio.run(store.load_thread("thr_loops", alice)).title == "one"
    # A loop on a thread of its own, as the package's runtime runs one.
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    try:
        rename = store.save_thread(thread("thr_loops", "two"), alice)
        asyncio.run_coroutine_threadsafe(rename, loop).result(HANG)
        store.close()  # closes the pool on that loop, from here
        reload = store.load_thread("thr_loops", alice)
        assert asyncio.run_coroutine_threadsafe(reload, loop).result(HANG).title == "two"
        store.close()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(HANG)
        loop.close()


@pytest.mark.parametrize("problem", ["refused", "bad password", "missing database"])
async def test_connection_problems_are_one_clear_store_error(
    postgres: PostgresServer,
    problem: str,
) -> None:
    port = postgres.port
    database = "postgres"
    secret = postgres.password
    if problem == "refused":
        port = free_port()
        dsn = f"postgresql://postgres:{secret}@127.0.0.1:{port}/postgres"
        advice = "Is PostgreSQL running there"
    elif problem == "bad password":
        secret = "Wr0ng-pa55word"  # noqa: S105  (a wrong password, on purpose)
        dsn = postgres.dsn(password=secret)
        advice = "Check the user name and password"
    else:
        database = "no_such_database"
        dsn = postgres.dsn(database)
        advice = "createdb"
    store = PostgresStore(dsn)

    with pytest.raises(StoreError) as raised:
        await store.load_threads(10, None, "asc", NotebookContext())

    message = str(raised.value)
    assert f"host 127.0.0.1, port {port}, database {database}" in message
    assert advice in message
    shown = "".join(traceback.format_exception(raised.value))
    assert secret not in shown
    assert secret not in repr(store)


async def test_a_restart_between_two_calls_is_not_noticed(
    make_store: MakeStore,
    postgres: PostgresServer,
) -> None:
    alice = as_user("alice")
    store = make_store()
    await store.save_thread(thread("thr_r", "before"), alice)
    # Several pooled connections, all of which the restart breaks.
    await asyncio.gather(*(store.load_thread("thr_r", alice) for _ in range(4)))

    await asyncio.to_thread(postgres.restart)

    assert (await store.load_thread("thr_r", alice)).title == "before"
    await store.save_thread(thread("thr_r", "after"), alice)
    await asyncio.to_thread(postgres.restart)
    await store.add_thread_item("thr_r", message("thr_r", "msg_after"), alice)
    assert (await make_store().load_thread("thr_r", alice)).title == "after"


async def test_a_server_that_is_down_fails_fast_and_comes_back(
    make_store: MakeStore,
    postgres: PostgresServer,
) -> None:
    alice = as_user("alice")
    store = make_store()
    await store.save_thread(thread("thr_d"), alice)

    await asyncio.to_thread(postgres.stop)
    try:
        for _ in range(2):  # the broken pool, then a new connection that is refused
            with pytest.raises(StoreError, match=f"port {postgres.port}"):
                await asyncio.wait_for(store.load_thread("thr_d", alice), HANG)
    finally:
        await asyncio.to_thread(postgres.start)

    assert (await store.load_thread("thr_d", alice)).id == "thr_d"


async def test_kill_9_mid_write_keeps_every_acknowledged_write_whole(
    make_store: MakeStore,
    postgres: PostgresServer,
) -> None:
    alice = as_user("alice")
    store = make_store()
    await store.save_thread(thread("thr_k"), alice)
    written: dict[str, AssistantMessageItem] = {}
    acknowledged: list[str] = []
    enough = asyncio.Event()

    async def write_until_it_fails() -> None:
        for number in range(1_000_000):
            item = message("thr_k", f"msg_{number:06d}", f"item {number} " + "x" * 500)
            written[item.id] = item
            try:
                await store.add_thread_item("thr_k", item, alice)
            except StoreError:
                return
            acknowledged.append(item.id)
            if len(acknowledged) == 100:
                enough.set()

    writer = asyncio.create_task(write_until_it_fails())
    await asyncio.wait_for(enough.wait(), HANG)
    await asyncio.to_thread(postgres.kill)  # while the writer goes on
    await asyncio.wait_for(writer, HANG)
    await asyncio.to_thread(postgres.start)

    stored = await all_items(make_store(), "thr_k", alice)
    ids = [item.id for item in stored]
    assert ids[: len(acknowledged)] == acknowledged
    assert len(ids) - len(acknowledged) <= 1  # the write in flight, if it committed
    assert ids == list(written)[: len(ids)]
    for item in stored:
        assert item == written[item.id]  # whole, never half-written


# -- masking ----------------------------------------------------------------------------------


MASKED = {
    "postgresql://bob:hunter2@db.example.com:5433/chat": (
        "postgresql://bob:***@db.example.com:5433/chat"
    ),
    "postgres://bob:p%40ss@h1:5432,h2:5433/chat?sslmode=require": (
        "postgres://bob:***@h1:5432,h2:5433/chat?sslmode=require"
    ),
    "postgresql://bob@db/chat?password=hunter2&sslmode=require": (
        "postgresql://bob@db/chat?password=***&sslmode=require"
    ),
    "postgresql://db/chat": "postgresql://db/chat",
    "postgresql://bob:p@ss@db?password=x&dbname=chat": (
        "postgresql://bob:***@db?password=***&dbname=chat"
    ),
    "host=db port=5433 dbname=chat user=bob password=hunter2": (
        "host=db port=5433 dbname=chat user=bob password=***"
    ),
    "host=db dbname=chat password='hunter2 with spaces'": "host=db dbname=chat password=***",
    "host=db dbname=chat": "host=db dbname=chat",
    "host=db password='unterminated": "<a connection string that cannot be parsed>",
}


@pytest.mark.parametrize(("dsn", "shown"), MASKED.items())
def test_masked_replaces_the_password(dsn: str, shown: str) -> None:
    assert masked(dsn) == shown


def test_a_malformed_connection_string_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as raised:
        PostgresStore("host=db password='hunter2 dbname=chat")
    assert "hunter2" not in str(raised.value)
    assert raised.value.__cause__ is None  # psycopg's message quotes the string
    assert raised.value.__suppress_context__


# -- concurrency ------------------------------------------------------------------------------

WRITER = """
import asyncio, sys
from datetime import datetime
from chatkit.types import AssistantMessageContent, AssistantMessageItem
from chatkit_notebook import NotebookContext
from chatkit_notebook.stores.postgres import PostgresStore

async def main(dsn, thread_id, prefix, count):
    store = PostgresStore(dsn, notebook_key="team.ipynb", user="writer")
    ctx = NotebookContext()
    await store.load_thread(thread_id, ctx)  # connected before the start
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        item = AssistantMessageItem(
            id=f"{prefix}-{n:04d}", thread_id=thread_id, created_at=datetime.now(),
            content=[AssistantMessageContent(text=f"{prefix} says {n}")],
        )
        await store.add_thread_item(thread_id, item, ctx)
    await store.aclose()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def test_eight_processes_append_to_one_thread(pg_dsn: str) -> None:
    writers, count = 8, 200
    ctx = NotebookContext()
    store = PostgresStore(pg_dsn, notebook_key="team.ipynb", user="writer")
    try:
        await store.save_thread(thread("thr_busy"), ctx)
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", WRITER, pg_dsn, "thr_busy", f"w{n}", str(count),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for n in range(writers)
        ]  # fmt: skip
        for proc in procs:
            assert proc.stdout is not None
            assert await asyncio.wait_for(proc.stdout.readline(), HANG) == b"ready\n"
        for proc in procs:  # all start together
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        for proc in procs:
            _, stderr = await asyncio.wait_for(proc.communicate(), 2 * HANG)
            assert proc.returncode == 0, stderr.decode()

        stored = await all_items(store, "thr_busy", ctx)
        assert len(stored) == writers * count
        for n in range(writers):
            mine = [item.id for item in stored if item.id.startswith(f"w{n}-")]
            assert mine == [f"w{n}-{i:04d}" for i in range(count)]  # each writer's order
    finally:
        await store.aclose()


async def test_racing_upserts_of_one_item_leave_one_row(
    make_store: MakeStore,
    postgres: PostgresServer,
    pg_dsn: str,
) -> None:
    alice = as_user("alice")
    first, second = make_store(), make_store()  # two pools: truly concurrent statements
    await first.save_thread(thread("thr_race"), alice)
    await first.add_thread_item("thr_race", message("thr_race", "msg_before"), alice)
    for round_ in range(20):
        item_id = f"msg_{round_}"
        await asyncio.gather(
            first.add_thread_item("thr_race", message("thr_race", item_id, "from first"), alice),
            second.save_item("thr_race", message("thr_race", item_id, "from second"), alice),
        )
    rows = postgres.execute(
        "SELECT id, count(*) FROM chatkit_notebook_items GROUP BY id HAVING count(*) > 1",
        dsn=pg_dsn,
    )
    assert rows == []
    stored = await all_items(first, "thr_race", alice)
    assert [i.id for i in stored] == ["msg_before"] + [f"msg_{n}" for n in range(20)]
    for item in stored[1:]:
        assert isinstance(item, AssistantMessageItem)
        assert item.content[0].text in ("from first", "from second")


async def test_adding_items_while_the_thread_is_deleted_is_not_found(make_store: MakeStore) -> None:
    alice = as_user("alice")
    adder, deleter = make_store(), make_store()
    for round_ in range(15):
        thread_id = f"thr_doomed_{round_}"
        await adder.save_thread(thread(thread_id), alice)
        results = await asyncio.gather(
            *(
                adder.add_thread_item(thread_id, message(thread_id, f"msg_{n}"), alice)
                for n in range(4)
            ),
            deleter.delete_thread(thread_id, alice),
            return_exceptions=True,
        )
        for result in results:
            assert result is None or isinstance(result, NotFoundError), repr(result)
        assert await all_items(adder, thread_id, alice) == []


# -- watching: the change token -----------------------------------------------------------


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for a notification to arrive: poll ``check`` until it holds (HANG: a hang)."""
    deadline = asyncio.get_running_loop().time() + HANG
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still waiting after {HANG} s for {what}")
        await asyncio.sleep(0.01)


async def test_the_change_token_counts_each_committed_change_of_its_notebook_key(
    make_store: MakeStore,
) -> None:
    watcher, alice, other_key = make_store(), make_store(), make_store(notebook_key="other")
    ctx = as_user("alice")

    async def listening() -> bool:
        return (await watcher.change_token(ctx))[0] >= 1

    await until(listening, "the listener to connect")
    counts = []

    async def counted(expected: int) -> bool:
        token = await watcher.change_token(ctx)
        counts.append(token[1])
        return token[1] >= expected

    await alice.save_thread(thread("thr_1"), ctx)
    await until(lambda: counted(1), "the new thread")
    await alice.add_thread_item("thr_1", message("thr_1", "msg_1"), ctx)
    await until(lambda: counted(2), "the new item")
    # Another key's change is delivered too (in commit order), but does not count; nor
    # does a write refused out of scope, which changes nothing.
    await other_key.save_thread(thread("thr_elsewhere"), ctx)
    with pytest.raises(NotFoundError):
        await alice.add_thread_item("thr_1", message("thr_1", "msg_x"), as_user("bob"))
    await alice.delete_thread_item("thr_1", "msg_1", ctx)
    await until(lambda: counted(3), "the deleted item")
    await alice.delete_thread("thr_1", ctx)
    await until(lambda: counted(4), "the deleted thread")
    assert counts[-1] == 4


async def test_the_change_token_changes_when_its_listener_reconnects(
    make_store: MakeStore, postgres: PostgresServer
) -> None:
    store = make_store()
    ctx = as_user("alice")
    before = await store.change_token(ctx)

    async def connected_after(count: int) -> bool:
        return (await store.change_token(ctx))[0] > count

    await until(lambda: connected_after(before[0]), "the listener to connect")
    first = await store.change_token(ctx)
    await asyncio.to_thread(postgres.restart)
    # Changes made while it was gone are not lost on the panel: the token moves on.
    await until(lambda: connected_after(first[0]), "the listener to reconnect")
    await store.save_thread(thread("thr_after"), ctx)
    assert (await store.load_thread("thr_after", ctx)).id == "thr_after"


async def test_titles_are_saved_bounded_and_a_long_row_is_shown_bounded(
    make_store: MakeStore, pg_dsn: str
) -> None:
    """The store cuts a title as it saves it; a row written longer (by hand, or by an
    older release) is read cut, and left as it is."""
    import psycopg

    from chatkit_notebook._items import TITLE_LIMIT
    from chatkit_notebook.panel.threadbar import thread_label

    store = make_store()
    ctx = NotebookContext()
    await store.save_thread(thread("thr_long", "x" * 900_000), ctx)
    saved = await store.load_thread("thr_long", ctx)
    assert saved.title == "x" * (TITLE_LIMIT - 1) + "…"

    async with await psycopg.AsyncConnection.connect(pg_dsn) as conn:
        await conn.execute(
            "UPDATE chatkit_notebook_threads SET data = jsonb_set(data, '{title}', "
            "to_jsonb(repeat('y', 900000))) WHERE id = 'thr_long'"
        )
    reader = make_store()
    for stored in [
        await reader.load_thread("thr_long", ctx),
        *(await reader.load_threads(10, None, "asc", ctx)).data,
    ]:
        assert stored.title == "y" * (TITLE_LIMIT - 1) + "…"
        assert thread_label(stored).startswith("y" * (TITLE_LIMIT - 1) + "… · ")
    async with await psycopg.AsyncConnection.connect(pg_dsn) as conn:
        cursor = await conn.execute("SELECT length(data->>'title') FROM chatkit_notebook_threads")
        assert await cursor.fetchall() == [(900_000,)]  # the row itself is left as it was
