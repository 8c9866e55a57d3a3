"""Which of the notebook's names the agent may see: one rule for the tools, the sandbox and
the ``@`` offers.

A name is hidden when it is private (``_x``), one of IPython's own (``In``, ``Out``,
``exit``, ``quit``, ``get_ipython``), named by ``%chatkit hide`` (``NotebookContext.hidden``),
or an IPython start-up name still holding its start-up value (as ``%who`` hides them).
:func:`visible` applies the rule to a namespace, :func:`lookup` to one name (an unknown and
a hidden name look the same), and :func:`offered_variables` is stricter still: it also
leaves out modules, functions, classes and anything secret-looking, because offers are
shown as suggestions.

The notebook's own names come first wherever names are listed or offered
(:func:`user_first`): a name the notebook's cells bind (assign, loop over, define; read
from IPython's ``In`` history) is the user's; one only an import binds came from a library
(``from pylab import *`` binds 900 names, ``from numpy import pi`` one), and a callable
object among those is code, not data (:func:`imported_callable`). Without a history,
namespace order is kept.

IPython is never imported: the running shell, if any, is found in ``sys.modules``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any

from ..context import NotebookContext
from .foreign import is_secret_value, type_name
from .redact import is_secret_name
from .values import kind_of, shape_text

__all__ = [
    "IPYTHON_NAMES",
    "is_hidden",
    "lookup",
    "offered_variables",
    "snapshot",
    "startup_names",
    "user_first",
    "user_names",
    "visible",
]

IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
"""IPython's own names, never the user's variables."""

_MISSING = object()


def snapshot(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy taken in one C call, so the kernel thread cannot change it midway."""
    for _ in range(3):
        try:
            return dict.copy(namespace) if isinstance(namespace, dict) else dict(namespace)
        except RuntimeError:  # changed size during a non-dict copy: try again
            continue
    return {}


def startup_names() -> Mapping[str, Any]:
    """The running IPython shell's ``user_ns_hidden`` (its start-up names), if any."""
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        hidden = getattr(shell, "user_ns_hidden", None)
    except Exception:  # an odd IPython state: fall back to the fixed names
        return {}
    return hidden if isinstance(hidden, dict) else {}


def is_hidden(
    name: object, value: object, hidden: Collection[str], startup: Mapping[str, Any]
) -> bool:
    """Whether the agent may not see ``name`` (bound to ``value``)."""
    if not isinstance(name, str) or name.startswith("_") or name in IPYTHON_NAMES:
        return True
    if name in hidden:
        return True
    # As IPython's %who: a start-up name is hidden while it still holds its start-up value.
    return name in startup and startup[name] is value


def visible(namespace: Mapping[str, Any], hidden: Collection[str]) -> dict[str, Any]:
    """The names of ``namespace`` the agent may see, with their values, in namespace order."""
    startup = startup_names()
    return {
        name: value
        for name, value in snapshot(namespace).items()
        if not is_hidden(name, value, hidden, startup)
    }


def lookup(nb: NotebookContext, name: str) -> tuple[bool, object]:
    """``(True, value)`` for a name the agent may see, else ``(False, None)``."""
    try:
        value = nb.namespace.get(name, _MISSING) if isinstance(name, str) else _MISSING
    except Exception:  # an unhashable or odd key
        return (False, None)
    if value is _MISSING or is_hidden(name, value, nb.hidden, startup_names()):
        return (False, None)
    return (True, value)


_MAX_CELLS = 5000  # the newest cells of a longer history are read


class _Bound(ast.NodeVisitor):
    """The names a cell binds itself: assignments, loop and ``with`` targets, definitions;
    not what an ``import`` binds, which is the library's, not the user's data."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self.names.add(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.names.add(node.name)  # its body's names are its own, not the notebook's

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.names.add(node.name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.names.add(node.name)


@lru_cache(maxsize=4096)
def _cell_names(source: str) -> frozenset[str]:
    """The names a cell's source binds (a cache: cells do not change); none if it does not
    parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    bound = _Bound()
    bound.visit(tree)
    return frozenset(bound.names)


def user_names(namespace: Mapping[str, Any]) -> frozenset[str] | None:
    """Names the notebook's cells bind, from IPython's ``In`` history in ``namespace``.

    Returns:
        The names the cells run so far assign, loop over, bind with ``as`` or define (a
        name only an ``import`` binds is not the user's), or ``None`` when the namespace
        keeps no history.
    """
    try:
        cells = namespace.get("In")
        if not isinstance(cells, list):
            return None
        names: set[str] = set()
        for cell in list.__iter__(cells[-_MAX_CELLS:]):
            if type(cell) is str:
                names |= _cell_names(cell)
    except Exception:  # an odd history: keep namespace order
        return None
    return frozenset(names)


def user_first(names: Iterable[str], namespace: Mapping[str, Any]) -> list[str]:
    """``names`` with the ones the notebook's cells bind first, each part in its order."""
    ordered = list(names)
    mentioned = user_names(namespace)
    if mentioned is None:
        return ordered
    return [n for n in ordered if n in mentioned] + [n for n in ordered if n not in mentioned]


def imported_callable(name: str, value: object, user: frozenset[str] | None) -> bool:
    """Whether ``value`` is a callable object the user's cells never bound: a star import's
    helpers (``FR``, ``colormaps``, numpy's ``test``), code rather than data. A callable the
    user made (``model = Pipeline(...)``) stays data; without a history nothing is judged."""
    if user is None or name in user:
        return False
    return kind_of(value) == "object" and callable(value)


def offered_variables(nb: NotebookContext, limit: int = 200) -> list[tuple[str, str]]:
    """The variables a person may point the agent at, as ``(name, "type shape")`` pairs.

    The visibility rule, and stricter: secret-looking names and values, modules, functions
    and classes are never offered (suggestions, ``@`` names). Only types and shapes are
    read, never a value's ``repr``. The names the notebook's cells bind come first
    (:func:`user_first`), then the rest; each in namespace order, so the newest definitions
    come last.
    """
    offered: list[tuple[str, str]] = []
    variables = visible(nb.namespace, nb.hidden)
    user = user_names(nb.namespace)
    for name in user_first(variables, nb.namespace):
        value = variables[name]
        if kind_of(value) in ("module", "class", "function"):
            continue
        if imported_callable(name, value, user):
            continue
        if is_secret_name(name) or is_secret_value(value):
            continue
        shape = shape_text(value)
        kind = type_name(value).rsplit(".", 1)[-1]
        offered.append((name, f"{kind} {shape}" if shape else kind))
        if len(offered) >= limit:
            break
    return offered
