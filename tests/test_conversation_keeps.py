"""What the conversation keeps (issue 19): "Stopped" after a reload, the code that ran in
its step and in the export, and the transcript a saved notebook carries."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import ipywidgets as W
import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.actions import ActionConfig
from chatkit.types import AssistantMessageItem, ThreadItem, WorkflowItem
from scripted import ChatClient, Gate, streamed_text
from stored import read_items
from test_panel import html_of, make_panel, stored_items, wait_for_html

import chatkit_notebook
from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._client import ChatKitClient, ThreadState, message_request
from chatkit_notebook._items import (
    card_call_id,
    card_status,
    is_receipt,
    is_stopped_mark,
    receipt_line,
    task_code,
    widget_field,
)
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.panel.cellcard import CellCard
from chatkit_notebook.panel.panel import ChatPanel
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
    # Right after it, before the turn's receipt (kept as the stream was cut, so stored
    # before the mark): "the answer above" is the answer, not the receipt.
    whole = thread_markdown(runtime.run(read_items(store_path, stopped_thread, receipts=True)))
    parts = whole.split("\n\n")
    answer_at = next(n for n, part in enumerate(parts) if part.startswith("Alpha beta"))
    assert parts[answer_at + 1] == "*Stopped: the answer above is cut short.*", parts
    assert parts[answer_at + 2].startswith("*Sent to ScriptedModel"), parts


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


def _two_views(
    store_path: Path, runtime: Runtime
) -> tuple[NotebookChatServer, ChatPanel, CellCard, str]:
    """A run_python card shown in a panel and in a %chat cell's card, on one server."""
    model = ScriptedModel(
        [
            [function_call("run_python", {"code": "6 * 7"}, call_id="call_1")],
            [assistant_message("It is 42.")],
        ]
    )
    store = NotebookStore(store_path)
    server = NotebookChatServer(store, model=model)
    context = NotebookContext(namespace={})

    def changes(thread_id: str | None) -> object:
        return store.change_token(context, thread_id)

    client = ChatKitClient(server, context)

    async def ask() -> tuple[str, list[ThreadItem]]:
        state = ThreadState()
        async for event in client.stream(message_request(None, "What is six times seven?")):
            state.apply(event)
        open_cards = [i for i in state.items.values() if card_call_id(i) is not None]
        assert state.thread_id is not None
        return state.thread_id, open_cards

    thread_id, open_cards = runtime.run(ask())
    card = CellCard(client, runtime, thread_id, open_cards, changes=changes)
    panel = ChatPanel(server, context, runtime=runtime, thread_id=thread_id, changes=changes)
    panel.wait()
    return server, panel, card, thread_id


def _until(condition: Callable[[], bool], runtime: Runtime, timeout: float = 30) -> bool:
    """Whether ``condition`` came true within ``timeout`` (a hang detector: each look
    waits one turn of the views' loop, where their changes happen)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        runtime.run(asyncio.sleep(0.05))
    return True


def _decided(items: Iterable[object]) -> list[str]:
    return [status for item in items if (status := card_status(item)) is not None]


def test_a_card_decided_in_the_panel_shows_decided_in_the_cell_with_its_result(
    store_path: Path, runtime: Runtime
) -> None:
    _, panel, card, _ = _two_views(store_path, runtime)
    (shown,) = [i for i in panel._state.items.values() if card_call_id(i) is not None]
    panel.custom_action(shown.id, _run_action(shown)).result(timeout=30)
    panel.wait()
    assert _until(lambda: bool(_decided(card._thread.state.items.values())), runtime)
    (status,) = _decided(card._thread.state.items.values())
    assert status.startswith("Approved")
    # The result is reachable here too: the step that ran and the answer.
    assert _until(lambda: "It is 42." in _answers(card._thread.state.items.values()), runtime)


def test_a_card_decided_in_the_cell_shows_decided_in_the_panel(
    store_path: Path, runtime: Runtime
) -> None:
    _, panel, card, _ = _two_views(store_path, runtime)
    (shown,) = [i for i in card._thread.state.items.values() if card_call_id(i) is not None]
    card._clicked(shown.id, _run_action(shown)).result(timeout=30)
    card.wait()
    assert _until(lambda: bool(_decided(panel._state.items.values())), runtime)
    assert _until(lambda: "It is 42." in _answers(panel._state.items.values()), runtime)
    assert not [i for i in panel._state.items.values() if card_call_id(i) is not None]


def _run_action(card: object) -> ActionConfig:
    """The card's Run, as a click sends it."""
    confirm = widget_field(card.widget, "confirm")  # type: ignore[attr-defined]
    return ActionConfig.model_validate(widget_field(confirm, "action"))


def _answers(items: Iterable[object]) -> str:
    return " ".join(
        part.text for i in items if isinstance(i, AssistantMessageItem) for part in i.content
    )


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_a_run_turn_in_a_cell_shows_one_receipt(
    store_path: Path, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A %chat cell whose turn waits for approval, clicked in the cell: the cell shows the
    turn's one receipt, counting both halves (it kept the pause's beside it)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from chatkit_notebook.kernel.cellturn import ask, output_for

    monkeypatch.setenv("JPY_SESSION_NAME", str(store_path.with_suffix(".ipynb")))
    shell = InteractiveShell.instance()
    monkeypatch.setattr(shell, "kernel", object(), raising=False)  # a notebook's kernel
    model = ScriptedModel(
        [
            [function_call("run_python", {"code": "6 * 7"}, call_id="call_1")],
            [assistant_message("It is 42.")],
        ]
    )
    context = NotebookContext(namespace={})
    client = ChatKitClient(NotebookChatServer(NotebookStore(store_path), model=model), context)

    async def created(thread_id: str) -> None:
        pass

    with capture_output() as captured:
        ask(
            "What is six times seven?",
            client=client,
            runtime=runtime,
            thread_id=None,
            offered=(),
            on_created=created,
            output=output_for(shell),
        )
        (view,) = [o.data[WIDGET_VIEW] for o in captured.outputs if WIDGET_VIEW in o.data]
        with warnings.catch_warnings():  # the one registry of live widgets by model id
            warnings.simplefilter("ignore", DeprecationWarning)
            card = W.Widget.widgets[view["model_id"]]
        assert isinstance(card, CellCard)
        (shown,) = [i for i in card._thread.state.items.values() if card_call_id(i) is not None]
        card._clicked(shown.id, _run_action(shown)).result(timeout=30)
        card.wait()

    answers = [o.data["text/markdown"] for o in captured.outputs if "text/markdown" in o.data]
    in_text = [a for a in answers if "*Sent to " in a and "ck-transcript" not in a]
    in_card = [i for i in card._thread.state.items.values() if is_receipt(i)]
    assert in_text == []
    (receipt,) = in_card
    assert "It is 42." in _answers(card._thread.state.items.values())
    assert "Ran Python (ok)" in receipt_line(receipt)  # the whole turn's, not the pause's
