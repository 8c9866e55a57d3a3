"""A real kernel: "Ask about this error" under a failing cell, where it shows, and its click.

Each test starts an ipykernel through ``jupyter_client`` (no network: the model is a
``ScriptedModel`` assigned inside the kernel). A kernel with ``JPY_SESSION_NAME`` is one
Jupyter Server started (JupyterLab, Notebook 7), where a person can click; without it, as
under nbclient, nbval and papermill, nobody can, and the line must not be shown. A notebook
run by nbclient itself and a terminal IPython are checked too. The click is the same
``comm_msg`` a browser sends. Timeouts here only detect hangs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from stored import stored_items
from test_run_python_kernel import HANG, Kernel, answer, click

FAILING = "df['regoin']"
FIXED = "df['region']"
ANSWER = f"The column is `region`, not `regoin`.\n\n```python\n{FIXED}\n```"
SETUP = "import pandas as pd\ndf = pd.DataFrame({'region': ['North', 'South'], 'units': [3, 5]})"

# Kernel code: the error lines shown so far (ipywidgets keeps every live widget).
LINES = """
from ipywidgets.widgets.widget import _instances
from chatkit_notebook.panel.errorline import ErrorLine
lines = [w for w in list(_instances.values()) if isinstance(w, ErrorLine)]
"""


def widget_classes(messages: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The CSS classes each widget a cell made was given, by comm id."""
    classes: dict[str, list[str]] = {}
    for message in messages:
        if message["msg_type"] in ("comm_open", "comm_msg"):
            state = message["content"]["data"].get("state", {})
            if "_dom_classes" in state:
                classes[message["content"]["comm_id"]] = state["_dom_classes"]
    return classes


def shown_widgets(messages: list[dict[str, Any]]) -> list[str]:
    """The model ids of the widgets a cell displayed as outputs."""
    return [
        m["content"]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
        for m in messages
        if m["msg_type"] == "display_data"
        and "application/vnd.jupyter.widget-view+json" in m["content"]["data"]
    ]


def run_cell(kernel: Kernel, code: str, *, cell_id: str | None = "cell-id") -> list[dict[str, Any]]:
    """Run ``code`` as JupyterLab and Notebook 7 do, with the cell's id in the request's
    metadata (``cell_id=None``: as nbclient, nbval and papermill do, without); every iopub
    message it caused, until the kernel is idle."""
    content = {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }
    metadata = {"cellId": cell_id} if cell_id is not None else {}
    request = kernel.client.session.msg("execute_request", content, metadata=metadata)
    kernel.client.shell_channel.send(request)
    return kernel.outputs_until_idle(request["header"]["msg_id"])


def said(messages: list[dict[str, Any]]) -> str:
    """What a cell printed."""
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")


def error_line(messages: list[dict[str, Any]]) -> str | None:
    """The comm id of the "Ask about this error" button the cell showed, or ``None``."""
    classes = widget_classes(messages)
    lines = [w for w in shown_widgets(messages) if "ck-error-line" in classes.get(w, [])]
    if not lines:
        return None
    assert len(lines) == 1, f"one line per failing cell, not {len(lines)}"
    (ask,) = [comm for comm, names in classes.items() if "ck-error-ask" in names]
    return ask


@pytest.fixture
def notebook_kernel(tmp_path: Path) -> Iterator[Kernel]:
    """A kernel as Jupyter Server starts it for a notebook: a person can click."""
    started = Kernel(tmp_path / "kernel.chatkit.json", JPY_SESSION_NAME=str(tmp_path / "nb.ipynb"))
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def unattended_kernel(tmp_path: Path) -> Iterator[Kernel]:
    """A kernel as nbclient starts it: no ``JPY_SESSION_NAME``, nobody to click."""
    started = Kernel(tmp_path / "kernel.chatkit.json")
    try:
        yield started
    finally:
        started.close()


@pytest.mark.slow
def test_a_cell_failing_on_a_misspelled_column_shows_the_line_and_one_that_works_none(
    notebook_kernel: Kernel,
) -> None:
    notebook_kernel.run("%load_ext chatkit_notebook")
    notebook_kernel.run(SETUP)

    failed = run_cell(notebook_kernel, FAILING)
    worked = run_cell(notebook_kernel, FIXED)

    assert any(m["msg_type"] == "error" for m in failed)
    assert error_line(failed) is not None
    kinds = [m["msg_type"] for m in failed if m["msg_type"] in ("error", "display_data")]
    assert kinds == ["error", "display_data"]  # the line comes under the traceback
    assert error_line(worked) is None
    assert shown_widgets(worked) == []


@pytest.mark.slow
def test_chatkit_errors_off_and_on_take_the_line_away_and_back(notebook_kernel: Kernel) -> None:
    notebook_kernel.run("%load_ext chatkit_notebook")

    said_off = said(run_cell(notebook_kernel, "%chatkit errors off"))
    off = run_cell(notebook_kernel, "1 / 0")
    said_on = said(run_cell(notebook_kernel, "%chatkit errors on"))
    on = run_cell(notebook_kernel, "1 / 0")
    own = run_cell(
        notebook_kernel, "from chatkit_notebook.errors import ConfigError\nraise ConfigError('x')"
    )
    configured_off = notebook_kernel.run(
        "import chatkit_notebook\nchatkit_notebook.configure(error_help=False)\n"
        "print(chatkit_notebook.config.error_help_enabled())"
    )

    assert "%chatkit errors on brings it back" in said_off
    assert error_line(off) is None
    assert "Ask about this error" in said_on
    assert error_line(on) is not None
    assert any(m["msg_type"] == "error" for m in own)
    assert error_line(own) is None  # the package's own errors say their fix themselves
    assert configured_off.strip() == "False"
    status, shown = notebook_kernel.try_run("%chatkit errors maybe")
    assert status == "ok"
    assert "invalid choice: 'maybe'" in shown
    notebook_kernel.run("chatkit_notebook.configure(error_help=True)\n%unload_ext chatkit_notebook")
    assert error_line(run_cell(notebook_kernel, "1 / 0")) is None  # the hook left with it


@pytest.mark.slow
def test_without_anyone_to_click_a_failing_cell_gets_no_line(unattended_kernel: Kernel) -> None:
    unattended_kernel.run("%load_ext chatkit_notebook")
    unattended_kernel.run(SETUP)

    failed = run_cell(unattended_kernel, FAILING)
    status = said(run_cell(unattended_kernel, "%chatkit errors"))

    assert any(m["msg_type"] == "error" for m in failed)
    assert shown_widgets(failed) == []
    assert widget_classes(failed) == {}  # not even made
    assert "no line is shown here" in status


@pytest.mark.slow
def test_a_harness_naming_the_notebook_but_sending_no_cell_ids_gets_no_line(
    notebook_kernel: Kernel,
) -> None:
    # nbval runs are often given JPY_SESSION_NAME (this repository's notebooks/conftest.py
    # does): the kernel looks like Jupyter Server's, but its cells come without cell ids.
    notebook_kernel.run("%load_ext chatkit_notebook")

    failed = run_cell(notebook_kernel, FAILING, cell_id=None)
    status = said(run_cell(notebook_kernel, "%chatkit errors", cell_id=None))

    assert any(m["msg_type"] == "error" for m in failed)
    assert shown_widgets(failed) == []
    assert "no line is shown here" in status


@pytest.mark.slow
def test_a_notebook_run_by_nbclient_gets_no_widget_output(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext chatkit_notebook"),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(FAILING),
    ]
    env = {k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"}
    env["CHATKIT_NOTEBOOK_STORE"] = str(tmp_path / "nb.chatkit.json")
    client = NotebookClient(notebook, timeout=int(HANG), kernel_name="python3", allow_errors=True)

    client.execute(env=env)  # passed on to the kernel's start, as nbclient's own callers do

    outputs = notebook.cells[2].outputs
    assert [o["output_type"] for o in outputs] == ["error"]
    assert outputs[0]["ename"] == "KeyError"
    assert all(o.get("output_type") != "display_data" for c in notebook.cells for o in c.outputs)


@pytest.mark.slow
def test_terminal_ipython_shows_no_line(tmp_path: Path) -> None:
    script = f"%load_ext chatkit_notebook\n{SETUP}\n{FAILING}\nprint('after the error')\n"
    env = {**os.environ, "CHATKIT_NOTEBOOK_STORE": str(tmp_path / "t.chatkit.json")}
    env["JPY_SESSION_NAME"] = str(tmp_path / "nb.ipynb")  # even so: a terminal has no widgets
    ran = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--colors=nocolor", "--simple-prompt"],
        input=script,
        capture_output=True,
        text=True,
        timeout=HANG,
        env=env,
        check=False,
        cwd=tmp_path,
    )

    assert "KeyError" in ran.stdout + ran.stderr
    assert "after the error" in ran.stdout
    assert "Ask about this error" not in ran.stdout + ran.stderr


@pytest.mark.slow
def test_the_click_asks_in_the_current_thread_with_the_error_attached_and_offers_the_fix(
    notebook_kernel: Kernel,
) -> None:
    notebook_kernel.load(f"[{answer('First.')}, {answer(ANSWER)}]", SETUP)
    notebook_kernel.run("%chat what is in df?")  # the notebook's current thread
    failed = run_cell(notebook_kernel, FAILING)
    (count,) = [m["content"]["execution_count"] for m in failed if m["msg_type"] == "execute_input"]
    ask = error_line(failed)
    assert ask is not None

    click(notebook_kernel, ask)
    notebook_kernel.poll(LINES + "print(len(lines[-1].children))", lambda out: out.strip() == "3")
    notebook_kernel.run(LINES + "lines[-1].children[2].wait()")
    offered = notebook_kernel.poll(
        LINES + "print(lines[-1].fix_button is not None)", lambda out: out.strip() == "True"
    )
    notebook_kernel.run(LINES + "lines[-1].fix_button.click()")
    diff = notebook_kernel.run(LINES + "print(lines[-1]._fix_shown.value)")
    model_input = notebook_kernel.model_input(1)
    label = notebook_kernel.run(LINES + "print(lines[-1].ask_button.description)")
    inserted = notebook_kernel.client.execute_interactive(
        "%chatkit insert 1", timeout=HANG, output_hook=lambda m: None
    )
    notebook_kernel.close()

    assert offered.strip() == "True"
    assert label.strip() == "Asked below"
    assert "-df[&#x27;regoin&#x27;]" in diff
    assert "+df[&#x27;region&#x27;]" in diff
    assert "<code>%chatkit insert 1</code>" in diff  # the answer's one code block
    assert (
        f"[Error in cell [{count}]: KeyError: 'regoin': the user asks about the error cell "
        f"[{count}] raised; last_error was read for you" in model_input
    )
    (payload,) = inserted["content"]["payload"]
    assert payload["source"] == "set_next_input"
    assert payload["text"].strip() == FIXED
    items = stored_items(notebook_kernel.store_path)
    questions = [i for i in items if i.type == "user_message"]
    assert len(questions) == 2  # one thread: the %chat question, then the click's
    asked = questions[-1]
    assert asked.content[0].text == f"Why did cell [{count}] fail?"
    (tag,) = [part for part in asked.content if part.type == "input_tag"]
    assert tag.data["kind"] == "error"
    assert tag.text == f"Error in cell [{count}]: KeyError: 'regoin'"
    assert tag.data["cell"] == count


@pytest.mark.slow
def test_a_secret_in_the_error_message_reaches_neither_the_thread_nor_the_model(
    notebook_kernel: Kernel,
) -> None:
    secret = "sk-live-0123456789abcdef0123456789abcdef"  # noqa: S105 (a test key)
    notebook_kernel.load(f"[{answer('Check the key.')}]")
    failed = run_cell(
        notebook_kernel, f"api_key = {secret!r}\nraise ValueError(f'refused {{api_key}}')"
    )
    ask = error_line(failed)
    assert ask is not None

    click(notebook_kernel, ask)
    notebook_kernel.poll(LINES + "print(len(lines[-1].children))", lambda out: out.strip() == "3")
    notebook_kernel.run(LINES + "lines[-1].children[2].wait()")
    model_input = notebook_kernel.model_input(0)
    notebook_kernel.close()

    assert "ValueError: refused" in model_input
    assert secret not in model_input
    items = stored_items(notebook_kernel.store_path)
    assert secret not in json.dumps([i.model_dump(mode="json") for i in items])


@pytest.mark.slow
def test_chatkit_insert_shows_the_diff_against_the_cell_asked_about(
    notebook_kernel: Kernel,
) -> None:
    notebook_kernel.load(f"[{answer(ANSWER)}]", SETUP)
    failed = run_cell(notebook_kernel, FAILING)
    ask = error_line(failed)
    assert ask is not None
    click(notebook_kernel, ask)
    notebook_kernel.poll(LINES + "print(len(lines[-1].children))", lambda out: out.strip() == "3")
    notebook_kernel.run(LINES + "lines[-1].children[2].wait()")

    shown: list[dict[str, Any]] = []
    reply = notebook_kernel.client.execute_interactive(
        "%chatkit insert 1", timeout=HANG, output_hook=shown.append
    )

    (display,) = [m["content"]["data"] for m in shown if m["msg_type"] == "display_data"]
    text = display["text/plain"].splitlines()
    assert text[0].startswith("The fix changes cell [")
    assert f"-{FAILING}" in text
    assert f"+{FIXED}" in text
    assert "ck-diff-del" in display["text/html"]
    assert "<script" not in display["text/html"]
    (payload,) = reply["content"]["payload"]
    assert payload["text"].strip() == FIXED
    assert payload["replace"] is True
