"""ChatPanel driven as a person would: set the input, click the buttons, read the widgets.

The server is a real NotebookChatServer with a scripted model over a real NotebookStore;
the panel runs its requests on a real runtime loop thread. Assertions look at the rendered
HTML and at what the store holds afterwards.
"""

from __future__ import annotations

import asyncio
import gc
import html
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from agents.testing import ModelStep, ScriptedModel, assistant_message
from chatkit.types import AssistantMessageItem, HiddenContextItem, WorkflowItem
from scripted import Gate, streamed_text
from stored import read_items

from chatkit_notebook import NotebookContext
from chatkit_notebook._items import is_receipt, read_tool_result
from chatkit_notebook.agent import mainthread
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.agent.tools import offered_variables
from chatkit_notebook.panel.anywidgets import AnswerWidget
from chatkit_notebook.panel.panel import ChatPanel
from chatkit_notebook.runtime import Runtime
from chatkit_notebook.stores.file import NotebookStore


def make_panel(
    store_path: Path, runtime: Runtime, model: ScriptedModel, **namespace: object
) -> ChatPanel:
    server = NotebookChatServer(NotebookStore(store_path), model=model)
    panel = ChatPanel(
        server, NotebookContext(namespace=dict(namespace)), runtime=runtime, status="scripted"
    )
    panel.wait()
    return panel


def html_of(panel: ChatPanel) -> str:
    """The HTML of every message shown, however each is split into widgets."""

    def walk(widget: object) -> Iterator[str]:
        value = getattr(widget, "value", None)
        if isinstance(value, str) and type(widget).__name__ == "HTML":
            yield value
        if isinstance(widget, AnswerWidget):  # what the browser shows: HTML, then open text
            yield widget.html + html.escape(widget.live)
        for child in getattr(widget, "children", ()):
            yield from walk(child)

    return "\n".join(walk(panel._messages))


def stored_items(store_path: Path, runtime: Runtime, thread_id: str) -> list[object]:
    """The thread's items as stored, but for the turns' receipts."""
    return list(runtime.run(read_items(store_path, thread_id, receipts=False)))


def logging_of(name: str) -> list[str]:
    """What the logger ``name`` logs from now on (asyncio's reports of lost tasks)."""
    import logging

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logging.getLogger(name).addHandler(Keep())
    return records


def wait_for_html(panel: ChatPanel, text: str, timeout: float = 30) -> bool:
    """Wait, on widget change notifications, until the messages show ``text``."""
    seen = threading.Event()

    def check(_: object = None) -> None:
        for child in _descendants(panel._messages):
            child.observe(check, names=["value", "children", "html", "live"])
        if text in html_of(panel):
            seen.set()

    panel._messages.observe(check, names="children")
    check()
    return seen.wait(timeout)


def _descendants(widget: object) -> Iterator[object]:
    for child in getattr(widget, "children", ()):
        yield child
        yield from _descendants(child)


def type_and_send(panel: ChatPanel, text: str) -> None:
    panel._input.value = text
    panel._send_button.click()
    panel.wait()


def test_empty_state_suggests_the_notebooks_variables(store_path: Path, runtime: Runtime) -> None:
    server = NotebookChatServer(NotebookStore(store_path), model=ScriptedModel([]))
    namespace = {
        "url": "https://example.com/sales.csv",  # a helper, not data (issue 19)
        "srv": object(),  # a server object, say
        "rows": [1, 2],
        "openai_api_key": "sk-x",
        "payroll": [3],
        "region": "north",
        "none_yet": [],
        "sales": pd.DataFrame({"units": [1, 2]}),
        "prices": np.arange(3.0),
    }
    context = NotebookContext(namespace=namespace, hidden={"payroll"})
    panel = ChatPanel(server, context, runtime=runtime, status="scripted", offer=offered_variables)
    panel.wait()
    offered = [b.description for b in panel._suggestions.children]
    # Data first (frames, arrays), then a list; no secret, no hidden name, no helper.
    assert offered == ["Describe sales", "Describe prices", "Describe rows"]
    assert panel._empty.layout.display == ""
    assert "scripted" in panel._status.value
    panel._suggestions.children[1].click()  # a suggestion fills the composer
    panel.wait()
    assert panel._input.value == "Describe prices"


def test_send_streams_the_answer_and_stores_the_thread(store_path: Path, runtime: Runtime) -> None:
    panel = make_panel(
        store_path, runtime, ScriptedModel([[assistant_message("**North** sold most.")]])
    )
    type_and_send(panel, "Which region sold most?")
    shown = html_of(panel)
    assert "Which region sold most?" in shown
    assert "<strong>North</strong> sold most." in shown  # rendered markdown
    assert panel._input.value == ""
    assert not panel._send_button.disabled
    assert panel.thread_id is not None
    kinds = [type(i).__name__ for i in stored_items(store_path, runtime, panel.thread_id)]
    assert kinds == ["UserMessageItem", "AssistantMessageItem"]
    labels = [label for label, value in panel._bar.threads.options if value == panel.thread_id]
    assert labels[0].startswith("Which region sold most?")


def test_user_text_is_escaped(store_path: Path, runtime: Runtime) -> None:
    panel = make_panel(store_path, runtime, ScriptedModel([[assistant_message("ok")]]))
    type_and_send(panel, "<img src=x onerror=alert(1)> **not bold**")
    shown = html_of(panel)
    assert "<img" not in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "**not bold**" in shown


def test_switching_threads_reloads_them_from_the_store(store_path: Path, runtime: Runtime) -> None:
    model = ScriptedModel(
        [[assistant_message("first answer")], [assistant_message("second answer")]]
    )
    panel = make_panel(store_path, runtime, model)
    type_and_send(panel, "first question")
    first = panel.thread_id
    panel._bar.new_button.click()
    panel.wait()
    assert panel.thread_id is None
    assert html_of(panel) == ""
    type_and_send(panel, "second question")
    assert panel.thread_id != first
    panel._bar.threads.value = first  # pick it in the thread bar
    panel.wait()
    assert "first answer" in html_of(panel)
    assert "second answer" not in html_of(panel)
    # A new panel (a re-run cell, a reloaded page) shows the same threads.
    again = make_panel(store_path, runtime, ScriptedModel([]))
    assert {v for _, v in again._bar.threads.options} >= {first, panel.thread_id}


def test_rename_and_delete_with_confirmation(store_path: Path, runtime: Runtime) -> None:
    panel = make_panel(store_path, runtime, ScriptedModel([[assistant_message("a")]]))
    type_and_send(panel, "question")
    thread_id = panel.thread_id
    panel._bar.rename_button.click()
    panel.wait()
    assert panel._bar.rename_row.layout.display == ""
    panel._bar.title_input.value = "Sales deep dive"
    panel._bar.title_save.click()
    panel.wait()
    assert any(label.startswith("Sales deep dive") for label, _ in panel._bar.threads.options)

    panel._bar.delete_button.click()
    panel.wait()
    assert "Sales deep dive" in panel._bar.confirm_text.value  # asks first
    panel._bar.confirm_no.click()
    panel.wait()
    assert panel.thread_id == thread_id
    assert panel._bar.confirm_row.layout.display == "none"
    panel._bar.delete_button.click()
    panel._bar.confirm_yes.click()
    panel.wait()
    assert panel.thread_id is None
    assert thread_id not in {v for _, v in panel._bar.threads.options}

    async def threads() -> list[str]:
        page = await NotebookStore(store_path).load_threads(10, None, "desc", NotebookContext())
        return [t.id for t in page.data]

    assert runtime.run(threads()) == []


def test_stop_keeps_the_partial_answer(store_path: Path, runtime: Runtime) -> None:
    holder: dict[str, Gate] = {}

    async def make_gate() -> None:
        holder["gate"] = Gate(after=2)

    runtime.run(make_gate())
    gate = holder["gate"]
    model = ScriptedModel([streamed_text(["Alpha ", "beta ", "gamma"], gate=gate)])
    panel = make_panel(store_path, runtime, model)
    panel._input.value = "spell"
    panel._send_button.click()
    runtime.run(asyncio.wait_for(gate.reached.wait(), timeout=30))

    assert wait_for_html(panel, "Alpha beta")  # the panel renders what arrived
    assert panel._stop_button.layout.display == ""  # Stop offered while cancelling is allowed
    panel._stop_button.click()
    panel.wait()
    assert not panel.busy
    assert panel._stop_button.layout.display == "none"
    (answer_id,) = [
        i for i, v in panel._views.items() if type(v).__name__ == "AssistantMessageView"
    ]
    answer = panel._views[answer_id]._answer  # type: ignore[attr-defined]
    assert answer.stopped  # the answer says it was stopped...
    assert answer.done  # ...and shows its thumbs and Copy
    assert panel._bar.threads.value == panel.thread_id  # the thread list is current at once
    # The turn's receipt (what was sent before Stop), kept by the server, shows at once, not
    # only once the thread is opened again.
    assert [i for i in panel._state.items.values() if is_receipt(i)], "no receipt shown"

    async def left_behind() -> list[object]:
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert runtime.run(left_behind()) == []  # no task waits on forever...
    logged = logging_of("asyncio")
    gc.collect()
    runtime.run(asyncio.sleep(0))
    assert logged == []  # ...so nothing is printed later ("Task was destroyed...")
    answers = [
        i
        for i in stored_items(store_path, runtime, panel.thread_id or "")
        if isinstance(i, AssistantMessageItem)
    ]
    assert [a.content[0].text for a in answers] == ["Alpha beta "]


def test_an_error_is_shown_and_retry_asks_again(store_path: Path, runtime: Runtime) -> None:
    import httpx
    import openai

    request = httpx.Request("POST", "http://127.0.0.1:9/v1/responses")
    limited = openai.RateLimitError(
        "slow down",
        response=httpx.Response(429, request=request),
        body={"code": "rate_limit_exceeded"},
    )
    model = ScriptedModel([ModelStep.raise_error(limited), [assistant_message("Here it is.")]])
    panel = make_panel(store_path, runtime, model)
    type_and_send(panel, "question")
    assert "rate limiting" in panel._notice.value
    assert panel._retry_button.layout.display == ""
    panel._retry_button.click()
    panel.wait()
    assert "Here it is." in html_of(panel)
    assert panel._notice.value == ""


def test_two_panels_on_one_notebook_stay_consistent(store_path: Path, runtime: Runtime) -> None:
    one = make_panel(store_path, runtime, ScriptedModel([[assistant_message("from one")]]))
    two = make_panel(store_path, runtime, ScriptedModel([]))
    type_and_send(one, "asked in panel one")
    two.refresh()
    two.wait()
    assert one.thread_id in {v for _, v in two._bar.threads.options}
    two.open_thread(one.thread_id or "")
    two.wait()
    assert "from one" in html_of(two)


def test_errors_raised_out_of_the_stream_are_shown(store_path: Path, runtime: Runtime) -> None:
    one = make_panel(
        store_path, runtime, ScriptedModel([[assistant_message("a")], [assistant_message("b")]])
    )
    type_and_send(one, "first")
    two = make_panel(store_path, runtime, ScriptedModel([]))
    two.open_thread(one.thread_id or "")
    two._bar.delete_button.click()
    two._bar.confirm_yes.click()
    two.wait()
    type_and_send(one, "into a deleted thread")  # chatkit raises NotFoundError, no error event
    assert "not found" in one._notice.value.lower()
    assert not one.busy
    assert not one._send_button.disabled


def test_long_threads_load_earlier_messages_on_request(
    store_path: Path, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chatkit_notebook.panel.panel as panel_module

    monkeypatch.setattr(panel_module, "HISTORY_PAGE", 5)
    model = ScriptedModel([[assistant_message(f"answer {n}")] for n in range(3)])
    panel = make_panel(store_path, runtime, model)
    for n in range(3):
        type_and_send(panel, f"question {n}")
    thread_id = panel.thread_id or ""
    panel.new_thread()
    panel.open_thread(thread_id)
    panel.wait()
    # Only the newest 5 of 9 items (each turn: question, answer, receipt).
    assert "question 0" not in html_of(panel)
    assert "answer 2" in html_of(panel)
    assert panel._earlier.layout.display == ""
    before = panel._messages.children
    panel._earlier.click()
    panel.wait()
    shown = html_of(panel)
    assert shown.index("question 0") < shown.index("answer 0") < shown.index("answer 2")
    assert panel._earlier.layout.display == "none"
    # Issue 19: the messages shown stay where they were. ipywidgets draws a box's children
    # again from the first one that changed (which resets the reader's scroll to the
    # newest message), so older ones must not be put in front of them.
    assert panel._messages.children == before


def test_thumbs_send_feedback_for_an_answer(store_path: Path, runtime: Runtime) -> None:
    received: list[tuple[list[str], str]] = []

    class RecordingServer(NotebookChatServer):
        async def add_feedback(self, thread_id, item_ids, feedback, context):  # type: ignore[no-untyped-def]
            received.append((item_ids, feedback))

    server = RecordingServer(
        NotebookStore(store_path), model=ScriptedModel([[assistant_message("42")]])
    )
    panel = ChatPanel(server, NotebookContext(), runtime=runtime)
    panel.wait()
    type_and_send(panel, "meaning?")
    (answer_id,) = [
        i for i, v in panel._views.items() if type(v).__name__ == "AssistantMessageView"
    ]
    answer = panel._views[answer_id]._answer  # type: ignore[attr-defined]
    assert answer.done  # thumbs and Copy show under the finished answer
    answer._handle(None, {"event": "vote", "kind": "negative"}, None)  # a click on a thumb
    panel.wait()
    assert received == [([answer_id], "negative")]
    assert answer.vote == "negative"  # the chosen thumb is shown
    answer._handle(None, {"event": "vote", "kind": "positive"}, None)  # a vote can change
    panel.wait()
    assert received[-1] == ([answer_id], "positive")
    assert answer.vote == "positive"
    answer._handle(None, {"event": "vote", "kind": "<script>"}, None)  # not a vote
    panel.wait()
    assert len(received) == 2
    # Copy (in the browser) asks the answer for its Markdown, kept in the kernel.
    replies: list[object] = []
    answer.send = replies.append  # what would go to the browser
    answer._handle(None, {"event": "copy"}, None)
    assert replies == [{"markdown": "42"}]


def test_status_line_names_the_model_and_the_store(store_path: Path, runtime: Runtime) -> None:
    server = NotebookChatServer(NotebookStore(store_path), model=ScriptedModel([]))
    panel = ChatPanel(server, NotebookContext(), runtime=runtime)
    panel.wait()
    assert "Model: ScriptedModel" in panel._status.value
    assert str(store_path) in panel._status.value


def test_the_status_note_follows_the_session_and_stops_with_close(
    store_path: Path, runtime: Runtime
) -> None:
    # What the kernel's session adds (where it serves the chat) comes as callbacks.
    note = [""]
    told: list[Callable[[], object]] = []

    def listen(callback: Callable[[], object]) -> Callable[[], None]:
        told.append(callback)
        return lambda: told.remove(callback)

    server = NotebookChatServer(NotebookStore(store_path), model=ScriptedModel([]))
    panel = ChatPanel(
        server,
        NotebookContext(),
        runtime=runtime,
        status_note=lambda: note[0],
        status_changes=listen,
    )
    panel.wait()
    assert "Serving" not in panel._status.value
    note[0] = "Serving at http://127.0.0.1:1"
    told[0]()
    panel.wait()
    assert f"{store_path} · Serving at http://127.0.0.1:1" in panel._status.value
    panel.close()
    assert told == []


def test_without_offers_the_empty_chat_asks_generally_and_nothing_is_tagged(
    store_path: Path, runtime: Runtime
) -> None:
    server = NotebookChatServer(
        NotebookStore(store_path), model=ScriptedModel([[assistant_message("ok")]])
    )
    panel = ChatPanel(server, NotebookContext(namespace={"sales": [1]}), runtime=runtime)
    panel.wait()
    assert [b.description for b in panel._suggestions.children] == ["What variables do I have?"]
    panel._input._handle(None, {"event": "mentions"}, None)  # the person typed "@"
    panel.wait()
    assert panel._input.mentions == []
    type_and_send(panel, "Sum @sales")
    (user, *_) = stored_items(store_path, runtime, panel.thread_id or "")
    assert [c.type for c in user.content] == ["input_text"]  # type: ignore[attr-defined]


def test_retry_asks_again_for_the_last_answer(store_path: Path, runtime: Runtime) -> None:
    model = ScriptedModel([[assistant_message("first try")], [assistant_message("second try")]])
    panel = make_panel(store_path, runtime, model)
    type_and_send(panel, "question")
    assert panel._retry_button.layout.display == ""
    panel._retry_button.click()
    panel.wait()
    assert "second try" in html_of(panel)
    assert "first try" not in html_of(panel)
    answers = [
        i
        for i in stored_items(store_path, runtime, panel.thread_id or "")
        if isinstance(i, AssistantMessageItem)
    ]
    assert [a.content[0].text for a in answers] == ["second try"]


class GatedStore(NotebookStore):
    """A store whose item loads wait at a gate once armed, as when another kernel holds
    the file's lock."""

    gate: asyncio.Event | None = None
    entered = threading.Event()

    async def load_thread_items(self, *args: Any, **kwargs: Any) -> Any:
        if self.gate is not None:
            self.entered.set()
            await self.gate.wait()
        return await super().load_thread_items(*args, **kwargs)


def test_new_while_a_thread_is_loading_starts_a_new_chat(
    store_path: Path, runtime: Runtime
) -> None:
    store = GatedStore(store_path)
    store.entered = threading.Event()
    model = ScriptedModel([[assistant_message("old answer")], [assistant_message("new answer")]])
    panel = ChatPanel(NotebookChatServer(store, model=model), NotebookContext(), runtime=runtime)
    panel.wait()
    type_and_send(panel, "old question")
    old = panel.thread_id
    panel._bar.new_button.click()
    panel.wait()

    async def arm() -> None:
        store.gate = asyncio.Event()

    runtime.run(arm())
    panel._bar.threads.value = old  # pick the old thread: its items load slowly
    assert store.entered.wait(30)
    panel._bar.new_button.click()  # ...and New before they arrive
    runtime.loop.call_soon_threadsafe(store.gate.set)
    panel.wait()

    assert panel.thread_id is None  # the last click wins, and the panel agrees with itself
    assert panel._bar.threads.value == "__new__"
    assert html_of(panel) == ""
    type_and_send(panel, "new question")
    assert panel.thread_id not in (None, old)  # the message went to a new thread
    texts = [i.content[0].text for i in stored_items(store_path, runtime, old or "")]
    assert texts == ["old question", "old answer"]


def test_panel_state_changes_only_on_the_loop_thread(store_path: Path, runtime: Runtime) -> None:
    panel = make_panel(store_path, runtime, ScriptedModel([]))
    with pytest.raises(RuntimeError, match="off the loop thread"):
        panel._open(panel._state)  # from the test's (the kernel's) thread


def test_client_tools_and_effects_run_off_the_loop(store_path: Path, runtime: Runtime) -> None:
    from test_panel_protocol import ProtocolServer

    threads: dict[str, threading.Thread] = {}

    def tool(args: dict[str, Any]) -> str:
        threads["tool"] = threading.current_thread()
        return "ok"

    def effect(data: dict[str, Any]) -> None:
        threads["effect"] = threading.current_thread()

    panel = ChatPanel(ProtocolServer(NotebookStore(store_path)), NotebookContext(), runtime=runtime)
    panel.client_tools["selection"] = tool
    panel.effects["highlight"] = effect
    panel.send("tool")
    panel.wait()
    panel.send("effects")
    panel.wait()
    assert set(threads) == {"tool", "effect"}
    assert runtime.thread not in threads.values()  # user Python never stalls the loop
    assert threading.main_thread() not in threads.values()


def test_at_offers_visible_variables_and_sending_tags_them(
    store_path: Path, runtime: Runtime
) -> None:
    server = NotebookChatServer(
        NotebookStore(store_path), model=ScriptedModel([[assistant_message("ok")]])
    )
    namespace = {"sales": [1, 2, 3], "openai_api_key": "sk-x", "payroll": [3], "_tmp": 1}
    context = NotebookContext(namespace=namespace, hidden={"payroll"})
    panel = ChatPanel(server, context, runtime=runtime, offer=offered_variables)
    panel.wait()
    panel._input._handle(None, {"event": "mentions"}, None)  # the person typed "@"
    panel.wait()
    assert panel._input.mentions == [["sales", "list 3 items"]]
    panel._input._handle(None, {"event": "submit", "value": "Sum @sales please"}, None)
    panel.wait()
    (user, *_) = stored_items(store_path, runtime, panel.thread_id or "")
    assert [c.type for c in user.content] == ["input_text", "input_tag"]  # type: ignore[attr-defined]
    assert user.content[1].text == "sales"  # type: ignore[attr-defined]
    assert "Read <code>sales</code>" in html_of(panel)  # shown as a step, with code as code


def test_without_a_key_the_status_line_says_so_before_the_first_send(
    store_path: Path, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    panel = ChatPanel(
        NotebookChatServer(NotebookStore(store_path)), NotebookContext(), runtime=runtime
    )
    panel.wait()
    assert "No OpenAI API key: set OPENAI_API_KEY" in panel._status.value
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ready = ChatPanel(
        NotebookChatServer(NotebookStore(store_path)), NotebookContext(), runtime=runtime
    )
    ready.wait()
    assert "No OpenAI API key" not in ready._status.value
    assert "Model: " in ready._status.value


def test_enter_sends_what_the_browser_had_and_keeps_a_question_that_cannot_go_yet(
    store_path: Path, runtime: Runtime
) -> None:
    holder: dict[str, Gate] = {}

    async def make_gate() -> None:
        holder["gate"] = Gate(after=1)

    runtime.run(make_gate())
    gate = holder["gate"]
    model = ScriptedModel(
        [streamed_text(["Alpha ", "beta"], gate=gate), [assistant_message("Second answer")]]
    )
    panel = make_panel(store_path, runtime, model)
    assert panel._input.accepting
    # Enter: the browser empties its box and sends the text; the kernel's `value` may still
    # be a keystroke behind, and is not what goes.
    panel._input.value = "Which region sol"
    panel._input._handle(None, {"event": "submit", "value": "Which region sold most?"}, None)
    runtime.run(asyncio.wait_for(gate.reached.wait(), timeout=30))
    assert wait_for_html(panel, "Which region sold most?")
    assert not panel._input.accepting  # Enter in the browser now keeps the text in the box
    # An Enter that was on its way before the browser knew: the question comes back.
    panel._input._handle(None, {"event": "submit", "value": "And the least?"}, None)
    runtime.run(asyncio.sleep(0))  # the loop puts it back, while the answer still streams
    assert panel._input.value == "And the least?"
    gate.release.set()
    panel.wait()
    assert panel._input.accepting
    panel._input._handle(None, {"event": "submit", "value": "And the least?"}, None)
    panel.wait()
    assert wait_for_html(panel, "Second answer")
    assert panel._input.value == ""
    users = [
        i.content[0].text  # type: ignore[attr-defined]
        for i in stored_items(store_path, runtime, panel.thread_id or "")
        if type(i).__name__ == "UserMessageItem"
    ]
    assert users == ["Which region sold most?", "And the least?"]


def _card_buttons(panel: ChatPanel, kind: str) -> list[Any]:
    """The panel's approval-card buttons of ``kind`` ("confirm" or "cancel")."""
    import ipywidgets as W

    return [
        widget
        for widget in _descendants(panel._messages)
        if isinstance(widget, W.Button) and f"ck-w-card-{kind}" in widget._dom_classes
    ]


def test_the_panel_shows_the_card_and_its_run_button_runs_the_code(
    store_path: Path, runtime: Runtime
) -> None:
    from agents.testing import function_call

    ran: list[int] = []
    model = ScriptedModel(
        [
            [function_call("run_python", {"code": "print(6 * 7)\nnote(6 * 7)"}, call_id="c1")],
            [assistant_message("It is 42.")],
        ]
    )
    panel = make_panel(store_path, runtime, model, note=ran.append)
    type_and_send(panel, "Six times seven?")
    assert "Run this Python?" in html_of(panel)
    assert "note" in html_of(panel)  # the code is on the card
    (run,) = _card_buttons(panel, "confirm")
    assert ran == []
    run.click()  # as a person's click: the comm handler posts the action
    panel.wait()
    assert ran == [42]
    assert wait_for_html(panel, "It is 42.")
    assert _card_buttons(panel, "confirm") == []  # decided: no buttons any more
    assert "Approved at" in html_of(panel)


def test_stop_stops_code_that_never_ends(store_path: Path, runtime: Runtime) -> None:
    from agents.testing import function_call

    import chatkit_notebook

    chatkit_notebook.configure(run_python="auto")
    started = threading.Event()
    model = ScriptedModel(
        [[function_call("run_python", {"code": "started()\nwhile True: pass"}, call_id="c1")]]
    )
    panel = make_panel(store_path, runtime, model, started=started.set)
    panel._input.value = "Loop forever"
    panel._send_button.click()
    assert started.wait(30)
    panel.stop()
    panel.wait()
    assert not panel.busy
    code = [t for t in threading.enumerate() if t.name == "chatkit-notebook-code"]
    for thread in code:
        thread.join(10)  # a hang detector: a stopped loop ends at its next bytecode
    assert not any(thread.is_alive() for thread in code)
    # Nothing spins on; the step is kept as it ended, with its result for the next turn's
    # model, so a reload shows what ran and what stopped it.
    assert "ck-task-loading" not in html_of(panel)
    thread_id = panel.thread_id
    assert thread_id is not None

    def kept() -> list[str]:
        items = stored_items(store_path, runtime, thread_id)
        steps = [
            task.title
            for item in items
            if isinstance(item, WorkflowItem)
            for task in item.workflow.tasks
        ]
        results = [
            kept.text()
            for item in items
            if isinstance(item, HiddenContextItem)
            and (kept := read_tool_result(item)) is not None
            and kept.tool == "run_python"
        ]
        return [*steps, *results]

    deadline = time.monotonic() + 30  # a hang detector: the step is kept once the code ends
    while not any("Python stopped after" in text for text in kept()):
        assert time.monotonic() < deadline, kept()
        time.sleep(0.05)
    assert any("Result of run_python" in text for text in kept())
    panel.open_thread(thread_id).result(30)
    panel.wait()
    assert "Python stopped after" in html_of(panel)


def test_two_cards_clicked_at_once_both_count(store_path: Path, runtime: Runtime) -> None:
    from agents.testing import function_call

    ran: list[int] = []
    model = ScriptedModel(
        [
            [
                function_call("run_python", {"code": "note(1)"}, call_id="c1"),
                function_call("run_python", {"code": "note(2)"}, call_id="c2"),
            ],
            [assistant_message("Both ran.")],
        ]
    )
    panel = make_panel(store_path, runtime, model, note=ran.append)
    type_and_send(panel, "Do both")
    first, second = _card_buttons(panel, "confirm")
    first.click()
    second.click()  # while the first click is still being answered: queued, not dropped
    panel.wait()
    assert sorted(ran) == [1, 2]
    assert wait_for_html(panel, "Both ran.")
    assert _card_buttons(panel, "confirm") == []


def test_stop_interrupts_the_kernel_while_code_runs_on_its_main_thread(
    store_path: Path, runtime: Runtime
) -> None:
    # The browser does the interrupting (stop.js); here: the panel tells it when to.
    server = NotebookChatServer(NotebookStore(store_path), model=ScriptedModel([]))
    panel = ChatPanel(server, NotebookContext(), runtime=runtime, code_running=mainthread.listen)
    panel.wait()
    assert panel._stop_button.interrupts is False
    mainthread._tell(True)
    runtime.run(asyncio.sleep(0))  # the loop applies what the main thread told it
    assert panel._stop_button.interrupts is True
    mainthread._tell(False)
    runtime.run(asyncio.sleep(0))
    assert panel._stop_button.interrupts is False
    panel.close()
    mainthread._tell(True)  # a closed panel no longer listens
    runtime.run(asyncio.sleep(0))
    assert panel._stop_button.interrupts is False
