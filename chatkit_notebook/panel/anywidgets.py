"""The panel's three anywidgets: the composer (keys), a streamed answer (appends, Copy)
and Stop (interrupts the kernel while the agent's code runs).

Core ipywidgets cannot see keys, reach the clipboard, append to a value (every change
re-sends the whole value) or interrupt the kernel. Their JavaScript is ``composer.js``,
``answer.js`` and ``stop.js`` beside this file, plain ESM that anywidget loads from the
kernel (no build step, nothing from a CDN, so it works offline in JupyterLab 4 and
Notebook 7; VS Code and Colab bring anywidget's front end themselves). anywidget sends a
widget's module with every instance, so each widget carries only its own, read once with
its comments and indentation left out.

The answer's text travels as appends and is shown as text. When a Markdown block is
finished, Python renders it (markdown-it-py, sanitised: the only renderer of model text)
and sends a patch that rebuilds exactly that HTML from the text the browser already has,
so the bytes sent stay close to the final HTML's size.
"""

from __future__ import annotations

import html as _html
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets
from chatkit.types import FeedbackKind

__all__ = ["AnswerWidget", "ComposerWidget", "Patch", "StopWidget", "apply_patch", "make_patch"]


def _module(name: str) -> str:
    """A JavaScript module beside this file, without whole-line comments or indentation.

    Safe for these files: no template literal or string spans lines, and no line of code
    starts with ``//``.
    """
    source = Path(__file__).with_name(name).read_text(encoding="utf-8")
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


Patch = list[int | str]
"""Positive n: copy n characters of the text; negative n: skip n; a string: insert it."""

_SKIP_WINDOW = 8  # how far ahead to look for markup the HTML dropped (``**``, ``#``, fences)


def make_patch(text: str, html: str) -> Patch:
    """A patch that turns ``text`` (a Markdown block) into ``html`` (its rendering).

    One linear pass: copy what the two share, insert tags and entities, skip the Markdown
    syntax the HTML dropped. Whatever it aligns, the result is exactly ``html`` (every
    character of it is copied only where equal, or inserted); the alignment only decides
    how small the patch is.
    """
    ops: Patch = []
    i = j = 0
    while j < len(html):
        start = j
        while i < len(text) and j < len(html) and text[i] == html[j] and html[j] not in "<&":
            i += 1
            j += 1
        if j > start:
            _add(ops, j - start)
            continue
        char = html[j]
        if char == "<":  # a tag
            end = html.find(">", j) + 1 or len(html)
            _add(ops, html[j:end])
            j = end
            continue
        if char == "&":  # an entity, usually for the text's next character
            end = html.find(";", j) + 1 or j + 1
            entity = html[j:end]
            _add(ops, entity)
            j = end
            if i < len(text) and _html.unescape(entity) == text[i]:
                _add(ops, -1)
                i += 1
            continue
        ahead = text.find(char, i, i + _SKIP_WINDOW + 1)
        if ahead > i:  # Markdown syntax the HTML dropped: skip it
            _add(ops, i - ahead)
            i = ahead
            continue
        _add(ops, char)
        j += 1
    if i < len(text):
        _add(ops, i - len(text))  # the block's trailing syntax (a closing fence, blank lines)
    return ops


def _add(ops: Patch, op: int | str) -> None:
    """Append ``op``, merging it into the last op of the same kind."""
    if ops:
        last = ops[-1]
        if isinstance(op, str) and isinstance(last, str):
            ops[-1] = last + op
            return
        if isinstance(op, int) and isinstance(last, int) and (op > 0) == (last > 0):
            ops[-1] = last + op
            return
    ops.append(op)


def apply_patch(text: str, ops: Patch) -> tuple[str, int]:
    """What ``answer.js`` does with a patch: the HTML, and how much of ``text`` it used."""
    at = 0
    parts = []
    for op in ops:
        if isinstance(op, str):
            parts.append(op)
        elif op > 0:
            parts.append(text[at : at + op])
            at += op
        else:
            at -= op
    return "".join(parts), at


class AnswerWidget(anywidget.AnyWidget):
    """An assistant answer as the browser shows it: finished HTML, then open text."""

    _esm = _module("answer.js")
    html = traitlets.Unicode("", help="The finished blocks, as sanitised HTML").tag(sync=True)
    live = traitlets.Unicode("", help="The open block's text, shown as text").tag(sync=True)
    seq = traitlets.Int(0, help="How many stream messages html and live include").tag(sync=True)
    done = traitlets.Bool(False, help="Whether the answer is finished (shows its tools)").tag(
        sync=True
    )
    stopped = traitlets.Bool(False, help="Whether the answer was stopped midway").tag(sync=True)
    vote = traitlets.Unicode("", help="The thumb chosen: positive, negative or none").tag(sync=True)
    stale = traitlets.List(
        traitlets.Unicode(),
        help="What changed since the answer, one line per variable (`code` spans as code)",
    ).tag(sync=True)

    def __init__(self, *, markdown: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.markdown = markdown
        """The answer's Markdown: kept here, sent only when Copy asks for it."""
        # A message and the state it leads to change together, never between a browser's
        # request for the whole state and the reply (the stream is sent from the loop
        # thread, requests are handled on the kernel's).
        self._sending = threading.Lock()
        self._on_vote: list[Callable[[FeedbackKind], object]] = []
        self._on_ask_again: list[Callable[[], object]] = []
        self.on_msg(self._handle)

    def on_vote(self, callback: Callable[[FeedbackKind], object]) -> None:
        """Call ``callback(kind)`` when the person clicks a thumb."""
        self._on_vote.append(callback)

    def on_ask_again(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` when the person clicks "Ask again on the current data"."""
        self._on_ask_again.append(callback)

    def __repr__(self) -> str:
        return f"<AnswerWidget {len(self.markdown)} chars{' done' if self.done else ''}>"

    def _handle(self, _: object, content: Any, buffers: object) -> None:
        if isinstance(content, dict) and content.get("event") == "copy":
            self.send({"markdown": self.markdown})
        elif isinstance(content, dict) and content.get("event") == "vote":
            kind = content.get("kind")
            if kind in ("positive", "negative"):
                for callback in self._on_vote:
                    callback(kind)
        elif isinstance(content, dict) and content.get("event") == "ask_again":
            for ask in self._on_ask_again:
                ask()
        elif isinstance(content, dict) and content.get("event") == "sync":
            with self._sending:  # a browser missed a message: all of it, as it is now
                self.send({"sync": [self.seq, self.html, self.live]})

    def stream(self, ops: Patch | None, text: str, *, markdown: str, html: str, live: str) -> None:
        """Finish the open text's start with ``ops`` (if any), then append ``text``.

        One message, ``[n, text]`` or ``[n, ops, text]``, ``n`` counting the messages. The
        ``html`` and ``live`` it leads to (the browser computes them itself) are set here
        without an update, so a view drawn later (a reloaded page) starts from them.
        """
        with self._sending:
            seq = self.seq + 1
            self.send([seq, text] if ops is None else [seq, ops, text])
            self.markdown = markdown
            state = {"html": html, "live": live, "seq": seq}
            with self._lock_property(**state):
                self.html, self.live, self.seq = html, live, seq

    def finish(self) -> None:
        """Mark the answer done (shows Copy), saying how many messages there were: a
        browser that missed the last one asks for the whole state."""
        with self._sending:
            with self._lock_property(done=True):
                self.done = True
            self.send_state(["done", "seq"])  # one update for both


class ComposerWidget(anywidget.AnyWidget):
    """A text box that submits on Enter (Shift+Enter: a new line, when ``multiline``)."""

    _esm = _module("composer.js")
    value = traitlets.Unicode("", help="The text in the box").tag(sync=True)
    placeholder = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    multiline = traitlets.Bool(True).tag(sync=True)
    rows = traitlets.Int(2).tag(sync=True)
    accepting = traitlets.Bool(
        True, help="Whether Enter sends now; if not, it keeps the text in the box"
    ).tag(sync=True)
    mentions = traitlets.List(
        traitlets.List(traitlets.Unicode()),
        help="What typing @ offers: [name, 'type shape'] pairs",
    ).tag(sync=True)

    def __init__(self, *, offer: Callable[[], object] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_submit: list[Callable[[str], object]] = []
        self._offer = offer  # asked to refresh `mentions` when a person types @
        self.on_msg(self._handle)

    def __repr__(self) -> str:
        return f"<ComposerWidget {self.value[:30]!r}>"

    def on_submit(self, callback: Callable[[str], object]) -> None:
        """Call ``callback(text)`` when the person presses Enter."""
        self._on_submit.append(callback)

    def submit(self, text: str | None = None) -> None:
        """Act as if Enter was pressed on ``text`` (by default what is in the box)."""
        for callback in self._on_submit:
            callback(self.value if text is None else text)

    def sent(self) -> None:
        """A message went: bring the newest message into view and the focus back here."""
        self.send({"event": "sent"})

    def _handle(self, _: object, content: Any, buffers: object) -> None:
        if isinstance(content, dict) and content.get("event") == "mentions":
            if self._offer is not None:
                self._offer()
        elif isinstance(content, dict) and content.get("event") == "submit":
            value = content.get("value")
            if isinstance(value, str):  # the browser emptied its box as it sent this
                self.submit(value)


class StopWidget(anywidget.AnyWidget):
    """The panel's Stop button; while ``interrupts``, a click also interrupts the kernel.

    The agent's approved code runs on the kernel's main thread, and a busy kernel hears no
    widget message (this click's included) until the code ends. So while it runs, the
    browser interrupts the kernel itself, as the kernel's interrupt button does, which
    stops the code; the click's own message then stops the answer.
    """

    _esm = _module("stop.js")
    description = traitlets.Unicode("Stop").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    interrupts = traitlets.Bool(
        False, help="Whether a click also interrupts the kernel (code runs on its main thread)"
    ).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_click: list[Callable[[StopWidget], object]] = []
        self.on_msg(self._handle)

    def on_click(self, callback: Callable[[StopWidget], object]) -> None:
        """Call ``callback(self)`` on a click."""
        self._on_click.append(callback)

    def click(self) -> None:
        """Act as if the button was clicked (for tests and scripts)."""
        for callback in self._on_click:
            callback(self)

    def _handle(self, _: object, content: Any, buffers: object) -> None:
        if isinstance(content, dict) and content.get("event") == "click":
            self.click()
