"""The package's own event loop thread and the sync bridge the magics use."""

from __future__ import annotations

import _thread
import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from chatkit_notebook.runtime import Runtime, get_runtime, shutdown


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    rt = Runtime(name="test-loop")
    yield rt
    rt.stop()


def test_starts_lazily_and_runs_coroutines_on_its_own_thread(runtime: Runtime) -> None:
    assert not runtime.is_running

    async def where() -> str:
        return threading.current_thread().name

    assert runtime.run(where()) == "test-loop"
    assert runtime.is_running
    assert runtime.submit(where()).result(timeout=10) == "test-loop"


def test_keeps_working_while_the_calling_thread_is_blocked(runtime: Runtime) -> None:
    # A panel's turn must progress while a cell blocks the kernel's main thread.
    progressed = threading.Event()

    async def work() -> None:
        await asyncio.sleep(0)
        progressed.set()

    runtime.submit(work())
    assert progressed.wait(timeout=10)  # the main thread is blocked right here


def test_errors_propagate_to_the_caller(runtime: Runtime) -> None:
    async def boom() -> None:
        raise ValueError("bad value 7")

    with pytest.raises(ValueError, match="bad value 7"):
        runtime.run(boom())


def test_iterate_bridges_an_async_stream(runtime: Runtime) -> None:
    async def numbers() -> AsyncIterator[int]:
        for n in range(5):
            await asyncio.sleep(0)
            yield n

    assert list(runtime.iterate(numbers)) == [0, 1, 2, 3, 4]


def test_iterate_raises_the_streams_error_after_its_items(runtime: Runtime) -> None:
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("stream broke")

    seen = []
    with pytest.raises(RuntimeError, match="stream broke"):  # noqa: PT012 (the loop is the call under test)
        for item in runtime.iterate(failing):
            seen.append(item)
    assert seen == [1]


def test_interrupt_cancels_the_stream_and_waits_for_its_cleanup(runtime: Runtime) -> None:
    cleaned_up = threading.Event()

    async def endless() -> AsyncIterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
                await asyncio.Event().wait() if n == 3 else await asyncio.sleep(0)
        finally:
            await asyncio.sleep(0)  # cleanup may await, like persisting a partial answer
            cleaned_up.set()

    seen = []
    with pytest.raises(KeyboardInterrupt):  # noqa: PT012 (the loop is the call under test)
        for item in runtime.iterate(endless):
            seen.append(item)
            if item == 2:
                _thread.interrupt_main()  # what the kernel's interrupt button does
    assert seen == [0, 1, 2]
    assert cleaned_up.is_set()  # iterate returned only after the stream had cleaned up


def test_stopping_the_consumer_early_cancels_the_stream(runtime: Runtime) -> None:
    cancelled = threading.Event()

    async def endless() -> AsyncIterator[int]:
        try:
            while True:
                yield 1
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    stream = runtime.iterate(endless)
    assert next(stream) == 1
    stream.close()
    assert cancelled.is_set()


def test_run_refuses_to_deadlock_on_its_own_thread(runtime: Runtime) -> None:
    async def nested() -> None:
        async def inner() -> None:
            return None

        coro = inner()
        try:
            runtime.run(coro)
        finally:
            coro.close()

    with pytest.raises(RuntimeError, match="own loop"):
        runtime.run(nested())


def test_stop_joins_the_thread_and_a_new_use_restarts(runtime: Runtime) -> None:
    async def one() -> int:
        return 1

    runtime.run(one())
    thread = runtime.thread
    assert thread is not None
    runtime.stop()
    assert not thread.is_alive()
    assert runtime.run(one()) == 1
    assert runtime.thread is not thread


def test_process_runtime_is_shared_until_shutdown() -> None:
    first = get_runtime()
    assert get_runtime() is first
    shutdown()
    second = get_runtime()
    assert second is not first
    shutdown()
    loops = [t for t in threading.enumerate() if t.name == "chatkit-notebook-loop"]
    assert loops == []
