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
import json
import math
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
    isa,
    mro,
    public_names,
    safe_tail,
    safe_text,
    type_name,
)
from .kinds import LAZY_KINDS, kind_of
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
    exact_count_rows: int = 5_000_000  # columns up to this long get exact statistics...
    exact_seconds: float = 0.4  # ...while one preview has spent less than this on them
    leaves: int = 500  # values shown in one preview, all levels together
    record_keys: int = 50  # keys shown of each record in a list of records (dicts)
    record_chars: int = 8000  # JSON characters of records shown by one describe or rows
    small_array: int = 20  # arrays nested in objects, dicts and lists up to this many
    # values are shown in full; larger ones by shape and dtype
    lazy_rows: int = 1_000  # rows a lazy frame's preview reads (Spark, Dask, DuckDB...):
    # its head, and the sample its statistics come from
    lazy_seconds: float = 30.0  # one read of a lazy frame (a cluster may need to start
    # executors); then what it started is cancelled


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
        if kind == "numpy.ndarray" and 0 < obj.size <= self.caps.small_array:
            return self.plain(obj.tolist(), chars)
        if kind != "object":
            return f"<{type_name(obj)}: {summary(obj)}>"
        if has_plain_str(obj):
            return safe_text(str(obj), chars)  # Timestamp, NaT, Decimal, UUID, Path, ...
        if has_own_repr(obj):
            return foreign_text(obj, method="repr", max_chars=chars, budget=self.budget)
        return f"<{type_name(obj)} object>"

    def plain(self, value: object, chars: int) -> JSON:
        """An array window's ``tolist()``: nested lists of scalars, every value shown."""
        if isa(value, list):
            items: list[object] = list.copy(value)  # type: ignore[arg-type]
            return [self.plain(v, chars) for v in items]
        return self.value(value, self.caps.depth, chars)

    def record(self, obj: Any, chars: int, keys: list[str] | None = None) -> JSON:
        """A dict that is one record of a list: every key (up to ``caps.record_keys``), or
        the ``keys`` asked for."""
        path = frozenset({id(obj)})
        out: dict[str, JSON] = {}
        pairs: Iterable[tuple[Any, Any]]
        if keys is None:
            pairs = itertools.islice(dict.items(obj), self.caps.record_keys)
        else:
            labels = {label_text(k): k for k in itertools.islice(dict.keys(obj), 10_000)}
            pairs = ((labels[k], dict.__getitem__(obj, labels[k])) for k in keys if k in labels)
        for key, item in pairs:
            label = _key_text(key, self.caps.cell_chars)
            while label in out:
                label += "'"
            out[label] = REDACTED if is_secret_name(key) else self.value(item, 2, chars, path)
        size = builtin_len(obj)
        if keys is None and size > self.caps.record_keys:
            out["…"] = "… " + _count(size - self.caps.record_keys, "more key")
        return out

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
                out["…"] = "… " + _count(size - limit, "more key")
            return out
        shown: list[JSON] = [
            self.value(item, depth + 1, chars, path)
            for item in itertools.islice(_iterate(obj), limit)
        ]
        if size > limit:
            shown.append("… " + _count(size - limit, "more item"))
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
    if kind in _LAZY or kind == "polars.LazyFrame":
        from .engines import lazy_summary

        return lazy_summary(obj, kind)
    if kind in ("pandas.Index", "xarray.DataArray", "scipy.sparse"):
        dims = " \u00d7 ".join(f"{n:,}" for n in shape)
        return f"{dims} values, {safe_text(str(obj.dtype), 40)}"
    if kind == "sympy.Matrix":
        return f"{shape[0]:,} \u00d7 {shape[1]:,} matrix"
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
    if kind == "range":
        return (range.__len__(obj),)
    if kind in ("pandas.Index", "xarray.DataArray", "scipy.sparse", "sympy.Matrix"):
        return tuple(int(n) for n in obj.shape)
    if kind in ("pyarrow.Table", "pyarrow.RecordBatch"):  # in memory: counted for free
        return (int(obj.num_rows), int(obj.num_columns))
    return ()


_LAZY = frozenset(kind for _, _, kind in LAZY_KINDS)


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
    if len(shape) > 1 or kind in ("pandas.DataFrame", "polars.DataFrame", "numpy.ndarray"):
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
    from .engines import LAZY_DESCRIBERS
    from .known import KNOWN_DESCRIBERS
    from .tables import DESCRIBERS

    walker = Walker(caps, budget or Budget())
    kind = kind_of(obj)
    preview = Preview(meta={"type": type_name(obj)})
    try:
        handler = (
            DESCRIBERS.get(kind)
            or KNOWN_DESCRIBERS.get(kind)
            or LAZY_DESCRIBERS.get(kind)
            or _DESCRIBERS.get(kind, _describe_object)
        )
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


# What an analyst asks of scipy.optimize's result first; the rest follow in their order.
_OPTIMIZE_FIRST = ("x", "fun", "success", "status", "message", "nit", "nfev")


def _describe_container(obj: Any, w: Walker, p: Preview) -> None:
    n = builtin_len(obj)
    p.meta["length"] = n
    if _records(obj):
        _describe_records(obj, w, p)
        return
    shown = obj
    if is_instance(obj, "scipy.optimize", "OptimizeResult"):
        first = [k for k in _OPTIMIZE_FIRST if dict.__contains__(obj, k)]
        rest = [k for k in itertools.islice(dict.keys(obj), 1000) if k not in first]
        shown = {k: dict.__getitem__(obj, k) for k in first + rest}
    p.data["items"] = w.value(shown, 0, w.caps.cell_chars)
    if n > w.caps.items:
        p.notes.append(f"showing the first {w.caps.items} of {n:,} items; preview_rows reads more")
    p.notes.append(
        f"nested containers show {w.caps.nested_items} items and stop at depth {w.caps.depth}"
    )


def _records(obj: Any) -> bool:
    """A list or tuple of records: its first item is a dict (parsed JSON, API results)."""
    if not isa(obj, (list, tuple)) or builtin_len(obj) == 0:
        return False
    return isa(next(iter(_iterate(obj))), dict)


def _record_window(obj: Any, first: int, end: int, w: Walker, keys: list[str] | None) -> JSON:
    """Records ``first`` to ``end``, each with every key, until ``caps.record_chars``."""
    shown: list[JSON] = []
    used = 0
    path = frozenset({id(obj)})
    for item in itertools.islice(_iterate(obj), first, end):
        if isa(item, dict):
            one = w.record(item, w.caps.cell_chars, keys)
        else:
            one = w.value(item, 1, w.caps.cell_chars, path)
        size = len(json.dumps(one, ensure_ascii=False, default=str))
        if shown and used + size > w.caps.record_chars:
            break
        shown.append(one)
        used += size
    return shown


def _describe_records(obj: Any, w: Walker, p: Preview) -> None:
    n = builtin_len(obj)
    counts: dict[str, int] = {}
    item: Any
    for item in itertools.islice(_iterate(obj), 1000):
        if isa(item, dict):
            for key in itertools.islice(dict.keys(item), 200):
                label = label_text(key)
                counts[label] = counts.get(label, 0) + 1
    checked = min(n, 1000)
    p.data["record_keys"] = dict(itertools.islice(counts.items(), 200))
    p.notes.append(
        f"record_keys: each key of the first {checked:,} records and how many of them have it"
    )
    items = _record_window(obj, 0, w.caps.items, w, None)
    p.data["items"] = items
    if n > len(items):
        p.notes.append(
            f"showing the first {len(items)} of {n:,} records, every key of each (up to "
            f"{w.caps.record_keys}); preview_rows reads more, and columns=[...] picks keys"
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
        # A fitted estimator's results (scikit-learn's convention: a trailing "_") come
        # before the parameters it was built with.
        public.sort(key=lambda k: not k.endswith("_"))
        p.data["attributes"] = {
            safe_text(k, w.caps.cell_chars): REDACTED
            if is_secret_name(k)
            else w.value(dict.get(attributes, k), 1, w.caps.cell_chars, frozenset({id(obj)}))
            for k in public[: w.caps.items]
        }
        if len(public) > w.caps.items:
            p.notes.append(
                f"showing {w.caps.items} of {len(public)} attributes, fitted ones (ending "
                'in "_") first; describe_variable("name.attribute") reads any of them'
            )
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
    from .engines import LAZY_ROW_READERS
    from .known import KNOWN_ROW_READERS
    from .tables import ROW_READERS

    walker = Walker(caps, budget or Budget())
    kind = kind_of(obj)
    preview = Preview(meta={"type": type_name(obj)})
    reader = (
        ROW_READERS.get(kind)
        or KNOWN_ROW_READERS.get(kind)
        or LAZY_ROW_READERS.get(kind)
        or _ROW_READERS.get(kind)
    )
    if reader is None:
        raise PreviewError(
            f"This variable is a {type_name(obj)}, which has no rows to preview.",
            "preview_rows reads tables, arrays, indexes, lists, tuples, sets, dicts, "
            "ranges, text, xarray data, sparse and sympy matrices, GroupBy objects, "
            "networkx graphs, Arrow, DuckDB, Dask and Spark frames; use describe_variable "
            "for anything else.",
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
    if (
        columns is not None
        and kind not in ROW_READERS
        and kind not in _LAZY
        and "columns" not in preview.meta
    ):
        preview.notes.append("columns was ignored: only tables and records have columns")
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
    if _records(obj):
        keys = [label_text(c) for c in columns] if isinstance(columns, list) else None
        if keys is not None:
            p.meta["columns"] = keys
        items = _record_window(obj, first, end, w, keys)
        assert isinstance(items, list)
        p.data["items"] = items
        p.meta["rows"] = [first, first + len(items)]
        if first + len(items) < end:
            p.notes.append(
                f"showing {len(items)} of the {end - first} records asked for, to stay within "
                f"the size limit; continue with start={first + len(items)}"
            )
    elif isa(obj, dict):
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
