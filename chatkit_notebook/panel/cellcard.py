"""A ``%chat`` answer that waits for approval, left in its cell.

A cell that blocks the kernel does not receive its own widgets' clicks, so ``%chat`` does
not wait for one: the cell ends with the approval card (a ChatKit widget, drawn as in the
panel), and a click on Run or Don't run later, with the kernel idle, sends the card's
action (``threads.custom_action``) and streams the rest of the answer into the same output,
under the card. The code itself runs on the kernel's main thread between cells.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
from chatkit.actions import ActionConfig
from chatkit.types import (
    ThreadItem,
)

from .._client import ChatKitClient, ThreadState, action_request
from ..runtime import Runtime
from .views import ItemView, style_widget, view_for

__all__ = ["CellCard"]


class CellCard(W.VBox):  # type: ignore[misc]
    """Approval cards of a ``%chat`` turn, and the answer that follows a click on them.

    Args:
        client: The session's ChatKit client.
        runtime: The package's loop, where the continuation streams.
        thread_id: The thread the cards are in.
        items: The open cards (and nothing else).
    """

    def __init__(
        self, client: ChatKitClient, runtime: Runtime, thread_id: str, items: list[ThreadItem]
    ) -> None:
        super().__init__([style_widget()])  # the page may show no panel, and so no styles
        self.add_class("ck-panel")
        self.add_class("ck-cell-card")
        self._client = client
        self._runtime = runtime
        self._thread_id = thread_id
        self._state = ThreadState.loaded(None, items)
        self._views: dict[str, ItemView] = {}
        self._busy = False
        for item in items:
            self._draw(item.id)

    def _draw(self, item_id: str) -> None:
        item = self._state.items.get(item_id)
        view = self._views.get(item_id)
        if item is None:
            if view is not None:
                kept = [c for c in self.children if c is not view.widget]  # type: ignore[has-type]
                self.children = tuple(kept)
            return
        final = item_id not in self._state.streaming
        if view is not None:
            view.draw(item, final=final)
            return
        made = view_for(item, final=final, on_action=self._clicked, schedule=self._schedule)
        if made is not None:
            self._views[item_id] = made
            self.children = (*self.children, made.widget)

    def _schedule(self, delay: float, callback: Any) -> None:
        loop = self._runtime.loop
        loop.call_soon_threadsafe(lambda: loop.call_later(delay, callback))

    def _clicked(self, item_id: str, action: ActionConfig) -> None:
        """A click (kernel thread): the turn goes on, on the loop."""
        if self._busy:
            return
        self._busy = True
        self._runtime.submit(self._act(item_id, action))

    async def _act(self, item_id: str, action: ActionConfig) -> None:
        request = action_request(self._thread_id, item_id, action.type, action.payload)
        try:
            async for event in self._client.stream(request):
                change = self._state.apply(event)
                if change is not None:
                    self._draw(change[1])
                elif event.type in ("error", "notice"):
                    note = W.HTML(f'<div class="ck-note">{_escape(event.message or "")}</div>')
                    self.children = (*self.children, note)
        finally:
            for unfinished in self._state.finish():
                self._draw(unfinished)
            self._busy = False


def _escape(text: str) -> str:
    import html

    return html.escape(text)
