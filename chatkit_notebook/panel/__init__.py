"""What a person sees: the chat panel and the card a ``%chat`` cell leaves.

Belongs here: :class:`ChatPanel` (``panel``), the views that draw one thread item each
(``views``) and the thread they make up (``thread_view``, shared by the panel and the card),
ChatKit widget trees as ipywidgets (``chatkit_widgets``), the thread bar, the anywidgets
with their ``.js`` files and ``panel.css``, sanitised Markdown (``markdown``), the
``%chat`` cell's card (``cellcard``), the line under a failing cell and its fix's diff
(``errorline``), and a thread as static Markdown (``transcript``: the
export, the cell, and the copy a saved notebook keeps after each live view).

May import: ``_client`` (the one ChatKit client core), ``_items``, ``config``, ``runtime``,
``context``, ``errors``, ipywidgets and anywidget. Never ``stores`` or ``previews``, and never
the agent: the panel reaches the server only through the ChatKit protocol, and gets the status
line, "code is running", the ``@`` offers, when each thread was last used and the redactor
(for the saved transcript) as callbacks from the kernel's session.

:class:`ChatPanel` loads on first use (ipywidgets and chatkit's models).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .panel import ChatPanel

__all__ = ["ChatPanel"]


def __getattr__(name: str) -> object:
    if name == "ChatPanel":
        from .panel import ChatPanel

        return ChatPanel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
