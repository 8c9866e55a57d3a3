"""The panel's thread bar: the thread picker, New, Rename and Delete, and their rows.

It only draws: the panel decides what happens (see ``panel.ChatPanel`` for its threading
rule) and calls these methods from its operations, on the loop thread.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from datetime import datetime

import ipywidgets as W
from chatkit.types import ThreadMetadata

from .anywidgets import ComposerWidget

__all__ = ["NEW", "ThreadBar", "button", "thread_label"]

NEW = "__new__"
"""The picker's value for a new chat (no thread yet)."""


class ThreadBar:
    """The widgets above the messages, with the state of the thread list they show."""

    def __init__(self) -> None:
        self.threads = W.Dropdown(
            options=[("New chat", NEW)], value=NEW, layout=W.Layout(flex="1")
        ).add_class("ck-threads")
        self.new_button = button("New", "plus", "Start a new chat", "ck-new")
        self.rename_button = button("Rename", "pencil", "Rename this chat", "ck-rename")
        self.delete_button = button("Delete", "trash", "Delete this chat", "ck-delete")
        self.title_input = ComposerWidget(
            placeholder="New title", multiline=False, layout=W.Layout(flex="1")
        ).add_class("ck-title-input")
        self.title_save = button("Save", "check", "Save the title", "ck-rename-save")
        self.title_cancel = button("Cancel", "", "Keep the title", "ck-rename-cancel")
        self.rename_row = W.HBox([self.title_input, self.title_save, self.title_cancel])
        self.confirm_text = W.HTML()
        self.confirm_yes = button("Delete", "trash", "Delete it for good", "ck-delete-yes")
        self.confirm_yes.button_style = "danger"
        self.confirm_no = button("Keep", "", "Keep the chat", "ck-delete-no")
        self.confirm_row = W.HBox([self.confirm_text, self.confirm_yes, self.confirm_no])
        self.hide_rows()
        self.bar = W.HBox(
            [self.threads, self.new_button, self.rename_button, self.delete_button]
        ).add_class("ck-bar")
        self.syncing = False  # the picker is being set by the panel, not picked
        self.used: dict[str, datetime] = {}  # when each listed thread was last used
        self._touched: dict[str, datetime] = {}  # when this panel last used each thread
        self._listed: dict[str, ThreadMetadata] = {}  # the threads listed, by id

    @property
    def widgets(self) -> tuple[W.Widget, ...]:
        """The bar and its two rows, top to bottom."""
        return (self.bar, self.rename_row, self.confirm_row)

    def on_pick(self, pick: Callable[[str], object]) -> None:
        """Call ``pick(value)`` when the person picks a thread (or ``NEW``) in the list."""

        def picked(change: dict[str, object]) -> None:
            if not self.syncing and isinstance(change["new"], str):
                pick(change["new"])

        self.threads.observe(picked, names="value")

    def show(
        self,
        current: str | None,
        threads: list[ThreadMetadata] | None = None,
        used: Mapping[str, datetime] | None = None,
    ) -> None:
        """Show ``current`` as picked, after replacing the list with ``threads`` if given,
        most recently used first and aged by last use (``used``, or this panel's own, the
        later of the two; else by creation)."""
        options = None
        if threads is not None:
            self._listed = {t.id: t for t in threads}
            self.used = {
                t.id: _latest((used or {}).get(t.id, t.created_at), self._touched.get(t.id))
                for t in threads
            }
            ordered = sorted(threads, key=lambda t: _moment(self.used[t.id]), reverse=True)
            options = [("New chat", NEW)]
            options += [(thread_label(t, self.used[t.id]), t.id) for t in ordered]
        self._select(current, options)

    def touch(self, thread_id: str) -> None:
        """This panel just used ``thread_id`` (opened it, or asked in it): it goes to the
        top of the list, "just now", whatever a list loaded later says of it (the kernel's
        note of that use may not be kept yet, and a panel built without one has none)."""
        self._touched[thread_id] = datetime.now()
        thread = self._listed.get(thread_id)
        if thread is not None:  # else not listed yet: the next list has it, touched
            self.upsert(self.threads.value, thread)  # the pick stays as it is

    def upsert(self, current: str | None, thread: ThreadMetadata) -> None:
        """Name a thread created or renamed during a turn at once: it is in use, so it
        goes to the top of the list, "just now"."""
        self.used[thread.id] = self._touched[thread.id] = datetime.now()
        self._listed[thread.id] = thread
        options = [o for o in self.threads.options if o[1] != thread.id]
        options.insert(1, (thread_label(thread, self.used[thread.id]), thread.id))
        self._select(current, options)

    def _select(self, current: str | None, options: list[tuple[str, str]] | None) -> None:
        self.syncing = True
        try:
            if options is not None:
                self.threads.options = options
            known = {value for _, value in self.threads.options}
            self.threads.value = current if current in known else NEW
        finally:
            self.syncing = False

    def label_of(self, thread_id: str | None, default: str = "") -> str:
        return next((o[0] for o in self.threads.options if o[1] == thread_id), default)

    def show_rename(self, thread_id: str) -> None:
        self.title_input.value = self.label_of(thread_id).rsplit(" · ", 1)[0]
        self.rename_row.layout.display = ""

    def show_confirm(self, thread_id: str) -> None:
        label = self.label_of(thread_id, "this chat")
        self.confirm_text.value = f"Delete <b>{html.escape(label)}</b> and its messages?"
        self.confirm_row.layout.display = ""

    def hide_rows(self) -> None:
        self.rename_row.layout.display = "none"
        self.confirm_row.layout.display = "none"

    def set_busy(self, busy: bool) -> None:
        """No switching, New, Rename or Delete while an answer streams."""
        for widget in (self.threads, self.new_button, self.rename_button, self.delete_button):
            widget.disabled = busy


def button(description: str, icon: str, tooltip: str, css: str) -> W.Button:
    """A compact button with an icon and a ``ck-*`` class."""
    made = W.Button(
        description=description, icon=icon, tooltip=tooltip, layout=W.Layout(width="auto")
    )
    made.add_class(css)
    return made


def thread_label(thread: ThreadMetadata, used: datetime | None = None) -> str:
    """A thread as the list shows it: its title and when it was last ``used`` (by default
    when it was created)."""
    title = thread.title or "Untitled chat"
    return f"{title} · {_age(used or thread.created_at)}"


def _latest(when: datetime, other: datetime | None) -> datetime:
    """The later of two times (naive or aware)."""
    return when if other is None or _moment(when) >= _moment(other) else other


def _moment(when: datetime) -> float:
    """A time as a number, naive (local) and aware alike, to sort by."""
    return when.timestamp()


def _age(moment: datetime) -> str:
    now = datetime.now(moment.tzinfo) if moment.tzinfo else datetime.now()
    seconds = max(0.0, (now - moment).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"
