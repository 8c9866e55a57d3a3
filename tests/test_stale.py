"""Stale marks: an answer says when a variable it read has changed since.

Through the real server and panel on a real IPython shell with the extension loaded (its
``post_run_cell`` hook is the one a kernel runs), a scripted model, and the fingerprints
themselves (a property test: any single-value edit of a frame or an array is noticed).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.types import AssistantMessageContent, AssistantMessageItem, UserMessageItem
from hypothesis import given, settings
from hypothesis import strategies as st
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from stored import stored_items

import chatkit_notebook
from chatkit_notebook import NotebookContext
from chatkit_notebook._items import read_sources
from chatkit_notebook.agent.sources import TurnSources
from chatkit_notebook.kernel.session import ChatSession
from chatkit_notebook.kernel.staleness import StaleWatch, touched_names
from chatkit_notebook.panel.panel import ChatPanel
from chatkit_notebook.panel.views import AssistantMessageView
from chatkit_notebook.previews.fingerprint import change_note, fingerprint, same


@pytest.fixture(name="shell")
def shell_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("CHATKIT_NOTEBOOK_STORE", str(tmp_path / "nb.chatkit.json"))
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "chatkit_notebook")
    yield ip
    ip.run_line_magic("unload_ext", "chatkit_notebook")


def session() -> ChatSession:
    loaded = chatkit_notebook.kernel.session.loaded()
    assert loaded is not None
    return loaded


def read_sales_then(*answers: str) -> ScriptedModel:
    """A model that reads ``sales`` and answers, once per answer given."""
    steps: list[list[Any]] = []
    for n, answer in enumerate(answers):
        steps.append([function_call("describe_variable", {"name": "sales"}, call_id=f"c{n}")])
        steps.append([assistant_message(answer)])
    return ScriptedModel(steps)


def answer_views(panel: ChatPanel) -> list[AssistantMessageView]:
    return [v for v in panel._thread.views.values() if isinstance(v, AssistantMessageView)]


def stale_lines(panel: ChatPanel) -> list[list[str]]:
    panel.wait()
    return [list(view._answer.stale) for view in answer_views(panel)]


@pytest.fixture(name="asked")
def asked_fixture(shell: InteractiveShell) -> ChatPanel:
    """`sales` (3 rows) read by one answer, shown in a panel."""
    shell.run_cell('import pandas as pd\nsales = pd.DataFrame({"amount": [120.0, 80.0, 95.0]})')
    session().server().model = read_sales_then("North sold 120.", "Again: north, 120.")
    with capture_output():
        shell.run_line_magic("chat", "Which region sold most?")
    panel = session().panel()
    panel.wait()
    assert stale_lines(panel) == [[]]
    return panel


def test_the_answer_keeps_the_fingerprint_of_what_it_read(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    made = shell.execution_count  # the shell is shared: its count goes on across tests
    shell.run_cell('import pandas as pd\nsales = pd.DataFrame({"amount": [1.0, 2.0]})')
    session().server().model = read_sales_then("Two rows.")
    with capture_output():
        shell.run_line_magic("chat", "How many rows?")
    (answer,) = [
        i for i in stored_items(tmp_path / "nb.chatkit.json") if isinstance(i, AssistantMessageItem)
    ]
    kept = read_sources(answer)  # read back from the file, as a restarted kernel would
    assert list(kept) == ["sales"]
    assert kept["sales"]["shape"] == [2, 1]
    assert kept["sales"]["columns"] == [["amount", "float64"]]
    assert kept["sales"]["cell"] == made  # the cell that made it
    assert same(kept["sales"], fingerprint(shell.user_ns["sales"]))


def test_an_in_place_edit_marks_the_answer_stale_and_another_cell_does_not(
    shell: InteractiveShell, asked: ChatPanel
) -> None:
    shell.run_cell("other = [1, 2, 3]\nother.append(4)")
    assert stale_lines(asked) == [[]]  # a cell that touches something else
    shell.run_cell('sales.loc[0, "amount"] = 999.0')
    assert stale_lines(asked) == [["`sales` changed since this answer (values changed)"]]
    shell.run_cell('sales.loc[0, "amount"] = 120.0')  # back as it was: no longer stale
    assert stale_lines(asked) == [[]]
    shell.run_cell("sales.drop(index=[2], inplace=True)")
    assert stale_lines(asked) == [["`sales` changed since this answer (3 \u2192 2 rows)"]]


def test_an_edit_inside_a_magic_counts(shell: InteractiveShell, asked: ChatPanel) -> None:
    shell.run_cell('%time sales.loc[0, "amount"] = 1.0')
    assert stale_lines(asked) == [["`sales` changed since this answer (values changed)"]]


def test_deleting_the_variable_counts(shell: InteractiveShell, asked: ChatPanel) -> None:
    shell.run_cell("del sales")
    assert stale_lines(asked) == [["`sales` was deleted since this answer"]]


def test_a_change_through_another_name_is_found_at_the_next_check(
    shell: InteractiveShell, asked: ChatPanel
) -> None:
    shell.run_cell('view = sales\nview.loc[1, "amount"] = 0.0')
    assert stale_lines(asked) == [[]]  # the cell's code never names `sales`: not yet
    session().stale.recheck()  # what opening a thread or a new turn does
    assert stale_lines(asked) == [["`sales` changed since this answer (values changed)"]]


def test_ask_again_asks_the_same_question_in_a_new_turn(
    shell: InteractiveShell, asked: ChatPanel, tmp_path: Path
) -> None:
    shell.run_cell("sales.loc[3] = [50.0]")
    asked.wait()
    (view,) = answer_views(asked)
    assert view._answer.stale == ["`sales` changed since this answer (3 \u2192 4 rows)"]
    view._answer._handle(None, {"event": "ask_again"}, None)  # the button's message
    asked.wait()
    questions = [
        i.content[0].text
        for i in stored_items(tmp_path / "nb.chatkit.json")
        if isinstance(i, UserMessageItem)
    ]
    assert questions == ["Which region sold most?", "Which region sold most?"]
    # The old answer stays stale; the new one read the current data.
    assert stale_lines(asked) == [["`sales` changed since this answer (3 \u2192 4 rows)"], []]


def test_the_export_says_which_answers_are_stale(
    shell: InteractiveShell, asked: ChatPanel, tmp_path: Path
) -> None:
    shell.run_cell('sales["amount"] = sales["amount"].astype("int64")')
    with capture_output() as captured:
        shell.run_line_magic("chatkit", "export")
    text = "\n".join(o.data.get("text/markdown", "") for o in captured.outputs)
    assert "> `sales` changed since this answer (`amount`: float64 \u2192 int64)" in text


def test_threads_count_their_stale_answers(shell: InteractiveShell, asked: ChatPanel) -> None:
    shell.run_cell('sales.loc[0, "amount"] = 1.0')
    with capture_output() as captured:
        shell.run_line_magic("chatkit", "threads")
    shown = "\n".join(o.data.get("text/markdown", "") for o in captured.outputs)
    assert "| 1 stale answer |" in shown


# -- the watch and the fingerprints -------------------------------------------------------


def test_touched_names_are_what_a_cell_could_change() -> None:
    code = (
        "a = 1\n"
        "b.loc[3, 'x'] = 2\n"
        "c[0] = 1\n"
        "d.attr = 3\n"
        "e.drop(columns='x', inplace=True)\n"
        "f['y'].fillna(0, inplace=True)\n"
        "np.random.shuffle(g)\n"
        "del h\n"
        "i += 1\n"
        "print(len(j.columns))\n"
    )
    assert touched_names(code) >= {"a", "b", "c", "d", "e", "f", "g", "h", "i", "np"}
    assert "k" not in touched_names("k.shape\nk['x'].max")  # reading it changes nothing
    assert touched_names("%chat what?") == set()  # untransformed magic: nothing


def test_after_a_restart_the_rebuilt_variable_is_compared_by_content() -> None:
    before = fingerprint(pd.DataFrame({"x": [1, 2, 3]}))
    rebuilt = {"sales": pd.DataFrame({"x": [1, 2, 3]})}
    watch = StaleWatch(lambda: NotebookContext(namespace=rebuilt))
    assert watch.notes({"sales": before}) == []
    rebuilt["sales"] = pd.DataFrame({"x": [1, 2, 4]})
    watch.recheck()
    assert watch.notes({"sales": before}) == ["`sales` changed since this answer (values changed)"]


def test_objects_without_a_cheap_hash_say_so() -> None:
    items = [1, 2, 3]
    kept = fingerprint(items)
    assert kept["how"] == "identity"
    items.append(4)
    assert change_note(kept, fingerprint(items)) == "length 3 \u2192 4"
    assert change_note(kept, fingerprint([1, 2, 3])) == "replaced by another object"


frames = st.integers(1, 40).flatmap(
    lambda rows: st.fixed_dictionaries(
        {
            "n": st.lists(st.integers(-1000, 1000), min_size=rows, max_size=rows),
            "f": st.lists(st.floats(allow_nan=False, width=32), min_size=rows, max_size=rows),
            "s": st.lists(st.text(max_size=5), min_size=rows, max_size=rows),
        }
    )
)


@settings(max_examples=150, deadline=None)
@given(frames, st.data())
def test_any_single_value_edit_of_a_frame_is_noticed(
    columns: dict[str, list[Any]], data: Any
) -> None:
    frame = pd.DataFrame(columns)
    kept = fingerprint(frame)
    row = data.draw(st.integers(0, len(frame) - 1))
    column = data.draw(st.sampled_from(["n", "f", "s"]))
    old = frame.loc[row, column]
    new = data.draw(
        {
            "n": st.integers(-1000, 1000),
            "f": st.floats(allow_nan=False, width=32),
            "s": st.text(max_size=5),
        }[column].filter(lambda v: v != old)
    )
    frame.loc[row, column] = new
    assert change_note(kept, fingerprint(frame)) is not None


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(hnp.scalar_dtypes(), hnp.array_shapes(max_dims=3, max_side=6)), st.data())
def test_any_single_value_edit_of_an_array_is_noticed(array: np.ndarray, data: Any) -> None:
    kept = fingerprint(array)
    index = data.draw(hnp.basic_indices(array.shape, min_dims=array.ndim, allow_ellipsis=False))
    before = array[index].tobytes()
    array[index] = data.draw(hnp.from_dtype(array.dtype))
    if array[index].tobytes() == before:
        return  # the drawn value was the same bytes: nothing changed
    assert change_note(kept, fingerprint(array)) is not None


def test_no_fingerprint_of_a_secret_or_hidden_name_leaves_the_kernel() -> None:
    namespace = {
        "db_password": "correct horse battery staple",  # secret by name
        "note": "sk-proj-" + "a1B2" * 12,  # secret by value
        "private": [3, 4],  # hidden with %chatkit hide
        "pd": pd,  # a module: code, not data
        "nums": [1, 2],
    }
    context = NotebookContext(namespace=namespace, hidden={"private"})
    sources = TurnSources()
    code = "print(len(db_password), note[:3], private, pd.__version__, nums)"
    sources.saw("run_python", {"code": code}, '{"status": "ok"}')
    answer = AssistantMessageItem(
        id="m",
        thread_id="t",
        created_at=datetime.now(),
        content=[AssistantMessageContent(text="ok")],
    )
    kept = read_sources(sources.annotate(answer, context))
    assert list(kept) == ["nums"]
