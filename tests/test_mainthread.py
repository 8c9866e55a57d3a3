"""Where the agent's approved code runs: ``_mainthread`` without a kernel."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from chatkit_notebook.agent import mainthread


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    mainthread.bind(ip)
    yield ip
    mainthread.unbind()


def where(result: list[str]) -> None:
    result.append(threading.current_thread().name)


def test_on_the_main_thread_a_call_runs_at_once() -> None:
    ran: list[str] = []
    future = mainthread.call(lambda: where(ran))
    assert future.done()
    assert ran == ["MainThread"]


def test_with_no_kernel_loop_a_call_from_another_thread_runs_on_its_own_thread() -> None:
    ran: list[str] = []
    box: list[object] = []
    caller = threading.Thread(target=lambda: box.append(mainthread.call(lambda: where(ran))))
    caller.start()
    caller.join(30)
    box[0].result(timeout=30)  # type: ignore[attr-defined]
    assert ran == ["chatkit-notebook-code"]


def test_a_running_cell_holds_calls_back_unless_it_waits_for_a_turn(
    shell: InteractiveShell,
) -> None:
    seen: dict[str, bool] = {}
    shell.user_ns["seen"] = seen
    shell.user_ns["mainthread"] = mainthread
    shell.run_cell("seen['cell'] = mainthread.cell_running()")
    shell.run_cell("with mainthread.waiting():\n    seen['waiting'] = mainthread.cell_running()")
    assert seen == {"cell": True, "waiting": False}  # a %chat cell runs queued code itself
    assert not mainthread.cell_running()  # between cells


def test_a_call_cancelled_before_it_starts_never_runs() -> None:
    # What Stop does to code still queued behind a running cell.
    import concurrent.futures

    ran: list[str] = []
    future: concurrent.futures.Future[None] = concurrent.futures.Future()
    assert future.cancel()
    mainthread._settle(lambda: where(ran), future)
    assert ran == []


def test_listeners_hear_when_a_call_runs_on_the_idle_loop_not_in_a_waiting_cell() -> None:
    import concurrent.futures

    heard: list[bool] = []
    forget = mainthread.listen(heard.append)
    try:
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        mainthread._state.calls.put((lambda: heard.append(None), future))  # type: ignore[arg-type]
        mainthread.drain()  # as the kernel's loop does between cells
        assert heard == [True, None, False]
        heard.clear()
        future = concurrent.futures.Future()
        mainthread._state.calls.put((lambda: heard.append(None), future))  # type: ignore[arg-type]
        with mainthread.waiting():  # a %chat cell waiting for its turn runs it
            mainthread.drain()
        assert heard == [None]
    finally:
        forget()


def test_what_code_displays_is_caught_through_the_bound_shell(shell: InteractiveShell) -> None:
    from IPython.display import display

    from chatkit_notebook.agent.sandbox import Stopper, execute

    outputs: list[object] = []
    with mainthread.capture()(outputs):  # type: ignore[arg-type]
        display({"text/plain": "caught"}, raw=True)
    assert outputs == [{"text/plain": "caught"}]
    assert "publish" not in vars(shell.display_pub)  # the shell's own publisher is back
    shell.user_ns["display"] = display
    outcome = execute(
        "display({'text/plain': 'from the code'}, raw=True)",
        {"display": display},
        timeout=10,
        stopper=Stopper(),
        capture=mainthread.capture(),
    )
    assert outcome.displayed == ["from the code"]
    mainthread.unbind()
    caught: list[object] = []
    with mainthread.capture()(caught):  # type: ignore[arg-type]
        pass
    assert caught == []  # unbound: nothing to catch
