"""``ThreadView``: one thread as the client knows it, drawn item by item into a box.

The chat panel and the card a ``%chat`` cell leaves both show a thread the same way: the
ChatKit events fold into the client's reducer (:class:`~chatkit_notebook._client.ThreadState`)
and every item it changed is drawn again by its view (``views.view_for``). This module is
that loop, written once. Who owns a ``ThreadView`` changes it only on the package's loop
thread (the panel posts operations there; so does the cell card), except while building it,
before anyone else can see it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as W
from chatkit.types import (
    ThreadItem,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
)

from .._client import ItemChange, ThreadState
from .._items import is_receipt, is_stopped_mark, mentions, read_sources, untraced_numbers
from ..runtime import Runtime
from .views import AssistantMessageView, ItemView, view_for

__all__ = ["ThreadView", "question_text"]


def question_text(item: UserMessageItem) -> str:
    """A message's words as the person typed them (a tag its text does not mention as
    ``@name``), to send again."""
    texts = [part.text for part in item.content if isinstance(part, UserMessageTextContent)]
    named = {found.group(1) for text in texts for found in mentions(text)}
    parts = []
    for part in item.content:
        if isinstance(part, UserMessageTextContent):
            parts.append(part.text)
        elif isinstance(part, UserMessageTagContent) and part.text not in named:
            parts.append(f"@{part.text}")
    return " ".join(" ".join(parts).split())


class ThreadView:
    """The items of one thread, each drawn by its view, in ``box`` after what it holds.

    Args:
        box: Where the items' widgets go, appended after its other children.
        runtime: The loop the owner changes this view on, looked up at each use (a
            ``%reload_ext`` replaces it); a view's late render is scheduled there.
        state: What is known of the thread; its items are drawn at once.
        on_shown: Called when an item got a view (the panel hides its empty state).
        stale: What changed since an answer read its variables (given the answer's
            sources, :func:`~chatkit_notebook._items.read_sources`), one line each; ``None``
            shows no stale marks.
        on_ask_again: Called with a stale answer's question when the person asks it again.
        **handlers: What a view calls back: ``on_action``, ``on_answer``, ``on_vote`` (see
            ``views.view_for``).
    """

    def __init__(
        self,
        box: W.Box,
        runtime: Callable[[], Runtime],
        state: ThreadState | None = None,
        *,
        on_shown: Callable[[], None] | None = None,
        stale: Callable[[dict[str, dict[str, Any]]], list[str]] | None = None,
        on_ask_again: Callable[[str], object] | None = None,
        **handlers: Callable[..., object],
    ) -> None:
        self._box = box
        self._stale = stale
        self._on_ask_again = on_ask_again
        self._runtime = runtime
        self._on_shown = on_shown
        self._handlers = handlers
        self.state = state if state is not None else ThreadState()
        """The reducer's state: the thread, its items in order, what is still streaming."""
        self.views: dict[str, ItemView] = {}
        """The view of each item shown, by item id."""
        self._pages = W.VBox().add_class("ck-earlier-pages")  # see prepend
        for item_id in self.state.items:
            self._draw(item_id)

    # -- changing what is shown (on the loop thread) --------------------------------------

    def open(self, state: ThreadState) -> None:
        """Show ``state`` instead, from scratch; its items are drawn by the caller."""
        self.on_loop()
        self.state = state
        self.views.clear()
        self._pages.children = ()
        self._box.children = (self._pages,)  # first, so items are added after it

    def apply(self, event: ThreadStreamEvent) -> tuple[ItemChange, str] | None:
        """Fold a streamed event in and draw the item it changed (what ``apply`` returns)."""
        changed = self.state.apply(event)
        if changed is not None:
            self.draw(changed[1])
        return changed

    def add(self, item: ThreadItem) -> None:
        """Show a stored item (new at the end, or a newer version of one shown)."""
        self.state.items[item.id] = item
        self.draw(item.id)

    def prepend(self, items: Iterable[ThreadItem]) -> None:
        """Show older items (oldest first) before the ones shown.

        They go in a page of their own, added at the *end* of the box's first child (a
        box that shows its last child on top): the widgets already shown stay as they
        are, in the browser too (ipywidgets draws a box's children again from the first
        one that changed), so the reader keeps their place in the conversation.
        """
        self.on_loop()
        older = list(items)
        self.state.prepend(older)
        pages = self._pages
        if not any(w is pages for w in self._box.children):  # a box never opened here
            self._box.children = (pages, *self._box.children)
        widgets = []
        for item in older:
            made = self._make(item.id)
            if made is not None:
                widgets.append(made.widget)
        page = W.VBox(widgets).add_class("ck-page")
        pages.children = (*pages.children, page)

    def forget(self, item_id: str) -> None:
        """Take an item out of the state and off the screen (Retry drops the old answer)."""
        self.on_loop()
        self.state.items.pop(item_id, None)
        self.state.streaming.discard(item_id)
        self._remove(item_id)

    def draw(self, item_id: str) -> None:
        """Show the item as the state holds it: add, redraw or remove its view."""
        self.on_loop()
        self._draw(item_id)

    def finish(self, *, stopped: bool = False) -> None:
        """End the turn: each item still streaming is drawn as it is, a stopped answer
        says so."""
        self.on_loop()
        for item_id in self.state.finish(stopped=stopped):
            view = self.views.get(item_id)
            item = self.state.items.get(item_id)
            if view is not None and item is not None:
                view.draw(item, final=True)
                if stopped and isinstance(view, AssistantMessageView):
                    view.mark_stopped()

    def check_stale(self) -> None:
        """Draw each finished answer's stale mark again (a variable it read changed)."""
        self.on_loop()
        for item_id, view in list(self.views.items()):
            if isinstance(view, AssistantMessageView) and item_id not in self.state.streaming:
                self._mark_stale(item_id, view)

    def question_of(self, item_id: str) -> str | None:
        """The question the answer ``item_id`` answers: the message before it."""
        ids = list(self.state.items)
        if item_id not in ids:
            return None
        for earlier in reversed(ids[: ids.index(item_id)]):
            item = self.state.items[earlier]
            if isinstance(item, UserMessageItem):
                return question_text(item)
        return None

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the loop thread in ``delay`` seconds (a view's late render)."""
        loop = self._runtime().loop
        loop.call_soon_threadsafe(lambda: loop.call_later(delay, callback))

    def on_loop(self) -> None:
        """Fail loudly when the view is about to change off the loop thread."""
        if threading.current_thread() is not self._runtime().thread:
            msg = "a chat view changed off the loop thread; post an operation instead"
            raise RuntimeError(msg)

    # -- drawing ---------------------------------------------------------------------------

    def _draw(self, item_id: str) -> None:
        item = self.state.items.get(item_id)
        view = self.views.get(item_id)
        if item is None:
            self._remove(item_id)
            return
        final = item_id not in self.state.streaming
        if view is not None:
            view.draw(item, final=final)
            if final and isinstance(view, AssistantMessageView):
                self._mark_stale(item_id, view)
            return
        made = self._make(item_id)
        if made is not None:
            self._box.children = (*self._box.children, made.widget)
            if self._on_shown is not None:
                self._on_shown()

    def _make(self, item_id: str) -> ItemView | None:
        """A view for the item, kept in ``views`` but not yet in any box (``None``: nothing
        to show, or a "Stopped" mark, which marks the answer it follows instead)."""
        item = self.state.items[item_id]
        if is_stopped_mark(item) and (answer := self._answer_before(item_id)) is not None:
            answer.mark_stopped()  # "Stopped" under the answer, as when Stop was clicked
            return None
        final = item_id not in self.state.streaming
        thread = self.state.thread
        options: dict[str, Any] = dict(self._handlers)
        made = view_for(
            item,
            final=final,
            allowed_image_domains=thread.allowed_image_domains if thread is not None else None,
            schedule=self.schedule,
            **options,
        )
        if made is not None:
            self.views[item_id] = made
        if isinstance(made, AssistantMessageView):
            self._answer_marks(item_id, made, final=final)
        elif is_receipt(item) and (numbers := untraced_numbers(item)):
            for answer in self._answers_before(item_id):
                answer.mark_untraced(numbers)
        return made

    def _answer_marks(self, item_id: str, view: AssistantMessageView, *, final: bool) -> None:
        """What a new answer view can say of itself: Ask again, and whether it is stale."""
        if self._on_ask_again is not None:
            ask = self._on_ask_again

            def again() -> None:
                question = self.question_of(item_id)
                if question:
                    ask(question)

            view.on_ask_again(again)
        if final:
            self._mark_stale(item_id, view)

    def _mark_stale(self, item_id: str, view: AssistantMessageView) -> None:
        item = self.state.items.get(item_id)
        sources = read_sources(item)
        if self._stale is not None and sources:
            view.mark_stale(self._stale(sources))

    def _answers_before(self, item_id: str) -> list[AssistantMessageView]:
        """The answer views of the turn that ``item_id`` ends (back to its question)."""
        ids = list(self.state.items)
        found = []
        for earlier in reversed(ids[: ids.index(item_id)]):
            if isinstance(self.state.items[earlier], UserMessageItem):
                break
            view = self.views.get(earlier)
            if isinstance(view, AssistantMessageView):
                found.append(view)
        return found

    def _answer_before(self, item_id: str) -> AssistantMessageView | None:
        """The view of the last answer of the turn that ``item_id`` ends, if shown."""
        ids = list(self.state.items)
        for earlier in reversed(ids[: ids.index(item_id)]):
            item = self.state.items[earlier]
            if isinstance(item, UserMessageItem):
                return None
            view = self.views.get(earlier)
            if isinstance(view, AssistantMessageView):
                return view
        return None

    def _remove(self, item_id: str) -> None:
        view = self.views.pop(item_id, None)
        if view is None:
            return
        for box in (self._box, *self._pages.children):
            if any(w is view.widget for w in box.children):
                box.children = tuple(w for w in box.children if w is not view.widget)
