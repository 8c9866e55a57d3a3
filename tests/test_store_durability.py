"""Durability of NotebookStore: crashes, concurrent writers, corrupt files, versions.

These use real files, real child processes and real ``kill -9``; nothing is mocked except
the one test that makes fsync fail on purpose.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import stat
import subprocess
import sys
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ThreadItem,
    ThreadMetadata,
)

from chatkit_notebook import (
    NotebookContext,
    StoreError,
    StoreLockTimeout,
    StoreVersionError,
    StoreWarning,
)
from chatkit_notebook.stores.file import NotebookStore

WORKER = Path(__file__).with_name("_store_worker.py")
BASE = datetime(2026, 1, 2, 3, 4, 5)


def message(
    thread_id: str, item_id: str, text: str = "hello", offset: int = 0
) -> AssistantMessageItem:
    return AssistantMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=BASE + timedelta(seconds=offset),
        content=[AssistantMessageContent(text=text)],
    )


async def all_items(store: NotebookStore, thread_id: str, ctx: NotebookContext) -> list[ThreadItem]:
    page = await store.load_thread_items(thread_id, None, 1_000_000, "asc", ctx)
    return page.data


async def snapshot(store: NotebookStore, ctx: NotebookContext) -> dict[str, list[str]]:
    """Every thread id with its item ids in order."""
    threads = await store.load_threads(1_000_000, None, "asc", ctx)
    return {t.id: [i.id for i in await all_items(store, t.id, ctx)] for t in threads.data}


def quarantined(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".corrupt-*"))


def worker(*args: str, stdin: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )


# -- the file on disk -----------------------------------------------------------------


async def test_every_mutation_is_on_disk_when_it_returns(
    store_path: Path, ctx: NotebookContext
) -> None:
    store = NotebookStore(store_path)
    await store.save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)
    await store.add_thread_item("thr_a", message("thr_a", "m1"), ctx)
    lines = store_path.read_bytes().splitlines()
    assert json.loads(lines[0])["format"] == "chatkit_notebook.store"
    assert [json.loads(line)["id"] for line in lines[1:]] == ["thr_a", "m1"]
    # A second object, as another kernel would have, sees it without any hand-off.
    assert [i.id for i in await all_items(NotebookStore(store_path), "thr_a", ctx)] == ["m1"]


async def test_store_files_are_private(store_path: Path, ctx: NotebookContext) -> None:
    store = NotebookStore(store_path)
    await store.save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    await store.compact()
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600


async def test_missing_folder_is_created_on_first_write(
    tmp_path: Path, ctx: NotebookContext
) -> None:
    store = NotebookStore(tmp_path / "a" / "b" / "nb.chatkit.json")
    assert (await store.load_threads(10, None, "desc", ctx)).data == []
    assert not (tmp_path / "a").exists()  # reading creates nothing
    await store.save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)
    assert (await store.load_thread("thr_a", ctx)).id == "thr_a"


async def test_leftover_temp_files_are_swept_on_open(
    store_path: Path, ctx: NotebookContext
) -> None:
    await NotebookStore(store_path).save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)
    leftover = store_path.with_name(f".{store_path.name}.tmp-crashed")
    leftover.write_bytes(b"half a compaction")
    unrelated = store_path.with_name("notes.txt")
    unrelated.write_text("keep me")
    await NotebookStore(store_path).load_threads(10, None, "desc", ctx)
    assert not leftover.exists()
    assert unrelated.read_text() == "keep me"


async def test_compaction_keeps_live_records_and_order(
    store_path: Path, ctx: NotebookContext
) -> None:
    store = NotebookStore(store_path)
    store.compact_min_garbage = 0
    await store.save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)
    for n in range(30):
        await store.add_thread_item("thr_a", message("thr_a", f"m{n}", offset=n % 3), ctx)
        await store.save_item("thr_a", message("thr_a", f"m{n}", "v2" * 50, offset=n % 3), ctx)
    await store.delete_thread_item("thr_a", "m5", ctx)
    before = await all_items(store, "thr_a", ctx)
    size_before = store_path.stat().st_size
    await store.compact()
    assert store_path.stat().st_size <= size_before
    assert await all_items(NotebookStore(store_path), "thr_a", ctx) == before
    assert len(store_path.read_bytes().splitlines()) == 1 + 1 + 29  # header, thread, items


async def test_another_process_compacting_is_noticed(
    store_path: Path, ctx: NotebookContext
) -> None:
    ours, theirs = NotebookStore(store_path), NotebookStore(store_path)
    await ours.save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)
    await ours.add_thread_item("thr_a", message("thr_a", "m1"), ctx)
    assert [i.id for i in await all_items(theirs, "thr_a", ctx)] == ["m1"]
    await ours.save_item("thr_a", message("thr_a", "m1", "edited"), ctx)
    await ours.compact()  # a new file (new inode and generation) replaces the old one
    await ours.add_thread_item("thr_a", message("thr_a", "m2", offset=1), ctx)
    items = await all_items(theirs, "thr_a", ctx)
    assert [(i.id, i.content[0].text) for i in items] == [("m1", "edited"), ("m2", "hello")]


async def test_file_deleted_by_hand_means_an_empty_store(
    store_path: Path, ctx: NotebookContext
) -> None:
    store = NotebookStore(store_path)
    await store.save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)
    store_path.unlink()
    with pytest.raises(NotFoundError):
        await store.load_thread("thr_a", ctx)
    await store.save_thread(ThreadMetadata(id="thr_b", created_at=BASE), ctx)
    assert [
        t.id for t in (await NotebookStore(store_path).load_threads(9, None, "asc", ctx)).data
    ] == ["thr_b"]


async def test_failed_fsync_raises_and_changes_nothing(
    store_path: Path, ctx: NotebookContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = NotebookStore(store_path)
    await store.save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)
    before = store_path.read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("chatkit_notebook.stores._journal.os.fsync", failing_fsync)
    with pytest.raises(StoreError, match="No space left on device") as failure:
        await store.add_thread_item("thr_a", message("thr_a", "m1"), ctx)
    assert str(store_path) in str(failure.value)
    assert store_path.read_bytes() == before
    with pytest.raises(StoreError):
        await store.compact()
    assert store_path.read_bytes() == before
    assert list(store_path.parent.glob(".*tmp-*")) == []
    monkeypatch.undo()
    with pytest.raises(NotFoundError):
        await store.load_item("thr_a", "m1", ctx)
    await store.add_thread_item("thr_a", message("thr_a", "m1"), ctx)
    assert [i.id for i in await all_items(NotebookStore(store_path), "thr_a", ctx)] == ["m1"]


async def test_lock_held_elsewhere_times_out_with_a_clear_error(
    store_path: Path, ctx: NotebookContext
) -> None:
    await NotebookStore(store_path).save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)
    before = store_path.read_bytes()
    with worker("hold-lock", str(store_path), stdin=True) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        store = NotebookStore(store_path, lock_timeout=0.3)
        with pytest.raises(StoreLockTimeout, match=r"\.lock"):
            await store.add_thread_item("thr_a", message("thr_a", "m1"), ctx)
        assert store_path.read_bytes() == before
    # Leaving the block closed the holder's stdin, so it released the lock and exited.
    await store.add_thread_item("thr_a", message("thr_a", "m1"), ctx)


# -- crashes --------------------------------------------------------------------------


@pytest.mark.slow
async def test_kill_9_mid_write_loses_nothing_acknowledged(
    store_path: Path, ctx: NotebookContext
) -> None:
    """100 writers killed at random moments: every reopen works and holds a prefix."""
    rng = random.Random(20261125)
    acked = 0
    for run in range(100):
        # Upserts make superseded records, so compaction (rename) is also interrupted.
        args = ["thr_crash", "item", "100000", "--upsert", "--compact-at", "4000"]
        with worker("append", str(store_path), *args) as child:
            assert child.stdout is not None
            target = rng.randint(1, 12)
            acks: list[int] = []
            while len(acks) < target:
                line = child.stdout.readline()
                assert line.startswith("ack "), f"run {run}: worker said {line!r}"
                acks.append(int(line.split()[1]))
            child.send_signal(signal.SIGKILL)
            acks += [int(line.split()[1]) for line in child.stdout.read().splitlines()]
        acked = acks[-1] + 1
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a crash must never look like corruption
            ids = [i.id for i in await all_items(NotebookStore(store_path), "thr_crash", ctx)]
        assert ids == [f"item-{n:05d}" for n in range(len(ids))], f"run {run}: not a prefix"
        assert acked <= len(ids) <= acked + 1, f"run {run}: {acked} acknowledged, {len(ids)} stored"
        acked = len(ids)
    assert quarantined(store_path) == []
    assert list(store_path.parent.glob(".*tmp-*")) == []  # swept by the reopens


# -- concurrency ----------------------------------------------------------------------


@pytest.mark.parametrize("same_thread", [False, True], ids=["two-threads", "one-thread"])
async def test_two_processes_appending_lose_nothing(
    store_path: Path, ctx: NotebookContext, same_thread: bool
) -> None:
    writers = {
        name: worker(
            "append",
            str(store_path),
            "thr_shared" if same_thread else f"thr_{name}",
            name,
            "300",
            "--wait",
            stdin=True,
        )
        for name in ("a", "b")
    }
    for child in writers.values():
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    for child in writers.values():  # both are set up: now they start writing at once
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for name, child in writers.items():
        out, _ = child.communicate(timeout=300)
        assert child.returncode == 0, f"writer {name} failed"
        assert out.split()[-1] == "299"
    store = NotebookStore(store_path)
    threads = ["thr_shared"] if same_thread else ["thr_a", "thr_b"]
    ids = [i.id for t in threads for i in await all_items(store, t, ctx)]
    assert len(ids) == 600
    for name in writers:
        mine = [i for i in ids if i.startswith(name + "-")]
        assert mine == [f"{name}-{n:05d}" for n in range(300)], f"writer {name}'s order was lost"
    # The writers really ran side by side: their records interleave in the file.
    writers_in_file_order = [
        json.loads(line)["id"][0]
        for line in store_path.read_bytes().splitlines()[1:]
        if json.loads(line)["op"] == "item"
    ]
    switches = sum(1 for x, y in itertools.pairwise(writers_in_file_order) if x != y)
    assert switches > 2, f"writers barely overlapped ({switches} switches): proves nothing"


async def test_eight_coroutines_appending_lose_nothing(
    store_path: Path, ctx: NotebookContext
) -> None:
    stores = [NotebookStore(store_path), NotebookStore(store_path)]  # two objects, one file
    await stores[0].save_thread(ThreadMetadata(id="thr_a", created_at=BASE), ctx)

    async def writer(n: int) -> None:
        for k in range(100):
            item = message("thr_a", f"w{n}-{k:03d}", offset=k)
            await stores[n % 2].add_thread_item("thr_a", item, ctx)

    await asyncio.gather(*(writer(n) for n in range(8)))
    ids = [i.id for i in await all_items(NotebookStore(store_path), "thr_a", ctx)]
    assert len(ids) == len(set(ids)) == 800
    for n in range(8):
        assert [i for i in ids if i.startswith(f"w{n}-")] == [f"w{n}-{k:03d}" for k in range(100)]


# -- corrupt and foreign files ----------------------------------------------------------


async def build_small_store(path: Path, ctx: NotebookContext) -> list[str]:
    """A store of 2 threads and 5 items; returns record ids in file order."""
    store = NotebookStore(path)
    order = []
    for t in ("thr_a", "thr_b"):
        await store.save_thread(ThreadMetadata(id=t, created_at=BASE, title=f"Thread {t}"), ctx)
        order.append(t)
        for n in range(2 if t == "thr_a" else 3):
            await store.add_thread_item(t, message(t, f"{t}-m{n}", f"text {n} ✓", offset=n), ctx)
            order.append(f"{t}-m{n}")
    return order


async def open_and_check_usable(path: Path, ctx: NotebookContext) -> dict[str, list[str]]:
    """Open a store, read everything, write to it, and reopen: return what it held."""
    store = NotebookStore(path)
    held = await snapshot(store, ctx)
    await store.save_thread(ThreadMetadata(id="thr_new", created_at=BASE), ctx)
    await store.add_thread_item("thr_new", message("thr_new", "new-m"), ctx)
    after = await snapshot(NotebookStore(path), ctx)
    assert after == {**held, "thr_new": ["new-m"]}
    return held


def ids_in(held: dict[str, list[str]]) -> list[str]:
    return [x for thread, items in held.items() for x in (thread, *items)]


async def test_truncation_at_every_byte_keeps_a_prefix(
    tmp_path: Path, ctx: NotebookContext
) -> None:
    source = tmp_path / "source.chatkit.json"
    order = await build_small_store(source, ctx)
    data = source.read_bytes()
    line_ends = [i for i, byte in enumerate(data) if byte == ord("\n")]
    header_end = line_ends[0]
    for cut in range(len(data) + 1):
        path = tmp_path / f"cut{cut}" / "nb.chatkit.json"
        path.parent.mkdir()
        path.write_bytes(data[:cut])
        whole = sum(1 for end in line_ends[1:] if end < cut)  # records with their newline
        # Corrupt: no complete header, or a whole record cut off just before its newline
        # (a crash cannot do that: a record and its newline go in one write).
        corrupt = cut <= header_end or cut in line_ends[1:]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            held = await open_and_check_usable(path, ctx)
        store_warnings = [w for w in caught if issubclass(w.category, StoreWarning)]
        assert ids_in(held) == order[:whole], f"cut at {cut}"
        if corrupt:
            assert len(store_warnings) == 1, f"cut at {cut}: {[str(w.message) for w in caught]}"
            (aside,) = quarantined(path)
            assert aside.read_bytes() == data[:cut]
            assert str(aside) in str(store_warnings[0].message)
        else:
            assert store_warnings == [], f"cut at {cut}"
            assert quarantined(path) == []


async def test_random_byte_flips_never_crash_and_keep_the_bytes(
    tmp_path: Path, ctx: NotebookContext
) -> None:
    source = tmp_path / "source.chatkit.json"
    order = await build_small_store(source, ctx)
    data = source.read_bytes()
    rng = random.Random(1125)
    outcomes = {"quarantined": 0, "read": 0}
    for case in range(500):
        flipped = bytearray(data)
        flipped[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        path = tmp_path / f"flip{case}" / "nb.chatkit.json"
        path.parent.mkdir()
        path.write_bytes(bytes(flipped))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            held = await open_and_check_usable(path, ctx)
        store_warnings = [w for w in caught if issubclass(w.category, StoreWarning)]
        assert len(store_warnings) <= 1
        aside = quarantined(path)
        if aside:
            outcomes["quarantined"] += 1
            assert len(store_warnings) == 1
            assert aside[0].read_bytes() == bytes(flipped), f"case {case}"
            # What was kept is the part before the damage, untouched.
            assert ids_in(held) == order[: len(ids_in(held))]
        else:
            outcomes["read"] += 1
    # Most single flips break JSON or a record's shape and must be caught.
    assert outcomes["quarantined"] > 250, outcomes


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"null",
        b"[]",
        b"{}",
        b"\xff\xfe\x00garbage",
        "\ufeff".encode() + b'{"format": "chatkit_notebook.store"}\n',
        b"NaN\n",
        b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        b'{"format": "chatkit_notebook.store", "schema_version": [0, 3], "generation": "g"}\n',
        b'{"format": "chatkit_notebook.store", "schema_version": "1.0", "generation": "g"}\n',
        b"[" * 100_000 + b"\n",
    ],
    ids=[
        "empty",
        "null",
        "list",
        "object",
        "bad-utf8",
        "bom",
        "nan",
        "a-notebook",
        "version-0",
        "version-string",
        "deep-nesting",
    ],
)
async def test_foreign_files_are_set_aside_not_overwritten(
    store_path: Path, ctx: NotebookContext, content: bytes
) -> None:
    store_path.write_bytes(content)
    with pytest.warns(StoreWarning) as caught:
        held = await open_and_check_usable(store_path, ctx)
    assert held == {}
    assert len(caught) == 1
    (aside,) = quarantined(store_path)
    assert aside.read_bytes() == content
    assert str(store_path) in str(caught[0].message)
    assert str(aside) in str(caught[0].message)


async def test_garbage_appended_by_another_writer_is_set_aside(
    store_path: Path, ctx: NotebookContext
) -> None:
    store = NotebookStore(store_path)
    await build_small_store(store_path, ctx)
    assert len(await all_items(store, "thr_b", ctx)) == 3
    with store_path.open("ab") as f:
        f.write(b'{"op": "item", "oops"}\n')
    damaged = store_path.read_bytes()
    with pytest.warns(StoreWarning, match="line 9"):
        assert len(await all_items(store, "thr_b", ctx)) == 3
    (aside,) = quarantined(store_path)
    assert aside.read_bytes() == damaged


# -- schema versions --------------------------------------------------------------------


def header(major: int, minor: int, **extra: object) -> bytes:
    fields = {
        "format": "chatkit_notebook.store",
        "schema_version": [major, minor],
        "generation": "g1",
    }
    return (json.dumps({**fields, **extra}) + "\n").encode()


def record_line(record: dict[str, object]) -> bytes:
    return (json.dumps(record) + "\n").encode()


THREAD_DATA = {"id": "thr_a", "created_at": "2026-01-02T03:04:05", "title": "Kept"}


async def test_newer_major_version_opens_read_only_and_untouched(
    store_path: Path, ctx: NotebookContext
) -> None:
    content = header(2, 0) + record_line({"op": "thread", "id": "thr_a", "data": THREAD_DATA})
    store_path.write_bytes(content)
    os.utime(store_path, ns=(1_000_000_000, 1_000_000_000))
    store = NotebookStore(store_path)
    with pytest.warns(StoreWarning, match=r"schema 2\.0.*reads schema 1\.x"):
        assert (await store.load_thread("thr_a", ctx)).title == "Kept"
    with pytest.raises(StoreVersionError, match=r"schema 2\.0") as failure:
        await store.save_thread(ThreadMetadata(id="thr_b", created_at=BASE), ctx)
    assert failure.value.found == (2, 0)
    assert failure.value.supported == (1, 0)
    assert store.read_only is not None
    assert store_path.read_bytes() == content
    assert store_path.stat().st_mtime_ns == 1_000_000_000
    assert quarantined(store_path) == []


async def test_newer_minor_version_keeps_unknown_fields_through_saves(
    store_path: Path, ctx: NotebookContext
) -> None:
    item = message("thr_a", "m1").model_dump(mode="json")
    content = (
        header(1, 7, future_setting={"x": 1})
        + record_line({"op": "thread", "id": "thr_a", "data": THREAD_DATA, "future_field": 1})
        + record_line({"op": "pin", "id": "m1", "note": "an op from the future"})
        + record_line({"op": "item", "thread_id": "thr_a", "id": "m1", "data": item})
    )
    store_path.write_bytes(content)
    store = NotebookStore(store_path)
    assert [i.id for i in await all_items(store, "thr_a", ctx)] == ["m1"]
    await store.add_thread_item("thr_a", message("thr_a", "m2", offset=1), ctx)
    await store.compact()
    lines = [json.loads(line) for line in store_path.read_bytes().splitlines()]
    assert lines[0]["schema_version"] == [1, 7]
    assert lines[0]["future_setting"] == {"x": 1}
    assert {"op": "pin", "id": "m1", "note": "an op from the future"} in lines
    assert any(line.get("future_field") == 1 for line in lines)
    assert [i.id for i in await all_items(NotebookStore(store_path), "thr_a", ctx)] == ["m1", "m2"]


async def test_same_minor_version_rejects_unknown_ops(
    store_path: Path, ctx: NotebookContext
) -> None:
    content = header(1, 0) + record_line({"op": "pin", "id": "m1"})
    store_path.write_bytes(content)
    with pytest.warns(StoreWarning, match="unknown record op 'pin'"):
        assert await snapshot(NotebookStore(store_path), ctx) == {}
    assert quarantined(store_path)[0].read_bytes() == content


async def test_record_of_an_unknown_item_type_is_skipped_not_fatal(
    store_path: Path, ctx: NotebookContext, caplog: pytest.LogCaptureFixture
) -> None:
    future = {
        "id": "m2",
        "thread_id": "thr_a",
        "type": "hologram",
        "created_at": "2026-01-02T03:04:06",
    }
    content = (
        header(1, 0)
        + record_line({"op": "thread", "id": "thr_a", "data": THREAD_DATA})
        + record_line(
            {
                "op": "item",
                "thread_id": "thr_a",
                "id": "m1",
                "data": message("thr_a", "m1").model_dump(mode="json"),
            }
        )
        + record_line({"op": "item", "thread_id": "thr_a", "id": "m2", "data": future})
    )
    store_path.write_bytes(content)
    store = NotebookStore(store_path)
    assert [i.id for i in await all_items(store, "thr_a", ctx)] == ["m1"]
    assert "cannot read" in caplog.text
    with pytest.raises(NotFoundError):
        await store.load_item("thr_a", "m2", ctx)
    await store.compact()
    assert b"hologram" in store_path.read_bytes()  # kept for the version that reads it
