"""A long conversation for the browser tests: a seeded thread and a long streamed answer.

``seed`` writes, through the real :class:`~chatkit_notebook.NotebookStore` API, one thread of
15 questions and 15 answers of real length (paragraphs, Markdown tables, fenced Python,
lists), far taller than the panel's message box. ``scripted_model`` is the offline model the
notebook ``long_conversation.ipynb`` talks to: its first answer is ``STREAMED_ANSWER``, sent
one word per delta (about 600 deltas), slowly enough that a test sees it grow.

The test process imports this module as ``browser.long_chat``; the kernel, which has only
``$CHATKIT_TESTS_DIR/browser`` on its path, as ``long_chat``.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

THREAD_TITLE = "Quarterly sales review"
NEW_QUESTION = "Can you sum up everything we found, in one long answer?"
DELTA_DELAY = 0.01  # seconds between two deltas of the streamed answer

TOPICS = [
    ("Which region sold the most last quarter?", "region", "units"),
    ("How did each product line do?", "product", "revenue"),
    ("What does the monthly trend look like?", "month", "orders"),
    ("Are returns a problem anywhere?", "region", "returns"),
    ("Did the spring discounts pay off?", "campaign", "uplift"),
    ("Which customer segments grew?", "segment", "customers"),
    ("Can you forecast next quarter?", "month", "forecast"),
    ("Are there outliers in the order sizes?", "order", "amount"),
    ("Is price correlated with volume?", "product", "price"),
    ("How is the channel mix changing?", "channel", "share"),
    ("Do we carry too much inventory?", "warehouse", "days"),
    ("How many customers churned?", "segment", "churned"),
    ("How price sensitive are the big accounts?", "account", "elasticity"),
    ("How well do the 2023 cohorts retain?", "cohort", "retained"),
    ("What should we look at next?", "area", "priority"),
]

SENTENCES = [
    "The figures come from the `sales` frame in this notebook, read as it is now.",
    "North is still the largest region, but the gap to South narrowed over the quarter.",
    "Most of the change happened in the last six weeks, after the price update.",
    "Two stores reopened in March, which explains part of the jump in West.",
    "I left out the test orders flagged in the `is_internal` column.",
    "The numbers are in units unless the column name says otherwise.",
    "Seasonality matters here: the same quarter last year showed a similar dip.",
    "A weekly view would make the turning point easier to see than a monthly one.",
    "None of this is significant on its own; taken together it is a clear pattern.",
    "If you want, I can plot the series so the trend is easier to compare.",
    "The median is a better summary than the mean here, because a few orders are huge.",
    "Returns are booked in the month they happen, not in the month of the sale.",
]


def _paragraph(seed: int, sentences: int) -> str:
    return " ".join(SENTENCES[(seed * 5 + k * 7) % len(SENTENCES)] for k in range(sentences))


def _table(key: str, measure: str, rows: int, seed: int) -> str:
    lines = [f"| {key} | {measure} | change |", "|:--|--:|--:|"]
    for r in range(rows):
        value = 1000 + ((seed + 3) * (r + 7) * 37) % 900
        lines.append(f"| {key} {r + 1} | {value:,} | {((seed + r) % 9) - 4:+d}% |")
    return "\n".join(lines)


def _code(key: str, measure: str) -> str:
    return (
        "```python\n"
        f"by_{key} = sales.groupby({key!r})[{measure!r}].agg(['sum', 'mean', 'count'])\n"
        f"by_{key}['share'] = by_{key}['sum'] / by_{key}['sum'].sum()\n"
        f"by_{key}.sort_values('sum', ascending=False).head(10)\n"
        "```"
    )


def _list(seed: int, items: int, *, numbered: bool) -> str:
    marks = [f"{i + 1}." if numbered else "-" for i in range(items)]
    return "\n".join(
        f"{m} {SENTENCES[(seed + 3 * i) % len(SENTENCES)]}" for i, m in enumerate(marks)
    )


def answer(index: int) -> str:
    """The seeded answer to question ``index``: 150 to 350 words in one of four shapes."""
    _, key, measure = TOPICS[index]
    shape = index % 4
    if shape == 0:
        parts = [
            _paragraph(index, 4),
            _table(key, measure, 5 + index % 3, index),
            _paragraph(index + 1, 5),
            _paragraph(index + 2, 3),
        ]
    elif shape == 1:
        parts = [
            _paragraph(index, 3),
            _code(key, measure),
            _paragraph(index + 1, 4),
            _list(index, 4, numbered=False),
        ]
    elif shape == 2:
        parts = [
            f"Three things stand out about **{measure}** by {key}:",
            _list(index, 3, numbered=True),
            _paragraph(index, 5),
            _paragraph(index + 3, 4),
        ]
    else:
        parts = [
            _paragraph(index, 2),
            _table(key, measure, 4, index),
            _code(key, measure),
            _list(index + 1, 3, numbered=False),
            _paragraph(index + 2, 4),
        ]
    return "\n\n".join(parts)


def _streamed_answer() -> str:
    paragraphs = []
    for n in range(5):
        paragraphs.append(_paragraph(20 + n, 7 + n % 2))
        if n == 2:
            paragraphs.append(_list(n, 5, numbered=False))
    paragraphs.append(
        "That is everything the notebook shows so far, and this is where the long answer ends."
    )
    return "\n\n".join(paragraphs)


STREAMED_ANSWER = _streamed_answer()
STREAMED_CHUNKS = re.findall(r"\s*\S+", STREAMED_ANSWER)  # one word (and the space before it)
STREAMED_LAST_WORD = STREAMED_CHUNKS[-1].strip()


def streamed_words() -> list[str]:
    """The words of ``STREAMED_ANSWER`` as a page shows them: no list marks, no backticks."""
    shown = re.sub(r"^- ", "", STREAMED_ANSWER, flags=re.MULTILINE).replace("`", "")
    return shown.split()


def seed(path: Path) -> str:
    """Write the 30-message thread into the store file at ``path``; return the thread's id.

    Runs the store's coroutines on a loop of its own, in a thread: the caller may already be
    inside an event loop (Playwright's sync API keeps one running).
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _seed(path)).result()


async def _seed(path: Path) -> str:
    from chatkit.types import (
        AssistantMessageContent,
        AssistantMessageItem,
        InferenceOptions,
        ThreadMetadata,
        UserMessageItem,
        UserMessageTextContent,
    )

    from chatkit_notebook import NotebookContext, NotebookStore

    store = NotebookStore(path)
    context = NotebookContext()
    start = datetime.now(timezone.utc) - timedelta(hours=2)
    thread = ThreadMetadata(
        id=store.generate_thread_id(context), title=THREAD_TITLE, created_at=start
    )
    await store.save_thread(thread, context)
    for index, (question, _, _) in enumerate(TOPICS):
        asked = start + timedelta(minutes=4 * index)
        await store.add_thread_item(
            thread.id,
            UserMessageItem(
                id=store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=asked,
                content=[UserMessageTextContent(text=question)],
                inference_options=InferenceOptions(),
            ),
            context,
        )
        await store.add_thread_item(
            thread.id,
            AssistantMessageItem(
                id=store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=asked + timedelta(seconds=20),
                content=[AssistantMessageContent(text=answer(index))],
            ),
            context,
        )
    return thread.id


def scripted_model(delay: float = DELTA_DELAY) -> Any:
    """The notebook's model: ``STREAMED_ANSWER`` one word per delta, then spare answers."""
    from agents.testing import ScriptedModel
    from scripted import slowed, streamed_text  # tests/scripted.py

    # A scripted model raises when it runs out of steps.
    spares = [streamed_text(["A spare answer."]) for _ in range(3)]
    return ScriptedModel([slowed(streamed_text(STREAMED_CHUNKS), delay), *spares])
