"""The notebook tools in a real kernel: cells, outputs and the last error, as a model gets them.

Each test starts an ipykernel (``Kernel`` from ``test_run_python_kernel``), loads the
extension, runs cells as a front end would, and gives the server a ``ScriptedModel`` whose
tool calls the test scripts; what the model received (``model.calls[i].input``) is read
back from the kernel. Nothing calls a real model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from stored import stored_items
from test_run_python_kernel import Kernel, answer, run_python

SECRET_KEY = "sk-proj-" + "Q7vXw2Lm9Pz4Rt6Yb8Nc1Kd3Hf5Jg0Ts"
PASSWORD = "hunter2-" + "blue-ocean-42"
CONNECTION = f"postgresql://analyst:{PASSWORD}@db.internal:5432/sales"
HIDDEN_NOTE = "Salary review " + "for Jane Roe: 98,000"


def tool_call(name: str, arguments: dict[str, object], call_id: str = "call_1") -> str:
    """A model step (as kernel code) that calls the tool ``name``."""
    return f"[function_call({name!r}, {arguments!r}, call_id={call_id!r})]"


def steps(*parts: str) -> str:
    return "[" + ", ".join(parts) + "]"


def tool_output(kernel: Kernel, call: int, call_id: str = "call_1") -> dict[str, object]:
    """The tool result the model got back on its ``call``-th request, parsed."""
    items = json.loads(kernel.model_input(call))
    (output,) = [
        item
        for item in items
        if isinstance(item, dict)
        and item.get("type") == "function_call_output"
        and item["call_id"] == call_id
    ]
    result = json.loads(output["output"])
    assert isinstance(result, dict)
    return result


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    started = Kernel(tmp_path / "kernel.chatkit.json")
    try:
        yield started
    finally:
        started.close()


FRAME = (
    "import pandas as pd\ndf = pd.DataFrame({'region': ['north', 'south'], 'revenue': [120, 80]})"
)
FAILING = "subtotal = 1\ntotal = df['revenu'].sum()"


def test_a_misspelled_column_reaches_the_model_with_its_line_and_the_frame(
    kernel: Kernel,
) -> None:
    kernel.load(steps(tool_call("last_error", {}), answer("The column is 'revenue'.")))
    kernel.run(FRAME)
    status, shown = kernel.try_run(FAILING)
    assert status == "error"
    assert "KeyError" in shown
    kernel.run("%chat why did this fail?")

    # The %chat right after the error carried it: read for the model before it ran.
    first = kernel.model_input(0)
    assert "last_error" in first
    assert "revenu" in first
    assert "Error in cell [" in first  # the tag the question carries

    result = tool_output(kernel, 1)
    assert result["raised"] is True
    assert result["line"] == 2
    data = result["untrusted_notebook_data"]
    assert isinstance(data, dict)
    assert data["exception"] == "KeyError"
    assert data["message"] == "'revenu'"
    assert data["failing_line"] == "total = df['revenu'].sum()"
    assert "-> " in data["cell_source"]
    assert "total = df['revenu'].sum()" in data["cell_source"]
    frames = data["frames"]
    assert frames[0].startswith(f"cell [{result['cell']}], line 2")
    assert any(f.startswith("…") and f.endswith("in pandas") for f in frames)  # summarised
    preview = data["variables"]["df"]
    assert preview["type"] == "pandas.DataFrame"
    assert "revenue" in json.dumps(preview)  # the right name, for the model to see
    assert "subtotal" not in data["variables"]  # not on the failing line


def test_after_a_cell_that_succeeds_there_is_no_error(kernel: Kernel) -> None:
    kernel.load(steps(tool_call("last_error", {}), answer("Nothing failed.")))
    kernel.run(FRAME)
    kernel.try_run(FAILING)
    kernel.run("total = df['revenue'].sum()")  # fixed
    kernel.run("%chat did anything fail?")

    assert "last_error" not in kernel.model_input(0)  # no error tag: nothing attached
    result = tool_output(kernel, 1)
    assert result["raised"] is False
    assert "ran without error" in str(result["status"])
    assert "revenu'" not in json.dumps(result)


def test_notebook_cells_come_in_notebook_order_with_outputs_bounded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "analysis.ipynb"
    sources = [
        ("markdown", "# Sales\nThe regions' revenue."),
        ("code", FRAME),
        ("code", "print('x' * 100_000)"),
        ("code", "df.describe()"),
        ("code", "never_run = 1"),
    ]
    book = nbformat.v4.new_notebook()
    for kind, source in sources:
        maker = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        book.cells.append(maker(source))
    book.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 100_000)]
    book.cells[2].execution_count = 2
    nbformat.write(book, path)

    kernel = Kernel(tmp_path / "kernel.chatkit.json", JPY_SESSION_NAME=str(path))
    try:
        kernel.load(steps(tool_call("notebook_cells", {}), answer("Read.")))
        for _, source in sources[1:4]:
            kernel.run(source)
        kernel.run("%chat what did I do?")
        result = tool_output(kernel, 1)
    finally:
        kernel.close()

    assert len(json.dumps(result, ensure_ascii=False)) <= 16_000
    # The saved file's five cells, then two the kernel ran that it does not hold (the
    # test's set-up); the %chat cell still running is not one yet.
    assert result["count"] == 7
    assert result["pages"] == 1
    cells = result["untrusted_notebook_data"]["cells"]  # type: ignore[index]
    assert [c["kind"] for c in cells] == ["markdown"] + ["code"] * 6
    assert [c["source"] for c in cells[:5]] == [source for _, source in sources]
    assert cells[5]["source"] == "%load_ext chatkit_notebook"
    assert cells[6]["source"].startswith("import json")
    assert [c.get("state") for c in cells] == [
        None,
        "ran",
        "ran",
        "ran",
        "not run in this kernel",
        "ran in the kernel; not in the saved file",
        "ran in the kernel; not in the saved file",
    ]
    assert [c["cell"] for c in cells] == list(range(1, 8))
    printed = cells[2]["outputs"][0]
    assert printed.startswith("stdout: xxx")
    assert len(printed) < 500
    described = cells[3]["outputs"][0]
    assert "DataFrame" in described  # the kernel's result, as a type and size
    assert cells[1]["source_from"] == "saved file"


def test_a_secret_in_a_cell_leaks_through_none_of_the_tools(kernel: Kernel) -> None:
    kernel.load(
        steps(
            tool_call("notebook_cells", {}, "call_1"),
            tool_call("read_cell", {"cell": 3, "by_execution_count": True}, "call_2"),
            tool_call("last_error", {}, "call_3"),
            answer("Done."),
        )
    )
    kernel.run(f"api_key = {SECRET_KEY!r}")  # [3]: load is [1], the model [2]
    kernel.run(f"conn = {CONNECTION!r}\nprint('connecting to', conn)")
    kernel.run(f"note = {HIDDEN_NOTE!r}\nprint(note)")
    kernel.run("%chatkit hide note")
    kernel.try_run("raise ValueError('rejected key ' + api_key + ' for ' + conn)")
    kernel.run("%chat what happened?")

    seen = " ".join(kernel.model_input(call) for call in range(4))
    for result in (tool_output(kernel, 1, "call_1"), tool_output(kernel, 2, "call_2")):
        assert "untrusted_notebook_data" in result
    assert "REDACTED" in seen
    listed = json.dumps(tool_output(kernel, 1, "call_1"), ensure_ascii=False)
    assert "stdout: connecting to postgresql://analyst:[REDACTED" in listed  # printed, kept
    for secret in (SECRET_KEY, PASSWORD, HIDDEN_NOTE, "Jane Roe"):
        assert secret not in seen, secret
    kernel.close()
    stored = json.dumps([item.model_dump(mode="json") for item in stored_items(kernel.store_path)])
    for secret in (SECRET_KEY, PASSWORD, HIDDEN_NOTE):
        assert secret not in stored


def test_a_fix_tried_on_copies_leaves_the_users_frame_unchanged(kernel: Kernel) -> None:
    fix = "df['revenu'] = df['revenue']\ntotal = df['revenu'].sum()\ntotal"
    kernel.load(
        steps(
            tool_call("last_error", {}, "call_1"),
            run_python(fix, "call_2"),
            answer("Renamed on a copy: it ran cleanly."),
        ),
        "chatkit_notebook.configure(run_python='auto')",
    )
    kernel.run(FRAME)
    kernel.try_run(FAILING)
    kernel.run("%chat fix it")

    tried = tool_output(kernel, 2, "call_2")
    assert "error" not in tried, tried
    assert "200" in json.dumps(tried)  # the fix ran on the copy: 120 + 80
    assert kernel.run("print(list(df.columns), 'total' in globals())") == (
        "['region', 'revenue'] False\n"
    )


def test_the_panel_reads_the_last_error_too(kernel: Kernel) -> None:
    kernel.load(steps(tool_call("last_error", {}), answer("The column is 'revenue'.")))
    kernel.run(FRAME)
    kernel.try_run(FAILING)
    kernel.run(
        "panel = chatkit_notebook.kernel.session.loaded().panel()\n"
        "display(panel)\n"
        "panel.send('why did my last cell fail?')\n"
        "panel.wait()"
    )
    result = tool_output(kernel, 1)
    assert result["raised"] is True
    assert result["untrusted_notebook_data"]["failing_line"] == "total = df['revenu'].sum()"  # type: ignore[index]
