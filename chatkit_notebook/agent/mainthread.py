"""Running the agent's code where the user's code runs: the kernel's main thread.

A chat turn runs on the package's loop thread, but approved code must run on the main
thread: that is where the kernel's interrupt button lands, where a SIGINT watchdog can cut
``time.sleep`` short, and where capturing ``sys.stdout`` cannot steal another cell's output
(nothing else runs there meanwhile). :func:`call` hands a function to the main thread and
returns a future:

* on the main thread itself (a script under ``asyncio.run``), it runs at once;
* in a kernel, it is queued and the kernel's own event loop is woken to run it as soon as
  no cell is running (one call at a time, between cells, as a cell would); a cell that
  waits for a turn (``%chat QUESTION``) runs queued calls while it waits;
* with neither (a panel outside a kernel), it runs on a new thread of its own.

:func:`bind` (called by ``%load_ext``) finds the kernel's loop and follows whether a cell
is running, so the chat can say "waiting for the running cell to finish".
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = [
    "bind",
    "call",
    "cell_running",
    "drain",
    "in_kernel",
    "listen",
    "unbind",
    "waiting",
]

_T = TypeVar("_T")

_calls: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]]] = (
    queue.SimpleQueue()
)
_loop: asyncio.AbstractEventLoop | None = None
_running_cells = 0
_draining = 0  # main-thread waits that run queued calls (runtime._wait)
_listeners: list[Callable[[bool], object]] = []
_shell: Any = None


def bind(shell: Any) -> None:
    """Run calls on ``shell``'s kernel loop while it is idle; follow its running cells.

    Call it on the main thread (``%load_ext`` is). Outside a kernel (a terminal IPython) no
    loop runs between cells: calls then run while a ``%chat`` cell waits for its turn.
    """
    global _loop, _shell
    unbind()
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        kernel = getattr(shell, "kernel", None)
        io_loop = getattr(kernel, "io_loop", None)
        loop = getattr(io_loop, "asyncio_loop", None)
    _loop = loop if getattr(shell, "kernel", None) is not None else None
    events = getattr(shell, "events", None)
    if events is not None:
        events.register("pre_execute", _cell_started)
        events.register("post_execute", _cell_ended)
        _shell = shell


def unbind() -> None:
    """Forget the kernel (``%unload_ext``)."""
    global _loop, _shell, _running_cells
    if _shell is not None:
        for event, callback in (("pre_execute", _cell_started), ("post_execute", _cell_ended)):
            if callback in _shell.events.callbacks[event]:
                _shell.events.unregister(event, callback)
    _loop, _shell, _running_cells = None, None, 0


def _cell_started() -> None:
    global _running_cells
    _running_cells += 1


def _cell_ended() -> None:
    global _running_cells
    _running_cells = max(0, _running_cells - 1)


def in_kernel() -> bool:
    """Whether calls run on a kernel's loop: a busy kernel then cannot hear a panel's Stop
    (a widget message) until the code ends; its interrupt button can stop the code."""
    return _loop is not None


def cell_running() -> bool:
    """Whether a cell is running now that a queued call must wait for: not one that
    waits for a chat turn (``%chat QUESTION``), which runs queued calls as it waits."""
    return _running_cells > 0 and _draining == 0


@contextlib.contextmanager
def waiting() -> Iterator[None]:
    """Mark the main thread as waiting for the loop, and running queued calls meanwhile."""
    global _draining
    _draining += 1
    try:
        yield
    finally:
        _draining -= 1


def call(fn: Callable[[], _T]) -> concurrent.futures.Future[_T]:
    """Run ``fn`` on the main thread (see the module's docstring); its result, as a future."""
    future: concurrent.futures.Future[_T] = concurrent.futures.Future()
    if threading.current_thread() is threading.main_thread():
        _settle(fn, future)
        return future
    loop = _loop
    if loop is not None and not loop.is_closed():
        _calls.put((fn, future))
        # If the loop closed in between, a %chat cell waiting for a turn still runs it.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(drain)
        return future
    threading.Thread(
        target=_settle, args=(fn, future), name="chatkit-notebook-code", daemon=True
    ).start()
    return future


def listen(callback: Callable[[bool], object]) -> Callable[[], None]:
    """Call ``callback(True)`` when a call starts on the kernel's idle loop, and
    ``callback(False)`` when it ends (the kernel is busy meanwhile: a panel's Stop then
    interrupts the kernel). Returns a function that stops listening."""
    _listeners.append(callback)

    def forget() -> None:
        with contextlib.suppress(ValueError):
            _listeners.remove(callback)

    return forget


def drain() -> None:
    """Run the queued calls, one after the other (on the main thread)."""
    while True:
        try:
            fn, future = _calls.get_nowait()
        except queue.Empty:
            return
        idle = _draining == 0  # from the kernel's loop, not a waiting %chat cell
        if idle:
            _tell(True)
        try:
            _settle(fn, future)
        finally:
            if idle:
                _tell(False)


def _tell(running: bool) -> None:
    for callback in list(_listeners):
        try:
            callback(running)
        except Exception:  # a listener must not break the run
            logging.getLogger("chatkit_notebook").warning("code listener failed", exc_info=True)


def _settle(fn: Callable[[], _T], future: concurrent.futures.Future[_T]) -> None:
    if not future.set_running_or_notify_cancel():
        return  # cancelled before it ran: it never runs
    try:
        result = fn()
    except BaseException as error:
        future.set_exception(error)
    else:
        future.set_result(result)
