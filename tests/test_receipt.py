"""The receipt under each answer: what left the kernel this turn, counted exactly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.types import WorkflowItem
from scripted import ChatClient, Gate, create_request, streamed_text

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._client import action_request
from chatkit_notebook._items import APPROVE, card_call_id, is_approval_card
from chatkit_notebook.agent.receipt import is_receipt, receipt_line
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.agent.tools import _compute_describe


def titles(item: WorkflowItem) -> list[str]:
    return [getattr(task, "title", "") or "" for task in item.workflow.tasks]


async def receipts(store_path: Path) -> list[WorkflowItem]:
    store = NotebookStore(store_path)
    (thread,) = (await store.load_threads(5, None, "desc", NotebookContext())).data
    page = await store.load_thread_items(thread.id, None, 100, "asc", NotebookContext())
    return [item for item in page.data if isinstance(item, WorkflowItem) and is_receipt(item)]


async def test_the_receipt_counts_reads_secrets_and_every_character_sent(
    store_path: Path,
) -> None:
    namespace = {"sales": {"north": 120, "south": 80}, "db_password": "hunter2-but-long-123"}
    context = NotebookContext(namespace=namespace)
    model = ScriptedModel(
        [
            [function_call("describe_variable", {"name": "sales"}, call_id="c1")],
            [function_call("list_variables", {}, call_id="c2")],
            [assistant_message("North.")],
            [assistant_message("Still north.")],
        ]
    )
    client = ChatClient(NotebookChatServer(NotebookStore(store_path), model=model), context)
    thread_id, events = await client.create("Which region sold most?")

    (receipt,) = [e.item for e in events if e.type == "thread.item.done" and is_receipt(e.item)]
    calls = model.calls
    sent = sum(
        len(c.system_instructions or "") + len(json.dumps(c.input, default=str, ensure_ascii=False))
        for c in calls
    )
    described = _compute_describe(context, "sales").result
    assert titles(receipt)[0] == f"Read `sales` · {len(described):,} characters"
    assert titles(receipt)[1].startswith("Read the list of variables · ")
    assert titles(receipt)[2] == "1 secret redacted"  # db_password, in the variable list
    assert titles(receipt)[3] == f"{sent:,} characters sent in 3 model calls"
    instructions = sum(len(c.system_instructions or "") for c in calls)
    read = sum(
        len(json.dumps(i, default=str, ensure_ascii=False))
        for c in calls
        for i in c.input
        if isinstance(i, dict) and i.get("type") == "function_call_output"
    )
    assert read > 0
    assert receipt.workflow.summary.title == (  # type: ignore[union-attr]
        f"Sent to ScriptedModel · {sent:,} characters: instructions {instructions:,} · "
        f"conversation {sent - instructions - read:,} · what was read {read:,}"
    )
    assert "hunter2" not in json.dumps(receipt.model_dump(), default=str)
    line = receipt_line(receipt)
    assert line.startswith("*Sent to ScriptedModel · ")
    assert "\n" not in line

    await client.send(thread_id, "And now?")  # the next turn's model never sees receipts
    assert "Sent to" not in json.dumps(model.calls[-1].input, default=str)
    assert len(await receipts(store_path)) == 2  # one per turn, kept with the thread


async def test_a_stopped_turn_keeps_its_receipt(store_path: Path) -> None:
    gate = Gate(after=2)
    model = ScriptedModel([streamed_text(["Once ", "upon ", "a ", "time"], gate=gate)])
    client = ChatClient(NotebookChatServer(NotebookStore(store_path), model=model))
    reached = asyncio.Event()

    async def consume() -> None:
        async for event in client.stream(create_request("Tell me a story")):
            if event.type == "thread.item.updated":
                reached.set()

    turn = asyncio.create_task(consume())
    await asyncio.wait_for(gate.reached.wait(), timeout=30)
    await asyncio.wait_for(reached.wait(), timeout=30)
    turn.cancel()
    await asyncio.gather(turn, return_exceptions=True)
    (receipt,) = await receipts(store_path)
    assert titles(receipt)[-1].endswith(" characters sent in 1 model call")


async def test_a_turn_that_read_nothing_says_nothing_of_secrets(store_path: Path) -> None:
    model = ScriptedModel([[assistant_message("Hello.")]])
    client = ChatClient(NotebookChatServer(NotebookStore(store_path), model=model))
    _, events = await client.create("Hi")
    (receipt,) = [e.item for e in events if e.type == "thread.item.done" and is_receipt(e.item)]
    assert not any("secret" in title for title in titles(receipt))
    assert "what was read" not in receipt.workflow.summary.title  # type: ignore[union-attr]


async def test_a_run_turn_gets_one_receipt_counting_both_halves(store_path: Path) -> None:
    model = ScriptedModel(
        [
            [function_call("run_python", {"code": "6 * 7"}, call_id="c1")],
            [assistant_message("It is 42.")],
        ]
    )
    context = NotebookContext(namespace={})
    server = NotebookChatServer(NotebookStore(store_path), model=model)
    client = ChatClient(server, context)
    thread_id, events = await client.create("What is six times seven?")
    (card,) = [e.item for e in events if e.type == "thread.item.done" and is_approval_card(e.item)]
    await client.collect(
        action_request(thread_id, card.id, APPROVE, {"call_id": card_call_id(card)})
    )
    (receipt,) = await receipts(store_path)  # one receipt for the turn, not one per half
    *_, sent, tokens = titles(receipt)
    assert sent.endswith(" characters sent in 2 model calls")
    assert tokens == "Tokens: n/a (the endpoint reported no usage)"  # ScriptedModel reports none
    page = await server.store.load_thread_items(thread_id, None, 100, "asc", context)
    assert page.data[-1].id == receipt.id  # it ends the turn
