"""What a store file holds, read back the way a new kernel would: a new ``NotebookStore``.

Tests that drive a panel, a magic, a kernel or the server check what reached the file with
these, instead of each writing its own reader.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from chatkit.types import ThreadItem

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._items import is_receipt

ALL = 1000  # more items than any test's thread has; read_items fails if there are more


async def read_items(
    path: Path, thread_id: str | None = None, *, receipts: bool = True
) -> list[ThreadItem]:
    """Every item of a thread in the store file at ``path``, oldest first.

    Args:
        path: The store file.
        thread_id: The thread; ``None`` means the file's one thread (fails if there are
            several, or none).
        receipts: ``False`` leaves out the turns' receipts (hidden items the panel never
            draws).
    """
    store = NotebookStore(path)
    context = NotebookContext()
    if thread_id is None:
        (thread,) = (await store.load_threads(5, None, "desc", context)).data
        thread_id = thread.id
    page = await store.load_thread_items(thread_id, None, ALL, "asc", context)
    assert not page.has_more, f"thread {thread_id} has more than {ALL} items"
    return [item for item in page.data if receipts or not is_receipt(item)]


def stored_items(
    path: Path, thread_id: str | None = None, *, receipts: bool = True
) -> list[ThreadItem]:
    """:func:`read_items` from synchronous code (a test with no event loop running)."""
    return asyncio.run(read_items(path, thread_id, receipts=receipts))
