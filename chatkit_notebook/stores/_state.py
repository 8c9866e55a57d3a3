"""The live contents of a store file, rebuilt by replaying its journal records.

``store.py`` owns the file, the locks and the ChatKit API; this module is the in-memory
index it keeps: records by id, sorted by (created_at, first insertion), and a running
count of the bytes the live records take (which decides when to compact).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chatkit.store import NotFoundError

from . import _journal

__all__ = ["Ordered", "Row", "State"]


@dataclass(slots=True)
class Row:
    """One live record: its line as stored, and where it sorts.

    A store holds one per live record, so it carries no ``__dict__`` and nothing parsed.
    """

    line: bytes
    key: tuple[int, int] = (0, 0)  # (created_at in microseconds, insertion sequence)


@dataclass
class Ordered:
    """Rows by id, plus their ids sorted by (created_at, insertion order)."""

    rows: dict[str, Row] = field(default_factory=dict)
    order: list[tuple[int, int, str]] = field(default_factory=list)

    def upsert(self, ident: str, line: bytes, micros: int, seq: int) -> int:
        """Insert or replace a row; return the change in live bytes."""
        row = self.rows.get(ident)
        if row is not None:
            # An upsert keeps its first insertion's rank, which breaks created_at ties.
            grown = len(line) - len(row.line)
            row.line = line
            if row.key[0] == micros:
                return grown
            self.remove(ident)
            seq = row.key[1]
        else:
            grown = len(line) + 1
        self.rows[ident] = Row(line, (micros, seq))
        entry = (micros, seq, ident)
        if self.order and entry < self.order[-1]:
            bisect.insort(self.order, entry)
        else:  # the usual case, in a replay and for new items: the newest so far
            self.order.append(entry)
        return grown

    def remove(self, ident: str) -> Row | None:
        row = self.rows.pop(ident, None)
        if row is not None:
            index = bisect.bisect_left(self.order, row.key)
            del self.order[index]
        return row

    def page(
        self, after: str | None, limit: int, order: str, what: str
    ) -> tuple[list[Row], bool, str | None]:
        """Rows after the ``after`` id, as ChatKit pages them; ``what`` names them in errors."""
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit!r}")
        if order not in ("asc", "desc"):
            raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")
        if after is None:
            index = -1 if order == "asc" else len(self.order)
        else:
            row = self.rows.get(after)
            if row is None:
                raise NotFoundError(f"Cannot page {what} after {after}: no such id there")
            index = bisect.bisect_left(self.order, row.key)
        if order == "asc":
            chosen = self.order[index + 1 : index + 1 + limit]
            has_more = index + 1 + limit < len(self.order)
        else:
            chosen = self.order[max(0, index - limit) : index][::-1]
            has_more = index - limit > 0
        rows = [self.rows[key[2]] for key in chosen]
        next_after = (chosen[-1][2] if chosen else after) if has_more else None
        return rows, has_more, next_after


@dataclass
class State:
    """The live contents of a store file, rebuilt by replaying its records."""

    threads: Ordered = field(default_factory=Ordered)
    items: dict[str, Ordered] = field(default_factory=dict)
    attachments: dict[str, Row] = field(default_factory=dict)
    unknown: list[bytes] = field(default_factory=list)  # records of a newer minor version
    seq: int = 0
    live_bytes: int = 0  # bytes the live records take in a compacted file

    def apply(self, record: dict[str, Any] | None, line: bytes) -> None:
        self.seq += 1
        if record is None:
            self.unknown.append(line)
            self.live_bytes += len(line) + 1
            return
        op = record["op"]
        if op == "thread":
            self.live_bytes += self.threads.upsert(record["id"], line, record["_key"], self.seq)
        elif op == "item":
            thread_items = self.items.get(record["thread_id"])
            if thread_items is None:
                thread_items = self.items[record["thread_id"]] = Ordered()
            self.live_bytes += thread_items.upsert(record["id"], line, record["_key"], self.seq)
        elif op == "attachment":
            old = self.attachments.get(record["id"])
            self.live_bytes += len(line) - (len(old.line) if old else -1)
            self.attachments[record["id"]] = Row(line)
        elif op == "delete_thread":
            self._delete_thread(record["id"])
        elif op == "delete_item":
            thread_items = self.items.get(record["thread_id"])
            if thread_items is not None:
                self._drop(thread_items.remove(record["id"]))
        elif op == "delete_attachment":
            self._drop(self.attachments.pop(record["id"], None))

    def _drop(self, row: Row | None) -> None:
        if row is not None:
            self.live_bytes -= len(row.line) + 1

    def _delete_thread(self, thread_id: str) -> None:
        self._drop(self.threads.remove(thread_id))
        for row in self.items.pop(thread_id, Ordered()).rows.values():
            self._drop(row)
        for row, record in self.attachments_linked_to(thread_id):
            record["data"]["thread_id"] = None
            line = _journal.encode(record)[:-1]
            self.live_bytes += len(line) - len(row.line)
            row.line = line

    def attachments_linked_to(self, thread_id: str) -> list[tuple[Row, dict[str, Any]]]:
        """The attachments whose ``thread_id`` is ``thread_id``, with their parsed records."""
        linked = []
        for row in self.attachments.values():
            record = _journal.parse_record(row.line, allow_unknown_ops=False)
            if record is not None and record["data"].get("thread_id") == thread_id:
                linked.append((row, record))
        return linked

    def lines(self) -> Iterator[bytes]:
        """Every live record, threads before items, each in its original order."""
        for _, _, ident in sorted(self.threads.order, key=lambda key: key[1]):
            yield self.threads.rows[ident].line + b"\n"
        for row in self.attachments.values():
            yield row.line + b"\n"
        rows = [row for items in self.items.values() for row in items.rows.values()]
        for row in sorted(rows, key=lambda row: row.key[1]):
            yield row.line + b"\n"
        for line in self.unknown:
            yield line + b"\n"
