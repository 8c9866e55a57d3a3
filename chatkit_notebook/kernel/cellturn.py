"""``%chat QUESTION`` in a cell: one turn streamed into a preview, then left as Markdown.

The answer streams into a display that is updated at most ``PREVIEW_HZ`` times a second,
then is displayed anew as a plain Markdown output (nbval and nbconvert keep a cell's
outputs, not the updates made to them); a terminal IPython gets the text as it arrives.
Approval cards are answered where someone can: a terminal asks, a notebook keeps the cards
in the cell to be clicked, and with nobody there (nbclient, nbval, papermill) they are
declined, saying how to allow code to run. The kernel's interrupt stops the answer and
keeps what arrived (:class:`ChatStopped`).
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any

from IPython.display import display

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .._client import ThreadState
    from .magics import ChatSession

__all__ = ["PREVIEW_HZ", "ChatStopped", "ask", "markdown_output", "prints_updates"]

PREVIEW_HZ = 10


def ask(session: ChatSession, text: str) -> str:
    """Run one turn in the current thread, streaming into the cell; return the answer.

    Raises:
        ChatStopped: the kernel's interrupt stopped the answer (what arrived is kept).
    """
    from .._client import ThreadState, message_request, variable_tags
    from ..agent.tools import offered_variables

    offered = {name for name, _ in offered_variables(session.context())}
    tags = variable_tags(text, offered)  # `@df` points the agent at df
    request = message_request(session.thread_id, text, tags=tags)
    client = session.client
    note = session.where()
    if note:
        print(note)
    output = _TerminalOutput() if prints_updates(session.shell) else _CellOutput()
    state = ThreadState()
    failure = _stream_turn(session, request, state, output)
    waiting = _open_cards(state)
    while waiting and session.thread_id is not None:
        decisions = _decide(session, waiting)
        if decisions is None:
            break  # the cards stay in the cell, to be clicked
        for card, approve, unattended in decisions:
            act = _decision_request(session.thread_id, card, approve, unattended)
            failure = _stream_turn(session, act, state, output) or failure
        waiting = _open_cards(state)
    answer = _transcript(state, output.cards)
    output.finish(answer)
    output.figures(state)
    if waiting and session.thread_id is not None:
        from ..panel.cellcard import CellCard

        display(CellCard(client, session.runtime, session.thread_id, waiting))
    if session.pending_title and session.thread_id is not None:
        title, session.pending_title = session.pending_title, None
        session.set_title(title)
    errors = [e.message or "Something went wrong while answering." for e in state.errors]
    for message in [*errors, *([failure] if failure else [])]:
        print(f"chat: {message}")
    return answer


def _decide(session: ChatSession, cards: list[Any]) -> list[tuple[Any, bool, bool]] | None:
    """Who answers the approval cards: a person at a terminal (``Run this code?``), a
    person clicking in the notebook (``None``: the cards stay in the cell), or nobody
    (nbclient, nbval, papermill: declined, saying how to allow code to run)."""
    from .._items import card_code
    from ..agent.sandbox import reaches

    if prints_updates(session.shell):
        decisions = []
        for card in cards:
            code = card_code(card) or ""
            print(f"\nThe agent asks to run this Python:\n\n{code}\n")
            for line in reaches(code, set(session.shell.user_ns)):
                print(f"  ! {line.replace('`', '')}")
            try:
                reply = input("Run this code? [y/N] ")
            except (EOFError, OSError):  # no one at the terminal after all
                decisions.append((card, False, True))
                continue
            decisions.append((card, reply.strip().lower() in ("y", "yes"), False))
        return decisions
    if _has_front_end(session.shell):
        return None
    return [(card, False, True) for card in cards]


def _stream_turn(session: ChatSession, request: Any, state: ThreadState, output: Any) -> str | None:
    """Stream one request's events into ``state`` and ``output``; the failure, if any.

    Raises:
        ChatStopped: the kernel's interrupt stopped the answer (what arrived is kept).
    """
    client = session.client
    failure: str | None = None
    last = 0.0
    # Held so it can be closed: an interrupt can land outside the bridge's own wait
    # (while the preview updates), and a traceback kept by IPython would keep an
    # unclosed generator, and so the model's stream, alive.
    stream = session.runtime.iterate(lambda: client.stream(request), idle=1 / PREVIEW_HZ)
    try:
        for event in stream:
            if event is not None:  # None: a pause, when the throttled preview catches up
                state.apply(event)
                if event.type == "thread.created":
                    session.runtime.submit(session.follow(event.thread.id))
            now = time.monotonic()
            if now - last >= 1 / PREVIEW_HZ and output.show(_transcript(state, output.cards)):
                last = now
    except KeyboardInterrupt:
        stream.close()
        output.finish(_transcript(state, output.cards))
        raise ChatStopped from None
    except Exception as error:  # unknown thread and the like, raised before streaming
        failure = str(error) or type(error).__name__
    finally:
        stream.close()  # cancels the turn if it is still running, and waits for it
    return failure


class ChatStopped(KeyboardInterrupt):
    """The kernel's interrupt stopped a ``%chat`` answer: shown as one line, no traceback.

    Still a ``KeyboardInterrupt``, so a Run All stops here as it would on any interrupt.
    """

    def __str__(self) -> str:
        return "the answer was stopped; what had arrived is kept in the thread"

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines instead
        return [f"Stopped: {self}."]


def _transcript(state: ThreadState, cards: bool = True) -> str:
    """A turn's answer as Markdown: its messages and, before each, what the agent read.

    The steps are the panel's (``*Read `df` (1,000 by 12)*``): names and shapes, never
    values. The turn's receipt ends it, as one line (``*Sent to gpt-4.1 · ...*``). With
    ``cards``, an approval card says it waits, or what became of it (a terminal asks,
    and shows the answer, instead).
    """
    from chatkit.types import AssistantMessageItem, WorkflowItem

    from .._items import card_call_id, card_status, is_receipt, receipt_line

    parts = []
    for item in state.items.values():
        if isinstance(item, AssistantMessageItem):
            parts.append("".join(part.text for part in item.content))
        elif isinstance(item, WorkflowItem) and is_receipt(item):
            parts.append(receipt_line(item))  # what left the kernel, in one line
        elif cards and card_call_id(item) is not None:
            parts.append("*The agent asks to run Python: Run or Don't run, below.*")
        elif cards and (status := card_status(item)) is not None:
            parts.append(f"*Python: {status}*")  # what became of it, and how to allow it
        elif isinstance(item, WorkflowItem) and item.id not in state.streaming:
            titles = [getattr(task, "title", None) for task in item.workflow.tasks]
            if shown := [title for title in titles if title]:
                parts.append("*" + " · ".join(shown) + "*")
    return "\n\n".join(part for part in parts if part)


class _CellOutput:
    """%chat's answer in a notebook: a live preview, then the answer as its own output.

    The preview is emptied at the end and the answer displayed anew, because nbval and
    nbconvert keep a cell's outputs but not the updates made to them.
    """

    cards = True  # the approval cards show under the answer

    def __init__(self) -> None:
        self._preview = display(markdown_output(""), raw=True, display_id=True)
        self._shown = ""

    def show(self, text: str) -> bool:
        """Update the preview to ``text``; return whether anything changed."""
        if text == self._shown or self._preview is None:
            return False
        self._preview.update(markdown_output(text), raw=True)
        self._shown = text
        return True

    def finish(self, text: str) -> None:
        """Empty the preview and leave ``text``."""
        if self._preview is not None and self._shown:
            self._preview.update(markdown_output(""), raw=True)
        if text:
            display(markdown_output(text), raw=True)

    def figures(self, state: ThreadState) -> None:
        """Leave the turn's figures as ``image/png`` outputs: a saved notebook keeps them."""
        for png in _figures(state):
            display({"image/png": png, "text/plain": "<figure>"}, raw=True)


class _TerminalOutput:
    """%chat's answer in a terminal, where each display update would print anew: the
    Markdown is written as it arrives."""

    cards = False  # approval is asked with input() instead

    def __init__(self) -> None:
        self._shown = ""

    def show(self, text: str) -> bool:
        """Write what ``text`` adds to what was written; return whether anything was."""
        if len(text) <= len(self._shown) or not text.startswith(self._shown):
            return False
        sys.stdout.write(text[len(self._shown) :])
        sys.stdout.flush()
        self._shown = text
        return True

    def finish(self, text: str) -> None:
        """Write the rest of ``text`` and end the answer's line."""
        self.show(text)
        if self._shown:
            sys.stdout.write("\n")
        sys.stdout.flush()

    def figures(self, state: ThreadState) -> None:
        """A terminal shows no images: say how many there were and where to see them."""
        count = len(_figures(state))
        if count:
            print(f"({count} figure{'s' if count != 1 else ''}: open the chat panel to see them)")


def _open_cards(state: ThreadState) -> list[Any]:
    """The approval cards of the turn still waiting for a decision."""
    from .._items import card_call_id

    return [item for item in state.items.values() if card_call_id(item) is not None]


def _decision_request(thread_id: str, card: Any, approve: bool, unattended: bool) -> Any:
    from .._client import action_request
    from .._items import APPROVE, DECLINE, card_call_id

    payload: dict[str, object] = {"call_id": card_call_id(card)}
    if unattended:
        payload["unattended"] = True
    return action_request(thread_id, card.id, APPROVE if approve else DECLINE, payload)


def _figures(state: ThreadState) -> list[str]:
    """The base64 PNGs of the turn's figures."""
    from .._items import figure_png

    return [png for item in state.items.values() if (png := figure_png(item)) is not None]


def _has_front_end(shell: InteractiveShell) -> bool:
    """Whether a person may click in this notebook: a kernel under Jupyter Server (which
    sets ``JPY_SESSION_NAME``), VS Code or Colab; not nbclient, nbval or papermill."""
    if getattr(shell, "kernel", None) is None:
        return False
    return bool(
        os.environ.get("JPY_SESSION_NAME")
        or "__vsc_ipynb_file__" in shell.user_ns
        or "google.colab" in sys.modules
    )


def prints_updates(shell: InteractiveShell) -> bool:
    """Whether the shell prints display updates as new output (a terminal IPython does)."""
    from IPython.core.displaypub import DisplayPublisher

    return type(shell.display_pub) is DisplayPublisher


def markdown_output(text: str) -> dict[str, str]:
    """A raw Markdown output whose plain-text form is the text itself.

    (``IPython.display.Markdown`` would leave ``<IPython.core.display.Markdown object>`` in
    a saved notebook's emptied preview, for every front end that shows text/plain.)
    """
    return {"text/markdown": text, "text/plain": text}
