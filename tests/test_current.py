"""Which thread is current, per user: on a shared notebook each person continues their own."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from chatkit.types import ThreadMetadata

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook.stores.current import KEY, recall, remember

ALICE = NotebookContext(user="alice")
BOB = NotebookContext(user="bob")


async def test_each_user_continues_the_thread_they_opened_last(tmp_path: Path) -> None:
    store = NotebookStore(tmp_path / "nb.chatkit.json")
    for thread_id in ("thr_a", "thr_b"):
        await store.save_thread(ThreadMetadata(id=thread_id, created_at=datetime.now()), ALICE)
    await remember(store, "thr_a", None, ALICE)
    await remember(store, "thr_b", None, BOB)  # later, by Bob: not Alice's current thread
    assert await recall(store, ALICE) == "thr_a"
    assert await recall(store, BOB) == "thr_b"
    # Alice starts a new chat: none is current for her; Bob's stays.
    await remember(store, None, "thr_a", ALICE)
    assert await recall(store, ALICE) is None
    assert await recall(store, BOB) == "thr_b"
    stamps = (await store.load_thread("thr_a", ALICE)).metadata[KEY]
    assert set(stamps["users"]["alice"]) == {"opened_at", "left_at"}


async def test_stamps_kept_for_no_user_count_for_everyone_without_their_own(
    tmp_path: Path,
) -> None:
    store = NotebookStore(tmp_path / "nb.chatkit.json")
    for thread_id in ("thr_old", "thr_new"):
        await store.save_thread(ThreadMetadata(id=thread_id, created_at=datetime.now()), ALICE)
    await remember(store, "thr_old", None, NotebookContext())  # as written before users
    assert await recall(store, ALICE) == "thr_old"
    await remember(store, "thr_new", None, ALICE)
    assert await recall(store, ALICE) == "thr_new"
    assert await recall(store, BOB) == "thr_old"


async def test_a_thread_nobody_opened_here_never_takes_over_one_that_was(tmp_path: Path) -> None:
    store = NotebookStore(tmp_path / "nb.chatkit.json")
    await store.save_thread(ThreadMetadata(id="thr_mine", created_at=datetime.now()), ALICE)
    await remember(store, "thr_mine", None, ALICE)
    # Created later by a ChatKit client over HTTP: no stamp.
    await store.save_thread(ThreadMetadata(id="thr_http", created_at=datetime.now()), ALICE)
    assert await recall(store, ALICE) == "thr_mine"
    # A store nobody stamped (written before stamps) still continues its newest thread.
    other = NotebookStore(tmp_path / "old.chatkit.json")
    for thread_id in ("thr_1", "thr_2"):
        await other.save_thread(ThreadMetadata(id=thread_id, created_at=datetime.now()), ALICE)
    assert await recall(other, ALICE) == "thr_2"
