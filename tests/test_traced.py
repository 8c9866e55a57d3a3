"""Traced numbers: each number of an answer is looked for in what the turn read or ran."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.types import WorkflowItem
from scripted import ChatClient
from test_panel import _card_buttons, html_of, make_panel, type_and_send

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._items import is_receipt, receipt_line, untraced_numbers
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.agent.traced import numbers_in, trace
from chatkit_notebook.panel.markdown import render_markdown
from chatkit_notebook.runtime import Runtime

ANSWERS = Path(__file__).parent / "fixtures" / "traced" / "answers.json"
MARK = (
    '<span class="ck-untraced" title="not found in anything the agent read or computed this turn">'
)


def written(text: str) -> list[str]:
    return [number.text for number in numbers_in(text)]


def test_numbers_are_read_as_written() -> None:
    text = "Sales rose 12.3% to $1.2M across 1,234 orders (about 1,200); the mean was 45.67."
    assert written(text) == ["12.3%", "$1.2M", "1,234", "1,200", "45.67"]


def test_years_list_numbering_dates_code_and_words_are_not_checked() -> None:
    text = (
        "In 2023 and 2024 the totals were:\n\n"
        "1. North, on 2024-03-15 at 10:30\n"
        "2) South, `df.iloc[5]`, Q3 and the 3rd week\n\n"
        "```python\nprint(42)\n```\n"
    )
    assert written(text) == []


@pytest.mark.parametrize(
    ("answer", "source", "traced"),
    [
        ("1,234", "1234.4", True),  # less than one unit off: rounded or cut
        ("1,234", "1233.0", False),  # one whole unit off: another number
        ("1.2M", "1234567", True),
        ("1.3M", "1234567", False),
        ("about 1,200", "1180", True),  # its zeros say hundreds
        ("12.3%", "0.1234", True),  # a fraction, as a percentage
        ("12.3%", "12.34", True),
        ("12.3%", "0.1254", False),
        ("a fall of 5%", "-0.05", True),  # signs are not compared
        ("45.67", "45.6712", True),
        ("45.67", "45.6812", False),
        ("$12.5k", "12,480", True),  # printed output with separators
    ],
)
def test_a_number_is_traced_within_the_rounding_it_is_written_with(
    answer: str, source: str, traced: bool
) -> None:
    found = trace([answer], [source])
    assert found.checked == 1
    assert (found.untraced == []) is traced


def test_the_questions_numbers_are_not_the_answers_claims() -> None:
    found = trace(["The top 5 are listed; 17 is untraced."], [], "Show the top 5")
    assert found.checked == 1
    assert found.untraced == ["17"]
    assert found.line() == "1 number: 0 traced, 1 not"


def test_the_recorded_answers_have_few_false_flags() -> None:
    cases = json.loads(ANSWERS.read_text(encoding="utf-8"))
    assert len(cases) >= 30
    false = should_trace = missed = 0
    for case in cases:
        found = trace([case["answer"]], case["sources"], case["question"])
        false += len(set(found.untraced) - set(case["untraced"]))
        missed += len(set(case["untraced"]) - set(found.untraced))
        should_trace += found.checked - len(case["untraced"])
    assert false / should_trace <= 0.05
    assert missed == 0  # every number made up in the set is caught


def test_the_mark_is_our_own_element_and_model_html_stays_text() -> None:
    html = render_markdown(
        'It was 77, see <span class="ck-untraced">99</span> and `77`.', untraced=["77", "99"]
    )
    assert html.count(MARK) == 2  # 77 in prose and 99 inside the escaped tag's text
    assert "&lt;span class=&quot;ck-untraced&quot;&gt;" in html  # the model's tag is text
    assert "<code>77</code>" in html  # not in code
    assert render_markdown("It was 770.", untraced=["77"]).count(MARK) == 0  # whole numbers only


async def test_the_receipt_counts_traced_and_untraced_numbers(store_path: Path) -> None:
    sales = pd.DataFrame({"region": ["north", "south"], "amount": [120.5, 80.25]})
    model = ScriptedModel(
        [
            [function_call("describe_variable", {"name": "sales"}, call_id="c1")],
            [assistant_message("North sold 120.5 and south 80.25: about 40% more, in 2024.")],
        ]
    )
    server = NotebookChatServer(NotebookStore(store_path), model=model)
    client = ChatClient(server, NotebookContext(namespace={"sales": sales}))
    _, events = await client.create("Which of the 2 regions sold most?")
    (receipt,) = [e.item for e in events if e.type == "thread.item.done" and is_receipt(e.item)]
    assert isinstance(receipt, WorkflowItem)
    titles = [getattr(task, "title", "") for task in receipt.workflow.tasks]
    assert "3 numbers: 2 traced, 1 not" in titles
    assert untraced_numbers(receipt) == ["40%"]
    assert "3 numbers: 2 traced, 1 not" in receipt_line(receipt)  # %chat's and the export's


def test_the_panel_marks_the_untraced_number_only(store_path: Path, runtime: Runtime) -> None:
    model = ScriptedModel(
        [
            [function_call("run_python", {"code": "print(6 * 7)"}, call_id="c1")],
            [assistant_message("It is 42, not 41.")],
        ]
    )
    panel = make_panel(store_path, runtime, model)
    type_and_send(panel, "Six times seven?")
    (run,) = _card_buttons(panel, "confirm")
    run.click()
    panel.wait()
    shown = html_of(panel)
    assert f"{MARK}41</span>" in shown
    assert f"{MARK}42</span>" not in shown
    assert "42" in shown
    panel.refresh().result(30)  # drawn again from the store: marked again
    panel.wait()
    assert f"{MARK}41</span>" in html_of(panel)
