"""Widgets for the items of a thread, one small class per ChatKit item type.

Each view owns a core ipywidget and draws its item as the client's reducer
(``_client.ThreadState``) holds it: views never interpret protocol updates themselves.
Assistant text is sent at most ``FLUSH_HZ`` times a second while it streams:
ipywidgets re-sends a trait's whole value on every change, so rendering per delta would
cost bytes quadratic in the answer's length. Views are only touched on the panel's loop
thread (see ``panel.ChatPanel``).
"""

from __future__ import annotations

import functools
import html
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import ipywidgets as W
from chatkit.actions import ActionConfig
from chatkit.types import (
    AssistantMessageItem,
    CustomSummary,
    DurationSummary,
    EndOfTurnItem,
    FeedbackKind,
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

from .._items import is_error_tag, mentions, task_code
from .anywidgets import AnswerWidget, Patch, apply_patch, make_patch
from .markdown import MARKDOWN_CSS, render_inline_code, render_markdown, render_plain

__all__ = ["FLUSH_HZ", "ItemView", "view_for"]

FLUSH_HZ = 10
"""How many messages a second a streaming answer sends, at most."""


class ItemView:
    """The widget for one thread item."""

    widget: W.Widget

    def __init__(self, item: ThreadItem) -> None:
        self.item = item

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        """Show the item as it is now; ``final`` once it is done (nothing held back)."""
        self.item = item


class UserMessageView(ItemView):
    def __init__(self, item: UserMessageItem) -> None:
        super().__init__(item)
        self.widget = _html("ck-user")
        self.draw(item)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, UserMessageItem)
        self.item = item
        tagged = {part.text for part in item.content if isinstance(part, UserMessageTagContent)}
        shown: set[str] = set()
        parts = []
        for part in item.content:
            if isinstance(part, UserMessageTextContent):
                parts.append(_tagged_text(part.text, tagged, shown))
            elif is_error_tag(part):
                assert isinstance(part, UserMessageTagContent)
                parts.append(_error_tag(part.text))
            elif isinstance(part, UserMessageTagContent) and part.text not in shown:
                shown.add(part.text)  # a tag the text does not mention: shown on its own
                parts.append(_tag(part.text))
        quoted = ""
        if item.quoted_text:
            quoted = f'<blockquote class="ck-quote">{render_plain(item.quoted_text)}</blockquote>'
        files = "".join(
            f'<span class="ck-attachment">{html.escape(a.name)}</span>' for a in item.attachments
        )
        self.widget.value = (
            f'<div class="ck-bubble ck-bubble-user">{quoted}{"".join(parts)}{files}</div>'
        )


def _tag(name: str) -> str:
    return f'<span class="ck-tag">@{html.escape(name)}</span>'


def _error_tag(text: str) -> str:
    """An attached error, shown after the question: what it is, no ``@``."""
    shown = html.escape(text)
    return f'<span class="ck-tag ck-error-tag" title="The error is attached">{shown}</span>'


def _tagged_text(text: str, tagged: set[str], shown: set[str]) -> str:
    """A user's text as HTML, each ``@name`` that one of the message's tags names shown
    as that tag (and added to ``shown``)."""
    out = []
    at = 0
    for match in mentions(text):
        if match.group(1) in tagged:
            out += [render_plain(text[at : match.start()]), _tag(match.group(1))]
            shown.add(match.group(1))
            at = match.end()
    out.append(render_plain(text[at:]))
    return "".join(out)


class AssistantMessageView(ItemView):
    """A streaming answer that costs bytes in proportion to its final HTML.

    The text travels as appends to an :class:`~._anywidgets.AnswerWidget`, which shows it
    as text at once. Once a later top-level Markdown block has begun, the blocks before it
    are final: Python renders them and sends a patch that turns the text the browser has
    into that HTML (or the HTML, if shorter). Sends happen at most ``FLUSH_HZ`` times a
    second, and only when enough arrived to be worth a message's overhead, or
    ``MAX_WAIT`` passed: the first text shows at once.
    """

    def __init__(
        self,
        item: AssistantMessageItem,
        *,
        allowed_image_domains: list[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        schedule: Callable[[float, Callable[[], None]], Any] | None = None,
        final: bool = False,
        on_vote: Callable[[str, FeedbackKind], object] | None = None,
    ) -> None:
        super().__init__(item)
        self._allowed = allowed_image_domains
        self._untraced: tuple[str, ...] = ()
        self._clock = clock
        self._schedule = schedule
        text = _text_of(item)
        self._answer = AnswerWidget(
            html=render_markdown(text, allowed_image_domains=self._allowed) if text else "",
            markdown=text,
            done=final,
            layout=_shared_layout(),
        )
        for css in ("ck-assistant", "ck-bubble", "ck-bubble-assistant", "ck-md"):
            self._answer.add_class(css)
        if on_vote is not None:
            item_id = item.id
            self._answer.on_vote(lambda kind: on_vote(item_id, kind))
        self.widget = self._answer
        self._text = text
        self._sent = len(text)  # characters the browser has
        self._frozen = len(text)  # characters shown as finished HTML
        self._frozen_html = self._answer.html
        self._last_send = float("-inf")
        self._pending = False
        self.flushes = 0

    @property
    def text(self) -> str:
        return self._text

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        assert isinstance(item, AssistantMessageItem)
        self.item = item
        text = _text_of(item)
        if not text.startswith(self._text[: self._sent]):
            self._replace(text)  # the text was replaced by something else: start over
        self._text = text
        if final:
            self._send(final=True)
        else:
            self._flush_soon()

    def mark_stopped(self) -> None:
        """Say under the answer that it was stopped before it was finished."""
        self._answer.stopped = True

    def mark_untraced(self, numbers: list[str]) -> None:
        """Mark the numbers the turn's receipt found in nothing it read (a dotted line and a
        tooltip); drawn again whole, as the answer is finished by then."""
        if tuple(numbers) == self._untraced:
            return
        self._untraced = tuple(numbers)
        if self._text:
            self._replace(self._text)

    def mark_stale(self, lines: list[str]) -> None:
        """Say under the answer which variables it read have changed since (none: no mark)."""
        if list(self._answer.stale) != lines:
            self._answer.stale = lines

    def on_ask_again(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` when the person asks the same question on the current data."""
        self._answer.on_ask_again(callback)

    def show_vote(self, kind: FeedbackKind) -> None:
        """Show which thumb the person chose."""
        self._answer.vote = kind

    def _flush_soon(self) -> None:
        """Send now if it is worth a message, else once, a little later."""
        now = self._clock()
        since = now - self._last_send
        waiting = len(self._text) - self._sent
        if waiting <= 0:
            return
        if (
            self._last_send == float("-inf")
            or since >= MAX_WAIT - 0.001  # (a late send's timer may fire a hair early)
            or (since >= 1 / FLUSH_HZ and waiting >= MIN_SEND_CHARS)
        ):
            self._send(final=False)
            return
        if self._pending or self._schedule is None:
            return  # a send is already due; or the final draw will send
        self._pending = True
        self._schedule(MAX_WAIT - since, self._deferred)

    def _deferred(self) -> None:
        self._pending = False
        if len(self._text) > self._sent:
            self._flush_soon()  # a send may have gone since this was scheduled: ask again

    def _send(self, *, final: bool) -> None:
        """Send what arrived: finished blocks as HTML (a patch), the open block as text."""
        text = self._text
        self._last_send = self._clock()
        open_text = text[self._frozen :]
        end = len(open_text) if final else _block_starts(open_text)[-1]
        ops: Patch | None = None
        if end > 0:
            block = open_text[:end]
            html = render_markdown(block, allowed_image_domains=self._allowed)
            known = text[self._frozen : self._sent]  # the part of the block the browser has
            ops = _smallest_patch(known, block, html)
            self._frozen += end
            self._frozen_html += html
        # The text the browser still lacks, past what the patch made finished.
        appended = text[max(self._sent, self._frozen) :]
        if ops is not None or appended:
            self._sent = len(text)
            self._answer.stream(
                ops, appended, html=self._frozen_html, live=text[self._frozen :], markdown=text
            )
            self.flushes += 1
        if final and not self._answer.done:
            self._answer.finish()  # shows Copy

    def _replace(self, text: str) -> None:
        """Show ``text`` from scratch (a replaced item), as one whole-value update."""
        html = (
            render_markdown(text, allowed_image_domains=self._allowed, untraced=self._untraced)
            if text
            else ""
        )
        self._answer.html, self._answer.live, self._answer.markdown = html, "", text
        self._text = text
        self._sent = self._frozen = len(text)
        self._frozen_html = html


_SHARED: dict[str, W.Widget] = {}


def _shared(name: str, make: Callable[[], W.Widget]) -> Any:
    """One widget of a kind for all items (a Layout, a style): each is a comm to open.

    Made anew if it was closed (``Widget.close_all()``, say).
    """
    widget = _SHARED.get(name)
    if widget is None or widget.comm is None:
        widget = _SHARED[name] = make()
    return widget


def _shared_layout() -> W.Layout:
    return _shared("layout", W.Layout)


def _html(css: str) -> W.HTML:
    """An HTML widget sharing one Layout and one style with the others (3 comms -> 1)."""
    return W.HTML(layout=_shared_layout(), style=_shared("style", HTMLStyle)).add_class(css)


def _text_of(item: AssistantMessageItem) -> str:
    return "".join(part.text for part in item.content)


def _smallest_patch(known: str, block: str, html: str) -> Patch:
    """Turn the block's ``known`` start into ``html``: a patch, or the HTML itself if shorter.

    The patch uses (and drops) all of ``known``; text of the block the browser never got
    is not sent as text at all, only as HTML.
    """
    ops = make_patch(known, html)
    # make_patch may leave part of `known` unused only as trailing syntax; drop it all.
    used = apply_patch(known, ops)[1]
    if used < len(known):
        ops.append(used - len(known))
    whole: Patch = [html, -len(known)] if known else [html]
    if len(json.dumps(whole)) <= len(json.dumps(ops)):
        return whole
    return ops


MIN_SEND_CHARS = 128
"""Streamed text is sent once this many characters wait (a message costs ~40 bytes)..."""
MAX_WAIT = 0.25
"""...or when this many seconds passed since the last send, so text keeps moving. The
browser spreads what each message brings over the time until the next is due
(``answer.js``), so text grows every frame while it arrives: the wait costs no smoothness,
only a quarter of a second of delay."""

_BLOCKS = MarkdownIt("commonmark").enable(["table", "strikethrough"])


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


class WorkflowView(ItemView):
    """What the assistant did (read `df`, ...), collapsed to a summary when done."""

    def __init__(self, item: WorkflowItem) -> None:
        super().__init__(item)
        self.widget = _html("ck-workflow")
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
            f'<span class="ck-task-title">{render_inline_code(getattr(t, "title", None) or t.type)}'
            f"</span>{_task_code_html(t)}</li>"
            for t in workflow.tasks
        )
        summary = workflow.summary
        opened = " open" if workflow.expanded or summary is None else ""
        self.widget.value = (
            f'<details class="ck-workflow-box"{opened}><summary>{step_label(workflow)}</summary>'
            f"<ul>{rows}</ul></details>"
        )


def step_label(workflow: Any) -> str:
    """A step's summary line, as HTML: what it did ("Read `sales` (6 x 4)"), not only how
    long it took; the list under it says the rest."""
    summary = workflow.summary
    if isinstance(summary, CustomSummary):
        return html.escape(summary.title)
    if not isinstance(summary, DurationSummary):
        return "Working…"
    titles = [t.title for t in workflow.tasks if getattr(t, "title", None)]
    took = f" · {summary.duration}s" if summary.duration >= 1 else ""
    if not titles:
        return f"Worked for {summary.duration}s"
    shown = " · ".join(render_inline_code(title) for title in titles[:2])
    more = f" · {len(titles) - 2} more" if len(titles) > 2 else ""
    return f"{shown}{more}{took}"


def _task_code_html(task: object) -> str:
    """The code a task ran, highlighted, under its title: one click (opening the step)
    away, in every mode (auto too)."""
    code = task_code(task)
    if code is None:
        return ""
    fenced = render_markdown(f"```python\n{code}\n```") if "```" not in code else None
    body = fenced or f"<pre><code>{html.escape(code)}</code></pre>"
    return f'<div class="ck-task-code">{body}</div>'


class TaskView(ItemView):
    def __init__(self, item: TaskItem) -> None:
        super().__init__(item)
        self.widget = _html("ck-task-item")
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
        from .chatkit_widgets import render_widget

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
        self.widget = _html("ck-image-item")
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
        self.widget = _html("ck-unknown")
        self.draw(item)

    def draw(self, item: ThreadItem, *, final: bool = True) -> None:
        self.item = item
        self.widget.value = (
            f'<div class="ck-note">[{html.escape(item.type.replace("_", " "))}]</div>'
        )


PANEL_CSS = Path(__file__).with_name("panel.css").read_text(encoding="utf-8")


def style_widget() -> W.HTML:
    """The ``<style>`` every chat box carries (the panel, a ``%chat`` cell's card): the
    page may have no other copy of it."""
    style = W.HTML(f"<style>{PANEL_CSS}{MARKDOWN_CSS}</style>")
    return style.add_class("ck-style")


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
    options.pop("on_vote", None)
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
