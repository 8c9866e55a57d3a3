"""``PendingRuns``: the rule for one click, without a model (the flow end to end is in
``test_run_python.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatkit.types import WidgetItem

from chatkit_notebook._items import APPROVE, DECLINE, approval_card
from chatkit_notebook.agent.approvals import Decided, Notice, PendingRuns, Replace


@dataclass
class Call:
    call_id: str
    arguments: str = '{"code": "1"}'


@dataclass
class State:
    approved: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def approve(self, call: Call) -> None:
        self.approved.append(call.call_id)

    def reject(self, call: Call, rejection_message: str) -> None:
        self.rejected.append(call.call_id)


@dataclass
class Result:
    interruptions: list[Call]
    state: State = field(default_factory=State)

    def to_state(self) -> State:
        return self.state


def card(call_id: str, item_id: str | None = None) -> WidgetItem:
    widget = approval_card("1", call_id)
    return WidgetItem(
        id=item_id or f"card_{call_id}", thread_id="t", created_at="2026-01-01T00:00", widget=widget
    )


def pause(runs: PendingRuns, *call_ids: str) -> tuple[State, list[WidgetItem]]:
    result = Result([Call(c) for c in call_ids])
    cards = runs.pause("t", "plan", result, lambda call_id, _: card(call_id))  # type: ignore[arg-type]
    return result.state, cards


def test_the_run_resumes_once_every_call_is_decided() -> None:
    runs = PendingRuns()
    state, (first, second) = pause(runs, "a", "b")
    one = runs.decide("t", APPROVE, {"call_id": "a"}, first)
    assert isinstance(one, Decided)
    assert one.resume is None  # "b" still waits
    assert one.close.card is first
    assert one.close.ran
    two = runs.decide("t", DECLINE, {"call_id": "b"}, second)
    assert isinstance(two, Decided)
    assert two.resume is not None
    assert (state.approved, state.rejected) == (["a"], ["b"])
    again = runs.decide("t", APPROVE, {"call_id": "a"}, first)
    assert isinstance(again, Notice)  # its copy still has buttons: nothing to replace
    assert "already approved" in again.text


def test_a_decided_copy_is_sent_back_and_an_unknown_call_expires() -> None:
    runs = PendingRuns()
    _, (open_card,) = pause(runs, "a")
    runs.decide("t", APPROVE, {"call_id": "a"}, open_card)
    decided = open_card.model_copy(
        update={"widget": open_card.widget.model_copy(update={"confirm": None})}
    )
    assert isinstance(runs.decide("t", APPROVE, {"call_id": "a"}, decided), Replace)
    expired = runs.decide("t", APPROVE, {"call_id": "zzz"}, card("zzz"))
    assert isinstance(expired, Notice)
    assert expired.close is not None
    assert "expired" in expired.close.status
    odd = runs.decide("t", "something.else", {}, None)
    assert isinstance(odd, Notice)
    assert "does not handle" in odd.text


def test_supersede_and_forget_and_the_bounded_memory() -> None:
    runs = PendingRuns(max_decided=2)
    pause(runs, "a", "b", "c")
    closes = runs.supersede("t")
    assert [c.card_id for c in closes] == ["card_a", "card_b", "card_c"]
    assert runs.supersede("t") == []
    said = [runs.decide("t", APPROVE, {"call_id": c}, None) for c in "abc"]
    assert ["newer message" in s.text for s in said if isinstance(s, Notice)] == [
        False,  # "a" was forgotten: only the last two are remembered
        True,
        True,
    ]
    runs.scratch["t"] = {"x": 1}
    runs.forget("t")
    assert "t" not in runs.scratch


def test_steps_run_python_keeps() -> None:
    runs = PendingRuns()
    runs.keep("wf_1")
    assert runs.keeps_itself("wf_1")
    runs.release("wf_1")
    assert not runs.keeps_itself("wf_1")
