"""The Store contract (``store_contract.StoreContract``) run against every store we ship or compare.

``NotebookStore`` is the package's store; ``SQLiteStore`` (``bench/sqlite_store.py``) is the
benchmark baseline, held to the same contract so the benchmark compares like with like.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatkit.store import Store
from store_contract import StoreContract

from chatkit_notebook import NotebookStore


class TestNotebookStore(StoreContract):
    """``chatkit_notebook.NotebookStore`` on a file; ``reopen`` opens that file again."""

    def make_store(self, tmp_path: Path) -> Store[Any]:
        return NotebookStore(tmp_path / "threads.chatkit.json")

    def reopen(self, store: Store[Any], tmp_path: Path) -> Store[Any]:
        return self.make_store(tmp_path)


class TestSQLiteBaselineStore(StoreContract):
    """The benchmark baseline ``bench/sqlite_store.py:SQLiteStore`` on a database file."""

    def make_store(self, tmp_path: Path) -> Store[Any]:
        from sqlite_store import SQLiteStore  # type: ignore[import-not-found]

        store: Store[Any] = SQLiteStore(tmp_path / "threads.sqlite3")
        return store

    def reopen(self, store: Store[Any], tmp_path: Path) -> Store[Any]:
        return self.make_store(tmp_path)
