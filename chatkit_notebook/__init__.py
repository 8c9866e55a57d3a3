"""chatkit-notebook: chat with your notebook's live data, in the notebook.

``%load_ext chatkit_notebook`` and then ``%chat`` open a ChatKit chat panel under the cell.
Conversations are kept in a file beside the notebook (:class:`NotebookStore`), so they
survive kernel restarts and travel with the notebook.

Importing this package stays cheap: the agent runtime and the widgets load on first use.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .config import ModelConfig, configure, reset_configuration
from .context import NotebookContext
from .errors import (
    ChatkitNotebookError,
    ConfigError,
    RequestError,
    ServerFailure,
    StoreCorruptError,
    StoreError,
    StoreLockTimeout,
    StoreReadOnlyError,
    StoreVersionError,
    StoreWarning,
)
from .kernel.serving import serve, stop_serving
from .stores.location import StoreLocation, find_notebook_path, locate_store, store_path_for

if TYPE_CHECKING:
    from .agent.server import NotebookChatServer
    from .panel.panel import ChatPanel
    from .stores.file import NotebookStore
    from .stores.postgres import PostgresStore

__all__ = [
    "ChatPanel",
    "ChatkitNotebookError",
    "ConfigError",
    "ModelConfig",
    "NotebookChatServer",
    "NotebookContext",
    "NotebookStore",
    "PostgresStore",
    "RequestError",
    "ServerFailure",
    "StoreCorruptError",
    "StoreError",
    "StoreLocation",
    "StoreLockTimeout",
    "StoreReadOnlyError",
    "StoreVersionError",
    "StoreWarning",
    "__version__",
    "configure",
    "find_notebook_path",
    "locate_store",
    "reset_configuration",
    "serve",
    "stop_serving",
    "store_path_for",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext chatkit_notebook``: add ``%chat`` and ``%%chat`` to this kernel."""
    from .kernel import magics, session

    magics.register(ipython, session.load(ipython))  # closes a session loaded before
    _warm_up_while_idle(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext chatkit_notebook``: remove the magics, stop serving and the loop."""
    from .kernel import session

    session.unload()


def _warm_up_while_idle(ipython: Any) -> None:
    """Import the panel and server (chatkit and the Agents SDK, ~1.2 s) while the kernel
    waits for the next cell: %load_ext returns in ~20 ms, and a %chat run once they are in
    takes ~35 ms (bench/load_bench.py).

    The imports start when the cell that loaded the extension has finished, and the next
    cell to run first waits for what is left of them: they never run beside the user's
    code, whose own imports of the same packages could otherwise fail half-way (two threads
    importing ``agents`` at once: ``KeyError: 'agents'`` from importlib).
    """
    events = getattr(ipython, "events", None)
    if events is None:
        return
    thread = threading.Thread(target=_warm_up, name="chatkit-notebook-warmup", daemon=True)

    def start() -> None:
        events.unregister("post_execute", start)
        thread.start()

    def finish() -> None:
        for event, callback in (("post_execute", start), ("pre_execute", finish)):
            if callback in events.callbacks[event]:
                events.unregister(event, callback)
        if thread.is_alive():
            thread.join()

    events.register("post_execute", start)
    events.register("pre_execute", finish)


def _warm_up() -> None:
    try:
        from .agent import server  # noqa: F401
        from .panel import panel  # noqa: F401
    except Exception:  # reported properly when %chat imports them for real
        return


# Heavy classes, each exported lazily by its wing (chatkit's models, the Agents SDK, widgets,
# psycopg): `import chatkit_notebook` stays cheap.
_LAZY = {
    "ChatPanel": "panel",
    "NotebookChatServer": "agent",
    "NotebookStore": "stores",
    "PostgresStore": "stores",
}


def __getattr__(name: str) -> object:
    wing = _LAZY.get(name)
    if wing is None:
        raise AttributeError(f"module 'chatkit_notebook' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{wing}", __name__), name)
