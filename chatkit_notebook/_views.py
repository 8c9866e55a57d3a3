"""Widgets for the items of a thread, one small class per ChatKit item type.

Each view owns a core ipywidget and draws its item as the client's reducer
(``_client.ThreadState``) holds it: views never interpret protocol updates themselves.
Assistant text is re-rendered at most ``FLUSH_HZ`` times a second while it streams:
ipywidgets re-sends a trait's whole value on every change, so rendering per delta would
cost bytes quadratic in the answer's length. Views are only touched on the panel's loop
thread (see ``panel.ChatPanel``).
"""

from __future__ import annotations

import functools
import html
import re
import time
from collections.abc import Callable
from typing import Any, Literal

import ipywidgets as W
from chatkit.actions import ActionConfig
from chatkit.types import (
    AssistantMessageItem,
    CustomSummary,
    DurationSummary,
    EndOfTurnItem,
    GeneratedImageItem,
    HiddenContextItem,
    SDKHiddenContextItem,
    StructuredInputAnswerSubmission,
    StructuredInputItem,
    StructuredInputMultipleChoice,
    StructuredInputSubmission,
    TaskItem,
    ThreadItem,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
    WorkflowItem,
)
from ipywidgets.widgets.widget_string import HTMLStyle
from markdown_it import MarkdownIt

from ._markdown import render_inline_code, render_markdown, render_plain

__all__ = ["FLUSH_HZ", "ItemView", "view_for"]

FLUSH_HZ = 20
"""How many times a second a streaming answer is re-rendered, at most."""


class ItemView:
    """The widget for one thread item."""

    def __init__(self, item: ThreadItem) -> None:
        self.item = item
        self.widget: W.Widget = W.HTML()

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        """Show the item as it is now; ``final`` once it is done (nothing held back)."""
        self.item = item


class UserMessageView(ItemView):
    def __init__(self, item: UserMessageItem) -> None:
        super().__init__(item)
        self.widget = W.HTML().add_class("ck-user")
        self.draw(item)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, UserMessageItem)
        self.item = item
        parts = []
        for part in item.content:
            if isinstance(part, UserMessageTextContent):
                parts.append(render_plain(part.text))
            elif isinstance(part, UserMessageTagContent):
                parts.append(f'<span class="ck-tag">@{html.escape(part.text)}</span>')
        quoted = ""
        if item.quoted_text:
            quoted = f'<blockquote class="ck-quote">{render_plain(item.quoted_text)}</blockquote>'
        files = "".join(
            f'<span class="ck-attachment">{html.escape(a.name)}</span>' for a in item.attachments
        )
        self.widget.value = (
            f'<div class="ck-bubble ck-bubble-user">{quoted}{"".join(parts)}{files}</div>'
        )


class AssistantMessageView(ItemView):
    """Streaming markdown that costs bytes in proportion to the answer, not its square.

    ipywidgets re-sends a trait's whole value on every change. So the answer is split into
    top-level markdown blocks: once a later block has begun, the blocks before it are
    final, and are rendered once into an HTML widget of their own ("frozen"). Only the
    growing tail is re-rendered, at most ``FLUSH_HZ`` times a second, and only when that
    is cheap next to what arrived since the last send (or ``TAIL_MAX_WAIT`` has passed):
    the bytes sent for the tail stay within ``TAIL_BYTES_FACTOR`` times the answer. An
    open code fence is shown as plain text until it closes, then highlighted once.
    """

    def __init__(
        self,
        item: AssistantMessageItem,
        *,
        allowed_image_domains: list[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        schedule: Callable[[float, Callable[[], None]], Any] | None = None,
    ) -> None:
        super().__init__(item)
        self.widget = W.VBox().add_class("ck-assistant")
        self.widget.add_class("ck-bubble")
        self.widget.add_class("ck-bubble-assistant")
        self._tail = W.HTML(layout=_shared_layout(), style=_shared_style()).add_class("ck-md-tail")
        self.widget.children = (self._tail,)
        self._parts: list[str] = [c.text for c in item.content]
        self._allowed = allowed_image_domains
        self._clock = clock
        self._schedule = schedule
        self._last_flush = float("-inf")
        self._last_tail_send = float("-inf")
        self._frozen_source = ""  # the start of the text shown in frozen widgets
        self._sent_chars = 0  # how much of the text the tail showed when last sent
        self._pending = False
        self.flushes = 0
        self._render(final=True)

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, AssistantMessageItem)
        self.item = item
        self._parts = [c.text for c in item.content]
        if final:
            self._render(final=True)
        else:
            self._flush_soon()

    def mark_stopped(self) -> None:
        """Say under the answer that it was stopped before it was finished."""
        mark = W.HTML('<div class="ck-stopped-mark">Stopped</div>').add_class("ck-stopped")
        if not any("ck-stopped" in getattr(c, "_dom_classes", ()) for c in self.widget.children):
            self.widget.children = (*self.widget.children, mark)

    def _flush_soon(self) -> None:
        """Render now if the last render is old enough, else once, a little later."""
        wait = self._last_flush + 1 / FLUSH_HZ - self._clock()
        if wait <= 0:
            self._render(final=False)
            return
        if self._pending or self._schedule is None:
            return  # a render is already due; or the final draw will render
        self._pending = True
        self._schedule(wait, self._deferred)

    def _deferred(self) -> None:
        self._pending = False
        self._render(final=False)

    def _render(self, *, final: bool) -> None:
        now = self._clock()
        self._last_flush = now
        text = self.text
        if not text.startswith(self._frozen_source):
            self._thaw()  # the text was replaced by something else: start over
        if not final:
            self._freeze(text)
        tail = text[len(self._frozen_source) :]
        if not final and not self._worth_sending(tail, text, now):
            return
        value = _render_tail(tail, self._allowed, final=final)
        self._last_tail_send = now
        self._sent_chars = len(text)
        if value != self._tail.value:
            self._tail.value = value
            self.flushes += 1

    def _worth_sending(self, tail: str, text: str, now: float) -> bool:
        if self._last_tail_send == float("-inf"):
            return True  # the first text shows at once
        if now - self._last_tail_send >= TAIL_MAX_WAIT:
            return True
        arrived = len(text) - self._sent_chars
        return arrived > 0 and len(tail) <= TAIL_BYTES_FACTOR * arrived

    def _freeze(self, text: str) -> None:
        """Move the finished blocks out of the tail, once they are worth a widget."""
        suffix = text[len(self._frozen_source) :]
        group_end = _block_starts(suffix)[-1]  # everything before the last block is final
        if group_end < FREEZE_MIN_CHARS or not suffix[:group_end].strip():
            return
        block = W.HTML(
            render_markdown(suffix[:group_end], allowed_image_domains=self._allowed),
            layout=_shared_layout(),
            style=_shared_style(),
        ).add_class("ck-md-block")
        self.widget.children = (*self.widget.children[:-1], block, self._tail)
        self._frozen_source = text[: len(self._frozen_source) + group_end]
        self.flushes += 1

    def _thaw(self) -> None:
        self._frozen_source = ""
        self.widget.children = (self._tail,)


FREEZE_MIN_CHARS = 600
"""Finished blocks are frozen together once they hold this many characters of markdown."""
TAIL_BYTES_FACTOR = 1.0
"""The tail is re-sent only while it is at most this many times what arrived since."""
TAIL_MAX_WAIT = 0.5
"""...or when this many seconds passed since it was last sent, so text keeps moving."""

_BLOCKS = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


def _block_starts(source: str) -> list[int]:
    """Where each top-level markdown block of ``source`` starts, as character offsets."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    starts = []
    for token in _BLOCKS.parse(source):
        if token.level == 0 and token.map is not None and token.nesting >= 0:
            starts.append(offsets[min(token.map[0], len(lines))])
    return sorted(set(starts)) or [0]


def _render_tail(source: str, allowed: list[str] | None, *, final: bool) -> str:
    """Render the growing tail; an unclosed code fence stays plain text until it closes."""
    fences = list(_FENCE.finditer(source))
    if not final and len(fences) % 2 == 1:
        opening = fences[-1]
        head = render_markdown(source[: opening.start()], allowed_image_domains=allowed)
        body = source[opening.end() :].split("\n", 1)[1] if "\n" in source[opening.end() :] else ""
        return f'{head}<pre class="ck-code"><code>{html.escape(body)}</code></pre>'
    return render_markdown(source, allowed_image_domains=allowed)


_SHARED: dict[str, W.Widget] = {}


def _shared_layout() -> W.Layout:
    """One Layout for every markdown part: each Layout widget costs a comm to open."""
    if "layout" not in _SHARED:
        _SHARED["layout"] = W.Layout()
    return _SHARED["layout"]


def _shared_style() -> HTMLStyle:
    """One HTMLStyle for every markdown part, for the same reason."""
    if "style" not in _SHARED:
        _SHARED["style"] = HTMLStyle()
    return _SHARED["style"]


class WorkflowView(ItemView):
    """What the assistant did (read `df`, ...), collapsed to a summary when done."""

    def __init__(self, item: WorkflowItem) -> None:
        super().__init__(item)
        self.widget = W.HTML().add_class("ck-workflow")
        self.draw(item)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, WorkflowItem)
        self.item = item
        self._render()

    def _render(self) -> None:
        assert isinstance(self.item, WorkflowItem)
        workflow = self.item.workflow
        rows = "".join(
            f'<li class="ck-task ck-task-{getattr(t, "status_indicator", "none")}">'
            f"{render_inline_code(getattr(t, 'title', None) or t.type)}</li>"
            for t in workflow.tasks
        )
        summary = workflow.summary
        if isinstance(summary, DurationSummary):
            label = f"Worked for {summary.duration}s"
        elif isinstance(summary, CustomSummary):
            label = summary.title
        else:
            label = "Working…"
        opened = " open" if workflow.expanded or summary is None else ""
        self.widget.value = (
            f'<details class="ck-workflow-box"{opened}><summary>{html.escape(label)}</summary>'
            f"<ul>{rows}</ul></details>"
        )


class TaskView(ItemView):
    def __init__(self, item: TaskItem) -> None:
        super().__init__(item)
        self.widget = W.HTML().add_class("ck-task-item")
        self.draw(item)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, TaskItem)
        self.item = item
        title = getattr(item.task, "title", None) or item.task.type
        self.widget.value = f'<div class="ck-task">{render_inline_code(title)}</div>'


class WidgetView(ItemView):
    """A ChatKit widget (cards, lists, buttons), drawn with core ipywidgets."""

    def __init__(
        self,
        item: WidgetItem,
        *,
        on_action: Callable[[str, ActionConfig], object] | None = None,
        allowed_image_domains: list[str] | None = None,
        **_: Any,
    ) -> None:
        super().__init__(item)
        self.widget = W.VBox().add_class("ck-widget-item")
        self._on_action = on_action
        self._allowed = allowed_image_domains
        self.draw(item)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, WidgetItem)
        if item is self.item and self.widget.children:
            return  # unchanged (an update the reducer shows once the widget is done)
        self.item = item
        self._draw()

    def _draw(self) -> None:
        from ._widgets import render_widget

        assert isinstance(self.item, WidgetItem)
        item_id = self.item.id

        def act(action: ActionConfig) -> None:
            if self._on_action is not None:
                self._on_action(item_id, action)

        self.widget.children = (
            render_widget(self.item.widget, on_action=act, allowed_image_domains=self._allowed),
        )


class GeneratedImageView(ItemView):
    """An image the model generated: inline ``data:`` images, or allowed https hosts."""

    def __init__(self, item: GeneratedImageItem, **options: Any) -> None:
        super().__init__(item)
        self.widget = W.HTML().add_class("ck-image-item")
        self._allowed = options.get("allowed_image_domains")
        self.draw(item)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, GeneratedImageItem)
        self.item = item
        self._draw()

    def _draw(self) -> None:
        assert isinstance(self.item, GeneratedImageItem)
        image = self.item.image
        if image is None:
            self.widget.value = '<div class="ck-note">Generating an image…</div>'
            return
        url = image.url
        if url.startswith("data:image/") and ";base64," in url[:64]:
            # An inline image makes no request, so it cannot leak anything.
            self.widget.value = (
                f'<img class="ck-image" alt="generated image" src="{html.escape(url)}">'
            )
            return
        body = render_markdown(f"![generated image]({url})", allowed_image_domains=self._allowed)
        self.widget.value = f'<div class="ck-bubble">{body}</div>'


class StructuredInputView(ItemView):
    """Questions the assistant asks (choices or free text); answered or skipped in place."""

    def __init__(
        self,
        item: StructuredInputItem,
        *,
        on_answer: Callable[[str, StructuredInputSubmission], object] | None = None,
        **_: Any,
    ) -> None:
        super().__init__(item)
        self.widget = W.VBox().add_class("ck-structured-input")
        self._on_answer = on_answer
        self._fields: dict[str, Callable[[], list[str]]] = {}
        self.draw(item)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, StructuredInputItem)
        self.item = item
        self._draw()

    def _draw(self) -> None:
        assert isinstance(self.item, StructuredInputItem)
        item = self.item
        if item.status != "pending":
            lines = []
            for question in item.inputs:
                answer = question.answer
                given = ", ".join(answer.values) if answer and answer.values else "(skipped)"
                lines.append(
                    f"<li>{html.escape(question.question)}: <b>{html.escape(given)}</b></li>"
                )
            self.widget.children = (W.HTML(f'<ul class="ck-answers">{"".join(lines)}</ul>'),)
            return
        rows: list[W.Widget] = []
        self._fields = {}
        for question in item.inputs:
            rows.append(W.HTML(f"<b>{html.escape(question.question)}</b>"))
            if isinstance(question, StructuredInputMultipleChoice):
                options = [o.value for o in question.options]
                if question.multiple:
                    boxes = [W.Checkbox(description=o, indent=False) for o in options]
                    rows.append(W.VBox(boxes))
                    self._fields[question.id] = functools.partial(_checked, boxes)
                else:
                    radio = W.RadioButtons(options=options, value=None)
                    rows.append(radio)
                    self._fields[question.id] = functools.partial(_chosen, radio)
            else:
                text = W.Textarea(placeholder=question.description or "Your answer", rows=2)
                rows.append(text)
                self._fields[question.id] = functools.partial(_typed, text)
        answer = W.Button(description="Answer", button_style="primary").add_class("ck-si-answer")
        skip = W.Button(description="Skip").add_class("ck-si-skip")
        answer.on_click(lambda _: self._submit("answered"))
        skip.on_click(lambda _: self._submit("skipped"))
        self.widget.children = (*rows, W.HBox([answer, skip]))

    def _submit(self, status: Literal["answered", "skipped"]) -> None:
        assert isinstance(self.item, StructuredInputItem)
        answers = {
            qid: StructuredInputAnswerSubmission(values=read(), skipped=status == "skipped")
            for qid, read in self._fields.items()
        }
        if self._on_answer is not None:
            self._on_answer(self.item.id, StructuredInputSubmission(status=status, answers=answers))


def _checked(boxes: list[W.Checkbox]) -> list[str]:
    return [str(box.description) for box in boxes if box.value]


def _chosen(radio: W.RadioButtons) -> list[str]:
    return [str(radio.value)] if radio.value else []


def _typed(text: W.Textarea) -> list[str]:
    value = str(text.value).strip()
    return [value] if value else []


class UnknownView(ItemView):
    """An item this panel does not draw yet: shown as readable text, never dropped."""

    def __init__(self, item: ThreadItem) -> None:
        super().__init__(item)
        self.widget = W.HTML().add_class("ck-unknown")
        self.draw(item)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        self.item = item
        self.widget.value = (
            f'<div class="ck-note">[{html.escape(item.type.replace("_", " "))}]</div>'
        )


def view_for(item: ThreadItem, **options: Any) -> ItemView | None:
    """The view for an item, or ``None`` for items that are never shown."""
    if isinstance(item, (HiddenContextItem, SDKHiddenContextItem, EndOfTurnItem)):
        return None
    if isinstance(item, UserMessageItem):
        return UserMessageView(item)
    if isinstance(item, AssistantMessageItem):
        options.pop("on_action", None)
        options.pop("on_answer", None)
        return AssistantMessageView(item, **options)
    if isinstance(item, WorkflowItem):
        return WorkflowView(item)
    if isinstance(item, TaskItem):
        return TaskView(item)
    if isinstance(item, WidgetItem):
        return WidgetView(item, **options)
    if isinstance(item, GeneratedImageItem):
        return GeneratedImageView(item, **options)
    if isinstance(item, StructuredInputItem):
        return StructuredInputView(item, **options)
    return UnknownView(item)
