"""The card a ``%chat`` cell leaves: a click goes on with the turn, under the card, and a
click whose request fails says so in the card (and in the log) instead of doing nothing."""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import ipywidgets as W
import pytest
from chatkit.actions import ActionConfig
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    StreamingReq,
    ThreadItemDoneEvent,
    ThreadStreamEvent,
    WidgetItem,
)

from chatkit_notebook._client import ChatKitClient
from chatkit_notebook._items import variable_source
from chatkit_notebook.panel.anywidgets import AnswerWidget
from chatkit_notebook.panel.cellcard import CellCard
from chatkit_notebook.runtime import Runtime


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    rt = Runtime(name="cellcard-test-loop")
    yield rt
    rt.stop()


def approval_card() -> WidgetItem:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from chatkit.widgets import Button, Card, Text

        card = Card(
            children=[
                Text(value="Run this code?"),
                Button(label="Run", onClickAction=ActionConfig(type="run", payload={"n": 1})),
            ]
        )
    return WidgetItem(id="wid_1", thread_id="thr_1", created_at=datetime.now(), widget=card)


class Client(ChatKitClient):
    """A client that records what it was asked and answers each click with ``answer``."""

    def __init__(self, answer: str | Exception) -> None:
        super().__init__(server=None)  # type: ignore[arg-type]
        self.answer = answer
        self.requests: list[StreamingReq] = []

    async def stream(self, request: StreamingReq) -> AsyncIterator[ThreadStreamEvent]:
        self.requests.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        yield ThreadItemDoneEvent(
            item=AssistantMessageItem(
                id="msg_1",
                thread_id="thr_1",
                created_at=datetime.now(),
                content=[AssistantMessageContent(text=self.answer)],
            )
        )


def descendants(widget: Any) -> Iterator[Any]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from descendants(child)


def click_run(card: CellCard) -> None:
    (run,) = [
        w for w in descendants(card) if isinstance(w, W.Button) and "ck-w-button" in w._dom_classes
    ]
    run.click()  # as the kernel's thread does, for a click in the browser
    card.wait()


def notes(card: CellCard) -> list[str]:
    return [
        w.value
        for w in card.children
        if isinstance(w, W.HTML) and "ck-note" in w.value and "ck-style" not in w._dom_classes
    ]


def test_a_click_streams_the_rest_of_the_answer_under_the_card(runtime: Runtime) -> None:
    client = Client("It ran: 3 rows.")
    card = CellCard(client, runtime, "thr_1", [approval_card()])
    assert len(card.children) == 2  # the styles and the card
    click_run(card)
    (request,) = client.requests
    assert request.type == "threads.custom_action"
    assert request.params.action.type == "run"  # type: ignore[union-attr]
    assert len(card.children) == 3
    (answer,) = [w for w in descendants(card) if isinstance(w, AnswerWidget)]
    assert answer.html.strip() == "<p>It ran: 3 rows.</p>"
    assert notes(card) == []


def test_a_click_whose_request_fails_says_so_in_the_card_and_the_log(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="chatkit_notebook")
    client = Client(ConnectionError("the kernel's server is gone"))
    card = CellCard(client, runtime, "thr_1", [approval_card()])
    click_run(card)
    assert len(client.requests) == 1
    assert notes(card) == [
        '<div class="ck-note">The action failed: the kernel&#x27;s server is gone</div>'
    ]
    failed = [r for r in caplog.records if r.name == "chatkit_notebook" and r.exc_info]
    assert len(failed) == 1
    assert isinstance(failed[0].exc_info[1], ConnectionError)  # type: ignore[index]
    click_run(card)  # the card is not left busy: a second click is sent
    assert len(client.requests) == 2


def test_the_card_changes_only_on_the_loop_thread(runtime: Runtime) -> None:
    card = CellCard(Client("ok"), runtime, "thr_1", [approval_card()])
    with pytest.raises(RuntimeError, match="off the loop thread"):
        card._thread.draw("wid_1")  # from the test's (the kernel's) thread


class SourcedClient(Client):
    """Answers each click with an answer that read ``sales``."""

    async def stream(self, request: StreamingReq) -> AsyncIterator[ThreadStreamEvent]:
        self.requests.append(request)
        read = variable_source("sales", {"type": "pandas.DataFrame", "hash": "a"}, "3 rows")
        content = AssistantMessageContent(text="North sold most.", annotations=[read])
        yield ThreadItemDoneEvent(
            item=AssistantMessageItem(
                id="msg_1", thread_id="thr_1", created_at=datetime.now(), content=[content]
            )
        )


def test_the_answer_a_click_leaves_is_marked_when_what_it_read_changes(runtime: Runtime) -> None:
    changed: list[str] = []
    listeners: list[Any] = []

    def stale(sources: dict[str, dict[str, Any]]) -> list[str]:
        assert list(sources) == ["sales"]
        return list(changed)

    def listen(callback: Any) -> Any:
        listeners.append(callback)
        return lambda: listeners.remove(callback)

    card = CellCard(
        SourcedClient("unused"),
        runtime,
        "thr_1",
        [approval_card()],
        stale=stale,
        stale_changes=listen,
    )
    click_run(card)
    (answer,) = [w for w in descendants(card) if isinstance(w, AnswerWidget)]
    assert answer.stale == []
    changed.append("`sales` changed since this answer (3 \u2192 4 rows)")
    for callback in listeners:  # what the kernel's watch does after the cell that changed it
        callback()

    async def after_the_redraw() -> None:
        return None

    runtime.run(after_the_redraw())  # the loop runs what was posted first
    assert answer.stale == ["`sales` changed since this answer (3 \u2192 4 rows)"]


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("front_end", ["jupyter", "vscode", "colab"])
def test_where_each_output_is_drawn_alone_the_transcript_is_the_cards_other_form(
    runtime: Runtime, front_end: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JupyterLab and Notebook 7 get the live card and its transcript as two outputs (the
    card's CSS hides the second); VS Code and Colab draw each output alone, so there they
    are one output's two forms, of which the front end draws the widget (and nbconvert,
    without widget state, the Markdown), kept so when the transcript is brought up to date."""
    import sys
    import types

    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    if front_end == "vscode":  # what VS Code's Jupyter extension sets in every kernel
        monkeypatch.setitem(shell.user_ns, "__vsc_ipynb_file__", "/work/analysis.ipynb")
    if front_end == "colab":
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    card = CellCard(Client("It ran: 3 rows."), runtime, "thr_1", [approval_card()])
    with capture_output() as captured:
        card._ipython_display_()
        click_run(card)
    shown = [o.data for o in captured.outputs if not o.update]
    updates = [o.data for o in captured.outputs if o.update]
    if front_end == "jupyter":
        (view, transcript) = shown
        assert set(view) == {WIDGET_VIEW, "text/plain"}
        assert WIDGET_VIEW not in transcript
    else:
        (view,) = shown
        assert set(view) == {WIDGET_VIEW, "text/markdown", "text/plain"}
        assert "a saved transcript of the approval card" in view["text/markdown"]
    assert updates, "the transcript was not brought up to date after the click"
    assert "It ran: 3 rows." in updates[-1]["text/markdown"]
    assert (WIDGET_VIEW in updates[-1]) is (front_end != "jupyter")
