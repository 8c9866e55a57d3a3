"""The agent's side of the protocol: the ChatKit server and everything a turn runs.

Belongs here: :class:`NotebookChatServer` (``server``), the turn's model rule (``plan``),
the approval flow's state (``approvals``), the read tools (``tools``; the notebook's cells,
outputs and last error: ``cell_tools`` over ``_cellview``), the approved-code
runner and its sandbox (``run_python``, ``sandbox``, ``mainthread``), the receipt of what
was sent (``receipt``) and its tokens and cost (``usage``), what each model call is sent
(``model_input``: each kept result once, older ones trimmed), failure messages
(``failures``) and the stream coalescer.

May import: ``stores``' public names only through the store it is given, ``previews``,
``_items``, ``config``, ``runtime``, ``context``, ``errors`` and the Agents SDK and chatkit.
Never ``_client`` (the agent is a server, not a client), ipywidgets, anywidget or IPython:
an HTTP-only ``%chatkit serve`` must not need a widget.

:class:`NotebookChatServer` loads on first use (the Agents SDK takes about a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import NotebookChatServer

__all__ = ["NotebookChatServer"]


def __getattr__(name: str) -> object:
    if name == "NotebookChatServer":
        from .server import NotebookChatServer

        return NotebookChatServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
