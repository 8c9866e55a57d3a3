"""What the conversation keeps (issue 19): "Stopped" after a reload, the code that ran in
its step and in the export, and the transcript a saved notebook carries."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.types import WorkflowItem
from scripted import ChatClient, Gate, streamed_text
from test_panel import html_of, make_panel, stored_items, wait_for_html

import chatkit_notebook
from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._items import is_stopped_mark, task_code
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.panel.transcript import thread_markdown
from chatkit_notebook.panel.views import AssistantMessageView
from chatkit_notebook.runtime import Runtime


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    rt = Runtime(name="keeps-test-loop")
    yield rt
    rt.stop()


def answer_views(panel: object) -> list[AssistantMessageView]:
    views = panel._views.values()  # type: ignore[attr-defined]
    return [v for v in views if isinstance(v, AssistantMessageView)]


def test_stopped_is_kept_in_the_store_and_shown_after_a_reload_and_a_switch(
    store_path: Path, runtime: Runtime
) -> None:
    holder: dict[str, Gate] = {}

    async def make_gate() -> None:
        holder["gate"] = Gate(after=2)

    runtime.run(make_gate())
    gate = holder["gate"]
    model = ScriptedModel(
        [streamed_text(["Alpha ", "beta ", "gamma"], gate=gate), [assistant_message("Other.")]]
    )
    panel = make_panel(store_path, runtime, model)
    panel.send("spell")
    runtime.run(asyncio.wait_for(gate.reached.wait(), timeout=30))
    assert wait_for_html(panel, "Alpha beta")
    panel.stop()
    panel.wait()
    stopped_thread = panel.thread_id
    assert stopped_thread is not None
    items = stored_items(store_path, runtime, stopped_thread)
    assert any(is_stopped_mark(i) for i in items)  # kept in the store

    # A reload (a new panel, as after a restart) shows it under the answer.
    reloaded = make_panel(store_path, runtime, model)
    reloaded.open_thread(stopped_thread).result(timeout=30)
    (answer,) = answer_views(reloaded)
    assert answer._answer.stopped  # type: ignore[attr-defined]
    # A thread switch and back: still there.
    reloaded.new_thread()
    reloaded.send("Another question")
    reloaded.wait()
    reloaded.open_thread(stopped_thread).result(timeout=30)
    (answer,) = answer_views(reloaded)
    assert answer._answer.stopped  # type: ignore[attr-defined]
    assert "Stopped" not in html_of(reloaded).replace("ck-stopped", "")  # no second mark
    # And the export says so after the partial answer.
    exported = thread_markdown(items)
    assert exported.index("Alpha beta") < exported.index("Stopped")


async def test_the_code_that_ran_in_auto_mode_is_in_its_step_and_in_the_export(
    store_path: Path,
) -> None:
    chatkit_notebook.configure(run_python="auto")
    code = "total = sum(values)\nprint(total)"
    model = ScriptedModel(
        [
            [function_call("run_python", {"code": code}, call_id="call_1")],
            [assistant_message("The total is 6.")],
        ]
    )
    server = NotebookChatServer(NotebookStore(store_path), model=model)
    context = NotebookContext(namespace={"values": [1, 2, 3]})
    client = ChatClient(server, context)
    thread_id, events = await client.create("Add them up")
    steps = [
        e.item for e in events if e.type == "thread.item.done" and isinstance(e.item, WorkflowItem)
    ]
    ran = [task_code(t) for s in steps for t in s.workflow.tasks if task_code(t)]
    assert ran == [code]  # the streamed step carries the code...
    page = await server.store.load_thread_items(thread_id, None, 100, "asc", context)
    kept = [
        task_code(t) for i in page.data if isinstance(i, WorkflowItem) for t in i.workflow.tasks
    ]
    assert code in kept  # ...and so does the stored one, for a reload

    # The panel's step shows it (one click: the step's <details>).
    from chatkit_notebook.panel.views import WorkflowView

    (step,) = [s for s in steps if any(task_code(t) for t in s.workflow.tasks)]
    shown = WorkflowView(step).widget.value
    assert "ck-task-code" in shown
    assert "total" in shown
    assert "sum" in shown

    # %chatkit export's Markdown has it, fenced.
    exported = thread_markdown(page.data)
    assert f"```python\n{code}\n```" in exported
    assert exported.index("Add them up") < exported.index(code) < exported.index("total is 6")
