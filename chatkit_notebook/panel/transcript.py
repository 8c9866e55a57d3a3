"""A conversation as static text: the export, the ``%chat`` cell, and the saved notebook.

A live panel or card is a widget: a notebook saved with it, opened where no kernel runs
(nbviewer, GitHub, ``jupyter nbconvert``, JupyterLab and Notebook 7 before the kernel ran
the cell), has no widget to draw. So each live view is followed by a *transcript*: the
same thread as Markdown, in an output of its own that the live view hides (``panel.css``)
and keeps up to date while it lives (in VS Code and Colab, which draw each output on its
own, the two are one output's two forms instead: see :func:`one_output`). What it holds
is what the views show: questions, answers, steps with the code that ran, decided cards,
figures (within a size budget), the receipts, "Stopped"; never a tool's raw result (those
are hidden items, for the model).

Everything here is made from thread items the server already redacted; the answers'
Markdown is rendered as Markdown by whoever shows it (Lab and GitHub sanitise it).
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Literal

from chatkit.types import (
    AssistantMessageItem,
    GeneratedImageItem,
    ThreadItem,
    UserMessageItem,
    WorkflowItem,
)

from .._client import ChatKitClient
from .._items import (
    card_call_id,
    card_code,
    card_status,
    figure_png,
    is_approval_card,
    is_receipt,
    is_stopped_mark,
    read_sources,
    receipt_line,
    task_code,
)

__all__ = [
    "FIGURE_BUDGET",
    "TRANSCRIPT_CLASS",
    "WIDGET_LINE",
    "Shown",
    "one_output",
    "show_with_transcript",
    "step_markdown",
    "thread_items",
    "thread_markdown",
    "transcript_bundle",
    "update_transcripts",
]

logger = logging.getLogger("chatkit_notebook")

FIGURE_BUDGET = 400_000
"""The most base64 characters of figures one saved transcript keeps (about 300 KB of PNG);
a figure past it is named, not embedded, so a chat full of plots cannot bloat the file."""

TRANSCRIPT_CLASS = "ck-transcript"
"""The class of the saved transcript's element: the live view's CSS hides it."""

Code = Literal["fence", "details", "none"]

_BASE64 = re.compile(r"[A-Za-z0-9+/=]+")


async def thread_items(client: ChatKitClient, thread_id: str) -> list[ThreadItem]:
    """Every item of a thread a client gets, oldest first (page by page)."""
    found: list[ThreadItem] = []
    after = None
    while True:
        page = await client.items(thread_id, limit=200, order="asc", after=after)
        found.extend(page.data)
        if not page.has_more:
            return found
        after = page.after


def _fence(code: str) -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}python\n{code.rstrip()}\n{fence}"


def _shown_code(code: str, how: Code) -> str:
    if how == "fence":
        return _fence(code)
    if how == "details":  # one click away, as in the panel's step
        return f"<details><summary>Code</summary>\n\n{_fence(code)}\n\n</details>"
    return ""


def step_markdown(item: WorkflowItem, *, code: Code = "details") -> str:
    """A finished step as Markdown: its tasks' titles on one line, then each task's code."""
    tasks = item.workflow.tasks
    titles = [title for task in tasks if (title := getattr(task, "title", None))]
    parts = ["*" + " · ".join(titles) + "*"] if titles else []
    if code != "none":
        parts += [_shown_code(ran, code) for task in tasks if (ran := task_code(task))]
    return "\n\n".join(parts)


def _user_text(item: UserMessageItem) -> str:
    return " ".join(text for part in item.content if (text := getattr(part, "text", "")))


def thread_markdown(
    items: Iterable[ThreadItem],
    *,
    code: Code = "fence",
    figures: int | None = 0,
    questions: bool = True,
    redact: Callable[[str], str] | None = None,
    stale: Callable[[dict[str, dict[str, Any]]], list[str]] | None = None,
) -> str:
    """Thread items as Markdown, oldest first.

    Args:
        items: The items a client gets (hidden ones are skipped anyway).
        code: How a step's code and a card's code are shown: fenced, in a collapsed
            ``<details>`` (one click away), or not at all.
        figures: How many base64 characters of figures to embed as images (``None``: no
            limit; ``0``: a figure is only named).
        questions: Whether the person's questions are shown (``**You:** ...``).
        redact: Applied to every part but the figures: the kernel passes its redactor, as
            a card holds the code it asks about as the model wrote it, secrets and all.
        stale: What changed since an answer read its variables (the kernel's stale-answer
            watch), quoted under the answer; ``None`` says nothing of it.
    """
    parts: list[str] = []
    clean = redact or (lambda text: text)
    budget = figures
    answer: int | None = None  # where this turn's last answer is in ``parts``
    for item in items:
        if isinstance(item, UserMessageItem):
            answer = None  # a new turn: a mark from here on is about its answer
            if questions:
                parts.append(clean("**You:** " + _user_text(item)))
        elif isinstance(item, AssistantMessageItem):
            parts.append(clean("".join(part.text for part in item.content)))
            answer = len(parts) - 1
            sources = read_sources(item) if stale is not None else {}
            if stale is not None and sources:
                parts.extend(f"> {line}" for line in stale(sources))
        elif is_stopped_mark(item):
            # Under the answer it is about, as the panel shows it: the mark is stored
            # after what the stream kept as it was cut (the turn's receipt).
            at = len(parts) if answer is None else answer + 1
            parts.insert(at, "*Stopped: the answer above is cut short.*")
        elif isinstance(item, WorkflowItem) and is_receipt(item):
            parts.append(receipt_line(item))
        elif isinstance(item, WorkflowItem):
            parts.append(clean(step_markdown(item, code=code)))
        elif is_approval_card(item):
            parts.append(clean(_card_markdown(item, code)))
        elif (png := figure_png(item)) is not None and isinstance(item, GeneratedImageItem):
            if budget is None or (len(png) <= budget and _BASE64.fullmatch(png)):
                parts.append(f"![A figure the agent's code made](data:image/png;base64,{png})")
                budget = None if budget is None else budget - len(png)
            else:
                parts.append("*A figure (not kept in this transcript: run the cell to see it)*")
    return "\n\n".join(part for part in parts if part)


# Where no kernel draws the widget the transcript stands for, JupyterLab and Notebook 7 show
# "Error displaying widget: model not found" in its place (a trusted notebook's output: its
# Markdown keeps this style; elsewhere the widget's plain text shows, and this is dropped).
# A live widget's output holds the widget's elements, so the rule never hides one.
_HIDE_DEAD_WIDGET = (
    "<style>.jp-OutputArea-child:has(+ .jp-OutputArea-child .ck-transcript)"
    " > .jp-OutputArea-output.jupyter-widgets:not(:has(*)) { display: none; }</style>\n\n"
)


def _card_markdown(item: Any, code: Code) -> str:
    ran = card_code(item)
    status = card_status(item)
    # An approved card's code is in the step that ran it, just below.
    shown = _shown_code(ran, code) if ran and not (status or "").startswith("Approved") else ""
    if card_call_id(item) is not None:
        head = "*The agent asks to run Python (not decided):*"
    else:
        head = f"*Python: {status or 'decided'}*"
    return "\n\n".join(part for part in (head, shown) if part)


def transcript_bundle(
    items: Iterable[ThreadItem],
    *,
    title: str | None,
    what: str,
    then: str = "Run this cell to continue.",
    figures: int | None = FIGURE_BUDGET,
    redact: Callable[[str], str] | None = None,
) -> dict[str, str]:
    """The saved notebook's copy of a live view: Markdown, and one line of plain text.

    Args:
        items: The view's thread items.
        title: The thread's title, if it has one.
        what: What the live view is ("chat panel", "approval card").
        then: How to continue.
        figures: The figures' budget (see :func:`thread_markdown`).
        redact: The kernel's redactor (see :func:`thread_markdown`).
    """
    listed = list(items)
    body = thread_markdown(listed, code="details", figures=figures, redact=redact)
    name = f" “{title}”" if title else ""
    head = f"**Chat{name}** — a saved transcript of the {what}. {then}"
    count = sum(isinstance(i, (UserMessageItem, AssistantMessageItem)) for i in listed)
    if not body:
        head += " (no messages yet)"
    markdown = f'{_HIDE_DEAD_WIDGET}<div class="{TRANSCRIPT_CLASS}">\n\n{head}\n\n{body}\n\n</div>'
    plain = f"Chat{name}: {count} messages, a saved transcript of the {what}. {then}"
    return {"text/markdown": markdown, "text/plain": plain}


WIDGET_LINE = (
    "A live chat view: run this cell, with its kernel, to see it "
    "(a saved transcript of it follows)."
)
"""The widget output's plain text (shown where widgets are not: nbconvert, GitHub)."""


Shown = list[tuple[str, dict[str, Any]]]
"""The transcripts a live view showed: each one's display id, and what goes with it in its
output (the view itself where the two share one output, else nothing)."""


def one_output() -> bool:
    """Whether the live view and its transcript go in one output (VS Code, Colab) rather
    than two (JupyterLab, Notebook 7, and any other front end).

    JupyterLab and Notebook 7 lay a cell's outputs out in one page, where the live view's
    CSS hides the transcript after it; a saved notebook reopened there without a kernel
    shows the transcript, and hides the widget output it cannot draw. VS Code and Colab
    draw each output on its own, with classes of their own, so the transcript would show
    under the live view: there both are one output's forms, ``application/vnd.jupyter.
    widget-view+json`` and ``text/markdown``, of which a front end draws one: VS Code and
    Colab draw the widget; nbconvert, nbviewer and GitHub, which have no widget state,
    the Markdown. (Reopened in JupyterLab, such a notebook says the widget's model is not
    found: JupyterLab prefers the widget form whether or not it can draw it.)
    """
    if "google.colab" in sys.modules:
        return True
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and "__vsc_ipynb_file__" in shell.user_ns


def show_with_transcript(widget: Any, shown: Shown, bundle: dict[str, str]) -> None:
    """Display ``widget`` and ``bundle``, its transcript (after it, or in the same output:
    see :func:`one_output`); the transcript's output is added to ``shown``, for
    :func:`update_transcripts`."""
    from IPython.display import display

    view = {k: v for k, v in widget._repr_mimebundle_().items() if k != "text/plain"}
    display_id = f"ck-transcript-{uuid.uuid4().hex}"
    if one_output():
        display({**bundle, **view}, raw=True, display_id=display_id)
        shown.append((display_id, view))
        return
    display({**view, "text/plain": WIDGET_LINE}, raw=True)
    display(bundle, raw=True, display_id=display_id)
    shown.append((display_id, {}))


def update_transcripts(shown: Shown, bundle: dict[str, str]) -> None:
    """Replace each transcript in ``shown`` by ``bundle`` (any thread: the front end finds
    the output by its display id). Never raises: the transcript is a copy, the chat goes on."""
    from IPython.display import update_display

    for display_id, view in shown:
        try:
            update_display({**bundle, **view}, raw=True, display_id=display_id)
        except Exception:
            logger.debug("could not update a chat transcript", exc_info=True)
