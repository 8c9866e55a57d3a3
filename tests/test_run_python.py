"""The agent computes: run_python through the real ChatKitServer, with ScriptedModel.

Every test goes through ``process()`` as the panel does: the model asks to run code, the
server answers with an approval card, and the card's own action (``threads.custom_action``)
runs or declines it. Outside a kernel the code runs on the thread that runs the server,
here the test's main thread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.types import (
    Action,
    GeneratedImageItem,
    HiddenContextItem,
    ThreadCustomActionParams,
    ThreadsCustomActionReq,
    ThreadStreamEvent,
    WidgetItem,
)
from scripted import ChatClient

import chatkit_notebook
from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook.agent.receipt import is_receipt
from chatkit_notebook.agent.run_python import card_call_id, is_approval_card
from chatkit_notebook.agent.server import NotebookChatServer


def run(code: str, call_id: str = "call_1") -> list[Any]:
    return [function_call("run_python", {"code": code}, call_id=call_id)]


def cards(events: list[ThreadStreamEvent]) -> list[WidgetItem]:
    return [
        e.item
        for e in events
        if e.type in ("thread.item.done", "thread.item.replaced") and is_approval_card(e.item)
    ]


def texts_of(card: WidgetItem) -> str:
    return json.dumps(card.widget.model_dump(exclude_none=True))


def model_saw(model: ScriptedModel, call: int) -> str:
    """Everything the model got as input on its ``call``-th request (as JSON text)."""
    return json.dumps(model.calls[call].input, default=str)


class Chat:
    """A server on a fresh store, a namespace and a client, as the panel has them."""

    def __init__(self, store_path: Path, steps: list[Any], namespace: dict[str, Any]) -> None:
        self.model = ScriptedModel(steps)
        self.store = NotebookStore(store_path)
        self.server = NotebookChatServer(self.store, model=self.model)
        self.context = NotebookContext(namespace=namespace)
        self.client = ChatClient(self.server, self.context)

    async def click(self, thread_id: str, card: WidgetItem, which: str) -> list[ThreadStreamEvent]:
        widget = card.widget.model_dump()
        action = widget["confirm" if which == "run" else "cancel"]["action"]
        params = ThreadCustomActionParams(
            thread_id=thread_id,
            item_id=card.id,
            action=Action[str, Any](type=action["type"], payload=action["payload"]),
        )
        return await self.client.collect(ThreadsCustomActionReq(params=params))

    async def items(self, thread_id: str) -> list[Any]:
        page = await self.store.load_thread_items(thread_id, None, 200, "asc", self.context)
        return list(page.data)


async def test_a_call_waits_for_run_then_runs_and_the_model_gets_the_output(
    store_path: Path,
) -> None:
    ran: list[str] = []
    chat = Chat(
        store_path,
        [run("note('ran'); sales['units'].sum()"), [assistant_message("420 units in all.")]],
        {"sales": pd.DataFrame({"units": [120, 300]}), "note": ran.append},
    )
    thread_id, events = await chat.client.create("How many units?")
    (card,) = cards(events)
    assert card_call_id(card) == "call_1"
    assert "sales[&#x27;units&#x27;].sum()" in texts_of(card) or "sales['units'].sum()" in texts_of(
        card
    )
    assert ran == []  # nothing runs before the click
    assert len(chat.model.calls) == 1

    events = await chat.click(thread_id, card, "run")
    assert ran == ["ran"]
    (decided,) = cards(events)
    assert card_call_id(decided) is None  # the buttons are gone
    assert "Approved at" in texts_of(decided)
    assert "%chatkit insert" in texts_of(decided)
    answer = [
        e.item
        for e in events
        if e.type == "thread.item.done" and e.item.type == "assistant_message"
    ]
    assert answer
    assert answer[0].content[0].text == "420 units in all."
    result = model_saw(chat.model, 1)
    assert '\\"status\\": \\"ok\\"' in result
    assert "420" in result
    stored = await chat.items(thread_id)
    assert any(isinstance(i, HiddenContextItem) and "approved" in str(i.content) for i in stored)
    (receipt,) = [e.item for e in events if e.type == "thread.item.done" and is_receipt(e.item)]
    lines = [task.title for task in receipt.workflow.tasks]
    assert any(line.startswith("Ran Python (ok): its output · ") for line in lines), lines


async def test_dont_run_never_runs_and_tells_the_model(store_path: Path) -> None:
    ran: list[str] = []
    chat = Chat(
        store_path,
        [run("note('ran')"), [assistant_message("Understood, I won't run it.")]],
        {"note": ran.append},
    )
    thread_id, events = await chat.client.create("Clean it up")
    (card,) = cards(events)
    events = await chat.click(thread_id, card, "decline")
    assert ran == []
    assert "you declined it" in texts_of(cards(events)[0])
    assert "The user declined to run this code, so it did not run" in model_saw(chat.model, 1)


async def test_a_second_click_and_a_stale_card_run_nothing(store_path: Path) -> None:
    ran: list[str] = []
    chat = Chat(
        store_path,
        [
            run("note(1)"),
            [assistant_message("Done.")],
            run("note(2)", "call_2"),
            [assistant_message("Fine, I won't.")],
        ],
        {"note": ran.append},
    )
    thread_id, events = await chat.client.create("Go")
    (card,) = cards(events)
    await chat.click(thread_id, card, "run")
    again = await chat.click(thread_id, card, "run")  # the same card, clicked again
    assert ran == [1]
    (notice,) = [e for e in again if e.type == "notice"]
    assert "already approved" in notice.message

    # A card left waiting, then a new message: the card is closed, its code never runs.
    events = await chat.client.send(thread_id, "Again")
    (second,) = cards(events)
    superseded = await chat.client.send(thread_id, "Never mind")
    assert "a newer message came first" in texts_of(cards(superseded)[0])
    late = await chat.click(thread_id, second, "run")
    assert ran == [1]
    assert [e.type for e in late if e.type != "stream_options"] == [
        "thread.item.replaced",  # the stored card, decided: a stale copy shows it
        "notice",
    ]
    assert card_call_id(cards(late)[0]) is None
    assert "a newer message came first" in texts_of(cards(late)[0])


async def test_a_card_from_before_a_restart_says_it_expired(store_path: Path) -> None:
    ran: list[str] = []
    chat = Chat(store_path, [run("note(1)")], {"note": ran.append})
    thread_id, events = await chat.client.create("Go")
    (card,) = cards(events)
    restarted = Chat(store_path, [], {"note": ran.append})  # a new server: nothing paused
    events = await restarted.click(thread_id, card, "run")
    assert ran == []
    assert "no longer open" in next(e for e in events if e.type == "notice").message
    assert "expired" in texts_of(cards(events)[0])


async def test_the_card_names_what_reaches_beyond_the_sandbox(store_path: Path) -> None:
    chat = Chat(
        store_path,
        [
            [
                function_call("run_python", {"code": 'df.to_csv("out.csv")'}, call_id="c1"),
                function_call(
                    "run_python",
                    {"code": "import subprocess\nsubprocess.run(['ls'])"},
                    call_id="c2",
                ),
            ]
        ],
        {"df": pd.DataFrame({"a": [1]})},
    )
    _, events = await chat.client.create("Save it")
    first, second = cards(events)
    assert "writes a file: `df.to_csv(&#x27;out.csv&#x27;)`" in texts_of(
        first
    ) or "writes a file: `df.to_csv('out.csv')`" in texts_of(first)
    assert "imports `subprocess`" in texts_of(second)


async def test_inplace_edits_leave_the_users_frame_and_scratch_names_stay_in_the_thread(
    store_path: Path,
) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]})
    namespace: dict[str, Any] = {"df": df}
    chat = Chat(
        store_path,
        [
            run(
                'df.drop(columns=["b"], inplace=True); df["a"] = 0; df.loc[0, "a"] = -1; total = 41'
            ),
            [assistant_message("Done.")],
            run("total + 1", "call_2"),
            [assistant_message("42.")],
        ],
        namespace,
    )
    chatkit_notebook.configure(run_python="auto")
    thread_id, _ = await chat.client.create("Edit it")
    pd.testing.assert_frame_equal(df, pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]}))
    assert "total" not in namespace
    await chat.client.send(thread_id, "And now?")
    assert "42" in model_saw(chat.model, 3)
    assert "total" not in namespace


async def test_auto_runs_without_a_card_and_off_removes_the_tool(store_path: Path) -> None:
    ran: list[str] = []
    chatkit_notebook.configure(run_python="auto")
    chat = Chat(store_path, [run("note(1)"), [assistant_message("Ran.")]], {"note": ran.append})
    _, events = await chat.client.create("Go")
    assert ran == [1]
    assert cards(events) == []

    chatkit_notebook.configure(run_python="off")
    chat = Chat(store_path, [[assistant_message("I can only look.")]], {})
    await chat.client.create("Go")
    tools = [tool.name for tool in chat.model.calls[0].tools]
    assert "run_python" not in tools
    assert "describe_variable" in tools


async def test_the_time_limit_stops_an_endless_loop(store_path: Path) -> None:
    chatkit_notebook.configure(run_python="auto", run_timeout=0.5)
    chat = Chat(store_path, [run("while True: pass"), [assistant_message("It was stopped.")]], {})
    await chat.client.create("Loop")
    seen = model_saw(chat.model, 1)
    assert '\\"status\\": \\"stopped\\"' in seen
    assert "the time limit of 0.5 s" in seen


async def test_a_figure_is_stored_closed_and_never_sent_back_to_the_model(store_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chatkit_notebook.configure(run_python="auto")
    chat = Chat(
        store_path,
        [
            run("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('Rain')"),
            [assistant_message("Here is the plot.")],
            [assistant_message("It rose, then fell.")],
        ],
        {},
    )
    thread_id, events = await chat.client.create("Plot it")
    images = [
        e.item
        for e in events
        if e.type == "thread.item.done" and isinstance(e.item, GeneratedImageItem)
    ]
    assert len(images) == 1
    assert images[0].image.url.startswith("data:image/png;base64,")
    assert plt.get_fignums() == []  # closed: it shows up in no other cell
    assert "shown to the user" in model_saw(chat.model, 1)
    stored = await chat.items(thread_id)
    assert any(isinstance(i, GeneratedImageItem) for i in stored)
    await chat.client.send(thread_id, "What does it show?")
    later = model_saw(chat.model, 2)
    assert "data:image/png" not in later
    assert "input_image" not in later
    assert "the image is not sent" in later


async def test_printed_secrets_are_redacted_in_the_model_input_and_the_store(
    store_path: Path,
) -> None:
    chatkit_notebook.configure(run_python="auto")
    password = "hunter2-but-longer"  # noqa: S105 - the secret the test checks is hidden
    key = "sk-proj-abcdefghijklmnop1234567890"
    chat = Chat(
        store_path,
        [run("print(db_password, api)"), [assistant_message("Printed.")]],
        {"db_password": password, "api": key},
    )
    await chat.client.create("Show the settings")
    seen = model_saw(chat.model, 1)
    assert password not in seen
    assert key not in seen
    assert "[REDACTED" in seen
    assert password not in store_path.read_text()
    assert key not in store_path.read_text()


async def test_a_secret_the_model_wrote_is_redacted_on_the_open_card_yet_the_code_runs(
    store_path: Path,
) -> None:
    key = "sk-proj-abcdefghijklmnop1234567890"
    used: list[int] = []
    chat = Chat(
        store_path,
        [run(f"key = '{key}'\nnote(len(key))"), [assistant_message("It is 34 long.")]],
        {"note": used.append},
    )
    thread_id, events = await chat.client.create("How long is my key?")
    (card,) = cards(events)
    assert key not in card.model_dump_json()  # the card shown, its hidden code, its copy text
    assert "[REDACTED" in texts_of(card)
    assert key not in store_path.read_text()

    events = await chat.click(thread_id, card, "run")
    assert used == [len(key)]  # what ran is the call's own code, secret and all
    (decided,) = cards(events)
    assert key not in decided.model_dump_json()
    assert key not in store_path.read_text()


@pytest.mark.parametrize("mode", ["sometimes", ""])
def test_a_bad_mode_is_refused_by_name(mode: str) -> None:
    with pytest.raises(chatkit_notebook.ConfigError, match="'ask', 'auto' or 'off'"):
        chatkit_notebook.configure(run_python=mode)  # type: ignore[arg-type]


async def test_deleting_a_thread_drops_what_its_code_defined(store_path: Path) -> None:
    chatkit_notebook.configure(run_python="auto")
    chat = Chat(store_path, [run("kept = list(range(1000))"), [assistant_message("Kept.")]], {})
    thread_id, _ = await chat.client.create("Keep it")
    assert "kept" in chat.server.pending.scratch[thread_id]
    await chat.client.delete(thread_id)
    assert thread_id not in chat.server.pending.scratch


async def test_a_card_of_another_run_with_the_same_call_id_decides_nothing(
    store_path: Path,
) -> None:
    ran: list[int] = []
    chat = Chat(
        store_path,
        [run("note(1)", "call_1"), run("note(2)", "call_1"), [assistant_message("Ran 2.")]],
        {"note": ran.append},
    )
    thread_id, events = await chat.client.create("First")
    (old,) = cards(events)
    events = await chat.client.send(thread_id, "Second")  # supersedes the first card
    new = next(card for card in cards(events) if card_call_id(card) is not None)
    late = await chat.click(thread_id, old, "run")  # same call id, other card
    assert ran == []
    assert any(e.type == "notice" for e in late)
    await chat.click(thread_id, new, "run")
    assert ran == [2]
