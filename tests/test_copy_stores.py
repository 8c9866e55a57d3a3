"""Copying threads between stores (``chatkit_notebook.stores.copy``): file to file, file to
PostgreSQL and back.

Every store here is real: ``NotebookStore`` files in ``tmp_path`` and ``PostgresStore`` on
the test run's PostgreSQL server (``postgres.py``; these tests skip without PostgreSQL
binaries, and fail then under ``CHATKIT_REQUIRE_POSTGRES``). What a copy left is read back
by *new* store objects and compared through ``model_dump``: threads (ids, titles, metadata,
created_at), their items (ids, order, contents) and the attachment records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from agents.testing import ScriptedModel, assistant_message
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    AssistantMessageItem,
    Page,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
)
from postgres import free_port, pg_dsn_fixture, postgres_fixture  # noqa: F401
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from scripted import ChatClient
from store_contract import (
    ITEM_KINDS,
    THREAD_VARIANTS,
    TIMESTAMPS,
    at,
    file_attachment,
    image_attachment,
    make_thread,
    sample_item,
    user_message,
)

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.errors import StoreError, StoreVersionError
from chatkit_notebook.stores.copy import PAGE_SIZE, CopyReport, copy_threads
from chatkit_notebook.stores.current import KEY, recall
from chatkit_notebook.stores.postgres import PostgresStore

_R = TypeVar("_R")
AnyStore = Store[NotebookContext]
KEY_A = "work/analysis.ipynb"
ALICE = NotebookContext(user="alice")
BOB = NotebookContext(user="bob")
MakePostgres = Callable[..., PostgresStore]


@pytest.fixture
async def make_pg(pg_dsn: str) -> AsyncIterator[MakePostgres]:
    """``make_pg(**options)``: a PostgresStore on this test's database, closed at the end."""
    made: list[PostgresStore] = []

    def make(**options: Any) -> PostgresStore:
        options.setdefault("notebook_key", KEY_A)
        store = PostgresStore(pg_dsn, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


@pytest.fixture(params=["file", "postgresql"])
def make_target(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], AnyStore]:
    """A new store object on one target (each call reopens the same one): a file or a database."""
    if request.param == "file":
        return lambda: NotebookStore(tmp_path / "target.chatkit.json")
    make: MakePostgres = request.getfixturevalue("make_pg")
    return make


# -- what stores hold ----------------------------------------------------------------------


async def everything(load: Callable[[str | None], Awaitable[Page[_R]]]) -> list[_R]:
    """Every row of a listing, walked in pages of 7 (unlike the copy's)."""
    rows: list[_R] = []
    after: str | None = None
    while True:
        page = await load(after)
        rows += page.data
        if not page.has_more:
            return rows
        after = page.after


async def items_of(store: AnyStore, thread_id: str, ctx: NotebookContext) -> list[ThreadItem]:
    return await everything(lambda after: store.load_thread_items(thread_id, after, 7, "asc", ctx))


async def attachment_record(store: AnyStore, attachment_id: str, ctx: NotebookContext) -> Any:
    try:
        return (await store.load_attachment(attachment_id, ctx)).model_dump()
    except NotFoundError:
        return None  # only embedded in its message (sample items carry such ones)


async def snapshot(store: AnyStore, ctx: NotebookContext) -> list[Any]:
    """Threads in order, each with its items in order and its attachment records."""
    threads = await everything(lambda after: store.load_threads(7, after, "asc", ctx))
    held = []
    for thread in threads:
        items = await items_of(store, thread.id, ctx)
        attachments = [
            await attachment_record(store, attachment.id, ctx)
            for item in items
            if isinstance(item, UserMessageItem)
            for attachment in item.attachments
        ]
        held.append((thread.model_dump(), [item.model_dump() for item in items], attachments))
    return held


async def fill(store: AnyStore, ctx: NotebookContext) -> tuple[int, int]:
    """Threads of every variant with items of every kind; returns (threads, items)."""
    items = 0
    for n, (variant, fields) in enumerate(THREAD_VARIANTS.items()):
        thread_id = f"thr_{variant}"
        # The current-thread markers (the newest thread was opened last, the first left).
        markers = {"opened_at": f"2025-03-01T13:0{n}:00"}
        if n == 0:
            markers["left_at"] = "2025-03-01T13:30:00"
        metadata = {**fields.get("metadata", {}), KEY: markers, "n": n, "scale": 1e20}
        thread = make_thread(thread_id, at(n), **{**fields, "metadata": metadata})
        await store.save_thread(thread, ctx)
        for k, kind in enumerate(ITEM_KINDS):
            item = sample_item(kind, thread_id, at(n + k / 100))
            await store.add_thread_item(thread_id, item, ctx)
            items += 1
        # Same created_at: the target must keep the insertion order, not sort by id.
        for item_id in ("msg_tie_z", "msg_tie_a"):
            await store.add_thread_item(thread_id, user_message(item_id, thread_id, at(n + 1)), ctx)
            items += 1
        for zone, moment in TIMESTAMPS.items():
            item = user_message(f"msg_{zone}", thread_id, moment, text=zone)
            await store.add_thread_item(thread_id, item, ctx)
            items += 1
    # A user message with a file and an image attachment, whose records the store holds.
    files = [file_attachment("atc_file", "thr_bare"), image_attachment("atc_image", "thr_bare")]
    for attachment in files:
        await store.save_attachment(attachment, ctx)
    message = user_message("msg_attached", "thr_bare", at(9), text="see the files")
    await store.add_thread_item("thr_bare", message.model_copy(update={"attachments": files}), ctx)
    return len(THREAD_VARIANTS), items + 1


def counts(report: CopyReport) -> tuple[int, ...]:
    return (report.threads, report.items, report.attachments, report.present, report.updated)


# -- copies ---------------------------------------------------------------------------------


async def test_file_to_file_copies_threads_items_and_attachments(tmp_path: Path) -> None:
    source = NotebookStore(tmp_path / "a.chatkit.json")
    threads, items = await fill(source, ALICE)
    target_path = tmp_path / "b.chatkit.json"

    report = await copy_threads(source, NotebookStore(target_path), ALICE)

    assert counts(report) == (threads, items, 2, 0, 0)
    assert report.failed == ()
    expected = await snapshot(NotebookStore(tmp_path / "a.chatkit.json"), ALICE)
    assert await snapshot(NotebookStore(target_path), ALICE) == expected
    assert len(expected) == threads
    assert sum(len(thread_items) for _, thread_items, _ in expected) == items


async def test_file_to_postgres_and_back_twice_leaves_identical_stores(
    tmp_path: Path, make_pg: MakePostgres
) -> None:
    origin = NotebookStore(tmp_path / "origin.chatkit.json")
    threads, items = await fill(origin, ALICE)
    expected = await snapshot(origin, ALICE)
    back_path = tmp_path / "back.chatkit.json"

    assert counts(await copy_threads(origin, make_pg(), ALICE)) == (threads, items, 2, 0, 0)
    assert await snapshot(make_pg(), ALICE) == expected
    assert counts(await copy_threads(make_pg(), NotebookStore(back_path), ALICE)) == (
        threads,
        items,
        2,
        0,
        0,
    )
    assert await snapshot(NotebookStore(back_path), ALICE) == expected

    # Twice each way: nothing new, nothing rewritten (the file does not even grow).
    written = back_path.read_bytes()
    again = [
        await copy_threads(origin, make_pg(), ALICE),
        await copy_threads(make_pg(), NotebookStore(back_path), ALICE),
        await copy_threads(NotebookStore(back_path), make_pg(), ALICE),
        await copy_threads(make_pg(), origin, ALICE),
    ]
    assert again == [CopyReport(present=threads)] * 4
    assert back_path.read_bytes() == written
    for store in (origin, make_pg(), NotebookStore(back_path)):
        assert await snapshot(store, ALICE) == expected
    # The current-thread markers travelled with the threads' metadata.
    assert await recall(make_pg(), ALICE) == await recall(origin, ALICE) == "thr_closed"


async def test_a_thread_longer_than_a_page_keeps_its_order(
    tmp_path: Path, make_pg: MakePostgres
) -> None:
    source = NotebookStore(tmp_path / "long.chatkit.json")
    await source.save_thread(make_thread("thr_long"), ALICE)
    count = 2 * PAGE_SIZE + 57
    for n in range(count):
        # Three items per timestamp and ids in no sorted order: only insertion order tells.
        item = user_message(f"msg_{n * 7919 % 1000:03d}", "thr_long", at(n // 3), text=str(n))
        await source.add_thread_item("thr_long", item, ALICE)
    back = NotebookStore(tmp_path / "back.chatkit.json")

    there = await copy_threads(source, make_pg(), ALICE)
    home = await copy_threads(make_pg(), back, ALICE)

    assert counts(there) == counts(home) == (1, count, 0, 0, 0)
    order = [item.id for item in await items_of(source, "thr_long", ALICE)]
    assert [item.id for item in await items_of(make_pg(), "thr_long", ALICE)] == order
    assert await snapshot(back, ALICE) == await snapshot(source, ALICE)
    assert counts(await copy_threads(source, make_pg(), ALICE)) == (0, 0, 0, 1, 0)


async def test_more_threads_than_a_page_are_all_copied_in_order(
    tmp_path: Path, make_pg: MakePostgres
) -> None:
    source = make_pg()
    count = PAGE_SIZE + 3
    for n in range(count):
        await source.save_thread(make_thread(f"thr_{n * 7919 % 1000:03d}", at(n // 2)), ALICE)
    target = NotebookStore(tmp_path / "many.chatkit.json")

    report = await copy_threads(source, target, ALICE)

    assert counts(report) == (count, 0, 0, 0, 0)
    assert await snapshot(target, ALICE) == await snapshot(source, ALICE)


async def test_hidden_context_generated_images_and_attachments_are_copied(
    tmp_path: Path, make_pg: MakePostgres
) -> None:
    source = NotebookStore(tmp_path / "a.chatkit.json")
    await fill(source, ALICE)

    await copy_threads(source, make_pg(), ALICE)

    target = make_pg()
    kinds = {"hidden_context": "hidden_context_item", "sdk_hidden_context": "sdk_hidden_context"}
    for kind, item_type in {**kinds, "generated_image": "generated_image"}.items():
        copied = await target.load_item("thr_locked", f"{kind}_1", ALICE)
        assert copied.type == item_type
        assert copied == await source.load_item("thr_locked", f"{kind}_1", ALICE)
    assert await target.load_attachment("atc_file", ALICE) == file_attachment(
        "atc_file", "thr_bare"
    )
    assert await target.load_attachment("atc_image", ALICE) == image_attachment(
        "atc_image", "thr_bare"
    )
    message = await target.load_item("thr_bare", "msg_attached", ALICE)
    assert isinstance(message, UserMessageItem)
    assert [attachment.id for attachment in message.attachments] == ["atc_file", "atc_image"]


async def test_a_message_whose_attachment_record_is_gone_is_still_copied(
    tmp_path: Path, make_target: Callable[[], AnyStore]
) -> None:
    source = NotebookStore(tmp_path / "a.chatkit.json")
    await source.save_thread(make_thread("thr_1"), ALICE)
    message = user_message("msg_1", "thr_1").model_copy(
        update={"attachments": [file_attachment("atc_gone", "thr_1")]}
    )
    await source.add_thread_item("thr_1", message, ALICE)

    report = await copy_threads(source, make_target(), ALICE)

    assert counts(report) == (1, 1, 0, 0, 0)
    assert await make_target().load_item("thr_1", "msg_1", ALICE) == message
    with pytest.raises(NotFoundError):
        await make_target().load_attachment("atc_gone", ALICE)


async def test_what_differs_in_the_target_is_overwritten_and_the_rest_kept(
    tmp_path: Path, make_target: Callable[[], AnyStore]
) -> None:
    source = NotebookStore(tmp_path / "a.chatkit.json")
    await source.save_thread(make_thread("thr_1", title="Sales"), ALICE)
    for n in range(3):
        await source.add_thread_item("thr_1", user_message(f"msg_{n}", "thr_1", at(n)), ALICE)
    target = make_target()
    await target.save_thread(make_thread("thr_1", title="Old title"), ALICE)
    await target.add_thread_item("thr_1", user_message("msg_1", "thr_1", at(1), "old"), ALICE)
    await target.add_thread_item("thr_1", user_message("msg_mine", "thr_1", at(5)), ALICE)

    report = await copy_threads(source, target, ALICE)

    assert counts(report) == (0, 2, 0, 1, 2)  # the title and msg_1 overwritten
    assert report.describe("a", "b") == (
        "Copied 0 new threads and 2 new items from a to b; 1 thread was there already; "
        "2 that differed there were overwritten with the source's version."
    )
    fresh = make_target()
    assert (await fresh.load_thread("thr_1", ALICE)).title == "Sales"
    held = await items_of(fresh, "thr_1", ALICE)
    assert [item.id for item in held] == ["msg_0", "msg_1", "msg_2", "msg_mine"]
    assert held[:3] == await items_of(source, "thr_1", ALICE)
    assert await copy_threads(source, fresh, ALICE) == CopyReport(present=1)


async def test_order_is_kept_where_the_target_already_had_a_later_tied_item(
    tmp_path: Path, make_target: Callable[[], AnyStore]
) -> None:
    # Both items share created_at, so each store orders them by insertion. Appending the
    # missing first one after the target's copy of the second would swap them.
    source = NotebookStore(tmp_path / "a.chatkit.json")
    await source.save_thread(make_thread("thr_1"), ALICE)
    for item_id in ("msg_before", "msg_first", "msg_second", "msg_after"):
        moment = at(0) if item_id == "msg_before" else at(2) if item_id == "msg_after" else at(1)
        await source.add_thread_item("thr_1", user_message(item_id, "thr_1", moment), ALICE)
    target = make_target()
    await target.save_thread(make_thread("thr_1"), ALICE)
    for item_id in ("msg_before", "msg_second"):
        await target.add_thread_item(
            "thr_1", await source.load_item("thr_1", item_id, ALICE), ALICE
        )

    report = await copy_threads(source, target, ALICE)

    assert counts(report) == (0, 2, 0, 1, 0)
    expected = await items_of(source, "thr_1", ALICE)
    assert await items_of(make_target(), "thr_1", ALICE) == expected
    assert await copy_threads(source, make_target(), ALICE) == CopyReport(present=1)


# -- who may write what ---------------------------------------------------------------------


async def test_a_thread_id_owned_by_another_user_is_reported_and_the_rest_copied(
    tmp_path: Path, make_pg: MakePostgres
) -> None:
    target = make_pg()  # not shared: each user sees only their own threads
    await target.save_thread(make_thread("thr_taken", title="Bob's"), BOB)
    await target.add_thread_item("thr_taken", user_message("msg_bob", "thr_taken"), BOB)
    source = NotebookStore(tmp_path / "a.chatkit.json")
    for n, thread_id in enumerate(("thr_1", "thr_taken", "thr_2")):
        await source.save_thread(make_thread(thread_id, at(n), title="Alice's"), ALICE)
        await source.add_thread_item(thread_id, user_message(f"msg_{n}", thread_id), ALICE)

    report = await copy_threads(source, target, ALICE)

    assert counts(report) == (2, 2, 0, 0, 0)
    assert [thread_id for thread_id, _ in report.failed] == ["thr_taken"]
    assert report.failed[0][1] == (
        "Thread thr_taken not found in the target for this user; "
        "that id may be another user's there"
    )
    assert report.describe("a.chatkit.json", "PostgreSQL").startswith(
        "Copied 2 new threads and 2 new items from a.chatkit.json to PostgreSQL. "
        "1 thread could not be copied (thr_taken): Thread thr_taken not found in the target"
    )
    fresh = make_pg()
    mine = await everything(lambda after: fresh.load_threads(10, after, "asc", ALICE))
    assert [thread.id for thread in mine] == ["thr_1", "thr_2"]
    assert (await fresh.load_thread("thr_taken", BOB)).title == "Bob's"
    assert [item.id for item in await items_of(fresh, "thr_taken", BOB)] == ["msg_bob"]
    assert (await copy_threads(source, fresh, ALICE)).failed == report.failed


async def test_the_target_context_says_whose_threads_they_become(
    tmp_path: Path, make_pg: MakePostgres
) -> None:
    source = NotebookStore(tmp_path / "a.chatkit.json")
    await source.save_thread(make_thread("thr_1"), ALICE)

    await copy_threads(source, make_pg(), ALICE, target_context=BOB)

    assert (await make_pg().load_thread("thr_1", BOB)).id == "thr_1"
    with pytest.raises(NotFoundError):
        await make_pg().load_thread("thr_1", ALICE)


class Refusing(NotebookStore):
    """A file store whose ``save_thread`` raises the given error for the given thread ids."""

    def __init__(self, path: Path, refusals: dict[str, StoreError]) -> None:
        super().__init__(path)
        self.refusals = refusals

    async def save_thread(self, thread: ThreadMetadata, context: NotebookContext) -> None:
        if thread.id in self.refusals:
            raise self.refusals[thread.id]
        await super().save_thread(thread, context)


async def three_threads(path: Path) -> NotebookStore:
    store = NotebookStore(path)
    for n in range(3):
        await store.save_thread(make_thread(f"thr_{n}", at(n)), ALICE)
        await store.add_thread_item(f"thr_{n}", user_message("msg_1", f"thr_{n}"), ALICE)
    return store


async def test_a_thread_the_target_refuses_is_reported_and_the_others_copied(
    tmp_path: Path,
) -> None:
    source = await three_threads(tmp_path / "a.chatkit.json")
    refusal = StoreError("The row is too big for the target.")
    target = Refusing(tmp_path / "b.chatkit.json", {"thr_1": refusal})

    report = await copy_threads(source, target, ALICE)

    assert counts(report) == (2, 2, 0, 0, 0)
    assert report.failed == (("thr_1", "The row is too big for the target."),)
    held = await everything(lambda after: target.load_threads(10, after, "asc", ALICE))
    assert [thread.id for thread in held] == ["thr_0", "thr_2"]


async def test_a_target_that_refuses_all_writes_stops_the_copy(tmp_path: Path) -> None:
    source = await three_threads(tmp_path / "a.chatkit.json")
    newer = StoreVersionError("Schema 2.0 is newer.", found=(2, 0), supported=(1, 0))
    target = Refusing(tmp_path / "b.chatkit.json", {"thr_1": newer})
    seen: list[tuple[int, int]] = []

    with pytest.raises(StoreVersionError, match=r"Schema 2\.0"):
        await copy_threads(source, target, ALICE, progress=lambda *done: seen.append(done))

    assert seen == [(0, 3), (1, 3)]  # the first thread was copied; a rerun carries on


async def test_an_unreachable_target_raises_at_once(tmp_path: Path) -> None:
    source = await three_threads(tmp_path / "a.chatkit.json")
    nowhere = PostgresStore(f"postgresql://u:secret@127.0.0.1:{free_port()}/db")
    seen: list[tuple[int, int]] = []

    try:
        with pytest.raises(StoreError, match="Cannot connect") as raised:
            await copy_threads(source, nowhere, ALICE, progress=lambda *done: seen.append(done))
    finally:
        await nowhere.aclose()

    assert "secret" not in str(raised.value)
    assert seen == [(0, 3)]


async def test_progress_is_reported_before_and_after_each_thread(tmp_path: Path) -> None:
    source = await three_threads(tmp_path / "a.chatkit.json")
    seen: list[tuple[int, int]] = []

    await copy_threads(
        source,
        NotebookStore(tmp_path / "b.chatkit.json"),
        ALICE,
        progress=lambda *d: seen.append(d),
    )

    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


async def test_an_empty_source_copies_nothing(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    target_path = tmp_path / "b.chatkit.json"

    report = await copy_threads(
        NotebookStore(tmp_path / "a.chatkit.json"),
        NotebookStore(target_path),
        ALICE,
        progress=lambda *done: seen.append(done),
    )

    assert report == CopyReport()
    assert (
        report.describe("a.chatkit.json", "b") == "Nothing to copy: a.chatkit.json has no threads."
    )
    assert seen == [(0, 0)]
    assert not target_path.exists()


async def test_copying_a_store_onto_itself_is_refused(
    tmp_path: Path, pg_dsn: str, make_pg: MakePostgres
) -> None:
    path = tmp_path / "a.chatkit.json"
    store = NotebookStore(path)
    (tmp_path / "link").symlink_to(tmp_path)
    pg = make_pg()
    # The same database and key, however it is spelt and whoever asks: thread ids are
    # unique per key there. (Refused before it connects: nothing to close.)
    respelt = make_conninfo("", **conninfo_to_dict(pg_dsn))  # host=... port=... dbname=...
    same_pg = PostgresStore(respelt, notebook_key=KEY_A, user="bob", shared=True)
    pairs: list[tuple[AnyStore, AnyStore]] = [
        (store, store),
        (store, NotebookStore(tmp_path / "link" / "a.chatkit.json")),
        (pg, pg),
        (pg, same_pg),
    ]
    for source, target in pairs:
        with pytest.raises(ValueError, match="same store"):
            await copy_threads(source, target, ALICE)
    assert not path.exists()
    # Another notebook key in the same database is another store.
    await pg.save_thread(make_thread("thr_1"), ALICE)
    report = await copy_threads(pg, make_pg(notebook_key="other.ipynb"), ALICE)
    assert counts(report) == (1, 0, 0, 0, 0)


# -- a real ChatKit server on each side -----------------------------------------------------


async def test_a_chat_reads_the_same_through_a_server_over_the_copy(
    tmp_path: Path, make_pg: MakePostgres
) -> None:
    answers = ["North sold most.", "By 12%.", "Two regions.", "South: 3%."]
    model = ScriptedModel([[assistant_message(text)] for text in answers])
    source = NotebookStore(tmp_path / "a.chatkit.json")
    here = ChatClient(NotebookChatServer(source, model=model), ALICE)
    first, _ = await here.create("Which region sold most?")
    await here.send(first, "By how much?")
    second, _ = await here.create("How many regions?")

    report = await copy_threads(source, make_pg(), ALICE)

    assert (report.threads, report.failed) == (2, ())
    there = ChatClient(NotebookChatServer(make_pg(), model=model), ALICE)
    assert await there.threads(order="asc") == await here.threads(order="asc")
    for thread_id in (first, second):
        assert await there.thread(thread_id) == await here.thread(thread_id)
        assert await there.items(thread_id, order="asc", limit=3) == await here.items(
            thread_id, order="asc", limit=3
        )
    seen = await there.items(first, order="asc", limit=100)
    texts = [item.content[0].text for item in seen.data if isinstance(item, AssistantMessageItem)]
    assert texts == answers[:2]

    # The conversation goes on over PostgreSQL, and moves back to the file.
    before = len((await here.items(first, order="asc", limit=100)).data)
    await there.send(first, "And in the south?")
    added = len((await there.items(first, order="asc", limit=100)).data) - before
    assert added >= 2  # the question and its answer (and the turn's receipt)
    back = await copy_threads(make_pg(), source, ALICE)
    assert back == CopyReport(items=added, present=2)
    final = await here.items(first, order="asc", limit=100)
    assert final == await there.items(first, order="asc", limit=100)
    texts = [item.content[0].text for item in final.data if isinstance(item, AssistantMessageItem)]
    assert texts == [answers[0], answers[1], answers[3]]


# -- the report's sentence ------------------------------------------------------------------


def test_the_report_describes_a_first_and_a_repeated_copy() -> None:
    first = CopyReport(threads=3, items=41, attachments=1)
    again = CopyReport(present=3)
    one = CopyReport(threads=1, items=1)

    assert first.describe("a.chatkit.json", "PostgreSQL db") == (
        "Copied 3 new threads, 41 new items and 1 attachment from a.chatkit.json to PostgreSQL db."
    )
    assert (
        again.describe("a", "b") == "Nothing new to copy from a to b: 3 threads were there already."
    )
    assert one.describe("a", "b") == "Copied 1 new thread and 1 new item from a to b."


def test_the_report_groups_failed_threads_by_reason() -> None:
    report = CopyReport(
        present=1,
        failed=(("thr_1", "it is Bob's."), ("thr_2", "too big"), ("thr_3", "it is Bob's.")),
    )

    assert report.describe("a", "b") == (
        "Nothing new to copy from a to b: 1 thread was there already. "
        "2 threads could not be copied (thr_1, thr_3): it is Bob's. "
        "1 thread could not be copied (thr_2): too big."
    )
    assert CopyReport(failed=(("thr_1", "no"),)).describe("a", "b") == (
        "Nothing was copied from a to b. 1 thread could not be copied (thr_1): no."
    )
