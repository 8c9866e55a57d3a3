"""A ``%chat`` answer that waits for approval, left in its cell.

A cell that blocks the kernel does not receive its own widgets' clicks, so ``%chat`` does
not wait for one: the cell ends with the approval card (a ChatKit widget, drawn as in the
panel), and a click on Run or Don't run later, with the kernel idle, sends the card's
action (``threads.custom_action``) and streams the rest of the answer into the same output,
under the card. The code itself runs on the kernel's main thread between cells.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import inspect
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import ipywidgets as W
from chatkit.actions import ActionConfig
from chatkit.types import ThreadItem

from .._client import ChatKitClient, ThreadState, action_request
from .._items import card_call_id, is_receipt
from ..runtime import Runtime, wait_for_event
from .thread_view import ThreadView
from .transcript import Shown, show_with_transcript, transcript_bundle, update_transcripts
from .views import style_widget

__all__ = ["CellCard"]

logger = logging.getLogger("chatkit_notebook")


class CellCard(W.VBox):  # type: ignore[misc]
    """Approval cards of a ``%chat`` turn, and the answer that follows a click on them.

    **Threads**, as in the chat panel: a click (on the kernel's thread) only posts the
    action to the package's loop, where the card changes. A click while an answer streams
    is dropped, as the card it was on is being answered.

    Args:
        client: The session's ChatKit client.
        runtime: The package's loop, where the continuation streams.
        thread_id: The thread the cards are in.
        items: The open cards, and the turn's receipt so far (which the end of the turn
            replaces).
        redact: Redacts secrets from the transcript a saved notebook keeps.
        changes: The store's change token for the thread (as the panel's ``changes``):
            when given, the card follows a decision taken in another view (the panel),
            showing it decided, and what followed, within a moment.
    """

    def __init__(
        self,
        client: ChatKitClient,
        runtime: Runtime,
        thread_id: str,
        items: list[ThreadItem],
        *,
        redact: Callable[[str], str] | None = None,
        changes: Callable[[str | None], object] | None = None,
        stale: Callable[[dict[str, dict[str, Any]]], list[str]] | None = None,
        stale_changes: Callable[[Callable[[], object]], Callable[[], None]] | None = None,
    ) -> None:
        super().__init__([style_widget()])  # the page may show no panel, and so no styles
        self.add_class("ck-panel")
        self.add_class("ck-cell-card")
        self.add_class("ck-live")
        self._transcripts: Shown = []  # the transcripts shown
        self._redact = redact
        self._client = client
        self._runtime = runtime
        self._thread_id = thread_id
        self._busy = False  # an answer is streaming (read and written on the loop only)
        self._posted: list[threading.Event] = []  # one per click, set once it is over
        self._posted_lock = threading.Lock()
        self._thread = ThreadView(
            self,
            lambda: runtime,
            ThreadState.loaded(None, items),
            on_action=self._clicked,
            stale=stale,
        )
        # The answer a click leaves here is marked stale when a variable it read changes.
        self._unstale = stale_changes(self._stale_changed) if stale_changes else None
        self._first = items[0].id if items else None
        # The receipt of the turn so far: the turn has not ended while it is all there is.
        self._paused = {item.id for item in items if is_receipt(item)}
        if changes is not None and self._first is not None:
            runtime.submit(_follow(weakref.ref(self), changes, thread_id))

    def _stale_changed(self) -> None:
        """A variable some answer read changed (any thread): redraw the marks, on the loop."""
        self._runtime.loop.call_soon_threadsafe(self._thread.check_stale)

    async def _sync(self) -> None:
        """Show the card as stored, and what followed it (loop thread): a decision taken
        in another view shows here too, with its result."""
        if self._open_busy() or self._first is None:
            return
        page = await self._client.items(self._thread_id, limit=200, order="desc")
        if self._open_busy():  # clicked meanwhile: its own answer streams here
            return
        ids = [item.id for item in page.data]
        if self._first not in ids:
            return  # the thread moved on too far, or the card was deleted: keep what is shown
        ours = list(reversed(page.data[: ids.index(self._first) + 1]))
        stored = {item.id for item in ours}
        gone = [item_id for item_id in self._thread.state.items if item_id not in stored]
        for item_id in gone:  # the pause's receipt, replaced by the turn's
            self._thread.forget(item_id)
        changed = bool(gone)
        for item in ours:
            if self._thread.state.items.get(item.id) != item:
                self._thread.add(item)
                changed = True
        if changed:
            update_transcripts(self._transcripts, self._transcript_bundle())

    def __repr__(self) -> str:
        return f"<CellCard thread={self._thread_id!r}>"

    def _ipython_display_(self) -> None:
        """Show the live card, then its transcript for the saved notebook (hidden while
        the card lives, brought up to date after a click: see ``transcript``)."""
        show_with_transcript(self, self._transcripts, self._transcript_bundle())

    def _transcript_bundle(self) -> dict[str, str]:
        return transcript_bundle(
            list(self._thread.state.items.values()),
            title=None,
            what="approval card",
            then="Run this cell to ask again.",
            redact=self._redact,
        )

    def wait(self, timeout: float = 60.0) -> None:
        """Block until every click's answer is over; for scripts and tests.

        Raises:
            TimeoutError: an answer was still streaming after ``timeout`` seconds.
        """
        end = time.monotonic() + timeout
        with self._posted_lock:
            posted = list(self._posted)
        for settled in posted:
            if not wait_for_event(settled, max(0.0, end - time.monotonic())):
                msg = f"the card's answer was still streaming after {timeout} s"
                raise TimeoutError(msg)

    def _clicked(self, item_id: str, action: ActionConfig) -> concurrent.futures.Future[None]:
        """A click (kernel thread): the turn goes on, on the loop."""
        future, settled = self._runtime.submit_tracked(self._act(item_id, action))
        with self._posted_lock:
            self._posted = [event for event in self._posted if not event.is_set()]
            self._posted.append(settled)
        return future

    async def _act(self, item_id: str, action: ActionConfig) -> None:
        """Send the action and stream the rest of the answer under the card (loop thread)."""
        self._thread.on_loop()
        if self._busy:
            return
        self._busy = True
        request = action_request(self._thread_id, item_id, action.type, action.payload)
        try:
            async for event in self._client.stream(request):
                if self._thread.apply(event) is None and event.type in ("error", "notice"):
                    self._note(event.message or "")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # shown in the card, never lost in a discarded future
            logger.debug("the card's action failed", exc_info=True)
            self._note(f"The action failed: {str(error) or type(error).__name__}")
        finally:
            self._thread.finish()
            self._busy = False
            update_transcripts(self._transcripts, self._transcript_bundle())

    def _open_busy(self) -> bool:
        """Whether a click's answer streams here now."""
        return self._busy

    def _open(self) -> bool:
        """Whether a card here still waits for a decision, or the turn it continues has not
        ended yet (no receipt after it: a decision taken elsewhere is still answering)."""
        items = list(self._thread.state.items.values())
        return (
            self._busy
            or any(card_call_id(item) is not None for item in items)
            or not any(is_receipt(item) and item.id not in self._paused for item in items)
        )

    def _note(self, message: str) -> None:
        note = W.HTML(f'<div class="ck-note">{html.escape(message)}</div>')
        self.children = (*self.children, note)  # type: ignore[has-type]


FOLLOW_SECONDS = 0.5  # as the panel's watch: neither store sends change events


async def _follow(
    card: weakref.ref[CellCard], changes: Callable[[str | None], object], thread_id: str
) -> None:
    """Sync the card whenever the store changed, while the card is alive and open."""

    async def token() -> object:
        now = changes(thread_id)
        return await now if inspect.isawaitable(now) else now

    last = await token()
    while True:
        await asyncio.sleep(FOLLOW_SECONDS)
        shown = card()
        if shown is None or not shown._open():
            return
        try:
            now = await token()
            if now != last:
                last = now
                await shown._sync()
        except Exception:  # reported by the next click, if it matters
            logger.debug("following the card's thread failed", exc_info=True)
        del shown
