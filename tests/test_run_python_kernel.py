"""A real kernel: ``run_python`` approved in the panel, interrupted, and where nobody can answer.

Each test starts an ipykernel through ``jupyter_client`` (no network: the model is a
``ScriptedModel`` assigned inside the kernel) and drives it as a front end would: cells on
the shell channel, the panel's Run button clicked with the same ``comm_msg`` a browser
sends, and the kernel's interrupt button. Timeouts here only detect hangs; nothing waits
for time to pass.
"""

from __future__ import annotations

import ast
import json
import os
import queue
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel
from stored import stored_items

HANG = 120.0
"""How long anything may take before the test calls it a hang (a loaded 2-core machine)."""


class Kernel:
    """An ipykernel of its own, with its store in a temporary file and no front end."""

    def __init__(self, store_path: Path | str, **environ: str) -> None:
        env = dict(os.environ)
        # jupyter_client sets no JPY_SESSION_NAME: the kernel has no one to click (nbclient).
        env.pop("JPY_SESSION_NAME", None)
        env["CHATKIT_NOTEBOOK_STORE"] = str(store_path)
        env.update(environ)
        self.store_path = store_path
        self.manager, self.client = start_new_kernel(
            kernel_name="python3", startup_timeout=HANG, env=env
        )

    def run(self, code: str) -> str:
        """Run a cell that must succeed; its printed output."""
        status, output = self.try_run(code)
        assert status == "ok", f"the cell failed:\n{code}\n{output}"
        return output

    def try_run(self, code: str) -> tuple[str, str]:
        """Run a cell; its status and everything it showed (streams, displays, errors)."""
        shown: list[str] = []

        def hook(message: dict[str, Any]) -> None:
            shown.append(_text(message))

        reply = self.client.execute_interactive(code, timeout=HANG, output_hook=hook)
        return str(reply["content"]["status"]), "".join(shown)

    def outputs_until_idle(self, request: str) -> list[dict[str, Any]]:
        """The iopub messages of ``request`` until the kernel is idle after it."""
        seen: list[dict[str, Any]] = []
        while True:
            try:
                message = self.client.get_iopub_msg(timeout=HANG)
            except queue.Empty as e:
                types = [m["msg_type"] for m in seen]
                raise AssertionError(f"the cell never finished; it showed {types}") from e
            if message["parent_header"].get("msg_id") != request:
                continue
            seen.append(message)
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return seen

    def poll(self, cell: str, done: Callable[[str], bool]) -> str:
        """Run ``cell`` again and again (the kernel is idle between cells) until ``done``
        holds for its output; the output."""
        deadline = time.monotonic() + HANG
        while True:
            output = self.run(cell)
            if done(output):
                return output
            if time.monotonic() > deadline:
                raise AssertionError(f"still not done after {HANG:g} s; last output {output!r}")

    def load(self, steps: str, *setup: str) -> None:
        """Load the extension and give its server a ``ScriptedModel`` of ``steps`` (code
        for a list of steps, run in the kernel), as ``model``; ``setup`` runs first."""
        self.run("%load_ext chatkit_notebook")
        self.run(
            "\n".join(
                [
                    "import json, threading",
                    "import chatkit_notebook",
                    "from agents.testing import ScriptedModel, assistant_message, function_call",
                    *setup,
                    f"model = ScriptedModel({steps})",
                    "chatkit_notebook.kernel.session.loaded().server().model = model",
                ]
            )
        )

    def model_input(self, call: int) -> str:
        """Everything the model got as input on its ``call``-th request, as JSON text."""
        return self.run(f"print(json.dumps(model.calls[{call}].input, default=str))")

    def close(self) -> None:
        """Shut the kernel down (again: a no-op), so its store can be read."""
        if self.manager.is_alive():
            self.client.stop_channels()
            self.manager.shutdown_kernel(now=True)


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    kind = message["msg_type"]
    if kind == "stream":
        return str(content["text"])
    if kind == "error":
        return "\n".join(content["traceback"])
    if kind in ("display_data", "update_display_data", "execute_result"):
        data = content.get("data", {})
        return str(data.get("text/markdown", data.get("text/plain", ""))) + "\n"
    return ""


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    started = Kernel(tmp_path / "kernel.chatkit.json")
    try:
        yield started
    finally:
        started.close()


def run_python(code: str, call_id: str = "call_1") -> str:
    """A model step (as kernel code) that calls run_python with ``code``."""
    return f"[function_call('run_python', {{'code': {code!r}}}, call_id={call_id!r})]"


def answer(text: str) -> str:
    """A model step (as kernel code) that answers ``text``."""
    return f"[assistant_message({text!r})]"


RECORDER = [
    "ran = []",
    "def record():",
    "    ran.append(threading.current_thread().name)",
]
"""Kernel code: ``record()`` notes the thread it runs on in ``ran``."""

RUN_BUTTONS = """
import ipywidgets
def _widgets(widget):
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from _widgets(child)
print([
    w.model_id for w in _widgets(panel)
    if isinstance(w, ipywidgets.Button) and "ck-w-card-confirm" in w._dom_classes
])
"""
"""Kernel code: prints the comm ids of the panel's Run buttons."""


def show_panel_with_card(kernel: Kernel) -> str:
    """Open a panel, ask, and wait for the approval card; the comm id of its Run button."""
    kernel.run(
        "panel = chatkit_notebook.kernel.session.loaded().panel()\n"
        "display(panel)\n"
        "panel.send('compute it')\n"
        "panel.wait()"
    )
    assert kernel.run("print(ran, len(model.calls))").split() == ["[]", "1"]  # not run yet
    (button,) = ast.literal_eval(kernel.run(RUN_BUTTONS))
    assert isinstance(button, str)
    return button


def click(kernel: Kernel, comm_id: str) -> None:
    """What a browser sends when an ipywidgets Button is clicked."""
    content = {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}}
    kernel.client.session.send(kernel.client.shell_channel.socket, "comm_msg", content=content)


def _iopub_text_until(kernel: Kernel, text: str) -> bool:
    """Read iopub (widget updates included) until a message holds ``text`` (as JSON)."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        try:
            message = kernel.client.get_iopub_msg(timeout=HANG)
        except queue.Empty:
            return False
        if text in json.dumps(message["content"]):
            return True
    return False


def card_texts(items: list[Any]) -> list[str]:
    """The approval cards in ``items``, each as its JSON text."""
    return [
        json.dumps(i.widget.model_dump(exclude_none=True))
        for i in items
        if i.type == "widget" and getattr(i.widget, "key", None) == "chatkit-notebook/run-python"
    ]


def answers(items: list[Any]) -> list[str]:
    """The text of each assistant message in ``items``."""
    return ["".join(c.text for c in i.content) for i in items if i.type == "assistant_message"]


@pytest.mark.slow
def test_a_run_click_sent_as_a_comm_message_runs_the_code_on_the_main_thread(
    kernel: Kernel,
) -> None:
    kernel.load(f"[{run_python('record()')}, {answer('It ran.')}]", *RECORDER)
    button = show_panel_with_card(kernel)

    click(kernel, button)
    # Not panel.wait(): it would hold the main thread the code waits for (see the next test).
    ran = kernel.poll("print(ran)", lambda output: output.strip() != "[]")
    assert ran.strip() == "['MainThread']"
    kernel.run("panel.wait()")  # the answer after the code (it needs no main thread)
    assert kernel.run("print(ran, len(model.calls))").split() == ["['MainThread']", "2"]
    assert '\\"status\\": \\"ok\\"' in kernel.model_input(1)
    assert kernel.run(RUN_BUTTONS).strip() == "[]"  # the card is decided: no Run button left
    kernel.close()

    items = stored_items(kernel.store_path)
    assert answers(items) == ["It ran."]
    (card,) = card_texts(items)
    assert "Approved at" in card
    assert '"confirm"' not in card


@pytest.mark.slow
def test_panel_wait_in_a_cell_after_a_run_click_lets_the_code_run(kernel: Kernel) -> None:
    kernel.load(f"[{run_python('record()')}, {answer('It ran.')}]", *RECORDER)
    button = show_panel_with_card(kernel)

    click(kernel, button)
    # The click is handled before this cell runs (the shell channel is served in order).
    status, output = kernel.try_run("panel.wait(timeout=15)\nprint(ran)")
    assert status == "ok", output
    assert output.strip() == "['MainThread']"


@pytest.mark.slow
def test_the_interrupt_button_stops_approved_code_and_the_answer_goes_on(
    kernel: Kernel,
) -> None:
    # The code tells the test it started by connecting to it: no marker file to poll.
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(HANG)
    port = listener.getsockname()[1]
    started = f"__import__('socket').create_connection(('127.0.0.1', {port})).close()"
    code = f"import time\n{started}\ntime.sleep(600)"
    kernel.load(
        f"[{run_python(code)}, {answer('It was stopped.')}]",
        "chatkit_notebook.configure(run_python='auto', run_timeout=600)",
    )
    try:
        request = kernel.client.execute("%chat compute it")
        connection, _ = listener.accept()  # the code is running (inside the %chat cell)
        connection.close()
        kernel.manager.interrupt_kernel()
        outputs = kernel.outputs_until_idle(request)
        reply = kernel.client.get_shell_msg(timeout=HANG)
    finally:
        listener.close()

    assert reply["parent_header"]["msg_id"] == request
    # The interrupt stopped the code, not the answer: the model heard, and answered.
    assert reply["content"]["status"] == "ok"
    shown = "".join(_text(m) for m in outputs)
    assert "Python stopped after" in shown
    assert "by the kernel's interrupt" in shown
    assert "It was stopped." in shown
    assert kernel.run("print(len(model.calls))").strip() == "2"
    after = kernel.model_input(1)
    assert '\\"status\\": \\"stopped\\"' in after
    assert "the kernel's interrupt" in after

    # The kernel stays usable, and its interrupt button still stops an ordinary cell.
    assert kernel.run("print(1 + 1)").strip() == "2"
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(HANG)
    port = listener.getsockname()[1]
    try:
        request = kernel.client.execute(
            "import signal, socket, time\nprint('SIGINT:', signal.getsignal(signal.SIGINT))\n"
            f"socket.create_connection(('127.0.0.1', {port})).close()\ntime.sleep(600)"
        )
        connection, _ = listener.accept()
        connection.close()
        kernel.manager.interrupt_kernel()
        try:
            reply = kernel.client.get_shell_msg(timeout=HANG)
        except queue.Empty:  # say what the kernel was doing (CI once saw this, under load)
            shown = [_text(m) for m in kernel.client.iopub_channel.get_msgs()][:40]
            alive = kernel.manager.is_alive()
            msg = f"no reply to the interrupted cell; alive={alive}; {shown}"
            raise AssertionError(msg) from None
    finally:
        listener.close()
    assert reply["parent_header"]["msg_id"] == request
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert kernel.run("print(1 + 1)").strip() == "2"


@pytest.mark.slow
def test_the_interrupt_button_stops_code_a_panel_click_runs_between_cells(
    kernel: Kernel,
) -> None:
    # No cell runs while the kernel's own loop runs the code: SIGINT reaches it only
    # because the run installs Python's handler (ipykernel ignores SIGINT between cells).
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(HANG)
    port = listener.getsockname()[1]
    started = f"__import__('socket').create_connection(('127.0.0.1', {port})).close()"
    code = f"import time\nrecord()\n{started}\ntime.sleep(600)"
    kernel.load(f"[{run_python(code)}, {answer('It was stopped.')}]", *RECORDER)
    button = show_panel_with_card(kernel)
    try:
        click(kernel, button)
        connection, _ = listener.accept()  # the code is running, between cells
        connection.close()
        # Meanwhile the panel's step says how to stop it (a widget update on iopub): the
        # kernel is busy, and the panel's Stop, a widget click, would wait for it.
        hint = "interrupt button (\\u25a0) stops it"  # the title, as HTML (escaped quotes)
        hint_shown = _iopub_text_until(kernel, hint)
        kernel.manager.interrupt_kernel()
    finally:
        listener.close()
    assert hint_shown

    # This cell runs once the code has stopped (it waits for the main thread until then).
    assert kernel.run("panel.wait()\nprint(ran, len(model.calls))").split() == [
        "['MainThread']",
        "2",
    ]
    after = kernel.model_input(1)
    assert '\\"status\\": \\"stopped\\"' in after
    assert "the kernel's interrupt" in after
    assert kernel.run("print(1 + 1)").strip() == "2"
    kernel.close()

    items = stored_items(kernel.store_path)
    assert answers(items) == ["It was stopped."]


@pytest.mark.slow
def test_without_a_front_end_chat_declines_the_code_and_says_how_to_allow_it(
    kernel: Kernel,
) -> None:
    kernel.load(f"[{run_python('record()')}, {answer('I could not run it.')}]", *RECORDER)
    assert kernel.run("print(chatkit_notebook.config.run_settings().mode)").strip() == "ask"

    status, shown = kernel.try_run("%chat compute it")  # returns: nobody is left waiting

    assert status == "ok", shown
    assert "I could not run it." in shown
    assert kernel.run("print(ran, len(model.calls))").split() == ["[]", "2"]
    after = kernel.model_input(1)
    assert "%chatkit run auto" in after
    assert "nobody could give it here" in after
    kernel.close()

    (card,) = card_texts(stored_items(kernel.store_path))
    assert "nobody could approve it here" in card
    assert '"confirm"' not in card  # decided: no Run button left to click later
