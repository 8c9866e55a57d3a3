"""One asyncio event loop, on a background thread, for all of the package's async work.

A kernel's own loop is the wrong place for a chat turn: tasks on it freeze while a cell
blocks, ``asyncio.run`` fails inside it, and nest_asyncio loses widget events under
ipykernel 7. So the package owns one loop on a daemon thread, started on first use:

* :meth:`Runtime.submit` schedules a coroutine there (the chat panel uses it), returning a
  ``concurrent.futures.Future``;
* :meth:`Runtime.run` waits for a coroutine from synchronous code;
* :meth:`Runtime.iterate` walks an async stream from synchronous code (the magics use it),
  turning ``KeyboardInterrupt`` (the kernel's interrupt button) into a cancel of the
  stream, so the turn stops and keeps its partial answer.

:func:`get_runtime` gives the process's runtime; :func:`shutdown` stops it (the extension's
unload does), after which the next use starts a fresh one.

A wait on the main thread can also run work queued for that thread: the kernel's session
registers the agent's main-thread runner with :func:`use_main_thread` (and clears it when it
closes), so a ``%chat`` cell waiting for its turn runs the approved code the turn needs. The
runtime itself knows nothing of the agent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar, overload

__all__ = ["MainThread", "Runtime", "get_runtime", "shutdown", "use_main_thread", "wait_for_event"]

_T = TypeVar("_T")

# How long a cancelled stream may take to clean up (persist its partial answer) before
# the interrupt is passed on regardless.
CANCEL_GRACE_SECONDS = 10.0

# How often a wait in the caller's thread wakes up to let a pending interrupt in. The
# kernel's interrupt is a SIGINT to the process, and the OS may hand it to any thread (the
# loop's, zmq's): CPython then only flags it for the main thread, which does not notice
# while it sits in a lock wait. Without these wake-ups the interrupt button would do
# nothing until the answer had finished.
INTERRUPT_CHECK_SECONDS = 0.05


_IDLE = object()  # what _get returns when nothing arrived in time


class MainThread(Protocol):
    """What a wait on the main thread runs meanwhile: the calls queued for that thread."""

    def drain(self) -> None:
        """Run the calls queued for the main thread (called on it)."""

    def waiting(self) -> AbstractContextManager[None]:
        """Mark the main thread as waiting for the loop (and draining) while it is entered."""


class _End:
    """Marks the end of a bridged stream; carries the error that ended it, if any."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class Runtime:
    """An asyncio loop running on its own daemon thread."""

    def __init__(self, name: str = "chatkit-notebook-loop") -> None:
        self._name = name
        self._guard = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<Runtime {self._name!r} {state}>"

    @property
    def is_running(self) -> bool:
        """Whether the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first access."""
        with self._guard:
            if self._loop is None or not self.is_running:
                self._start()
            assert self._loop is not None
            return self._loop

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread, or ``None`` before the first use."""
        return self._thread

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                _cancel_remaining(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()

        thread = threading.Thread(target=run, name=self._name, daemon=True)
        thread.start()
        ready.wait()
        self._loop, self._thread = loop, thread

    def submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Schedule ``coro`` on the loop; returns at once with a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
        """Run ``coro`` on the loop and wait for its result.

        A ``KeyboardInterrupt`` while waiting cancels the coroutine, waits for it to wind
        down, and is raised again.

        Raises:
            TimeoutError: the coroutine did not finish within ``timeout`` seconds; it is
                cancelled.
            RuntimeError: when called from the loop's own thread (that would deadlock).
        """
        self._refuse_own_thread()
        future, settled, schedule = self._tracked(coro)
        try:
            schedule()
            if not _wait(_future_done(future), timeout):
                future.cancel()
                msg = f"the coroutine did not finish within {timeout} s and was cancelled"
                raise TimeoutError(msg)
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            _wait(settled.wait, CANCEL_GRACE_SECONDS)
            raise

    def submit_tracked(
        self, coro: Coroutine[Any, Any, _T]
    ) -> tuple[concurrent.futures.Future[_T], threading.Event]:
        """Submit ``coro``; the event is set once it has really finished on the loop.

        A cancelled ``concurrent.futures.Future`` reports done at once, while the task it
        cancels may still be cleaning up (persisting a partial answer): wait on the event.
        """
        future, settled, schedule = self._tracked(coro)
        schedule()
        return future, settled

    def _tracked(
        self, coro: Coroutine[Any, Any, _T]
    ) -> tuple[concurrent.futures.Future[_T], threading.Event, Callable[[], None]]:
        """:meth:`submit_tracked` in two steps: the future and event, then ``schedule()``.

        Callers that must cancel on an interrupt call ``schedule()`` inside their ``try``:
        a SIGINT can land while it hands the coroutine to the loop (in the loop's wake-up
        write), and the coroutine would then run on with nobody left to cancel it.
        """
        loop = self.loop
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        settled = threading.Event()

        def finished(task: asyncio.Task[_T]) -> None:
            settled.set()
            if future.done():
                return
            if task.cancelled():
                future.cancel()
            elif (error := task.exception()) is not None:
                future.set_exception(error)
            else:
                future.set_result(task.result())

        def start() -> None:
            if future.cancelled():  # cancelled before it could start
                coro.close()
                settled.set()
                return
            task = loop.create_task(coro)
            task.add_done_callback(finished)
            future.add_done_callback(
                lambda f: loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None
            )

        def schedule() -> None:
            loop.call_soon_threadsafe(start)

        return future, settled, schedule

    @overload
    def iterate(self, stream: Callable[[], AsyncIterator[_T]]) -> Generator[_T, None, None]: ...

    @overload
    def iterate(
        self, stream: Callable[[], AsyncIterator[_T]], idle: float
    ) -> Generator[_T | None, None, None]: ...

    def iterate(
        self, stream: Callable[[], AsyncIterator[_T]], idle: float | None = None
    ) -> Generator[_T | None, None, None]:
        """Walk an async stream from synchronous code, one item at a time.

        ``stream`` is called on the loop to make the iterator. Items cross over through a
        queue as they arrive. With ``idle``, ``None`` is yielded whenever that many seconds
        pass without an item, so a caller that throttles its output can catch up during a
        pause. A ``KeyboardInterrupt`` in the caller (or the caller closing the generator
        early) cancels the task that walks the stream, waits until it has finished cleaning
        up, and then lets the interrupt propagate.

        Raises:
            RuntimeError: when called from the loop's own thread (that would deadlock).
        """
        self._refuse_own_thread()
        items: queue.SimpleQueue[Any] = queue.SimpleQueue()

        async def pump() -> None:
            try:
                async for item in stream():
                    items.put(item)
            except asyncio.CancelledError:
                items.put(_End())
                raise
            except BaseException as error:
                items.put(_End(error))
                raise
            items.put(_End())

        future, settled, schedule = self._tracked(pump())
        finished = False
        try:
            schedule()
            while True:
                item = _get(items, idle)
                if item is _IDLE:
                    yield None
                    continue
                if isinstance(item, _End):
                    finished = True
                    if item.error is not None:
                        raise item.error
                    return
                yield item
        finally:
            if not finished:  # interrupted, or the caller stopped early
                future.cancel()
                _wait(settled.wait, CANCEL_GRACE_SECONDS)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what is running, stop the loop and join its thread."""
        with self._guard:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or not thread.is_alive():
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    def _refuse_own_thread(self) -> None:
        if self._thread is not None and threading.current_thread() is self._thread:
            msg = "Runtime.run/iterate called on the runtime's own loop; await the coroutine"
            raise RuntimeError(msg)


def _wait(wait: Callable[[float], bool], timeout: float | None) -> bool:
    """Call ``wait(seconds)`` (true once done) until done or ``timeout``; return whether done.

    Waits in short slices so that a pending ``KeyboardInterrupt`` is raised promptly (see
    :data:`INTERRUPT_CHECK_SECONDS`); a second interrupt during a cleanup wait ends it. On
    the main thread, each slice first runs the calls queued for it (:func:`use_main_thread`):
    the turn a ``%chat`` cell waits for may need that thread to run approved code.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    hook = _main_thread if threading.current_thread() is threading.main_thread() else None
    with hook.waiting() if hook is not None else contextlib.nullcontext():
        while True:
            if hook is not None:  # a cell waiting for a turn runs the agent's code meanwhile
                hook.drain()
            left = INTERRUPT_CHECK_SECONDS
            if deadline is not None:
                left = min(left, deadline - time.monotonic())
            if wait(max(left, 0)):
                return True
            if left <= 0:
                return False


def wait_for_event(event: threading.Event, timeout: float | None) -> bool:
    """Wait for ``event`` as :meth:`Runtime.run` waits for its coroutine; return whether set.

    An interrupt gets in promptly, and on the main thread the agent's approved code runs
    meanwhile (a panel's ``wait()`` may wait for a turn that needs it).
    """
    return _wait(event.wait, timeout)


def _future_done(future: concurrent.futures.Future[Any]) -> Callable[[float], bool]:
    return lambda seconds: not concurrent.futures.wait([future], seconds).not_done


def _get(items: queue.SimpleQueue[Any], idle: float | None) -> Any:
    """The next item, or ``_IDLE`` after ``idle`` seconds without one (waits as :func:`_wait`)."""
    got: list[Any] = []

    def take(seconds: float) -> bool:
        try:
            got.append(items.get(timeout=seconds))
        except queue.Empty:
            return False
        return True

    return got[0] if _wait(take, idle) else _IDLE


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


_runtime: Runtime | None = None
_runtime_guard = threading.Lock()
_main_thread: MainThread | None = None


def use_main_thread(hook: MainThread | None) -> None:
    """Let waits on the main thread run ``hook``'s queued calls (``None``: stop).

    Process-wide, as the loop is: the kernel's session sets it when the extension loads
    and clears it when it closes.
    """
    global _main_thread
    _main_thread = hook


def get_runtime() -> Runtime:
    """The process's runtime (its loop starts on first use)."""
    global _runtime
    with _runtime_guard:
        if _runtime is None:
            _runtime = Runtime()
        return _runtime


def shutdown() -> None:
    """Stop the process's runtime, if it was started. The next use starts a new one."""
    global _runtime
    with _runtime_guard:
        runtime, _runtime = _runtime, None
    if runtime is not None:
        runtime.stop()
