"""``ChatPanel``: a ChatKit client made of ipywidgets, shown under a notebook cell.

The panel speaks only the ChatKit protocol, through the package's one client
(``_client.ChatKitClient``), and draws the client's reducer state (a ``ThreadView``). All
server work runs on the package's own event loop (``runtime.py``), so an answer keeps
streaming while a cell blocks the kernel. The store is the source of truth: the thread
list and a thread's items are always (re)loaded from it. What only the kernel knows (where
the chat is served, when the agent's code runs, which variables to offer) comes in as
callbacks from the kernel's session.
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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import ipywidgets as W
from chatkit.actions import ActionConfig
from chatkit.server import ChatKitServer
from chatkit.store import NotFoundError
from chatkit.types import (
    ClientToolCallItem,
    FeedbackKind,
    Page,
    StreamingReq,
    StructuredInputSubmission,
    ThreadAddClientToolOutputParams,
    ThreadAddStructuredInputParams,
    ThreadItem,
    ThreadMetadata,
    ThreadRetryAfterItemParams,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsRetryAfterItemReq,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTagContent,
)

from .._client import (
    ChatKitClient,
    ThreadState,
    action_request,
    message_request,
    variable_tags,
)
from .._items import card_call_id
from ..context import NotebookContext
from ..runtime import Runtime, get_runtime, wait_for_event
from .anywidgets import ComposerWidget, StopWidget
from .thread_view import ThreadView
from .threadbar import NEW, ThreadBar, button
from .transcript import (
    Shown,
    show_with_transcript,
    thread_items,
    transcript_bundle,
    update_transcripts,
)
from .views import AssistantMessageView, ItemView, style_widget

__all__ = ["ChatPanel"]

logger = logging.getLogger("chatkit_notebook")

HISTORY_PAGE = 50
SUGGESTIONS = 3
OFFERS = 200  # the most variables ``@`` offers

Listen = Callable[[Callable[[], object]], Callable[[], None]]
"""Subscribe a callback to a change; returns the function that unsubscribes."""
ListenRunning = Callable[[Callable[[bool], object]], Callable[[], None]]
"""Subscribe a callback to code starting (``True``) and ending (``False``); returns the
function that unsubscribes."""
Offer = Callable[[NotebookContext, int], list[tuple[str, str]]]
"""The variables a person may name, as ``(name, "type shape")`` pairs: at most ``limit``."""


class ChatPanel(W.VBox):  # type: ignore[misc]
    """A chat about this notebook's data, as a displayable widget.

    **Threads.** The public methods and the widgets' handlers run on whichever thread calls
    them (the kernel's, for a click). They only *post* an operation and return its future.
    Operations run one at a time, in the order they were posted, on the package's loop
    thread, and only they change the panel: its thread, its :class:`ThreadState`, its views
    and its widgets (``_on_loop`` checks this). So a click can never interleave with a
    thread that is still loading. Two small changes cannot wait for the answer streaming
    meanwhile, and *touch* the panel on the loop thread between operations instead: Stop
    learning that code runs on the kernel's main thread, and a question Enter could not
    send going back into the box. User Python (client tools, client effects) runs in a
    worker thread, never on the loop, so a slow handler cannot stall any chat.

    Args:
        server: The ChatKit server to talk to (usually a
            :class:`~chatkit_notebook.NotebookChatServer`).
        context: What each request carries: the namespace the tools read, the notebook.
        runtime: The loop that runs server work; by default the package's, looked up at
            each use, so a panel from before ``%reload_ext`` runs on the new loop rather
            than restarting the old one.
        status: A line for the status bar (by default the model and where threads are
            kept, as far as the server tells).
        status_note: More for the status line, asked each time it is drawn: the kernel's
            session says where the chat is served.
        status_changes: Subscribes the panel to changes of ``status_note`` (the session
            passes its ``on_serving_change``); the line is drawn again at each.
        code_running: Subscribes the panel to the agent's code starting and ending on the
            kernel's main thread, when Stop must interrupt the kernel too (the session
            passes ``mainthread.listen``). The callback may come on any thread.
        offer: The variables the empty chat suggests and ``@`` offers, given the context
            and a limit; called in a worker thread (the session passes
            ``tools.offered_variables``). By default none are offered, and none are tagged.
        thread_id: The thread to open (``None``: a new chat).
        on_thread: Called (on the loop thread) with the panel's thread whenever it changes
            (opened, created, deleted, or ``None`` for a new chat) and after each turn in
            it (it was used). It may return an awaitable, which runs on the loop.
        changes: A cheap function of the open thread's id (or ``None``) whose result, or
            awaited result, changes whenever the thread list or that thread does: the
            stores' ``change_token``. When given, the panel looks twice a second and shows
            threads and messages that another panel, ``%chat`` or another kernel added,
            without a refresh.
        used: When each thread was last used here, by id (an awaitable mapping, asked
            each time the thread list is loaded; the session reads the stamps the
            ``on_thread`` calls left). The list is sorted and aged by it; without it, by
            creation.
        redact: Redacts secrets from the transcript a saved notebook keeps (the session
            passes the agent's redactor: an approval card holds code as the model wrote it).
        stale: What changed since an answer read its variables, given its sources (the
            session passes its stale-answer watch's ``notes``); ``None``: no stale marks.
        stale_changes: Subscribes the panel to a tracked variable changing (the session
            passes the watch's ``listen``); the marks are drawn again at each.
    """

    def __init__(
        self,
        server: ChatKitServer[NotebookContext],
        context: NotebookContext,
        *,
        runtime: Runtime | None = None,
        status: str = "",
        status_note: Callable[[], str] | None = None,
        status_changes: Listen | None = None,
        code_running: ListenRunning | None = None,
        offer: Offer | None = None,
        thread_id: str | None = None,
        on_thread: Callable[[str | None], Awaitable[None] | None] | None = None,
        changes: Callable[[str | None], object] | None = None,
        used: Callable[[], Awaitable[Mapping[str, datetime]]] | None = None,
        redact: Callable[[str], str] | None = None,
        stale: Callable[[dict[str, dict[str, Any]]], list[str]] | None = None,
        stale_changes: Listen | None = None,
    ) -> None:
        self._client = ChatKitClient(server, context)
        self._context = context
        self._given_runtime = runtime
        self._on_thread = on_thread
        self.effects: dict[str, Callable[[dict[str, Any]], object]] = {}
        """Handlers for ``client_effect`` events, by effect name (run in a worker thread)."""
        self.client_tools: dict[str, Callable[[dict[str, Any]], Any]] = {}
        """Python functions the server's agent may call as client tools, by name (run in a
        worker thread)."""
        self._turn: concurrent.futures.Future[None] | None = None  # a streaming answer
        self._posted: set[threading.Event] = set()  # one per operation, set once it is over
        self._posted_lock = threading.Lock()
        self._serial: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._earlier_cursor: str | None = None
        self._locked = False  # the thread is locked or closed: no new messages
        self._status_text = status
        self._status_note = status_note
        self._offer = offer
        self._changes = changes
        self._used = used
        self._redact = redact
        self._watcher: asyncio.Task[None] | None = None
        self._transcripts: Shown = []  # the transcripts shown

        self._bar = ThreadBar()
        self._messages = W.VBox().add_class("ck-messages")
        self._messages.layout = W.Layout(padding="4px")
        # A column-reverse scroll box stays anchored at its bottom: the newest message
        # stays in view while it streams.
        self._scroll = W.Box([self._messages]).add_class("ck-scroll")
        self._scroll.layout = W.Layout(max_height="480px", overflow="auto")
        self._empty_text = W.HTML().add_class("ck-empty")
        self._suggestions = W.VBox().add_class("ck-suggestions")
        self._empty = W.VBox([self._empty_text, self._suggestions])
        self._thread = ThreadView(
            self._messages,
            lambda: self._runtime,
            on_shown=self._hide_empty,
            on_action=self.custom_action,
            on_answer=self.answer,
            on_vote=self.feedback,
            stale=stale,
            on_ask_again=self.send,
        )
        # A variable an answer read changed: its mark is drawn again (posted, as ever).
        self._unstale = stale_changes(self._stale_changed) if stale_changes else _nothing
        self._earlier = button(
            "Load earlier messages", "angle-up", "Show older messages", "ck-earlier"
        )
        self._earlier.layout.display = "none"
        self._progress = W.HTML().add_class("ck-progress")
        self._notice = W.HTML().add_class("ck-notice")
        self._input = ComposerWidget(
            offer=lambda: self._post(self._offer_variables),
            placeholder="Ask about your data… (@ names a variable; Enter sends)",
            rows=2,
            layout=W.Layout(flex="1", width="auto"),
        )
        self._input.add_class("ck-input")
        self._send_button = button("Send", "paper-plane", "Send the message", "ck-send")
        self._send_button.button_style = "primary"
        self._stop_button = StopWidget().add_class("ck-stop")
        self._stop_button.layout.display = "none"
        # While the agent's code runs on the kernel's main thread, Stop interrupts it too.
        self._unlisten = code_running(self._code_running) if code_running else _nothing
        # The status line says where the chat is served, and follows serve and stop.
        self._unserve = status_changes(self._status_changed) if status_changes else _nothing
        self._retry_button = button("Retry", "redo", "Ask again for the last answer", "ck-retry")
        self._retry_button.layout.display = "none"
        # One row: Stop takes Send's place while an answer streams, Retry sits beside it,
        # so the panel (and the notebook under it) keeps its height.
        buttons = W.HBox([self._send_button, self._stop_button, self._retry_button])
        composer = W.HBox([self._input, buttons.add_class("ck-composer-buttons")])
        composer.add_class("ck-composer")
        self._status = W.HTML().add_class("ck-status")

        style = style_widget()
        super().__init__(
            [
                style,
                *self._bar.widgets,
                self._notice,
                self._empty,
                self._earlier,
                self._scroll,
                self._progress,
                composer,
                self._status,
            ]
        )
        self.add_class("ck-panel")
        self.add_class("ck-live")

        bar = self._bar
        bar.on_pick(self._on_pick)
        bar.new_button.on_click(lambda _: self.new_thread())
        bar.rename_button.on_click(lambda _: self._post(self._show_rename))
        bar.title_save.on_click(lambda _: self.rename(bar.title_input.value))
        bar.title_input.on_submit(self.rename)
        bar.title_cancel.on_click(lambda _: self._post(bar.hide_rows))
        bar.delete_button.on_click(lambda _: self._post(self._show_confirm))
        bar.confirm_yes.on_click(lambda _: self.delete_thread())
        bar.confirm_no.on_click(lambda _: self._post(bar.hide_rows))
        self._send_button.on_click(lambda _: self.send(self._input.value))
        self._input.on_submit(self._submitted)
        self._stop_button.on_click(lambda _: self.stop())
        self._retry_button.on_click(lambda _: self.retry())
        self._earlier.on_click(lambda _: self.load_earlier())
        self._post(lambda: self._start(thread_id))

    @property
    def _runtime(self) -> Runtime:
        return self._given_runtime or get_runtime()

    def __repr__(self) -> str:
        return f"<ChatPanel thread={self.thread_id!r}>"

    def _ipython_display_(self) -> None:
        """Show the live panel, then its transcript for the saved notebook (hidden while
        the panel lives, kept up to date after each turn: see ``transcript``)."""
        show_with_transcript(self, self._transcripts, self._transcript_bundle([]))

    def _transcript_bundle(self, items: list[ThreadItem]) -> dict[str, str]:
        thread = self._state.thread
        return transcript_bundle(
            items,
            title=thread.title if thread is not None else None,
            what="chat panel",
            then="Run this cell to continue the chat.",
            redact=self._redact,
        )

    async def _refresh_transcript(self) -> None:
        """Bring the saved transcript up to date with the whole thread (loop thread)."""
        if not self._transcripts:
            return
        thread_id = self.thread_id
        try:
            items = await thread_items(self._client, thread_id) if thread_id else []
        except Exception:  # a copy for the saved notebook: never a failure of the chat
            logger.debug("could not read the thread for its transcript", exc_info=True)
            return
        update_transcripts(self._transcripts, self._transcript_bundle(items))

    @property
    def _state(self) -> ThreadState:
        """What the panel knows of its thread (the reducer's state)."""
        return self._thread.state

    @property
    def _views(self) -> dict[str, ItemView]:
        return self._thread.views

    # -- what a user (or a test) can do: each posts an operation ---------------------------

    @property
    def thread_id(self) -> str | None:
        """The thread shown (``None``: a new chat, created with the first message)."""
        return self._state.thread_id

    @property
    def busy(self) -> bool:
        """Whether an answer is streaming."""
        return self._turn is not None and not self._turn.done()

    def wait(self, timeout: float = 60.0) -> None:
        """Block until every posted operation is over; for scripts and tests.

        Raises:
            TimeoutError: operations were still running after ``timeout`` seconds.
        """
        end = time.monotonic() + timeout
        while True:
            with self._posted_lock:
                running = [event for event in self._posted if not event.is_set()]
            if not running:
                return
            # Waits as %chat does: approved code the turn needs runs on this thread meanwhile.
            if not wait_for_event(running[0], max(0.0, end - time.monotonic())):
                msg = f"the chat panel was still busy after {timeout} s"
                raise TimeoutError(msg)

    def send(
        self, text: str, *, tags: Sequence[UserMessageTagContent] = ()
    ) -> concurrent.futures.Future[None] | None:
        """Send a message in the current thread (a new one if none is open).

        ``tags`` go with it besides the ``@name`` mentions in ``text`` (the error a
        failing cell's "Ask about this error" attaches).
        """
        text = text.strip()
        if not text or self.busy:
            return None
        return self._post_turn(lambda: self._send_text(text, tuple(tags)))

    def _submitted(self, text: str) -> None:
        """Enter in the composer, whose box the browser emptied: a question that cannot go
        now (an answer is still streaming) goes back into the box."""
        if self.send(text) is None and text.strip():
            self._touch(lambda: setattr(self._input, "value", text))

    def retry(self) -> concurrent.futures.Future[None] | None:
        """Ask again for the answer to the last message."""
        if self.busy:
            return None
        return self._post_turn(self._retry)

    def stop(self) -> None:
        """Stop the answer that is streaming; what arrived so far is kept."""
        if self._turn is not None:
            self._turn.cancel()

    def new_thread(self) -> concurrent.futures.Future[None] | None:
        """Start over in a new, empty thread (created with the first message)."""
        if self.busy:
            return None
        return self._post(self._new_thread)

    def open_thread(self, thread_id: str) -> concurrent.futures.Future[None]:
        """Show a stored thread."""
        return self._post(lambda: self._load_thread(thread_id))

    def rename(self, title: str) -> concurrent.futures.Future[None]:
        """Rename the current thread."""
        return self._post(lambda: self._rename(title.strip()))

    def delete_thread(self) -> concurrent.futures.Future[None] | None:
        """Delete the current thread from the store."""
        if self.busy:
            return None
        return self._post(self._delete_thread)

    def refresh(self) -> concurrent.futures.Future[None]:
        """Reload the thread list from the store."""
        return self._post(self._load_threads)

    def load_earlier(self) -> concurrent.futures.Future[None]:
        """Show the page of messages before the oldest one shown."""
        return self._post(self._load_earlier)

    def feedback(self, item_id: str, kind: FeedbackKind) -> concurrent.futures.Future[None]:
        """Tell the server whether an answer was good (``positive``) or bad (``negative``).

        A later vote on the same answer replaces the earlier one.
        """
        return self._post(lambda: self._feedback_on(item_id, kind))

    def custom_action(
        self, item_id: str | None, action: ActionConfig
    ) -> concurrent.futures.Future[None]:
        """Send a widget's action (a button click) to the server as ``threads.custom_action``.

        A click while an answer streams is queued, not dropped: it goes once the answer is
        over (the second of two approval cards, clicked at once).
        """

        async def act() -> None:
            if self.thread_id is None:
                return
            request = action_request(self.thread_id, item_id, action.type, action.payload)
            await self._run_turn(request)

        return self._post_turn(act)

    def answer(
        self, item_id: str, submission: StructuredInputSubmission
    ) -> concurrent.futures.Future[None] | None:
        """Answer (or skip) the assistant's structured questions."""
        if self.busy:
            return None

        async def reply() -> None:
            if self.thread_id is None:
                return
            params = ThreadAddStructuredInputParams(
                thread_id=self.thread_id, item_id=item_id, input=submission
            )
            await self._run_turn(ThreadsAddStructuredInputReq(params=params))

        return self._post_turn(reply)

    # -- posting operations ----------------------------------------------------------------

    def _post(
        self, operation: Callable[[], Awaitable[None] | None]
    ) -> concurrent.futures.Future[None]:
        """Run ``operation`` on the loop thread after every operation posted before it."""

        async def serially() -> None:
            async with self._serial_lock():
                try:
                    outcome = operation()
                    if outcome is not None:
                        await outcome
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # shown, never lost in a traceback nobody sees
                    logger.debug("chat panel operation failed", exc_info=True)
                    self._show_notice("danger", _describe(error))

        future, settled = self._runtime.submit_tracked(serially())
        with self._posted_lock:
            # A cancelled future is done at once, while its operation may still be winding
            # down on the loop: wait() waits for each operation to have settled.
            self._posted = {event for event in self._posted if not event.is_set()}
            self._posted.add(settled)
        return future

    def _touch(self, change: Callable[[], None]) -> None:
        """Make a small change on the loop thread at once, not after the operations posted
        before it (an answer streaming); ``wait()`` waits for it too."""
        done = threading.Event()

        def touch() -> None:
            try:
                self._on_loop()
                change()
            except Exception:  # as an operation's failure, never raised into the loop
                logger.debug("chat panel change failed", exc_info=True)
            finally:
                done.set()

        self._runtime.loop.call_soon_threadsafe(touch)
        with self._posted_lock:
            self._posted.add(done)

    def _post_turn(self, turn: Callable[[], Awaitable[None]]) -> concurrent.futures.Future[None]:
        future = self._post(turn)
        self._turn = future
        return future

    def _serial_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._serial is None or self._serial[0] is not loop:  # a new loop after a reload
            self._serial = (loop, asyncio.Lock())
        return self._serial[1]

    def _on_loop(self) -> None:
        """Fail loudly when panel state is about to change off the loop thread."""
        self._thread.on_loop()

    # -- operations (loop thread) ----------------------------------------------------------

    async def _start(self, thread_id: str | None) -> None:
        self._show_status()
        if self._changes is not None:
            self._watcher = asyncio.get_running_loop().create_task(
                _watch(weakref.ref(self), self._changes), name="chatkit-notebook-panel-watch"
            )
        if thread_id is not None:
            try:
                await self._load_thread(thread_id)
            except NotFoundError:  # deleted since it was current: start a new chat
                thread_id = None
        if thread_id is None:
            self._open(ThreadState())
            await self._show_empty()
        await self._load_threads()

    async def _sync(self) -> None:
        """Show what others added to the store: new threads, and new items in this one."""
        await self._load_threads()
        thread_id = self.thread_id
        if thread_id is None or self.busy:
            return
        if any(card_call_id(item) is not None for item in self._state.items.values()):
            # A card shown open may have been decided in another view (a %chat cell):
            # redraw, in place, what changed of the items shown; what followed is new.
            recent = await self._client.items(thread_id, limit=HISTORY_PAGE, order="desc")
            for item in reversed(recent.data):
                if item.id in self._state.items and self._state.items[item.id] != item:
                    self._thread.add(item)
        known = list(self._state.items)
        try:
            page = await self._client.items(
                thread_id, limit=HISTORY_PAGE, order="asc", after=known[-1] if known else None
            )
        except NotFoundError:  # the thread, or our newest item, is gone: reload it whole
            try:
                await self._load_thread(thread_id)
            except NotFoundError:
                self._open(ThreadState())
                self._bar.show(self.thread_id)
                await self._show_empty()
                self._show_notice("info", "This chat was deleted elsewhere.")
            return
        for item in page.data:
            self._thread.add(item)
        if page.has_more:  # more than a page arrived at once: show the thread as stored
            await self._load_thread(thread_id)

    def _code_running(self, running: bool) -> None:
        """The agent's code started or ended on the kernel's main thread (that thread)."""
        self._touch(lambda: setattr(self._stop_button, "interrupts", running))

    def _status_changed(self) -> None:
        self._post(self._show_status)

    def close(self) -> None:
        """Close the panel's widgets and stop watching the store."""
        self._unlisten()
        self._unserve()
        self._unstale()
        if self._watcher is not None:
            self._runtime.loop.call_soon_threadsafe(self._watcher.cancel)
        super().close()

    def _stale_changed(self) -> None:
        """A variable some answer read changed (any thread): redraw the stale marks."""
        self._post(self._thread.check_stale)

    async def _send_text(self, text: str, attached: tuple[UserMessageTagContent, ...]) -> None:
        self._input.value = ""
        self._input.sent()
        offered = await self._offered(OFFERS)
        tags = [*variable_tags(text, {name for name, _ in offered}), *attached]
        await self._run_turn(message_request(self.thread_id, text, tags=tags))

    async def _offer_variables(self) -> None:
        """What typing @ offers: the tools' visible, non-secret variables, with their shapes."""
        offered = await self._offered(OFFERS)
        self._input.mentions = [[name, kind] for name, kind in offered]

    async def _retry(self) -> None:
        last = self._last_user_item()
        if self.thread_id is None or last is None:
            return
        for item_id in list(self._state.items)[list(self._state.items).index(last) + 1 :]:
            self._thread.forget(item_id)
        params = ThreadRetryAfterItemParams(thread_id=self.thread_id, item_id=last)
        await self._run_turn(ThreadsRetryAfterItemReq(params=params))

    async def _new_thread(self) -> None:
        self._open(ThreadState())
        self._bar.show(self.thread_id)
        await self._show_empty()

    async def _rename(self, title: str) -> None:
        self._bar.hide_rows()
        if self.thread_id is None or not title:
            return
        await self._client.rename(self.thread_id, title)
        await self._load_threads()

    async def _delete_thread(self) -> None:
        self._bar.hide_rows()
        if self.thread_id is None:
            return
        await self._client.delete(self.thread_id)
        self._open(ThreadState())
        await self._show_empty()
        await self._load_threads()

    async def _load_threads(self) -> None:
        page = await self._client.threads(limit=100, order="desc")
        used = await self._used() if self._used is not None else None
        self._bar.show(self.thread_id, list(page.data), used)

    async def _load_thread(self, thread_id: str) -> None:
        page = await self._client.items(thread_id, limit=HISTORY_PAGE, order="desc")
        thread = await self._client.thread(thread_id)
        self._open(ThreadState.loaded(thread, reversed(page.data)))
        self._set_thread_status(thread)
        for item_id in self._state.items:
            self._thread.draw(item_id)
        self._set_earlier(page)
        self._bar.show(self.thread_id)

    async def _load_earlier(self) -> None:
        thread_id, cursor = self.thread_id, self._earlier_cursor
        if thread_id is None or cursor is None:
            return
        page = await self._client.items(thread_id, limit=HISTORY_PAGE, order="desc", after=cursor)
        self._thread.prepend(reversed(page.data))
        self._set_earlier(page)

    async def _feedback_on(self, item_id: str, kind: FeedbackKind) -> None:
        view = self._views.get(item_id)
        if self.thread_id is None or not isinstance(view, AssistantMessageView):
            return
        await self._client.feedback(self.thread_id, [item_id], kind)
        view.show_vote(kind)

    async def _run_turn(self, request: StreamingReq) -> None:
        self._on_loop()
        self._set_busy(True)
        self._show_notice(None, "")
        self._state.errors.clear()
        stopped = False
        try:
            async for event in self._client.stream(request):
                self._apply(event)
        except asyncio.CancelledError:
            stopped = True
            raise
        except Exception as error:  # an unknown thread, a bad retry: raised, not streamed
            logger.debug("chat turn failed", exc_info=True)
            self._show_notice("danger", _describe(error))
        finally:
            self._end_turn(stopped=stopped)
            # Also after Stop: the thread list names the new thread at once.
            await asyncio.shield(self._after_turn(stopped=stopped))

    async def _after_turn(self, *, stopped: bool = False) -> None:
        # The thread was used: the kernel's session keeps it as the current one (a save
        # the turn made meanwhile must not have lost that).
        if self.thread_id is not None:
            self._thread_changed()
        try:
            if stopped:  # the server kept what the stream no longer brought: the receipt
                await self._sync()
            else:
                await self._load_threads()
        except Exception:  # the turn's outcome is shown; a stale list is no reason to fail
            logger.debug("reloading the thread list failed", exc_info=True)

    # -- applying events (loop thread) -----------------------------------------------------

    def _apply(self, event: ThreadStreamEvent) -> None:
        changed = self._thread.apply(event)
        if changed is not None:
            how, item_id = changed
            if how == "done":
                self._progress.value = ""
                self._answer_client_tool_soon(item_id)
            return
        if event.type in ("thread.created", "thread.updated"):
            self._bar.upsert(self.thread_id, event.thread)
            if event.type == "thread.created":
                self._thread_changed()
            else:
                self._set_thread_status(event.thread)
        elif event.type == "stream_options":
            self._show_stop(self._state.allow_cancel)
        elif event.type == "progress_update":
            text = html.escape(self._state.progress)
            self._progress.value = f'<div class="ck-progress-line">{text}</div>'
        elif event.type == "error":
            message = event.message or "Something went wrong while answering."
            self._show_notice("danger", message)
            self._retry_button.layout.display = "" if event.allow_retry else "none"
        elif event.type == "notice":
            self._show_notice(event.level, event.message, event.title)
        elif event.type == "client_effect":
            for effect in self._state.effects:
                self._run_effect(effect.name, effect.data)
            self._state.effects.clear()

    def _end_turn(self, *, stopped: bool) -> None:
        self._thread.finish(stopped=stopped)
        self._progress.value = ""
        self._set_busy(False)
        if self._last_user_item() is not None:
            self._retry_button.layout.display = ""  # ask again for the last answer

    def _answer_client_tool_soon(self, item_id: str) -> None:
        item = self._state.items.get(item_id)
        if isinstance(item, ClientToolCallItem) and item.status == "pending":
            # After the turn that asked has ended: operations run one at a time.
            self._post_turn(lambda: self._answer_client_tool(item))

    async def _answer_client_tool(self, call: ClientToolCallItem) -> None:
        """Run a registered client tool in a worker thread and send its result back."""
        handler = self.client_tools.get(call.name)
        if handler is None:
            result: Any = {
                "error": f"No client tool named {call.name!r} is registered in this panel."
            }
        else:
            what = f"client tool {call.name!r}"
            result = await asyncio.to_thread(_call_foreign, handler, call.arguments, what)
        if self.thread_id is None:
            return
        params = ThreadAddClientToolOutputParams(thread_id=self.thread_id, result=result)
        await self._run_turn(ThreadsAddClientToolOutputReq(params=params))

    def _run_effect(self, name: str, data: dict[str, Any]) -> None:
        handler = self.effects.get(name)
        if handler is None:
            logger.info("client effect %r ignored: no handler registered", name)
            return
        # In a worker thread, not awaited: an effect never holds up the answer.
        self._track(
            self._runtime.loop.run_in_executor(
                None, _call_foreign, handler, data, f"client effect {name!r}"
            )
        )

    # -- small view helpers (loop thread) --------------------------------------------------

    def _open(self, state: ThreadState) -> None:
        self._on_loop()
        before = self.thread_id
        self._thread.open(state)
        self._locked = False
        self._set_busy(self.busy)
        self._earlier_cursor = None
        self._earlier.layout.display = "none"
        self._retry_button.layout.display = "none"
        self._show_notice(None, "")
        self._bar.hide_rows()
        self._empty.layout.display = "none"
        if state.thread_id != before:
            self._thread_changed()

    def _thread_changed(self) -> None:
        if self.thread_id is not None:  # opened, or asked in: used now
            self._bar.touch(self.thread_id)
        self._track(asyncio.ensure_future(self._refresh_transcript()))
        if self._on_thread is None:
            return
        try:
            outcome = self._on_thread(self.thread_id)
        except Exception:  # remembering the thread is a convenience, never a failure
            logger.warning("remembering the current thread failed", exc_info=True)
            return
        if inspect.isawaitable(outcome):  # runs on the loop; wait() waits for it too
            self._track(asyncio.ensure_future(outcome))

    def _track(self, running: asyncio.Future[Any]) -> None:
        """Count background work (an effect, a callback) as posted, so wait() covers it."""
        done = threading.Event()
        running.add_done_callback(lambda _: done.set())
        with self._posted_lock:
            self._posted.add(done)

    def _last_user_item(self) -> str | None:
        users = [i for i, item in self._state.items.items() if isinstance(item, UserMessageItem)]
        return users[-1] if users else None

    def _hide_empty(self) -> None:
        """A message is shown: the empty chat's suggestions go."""
        self._empty.layout.display = "none"

    def _set_earlier(self, page: Page[ThreadItem]) -> None:
        self._earlier_cursor = page.after if page.has_more else None
        self._earlier.layout.display = "" if self._earlier_cursor else "none"

    def _on_pick(self, value: str) -> None:
        if value == self.thread_id or self.busy:
            return
        if value == NEW:
            self.new_thread()
        else:
            self.open_thread(value)

    def _set_busy(self, busy: bool) -> None:
        self._on_loop()
        self._send_button.disabled = busy or self._locked
        self._input.disabled = self._locked  # typing the next question while one streams
        self._input.accepting = not (busy or self._locked)  # ...and Enter keeps it there
        self._bar.set_busy(busy)
        if not busy:
            self._show_stop(False)

    def _show_stop(self, shown: bool) -> None:
        """Stop in Send's place (while an answer that may be stopped streams), or Send."""
        self._stop_button.layout.display = "" if shown else "none"
        self._send_button.layout.display = "none" if shown else ""

    def _set_thread_status(self, thread: ThreadMetadata) -> None:
        status = thread.status
        self._locked = status.type in ("locked", "closed")
        if self._locked:
            reason = getattr(status, "reason", None) or f"This chat is {status.type}."
            self._show_notice("warning", reason)
            self._input.disabled = self._send_button.disabled = True
            self._input.accepting = False

    def _show_notice(self, level: str | None, message: str, title: str | None = None) -> None:
        self._on_loop()
        if not message:
            self._notice.value = ""
            return
        heading = f"<strong>{html.escape(title)}</strong> " if title else ""
        self._notice.value = f'<div class="ck-notice-{level}">{heading}{html.escape(message)}</div>'

    async def _show_empty(self) -> None:
        """The empty chat: what to ask, with the notebook's own variables as suggestions."""
        offered = data_first(await self._offered(OFFERS))[:SUGGESTIONS]
        prompts = [f"Describe {name}" for name, _ in offered] or ["What variables do I have?"]
        buttons = []
        for prompt, (_, kind) in zip(prompts, [*offered, (None, "")], strict=False):
            button = W.Button(
                description=prompt,
                tooltip=f"Ask this ({kind})" if kind else "Ask this",
                layout=W.Layout(width="auto"),
            ).add_class("ck-suggestion")
            button.on_click(lambda _, text=prompt: self._post(lambda: self._suggest(text)))
            buttons.append(button)
        self._empty_text.value = (
            '<div class="ck-empty-state"><strong>Ask about your data.</strong> For example:</div>'
        )
        self._suggestions.children = tuple(buttons)
        self._empty.layout.display = "" if not self._state.items else "none"

    async def _offered(self, limit: int) -> list[tuple[str, str]]:
        """The variables to offer, read in a worker thread (user values, never on the loop)."""
        if self._offer is None:
            return []
        return await asyncio.to_thread(self._offer, self._context, limit)

    async def _suggest(self, text: str) -> None:
        """A suggestion fills the composer; the person sends it (or edits it first)."""
        self._input.value = text

    def _show_status(self) -> None:
        self._on_loop()
        status = self._status_text or _default_status(self._client.server)
        note = self._note()
        if note:
            status = f"{status} · {note}" if status else note
        problem = _model_problem(self._client.server)
        parts = [f'<span class="ck-status-line">{html.escape(status)}</span>'] if status else []
        if problem:
            parts.append(
                f'<span class="ck-status-line ck-status-problem">{html.escape(problem)}</span>'
            )
        self._status.value = "<br>".join(parts)

    def _note(self) -> str:
        if self._status_note is None:
            return ""
        try:
            return self._status_note()
        except Exception:  # a status line is no place to fail
            logger.debug("the status note failed", exc_info=True)
            return ""

    async def _show_rename(self) -> None:
        if self.thread_id is not None:
            self._bar.show_rename(self.thread_id)

    async def _show_confirm(self) -> None:
        if self.thread_id is not None:
            self._bar.show_confirm(self.thread_id)


DATA_KINDS = frozenset(
    {
        "DataFrame",
        "Series",
        "LazyFrame",
        "ndarray",
        "MaskedArray",
        "Table",
        "RecordBatch",
        "DuckDBPyRelation",
        "Dataset",
        "DataArray",
        "Tensor",
    }
)
"""Types of the data an empty chat suggests asking about (``offer``'s kind names)."""


def data_first(offered: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The variables worth suggesting, data first: frames, arrays and tables, then lists,
    dicts and tuples with a size; never a string, a number or some other object (a
    server, a URL), which are helpers, not what a person came to ask about."""
    data, collections = [], []
    for name, kind in offered:
        type_name = kind.split(" ", 1)[0]
        if type_name in DATA_KINDS:
            data.append((name, kind))
        elif type_name in ("list", "dict", "tuple", "set") and kind.split(" ")[1:2] != ["0"]:
            collections.append((name, kind))
    return [*data, *collections]


WATCH_SECONDS = 0.5
"""How often a panel looks whether the store changed (two panels stay within a second)."""


async def _watch(panel: weakref.ref[ChatPanel], changes: Callable[[str | None], object]) -> None:
    """Post a sync whenever the store changed while the panel was idle."""

    async def token(thread_id: str | None) -> object:
        now = changes(thread_id)
        return await now if inspect.isawaitable(now) else now

    shown = panel()
    thread_id = None if shown is None else shown.thread_id
    del shown
    try:
        last = await token(thread_id)
    except Exception:  # as below: the next request reports it
        last = None
    while True:
        await asyncio.sleep(WATCH_SECONDS)  # polling: neither store sends change events
        shown = panel()
        if shown is None:
            return
        try:
            thread_id = shown.thread_id
            now = await token(thread_id)
        except Exception:  # a store that cannot be read now is reported by the next request
            logger.debug("watching the store failed", exc_info=True)
            del shown
            continue
        # Opening another thread changes a database's token too: one needless sync.
        if now != last and not shown.busy:
            last = now
            shown._post(shown._sync)
        del shown


def _call_foreign(
    function: Callable[[dict[str, Any]], Any], data: dict[str, Any], what: str
) -> Any:
    """Call a user's handler; a failure is reported to the server, never raised into the loop."""
    try:
        return function(data)
    except Exception as error:
        logger.warning("%s failed: %s", what, error)
        return {"error": f"{what} failed: {type(error).__name__}: {error}"}


def _default_status(server: ChatKitServer[NotebookContext]) -> str:
    """The model in use and where the threads are stored, as far as the server tells."""
    parts = []
    describe = getattr(server, "describe_model", None)
    if callable(describe):
        parts.append(f"Model: {describe()}")
    path = getattr(server.store, "path", None)
    where = getattr(server.store, "describe", None)
    if path is not None:
        parts.append(f"Threads: {path}")
    elif callable(where):
        parts.append(f"Threads: {where()}")
    return " · ".join(parts)


def _model_problem(server: ChatKitServer[NotebookContext]) -> str:
    """What stops the model from answering (no API key, say), before the first Send."""
    check = getattr(server, "model_problem", None)
    if not callable(check):
        return ""
    try:
        return str(check() or "")
    except Exception:  # a status line is no place to fail
        return ""


def _nothing() -> None:
    """Unsubscribes from nothing (a panel given no ``status_changes`` or ``code_running``)."""


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
