"""The Store contract (``store_contract.StoreContract``) run against every store we ship or compare.

``NotebookStore`` is the package's store; ``SQLiteStore`` (``bench/sqlite_store.py``) is the
benchmark baseline, held to the same contract so the benchmark compares like with like.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from chatkit.store import Store

from chatkit_notebook import NotebookStore

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:  # so this works under any pytest import mode
    sys.path.insert(0, str(_TESTS))

from store_contract import StoreContract  # noqa: E402

_BENCH = _TESTS.parent / "bench"


class TestNotebookStore(StoreContract):
    """``chatkit_notebook.NotebookStore`` on a file; ``reopen`` opens that file again."""

    def make_store(self, tmp_path: Path) -> Store[Any]:
        return NotebookStore(tmp_path / "threads.chatkit.json")

    def reopen(self, store: Store[Any], tmp_path: Path) -> Store[Any]:
        return self.make_store(tmp_path)


class TestSQLiteBaselineStore(StoreContract):
    """The benchmark baseline ``bench/sqlite_store.py:SQLiteStore`` on a database file."""

    def make_store(self, tmp_path: Path) -> Store[Any]:
        if str(_BENCH) not in sys.path:
            sys.path.insert(0, str(_BENCH))
        from sqlite_store import SQLiteStore  # type: ignore[import-not-found]

        store: Store[Any] = SQLiteStore(tmp_path / "threads.sqlite3")
        return store

    def reopen(self, store: Store[Any], tmp_path: Path) -> Store[Any]:
        return self.make_store(tmp_path)
