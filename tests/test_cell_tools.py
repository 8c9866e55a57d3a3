"""The notebook tools in process: the record of cells, paging, the error's parts, the off switch.

Cells run here as IPython runs them, compiled under a file name of their own (registered
with ``linecache``) and executed in a namespace, so the exceptions and tracebacks are real;
the real-kernel tests (``test_cells_kernel.py``) cover the hooks that fill the record.
"""

from __future__ import annotations

import json
import linecache
import os
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.types import UserMessageItem, WorkflowItem
from scripted import ChatClient
from stored import read_items

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._client import ThreadState, message_request
from chatkit_notebook._items import error_tag, read_tool_result, tagged_error
from chatkit_notebook.agent.cell_tools import (
    CELL_TOOLS,
    compute_cells,
    compute_last_error,
    compute_read_cell,
)
from chatkit_notebook.agent.plan import plan_turn
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.config import configure, notebook_tools_enabled, reset_configuration
from chatkit_notebook.errors import ConfigError
from chatkit_notebook.previews.cells import CellRecord, error_of, names_read

SECRET = "sk-proj-" + "Zq8Wm3Xv7Lp2Rt5Yn9Kc4Hd6Jf1Gs0Ab"


def cell_of(filename: str) -> int | None:
    return int(filename[6:-1]) if filename.startswith("<cell-") else None


def run_cell(record: CellRecord, namespace: dict[str, Any], number: int, source: str) -> None:
    """Run ``source`` as cell [number] would run in IPython, and record it."""
    filename = f"<cell-{number}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    record.started()
    try:
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - a test's own cells
    except Exception as e:
        record.finished(number, source, error=error_of(e, cell_of))
    else:
        record.finished(number, source)


def data(result: str) -> Any:
    parsed = json.loads(result)
    assert len(result) <= 16_000
    return parsed


@pytest.fixture(autouse=True)
def _configuration() -> Any:
    reset_configuration()
    yield
    reset_configuration()


FRAME = "df = pd.DataFrame({'region': ['north', 'south'], 'revenue': [120, 80]})"


def test_an_error_keeps_the_user_frames_and_summarises_library_frames() -> None:
    record, namespace = CellRecord(), {"pd": pd}
    run_cell(record, namespace, 1, FRAME)
    run_cell(record, namespace, 2, "def total(frame):\n    return frame['revenu'].sum()\n")
    run_cell(record, namespace, 3, "x = 1\nresult = total(df)")
    error = record.last_error()
    assert error is not None
    assert (error.type_name, error.message, error.cell, error.line) == (
        "KeyError",
        "'revenu'",
        2,
        2,
    )
    assert error.line_text == "return frame['revenu'].sum()"
    user = [f for f in error.frames if f.is_user]
    assert [(f.cell, f.line, f.function) for f in user] == [(3, 2, "<module>"), (2, 2, "total")]
    (library,) = [f for f in error.frames if not f.is_user]
    assert library.library == "pandas"
    assert library.count >= 2  # several pandas frames, one summary
    assert list(error.names) == ["frame"]  # the failing frame's locals
    assert error.names["frame"] is namespace["df"]


def test_a_cell_that_succeeds_clears_the_last_error() -> None:
    record, namespace = CellRecord(), {"pd": pd}
    run_cell(record, namespace, 1, "1 / 0")
    assert record.last_error() is not None
    run_cell(record, namespace, 2, "y = 2")
    assert record.last_error() is None
    assert record.run_of(1).error is not None  # type: ignore[union-attr]


def test_names_read_leaves_out_attributes_keywords_and_argument_names() -> None:
    line = "total = df.groupby(by=key)['revenue'].sum() if ok else None"
    assert names_read(line) == ["total", "df", "key", "ok"]


def test_printed_text_is_kept_bounded_per_stream() -> None:
    record = CellRecord()
    record.started()
    for _ in range(10_000):
        record.printed("stdout", "0123456789")
    record.printed("stderr", "warning")
    run = record.finished(1, "print(...)")
    out, err = run.outputs
    assert (out.stream, err.stream) == ("stdout", "stderr")
    assert len(out.text) < 4100
    assert out.text.endswith("96,000 more characters")


def test_notebook_cells_pages_a_long_history_under_the_limit() -> None:
    record, namespace = CellRecord(), {"pd": pd}
    for number in range(1, 201):
        run_cell(record, namespace, number, f"v{number} = {number}\n# " + "note " * 100)
    nb = NotebookContext(namespace=namespace, cells=record)
    first = data(compute_cells(nb, 1).result)
    pages = first["pages"]
    assert pages > 1
    seen = []
    for page in range(1, pages + 1):
        result = data(compute_cells(nb, page).result)
        seen += [c["execution_count"] for c in result["untrusted_notebook_data"]["cells"]]
    assert seen == list(range(1, 201))  # every cell once, in order
    beyond = data(compute_cells(nb, pages + 1).result)
    assert (
        beyond["error"]
        == f"There is no page {pages + 1}: the notebook has {pages} page(s) of cells."
    )


def test_read_cell_by_position_and_by_execution_count() -> None:
    record, namespace = CellRecord(), {"pd": pd}
    run_cell(record, namespace, 4, "a = 1")
    run_cell(record, namespace, 9, "b = 2\n" * 3000)  # long: cut, and said so
    nb = NotebookContext(namespace=namespace, cells=record)
    by_count = data(compute_read_cell(nb, 9, by_execution_count=True).result)
    cell = by_count["untrusted_notebook_data"]
    assert cell["cell"] == 2
    assert cell["source_cut"].startswith("18,000 characters")
    assert len(cell["source"]) <= 10_001
    assert (
        data(compute_read_cell(nb, 1, by_execution_count=False).result)["untrusted_notebook_data"][
            "source"
        ]
        == "a = 1"
    )
    missing = data(compute_read_cell(nb, 5, by_execution_count=True).result)
    assert missing["error"] == "No cell with execution count [5]; the notebook has 2 cell(s)."
    assert "notebook_cells" in missing["hint"]


def test_last_error_hides_hidden_names_and_redacts_secrets_on_the_failing_line() -> None:
    record = CellRecord()
    namespace: dict[str, Any] = {"pd": pd, "salaries": [1, 2], "api_key": SECRET}
    run_cell(record, namespace, 1, FRAME)
    run_cell(record, namespace, 2, "connect(api_key, salaries, df['revenu'])")
    nb = NotebookContext(namespace=namespace, hidden={"salaries"}, cells=record)
    result = data(compute_last_error(nb).result)
    variables = result["untrusted_notebook_data"]["variables"]
    assert "salaries" not in variables  # hidden: as if it did not exist
    assert variables["api_key"] == {"type": "str", "value": "[REDACTED]"}
    assert result["untrusted_notebook_data"]["exception"] == "NameError"  # connect
    assert SECRET not in json.dumps(result)


def test_last_error_without_a_record_or_an_error_says_so() -> None:
    assert data(compute_last_error(NotebookContext()).result)["raised"] is None
    record = CellRecord()
    run_cell(record, {}, 1, "a = 1")
    quiet = data(compute_last_error(NotebookContext(cells=record)).result)
    assert quiet == {
        "tool": "last_error",
        "raised": False,
        "status": "The last cell ([1]) ran without error.",
        "notes": [],
        "untrusted_notebook_data": {},
    }


def test_a_saved_file_older_than_the_run_gives_way_to_the_kernel(tmp_path: Path) -> None:
    path = tmp_path / "analysis.ipynb"
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("a = 1"),
        nbformat.v4.new_code_cell("b = 2"),
    ]
    nbformat.write(book, path)
    os.utime(path, (1_000_000, 1_000_000))  # saved long before the runs below
    record, namespace = CellRecord(), {}
    run_cell(record, namespace, 1, "a = 1")
    run_cell(record, namespace, 2, "b = 3  # changed, not saved")
    nb = NotebookContext(namespace=namespace, notebook_path=path, cells=record)
    result = data(compute_cells(nb, 1).result)
    cells = result["untrusted_notebook_data"]["cells"]
    assert [c["source"] for c in cells] == [
        "# Title",
        "a = 1",
        "b = 2",
        "b = 3  # changed, not saved",
    ]
    assert [c["source_from"] for c in cells] == ["saved file", "saved file", "saved file", "kernel"]
    assert cells[2]["state"] == "not run in this kernel"
    assert any("the saved file is older than what ran" in note for note in result["notes"])


def test_hidden_values_printed_in_an_output_are_scrubbed(tmp_path: Path) -> None:
    path = tmp_path / "analysis.ipynb"
    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(report)")  # the values came through another name
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="Jane's raise: 12% hunter2hunter2\n")
    ]
    book.cells = [cell]
    nbformat.write(book, path)
    namespace = {"note": "Jane's raise: 12%", "password": "hunter2hunter2"}
    nb = NotebookContext(namespace=namespace, notebook_path=path, hidden={"note"})
    text = json.dumps(data(compute_cells(nb, 1).result))
    assert "Jane" not in text
    assert "hunter2" not in text
    assert "stdout: [REDACTED] [REDACTED]" in text


def test_the_off_switch_removes_the_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ScriptedModel([])

    def tool_names() -> set[str]:
        return {tool.name for tool in plan_turn(model, None, {}).agent.tools}

    cell_tool_names = {tool.name for tool in CELL_TOOLS}
    assert cell_tool_names == {"notebook_cells", "read_cell", "last_error"}
    assert cell_tool_names <= tool_names()
    configure(notebook_tools=False)
    assert not cell_tool_names & tool_names()
    assert "list_variables" in tool_names()  # variables only
    reset_configuration()
    monkeypatch.setenv("CHATKIT_NOTEBOOK_CELLS", "off")
    assert not notebook_tools_enabled()
    monkeypatch.setenv("CHATKIT_NOTEBOOK_CELLS", "maybe")
    with pytest.raises(ConfigError, match="CHATKIT_NOTEBOOK_CELLS must be 'on' or 'off'"):
        notebook_tools_enabled()
    with pytest.raises(ConfigError, match="notebook_tools must be True or False, not 'no'"):
        configure(notebook_tools="no")  # type: ignore[arg-type]


def test_the_error_tag_round_trips() -> None:
    tag = error_tag(7, "KeyError: 'revenu'")
    assert tag.text == "Error in cell [7]: KeyError: 'revenu'"
    message = UserMessageItem(
        id="m",
        thread_id="t",
        created_at="2026-12-07T00:00:00Z",  # type: ignore[arg-type]
        content=[tag],
        inference_options={},  # type: ignore[arg-type]
    )
    assert tagged_error(message) == (True, 7)


async def test_a_turn_about_an_error_saves_and_reloads_in_the_file_store(store_path: Path) -> None:
    record, namespace = CellRecord(), {"pd": pd}
    run_cell(record, namespace, 1, FRAME)
    run_cell(record, namespace, 2, "total = df['revenu'].sum()")
    model = ScriptedModel(
        [
            [function_call("last_error", {}, call_id="c1")],
            [assistant_message("The column is 'revenue'.")],
        ]
    )
    context = NotebookContext(namespace=namespace, cells=record)
    client = ChatClient(NotebookChatServer(NotebookStore(store_path), model=model), context)
    state = ThreadState()
    request = message_request(None, "why did this fail?", tags=[error_tag(2, "KeyError")])
    async for event in client.stream(request):
        state.apply(event)

    first = json.dumps(model.calls[0].input, default=str)
    assert "failing_line" in first  # the tag's error, read before the model ran
    steps = [i for i in state.items.values() if isinstance(i, WorkflowItem)]
    titles = [getattr(t, "title", "") for w in steps for t in w.workflow.tasks]
    assert "Read the error in cell [2]" in titles  # the tag's step and the tool's
    receipt = [t for t in titles if t.startswith("Read the error in cell [2] · ")]
    assert len(receipt) == 2  # the receipt lists both reads, by what they read
    items = await read_items(store_path)
    kept = [read_tool_result(i) for i in items]
    tools = [k.tool for k in kept if k is not None]
    assert tools == ["last_error", "last_error"]  # the tag's read and the model's call
    assert "Error in cell [2]" in json.dumps([i.model_dump(mode="json") for i in items])


def test_chat_after_an_error_carries_it_unless_the_cells_are_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from chatkit_notebook.kernel.session import loaded

    monkeypatch.setenv("CHATKIT_NOTEBOOK_STORE", str(tmp_path / "nb.chatkit.json"))
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "chatkit_notebook")
    try:
        session = loaded()
        assert session is not None
        model = ScriptedModel([[assistant_message("A zero.")], [assistant_message("Again.")]])
        session.server().model = model
        with capture_output():
            shell.run_cell("ratio = 1 / 0", store_history=True)  # as a kernel runs cells
            shell.run_cell("%chat why did this fail?", store_history=True)
        sent = json.dumps(model.calls[0].input, default=str)
        assert "ZeroDivisionError" in sent
        assert "ratio = 1 / 0" in sent  # the failing line, read before the model ran
        with capture_output() as said:
            shell.run_cell("%chatkit cells off")
        assert said.stdout.startswith("The agent reads variables only")
        with capture_output():
            shell.run_cell("%chatkit new", store_history=True)
            shell.run_cell("ratio = 1 / 0", store_history=True)
            shell.run_cell("%chat why did this fail?", store_history=True)
        assert "ZeroDivisionError" not in json.dumps(model.calls[1].input, default=str)
        assert "last_error" not in {tool.name for tool in model.calls[1].tools}
    finally:
        shell.run_line_magic("unload_ext", "chatkit_notebook")


def test_only_the_newest_error_keeps_the_values_its_line_read() -> None:
    record, namespace = CellRecord(), {"pd": pd}
    run_cell(record, namespace, 1, "def f():\n    big = list(range(10))\n    return big[99]\n")
    run_cell(record, namespace, 2, "f()")
    first = record.last_error()
    assert first is not None
    assert list(first.names) == ["big"]
    run_cell(record, namespace, 3, "1 / 0")
    older = record.run_of(2)
    assert older is not None
    assert older.error is not None
    assert older.error.names == {}  # let go: nobody asks about it any more
    assert older.error.line_text == "return big[99]"  # the rest is kept


def test_the_chats_own_cells_do_not_hide_the_last_error() -> None:
    record, namespace = CellRecord(), {"pd": pd}
    run_cell(record, namespace, 1, "1 / 0")
    for number, source in ((2, "%chatkit run auto"), (3, "%chat"), (4, "%%chat\nwhy?")):
        record.started()
        record.finished(number, source)
    error = record.last_error()
    assert error is not None
    assert error.type_name == "ZeroDivisionError"
    run_cell(record, namespace, 5, "chatty = 1")  # a cell of the user's: it succeeded
    assert record.last_error() is None


def test_listeners_hear_each_run_until_they_stop() -> None:
    record, heard = CellRecord(), []

    def broken(run: object) -> None:
        raise RuntimeError("a listener's bug")

    stop = record.listen(heard.append)
    record.listen(broken)  # logged, never raised into the cell
    run_cell(record, {}, 1, "1 / 0")
    run_cell(record, {}, 2, "a = 1")
    stop()
    run_cell(record, {}, 3, "b = 2")
    assert [(run.number, run.ok) for run in heard] == [(1, False), (2, True)]


def test_a_secret_cut_by_an_outputs_limit_shows_no_part_of_itself(tmp_path: Path) -> None:
    path = tmp_path / "analysis.ipynb"
    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(report)")
    printed = "x" * 390 + " " + SECRET + "\n" + "y" * 20_000 + " " + SECRET  # at the cut, past it
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    book.cells = [cell]
    nbformat.write(book, path)
    nb = NotebookContext(notebook_path=path)
    for result in (compute_cells(nb, 1).result, compute_read_cell(nb, 1, False).result):
        shown = json.dumps(data(result))
        assert "sk-proj" not in shown  # not even the start the cut left
        assert "xxxx" in shown


def test_the_outputs_of_a_cell_that_uses_a_hidden_variable_are_withheld() -> None:
    record = CellRecord()
    customers = pd.DataFrame({"name": ["Jane Roe"], "spend": [1234]})
    namespace: dict[str, Any] = {"pd": pd, "customers": customers, "customers_total": 1}
    for number, source, shown in (
        (1, "customers.head()", "Jane Roe  1234"),
        (2, "customers_total", "1"),
    ):
        record.started()
        record.displayed({"text/plain": shown})
        record.finished(number, source)
    nb = NotebookContext(namespace=namespace, hidden={"customers"}, cells=record)
    cells = data(compute_cells(nb, 1).result)["untrusted_notebook_data"]["cells"]
    assert cells[0]["outputs"] == ["[outputs withheld: this cell uses a variable the user hid]"]
    assert cells[1]["outputs"] == ["1"]  # another name that only starts the same
    full = json.dumps(data(compute_read_cell(nb, 1, by_execution_count=True).result))
    assert "Jane" not in full
