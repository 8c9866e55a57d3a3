"""``ChatPanel``: a ChatKit client made of core ipywidgets, shown under a notebook cell.

The panel speaks only the ChatKit protocol: it builds requests with chatkit's pydantic
types, sends them to ``server.process`` and applies the streamed events to its widgets.
All server work runs on the package's own event loop (``runtime.py``), so an answer keeps
streaming while a cell blocks the kernel. The store is the source of truth: the thread
list and a thread's items are always (re)loaded from it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import ipywidgets as W
from chatkit.actions import Action, ActionConfig
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import (
    AssistantMessageItem,
    ClientToolCallItem,
    FeedbackKind,
    InferenceOptions,
    ItemFeedbackParams,
    ItemsFeedbackReq,
    ItemsListParams,
    ItemsListReq,
    Page,
    StructuredInputSubmission,
    Thread,
    ThreadAddClientToolOutputParams,
    ThreadAddStructuredInputParams,
    ThreadAddUserMessageParams,
    ThreadCreateParams,
    ThreadCustomActionParams,
    ThreadDeleteParams,
    ThreadGetByIdParams,
    ThreadItem,
    ThreadListParams,
    ThreadMetadata,
    ThreadRetryAfterItemParams,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadStreamEvent,
    ThreadsUpdateReq,
    ThreadUpdateParams,
    UserMessageInput,
    UserMessageItem,
    UserMessageTextContent,
)
from pydantic import TypeAdapter

from ._markdown import MARKDOWN_CSS
from ._views import ItemView, view_for
from .context import NotebookContext
from .runtime import Runtime, get_runtime

__all__ = ["ChatPanel"]

logger = logging.getLogger("chatkit_notebook")

_EVENTS: TypeAdapter[ThreadStreamEvent] = TypeAdapter(ThreadStreamEvent)
_THREADS: TypeAdapter[Page[Thread]] = TypeAdapter(Page[Thread])
_THREAD: TypeAdapter[Thread] = TypeAdapter(Thread)
_ITEMS: TypeAdapter[Page[ThreadItem]] = TypeAdapter(Page[ThreadItem])
_NEW = "__new__"
HISTORY_PAGE = 50

# Scoped to .ck-panel; uses JupyterLab's theme variables, with fallbacks for other frontends.
PANEL_CSS = """
.ck-panel { border: 1px solid var(--jp-border-color2, #ddd); border-radius: 6px; padding: 6px;
  max-width: 960px; }
.ck-panel .ck-bubble { border-radius: 8px; padding: 6px 10px; margin: 4px 0; line-height: 1.45; }
.ck-panel .ck-bubble-user { background: var(--jp-brand-color3, #dbeafe); margin-left: 15%;
  white-space: pre-wrap; }
.ck-panel .ck-bubble-assistant { background: var(--jp-layout-color2, #f5f5f5); margin-right: 5%; }
.ck-panel .ck-workflow-box { font-size: 90%; color: var(--jp-ui-font-color2, #555); margin: 2px 0; }
.ck-panel .ck-workflow-box ul { margin: 2px 0 2px 18px; padding: 0; }
.ck-panel .ck-task-complete::marker { content: "\\2713  "; }
.ck-panel .ck-progress-line { font-style: italic; color: var(--jp-ui-font-color2, #666); }
.ck-panel .ck-notice-danger { color: var(--jp-error-color1, #b00020); padding: 4px 0; }
.ck-panel .ck-notice-warning { color: var(--jp-warn-color1, #8a6d00); padding: 4px 0; }
.ck-panel .ck-notice-info { color: var(--jp-info-color1, #0b5cad); padding: 4px 0; }
.ck-panel .ck-status-line { font-size: 85%; color: var(--jp-ui-font-color3, #888); }
.ck-panel .ck-empty-state { color: var(--jp-ui-font-color2, #555); padding: 8px; }
.ck-panel .ck-scroll { display: flex; flex-direction: column-reverse; }
.ck-panel .ck-bubble table { border-collapse: collapse; }
.ck-panel .ck-bubble th, .ck-panel .ck-bubble td { border: 1px solid var(--jp-border-color2, #ccc);
  padding: 2px 6px; }
"""


class ChatPanel(W.VBox):  # type: ignore[misc]
    """A chat about this notebook's data, as a displayable widget.

    Args:
        server: The ChatKit server to talk to (usually a
            :class:`~chatkit_notebook.NotebookChatServer`).
        context: What each request carries: the namespace the tools read, the notebook.
        runtime: The loop that runs server work; by default the package's, looked up at
            each use, so a panel from before ``%reload_ext`` runs on the new loop rather
            than restarting the old one.
        status: A line for the status bar, e.g. the model and where threads are kept.
    """

    def __init__(
        self,
        server: ChatKitServer[NotebookContext],
        context: NotebookContext,
        *,
        runtime: Runtime | None = None,
        status: str = "",
    ) -> None:
        self._server = server
        self._context = context
        self._given_runtime = runtime
        self.thread_id: str | None = None
        self._views: dict[str, ItemView] = {}
        self._feedback: dict[str, W.VBox] = {}
        self.effects: dict[str, Callable[[dict[str, Any]], object]] = {}
        """Handlers for ``client_effect`` events, by effect name."""
        self.client_tools: dict[str, Callable[[dict[str, Any]], Any]] = {}
        """Python functions the server's agent may call as client tools, by name."""
        self._last_user_item: str | None = None
        self._turn: concurrent.futures.Future[None] | None = None  # a streaming answer
        self._pending: concurrent.futures.Future[None] | None = None  # the last other request
        self._allowed_images: list[str] | None = None
        self._syncing = False
        self._locked = False  # the thread is locked or closed: no new messages

        self._threads = W.Dropdown(
            options=[("New chat", _NEW)], value=_NEW, layout=W.Layout(flex="1")
        )
        self._threads.add_class("ck-threads")
        self._new_button = _button("New", "plus", "Start a new chat", "ck-new")
        self._rename_button = _button("Rename", "pencil", "Rename this chat", "ck-rename")
        self._delete_button = _button("Delete", "trash", "Delete this chat", "ck-delete")
        self._title_input = W.Text(placeholder="New title", layout=W.Layout(flex="1"))
        self._title_save = _button("Save", "check", "Save the title", "ck-rename-save")
        self._title_cancel = _button("Cancel", "", "Keep the title", "ck-rename-cancel")
        self._rename_row = W.HBox([self._title_input, self._title_save, self._title_cancel])
        self._confirm_text = W.HTML()
        self._confirm_yes = _button("Delete", "trash", "Delete it for good", "ck-delete-yes")
        self._confirm_yes.button_style = "danger"
        self._confirm_no = _button("Keep", "", "Keep the chat", "ck-delete-no")
        self._confirm_row = W.HBox([self._confirm_text, self._confirm_yes, self._confirm_no])
        for row in (self._rename_row, self._confirm_row):
            row.layout.display = "none"
        bar = W.HBox(
            [self._threads, self._new_button, self._rename_button, self._delete_button]
        ).add_class("ck-bar")

        self._messages = W.VBox().add_class("ck-messages")
        self._messages.layout = W.Layout(padding="4px")
        # A column-reverse scroll box stays anchored at its bottom: the newest message
        # stays in view while it streams, with no JavaScript.
        self._scroll = W.Box([self._messages]).add_class("ck-scroll")
        self._scroll.layout = W.Layout(max_height="480px", overflow="auto")
        self._empty = W.HTML().add_class("ck-empty")
        self._earlier = _button(
            "Load earlier messages", "angle-up", "Show older messages", "ck-earlier"
        )
        self._earlier.layout.display = "none"
        self._earlier_cursor: str | None = None
        self._progress = W.HTML().add_class("ck-progress")
        self._notice = W.HTML().add_class("ck-notice")
        self._input = W.Textarea(
            placeholder="Ask about your data…", rows=2, layout=W.Layout(flex="1", width="auto")
        )
        self._input.add_class("ck-input")
        self._send_button = _button("Send", "paper-plane", "Send the message", "ck-send")
        self._send_button.button_style = "primary"
        self._stop_button = _button("Stop", "stop", "Stop the answer", "ck-stop")
        self._stop_button.layout.display = "none"
        self._retry_button = _button("Retry", "redo", "Ask again for the last answer", "ck-retry")
        self._retry_button.layout.display = "none"
        composer = W.HBox(
            [self._input, W.VBox([self._send_button, self._stop_button, self._retry_button])]
        )
        composer.add_class("ck-composer")
        if not status:
            status = _default_status(server)
        self._status = W.HTML(_status_html(status)).add_class("ck-status")

        style = W.HTML(f"<style>{PANEL_CSS}{MARKDOWN_CSS}</style>")
        style.add_class("ck-style")
        super().__init__(
            [
                style,
                bar,
                self._rename_row,
                self._confirm_row,
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

        self._threads.observe(self._on_pick, names="value")
        self._new_button.on_click(lambda _: self.new_thread())
        self._rename_button.on_click(lambda _: self._show_rename())
        self._title_save.on_click(lambda _: self.rename(self._title_input.value))
        self._title_cancel.on_click(lambda _: self._hide_rows())
        self._delete_button.on_click(lambda _: self._show_confirm())
        self._confirm_yes.on_click(lambda _: self.delete_thread())
        self._confirm_no.on_click(lambda _: self._hide_rows())
        self._send_button.on_click(lambda _: self.send(self._input.value))
        self._stop_button.on_click(lambda _: self.stop())
        self._retry_button.on_click(lambda _: self.retry())
        self._earlier.on_click(lambda _: self.load_earlier())
        self._show_empty()
        self.refresh()

    @property
    def _runtime(self) -> Runtime:
        return self._given_runtime or get_runtime()

    def __repr__(self) -> str:
        return f"<ChatPanel thread={self.thread_id!r}>"

    # -- what a user (or a test) can do -----------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether an answer is streaming."""
        return self._turn is not None and not self._turn.done()

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the running requests (if any) are over; for scripts and tests."""
        running = [f for f in (self._pending, self._turn) if f is not None]
        concurrent.futures.wait(running, timeout=timeout)

    def send(self, text: str) -> concurrent.futures.Future[None] | None:
        """Send a message in the current thread (a new one if none is open)."""
        text = text.strip()
        if not text or self.busy:
            return None
        self._input.value = ""
        return self._start_turn(message_request(self.thread_id, text))

    def retry(self) -> concurrent.futures.Future[None] | None:
        """Ask again for the answer to the last message."""
        if self.thread_id is None or self._last_user_item is None or self.busy:
            return None
        params = ThreadRetryAfterItemParams(thread_id=self.thread_id, item_id=self._last_user_item)
        for item_id in list(self._views)[list(self._views).index(self._last_user_item) + 1 :]:
            self._remove(item_id)
        return self._start_turn(ThreadsRetryAfterItemReq(params=params))

    def stop(self) -> None:
        """Stop the answer that is streaming; what arrived so far is kept."""
        if self._turn is not None:
            self._turn.cancel()

    def new_thread(self) -> None:
        """Start over in a new, empty thread (created with the first message)."""
        if self.busy:
            return
        self._open(None)
        self._select_thread()

    def open_thread(self, thread_id: str) -> concurrent.futures.Future[None]:
        """Show a stored thread."""
        return self._submit(self._load_thread(thread_id))

    def rename(self, title: str) -> concurrent.futures.Future[None] | None:
        """Rename the current thread."""
        self._hide_rows()
        if self.thread_id is None or not title.strip():
            return None
        params = ThreadUpdateParams(thread_id=self.thread_id, title=title.strip())
        return self._submit(self._call_then_refresh(ThreadsUpdateReq(params=params)))

    def delete_thread(self) -> concurrent.futures.Future[None] | None:
        """Delete the current thread from the store."""
        self._hide_rows()
        if self.thread_id is None or self.busy:
            return None
        request = ThreadsDeleteReq(params=ThreadDeleteParams(thread_id=self.thread_id))
        self._open(None)
        return self._submit(self._call_then_refresh(request))

    def refresh(self) -> concurrent.futures.Future[None]:
        """Reload the thread list from the store."""
        return self._submit(self._load_threads())

    # -- server calls ------------------------------------------------------------------

    def _submit(self, coro: Coroutine[Any, Any, None]) -> concurrent.futures.Future[None]:
        future = self._runtime.submit(self._guarded(coro))
        self._pending = future
        return future

    async def _guarded(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as error:  # shown, never lost in a traceback nobody sees
            logger.debug("chat panel request failed", exc_info=True)
            self._show_notice("danger", _describe(error))

    async def _call(self, request: Any) -> bytes:
        result = await self._server.process(request.model_dump_json(), self._context)
        assert isinstance(result, NonStreamingResult)
        return result.json

    async def _call_then_refresh(self, request: Any) -> None:
        await self._call(request)
        await self._load_threads()

    async def _load_threads(self) -> None:
        request = ThreadsListReq(params=ThreadListParams(limit=100, order="desc"))
        page = _THREADS.validate_json(await self._call(request))
        options = [("New chat", _NEW)] + [(_thread_label(t), t.id) for t in page.data]
        self._select_thread(options)

    async def _load_thread(self, thread_id: str) -> None:
        request = ItemsListReq(
            params=ItemsListParams(thread_id=thread_id, limit=HISTORY_PAGE, order="desc")
        )
        page = _ITEMS.validate_json(await self._call(request))
        thread = _THREAD.validate_json(
            await self._call(ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id)))
        )
        self._open(thread_id)
        self._allowed_images = thread.allowed_image_domains
        self._set_thread_status(thread)
        for item in reversed(page.data):
            self._add(item, streaming=False)
        self._set_earlier(page)

    def custom_action(
        self, item_id: str | None, action: ActionConfig
    ) -> concurrent.futures.Future[None] | None:
        """Send a widget's action (a button click) to the server as ``threads.custom_action``."""
        if self.thread_id is None or self.busy:
            return None
        params = ThreadCustomActionParams(
            thread_id=self.thread_id,
            item_id=item_id,
            action=Action[str, Any](type=action.type, payload=action.payload),
        )
        return self._start_turn(ThreadsCustomActionReq(params=params))

    def answer(
        self, item_id: str, submission: StructuredInputSubmission
    ) -> concurrent.futures.Future[None] | None:
        """Answer (or skip) the assistant's structured questions."""
        if self.thread_id is None or self.busy:
            return None
        params = ThreadAddStructuredInputParams(
            thread_id=self.thread_id, item_id=item_id, input=submission
        )
        return self._start_turn(ThreadsAddStructuredInputReq(params=params))

    def _answer_client_tool(self, call: ClientToolCallItem) -> None:
        """Run a registered client tool and send its result back (a new streamed turn)."""
        handler = self.client_tools.get(call.name)
        if handler is None:
            result: Any = {
                "error": f"No client tool named {call.name!r} is registered in this panel."
            }
        else:
            result = _call_foreign(handler, call.arguments, f"client tool {call.name!r}")
        if self.thread_id is None:
            return
        params = ThreadAddClientToolOutputParams(thread_id=self.thread_id, result=result)
        request = ThreadsAddClientToolOutputReq(params=params)
        # After the turn that asked has finished: chain on it.
        previous = self._turn

        async def after_previous() -> None:
            if previous is not None:
                await asyncio.wrap_future(previous)
            await self._run_turn(request)

        self._set_busy(True)
        future = self._runtime.submit(after_previous())
        self._turn = future
        future.add_done_callback(lambda _: self._set_busy(False))

    def load_earlier(self) -> concurrent.futures.Future[None] | None:
        """Show the page of messages before the oldest one shown."""
        if self.thread_id is None or self._earlier_cursor is None:
            return None
        return self._submit(self._load_earlier(self.thread_id, self._earlier_cursor))

    async def _load_earlier(self, thread_id: str, cursor: str) -> None:
        params = ItemsListParams(
            thread_id=thread_id, limit=HISTORY_PAGE, order="desc", after=cursor
        )
        page = _ITEMS.validate_json(await self._call(ItemsListReq(params=params)))
        if thread_id != self.thread_id:
            return  # the user moved on
        shown = self._messages.children
        self._messages.children = ()
        for item in reversed(page.data):
            self._add(item, streaming=False)
        self._messages.children = (*self._messages.children, *shown)
        self._set_earlier(page)

    def _set_earlier(self, page: Page[ThreadItem]) -> None:
        self._earlier_cursor = page.after if page.has_more else None
        self._earlier.layout.display = "" if self._earlier_cursor else "none"

    def _start_turn(self, request: Any) -> concurrent.futures.Future[None]:
        self._set_busy(True)
        self._show_notice(None, "")
        future = self._runtime.submit(self._run_turn(request))
        self._turn = future
        future.add_done_callback(lambda _: self._set_busy(False))
        return future

    async def _run_turn(self, request: Any) -> None:
        try:
            result = await self._server.process(request.model_dump_json(), self._context)
            assert isinstance(result, StreamingResult)
            async for chunk in result:
                self._apply(_EVENTS.validate_json(chunk.removeprefix(b"data: ")))
        except asyncio.CancelledError:
            self._finish_views()
            raise
        except Exception as error:  # an unknown thread, a bad retry: raised, not streamed
            logger.debug("chat turn failed", exc_info=True)
            self._show_notice("danger", _describe(error))
        finally:
            self._finish_views()
            self._progress.value = ""
            if self._last_user_item is not None:
                self._retry_button.layout.display = ""  # ask again for the last answer
        await self._load_threads()

    # -- applying events -----------------------------------------------------------------

    def _apply(self, event: ThreadStreamEvent) -> None:
        if event.type == "thread.created":
            self._open(event.thread.id)
            self._allowed_images = event.thread.allowed_image_domains
        elif event.type == "thread.updated":
            self._allowed_images = event.thread.allowed_image_domains
            self._set_thread_status(event.thread)
        elif event.type in ("thread.item.added", "thread.item.done", "thread.item.replaced"):
            self._progress.value = ""
            self._add(event.item, streaming=event.type == "thread.item.added")
        elif event.type == "thread.item.updated":
            view = self._views.get(event.item_id)
            if view is not None:
                view.update(event.update)
        elif event.type == "thread.item.removed":
            self._remove(event.item_id)
        elif event.type == "stream_options":
            self._stop_button.layout.display = "" if event.stream_options.allow_cancel else "none"
        elif event.type == "progress_update":
            self._progress.value = f'<div class="ck-progress-line">{html.escape(event.text)}</div>'
        elif event.type == "error":
            message = event.message or "Something went wrong while answering."
            self._show_notice("danger", message)
            self._retry_button.layout.display = "" if event.allow_retry else "none"
        elif event.type == "notice":
            self._show_notice(event.level, event.message, event.title)
        elif event.type == "client_effect":
            handler = self.effects.get(event.name)
            if handler is None:
                logger.info("client effect %r ignored: no handler registered", event.name)
            else:
                _call_foreign(handler, event.data, f"client effect {event.name!r}")

    def _add(self, item: ThreadItem, *, streaming: bool) -> None:
        if isinstance(item, ClientToolCallItem) and item.status == "pending" and not streaming:
            self._runtime.loop.call_soon_threadsafe(self._answer_client_tool, item)
            return
        view = self._views.get(item.id)
        if view is not None:
            view.replace(item)
            if not streaming:
                view.finish()
                self._add_feedback(item)
            return
        view = view_for(
            item,
            allowed_image_domains=self._allowed_images,
            schedule=self._schedule,
            on_action=self.custom_action,
            on_answer=self.answer,
        )
        if view is None:
            return
        self._views[item.id] = view
        if isinstance(item, UserMessageItem):
            self._last_user_item = item.id
        self._messages.children = (*self._messages.children, view.widget)
        self._empty.layout.display = "none"
        if not streaming:
            self._add_feedback(item)

    def _add_feedback(self, item: ThreadItem) -> None:
        """Thumbs up/down under a finished answer (``items.feedback``)."""
        if not isinstance(item, AssistantMessageItem) or item.id in self._feedback:
            return
        up = _button("", "thumbs-up", "Good answer", "ck-feedback-up")
        down = _button("", "thumbs-down", "Bad answer", "ck-feedback-down")
        # Core widgets cannot reach the browser's clipboard: show the Markdown, selectable.
        copy = _button("Copy", "copy", "Show this answer's text to copy", "ck-copy")
        source = W.Textarea(rows=6, layout=W.Layout(width="100%", display="none"))
        source.add_class("ck-copy-text")
        row = W.VBox([W.HBox([up, down, copy]), source]).add_class("ck-feedback")
        self._feedback[item.id] = row
        up.on_click(lambda _: self.feedback(item.id, "positive"))
        down.on_click(lambda _: self.feedback(item.id, "negative"))
        copy.on_click(lambda _: self._toggle_copy(item.id, source))
        view = self._views[item.id]
        children = list(self._messages.children)
        children.insert(children.index(view.widget) + 1, row)
        self._messages.children = tuple(children)

    def feedback(self, item_id: str, kind: FeedbackKind) -> concurrent.futures.Future[None] | None:
        """Tell the server whether an answer was good (``positive``) or bad (``negative``)."""
        row = self._feedback.get(item_id)
        if self.thread_id is None or row is None:
            return None
        thumbs = row.children[0].children[:2]
        for button, chosen in zip(thumbs, ("positive", "negative"), strict=True):
            button.button_style = "success" if chosen == kind else ""
            button.disabled = True
        params = ItemFeedbackParams(thread_id=self.thread_id, item_ids=[item_id], kind=kind)
        return self._submit(self._call_quietly(ItemsFeedbackReq(params=params)))

    def _toggle_copy(self, item_id: str, source: W.Textarea) -> None:
        view = self._views.get(item_id)
        if source.layout.display == "none" and view is not None:
            source.value = "".join(getattr(view, "text", ""))
            source.layout.display = ""
        else:
            source.layout.display = "none"

    async def _call_quietly(self, request: Any) -> None:
        await self._call(request)

    def _remove(self, item_id: str) -> None:
        view = self._views.pop(item_id, None)
        row = self._feedback.pop(item_id, None)
        gone = {id(w) for w in (view.widget if view else None, row) if w is not None}
        if gone:
            self._messages.children = tuple(w for w in self._messages.children if id(w) not in gone)

    def _schedule(self, delay: float, callback: Callable[[], None]) -> None:
        self._runtime.loop.call_soon_threadsafe(
            lambda: self._runtime.loop.call_later(delay, callback)
        )

    def _finish_views(self) -> None:
        for view in self._views.values():
            view.finish()

    # -- small view helpers ----------------------------------------------------------------

    def _open(self, thread_id: str | None) -> None:
        self.thread_id = thread_id
        self._views.clear()
        self._feedback.clear()
        self._locked = False
        self._set_busy(self.busy)
        self._last_user_item = None
        self._earlier_cursor = None
        self._earlier.layout.display = "none"
        self._messages.children = ()
        self._retry_button.layout.display = "none"
        self._show_notice(None, "")
        self._show_empty()

    def _select_thread(self, options: list[tuple[str, str]] | None = None) -> None:
        """Show the current thread in the thread bar without treating it as a pick."""
        self._syncing = True
        try:
            if options is not None:
                self._threads.options = options
            known = {value for _, value in self._threads.options}
            self._threads.value = self.thread_id if self.thread_id in known else _NEW
        finally:
            self._syncing = False

    def _on_pick(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if self._syncing or value == self.thread_id or self.busy:
            return
        if value == _NEW:
            self._open(None)
        else:
            self.open_thread(value)

    def _set_busy(self, busy: bool) -> None:
        self._send_button.disabled = busy or self._locked
        self._input.disabled = busy or self._locked
        self._threads.disabled = busy
        self._new_button.disabled = self._delete_button.disabled = self._rename_button.disabled = (
            busy
        )
        if not busy:
            self._stop_button.layout.display = "none"

    def _set_thread_status(self, thread: ThreadMetadata) -> None:
        status = thread.status
        self._locked = status.type in ("locked", "closed")
        if self._locked:
            reason = getattr(status, "reason", None) or f"This chat is {status.type}."
            self._show_notice("warning", reason)
            self._input.disabled = self._send_button.disabled = True

    def _show_notice(self, level: str | None, message: str, title: str | None = None) -> None:
        if not message:
            self._notice.value = ""
            return
        heading = f"<strong>{html.escape(title)}</strong> " if title else ""
        self._notice.value = f'<div class="ck-notice-{level}">{heading}{html.escape(message)}</div>'

    def _show_empty(self) -> None:
        names = [n for n, v in self._context.namespace.items() if _shown_name(n, v)][:3]
        prompts = [f"Describe `{n}`" for n in names] or ["What variables do I have?"]
        items = "".join(f"<li>{html.escape(p)}</li>" for p in prompts)
        self._empty.value = (
            '<div class="ck-empty-state"><strong>Ask about your data.</strong> For example:'
            f"<ul>{items}</ul></div>"
        )
        self._empty.layout.display = ""

    def _show_rename(self) -> None:
        if self.thread_id is None:
            return
        label = next((o[0] for o in self._threads.options if o[1] == self.thread_id), "")
        self._title_input.value = label.rsplit(" · ", 1)[0]
        self._rename_row.layout.display = ""

    def _show_confirm(self) -> None:
        if self.thread_id is None:
            return
        label = next((o[0] for o in self._threads.options if o[1] == self.thread_id), "this chat")
        self._confirm_text.value = f"Delete <b>{html.escape(label)}</b> and its messages?"
        self._confirm_row.layout.display = ""

    def _hide_rows(self) -> None:
        self._rename_row.layout.display = "none"
        self._confirm_row.layout.display = "none"


def _call_foreign(
    function: Callable[[dict[str, Any]], Any], data: dict[str, Any], what: str
) -> Any:
    """Call a user's handler; a failure is reported to the server, never raised into the loop."""
    try:
        return function(data)
    except Exception as error:
        logger.warning("%s failed: %s", what, error)
        return {"error": f"{what} failed: {type(error).__name__}: {error}"}


def message_request(thread_id: str | None, text: str) -> Any:
    """The ChatKit request that sends ``text``: a new thread, or a message in ``thread_id``."""
    content = UserMessageInput(
        content=[UserMessageTextContent(text=text)],
        attachments=[],
        inference_options=InferenceOptions(),
    )
    if thread_id is None:
        return ThreadsCreateReq(params=ThreadCreateParams(input=content))
    params = ThreadAddUserMessageParams(thread_id=thread_id, input=content)
    return ThreadsAddUserMessageReq(params=params)


def _button(description: str, icon: str, tooltip: str, css: str) -> W.Button:
    button = W.Button(
        description=description, icon=icon, tooltip=tooltip, layout=W.Layout(width="auto")
    )
    button.add_class(css)
    return button


def _default_status(server: ChatKitServer[NotebookContext]) -> str:
    """The model in use and where the threads are stored, as far as the server tells."""
    parts = []
    describe = getattr(server, "describe_model", None)
    if callable(describe):
        parts.append(f"Model: {describe()}")
    path = getattr(server.store, "path", None)
    if path is not None:
        parts.append(f"Threads: {path}")
    return " · ".join(parts)


def _status_html(status: str) -> str:
    return f'<div class="ck-status-line">{html.escape(status)}</div>' if status else ""


def _thread_label(thread: ThreadMetadata) -> str:
    title = thread.title or "Untitled chat"
    return f"{title} · {_age(thread.created_at)}"


def _age(moment: datetime) -> str:
    now = datetime.now(moment.tzinfo) if moment.tzinfo else datetime.now()
    seconds = max(0.0, (now - moment).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def _shown_name(name: str, value: object) -> bool:
    import types

    if name.startswith("_") or name in ("In", "Out", "exit", "quit", "get_ipython"):
        return False
    return not isinstance(value, (types.ModuleType, types.FunctionType, type))


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
