"""The Store contract (``store_contract.StoreContract``) run against ``PostgresStore``.

Each ``make_store`` gets a new, empty database on the test run's PostgreSQL server
(``postgres.py``); ``reopen`` builds a new ``PostgresStore`` (new connections) on the same
database, so what is read back is what reached PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from chatkit.store import Store
from postgres import PostgresServer, postgres_fixture  # noqa: F401  (the fixture)
from store_contract import StoreContract

from chatkit_notebook.stores.postgres import PostgresStore


class TestPostgresStore(StoreContract):
    """``PostgresStore`` on a fresh database; ``reopen`` connects to it again."""

    # Async so that pytest-asyncio sets the test's event loop up before it and closes the
    # loop after it: the stores (closed before this fixture ends) close their pools on it.
    @pytest.fixture(autouse=True)
    async def _databases(self, postgres: PostgresServer) -> AsyncIterator[None]:
        self.server = postgres
        self.dsns: dict[Path, str] = {}
        self.databases: list[str] = []
        yield
        for name in self.databases:
            postgres.drop_database(name)

    def make_store(self, tmp_path: Path) -> Store[Any]:
        name = self.server.create_database()
        self.databases.append(name)
        self.dsns[tmp_path] = self.server.dsn(name)
        return PostgresStore(self.dsns[tmp_path], notebook_key="analysis.ipynb")

    def reopen(self, store: Store[Any], tmp_path: Path) -> Store[Any]:
        return PostgresStore(self.dsns[tmp_path], notebook_key="analysis.ipynb")
