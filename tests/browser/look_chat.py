"""The thread the look-and-feel browser test opens: longer than a page of history, ending
with every kind of item the panel draws.

``seed`` writes, through the real :class:`~chatkit_notebook.NotebookStore`, 28 questions and
answers of real length (``long_chat.answer``), then a question naming ``@sales``, the step
that read it ("Read `sales` (6 x 4)", with a multiplication sign; collapsed after 0 s, as
the Agents SDK leaves it), a decided approval card, an answer with code and a table, the
turn's receipt, and an open approval card: 64 items, so the panel shows the newest 50 and
offers "Load earlier messages". The test process imports this module as
``browser.look_chat``; the kernel does not need it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

try:
    from . import long_chat
except ImportError:  # imported as a top-level module
    import long_chat  # type: ignore[no-redef]

THREAD_TITLE = "Look and feel"
EXCHANGES = 28
STEP_TITLE = "Read `sales` (6 \u00d7 4)"
DECIDED_STATUS = "Approved at 10:42: it ran (see the step below)"
ASKED = "Compare @sales with last year, please."
CODE = "totals = sales.groupby('region')['units'].sum()\ntotals.sort_values()"


def seed(path: Path) -> str:
    """Write the thread into the store file at ``path``; return its id."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _seed(path)).result()


async def _seed(path: Path) -> str:
    from chatkit.types import (
        AssistantMessageContent,
        AssistantMessageItem,
        CustomTask,
        DurationSummary,
        InferenceOptions,
        ThreadMetadata,
        UserMessageItem,
        UserMessageTextContent,
        WidgetItem,
        Workflow,
        WorkflowItem,
    )

    from chatkit_notebook import NotebookContext, NotebookStore
    from chatkit_notebook._items import decided_card, receipt_item, variable_tag
    from chatkit_notebook.agent.run_python import approval_card

    store = NotebookStore(path)
    context = NotebookContext()
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    thread = ThreadMetadata(
        id=store.generate_thread_id(context), title=THREAD_TITLE, created_at=start
    )
    await store.save_thread(thread, context)
    moment = start

    def next_id(kind: str = "message") -> tuple[str, datetime]:
        nonlocal moment
        moment += timedelta(seconds=30)
        return store.generate_item_id(kind, thread, context), moment  # type: ignore[arg-type]

    async def add(item: object) -> None:
        await store.add_thread_item(thread.id, item, context)  # type: ignore[arg-type]

    def user(text: str, *tags: str) -> UserMessageItem:
        item_id, at = next_id()
        content: list[object] = [UserMessageTextContent(text=text)]
        content += [variable_tag(tag) for tag in tags]
        return UserMessageItem(
            id=item_id,
            thread_id=thread.id,
            created_at=at,
            content=content,  # type: ignore[arg-type]
            inference_options=InferenceOptions(),
        )

    def assistant(text: str) -> AssistantMessageItem:
        item_id, at = next_id()
        return AssistantMessageItem(
            id=item_id,
            thread_id=thread.id,
            created_at=at,
            content=[AssistantMessageContent(text=text)],
        )

    for index in range(EXCHANGES):
        topic = long_chat.TOPICS[index % len(long_chat.TOPICS)][0]
        await add(user(f"{topic} (take {index + 1})"))
        await add(assistant(long_chat.answer(index % len(long_chat.TOPICS))))
    await add(user(ASKED, "sales"))
    step_id, at = next_id("workflow")
    await add(
        WorkflowItem(
            id=step_id,
            thread_id=thread.id,
            created_at=at,
            workflow=Workflow(
                type="custom",
                tasks=[CustomTask(title=STEP_TITLE, status_indicator="complete")],
                summary=DurationSummary(duration=0),
                expanded=False,
            ),
        )
    )
    names = {"sales", "totals"}
    card_id, at = next_id()
    card = decided_card(approval_card(CODE, "call_seen", names), DECIDED_STATUS, ran=True)
    await add(WidgetItem(id=card_id, thread_id=thread.id, created_at=at, widget=card))
    await add(
        assistant(
            "North sold the most, **1,240** units; see [the docs](https://example.com).\n\n"
            + long_chat.answer(3)
        )
    )
    receipt_id, _ = next_id("workflow")
    await add(
        receipt_item(
            thread_id=thread.id,
            item_id=receipt_id,
            summary="Sent to scripted · 6,210 characters",
            lines=[f"{STEP_TITLE} · 1,034 characters", "0 secrets redacted"],
        )
    )
    open_id, at = next_id()
    card = approval_card("import os\ntotals = os.listdir('.')", "call_open", names)
    await add(WidgetItem(id=open_id, thread_id=thread.id, created_at=at, widget=card))
    return thread.id
