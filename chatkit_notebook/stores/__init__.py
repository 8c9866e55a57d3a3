"""Where threads are kept: the file beside the notebook, or a team's PostgreSQL database.

Belongs here: the ChatKit ``Store`` implementations (``file``: :class:`NotebookStore` with its
journal and replay state; ``postgres``: :class:`PostgresStore` with its SQL, rows and
connection helpers), choosing a store (``location``), copying threads between stores
(``copy``) and the current thread kept in a store (``current``).

May import: ``_items``, ``config``, ``_targets``, ``context``, ``errors``, ``_version`` and
chatkit's types. Never the agent, the panel, the kernel faces, previews or IPython.

``NotebookStore`` and ``PostgresStore`` load on first use (chatkit's pydantic models and
psycopg are not cheap), so importing this wing stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .location import StoreLocation, find_notebook_path, locate_store, store_path_for

if TYPE_CHECKING:
    from .file import NotebookStore
    from .postgres import PostgresStore

__all__ = [
    "NotebookStore",
    "PostgresStore",
    "StoreLocation",
    "find_notebook_path",
    "locate_store",
    "store_path_for",
]


def __getattr__(name: str) -> object:
    if name == "NotebookStore":
        from .file import NotebookStore

        return NotebookStore
    if name == "PostgresStore":
        try:
            from .postgres import PostgresStore
        except ImportError as e:  # psycopg is an optional extra
            msg = (
                "PostgresStore needs psycopg 3 and psycopg_pool: "
                "pip install 'chatkit-notebook[postgres]'"
            )
            raise ImportError(msg) from e
        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
