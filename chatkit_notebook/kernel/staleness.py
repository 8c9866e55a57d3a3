"""Stale answers: noticing that a variable an answer read has changed since.

Every answer keeps the fingerprints of the variables it read (its annotations, see
``agent.sources``). :class:`StaleWatch` knows each of those variables' fingerprint *now*,
and says, for an answer, which of them changed and how ("`sales` changed since this
answer (1,200 → 1,320 rows)").

It must not slow the notebook down. After each cell (IPython's ``post_run_cell``) it
looks only at the tracked variables the cell could have changed: the names its code
assigns or deletes, stores into (``df.loc[3, "x"] = …``, ``arr[0] = …``, ``obj.a = …``),
calls a method on (``df.drop(…, inplace=True)``, ``arr.sort()``) or passes to a function
(``np.random.shuffle(arr)``). A cell that mentions none of them costs a parse of its
code; one that edits a tracked frame costs one fingerprint of it.

What a cell's code cannot show is found later: a change made through another name
(``view = sales; view.loc[0] = 0``), inside a function that reads a global, or by a
thread in the background is found the next time every tracked variable is checked again
(:meth:`StaleWatch.recheck`: when a thread is opened and after each turn). After a kernel
restart the fingerprints the answers kept are compared with the rebuilt variables by
content. The limits of the fingerprints themselves (objects compared by identity and
length) are in ``previews.fingerprint``.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import logging
import re
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..context import NotebookContext
from ..previews.fingerprint import change_note, fingerprint, same
from ..previews.namespace import lookup

__all__ = ["StaleWatch", "touched_names"]

logger = logging.getLogger("chatkit_notebook")

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_GONE: dict[str, Any] = {}  # a tracked variable that no longer exists (or may not be seen)


def touched_names(code: str) -> set[str]:
    """The names a cell's code could change: see the module docstring. ``set()`` for code
    that does not parse (a magic IPython did not transform)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(
            node.ctx, (ast.Store, ast.Del)
        ):
            _add_base(node, found)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                _add_base(node.func.value, found)  # df.drop(...), df["x"].fillna(...)
            for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
                _add_base(argument, found)  # np.random.shuffle(arr), f(df)
        elif isinstance(node, ast.AugAssign):
            _add_base(node.target, found)
    return found


def _differs(before: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    if not before or not now:  # gone before or now
        return bool(before) != bool(now)
    return not same(before, now)


def _add_base(node: ast.expr, found: set[str]) -> None:
    """The variable at the root of ``a.b[c].d`` (nothing for other expressions)."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    if isinstance(node, ast.Name):
        found.add(node.id)


class StaleWatch:
    """The tracked variables' fingerprints now, kept up to date cell by cell.

    Args:
        context: Gives the namespace and the hidden names (looked up at each use).
    """

    def __init__(self, context: Callable[[], NotebookContext]) -> None:
        self._context = context
        self._lock = threading.Lock()
        self._now: dict[str, tuple[dict[str, Any], int]] = {}  # name: (fingerprint, as of cell)
        self._cells = 0  # cells run since the watch began
        self._listeners: list[Callable[[], Callable[[], object] | None]] = []
        self.changed_in: dict[str, int] = {}
        """The execution count of the cell that last changed each name (as far as seen)."""

    def __repr__(self) -> str:
        return f"<StaleWatch tracking {len(self._now)} variables>"

    # -- the cell hook (kernel's main thread) ----------------------------------------------

    def after_cell(self, code: str, execution_count: int | None, *, raw: str | None = None) -> None:
        """Update the fingerprints of the tracked variables ``code`` (the cell as IPython
        runs it; ``raw`` as typed, when magics made them differ) could have changed, and
        tell the listeners (their marks are drawn again from what is known)."""
        self._cells += 1
        names = touched_names(code)
        if raw is not None and raw != code:
            # A magic's argument is code IPython passes as a string (%time df.loc[0] = 1):
            # any tracked name the cell mentions may have changed.
            names |= set(_IDENTIFIER.findall(raw)).intersection(self._now)
        if not names:
            return
        if execution_count is not None:
            for name in names:
                self.changed_in[name] = execution_count
        tracked = names.intersection(self._now)
        if tracked:
            # Told even when this check saw no change: a re-check in a worker thread may
            # have seen the same change a moment before, and not yet told anyone.
            self._refresh(tracked)
            self._tell()

    # -- checks (any thread) ---------------------------------------------------------------

    def recheck(self) -> None:
        """Fingerprint every tracked variable again (changes no cell's code showed)."""
        if self._refresh(set(self._now)):
            self._tell()

    def notes(self, sources: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """What changed since an answer read ``sources`` (name: fingerprint then), one
        line per variable: "`sales` changed since this answer (1,200 → 1,320 rows)"."""
        lines = []
        for name, then in sources.items():
            note = self._note(name, then)
            if note == "deleted":
                lines.append(f"`{name}` was deleted since this answer")
            elif note is not None:
                lines.append(f"`{name}` changed since this answer ({note})")
        return lines

    def stale_count(self, answers: Sequence[Mapping[str, Mapping[str, Any]]]) -> int:
        """How many of ``answers`` (each its sources) depend on a changed variable."""
        return sum(1 for sources in answers if self.notes(sources))

    def listen(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback()`` after a check found a tracked variable changed; returns the
        function that stops it. A bound method is held weakly (a panel nobody shows any
        more is not kept alive by the watch)."""
        ref = weakref.WeakMethod(callback) if inspect.ismethod(callback) else (lambda: callback)
        self._listeners.append(ref)

        def forget() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(ref)

        return forget

    # -- inside ----------------------------------------------------------------------------

    def _note(self, name: str, then: Mapping[str, Any]) -> str | None:
        with self._lock:
            known = self._now.get(name)
        if known is None:  # first asked: start tracking it
            self._refresh({name})
            with self._lock:
                known = self._now[name]
        note = change_note(then, known[0] or None)
        if note is not None and known[1] < self._cells:
            # Cells ran since: it may have changed back, or through another name.
            self._refresh({name})
            with self._lock:
                note = change_note(then, self._now[name][0] or None)
        return note

    def _refresh(self, names: set[str]) -> bool:
        """Fingerprint ``names`` now; whether any differs from before.

        Each fingerprint is stamped with the cells run when it was *begun*, and never
        replaces one begun later: a re-check in a worker thread that started before a cell
        cannot overwrite what the cell's own check found after it.
        """
        changed = False
        for name in names:
            cells = self._cells
            now = self._take(name)
            with self._lock:
                before = self._now.get(name)
                if before is None or before[1] <= cells:
                    self._now[name] = (now, cells)
            if before is not None and _differs(before[0], now):
                changed = True
        return changed

    def _take(self, name: str) -> dict[str, Any]:
        found, value = lookup(self._context(), name)
        return fingerprint(value, cell=self.changed_in.get(name)) if found else _GONE

    def _tell(self) -> None:
        for ref in list(self._listeners):
            callback = ref()
            if callback is None:
                continue
            try:
                callback()
            except Exception:  # a view's redraw must not fail the user's cell
                logger.warning("a stale-answer listener failed", exc_info=True)
