"""Runs that wait for a person: what is paused, what was decided, and what code left behind.

A ``run_python`` call needs approval (unless ``configure(run_python="auto")``): the Agents
SDK pauses the run, the server shows an approval card per call, and a click on Run or
Don't run (``threads.custom_action``) decides it. :class:`PendingRuns`, one per server,
holds all the state of that flow:

* the paused runs, one per thread, with the calls each waits on and their cards;
* what became of every decided call (bounded: the oldest are forgotten), so a second click
  or a stale card says so instead of running anything;
* the sandbox's scratch names per thread (what earlier ``run_python`` calls defined);
* the steps a running ``run_python`` keeps itself when the answer is stopped.

:meth:`PendingRuns.decide` is the rule for one click. It does no I/O and returns what the
server is to do: a :class:`Notice` (nothing was decided), a :class:`Replace` (the click
came from a copy of a card decided already) or a :class:`Decided` (close the card, keep a
note, and :class:`Resume` the run once every call it waits on is decided). A decision is
taken once: a second click, a card from before a kernel restart or one a newer message
superseded runs nothing.

Tools reach the server's ``PendingRuns`` through their context, a :class:`TurnContext`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatkit.agents import AgentContext
from chatkit.types import WidgetItem

from .._items import APPROVE, DECLINE, card_call_id
from ..context import NotebookContext

if TYPE_CHECKING:
    from agents import RunResultStreaming, RunState
    from agents.items import ToolApprovalItem

    from .plan import TurnPlan
    from .receipt import Receipt

__all__ = [
    "DECLINED_MESSAGE",
    "HOW_TO_ALLOW",
    "UNATTENDED_MESSAGE",
    "Close",
    "Decided",
    "Decision",
    "Notice",
    "PendingRuns",
    "Replace",
    "Resume",
    "TurnContext",
]

MAX_DECIDED = 1000
"""How many decided calls are remembered (to answer a second click) before the oldest go."""

HOW_TO_ALLOW = (
    "To let the agent run code where nobody can approve it, run `%chatkit run auto` "
    "(or configure(run_python='auto')) before asking."
)

UNATTENDED_MESSAGE = (
    "This code did not run: running code needs the user's approval, and nobody could give "
    "it here (the notebook runs without a front end, as under nbclient or papermill). "
    "Answer without running code, and tell the user: " + HOW_TO_ALLOW
)

DECLINED_MESSAGE = (
    "The user declined to run this code, so it did not run. Do not propose the same code "
    "again; answer without running it, or ask the user what they would prefer."
)

_EXPIRED = (
    "This request to run code is no longer open (the kernel restarted, or the chat moved "
    "on): nothing was run. Ask again if you still want it."
)


class TurnContext(AgentContext[NotebookContext]):
    """The agent's context for one turn: chatkit's, and the server's pending runs."""

    pending: PendingRuns | None = None


# -- what a click comes to -----------------------------------------------------------------


@dataclass(frozen=True)
class Close:
    """Redraw the card ``card_id`` as decided, saying ``status``."""

    card_id: str
    status: str
    ran: bool = False
    card: WidgetItem | None = None  # the card as the click sent it, if it is that card


@dataclass(frozen=True)
class Notice:
    """Nothing was decided: tell the person why (and close an expired card)."""

    text: str
    close: Close | None = None


@dataclass(frozen=True)
class Replace:
    """The click came from a copy of a card decided already: send it back as stored."""

    card: WidgetItem
    text: str


@dataclass(frozen=True)
class Resume:
    """Every call the run waited on is decided: run on from where it paused."""

    plan: TurnPlan
    state: RunState[AgentContext[NotebookContext]]
    receipt: tuple[Receipt, str] | None = None  # the turn's receipt so far, and its item id


@dataclass(frozen=True)
class Decided:
    """The call is decided: close its card, keep ``note`` for the model, maybe resume."""

    close: Close
    note: str
    resume: Resume | None


Decision = Notice | Replace | Decided


@dataclass
class _Paused:
    """A run that waits for approval: its state and the calls (id -> call, card id)."""

    plan: TurnPlan
    state: RunState[AgentContext[NotebookContext]]
    calls: dict[str, tuple[ToolApprovalItem, str]] = field(default_factory=dict)
    decided: set[str] = field(default_factory=set)
    receipt: tuple[Receipt, str] | None = None


class PendingRuns:
    """The approval flow's state, for one server (see the module docstring)."""

    def __init__(self, max_decided: int = MAX_DECIDED) -> None:
        self._paused: dict[str, _Paused] = {}  # thread id -> its run waiting for approval
        self._decided: OrderedDict[str, str] = OrderedDict()  # call id -> what became of it
        self._max_decided = max_decided
        self.scratch: dict[str, dict[str, Any]] = {}  # thread id -> names its code defined
        self._kept: set[str] = set()  # steps (workflow item ids) a running call keeps itself

    def __repr__(self) -> str:
        return f"PendingRuns({len(self._paused)} paused, {len(self._decided)} decided)"

    # -- paused runs ---------------------------------------------------------------------

    def pause(
        self,
        thread_id: str,
        plan: TurnPlan,
        result: RunResultStreaming,
        card_for: Callable[[str, str], WidgetItem],
        receipt: tuple[Receipt, str] | None = None,
    ) -> list[WidgetItem]:
        """Keep a run that waits for approval; ``card_for(call_id, arguments)`` makes the
        card for each call it waits on. Returns the cards, to show. The turn's ``receipt``
        (and its item's id) goes on with the run when it resumes."""
        paused = _Paused(plan=plan, state=result.to_state(), receipt=receipt)
        cards = []
        for interruption in result.interruptions:
            call_id = interruption.call_id
            if not isinstance(call_id, str):
                continue
            card = card_for(call_id, interruption.arguments or "")
            paused.calls[call_id] = (interruption, card.id)
            cards.append(card)
        self._paused[thread_id] = paused
        return cards

    def supersede(self, thread_id: str) -> list[Close]:
        """A new message came while calls wait for approval: they will never run."""
        paused = self._paused.pop(thread_id, None)
        if paused is None:
            return []
        closes = []
        for call_id, (_, card_id) in paused.calls.items():
            if call_id in paused.decided:
                continue
            self._said(call_id, "left unanswered when a newer message came, so it did not run")
            closes.append(Close(card_id, "Not run: a newer message came first"))
        return closes

    def decide(
        self, thread_id: str, action_type: str, payload: object, sender: WidgetItem | None
    ) -> Decision:
        """What a click on Run (``APPROVE``) or Don't run (``DECLINE``) comes to."""
        if action_type not in (APPROVE, DECLINE):
            return Notice(
                f"This chat does not handle the action {action_type!r}; nothing was done."
            )
        options: Mapping[str, Any] = payload if isinstance(payload, Mapping) else {}
        raw_id = options.get("call_id")
        call_id = raw_id if isinstance(raw_id, str) else ""
        paused = self._paused.get(thread_id)
        waiting = paused.calls.get(call_id) if paused is not None else None
        if waiting is not None and sender is not None and sender.id != waiting[1]:
            waiting = None  # a card of another run that happens to carry the same call id
        if paused is None or waiting is None or call_id in paused.decided:
            return self._not_open(call_id, sender)
        interruption, card_id = waiting
        approved = action_type == APPROVE
        when = datetime.now().strftime("%H:%M:%S")
        if approved:
            paused.state.approve(interruption)
            status = f"Approved at {when}: it ran (see the step below)"
            self._said(call_id, f"approved at {when}")
        elif options.get("unattended") is True:  # no one could be asked (nbclient, nbval)
            paused.state.reject(interruption, rejection_message=UNATTENDED_MESSAGE)
            status = f"Not run at {when}: nobody could approve it here. {HOW_TO_ALLOW}"
            self._said(call_id, f"declined at {when} (nobody could approve it)")
        else:
            paused.state.reject(interruption, rejection_message=DECLINED_MESSAGE)
            status = f"Not run: you declined it at {when}"
            self._said(call_id, f"declined at {when}")
        paused.decided.add(call_id)
        card = sender if sender is not None and sender.id == card_id else None
        decision = "approved" if approved else "declined"
        note = f"The user {decision} running the code of tool call {call_id} at {when}."
        resume = None
        if not set(paused.calls) - paused.decided:  # nothing else of this run waits
            del self._paused[thread_id]
            resume = Resume(paused.plan, paused.state, paused.receipt)
        return Decided(Close(card_id, status, ran=approved, card=card), note, resume)

    def _not_open(self, call_id: str, sender: WidgetItem | None) -> Notice | Replace:
        said = self._decided.get(call_id)
        if said is None:
            close = None
            if sender is not None:
                close = Close(sender.id, "Not run: the request expired", card=sender)
            return Notice(_EXPIRED, close)
        text = f"This code was already {said}; nothing more was done."
        if sender is not None and card_call_id(sender) is None:
            # The stored card is decided: a client whose copy still has buttons (a %chat
            # cell's, clicked after the panel's) gets it as it is.
            return Replace(sender, text)
        return Notice(text)

    def _said(self, call_id: str, what: str) -> None:
        self._decided[call_id] = what
        self._decided.move_to_end(call_id)
        while len(self._decided) > self._max_decided:
            self._decided.popitem(last=False)

    def forget(self, thread_id: str) -> None:
        """The thread was deleted: drop its paused run and the names its code defined."""
        self._paused.pop(thread_id, None)
        self.scratch.pop(thread_id, None)

    # -- steps run_python keeps itself ---------------------------------------------------

    def keep(self, step_id: str) -> None:
        """A running ``run_python`` keeps this step itself if the answer is stopped."""
        self._kept.add(step_id)

    def release(self, step_id: str) -> None:
        self._kept.discard(step_id)

    def keeps_itself(self, step_id: str) -> bool:
        """Whether a running ``run_python`` keeps this step itself when the answer stops."""
        return step_id in self._kept


TurnContext.model_rebuild()
