"""NotebookStore against a plain in-memory model, driven by Hypothesis.

The model is the contract in a few lines: threads and items sorted by created_at, ties
broken by first insertion (an upsert keeps its rank), deleting a thread drops its items.
Reopening the file (a new store object) and compaction are steps too, so every sequence
of operations must also survive a trip through the disk.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from chatkit.store import NotFoundError
from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from chatkit_notebook import NotebookContext
from chatkit_notebook.stores.file import NotebookStore

BASE = datetime(2026, 3, 1, 12, 0, 0)
THREADS = st.sampled_from(["thr_a", "thr_b", "thr_c"])
ITEMS = st.sampled_from([f"m{n}" for n in range(8)])
# Few distinct timestamps, so ties in created_at are common.
MOMENTS = st.integers(0, 3).map(lambda s: BASE + timedelta(seconds=s))
TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@dataclass
class Entry:
    value: Any
    key: tuple[datetime, int]


@dataclass
class Model:
    seq: int = 0
    threads: dict[str, Entry] = field(default_factory=dict)
    items: dict[str, dict[str, Entry]] = field(default_factory=dict)

    def upsert(self, table: dict[str, Entry], ident: str, value: Any, created: datetime) -> None:
        self.seq += 1
        if ident in table:  # an upsert keeps its first insertion's rank for ties
            table[ident] = Entry(value, (created, table[ident].key[1]))
        else:
            table[ident] = Entry(value, (created, self.seq))

    def page(
        self, table: dict[str, Entry], after: str | None, limit: int, order: str
    ) -> tuple[list[Any], bool, str | None]:
        ids = sorted(table, key=lambda i: table[i].key, reverse=order == "desc")
        start = 0 if after is None else ids.index(after) + 1
        chosen = ids[start : start + limit]
        has_more = start + limit < len(ids)
        return (
            [table[i].value for i in chosen],
            has_more,
            (chosen[-1] if chosen else after) if has_more else None,
        )


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="store-model-"))
        self.path = self.folder / "nb.chatkit.json"
        self.loop = asyncio.new_event_loop()
        self.ctx = NotebookContext()
        self.store = NotebookStore(self.path)
        self.model = Model()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(thread_id=THREADS, created=MOMENTS, title=st.none() | TEXTS)
    def save_thread(self, thread_id: str, created: datetime, title: str | None) -> None:
        thread = ThreadMetadata(id=thread_id, created_at=created, title=title)
        self.run(self.store.save_thread(thread, self.ctx))
        self.model.upsert(self.model.threads, thread_id, thread, created)

    @rule(thread_id=THREADS, item_id=ITEMS, created=MOMENTS, text=TEXTS, add=st.booleans())
    def save_item(
        self, thread_id: str, item_id: str, created: datetime, text: str, add: bool
    ) -> None:
        item = AssistantMessageItem(
            id=item_id,
            thread_id=thread_id,
            created_at=created,
            content=[AssistantMessageContent(text=text)],
        )
        method = self.store.add_thread_item if add else self.store.save_item
        self.run(method(thread_id, item, self.ctx))
        self.model.upsert(self.model.items.setdefault(thread_id, {}), item_id, item, created)

    @rule(thread_id=THREADS, item_id=ITEMS)
    def delete_item(self, thread_id: str, item_id: str) -> None:
        self.run(self.store.delete_thread_item(thread_id, item_id, self.ctx))
        self.model.items.get(thread_id, {}).pop(item_id, None)

    @rule(thread_id=THREADS)
    def delete_thread(self, thread_id: str) -> None:
        self.run(self.store.delete_thread(thread_id, self.ctx))
        self.model.threads.pop(thread_id, None)
        self.model.items.pop(thread_id, None)

    @rule()
    def reopen(self) -> None:
        self.store = NotebookStore(self.path)

    @rule()
    def compact(self) -> None:
        self.run(self.store.compact())

    @rule(
        thread_id=THREADS,
        limit=st.integers(0, 4),
        order=st.sampled_from(["asc", "desc"]),
        data=st.data(),
    )
    def page_items(self, thread_id: str, limit: int, order: str, data: st.DataObject) -> None:
        table = self.model.items.get(thread_id, {})
        after = data.draw(st.none() | st.sampled_from(sorted(table))) if table else None
        page = self.run(self.store.load_thread_items(thread_id, after, limit, order, self.ctx))
        assert (page.data, page.has_more, page.after) == self.model.page(table, after, limit, order)

    @rule(item_id=ITEMS, thread_id=THREADS)
    def load_item(self, thread_id: str, item_id: str) -> None:
        expected = self.model.items.get(thread_id, {}).get(item_id)
        try:
            loaded = self.run(self.store.load_item(thread_id, item_id, self.ctx))
        except NotFoundError:
            assert expected is None
        else:
            assert expected is not None
            assert loaded == expected.value

    @invariant()
    def live_bytes_are_counted_right(self) -> None:
        # Compaction is decided from this running count; a drift would never compact
        # or compact on every write.
        state = self.store._state
        assert state.live_bytes == sum(len(line) for line in state.lines())

    @invariant()
    def threads_match(self) -> None:
        page = self.run(self.store.load_threads(100, None, "desc", self.ctx))
        expected, _, _ = self.model.page(self.model.threads, None, 100, "desc")
        assert page.data == expected


StoreMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoreAgainstModel = StoreMachine.TestCase
