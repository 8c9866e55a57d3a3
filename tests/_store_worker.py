"""A child process that writes to a NotebookStore, for crash and concurrency tests.

Usage::

    python _store_worker.py append PATH THREAD PREFIX COUNT [--wait] [--upsert] [--compact-at N]
    python _store_worker.py hold-lock PATH

``append`` adds COUNT assistant messages ``PREFIX-00000``, ``PREFIX-00001``, ... to THREAD,
continuing after those already stored, and prints ``ack N`` (flushed) once item N is on
disk. ``--wait`` prints ``ready`` and waits for a line on stdin, so several writers can
start together.
``--upsert`` saves each item a second time, smaller, so the file gathers superseded records
and compacts (threshold ``--compact-at`` bytes). ``hold-lock`` takes the store's lock file,
prints ``locked`` and holds it until stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata
from filelock import FileLock

from chatkit_notebook import NotebookContext
from chatkit_notebook.stores.file import NotebookStore


def message(thread_id: str, item_id: str, text: str) -> AssistantMessageItem:
    return AssistantMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=datetime.now(),
        content=[AssistantMessageContent(text=text)],
    )


async def append(args: argparse.Namespace) -> None:
    store = NotebookStore(args.path)
    store.compact_min_garbage = args.compact_at
    ctx = NotebookContext()
    await store.save_thread(ThreadMetadata(id=args.thread, created_at=datetime.now()), ctx)
    page = await store.load_thread_items(args.thread, None, 1_000_000, "asc", ctx)
    start = sum(1 for item in page.data if item.id.startswith(args.prefix + "-"))
    if args.wait:
        print("ready", flush=True)
        sys.stdin.readline()
    for number in range(start, start + args.count):
        item_id = f"{args.prefix}-{number:05d}"
        first = "x" * (400 if args.upsert else 40)
        await store.add_thread_item(args.thread, message(args.thread, item_id, first), ctx)
        if args.upsert:
            await store.save_item(args.thread, message(args.thread, item_id, "y" * 40), ctx)
        print(f"ack {number}", flush=True)


def hold_lock(path: str) -> None:
    from chatkit_notebook import NotebookStore

    lock = FileLock(NotebookStore(path).lock_path)
    with lock:
        print("locked", flush=True)
        sys.stdin.read()


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    app = sub.add_parser("append")
    app.add_argument("path")
    app.add_argument("thread")
    app.add_argument("prefix")
    app.add_argument("count", type=int)
    app.add_argument("--wait", action="store_true")
    app.add_argument("--upsert", action="store_true")
    app.add_argument("--compact-at", type=int, default=NotebookStore.compact_min_garbage)
    hold = sub.add_parser("hold-lock")
    hold.add_argument("path")
    args = parser.parse_args()
    if args.command == "append":
        asyncio.run(append(args))
    else:
        hold_lock(args.path)


if __name__ == "__main__":
    main()
