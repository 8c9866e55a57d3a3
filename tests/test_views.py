"""The streaming assistant view: finished blocks are sent once, the tail is cheap.

Deltas reach the view as they do in the panel: folded into the item by the client's
reducer (``ThreadState``), then drawn.
"""

from __future__ import annotations

from datetime import datetime

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ThreadItemUpdatedEvent,
)

from chatkit_notebook import _views
from chatkit_notebook._client import ThreadState
from chatkit_notebook._views import AssistantMessageView


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


STATE = ThreadState()


def new_view(clock: Clock) -> AssistantMessageView:
    item = AssistantMessageItem(id="m", thread_id="t", created_at=datetime.now(), content=[])
    STATE.items = {"m": item}
    return AssistantMessageView(item, clock=clock, schedule=lambda delay, callback: None)


def delta(view: AssistantMessageView, text: str) -> None:
    update = AssistantMessageContentPartTextDelta(content_index=0, delta=text)
    assert STATE.apply(ThreadItemUpdatedEvent(item_id="m", update=update)) == ("updated", "m")
    view.draw(STATE.items["m"], final=False)


def finish(view: AssistantMessageView) -> None:
    view.draw(STATE.items["m"], final=True)


def feed(view: AssistantMessageView, clock: Clock, text: str, step: int = 7) -> None:
    for start in range(0, len(text), step):
        clock.now += 0.06  # each delta after the 20 Hz window: the view may render
        delta(view, text[start : start + step])


def html(view: AssistantMessageView) -> str:
    return "".join(child.value for child in view.widget.children)


def test_finished_blocks_are_sent_once_and_never_again() -> None:
    clock = Clock()
    view = new_view(clock)
    paragraphs = [f"Paragraph {n}: " + "words " * 60 for n in range(4)]
    sends: list[str] = []
    feed(view, clock, "\n\n".join(paragraphs[:3]) + "\n\n")
    frozen = [w for w in view.widget.children if w is not view._tail]
    assert frozen, "the first finished paragraphs were not frozen"
    for widget in frozen:
        widget.observe(lambda change: sends.append(change["new"]), names="value")
    feed(view, clock, paragraphs[3])
    finish(view)
    assert sends == []  # frozen HTML never re-sent
    shown = html(view)
    for n in range(4):
        assert f"Paragraph {n}:" in shown
    assert shown.count("<p>") == 4


def test_an_open_code_fence_is_plain_until_it_closes() -> None:
    clock = Clock()
    view = new_view(clock)
    feed(view, clock, "Here:\n\n```python\nx = [1, 2, 3]\n")
    clock.now += _views.TAIL_MAX_WAIT  # the tail is sent at the latest after this long
    view._render(final=False)
    assert "x = [1, 2, 3]" in html(view)
    assert 'class="ck-code"' in html(view)
    assert "<span" not in html(view)  # not highlighted while the fence is open
    feed(view, clock, "print(x)\n```\n")
    finish(view)
    assert "<span" in html(view)  # highlighted once closed


def test_the_tail_waits_until_enough_new_text_arrived() -> None:
    clock = Clock()
    view = new_view(clock)
    feed(view, clock, "word " * 40)  # one growing paragraph
    before = view.flushes
    clock.now += 0.06
    delta(view, "x")
    assert view.flushes == before  # 1 new character does not justify re-sending 200
    clock.now += _views.TAIL_MAX_WAIT
    delta(view, "y")
    assert view.flushes == before + 1  # ...but text never stalls for long


def test_a_replaced_item_renders_whole() -> None:
    clock = Clock()
    view = new_view(clock)
    feed(view, clock, "First draft. " * 40 + "\n\nMore.\n\n")
    item = AssistantMessageItem(
        id="m",
        thread_id="t",
        created_at=datetime.now(),
        content=[AssistantMessageContent(text="Something else entirely.")],
    )
    view.draw(item)
    assert html(view) == "<p>Something else entirely.</p>\n"
