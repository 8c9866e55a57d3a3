"""Attribute and key paths into a variable: ``model.coef_``, ``results.params``, ``d["key"]``.

The tools read one variable at a time; an analyst's numbers often sit one or two steps
inside it (a fitted model's ``coef_``, a results object's ``params``, a JSON record's
``["geo"]["ll"]``). :func:`parse_path` reads such a path (Python syntax, literals only:
no calls, no slices, no names inside brackets) and :func:`follow` walks it under the same
rules as every preview:

* **Nothing of a user's class runs.** An attribute is read from the instance ``__dict__``
  (or a ``__slots__`` slot), else from the class namespace when it is plain data there.
  A ``property`` or any other descriptor of a class defined outside the libraries below
  runs code nobody has checked: it is refused, and so is ``__getattr__``; the error says
  so and points at ``run_python``.
* **Library attributes run under the time limit.** For objects of numpy, pandas, polars,
  xarray, scipy, scikit-learn, statsmodels, networkx, sympy and matplotlib, whose
  properties compute from the object (``df.index``, ``results.params``, statsmodels'
  cached statistics), the attribute is read with ``getattr`` in ``foreign.call_foreign``'s
  worker, bounded by the tool's time budget.
* **Methods are never called.** A path step that names a method, or that would need a
  call, is refused.
* **Keys.** Dicts (through ``dict`` itself), lists, tuples and ranges (through their
  builtin base class), numpy arrays (integer positions), pandas DataFrames (a column, by
  the label text the previews show) and Series (an index label, the same way).

Private steps (``._x``) are refused; secret-named steps are left to the caller, which
redacts them as it redacts a secret-named variable.
"""

from __future__ import annotations

import ast
import types
from dataclasses import dataclass
from typing import Any

from .foreign import (
    Budget,
    call_foreign,
    class_dict,
    instance_dict,
    isa,
    module_of,
    mro,
    safe_text,
    type_name,
)
from .values import PreviewError, builtin_len, kind_of, label_text

__all__ = ["PATH_HINT", "Step", "follow", "parse_path"]

PATH_HINT = (
    'Read a part of a variable with a path: name.attribute, name["key"], name[0], '
    'chained (model.coef_, results.params, records[3]["geo"]); no calls or slices.'
)

_MAX_PATH_CHARS = 300
_MAX_STEPS = 20
_MAX_LABELS = 100_000  # Series index labels compared when a key picks one
# Libraries whose attributes (properties included) compute from the object, cheaply.
_LIBRARIES = frozenset(
    {
        "numpy",
        "pandas",
        "polars",
        "xarray",
        "scipy",
        "sklearn",
        "statsmodels",
        "networkx",
        "sympy",
        "matplotlib",
    }
)


@dataclass(frozen=True)
class Step:
    """One step of a path: ``.name`` (``attribute=True``) or ``[key]``."""

    key: object
    attribute: bool

    def text(self) -> str:
        if self.attribute:
            return f".{self.key}"
        return f"[{self.key!r}]"


def parse_path(text: str) -> tuple[str, list[Step]] | None:
    """Split ``model.coef_[0]`` into its variable and steps.

    Returns:
        ``(root, steps)`` with at least one step, or ``None`` when ``text`` is a plain
        name.

    Raises:
        PreviewError: ``text`` is neither a name nor a path of attributes and literal keys.
    """
    if text.isidentifier():
        return None
    bad = PreviewError(f"{safe_text(text, 100)!r} is not a variable name or a path.", PATH_HINT)
    if len(text) > _MAX_PATH_CHARS:
        raise bad
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        raise bad from None
    steps: list[Step] = []
    while not isinstance(node, ast.Name):
        if isinstance(node, ast.Attribute):
            steps.append(Step(node.attr, attribute=True))
            node = node.value
        elif isinstance(node, ast.Subscript):
            try:
                key = ast.literal_eval(node.slice)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                raise bad from None
            if not _literal_key(key):
                raise bad
            steps.append(Step(key, attribute=False))
            node = node.value
        else:
            raise bad
        if len(steps) > _MAX_STEPS:
            raise bad
    steps.reverse()
    return node.id, steps


def _literal_key(key: object) -> bool:
    if isinstance(key, tuple):
        return len(key) <= 5 and all(_literal_key(k) for k in key)
    return key is None or type(key) in (str, int, float, bool)


def follow(value: object, steps: list[Step], budget: Budget) -> object:
    """The value at the end of ``steps`` from ``value``.

    Raises:
        PreviewError: A step is private, a method, a property of a user's class, missing,
            or not allowed on that kind of value; the message names the step.
    """
    for step in steps:
        value = _attribute(value, step, budget) if step.attribute else _item(value, step, budget)
    return value


_MISSING = object()


def _attribute(obj: object, step: Step, budget: Budget) -> object:
    name = str(step.key)
    where = f"{type_name(obj)}{step.text()}"
    if name.startswith("_"):
        raise PreviewError(
            f"{where} is private; the tools never read private attributes.",
            "Read a public attribute, or ask the user.",
        )
    found = _MISSING
    own = instance_dict(obj)
    if own is not None and name in own:
        found = dict.__getitem__(own, name)
    elif _library_object(obj):
        status, got = call_foreign(lambda: getattr(obj, name), budget)
        if status == "error" and got == "AttributeError":
            raise _no_attribute(where)
        if status != "ok":
            raise PreviewError(
                f"Reading {where} did not finish ({status}: {got or 'no result'}).",
                "It computes something large; use run_python to compute it in the notebook.",
            )
        found = got
    else:
        found = _class_attribute(obj, name, where)
    if isa(found, (types.MethodType, types.BuiltinMethodType)) or (
        kind_of(found) == "function" and not isa(obj, types.ModuleType)
    ):
        raise PreviewError(
            f"{where} is a method; the tools never call methods.",
            "Call it with run_python (the user approves it), or read an attribute.",
        )
    return found


def _library_object(obj: object) -> bool:
    # The exact type: a user's subclass of a library class may add its own properties.
    return module_of(type(obj)).partition(".")[0] in _LIBRARIES


def _class_attribute(obj: object, name: str, where: str) -> object:
    for klass in mro(type(obj)):
        namespace = class_dict(klass)
        if name not in namespace:
            continue
        found = namespace[name]
        if isa(found, types.MemberDescriptorType):  # a __slots__ slot: read in C
            try:
                return found.__get__(obj, type(obj))
            except AttributeError:
                raise _no_attribute(where) from None
        descriptor = any("__get__" in class_dict(k) for k in mro(type(found)))
        if isa(found, (types.FunctionType, staticmethod, classmethod)):
            raise PreviewError(
                f"{where} is a method; the tools never call methods.",
                "Call it with run_python (the user approves it), or read an attribute.",
            )
        if descriptor:
            what = "a property" if isa(found, property) else "computed by its class"
            raise PreviewError(
                f"{where} is {what}: reading it runs the class's own code, which the "
                "tools never do for a class defined outside the libraries they know.",
                "Compute it with run_python (the user approves it), or read the "
                "attributes it is computed from.",
            )
        return found
    raise _no_attribute(where)


def _no_attribute(where: str) -> PreviewError:
    return PreviewError(
        f"{where}: no attribute by that name (the tools never call __getattr__).",
        "describe_variable on the object lists its attributes and public names.",
    )


def _item(obj: object, step: Step, budget: Budget) -> object:
    key = step.key
    where = f"{type_name(obj)}{step.text()}"
    missing = PreviewError(
        f"{where}: no key or item {label_text(key)!r}.",
        "describe_variable or preview_rows on it shows its keys or length.",
    )
    if isa(obj, dict):
        if not _plain_key(key):
            raise missing
        # The key is a literal, but on a hash collision the dict compares it with a stored
        # key, whose __eq__ may be a user's: the lookup is timed like any foreign call.
        status, found = call_foreign(lambda: dict.get(obj, key, _MISSING), budget)  # type: ignore[call-overload]
        if status != "ok" or found is _MISSING:
            raise missing
        return found
    if isa(obj, (list, tuple, range)):
        if type(key) is not int:
            raise PreviewError(f"{where}: a position must be an integer.", PATH_HINT)
        size = builtin_len(obj) if not isa(obj, range) else range.__len__(obj)  # type: ignore[arg-type]
        if not -size <= key < size:
            raise missing
        base: Any = next(b for b in (list, tuple, range) if isa(obj, b))
        return base.__getitem__(obj, key)
    kind = kind_of(obj)
    if kind == "numpy.ndarray":
        positions = key if isinstance(key, tuple) else (key,)
        if not all(type(k) is int for k in positions):
            raise PreviewError(f"{where}: array positions must be integers.", PATH_HINT)
        status, got = call_foreign(lambda: obj[key], budget)  # type: ignore[index]
        if status != "ok":
            raise missing
        return got
    if kind == "pandas.DataFrame":
        texts = [label_text(label) for label in obj.columns.tolist()]  # type: ignore[attr-defined]
        return _by_label(obj, texts, key, missing, where, column=True)
    if kind == "pandas.Series":
        labels = obj.index[:_MAX_LABELS].tolist()  # type: ignore[attr-defined]
        return _by_label(obj, [label_text(x) for x in labels], key, missing, where, column=False)
    raise PreviewError(
        f"{where}: a {type_name(obj)} cannot be indexed by the tools.",
        "Paths index dicts, lists, tuples, ranges, numpy arrays, DataFrame columns and "
        "Series labels.",
    )


def _plain_key(key: object) -> bool:
    """A key whose hash and comparison run no user code (the parser allows no other)."""
    return _literal_key(key)


def _by_label(
    obj: Any, texts: list[str], key: object, missing: PreviewError, where: str, *, column: bool
) -> object:
    text = key if isinstance(key, str) else label_text(key)
    found = texts.count(text)
    if found == 0:
        raise missing
    if found > 1:
        raise PreviewError(f"{where}: {found} labels read {text!r}; the tools will not guess.")
    position = texts.index(text)
    return obj.iloc[:, position] if column else obj.iloc[position]
