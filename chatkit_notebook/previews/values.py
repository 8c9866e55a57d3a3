"""Bounded, type-aware previews of notebook values, safe to run on anything in the kernel.

The agent's tools (``tools.py``) show the model what a variable holds through three pure
functions with their caps in the signature: :func:`summary` (one line for a listing),
:func:`describe` (sizes, types, statistics and first values) and :func:`rows` (a window of
a table, sequence, dict or text). A :class:`Preview` keeps sizes and types (``meta``)
apart from the notebook's values (``data``), and notes say what was left out and the true
sizes. Every string in it is already redacted (``_redact.py``), cleaned of invisible
characters and cut: a cell to 100 characters, a scalar to 2,000, a table to 20 by 20.

Builtin values are read through their builtin base class (``dict.items(d)``,
``list.__len__(x)``), so a subclass's overrides never run; self-references and deep
nesting are cut. Other objects are read through ``_foreign.py`` (no ``__getattr__``, a
timed ``__repr__``), and pandas, numpy and polars values through ``_tables.py``. Nothing
here raises into the kernel or mutates what it reads.
"""

from __future__ import annotations

import itertools
import math
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .foreign import (
    Budget,
    call_foreign,
    class_dict,
    exception_name,
    foreign_text,
    has_own_repr,
    has_plain_str,
    instance_dict,
    is_instance,
    is_secret_value,
    isa,
    mro,
    public_names,
    safe_tail,
    safe_text,
    type_name,
)
from .redact import REDACTED, in_private_key, is_secret_name

__all__ = [
    "DEFAULT_CAPS",
    "JSON",
    "Budget",
    "Caps",
    "Preview",
    "PreviewError",
    "Walker",
    "builtin_len",
    "describe",
    "kind_of",
    "label_text",
    "rows",
    "shape_text",
    "summary",
    "window",
]

JSON = Any
"""A JSON-able value: str, int, float, bool, None, or lists and str-keyed dicts of them."""


@dataclass(frozen=True)
class Caps:
    """Limits on one preview."""

    rows: int = 20  # rows or items per ``rows()`` call
    columns: int = 20  # table columns shown
    cell_chars: int = 100  # one table cell, nested value or dict key
    scalar_chars: int = 2000  # a top-level string, bytes or repr
    items: int = 20  # container items at the top level
    nested_items: int = 5  # container items below the top level
    depth: int = 5  # container levels shown before they are summarised
    head_rows: int = 5  # table rows shown by describe
    sample_rows: int = 10_000  # rows or values that statistics are computed on
    exact_null_rows: int = 1_000_000  # longer text columns get estimated null counts
    leaves: int = 500  # values shown in one preview, all levels together


DEFAULT_CAPS = Caps()


@dataclass
class Preview:
    """A preview: ``meta`` (sizes and types), ``data`` (the notebook's values) and notes."""

    meta: dict[str, JSON] = field(default_factory=dict)
    data: dict[str, JSON] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class PreviewError(Exception):
    """A request the preview cannot serve. The message and hint are safe for the model."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


# -- kinds ---------------------------------------------------------------------------------

_BUILTIN_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "scalar"),
    (int, "int"),
    (float, "float"),
    (complex, "complex"),
    (str, "str"),
    ((bytes, bytearray, memoryview), "bytes"),
    (dict, "dict"),
    ((list, tuple), "sequence"),
    ((set, frozenset), "set"),
)
_LIBRARY_KINDS = (
    ("pandas", "DataFrame"),
    ("pandas", "Series"),
    ("numpy", "ndarray"),
    ("polars", "DataFrame"),
    ("polars", "Series"),
    ("polars", "LazyFrame"),
)
_FUNCTION_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
)


def kind_of(obj: object) -> str:
    """Which preview applies, decided from the type alone (nothing of ``obj`` runs).

    Returns:
        ``"secret"``, ``"scalar"`` (None and bool), ``"int"``, ``"float"``, ``"complex"``,
        ``"str"``, ``"bytes"``, ``"dict"``, ``"sequence"``, ``"set"``, a library kind such as
        ``"pandas.DataFrame"`` or ``"numpy.scalar"``, ``"module"``, ``"class"``,
        ``"function"`` or ``"object"``.
    """
    cls = type(obj)
    if is_secret_value(obj):
        return "secret"
    if obj is None:
        return "scalar"
    for base, tag in _BUILTIN_KINDS:
        if issubclass(cls, base):
            return tag
    for module, name in _LIBRARY_KINDS:
        if is_instance(obj, module, name):
            return f"{module}.{name}"
    if is_instance(obj, "numpy", "generic"):
        return "numpy.scalar"
    if issubclass(cls, types.ModuleType):
        return "module"
    if issubclass(cls, type):
        return "class"
    if issubclass(cls, (*_FUNCTION_TYPES, types.MethodWrapperType)):
        return "function"
    return "object"


# -- values --------------------------------------------------------------------------------


class Walker:
    """Turns values into bounded JSON for one preview."""

    def __init__(self, caps: Caps, budget: Budget) -> None:
        self.caps = caps
        self.budget = budget
        self.leaves = 0

    def value(
        self, obj: object, depth: int, chars: int, path: frozenset[int] = frozenset()
    ) -> JSON:
        """``obj`` as JSON: containers down to the depth cap, texts cut to ``chars``."""
        self.leaves += 1
        if self.leaves > self.caps.leaves:
            return "…"
        try:
            return self._value(obj, depth, chars, path)
        except BaseException:  # foreign code raises anything
            return f"<{type_name(obj)}: unavailable>"

    def _value(self, obj: Any, depth: int, chars: int, path: frozenset[int]) -> JSON:
        kind = kind_of(obj)
        if kind == "secret":
            return REDACTED
        if kind == "scalar":
            return obj if obj is None else bool.__bool__(obj)
        if kind == "int":
            return _int(obj)
        if kind == "float":
            return _float(float.__float__(obj))
        if kind == "complex":
            return complex.__repr__(obj)
        if kind == "str":
            return safe_text(str.__str__(obj), chars)
        if kind == "bytes":
            return _bytes_text(obj, chars, at_end=False)
        if kind == "numpy.scalar":
            return self.value(obj.item(), depth, chars, path)
        if kind in ("dict", "sequence", "set"):
            if id(obj) in path:
                return f"<recursive reference to a {type_name(obj)}>"
            if depth >= self.caps.depth:
                return f"<{type_name(obj)}: {summary(obj)}>"
            return self._container(obj, kind, depth, chars, path | {id(obj)})
        if kind != "object":
            return f"<{type_name(obj)}: {summary(obj)}>"
        if has_plain_str(obj):
            return safe_text(str(obj), chars)  # Timestamp, NaT, Decimal, UUID, Path, ...
        if has_own_repr(obj):
            return foreign_text(obj, method="repr", max_chars=chars, budget=self.budget)
        return f"<{type_name(obj)} object>"

    def _container(self, obj: Any, kind: str, depth: int, chars: int, path: frozenset[int]) -> JSON:
        limit = self.caps.items if depth == 0 else self.caps.nested_items
        size = builtin_len(obj)
        if kind == "dict":
            out: dict[str, JSON] = {}
            for key, item in itertools.islice(dict.items(obj), limit):
                label = _key_text(key, self.caps.cell_chars)
                while label in out:  # two keys that read alike
                    label += "'"
                hidden = is_secret_name(key)
                out[label] = REDACTED if hidden else self.value(item, depth + 1, chars, path)
            if size > limit:
                out["…"] = f"… {size - limit:,} more keys"
            return out
        shown: list[JSON] = [
            self.value(item, depth + 1, chars, path)
            for item in itertools.islice(_iterate(obj), limit)
        ]
        if size > limit:
            shown.append(f"… {size - limit:,} more items")
        return shown


def _iterate(obj: Any) -> Iterable[object]:
    """Iterate a builtin container through its builtin base class."""
    for base in (list, tuple, set, frozenset):
        if isa(obj, base):
            return base.__iter__(obj)
    return dict.__iter__(obj)


def builtin_len(obj: Any) -> int:
    """``len()`` through the builtin base class, so a subclass's ``__len__`` never runs.

    Raises:
        TypeError: ``obj`` is not a builtin container, text or bytes.
    """
    for base in (dict, list, tuple, set, frozenset, str, bytes, bytearray):
        if isa(obj, base):
            return base.__len__(obj)
    if isa(obj, memoryview):
        return int(memoryview.nbytes.__get__(obj))
    raise TypeError("not a builtin container")


def _int(value: int) -> JSON:
    bits = int.bit_length(value)
    if bits > 3000:  # str() of huge ints is slow, and Python refuses past 4,300 digits
        return f"<int with about {int(bits * math.log10(2)):,} digits>"
    return int.__index__(value)


def _float(value: float) -> JSON:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


_BYTES_MARGIN = 16384


def _bytes_text(obj: Any, chars: int, *, at_end: bool) -> str:
    """The start (or end) of bytes, decoded as UTF-8 with escapes, redacted and cut."""
    base: Any = next(b for b in (bytes, bytearray, memoryview) if isa(obj, b))
    # The end also reads far enough back to find the header of a private key it is in.
    window = chars + _BYTES_MARGIN + (65536 if at_end else 0)
    part = slice(-window, None) if at_end else slice(0, window)
    text = bytes(base.__getitem__(obj, part)).decode("utf-8", "backslashreplace")
    if at_end:
        return safe_tail(text, chars)
    shown = safe_text(text, chars)
    if builtin_len(obj) > window and not shown.endswith("…"):
        shown += "…"
    return "b'" + shown + "'"


def _key_text(key: Any, chars: int) -> str:
    if isa(key, str):
        return safe_text(str.__str__(key), chars)
    if key is None or type(key) is bool:
        return repr(key)
    if isa(key, int):
        return str(_int(key))
    if isa(key, float):
        return str(_float(float.__float__(key)))
    if isa(key, tuple):
        inner = ", ".join(_key_text(k, chars) for k in itertools.islice(tuple.__iter__(key), 5))
        more = ", …" if tuple.__len__(key) > 5 else ""
        return safe_text(f"({inner}{more})", chars)
    if has_plain_str(key):
        return safe_text(str(key), chars)
    if is_instance(key, "numpy", "generic"):
        return _key_text(key.item(), chars)
    return f"<{type_name(key)}>"


def label_text(label: object) -> str:
    """A column, index or dict label as text: a string as is, anything else in short form.

    Args:
        label: Any label (``"price"``, ``3``, ``("a", 1)``, a timestamp).

    Returns:
        Redacted text of at most 100 characters.
    """
    try:
        return _key_text(label, DEFAULT_CAPS.cell_chars)
    except BaseException:  # foreign code raises anything
        return f"<{type_name(label)}>"


# -- one line per variable -------------------------------------------------------------------


def summary(obj: object) -> str:
    """One line for a listing: a table's shape, a container's length, a number's value.

    Args:
        obj: Any object. Only cheap calls into library code are made.

    Returns:
        Text such as ``1,000 rows x 12 columns``, ``42 items``, ``3.14``, or ``""``.
    """
    try:
        return _summary(obj)
    except BaseException:  # foreign code raises anything
        return ""


def _summary(obj: Any) -> str:
    kind = kind_of(obj)
    if kind == "secret":
        return REDACTED
    shape = _shape(obj, kind)
    if kind in ("pandas.DataFrame", "polars.DataFrame"):
        return f"{shape[0]:,} rows \u00d7 {shape[1]:,} columns"
    if kind in ("pandas.Series", "polars.Series"):
        return f"{shape[0]:,} values, {safe_text(str(obj.dtype), 40)}"
    if kind == "numpy.ndarray":
        return f"shape {tuple(shape)}, {safe_text(str(obj.dtype), 40)}"
    if kind == "polars.LazyFrame":
        return "lazy frame (not collected)"
    if kind in ("scalar", "int", "float", "complex", "numpy.scalar"):
        return str(Walker(DEFAULT_CAPS, Budget(0)).value(obj, 0, 40))
    if shape:
        return _count(shape[0], _UNITS.get(kind, "item"))
    return kind if kind in ("module", "class", "function") else ""


def _shape(obj: Any, kind: str) -> tuple[int, ...]:
    if kind in ("pandas.DataFrame", "pandas.Series", "numpy.ndarray", "polars.DataFrame"):
        return tuple(int(n) for n in obj.shape)
    if kind == "polars.Series":
        return (int(obj.len()),)
    if kind in ("str", "bytes", "dict", "sequence", "set"):
        return (builtin_len(obj),)
    return ()


def shape_text(obj: object) -> str:
    """The size of a value for a progress title, without any of its values.

    Args:
        obj: Any object.

    Returns:
        A table's or array's shape joined by a multiplication sign (``1,000 \u00d7 12``),
        otherwise a length with its unit (``50 items``, ``8 characters``); ``""`` for
        scalars, secrets and other objects.
    """
    try:
        kind = kind_of(obj)
        shape = () if kind == "secret" else _shape(obj, kind)
    except BaseException:  # foreign code raises anything
        return ""
    if not shape:
        return ""
    if kind in ("pandas.DataFrame", "polars.DataFrame", "numpy.ndarray"):
        return " \u00d7 ".join(f"{n:,}" for n in shape)
    return _count(shape[0], _UNITS.get(kind, "value" if kind.endswith("Series") else "item"))


_UNITS = {"str": "character", "bytes": "byte", "dict": "key"}


def _count(n: int, unit: str) -> str:
    """``1 key``, ``2 keys``, ``1,000 items``."""
    return f"{n:,} {unit}{'' if n == 1 else 's'}"


# -- describe --------------------------------------------------------------------------------


def describe(obj: object, *, caps: Caps = DEFAULT_CAPS, budget: Budget | None = None) -> Preview:
    """A bounded description of any value: sizes and types in ``meta``, values in ``data``.

    Args:
        obj: Any object.
        caps: The limits to respect.
        budget: Time for foreign ``__repr__`` calls (a fresh 0.5 s budget by default).

    Returns:
        The preview. It never raises: a part that fails becomes a note.
    """
    from .tables import DESCRIBERS

    walker = Walker(caps, budget or Budget())
    kind = kind_of(obj)
    preview = Preview(meta={"type": type_name(obj)})
    try:
        handler = DESCRIBERS.get(kind) or _DESCRIBERS.get(kind, _describe_object)
        handler(obj, walker, preview)
    except BaseException as e:  # foreign code raises anything
        preview.notes.append(f"the preview stopped early: {exception_name(e)}")
    return preview


def _describe_secret(obj: Any, w: Walker, p: Preview) -> None:
    p.data["value"] = REDACTED
    p.notes.append("this value is a secret by its type and is never shown")


def _describe_scalar(obj: Any, w: Walker, p: Preview) -> None:
    p.data["value"] = w.value(obj, 0, w.caps.scalar_chars)


def _describe_text(obj: Any, w: Walker, p: Preview) -> None:
    n = builtin_len(obj)
    p.meta["length"] = n
    if n <= w.caps.scalar_chars:
        p.data["value"] = w.value(obj, 0, w.caps.scalar_chars)
        return
    head = w.caps.scalar_chars * 3 // 4
    tail = w.caps.scalar_chars - head
    p.data["head"] = w.value(obj, 0, head)
    if isa(obj, str):
        p.data["tail"] = safe_tail(str.__str__(obj), tail)
    else:
        p.data["tail"] = _bytes_text(obj, tail, at_end=True)
    what = "characters" if isa(obj, str) else "bytes"
    p.notes.append(f"showing about the first {head:,} and last {tail:,} of {n:,} {what}")


def _describe_container(obj: Any, w: Walker, p: Preview) -> None:
    n = builtin_len(obj)
    p.meta["length"] = n
    p.data["items"] = w.value(obj, 0, w.caps.cell_chars)
    if n > w.caps.items:
        p.notes.append(f"showing the first {w.caps.items} of {n:,} items; preview_rows reads more")
    p.notes.append(
        f"nested containers show {w.caps.nested_items} items and stop at depth {w.caps.depth}"
    )


def _describe_callable(obj: Any, w: Walker, p: Preview) -> None:
    if isa(obj, type):
        own = {k for c in mro(obj) if c is not object for k in class_dict(c) if type(k) is str}
        public = sorted(k for k in own if not k.startswith("_"))
        p.data["public_names"] = [safe_text(k, w.caps.cell_chars) for k in public[:40]]
        if len(public) > 40:
            p.notes.append(f"showing 40 of {len(public)} public names")
        doc = class_dict(obj).get("__doc__")
    else:
        import inspect

        status, signature = call_foreign(lambda: str(inspect.signature(obj)), w.budget)
        if status == "ok" and type(signature) is str:
            p.data["signature"] = safe_text(signature, w.caps.scalar_chars // 4)
        doc = getattr(obj, "__doc__", None)  # a real function: its type's own attribute
    if type(doc) is str:
        p.data["doc"] = safe_text(doc.strip(), w.caps.scalar_chars // 2)


def _describe_module(obj: Any, w: Walker, p: Preview) -> None:
    p.notes.append("a module; its contents are not listed")


def _describe_object(obj: Any, w: Walker, p: Preview) -> None:
    if has_own_repr(obj):
        p.data["repr"] = foreign_text(
            obj, method="repr", max_chars=w.caps.scalar_chars, budget=w.budget
        )
    attributes = instance_dict(obj)
    if attributes:
        public = [
            k
            for k in itertools.islice(dict.keys(attributes), 1000)
            if type(k) is str and not k.startswith("_")
        ]
        p.data["attributes"] = {
            safe_text(k, w.caps.cell_chars): REDACTED
            if is_secret_name(k)
            else w.value(dict.get(attributes, k), 1, w.caps.cell_chars, frozenset({id(obj)}))
            for k in public[: w.caps.items]
        }
        if len(public) > w.caps.items:
            p.notes.append(f"showing {w.caps.items} of {len(public)} attributes")
    names, total = public_names(obj, 40)
    p.data["public_names"] = names
    if total > len(names):
        p.notes.append(f"showing {len(names)} of {total} public names")


_Describer = Callable[[Any, Walker, Preview], None]
_DESCRIBERS: dict[str, _Describer] = {
    "secret": _describe_secret,
    "scalar": _describe_scalar,
    "int": _describe_scalar,
    "float": _describe_scalar,
    "complex": _describe_scalar,
    "numpy.scalar": _describe_scalar,
    "str": _describe_text,
    "bytes": _describe_text,
    "dict": _describe_container,
    "sequence": _describe_container,
    "set": _describe_container,
    "class": _describe_callable,
    "function": _describe_callable,
    "module": _describe_module,
}


# -- rows ------------------------------------------------------------------------------------


def rows(
    obj: object,
    *,
    start: int = 0,
    count: int = 10,
    columns: list[str] | None = None,
    caps: Caps = DEFAULT_CAPS,
    budget: Budget | None = None,
) -> Preview:
    """A window of rows: of a table, the items of a sequence or dict, or lines of a text.

    Args:
        obj: Any object.
        start: The first row; a negative start counts from the end.
        count: How many rows; at most ``caps.rows``.
        columns: Table columns to show, by name; ``None`` for the first ``caps.columns``.
        caps: The limits to respect.
        budget: Time for foreign ``__repr__`` calls.

    Returns:
        The preview, with ``meta["rows"] = [first, end)`` of the rows read.

    Raises:
        PreviewError: The object has no rows, or a requested column does not exist.
    """
    from .tables import ROW_READERS

    walker = Walker(caps, budget or Budget())
    kind = kind_of(obj)
    preview = Preview(meta={"type": type_name(obj)})
    reader = ROW_READERS.get(kind) or _ROW_READERS.get(kind)
    if reader is None:
        raise PreviewError(
            f"This variable is a {type_name(obj)}, which has no rows to preview.",
            "preview_rows reads tables, arrays, lists, tuples, sets, dicts and text; "
            "use describe_variable for anything else.",
        )
    if count > caps.rows:
        preview.notes.append(f"count was capped at {caps.rows}")
    count = max(0, min(count, caps.rows))
    try:
        reader(obj, start, count, columns, walker, preview)
    except PreviewError:
        raise
    except BaseException as e:  # foreign code raises anything
        preview.notes.append(f"the preview stopped early: {exception_name(e)}")
    if columns is not None and kind not in ROW_READERS:
        preview.notes.append("columns was ignored: only tables have columns")
    return preview


def window(start: int, count: int, total: int) -> tuple[int, int]:
    """``[first, end)`` of ``count`` rows from ``start`` (negative: from the end)."""
    if start < 0:
        start = max(0, total + start)
    start = min(start, total)
    return start, min(total, start + count)


def _rows_items(obj: Any, start: int, count: int, columns: object, w: Walker, p: Preview) -> None:
    total = builtin_len(obj)
    first, end = window(start, count, total)
    p.meta.update(length=total, rows=[first, end])
    path = frozenset({id(obj)})
    chars = w.caps.cell_chars
    if isa(obj, dict):
        p.data["items"] = [
            [label_text(k), REDACTED if is_secret_name(k) else w.value(v, 1, chars, path)]
            for k, v in itertools.islice(dict.items(obj), first, end)
        ]
    else:
        items = itertools.islice(_iterate(obj), first, end)
        p.data["items"] = [w.value(v, 1, chars, path) for v in items]
    if isa(obj, (set, frozenset)):
        p.notes.append("sets have no order: rows follow iteration order")


def _rows_lines(obj: Any, start: int, count: int, columns: object, w: Walker, p: Preview) -> None:
    text = str.__str__(obj)
    total = text.count("\n") + 1
    first, end = window(start, count, total)
    p.meta.update(length=len(text), lines=total, rows=[first, end])
    pos = 0
    for _ in range(first):
        pos = text.index("\n", pos) + 1
    lines: list[JSON] = []
    for _ in range(first, end):
        stop = text.find("\n", pos)
        stop = len(text) if stop < 0 else stop
        # Only a bounded slice of a long line is scanned; safe_text marks the cut.
        line = text[pos : min(stop, pos + 65536)]
        if in_private_key(text, pos):  # a line of a key's body, its header lines above
            line = "[REDACTED:private-key]"
        shown = safe_text(line, w.caps.cell_chars * 2)
        cut_here = stop - pos > len(line) and not shown.endswith("…")
        lines.append(shown + ("…" if cut_here else ""))
        pos = stop + 1
    p.data["lines"] = lines


_RowReader = Callable[[Any, int, int, Any, Walker, Preview], None]
_ROW_READERS: dict[str, _RowReader] = {
    "sequence": _rows_items,
    "dict": _rows_items,
    "set": _rows_items,
    "str": _rows_lines,
}
