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
is running, so the chat can say "waiting for the running cell to finish". It also takes
from the kernel side how to catch what code displays (:data:`Capture`): the agent never
imports IPython itself. All of this is one :class:`_MainThread`, held in one module
reference that :func:`bind` installs and :func:`unbind` clears.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "Capture",
    "bind",
    "call",
    "capture",
    "cell_running",
    "drain",
    "in_kernel",
    "listen",
    "unbind",
    "waiting",
]

_T = TypeVar("_T")

Capture = Callable[[list[Mapping[str, Any]]], AbstractContextManager[None]]
"""Catches what code displays while it runs: each display's data (``{"image/png": ...}``)
is appended to the list it is given, instead of going to the cell's output."""


@dataclass
class _MainThread:
    """The main thread's side of the chat: the kernel's loop, its shell, the cells running,
    and the calls waiting to run."""

    loop: asyncio.AbstractEventLoop | None = None
    shell: Any = None  # a shell whose events this follows
    capture: Capture | None = None
    running_cells: int = 0
    draining: int = 0  # main-thread waits that run queued calls (runtime._wait)
    calls: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]]] = field(
        default_factory=queue.SimpleQueue
    )
    listeners: list[Callable[[bool], object]] = field(default_factory=list)

    def cell_started(self) -> None:
        self.running_cells += 1

    def cell_ended(self) -> None:
        self.running_cells = max(0, self.running_cells - 1)


_state = _MainThread()


def bind(shell: Any, *, capture: Capture | None = None) -> None:
    """Run calls on ``shell``'s kernel loop while it is idle; follow its running cells.

    Call it on the main thread (``%load_ext`` is). Outside a kernel (a terminal IPython) no
    loop runs between cells: calls then run while a ``%chat`` cell waits for its turn.
    ``capture`` catches what code displays; by default the shell's display publisher is
    intercepted while code runs.
    """
    global _state
    unbind()
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        kernel = getattr(shell, "kernel", None)
        io_loop = getattr(kernel, "io_loop", None)
        loop = getattr(io_loop, "asyncio_loop", None)
    state = _MainThread(
        loop=loop if getattr(shell, "kernel", None) is not None else None,
        capture=capture if capture is not None else _publisher_capture(shell),
        calls=_state.calls,  # calls already queued and panels listening stay
        listeners=_state.listeners,
    )
    events = getattr(shell, "events", None)
    if events is not None:
        events.register("pre_execute", state.cell_started)
        events.register("post_execute", state.cell_ended)
        state.shell = shell
    _state = state


def unbind() -> None:
    """Forget the kernel (``%unload_ext``)."""
    global _state
    old = _state
    if old.shell is not None:
        for event, callback in (
            ("pre_execute", old.cell_started),
            ("post_execute", old.cell_ended),
        ):
            if callback in old.shell.events.callbacks[event]:
                old.shell.events.unregister(event, callback)
    _state = _MainThread(calls=old.calls, listeners=old.listeners)


def in_kernel() -> bool:
    """Whether calls run on a kernel's loop: a busy kernel then cannot hear a panel's Stop
    (a widget message) until the code ends; its interrupt button can stop the code."""
    return _state.loop is not None


def cell_running() -> bool:
    """Whether a cell is running now that a queued call must wait for: not one that
    waits for a chat turn (``%chat QUESTION``), which runs queued calls as it waits."""
    return _state.running_cells > 0 and _state.draining == 0


def capture() -> Capture:
    """How to catch what code displays here (nothing is caught outside a shell)."""
    return _state.capture or _no_capture


@contextlib.contextmanager
def _no_capture(outputs: list[Mapping[str, Any]]) -> Iterator[None]:
    yield


def _publisher_capture(shell: Any) -> Capture | None:
    """Catch displays by intercepting ``shell.display_pub.publish`` (IPython's own
    ``CapturingDisplayPublisher`` does the same, as a class)."""
    if getattr(shell, "display_pub", None) is None:
        return None

    @contextlib.contextmanager
    def intercept(outputs: list[Mapping[str, Any]]) -> Iterator[None]:
        publisher = shell.display_pub
        caught: list[Mapping[str, Any]] = []

        def publish(data: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
            caught.append(data)

        def clear_output(wait: bool = False) -> None:
            caught.clear()

        publisher.publish, publisher.clear_output = publish, clear_output
        try:
            yield
        finally:
            del publisher.publish, publisher.clear_output  # the class's own again
            outputs.extend(caught)

    return intercept


@contextlib.contextmanager
def waiting() -> Iterator[None]:
    """Mark the main thread as waiting for the loop, and running queued calls meanwhile."""
    state = _state
    state.draining += 1
    try:
        yield
    finally:
        state.draining -= 1


def call(fn: Callable[[], _T]) -> concurrent.futures.Future[_T]:
    """Run ``fn`` on the main thread (see the module's docstring); its result, as a future."""
    future: concurrent.futures.Future[_T] = concurrent.futures.Future()
    if threading.current_thread() is threading.main_thread():
        _settle(fn, future)
        return future
    state = _state
    loop = state.loop
    if loop is not None and not loop.is_closed():
        state.calls.put((fn, future))
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
    listeners = _state.listeners
    listeners.append(callback)

    def forget() -> None:
        with contextlib.suppress(ValueError):
            listeners.remove(callback)

    return forget


def drain() -> None:
    """Run the queued calls, one after the other (on the main thread)."""
    state = _state
    while True:
        try:
            fn, future = state.calls.get_nowait()
        except queue.Empty:
            return
        idle = state.draining == 0  # from the kernel's loop, not a waiting %chat cell
        if idle:
            _tell(True, state)
        try:
            _settle(fn, future)
        finally:
            if idle:
                _tell(False, state)


def _tell(running: bool, state: _MainThread | None = None) -> None:
    for callback in list((state or _state).listeners):
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
