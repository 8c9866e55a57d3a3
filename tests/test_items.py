"""The package's own thread items: each kind round-trips, and 0.1 stores still read.

``fixtures/store-0.1.chatkit.json`` was written by release 0.1 (``make_store_fixture.py``
drove its real server): these tests hold the readers to what users' stores already hold.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from chatkit.types import (
    CustomTask,
    GeneratedImageItem,
    HiddenContextItem,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
    Workflow,
    WorkflowItem,
)
from pydantic import TypeAdapter

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook import _items as I

FIXTURE = Path(__file__).parent / "fixtures" / "store-0.1.chatkit.json"
_ITEM: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)


def stored(item: Any) -> Any:
    """``item`` as a store gives it back: through its JSON."""
    return _ITEM.validate_json(item.model_dump_json())


async def fixture_items(tmp_path: Path) -> list[Any]:
    copy = tmp_path / FIXTURE.name
    shutil.copyfile(FIXTURE, copy)  # reading may compact or lock it: never touch the original
    store = NotebookStore(copy)
    context = NotebookContext(namespace={})
    (thread,) = (await store.load_threads(10, None, "asc", context)).data
    page = await store.load_thread_items(thread.id, None, 200, "asc", context)
    return list(page.data)


async def test_every_kind_in_a_01_store_is_recognised(tmp_path: Path) -> None:
    items = await fixture_items(tmp_path)
    cards = [item for item in items if I.is_approval_card(item)]
    assert len(cards) == 3
    ran, declined, left_open = cards
    assert I.card_call_id(left_open) == "call_open"
    assert I.card_code(left_open) == "sales.describe()"
    assert I.card_status(left_open) is None
    assert I.card_call_id(ran) is None  # decided: no buttons
    assert (I.card_status(ran) or "").startswith("Approved at")
    assert "plt.plot([1, 3, 2])" in (I.card_code(ran) or "")
    assert "you declined it" in (I.card_status(declined) or "")
    assert I.card_code(declined) == "import os\nos.remove('data.csv')"

    receipts = [item for item in items if I.is_receipt(item)]
    assert len(receipts) == 6  # one per turn: three messages, two clicks, the open card's
    assert I.receipt_line(receipts[0]).startswith("*Sent to ScriptedModel")

    kept = [r for item in items if (r := I.read_tool_result(item)) is not None]
    assert [r.tool for r in kept] == ["describe_variable", "run_python", "weather"]
    assert kept[0].arguments == {"name": "sales"}
    assert kept[2].arguments == {"city": "Oslo"}  # the server hooks' form
    assert kept[2].result == "Sunny in Oslo"
    assert '"status": "ok"' in kept[1].result
    (code,) = [c for item in items if (c := I.ran_code(item)) is not None]
    assert code.startswith("import matplotlib.pyplot as plt\nprint('total'")

    stopped = [item for item in items if I.is_stopped_step(item)]
    assert len(stopped) == 1
    assert not any(I.is_receipt(item) for item in stopped)

    (figure,) = [item for item in items if isinstance(item, GeneratedImageItem)]
    png = I.figure_png(figure)
    assert (png or "").startswith("iVBORw0KGgo")  # the PNG signature

    (tagged, *_) = [item for item in items if isinstance(item, UserMessageItem)]
    assert I.tagged_names(tagged) == ["sales"]

    # Nothing else is taken for one of the package's own items.
    others = [
        item
        for item in items
        if not (
            I.is_approval_card(item)
            or I.is_receipt(item)
            or I.read_tool_result(item) is not None
            or I.is_stopped_step(item)
            or I.figure_png(item) is not None
        )
    ]
    assert {type(item).__name__ for item in others} == {
        "UserMessageItem",
        "AssistantMessageItem",
        "WorkflowItem",  # the steps ("Read `sales`", "Ran Python")
        "HiddenContextItem",  # "The user approved ..." notes
        "SDKHiddenContextItem",
    }


def test_an_approval_card_round_trips_and_keeps_its_code_out_of_the_markdown() -> None:
    code = "x = '```'\nprint(x)"
    widget = I.approval_card(code, "call_9", reaches=["writes files"], cell_running=True)
    card = stored(WidgetItem(id="w", thread_id="t", created_at="2026-01-01T00:00", widget=widget))
    assert I.is_approval_card(card)
    assert I.card_call_id(card) == "call_9"
    assert I.card_code(card) == code
    assert I.card_status(card) is None
    decided = stored(
        card.model_copy(update={"widget": I.decided_card(card.widget, "Ran", ran=True)})
    )
    assert I.is_approval_card(decided)
    assert I.card_call_id(decided) is None
    assert I.card_status(decided) == "Ran"
    assert I.card_code(decided) == code


def test_a_receipt_round_trips_and_a_lookalike_is_not_one() -> None:
    item = stored(
        I.receipt_item(thread_id="t", item_id="r", summary="Sent to m", lines=["a", "b", "c"])
    )
    assert I.is_receipt(item)
    assert I.receipt_line(item) == "*Sent to m · a · b*"
    printer = WorkflowItem(
        id="w",
        thread_id="t",
        created_at="2026-01-01T00:00",
        workflow=Workflow(
            type="custom",
            tasks=[CustomTask(title="Page 1")],
            summary={"title": "Sent to the printer"},
        ),
    )
    assert not I.is_receipt(printer)


def test_a_kept_tool_result_round_trips_in_one_form_for_tools_and_hooks() -> None:
    for arguments in ({"name": "df"}, '{"name": "df"}'):
        item = stored(
            I.tool_result_item("describe_variable", arguments, "{}", thread_id="t", item_id="h")
        )
        assert item.content["kind"] == "tool_result"
        kept = I.read_tool_result(item)
        assert kept == I.ToolResult("describe_variable", {"name": "df"}, "{}")
        assert kept.text() == 'Result of describe_variable({"name": "df"}):\n{}'
    raw = stored(I.tool_result_item("t", "not json", "r", thread_id="t", item_id="h"))
    assert I.read_tool_result(raw) == I.ToolResult("t", "not json", "r")
    run = I.tool_result_item("run_python", {"code": "1 + 1"}, "{}", thread_id="t", item_id="h")
    assert I.ran_code(stored(run)) == "1 + 1"
    note = HiddenContextItem(id="h", thread_id="t", created_at="2026-01-01T00:00", content="hi")
    assert I.read_tool_result(note) is None


def test_a_stopped_step_round_trips() -> None:
    step = WorkflowItem(
        id="w",
        thread_id="t",
        created_at="2026-01-01T00:00",
        workflow=Workflow(
            type="custom", tasks=[CustomTask(title="Run", status_indicator="loading")]
        ),
    )
    assert not I.is_stopped_step(step)
    stopped = stored(I.stopped_step(step))
    assert I.is_stopped_step(stopped)
    assert stopped.workflow.summary.title == "Stopped"


def test_a_figure_and_a_tag_round_trip() -> None:
    figure = stored(I.figure_item(b"\x89PNG", 1, thread_id="t", item_id="f"))
    assert I.figure_png(figure) == "iVBORw=="
    tag = I.variable_tag("df")
    message = UserMessageItem(
        id="m",
        thread_id="t",
        created_at="2026-01-01T00:00",
        content=[UserMessageTextContent(text="Look at @df"), tag],
        inference_options={},
    )
    assert I.tagged_names(stored(message)) == ["df"]
    assert [m.group(1) for m in I.mentions("@df and x@y and @@z")] == ["df"]


def test_new_item_gives_a_store_made_id() -> None:
    store = NotebookStore(Path("unused.chatkit.json"))
    thread = ThreadMetadata(id="thr", created_at="2026-01-01T00:00")
    item = I.new_item(HiddenContextItem, store, thread, None, content="x")
    assert item.thread_id == "thr"
    assert item.id.startswith("msg_")
    step = I.new_item(WorkflowItem, store, thread, None, workflow=Workflow(type="custom", tasks=[]))
    assert not step.id.startswith("msg_")


def _card_text(card: Any) -> str:
    return "\n".join(str(I.widget_field(c, "value")) for c in I.widget_field(card, "children"))


def test_a_card_says_what_is_true_in_one_short_list() -> None:
    # Issue 19: "It reaches beyond the sandbox:" followed by "rebinds your totals (in the
    # sandbox only)" contradicted itself. One list: what reaches beyond (marked), what
    # changes in the sandbox only (not marked), what the sandbox copies.
    from chatkit_notebook.agent.run_python import approval_card

    code = "import os\ntotals = os.listdir('.')"
    text = _card_text(approval_card(code, "call_1", {"totals"}))
    assert "reaches beyond the sandbox" not in text
    assert "(in the sandbox only)" not in text
    (what,) = [c for c in text.split("\n\n") if c.startswith("- ")]
    lines = what.splitlines()
    assert lines[0].startswith("- \u26a0 imports `os`")
    assert lines[1] == "- changes `totals` in the sandbox only (yours stays)"
    assert "\u26a0" not in "".join(lines[1:])  # only what goes beyond is a warning
    assert lines[2].startswith("- uses copies of your DataFrames")
    quiet = _card_text(approval_card("x = 1", "call_2", set()))
    assert "- reaches no files, programs, network or database" in quiet


def test_a_decided_card_no_longer_asks_its_question() -> None:
    # Issue 19: "Approved at ..." above "Run this Python?" asked a question already answered.
    card = I.approval_card("print(1)", "call_1")
    assert I.CARD_TITLE in _card_text(card)
    decided = I.decided_card(card, "Approved at 10:42: it ran", ran=True)
    assert I.CARD_TITLE not in _card_text(decided)
    assert I.widget_field(I.widget_field(decided, "status"), "text").startswith("Approved")
    assert "print(1)" in _card_text(decided)  # the code stays
