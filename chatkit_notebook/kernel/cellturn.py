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
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from IPython.display import display

if TYPE_CHECKING:
    from chatkit.types import UserMessageTagContent
    from IPython.core.interactiveshell import InteractiveShell

    from .._client import ChatKitClient, ThreadState
    from ..runtime import Runtime

__all__ = [
    "PREVIEW_HZ",
    "ChatStopped",
    "TurnOutput",
    "ask",
    "has_front_end",
    "markdown_output",
    "output_for",
    "prints_updates",
]

PREVIEW_HZ = 10


def ask(
    text: str,
    *,
    client: ChatKitClient,
    runtime: Runtime,
    thread_id: str | None,
    offered: Collection[str],
    on_created: Callable[[str], Coroutine[Any, Any, None]],
    output: TurnOutput,
    changes: Callable[[str | None], object] | None = None,
    stale: Callable[[dict[str, dict[str, Any]]], list[str]] | None = None,
    stale_changes: Callable[[Callable[[], object]], Callable[[], None]] | None = None,
    tags: Sequence[UserMessageTagContent] = (),
) -> str:
    """Run one turn in ``thread_id`` (``None``: a new thread), streaming into ``output``;
    return the answer.

    Args:
        text: The question; ``@name`` of an ``offered`` variable points the agent at it.
        client: The ChatKit client the turn is asked through.
        runtime: The loop the client's requests run on.
        thread_id: The thread to ask in, or ``None`` to start one.
        offered: The variables a question may tag with ``@``.
        on_created: Called with a new thread's id when the turn starts one; the coroutine
            it returns runs on the loop.
        output: Where the answer goes (:func:`output_for`), and who answers approval cards.
        changes: The store's change token, so a card left in the cell follows a decision
            taken in the panel.
        stale, stale_changes: The stale-answer watch's ``notes`` and ``listen``, so an
            answer a card left in the cell is marked when what it read changes.
        tags: Tags to send besides the ``@name`` ones (the error of the cell before).

    Raises:
        ChatStopped: the kernel's interrupt stopped the answer (what arrived is kept).
    """
    from .._client import message_request, variable_tags

    named = variable_tags(text, set(offered))  # `@df` points the agent at df
    turn = _Turn(client, runtime, thread_id, on_created, output)
    failure = turn.stream(message_request(thread_id, text, tags=[*named, *tags]))
    waiting = _open_cards(turn.state)
    while waiting and turn.thread_id is not None:
        decisions = output.decide(waiting)
        if decisions is None:
            break  # the cards stay in the cell, to be clicked
        for card, approve, unattended in decisions:
            act = _decision_request(turn.thread_id, card, approve, unattended)
            failure = turn.stream(act) or failure
        waiting = _open_cards(turn.state)
    left = bool(waiting) and turn.thread_id is not None  # the cards stay, to be clicked
    # A turn that waits has a receipt so far, which its end replaces: the card shows it,
    # so the cell keeps one receipt, the turn's, and not the pause's beside it.
    answer = _transcript(turn.state, output.cards, receipts=not left)
    output.finish(answer)
    output.figures(turn.state)
    if left and turn.thread_id is not None:
        from .._items import is_receipt
        from ..panel.cellcard import CellCard
        from ..previews.redact import redact_text

        receipts = [item for item in turn.state.items.values() if is_receipt(item)]
        card = CellCard(
            client,
            runtime,
            turn.thread_id,
            [*waiting, *receipts],
            redact=redact_text,
            changes=changes,
            stale=stale,
            stale_changes=stale_changes,
        )
        display(card)
    errors = [e.message or "Something went wrong while answering." for e in turn.state.errors]
    for message in [*errors, *([failure] if failure else [])]:
        print(f"chat: {message}")
    return answer


class _Turn:
    """One ``%chat`` turn's requests: the thread they are in, and the state they built."""

    def __init__(
        self,
        client: ChatKitClient,
        runtime: Runtime,
        thread_id: str | None,
        on_created: Callable[[str], Coroutine[Any, Any, None]],
        output: TurnOutput,
    ) -> None:
        from .._client import ThreadState

        self.client = client
        self.runtime = runtime
        self.thread_id = thread_id
        self.on_created = on_created
        self.output = output
        self.state = ThreadState()

    def stream(self, request: Any) -> str | None:
        """Stream one request's events into the state and the output; the failure, if any.

        Raises:
            ChatStopped: the kernel's interrupt stopped the answer (what arrived is kept).
        """
        client, output, state = self.client, self.output, self.state
        failure: str | None = None
        last = 0.0
        # Held so it can be closed: an interrupt can land outside the bridge's own wait
        # (while the preview updates), and a traceback kept by IPython would keep an
        # unclosed generator, and so the model's stream, alive.
        stream = self.runtime.iterate(lambda: client.stream(request), idle=1 / PREVIEW_HZ)
        try:
            for event in stream:
                # A card of another turn, closed by this one (a newer message came), is news
                # for the view that shows it, not for this cell.
                foreign = (
                    event is not None
                    and event.type == "thread.item.replaced"
                    and event.item.id not in state.items
                )
                if event is not None and not foreign:  # None: a pause, for the preview
                    state.apply(event)
                    if event.type == "thread.created":
                        self.thread_id = event.thread.id
                        self.runtime.submit(self.on_created(event.thread.id))
                now = time.monotonic()
                # A terminal cannot take back what it wrote: the receipt (which a resumed
                # run replaces) waits for the end there.
                if now - last >= 1 / PREVIEW_HZ and output.show(
                    _transcript(state, output.cards, receipts=output.cards)
                ):
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


def _transcript(state: ThreadState, cards: bool = True, *, receipts: bool = True) -> str:
    """A turn's answer as Markdown: its messages and, before each, what the agent read.

    The steps are the panel's (``*Read `df` (1,000 by 12)*``): names and shapes, never
    values. The turn's receipt ends it, as one line (``*Sent to gpt-4.1 · ...*``). With
    ``cards``, an approval card says it waits, or what became of it (a terminal asks,
    and shows the answer, instead).
    """
    from chatkit.types import AssistantMessageItem, WorkflowItem

    from .._items import card_call_id, card_status, is_receipt, is_stopped_mark, receipt_line
    from ..panel.transcript import step_markdown

    parts = []
    for item in state.items.values():
        if isinstance(item, AssistantMessageItem):
            parts.append("".join(part.text for part in item.content))
        elif isinstance(item, WorkflowItem) and is_receipt(item):
            if receipts:
                parts.append(receipt_line(item))  # what left the kernel, in one line
        elif cards and card_call_id(item) is not None:
            parts.append("*The agent asks to run Python: Run or Don't run, below.*")
        elif cards and (status := card_status(item)) is not None:
            parts.append(f"*Python: {status}*")  # what became of it, and how to allow it
        elif is_stopped_mark(item):
            parts.append("*Stopped: the answer above is cut short.*")
        elif isinstance(item, WorkflowItem) and item.id not in state.streaming:
            # The code one click away (a terminal showed it when it asked, or ran it unasked).
            parts.append(step_markdown(item, code="details" if cards else "none"))
    return "\n\n".join(part for part in parts if part)


Decision = tuple[Any, bool, bool]
"""An approval card, whether it is approved, and whether nobody was there to decide."""


class TurnOutput(Protocol):
    """Where a ``%chat`` turn's answer goes, and who answers its approval cards."""

    cards: bool
    """Whether the answer shows the approval cards and what became of them."""

    def show(self, text: str) -> bool:
        """Show the answer so far; whether anything changed."""
        ...

    def finish(self, text: str) -> None:
        """Leave the whole answer."""

    def figures(self, state: ThreadState) -> None:
        """Leave the turn's figures."""

    def decide(self, cards: list[Any]) -> list[Decision] | None:
        """Answer the approval cards (``None``: they stay in the cell, to be clicked)."""
        ...


def output_for(shell: InteractiveShell) -> TurnOutput:
    """Where a ``%chat`` turn in ``shell`` goes: a terminal gets the text as it arrives and
    is asked about approval cards; a notebook gets a preview, then Markdown, and keeps the
    cards to be clicked, or with nobody there (nbclient, nbval, papermill) declines them."""
    if prints_updates(shell):
        return _TerminalOutput(shell.user_ns)
    return _CellOutput(front_end=has_front_end(shell))


EMPTIED = {"text/html": "", "text/plain": ""}
"""What an emptied preview becomes: not empty Markdown, which JupyterLab renders into the
same element as the preview's last text, asynchronously, so the text's render could land
after the empty one and stay on screen (the answer then showed twice); a new kind of
output replaces the element. nbconvert and GitHub show nothing for it."""


class _CellOutput:
    """%chat's answer in a notebook: a live preview, then the answer as its own output.

    The preview is emptied at the end and the answer displayed anew, because nbval and
    nbconvert keep a cell's outputs but not the updates made to them.
    """

    cards = True  # the approval cards show under the answer

    def __init__(self, front_end: bool) -> None:
        self._front_end = front_end
        self._preview = display(markdown_output(""), raw=True, display_id=True)
        self._shown = ""

    def decide(self, cards: list[Any]) -> list[Decision] | None:
        """A person clicks the cards in the notebook (``None``); with nobody there, they
        are declined, saying how to allow code to run."""
        if self._front_end:
            return None
        return [(card, False, True) for card in cards]

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
            self._preview.update(EMPTIED, raw=True)
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

    def __init__(self, namespace: Mapping[str, object]) -> None:
        self._namespace = namespace
        self._shown = ""

    def decide(self, cards: list[Any]) -> list[Decision]:
        """Ask at the terminal: ``Run this code?``, with what the code reaches."""
        from .._items import card_code
        from ..agent.sandbox import held_handles, reaches

        decisions = []
        for card in cards:
            code = card_code(card) or ""
            print(f"\nThe agent asks to run this Python:\n\n{code}\n")
            handles = held_handles(self._namespace)
            for line in reaches(code, set(self._namespace), handles):
                print(f"  ! {line.replace('`', '')}")
            try:
                reply = input("Run this code? [y/N] ")
            except (EOFError, OSError):  # no one at the terminal after all
                decisions.append((card, False, True))
                continue
            decisions.append((card, reply.strip().lower() in ("y", "yes"), False))
        return decisions

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


def has_front_end(shell: InteractiveShell) -> bool:
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
