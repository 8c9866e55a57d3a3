"""The kernel's chat session: the one owner of kernel-side state.

``%load_ext chatkit_notebook`` builds one :class:`ChatSession` (:func:`load`) and
``%unload_ext`` closes it (:func:`unload`). While loaded, it holds everything the kernel
keeps for the chat: the package's loop (the runtime) and the main-thread binding that lets
the agent's approved code run where cells run, the store (beside this notebook, or the one
chosen: :func:`~chatkit_notebook.stores.location.locate_store`) and its server, the
variables hidden from the agent, the current thread, and the HTTP endpoint of ``%chatkit
serve``. :meth:`ChatSession.close` tears all of it down, so ``%reload_ext`` leaves no
duplicates.

This module's state is the loaded session (:func:`loaded`: ``serve()``, ``stop_serving()``
and tests find it there) and whether the kernel's exit hook that stops serving is in place.
The process-wide configuration (``config``) and named caches stay where they are, by design.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import threading
import weakref
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..config import store_choice
from ..context import NotebookContext, default_user
from ..errors import ConfigError
from ..previews.cells import CellRecord
from ..runtime import Runtime, get_runtime, shutdown, use_main_thread
from ..stores.location import StoreLocation, locate_store
from .errorhelp import ErrorHelp
from .staleness import StaleWatch

if TYPE_CHECKING:
    from agents import Model
    from chatkit.store import Store
    from IPython.core.interactiveshell import InteractiveShell

    from .._client import ChatKitClient
    from ..agent.server import NotebookChatServer
    from ..agent.usage import UsageLog
    from ..panel.panel import ChatPanel
    from .cells import CellWatch
    from .serving import Serving, _Endpoint

__all__ = ["ChatSession", "load", "loaded", "unload"]

MAGICS = {"line": ("chat", "chatkit"), "cell": ("chat",)}
"""The magics the session's ``ChatMagics`` registers (removed again by :meth:`close`)."""
TRANSFORMER = "keep_question_marks"
"""The name of the input transformer registered with the magics."""

logger = logging.getLogger("chatkit_notebook")

_MAGIC = re.compile(r"^\s*[%!]|=\s*[%!]", re.MULTILINE)  # a line (or value) that is a magic
_UNKNOWN = object()  # the current thread, before it was read from the store

_loaded: ChatSession | None = None
_exit_hook = False  # the kernel's exit stops serving (registered once per process)


@runtime_checkable
class _Closable(Protocol):
    """A store holding connections (a database's pool) to release when it is left."""

    def close(self) -> None: ...


@runtime_checkable
class _Watchable(Protocol):
    """A store whose change token tells a panel that another kernel changed it."""

    def change_token(self, context: NotebookContext, thread_id: str | None) -> object: ...


def loaded() -> ChatSession | None:
    """The session of ``%load_ext chatkit_notebook``, or ``None`` when not loaded."""
    return _loaded


def load(shell: InteractiveShell) -> ChatSession:
    """Build the kernel's session (closing one loaded before) and bind it to ``shell``."""
    global _loaded
    unload()
    session = ChatSession(shell)
    session.bind()
    _loaded = session
    return session


def unload() -> None:
    """Close the loaded session, if there is one."""
    global _loaded
    session, _loaded = _loaded, None
    if session is not None:
        session.close()


class ChatSession:
    """Everything one kernel needs to chat about its notebook.

    State and explicit methods only: the store is followed and opened by
    :meth:`store`, the current thread read from the store by :meth:`current_thread`.
    """

    def __init__(self, shell: InteractiveShell) -> None:
        self.shell = shell
        self.runtime: Runtime = get_runtime()
        self.hidden: set[str] = set()
        self.cells = CellRecord()  # what the kernel ran since %load_ext (kernel/cells.py)
        self.location: StoreLocation = locate_store(shell.user_ns)
        self._pending_title: str | None = None  # from %chatkit new TITLE, for the next thread
        self._chosen = store_choice()
        self._store: Store[NotebookContext] | None = None
        self._server: NotebookChatServer | None = None
        self._model: str | Model | None = None  # a model given to the server, kept across stores
        self._usage: UsageLog | None = None  # the kernel's tokens, kept across stores
        self._thread_id: str | object | None = _UNKNOWN
        self._told_where = False
        self._serving_guard = threading.Lock()
        self._endpoint: _Endpoint | None = None
        self._serving_listeners: list[Callable[[], Callable[[], object] | None]] = []
        self._cell_watch: CellWatch | None = None
        self.error_help = ErrorHelp(self)
        self.stale = StaleWatch(self.context)
        """The variables answers read, as they are now: what makes an answer stale."""

    def __repr__(self) -> str:
        return f"<ChatSession {self.location.display}>"

    # -- the kernel ------------------------------------------------------------------------

    def bind(self) -> None:
        """Let the agent's approved code run on the kernel's main thread (where cells run),
        and a ``%chat`` cell waiting for its turn run it meanwhile; offer help under a
        failing cell (:mod:`.errorhelp`)."""
        from ..agent import mainthread
        from .cells import CellWatch

        mainthread.bind(self.shell)
        use_main_thread(mainthread)
        self._cell_watch = CellWatch(self.shell, self.cells)
        self._cell_watch.start()
        self.error_help.bind()  # after the record: its hook reads the cell just recorded
        self.shell.events.register("post_run_cell", self._after_cell)

    def close(self) -> None:
        """Stop serving, unbind the main thread, stop the loop, remove the magics.

        Answers still streaming over HTTP stop and keep what arrived; the port is freed.
        """
        from ..agent import mainthread

        self.stop_serving()
        self._serving_listeners.clear()
        self.error_help.unbind()
        if self._cell_watch is not None:
            self._cell_watch.stop()
        with contextlib.suppress(ValueError):  # never bound
            self.shell.events.unregister("post_run_cell", self._after_cell)
        mainthread.unbind()
        use_main_thread(None)
        shutdown()  # the loop thread (this session's runtime); the next use starts a new one
        manager = self.shell.magics_manager
        for kind, names in MAGICS.items():
            for name in names:
                manager.magics[kind].pop(name, None)
        manager.registry.pop("ChatMagics", None)
        self.shell.input_transformers_cleanup[:] = [
            t
            for t in self.shell.input_transformers_cleanup
            if getattr(t, "__name__", None) != TRANSFORMER
        ]

    def _after_cell(self, result: Any) -> None:
        """IPython's ``post_run_cell``: let the stale-answer watch see what the cell did."""
        info = getattr(result, "info", None)
        raw = getattr(info, "raw_cell", None)
        if not isinstance(raw, str) or not raw.strip():
            return
        try:
            magic = _MAGIC.search(raw) is not None  # only then is IPython's rewrite needed
            code = self.shell.transform_cell(raw) if magic else raw  # type: ignore[no-untyped-call]
            self.stale.after_cell(code, getattr(result, "execution_count", None), raw=raw)
        except Exception:  # never fail the user's cell
            logger.warning("the stale-answer check failed after a cell", exc_info=True)

    # -- the store and its server ----------------------------------------------------------

    def follow_store_choice(self) -> None:
        """Keep threads where they were chosen to be, if that changed since
        (``configure(store=...)``, ``%chatkit store``): the session then starts on that
        store's own current thread. The model and the hidden names stay."""
        chosen = store_choice()
        if chosen == self._chosen:
            return
        self._chosen = chosen
        old: object = self._store
        if self._server is not None:
            self._model = self._server.model
            self._usage = self._server.usage  # the kernel's tokens go on across stores
        self.location = locate_store(self.shell.user_ns)
        self._store = self._server = None
        self._thread_id = _UNKNOWN  # the new store's own current thread
        self._told_where = False
        if isinstance(old, _Closable):  # a database store's connections
            old.close()

    def store(self) -> Store[NotebookContext]:
        """The thread store, after following a new choice of store; opened on first use."""
        self.follow_store_choice()
        if self._store is None:
            self._store = self.location.open()
        return self._store

    def server(self) -> NotebookChatServer:
        """The ChatKit server, made on first use (the Agents SDK takes a second to import)."""
        store = self.store()
        if self._server is None:
            from ..agent.server import NotebookChatServer

            self._server = NotebookChatServer(store, model=self._model, usage=self._usage)
        return self._server

    def client(self) -> ChatKitClient:
        """A ChatKit client of the server, whose requests carry this session's context."""
        from .._client import ChatKitClient

        return ChatKitClient(self.server(), self.context)

    def context(self) -> NotebookContext:
        """The context for a request: this kernel's variables, minus the hidden ones."""
        return NotebookContext(
            namespace=self.shell.user_ns,
            notebook_path=self.location.notebook_path,
            hidden=self.hidden,
            user=default_user(),
            cells=self.cells,
            changed_in=self.stale.changed_in,
        )

    def store_label(self) -> str:
        """The store in use, in a few words (the password masked)."""
        return self.location.display

    def store_note_once(self) -> str | None:
        """Where threads are kept, in a sentence: said once per session (and store)."""
        if self._told_where:
            return None
        self._told_where = True
        return self.location.describe()

    def describe_store(self) -> str:
        """Where threads are kept, in a sentence (then not said by :meth:`store_note_once`)."""
        self._told_where = True
        return self.location.describe()

    # -- the current thread ----------------------------------------------------------------

    def current_thread(self) -> str | None:
        """The current thread (``None``: the next question starts one).

        Kept in the store, so a new kernel continues where the last one left off: read
        from it (blocking) the first time, and after a new choice of store.
        """
        store = self.store()  # first, as it may follow a new choice of store
        if self._thread_id is _UNKNOWN:
            from ..stores.current import recall

            self._thread_id = self.runtime.run(recall(store, self.context()))
        return self._thread_id  # type: ignore[return-value]

    def use_thread(self, thread_id: str | None) -> None:
        """Make ``thread_id`` current (``None``: a new chat), and keep that in the store."""
        self.current_thread()  # what a new chat is left from
        self.runtime.run(self.follow(thread_id))

    def follow(self, thread_id: str | None) -> Coroutine[Any, Any, None]:
        """Make ``thread_id`` current now; the coroutine keeps the choice in the store.

        For callers on the loop (a panel's ``on_thread``, a turn's new thread).
        """
        previous = self._thread_id if isinstance(self._thread_id, str) else None
        self._thread_id = thread_id
        return self._remember(thread_id, previous)

    async def _remember(self, thread_id: str | None, previous: str | None) -> None:
        from ..stores.current import remember

        await remember(self.store(), thread_id, previous, self.context())
        # A thread opened, or a turn ended: look again at every variable answers read,
        # for changes no cell's code showed (through another name, inside a function).
        await asyncio.to_thread(self.stale.recheck)

    def start_new_thread(self, title: str | None = None) -> None:
        """The next question starts a new thread, titled ``title`` if given."""
        self.use_thread(None)
        self._pending_title = title

    def take_pending_title(self) -> str | None:
        """The title :meth:`start_new_thread` left for the next thread, once."""
        title, self._pending_title = self._pending_title, None
        return title

    # -- the panel -------------------------------------------------------------------------

    def panel(self) -> ChatPanel:
        """A chat panel on this notebook's threads."""
        from ..agent import mainthread
        from ..agent.tools import offered_variables
        from ..panel.panel import ChatPanel
        from ..previews.redact import redact_text

        return ChatPanel(
            self.server(),
            self.context(),
            status_note=self._serving_note,
            status_changes=self.on_serving_change,
            code_running=mainthread.listen,
            offer=offered_variables,
            thread_id=self.current_thread(),
            on_thread=self.follow,
            changes=self.changes,
            used=self._last_used,
            redact=redact_text,
            stale=self.stale.notes,
            stale_changes=self.stale.listen,
        )

    async def _last_used(self) -> dict[str, datetime]:
        """When this person last used each thread from the panel or ``%chat``."""
        from ..stores.current import last_used

        return await last_used(self.store(), self.context())

    def changes(self, thread_id: str | None) -> Any:
        """The store's change token (an awaitable), for a view watching for others' work."""
        store = self.store()
        if not isinstance(store, _Watchable):
            return None
        return store.change_token(self.context(), thread_id)

    def _serving_note(self) -> str:
        """Where this kernel serves the chat, for the panel's status line ("" when it does not)."""
        served = self.serving()
        return f"Serving at {served.url}" if served is not None else ""

    # -- serving over HTTP -----------------------------------------------------------------

    def serving(self) -> Serving | None:
        """Where this session's chat is served over HTTP, or ``None``."""
        endpoint = self._endpoint
        return endpoint.serving if endpoint is not None else None

    def start_serving(
        self, host: str, port: int | None, allow_origins: tuple[str, ...]
    ) -> tuple[Serving, str | None]:
        """Serve the chat at ``POST /chatkit`` (:mod:`.serving`); what is served, and a
        warning for a host that is not a loopback address.

        Raises:
            ConfigError: the ``serve`` extra is missing, an argument is unusable, the port
                is in use, or the chat is served already.
        """
        from . import serving

        port = serving.check(port, allow_origins)
        with self._serving_guard:
            if self._endpoint is not None:
                url = self._endpoint.serving.url
                raise ConfigError(f"already serving at {url}; %chatkit serve stop first")
            self._endpoint, warning = serving.start(
                self.runtime, self.server(), self.context, host, port, allow_origins
            )
            served = self._endpoint.serving
        _stop_serving_at_exit()
        self._tell_serving()
        return served, warning

    def stop_serving(self) -> bool:
        """Stop serving over HTTP and free the port; whether it was being served.

        Answers still streaming stop as with the panel's Stop: what had arrived is kept.
        """
        with self._serving_guard:
            endpoint, self._endpoint = self._endpoint, None
            if endpoint is None:
                return False
            endpoint.shut_down()
        self._tell_serving()
        return True

    def on_serving_change(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback()`` (on the caller's thread) after serving starts or stops.

        A bound method is held weakly: a panel that is gone stops listening by itself.
        Returns a function that stops listening.
        """
        ref: Callable[[], Callable[[], object] | None]
        ref = weakref.WeakMethod(callback) if inspect.ismethod(callback) else (lambda: callback)
        self._serving_listeners.append(ref)

        def forget() -> None:
            if ref in self._serving_listeners:
                self._serving_listeners.remove(ref)

        return forget

    def _tell_serving(self) -> None:
        for ref in list(self._serving_listeners):
            callback = ref()
            if callback is None:
                self._serving_listeners.remove(ref)
            else:
                callback()


def _stop_serving_at_exit() -> None:
    """Have the kernel's exit stop serving (once per process), keeping streaming answers."""
    global _exit_hook
    if _exit_hook:
        return
    from .serving import at_exit

    at_exit(_stop_at_exit)
    _exit_hook = True


def _stop_at_exit() -> None:
    session = _loaded
    if session is not None:
        with contextlib.suppress(Exception):  # the process ends anyway, and the port with it
            session.stop_serving()
