"""The line under a failing cell: "Ask about this error", then the answer and its fix.

When a cell raises, the kernel's session shows an :class:`ErrorLine` under the traceback
(only where a person can click it: see ``kernel/errorhelp.py``). A click asks in the
notebook's current thread, in a chat panel the line opens beneath itself, with the error
attached as a tag. When the answer holds fixed code, the line offers "Use this fix": the
change to the failing cell, as a diff of its source (:func:`fix_diff`, drawn sanitised by
:func:`diff_html`), and how to take it. A click in the page cannot write into a cell
(JupyterLab, Notebook 7, VS Code and Colab give kernels no such call; ``set_next_input``
from a click lands in whichever cell runs next), so the fix is taken by ``%chatkit
insert``, which shows the same diff and puts the code in its cell.

The line knows nothing of the kernel: what a click does comes in as a callback.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable

import ipywidgets as W

from .threadbar import button

__all__ = ["DIFF_CSS", "ErrorLine", "diff_html", "fix_diff", "take_fix"]

DIFF_CSS = """
.ck-diff { font-family: var(--jp-code-font-family, monospace);
  font-size: var(--jp-code-font-size, 13px); line-height: 1.4; margin: 4px 0; padding: 4px 0;
  border: 1px solid var(--jp-border-color2, #ddd); border-radius: 4px; overflow-x: auto;
  background: var(--jp-layout-color1, #fff); color: var(--jp-content-font-color1, #1a1a1a); }
.ck-diff > div { white-space: pre; padding: 0 8px; }
.ck-diff .ck-diff-head { color: var(--jp-ui-font-color2, #555); }
.ck-diff .ck-diff-hunk { color: var(--jp-ui-font-color2, #555);
  background: color-mix(in srgb, var(--jp-info-color1, #0097a7) 8%, transparent); }
.ck-diff .ck-diff-del {
  background: color-mix(in srgb, var(--jp-error-color1, #d32f2f) 16%, transparent); }
.ck-diff .ck-diff-add {
  background: color-mix(in srgb, var(--jp-success-color1, #388e3c) 18%, transparent); }
"""
"""How a diff is drawn: theme colours only, tints for what is taken out and put in."""

_LINE_CSS = """
.ck-error-line { margin: 2px 0; color: var(--jp-ui-font-color1, #222); }
.ck-error-line .ck-error-row { align-items: center; gap: 6px; }
.ck-error-line .ck-error-ask, .ck-error-line .ck-fix-use { height: auto; min-height: 24px;
  line-height: 1.4; padding: 1px 10px; font-size: var(--jp-ui-font-size1, 13px);
  color: var(--jp-ui-font-color1, #222); background: var(--jp-layout-color1, #fff);
  border: 1px solid var(--jp-border-color1, #bbb); border-radius: 12px; }
.ck-error-line .ck-error-ask:hover:enabled, .ck-error-line .ck-fix-use:hover:enabled {
  background: var(--jp-layout-color2, #eee); }
.ck-error-line .ck-error-ask:disabled { opacity: 0.7; }
.ck-error-line .ck-error-note, .ck-error-line .ck-fix-how {
  font-size: var(--jp-ui-font-size1, 13px); color: var(--jp-ui-font-color2, #555); }
.ck-error-line .ck-fix-how code { font-family: var(--jp-code-font-family, monospace);
  color: var(--jp-ui-font-color1, #222); }
.ck-error-line .ck-fix { border-left: 3px solid var(--jp-success-color1, #388e3c);
  padding-left: 8px; margin: 6px 0 4px; }
.ck-error-line .ck-fix > .ck-fix-use { align-self: flex-start; width: auto; }
.ck-error-line .ck-error-note .widget-html-content,
.ck-error-line .ck-fix-diff .widget-html-content { line-height: 1.45; height: auto; }
.ck-error-line .ck-fix-how { margin-top: 2px; }
"""


def take_fix(command: str) -> str:
    """How to take a fix: run ``command`` (``%chatkit insert 1``), which puts it in a cell."""
    return (
        f"To take it, run <code>{html.escape(command)}</code> in a new cell: it shows this "
        "diff again and puts the fixed code in that cell, for you to run. (A click in the "
        "page cannot write into a notebook cell.)"
    )


def fix_diff(source: str, fixed: str, *, cell: int | None = None) -> list[str]:
    """The change from a cell's ``source`` to ``fixed``, as unified diff lines (no line
    ends); empty when the two are the same."""
    name = f"cell [{cell}]" if cell is not None else "the cell"
    return list(
        difflib.unified_diff(
            source.splitlines(), fixed.splitlines(), name, "the fix", n=2, lineterm=""
        )
    )


def diff_html(lines: list[str]) -> str:
    """Diff lines as HTML: each line escaped, in a ``<div>`` classed by what it is."""
    rows = []
    for line in lines:
        if line.startswith(("---", "+++")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("-"):
            kind = "del"
        elif line.startswith("+"):
            kind = "add"
        else:
            kind = "same"
        rows.append(f'<div class="ck-diff-{kind}">{html.escape(line) or " "}</div>')
    return f'<div class="ck-diff">{"".join(rows)}</div>'


class ErrorLine(W.VBox):  # type: ignore[misc]
    """One line under a failing cell: "Ask about this error" and what follows a click.

    Args:
        on_ask: What a click does (the session asks in the notebook's current thread and
            calls :meth:`host` with the panel). Runs on the kernel's thread.
    """

    def __init__(self, on_ask: Callable[[ErrorLine], object]) -> None:
        self._on_ask = on_ask
        self.ask_button = button(
            "Ask about this error", "comment", "Ask the chat why this cell failed", "ck-error-ask"
        )
        self._note = W.HTML().add_class("ck-error-note")
        row = W.HBox([self.ask_button, self._note]).add_class("ck-error-row")
        style = W.HTML(f"<style>{_LINE_CSS}{DIFF_CSS}</style>").add_class("ck-style")
        # The panel and the fix come after a click: until then the line is a few widgets.
        self.fix_button: W.Button | None = None
        self._fix_shown: W.HTML | None = None
        self._diff = ""
        self._command = "%chatkit insert"
        self._parts: list[W.Widget] = [style, row]
        super().__init__(self._parts)
        self.add_class("ck-error-line")
        self.ask_button.on_click(lambda _: self._asked())

    def __repr__(self) -> str:
        # A saved notebook without widget state shows this, where the line was.
        return "<Ask about this error: %chat opens the chat>"

    def _asked(self) -> None:
        self.ask_button.disabled = True
        try:
            self._on_ask(self)
        except Exception as error:  # said on the line, not in a log nobody reads
            self.ask_button.disabled = False
            self.say(f"Could not ask: {error}")

    def say(self, text: str) -> None:
        """A short note beside the button (plain text)."""
        self._note.value = html.escape(text)

    def host(self, widget: W.Widget) -> None:
        """Show ``widget`` (the chat panel the question went to) under the line."""
        self.ask_button.description = "Asked below"
        self._parts.append(widget)
        self.children = tuple(self._parts)

    def offer_fix(self, lines: list[str], command: str = "%chatkit insert") -> None:
        """Offer "Use this fix" for a fix whose diff against the failing cell is ``lines``,
        taken by running ``command``."""
        self._diff = diff_html(lines) if lines else '<div class="ck-fix-how">No change.</div>'
        self._command = command
        if self.fix_button is None:
            self.fix_button = button(
                "Use this fix", "check", "See what the fix changes in the cell", "ck-fix-use"
            )
            self.fix_button.on_click(lambda _: self._show_fix())
            self._fix_shown = W.HTML().add_class("ck-fix-diff")
            fix = W.VBox([self.fix_button, self._fix_shown]).add_class("ck-fix")
            self._parts.append(fix)
            self.children = tuple(self._parts)
        elif self._fix_shown is not None:
            self._fix_shown.value = ""

    def _show_fix(self) -> None:
        if self._fix_shown is not None:
            how = take_fix(self._command)
            self._fix_shown.value = f'{self._diff}<div class="ck-fix-how">{how}</div>'
