"""The panel against a ChatKit server that sends the rarer events and items.

``ProtocolServer`` is a real ``ChatKitServer`` over a real ``NotebookStore`` whose
``respond`` emits what a test asks for: client effects, progress, notices, widgets with
buttons, generated images and client tool calls. The panel must handle each one.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from chatkit.actions import Action, ActionConfig
from chatkit.server import ChatKitServer
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ClientEffectEvent,
    ClientToolCallItem,
    CustomTask,
    DurationSummary,
    EndOfTurnItem,
    GeneratedImage,
    GeneratedImageItem,
    LockedStatus,
    NoticeEvent,
    ProgressUpdateEvent,
    StructuredInputFreeform,
    StructuredInputItem,
    StructuredInputMultipleChoice,
    StructuredInputMultipleChoiceOption,
    TaskItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
    Workflow,
    WorkflowItem,
    WorkflowTaskAdded,
    WorkflowTaskUpdated,
)

from chatkit_notebook import NotebookContext
from chatkit_notebook.panel.anywidgets import AnswerWidget
from chatkit_notebook.panel.panel import ChatPanel
from chatkit_notebook.runtime import Runtime
from chatkit_notebook.stores.file import NotebookStore

PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAf"
    "FcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


ANSWERS = iter(range(1_000_000))


def answer(thread: ThreadMetadata, text: str) -> ThreadItemDoneEvent:
    ProtocolServer.last_answer_id = f"msg_{next(ANSWERS)}"
    return ThreadItemDoneEvent(
        item=AssistantMessageItem(
            id=ProtocolServer.last_answer_id,
            thread_id=thread.id,
            created_at=datetime.now(),
            content=[AssistantMessageContent(text=text)],
        )
    )


class ProtocolServer(ChatKitServer[NotebookContext]):
    last_answer_id = ""

    def __init__(self, store: NotebookStore) -> None:
        super().__init__(store)
        self.actions: list[tuple[str | None, str, Any]] = []

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: NotebookContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        if input_user_message is None:  # a client tool's output or an answer came back
            page = await self.store.load_thread_items(thread.id, None, 1, "desc", context)
            last = page.data[0]
            if isinstance(last, StructuredInputItem):
                given = {q.id: q.answer.values if q.answer else None for q in last.inputs}
                yield answer(thread, f"Noted {given} ({last.status}).")
                return
            assert isinstance(last, ClientToolCallItem)
            yield answer(thread, f"The client said {last.output!r}.")
            return
        text = input_user_message.content[0].text  # type: ignore[union-attr]
        if text == "effects":
            yield ProgressUpdateEvent(text="Reading the data…")
            yield ClientEffectEvent(name="highlight", data={"cell": 3})
            yield NoticeEvent(level="warning", message="Close to the limit.", title="Heads up")
            yield answer(thread, "done")
        elif text == "widget":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                from chatkit.widgets import Button, Card, Text

                card = Card(
                    children=[
                        Text(value="Pick one"),
                        Button(
                            label="North",
                            onClickAction=ActionConfig(type="pick", payload={"region": "north"}),
                        ),
                    ]
                )
            yield ThreadItemDoneEvent(
                item=WidgetItem(
                    id="wid_1", thread_id=thread.id, created_at=datetime.now(), widget=card
                )
            )
        elif text == "image":
            image = GeneratedImage(id="img_1", url=PNG)
            yield ThreadItemDoneEvent(
                item=GeneratedImageItem(
                    id="gen_1", thread_id=thread.id, created_at=datetime.now(), image=image
                )
            )
        elif text == "misc":
            task = CustomTask(title="Read `df` (3 x 2)", status_indicator="loading")
            workflow = WorkflowItem(
                id="wf_1",
                thread_id=thread.id,
                created_at=datetime.now(),
                workflow=Workflow(type="custom", tasks=[]),
            )
            yield ThreadItemAddedEvent(item=workflow)
            yield ThreadItemUpdatedEvent(
                item_id="wf_1", update=WorkflowTaskAdded(task=task, task_index=0)
            )
            done = task.model_copy(update={"status_indicator": "complete"})
            yield ThreadItemUpdatedEvent(
                item_id="wf_1", update=WorkflowTaskUpdated(task=done, task_index=0)
            )
            finished = workflow.model_copy(
                update={
                    "workflow": Workflow(
                        type="custom", tasks=[done], summary=DurationSummary(duration=3)
                    )
                }
            )
            yield ThreadItemDoneEvent(item=finished)
            yield ThreadItemDoneEvent(
                item=TaskItem(
                    id="task_1",
                    thread_id=thread.id,
                    created_at=datetime.now(),
                    task=CustomTask(title="Checked the nulls"),
                )
            )
            yield answer(thread, "temporary answer")
            yield ThreadItemRemovedEvent(item_id=self.last_answer_id)
            yield answer(thread, "final answer")
            yield ThreadItemDoneEvent(
                item=EndOfTurnItem(id="eot_1", thread_id=thread.id, created_at=datetime.now())
            )
            thread.status = LockedStatus(reason="This chat is read-only now.")
        elif text == "ask":
            questions: list[Any] = [
                StructuredInputMultipleChoice(
                    id="q_region",
                    question="Which region?",
                    options=[
                        StructuredInputMultipleChoiceOption(value=v) for v in ("north", "south")
                    ],
                ),
                StructuredInputFreeform(id="q_why", question="Why?"),
            ]
            yield ThreadItemDoneEvent(
                item=StructuredInputItem(
                    id="si_1", thread_id=thread.id, created_at=datetime.now(), inputs=questions
                )
            )
        elif text == "tool":
            yield ThreadItemDoneEvent(
                item=ClientToolCallItem(
                    id="ctc_1",
                    thread_id=thread.id,
                    created_at=datetime.now(),
                    call_id="call_1",
                    name="selection",
                    arguments={"what": "cells"},
                )
            )

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: NotebookContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        self.actions.append((sender.id if sender else None, action.type, action.payload))
        yield answer(thread, f"You picked {action.payload['region']}.")


@pytest.fixture
def setup(store_path: Path, runtime: Runtime) -> tuple[ChatPanel, ProtocolServer]:
    server = ProtocolServer(NotebookStore(store_path))
    panel = ChatPanel(server, NotebookContext(), runtime=runtime)
    panel.wait()
    return panel, server


def send(panel: ChatPanel, text: str) -> None:
    panel.send(text)
    panel.wait()


def all_html(widget: Any) -> str:
    value = getattr(widget, "value", None)
    own = value if isinstance(value, str) else ""
    if isinstance(widget, AnswerWidget):
        own = widget.html + html.escape(widget.live)
    return own + "".join(all_html(child) for child in getattr(widget, "children", ()))


def test_effects_progress_and_notices(setup: tuple[ChatPanel, ProtocolServer]) -> None:
    panel, _ = setup
    seen: list[dict[str, Any]] = []
    panel.effects["highlight"] = seen.append
    send(panel, "effects")
    assert seen == [{"cell": 3}]
    assert "Heads up" in panel._notice.value
    assert "Close to the limit." in panel._notice.value
    assert panel._progress.value == ""  # a transient line, cleared when the answer came
    assert "done" in all_html(panel._messages)


def test_widget_buttons_send_custom_actions(setup: tuple[ChatPanel, ProtocolServer]) -> None:
    panel, server = setup
    send(panel, "widget")
    assert "Pick one" in all_html(panel._messages)
    buttons = [w for w in _walk(panel._messages) if getattr(w, "description", None) == "North"]
    buttons[0].click()
    panel.wait()
    assert server.actions == [("wid_1", "pick", {"region": "north"})]
    assert "You picked north." in all_html(panel._messages)


def test_generated_images_show_inline(setup: tuple[ChatPanel, ProtocolServer]) -> None:
    panel, _ = setup
    send(panel, "image")
    assert f'src="{PNG}"' in all_html(panel._messages)


def test_client_tools_run_in_python_and_answer_the_server(
    setup: tuple[ChatPanel, ProtocolServer],
) -> None:
    panel, _ = setup
    panel.client_tools["selection"] = lambda args: {"selected": [1, 2], "asked": args["what"]}
    panel.send("tool")
    panel.wait()
    panel.wait()  # the client tool's turn is chained after the first: wait for it too
    shown = html.unescape(all_html(panel._messages))
    assert "The client said {'selected': [1, 2], 'asked': 'cells'}." in shown


def test_an_unregistered_client_tool_gets_an_error_result(
    setup: tuple[ChatPanel, ProtocolServer],
) -> None:
    panel, _ = setup
    panel.send("tool")
    panel.wait()
    panel.wait()
    assert "No client tool named" in all_html(panel._messages)


def _walk(widget: Any) -> Iterator[Any]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_structured_questions_are_answered_in_place(
    setup: tuple[ChatPanel, ProtocolServer],
) -> None:
    panel, _ = setup
    send(panel, "ask")
    widgets = list(_walk(panel._messages))
    (radio,) = [w for w in widgets if type(w).__name__ == "RadioButtons"]
    (why,) = [w for w in widgets if type(w).__name__ == "Textarea"]
    radio.value = "south"
    why.value = "  more stores  "
    (button,) = [w for w in widgets if getattr(w, "description", None) == "Answer"]
    button.click()
    panel.wait()
    shown = html.unescape(all_html(panel._messages))
    assert "Noted {'q_region': ['south'], 'q_why': ['more stores']} (answered)." in shown
    assert "Which region?: <b>south</b>" in shown  # the answered item replaced the form
    assert not [w for w in _walk(panel._messages) if getattr(w, "description", None) == "Answer"]


def test_workflows_tasks_removals_end_of_turn_and_locking(
    setup: tuple[ChatPanel, ProtocolServer],
) -> None:
    panel, _ = setup
    send(panel, "misc")
    shown = html.unescape(all_html(panel._messages))
    # The finished workflow's summary says what it did, not only "Worked for 3s" (issue 19).
    summary = shown[shown.index("<summary>") : shown.index("</summary>")]
    assert "Read <code>df</code> (3 x 2)" in summary, summary
    assert summary.endswith(" · 3s"), summary
    assert "Read <code>df</code> (3 x 2)" in shown  # a step's `code` shows as code
    assert "ck-task-complete" in shown
    assert "Checked the nulls" in shown
    assert "temporary answer" not in shown  # removed by the server
    assert "final answer" in shown
    assert "end of turn" not in shown.lower()  # a UI hint, never drawn
    assert "read-only now" in panel._notice.value  # locked: the reason shows...
    assert panel._input.disabled  # ...and the composer is off
