"""Tokens and cost on the receipt, ``%chatkit usage`` and the export.

Usage comes from the Agents SDK per model call: a ``ScriptedModel`` step can carry a
``Usage``, and the fake OpenAI server reports usage in its stream's last chunk (or not), so
the real ``openai`` client's path is covered over real HTTP.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from agents import Usage
from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call
from chatkit.types import WorkflowItem
from fake_openai import FakeOpenAI, Turn
from genai_prices import Usage as PriceUsage
from genai_prices import calc_price
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails
from scripted import ChatClient

import chatkit_notebook
from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._items import (
    TokenTotals,
    TurnTokens,
    dollars,
    is_receipt,
    receipt_line,
    receipt_tokens,
    thread_tokens,
)
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.config import ModelPrice, configure, price_overrides
from chatkit_notebook.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures"


def usage(input_tokens: int, output_tokens: int, cached: int = 0) -> Usage:
    return Usage(
        requests=1,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        input_tokens_details=InputTokensDetails(cached_tokens=cached, cache_write_tokens=0),
        output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
    )


def step(*items: object, used: Usage) -> ModelStep:
    return ModelStep(output=list(items), usage=used)  # type: ignore[arg-type]


def receipt_of(events: list[object]) -> WorkflowItem:
    (receipt,) = [
        e.item  # type: ignore[attr-defined]
        for e in events
        if getattr(e, "type", None) == "thread.item.done" and is_receipt(e.item)  # type: ignore[attr-defined]
    ]
    return receipt


def tokens_line(receipt: WorkflowItem) -> str:
    return [getattr(t, "title", "") for t in receipt.workflow.tasks][-1]


def openai_cost(input_tokens: int, cached: int, output_tokens: int) -> float:
    used = PriceUsage(
        input_tokens=input_tokens, cache_read_tokens=cached, output_tokens=output_tokens
    )
    return float(calc_price(used, "gpt-4.1-mini", provider_id="openai").total_price)


async def test_a_turn_sums_the_tokens_of_every_model_call_and_prices_them(
    store_path: Path,
) -> None:
    model = ScriptedModel(
        [
            step(function_call("list_variables", {}, call_id="c1"), used=usage(9_000, 40, 8_000)),
            step(assistant_message("None yet."), used=usage(3_340, 370)),
        ]
    )
    server = NotebookChatServer(NotebookStore(store_path), models={"gpt-4.1-mini": model})
    client = ChatClient(server, NotebookContext(namespace={}))
    _, events = await client.create("What is here?", model="gpt-4.1-mini")

    receipt = receipt_of(events)
    tokens = receipt_tokens(receipt)
    cost = openai_cost(9_000, 8_000, 40) + openai_cost(3_340, 0, 370)  # each call on its own
    assert tokens == TurnTokens(2, 2, 12_340, 8_000, 410, pytest.approx(cost), "genai-prices")
    assert tokens_line(receipt) == (f"Tokens: 12,340 in (8,000 cached) · 410 out · {dollars(cost)}")
    assert receipt_line(receipt).endswith(
        f" · Tokens: 12,340 in (8,000 cached) · 410 out · {dollars(cost)}*"
    )
    assert server.usage.totals().input == 12_340


async def test_configure_prices_override_the_list_for_any_model(store_path: Path) -> None:
    configure(prices={"ScriptedModel": {"input": 2.0, "output": 10.0, "cached": 0.5}})
    model = ScriptedModel([step(assistant_message("Hi."), used=usage(1_000_000, 100_000, 400_000))])
    client = ChatClient(NotebookChatServer(NotebookStore(store_path), model=model))
    _, events = await client.create("hi")
    tokens = receipt_tokens(receipt_of(events))
    assert tokens is not None
    assert tokens.cost == pytest.approx(0.6 * 2.0 + 0.4 * 0.5 + 0.1 * 10.0)  # $2.40
    assert tokens.priced_by == "configure(prices=...)"
    assert tokens_line(receipt_of(events)).endswith(" · $2.40")


async def test_a_model_the_price_list_does_not_know_says_price_unknown(store_path: Path) -> None:
    model = ScriptedModel([step(assistant_message("Hi."), used=usage(500, 20))])
    server = NotebookChatServer(NotebookStore(store_path), models={"my-private-model-7b": model})
    _, events = await ChatClient(server).create("hi", model="my-private-model-7b")
    assert tokens_line(receipt_of(events)) == "Tokens: 500 in · 20 out · price unknown"
    assert server.usage.totals().line() == ("1 turn · 500 tokens in · 20 out · price unknown")


async def test_a_model_without_usage_gets_n_a(store_path: Path) -> None:
    model = ScriptedModel([[assistant_message("Hi.")]])  # reports no usage
    _, events = await ChatClient(NotebookChatServer(NotebookStore(store_path), model=model)).create(
        "hi"
    )
    assert tokens_line(receipt_of(events)) == "Tokens: n/a (the endpoint reported no usage)"


@pytest.fixture
def endpoint(fake_openai: FakeOpenAI, store_path: Path) -> Iterator[ChatClient]:
    configure(model="test-model", base_url=fake_openai.base_url, max_retries=0)
    return ChatClient(NotebookChatServer(NotebookStore(store_path)))


async def test_an_openai_compatible_endpoint_is_asked_for_usage_over_http(
    endpoint: ChatClient, fake_openai: FakeOpenAI, store_path: Path
) -> None:
    reported = {
        "prompt_tokens": 1_200,
        "completion_tokens": 30,
        "total_tokens": 1_230,
        "prompt_tokens_details": {"cached_tokens": 1_024},
    }
    fake_openai.script(Turn.text("Hello.", usage=reported))
    thread_id, events = await endpoint.create("hi")
    (request,) = fake_openai.chat_requests
    assert request.body["stream_options"] == {"include_usage": True}
    # A 127.0.0.1 endpoint is no provider genai-prices knows: no price from the name alone.
    assert (
        tokens_line(receipt_of(events))
        == "Tokens: 1,200 in (1,024 cached) · 30 out · price unknown"
    )

    configure(prices={"test-model": {"input": 1.0, "output": 4.0}})
    fake_openai.script(Turn.text("Again.", usage=reported))
    events = await endpoint.send(thread_id, "again")
    assert tokens_line(receipt_of(events)) == "Tokens: 1,200 in (1,024 cached) · 30 out · $0.0013"

    # Kept with the thread: a new store object (a restart) reads the counts back.
    store = NotebookStore(store_path)
    page = await store.load_thread_items(thread_id, None, 100, "asc", NotebookContext())
    totals = thread_tokens(page.data)
    assert (totals.turns, totals.input, totals.cached, totals.output) == (2, 2_400, 2_048, 60)
    assert totals.line() == (
        "2 turns · 2,400 tokens in (2,048 cached) · 60 out · $0.0013 (price unknown for 1)"
    )


async def test_an_endpoint_that_reports_no_usage_gets_n_a_over_http(
    endpoint: ChatClient, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Turn.text("Hello.").without_usage())
    _, events = await endpoint.create("hi")
    assert fake_openai.chat_requests[0].body["stream_options"] == {"include_usage": True}
    assert tokens_line(receipt_of(events)) == "Tokens: n/a (the endpoint reported no usage)"


async def test_an_old_store_without_token_counts_reads_fine(tmp_path: Path) -> None:
    path = tmp_path / "old.chatkit.json"
    shutil.copy(FIXTURES / "store-0.1.chatkit.json", path)
    store = NotebookStore(path)
    (thread, *_) = (await store.load_threads(10, None, "desc", NotebookContext())).data
    items = (await store.load_thread_items(thread.id, None, 100, "asc", NotebookContext())).data
    receipts = [item for item in items if is_receipt(item)]
    assert receipts
    assert all(receipt_tokens(item) is None for item in receipts)
    totals = thread_tokens(items)
    assert totals.turns == len(receipts)
    assert totals.line().endswith("tokens n/a")


def test_totals_say_what_they_could_not_count() -> None:
    totals = TokenTotals()
    assert totals.line() == "no turns yet"
    totals.add(TurnTokens(1, 1, 1_000, 0, 10, 0.002, "genai-prices"))
    totals.add(TurnTokens(1, 0))  # no usage reported
    totals.add(None)  # a receipt from before tokens were counted
    assert totals.line() == (
        "3 turns · 1,000 tokens in · 10 out · $0.0020 (1 without usage from the endpoint; "
        "1 from before tokens were counted)"
    )


@pytest.mark.parametrize(
    ("prices", "said"),
    [
        ({"m": {"input": 1}}, "must give 'input' and 'output'"),
        ({"m": {"input": 1, "output": -2}}, "prices['m']['output'] must be dollars per million"),
        ({"m": {"input": 1, "output": 2, "cache": 1}}, "has ['cache']; the keys are"),
        ({"": {"input": 1, "output": 2}}, "'' is not a model name"),
        ([1, 2], "prices must be a mapping"),
    ],
)
def test_bad_prices_are_refused_and_change_nothing(prices: object, said: str) -> None:
    configure(prices={"kept": {"input": 1, "output": 2}})
    with pytest.raises(ConfigError, match=r".*" + said.replace("[", r"\[").replace("]", r"\]")):
        configure(prices=prices)  # type: ignore[arg-type]
    assert price_overrides() == {"kept": ModelPrice(1.0, 2.0)}


@pytest.fixture(name="shell")
def shell_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("CHATKIT_NOTEBOOK_STORE", str(tmp_path / "nb.chatkit.json"))
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "chatkit_notebook")
    yield ip
    ip.run_line_magic("unload_ext", "chatkit_notebook")


def test_chatkit_usage_gives_the_threads_and_the_kernels_totals(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    session = chatkit_notebook.kernel.session.loaded()
    assert session is not None
    configure(prices={"ScriptedModel": {"input": 1.0, "output": 2.0}})
    session.server().model = ScriptedModel(
        [
            step(assistant_message("One."), used=usage(1_000, 100)),
            step(assistant_message("Two."), used=usage(2_000, 200)),
            step(assistant_message("Three."), used=usage(4_000, 400)),
        ]
    )
    with capture_output() as empty:
        shell.run_line_magic("chatkit", "usage")
    assert empty.stdout.splitlines()[0].startswith("This thread: no current thread")
    shell.run_line_magic("chat", "first?")
    shell.run_line_magic("chat", "second?")
    shell.run_line_magic("chatkit", "new")
    shell.run_line_magic("chat", "third, in a new thread?")
    with capture_output() as captured:
        shell.run_line_magic("chatkit", "usage")
    assert captured.stdout.splitlines() == [
        "This thread: 1 turn · 4,000 tokens in · 400 out · $0.0048",
        "This kernel: 3 turns · 7,000 tokens in · 700 out · $0.0084 (since it started)",
    ]
    out = tmp_path / "export.md"
    shell.run_line_magic("chatkit", f"export {out}")
    text = out.read_text()
    assert "Tokens: 4,000 in · 400 out · $0.0048" in text  # the turn's receipt line
    assert text.rstrip().endswith(
        "*Usage of this thread: 1 turn · 4,000 tokens in · 400 out · $0.0048*"
    )
