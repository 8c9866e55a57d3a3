"""Bounded model input: an unchanged result sent once, older large ones trimmed.

A thread that re-reads one wide frame every turn is run twice through the real server with
a scripted model: bounded (the default) and as kept (``bound_input=False``). What the
model was sent is read from ``ScriptedModel.calls``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.types import (
    HiddenContextItem,
    InferenceOptions,
    UserMessageItem,
    UserMessageTextContent,
)
from fake_openai import FakeOpenAI, Turn
from scripted import ChatClient

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook.agent.model_input import (
    PREVIEW_CHARS,
    TRIM_ABOVE,
    ResultKey,
    bound_history,
    reference,
)
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.agent.tools import _compute_describe
from chatkit_notebook.config import configure


def wide_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns = {f"col_{i:02d}": rng.normal(size=500).round(3) for i in range(58)}
    columns.update(
        region=rng.choice(["north", "south", "east"], 500),
        month=np.arange(500) % 12 + 1,
        units=rng.integers(0, 100, 500),
    )
    return pd.DataFrame(columns)  # 61 columns


def chars(call: Any) -> int:
    """A model call's input as the receipt counts it: instructions and the items' JSON."""
    return len(call.system_instructions or "") + len(
        json.dumps(call.input, default=str, ensure_ascii=False)
    )


def texts(call: Any) -> str:
    return json.dumps(call.input, default=str, ensure_ascii=False)


async def rereading_thread(
    store_path: Path, turns: int, *, bound: bool, namespace: dict[str, Any]
) -> ScriptedModel:
    """``turns`` questions, each answered after ``describe_variable('sales')``."""
    steps = []
    for turn in range(turns):
        steps.append([function_call("describe_variable", {"name": "sales"}, call_id=f"c{turn}")])
        steps.append([assistant_message(f"In month {turn % 12 + 1}, north sold most.")])
    model = ScriptedModel(steps)
    server = NotebookChatServer(NotebookStore(store_path), model=model, bound_input=bound)
    client = ChatClient(server, NotebookContext(namespace=namespace))
    thread_id, _ = await client.create("Which region sold most in month 1?")
    for turn in range(1, turns):
        await client.send(thread_id, f"And in month {turn % 12 + 1}?")
    return model


async def test_a_reread_frame_is_sent_whole_once_and_the_input_stops_growing(
    tmp_path: Path,
) -> None:
    namespace = {"sales": wide_frame()}
    preview = _compute_describe(NotebookContext(namespace=namespace), "sales").result
    turns = 18  # past the 40-item history window (3 items a turn)
    bounded = await rereading_thread(tmp_path / "b.json", turns, bound=True, namespace=namespace)
    kept = await rereading_thread(tmp_path / "k.json", turns, bound=False, namespace=namespace)

    last, last_kept = bounded.calls[-1], kept.calls[-1]
    # What the latest answer rests on is there, whole, once: the latest read of `sales`
    # (the previous turn's copy; this turn's call refers to it) and the question.
    assert texts(last).count(json.dumps(preview, ensure_ascii=False)[1:-1]) == 1
    outputs = [
        i for i in last.input if isinstance(i, dict) and i.get("type") == "function_call_output"
    ]
    assert [o["output"] for o in outputs] == [
        reference(ResultKey.of("describe_variable", {"name": "sales"}, preview))
    ]
    questions = [i for i in last.input if isinstance(i, dict) and i.get("role") == "user"]
    assert (
        questions[-1]
        == [i for i in last_kept.input if isinstance(i, dict) and i.get("role") == "user"][-1]
    )
    assert last.system_instructions == last_kept.system_instructions
    # As kept, every turn in the window carries a copy; bounded, one, and it stops growing.
    assert texts(last_kept).count(json.dumps(preview, ensure_ascii=False)[1:-1]) >= 10
    assert chars(last) < chars(last_kept) / 3
    first_window = chars(bounded.calls[2 * 14 - 1])  # turn 14: the window is full
    assert abs(chars(last) - first_window) < 200  # flat from here on
    # The first turn, with nothing to repeat, is sent as before.
    assert chars(bounded.calls[1]) == chars(kept.calls[1])


async def test_a_changed_variable_is_sent_whole_again(store_path: Path) -> None:
    namespace: dict[str, Any] = {"sales": wide_frame(0)}
    model = ScriptedModel(
        [
            [function_call("describe_variable", {"name": "sales"}, call_id="c1")],
            [assistant_message("North.")],
            [function_call("describe_variable", {"name": "sales"}, call_id="c2")],
            [assistant_message("South, now.")],
        ]
    )
    client = ChatClient(
        NotebookChatServer(NotebookStore(store_path), model=model),
        NotebookContext(namespace=namespace),
    )
    thread_id, _ = await client.create("Who sold most?")
    namespace["sales"] = wide_frame(1)  # a cell changed it
    await client.send(thread_id, "And now?")
    fresh = _compute_describe(NotebookContext(namespace=namespace), "sales").result
    (output,) = [
        i["output"]
        for i in model.calls[-1].input
        if isinstance(i, dict) and i.get("type") == "function_call_output"
    ]
    assert output == fresh  # not a reference to the old preview


def kept_result(index: int, tool: str, arguments: dict[str, Any], result: str) -> HiddenContextItem:
    content = {"kind": "tool_result", "tool": tool, "arguments": arguments, "result": result}
    return HiddenContextItem(
        id=f"h{index}", thread_id="t", created_at=datetime.now(), content=content
    )


def question(index: int, text: str) -> UserMessageItem:
    return UserMessageItem(
        id=f"u{index}",
        thread_id="t",
        created_at=datetime.now(),
        content=[UserMessageTextContent(text=text)],
        inference_options=InferenceOptions(),
    )


def test_older_large_results_are_trimmed_and_the_last_two_turns_kept_whole() -> None:
    big = "x" * (TRIM_ABOVE + 500)
    other = "y" * (TRIM_ABOVE + 10)
    items = [
        question(1, "What is in big?"),
        kept_result(1, "describe_variable", {"name": "big"}, big),
        question(2, "And other?"),
        kept_result(2, "describe_variable", {"name": "other"}, other),
        question(3, "And big again?"),
        kept_result(3, "describe_variable", {"name": "big"}, big),  # whole: turn 1's is trimmed
        question(4, "Compare them."),
    ]
    bounded, whole = bound_history(items)
    results = [i.content["result"] for i in bounded if isinstance(i, HiddenContextItem)]
    assert results[0].startswith(
        "x" * PREVIEW_CHARS + "…\n[Trimmed: an older describe_variable('big')"
    )
    assert f"of {len(big):,} characters; call the tool again" in results[0]
    assert results[1].startswith("y" * PREVIEW_CHARS + "…\n[Trimmed: ")  # two turns back
    assert results[2] == big  # the turn before this one; its earlier copy is trimmed: whole
    assert whole == {ResultKey.of("describe_variable", {"name": "big"}, big)}
    assert bounded[0] is items[0]  # questions and answers are untouched


def test_an_old_stores_string_results_are_bounded_too() -> None:
    text = 'Result of describe_variable({"name": "sales"}):\n' + "z" * 50
    items = [
        question(1, "q1"),
        HiddenContextItem(id="h1", thread_id="t", created_at=datetime.now(), content=text),
        question(2, "q2"),
        HiddenContextItem(id="h2", thread_id="t", created_at=datetime.now(), content=text),
    ]
    bounded, _ = bound_history(items)
    second = bounded[3]
    assert isinstance(second, HiddenContextItem)
    key = ResultKey.of("describe_variable", {"name": "sales"}, "z" * 50)
    assert second.content == f'Result of describe_variable({{"name": "sales"}}):\n{reference(key)}'
    assert bounded[1] is items[1]


async def test_over_chat_completions_a_repeated_read_goes_as_a_reference(
    fake_openai: FakeOpenAI, store_path: Path
) -> None:
    configure(model="test-model", base_url=fake_openai.base_url, max_retries=0)
    namespace = {"prices": [3, 5, 8]}
    client = ChatClient(
        NotebookChatServer(NotebookStore(store_path)), NotebookContext(namespace=namespace)
    )
    fake_openai.script(
        Turn.tool_call("describe_variable", {"name": "prices"}),
        Turn.text("3, 5 and 8."),
        Turn.tool_call("describe_variable", {"name": "prices"}),
        Turn.text("Still 3, 5 and 8."),
    )
    thread_id, _ = await client.create("What is in prices?")
    await client.send(thread_id, "Read it again?")
    preview = _compute_describe(NotebookContext(namespace=namespace), "prices").result
    last = fake_openai.chat_requests[-1].messages
    tool_messages = [m["content"] for m in last if m["role"] == "tool"]
    key = ResultKey.of("describe_variable", {"name": "prices"}, preview)
    assert tool_messages == [reference(key)]
    assert sum(preview in str(m["content"]) for m in last) == 1  # the first turn's, whole
