"""Fingerprints of variables: what an answer read, so a later change can be noticed.

An answer remembers, for each variable it read, a small JSON-able fingerprint: the type,
the shape, the columns and their dtypes, a content hash, and the cell that last changed
it. Comparing a fingerprint with one taken now says whether the variable changed since,
and how, in words a person reads at a glance ("1,200 → 1,320 rows").

The content hash is exact and fast for the data people ask about: a pandas frame or
series hashes each column's buffer (numbers) or ``pd.util.hash_pandas_object`` (text,
categories, objects) with its index; a numpy array hashes its bytes; numbers, strings and
bytes hash their value. Anything else (lists, dicts, models, connections) cannot be hashed
cheaply and safely (walking it may be slow or call foreign code), so its fingerprint says
so (``"how": "identity"``) and holds its identity and length instead: replacing it is
noticed, an in-place change that keeps its length is not, and after a restart only its
type and length are compared. Frames past ``SAMPLE_ABOVE`` cells hash a fixed sample of
rows plus their shape (``"how": "sample"``), so the check stays bounded.

Pure functions over values; imports pandas and numpy only when the value is theirs.
"""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
from collections.abc import Mapping
from typing import Any

from .kinds import LAZY_KINDS, kind_of

__all__ = ["KERNEL_TOKEN", "SAMPLE_ABOVE", "change_note", "fingerprint", "same"]

SAMPLE_ABOVE = 50_000_000
"""Frames with more cells than this hash a sample of their rows (and their shape)."""

_SAMPLE_ROWS = 100_000
_MAX_COLUMNS = 200  # columns (with dtypes) kept in a fingerprint; the hash covers them all

KERNEL_TOKEN = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
"""This process's token: an identity fingerprint from another process cannot be compared."""

_SCALARS = (int, float, complex, str, bytes, bool, type(None))


def fingerprint(value: Any, *, cell: int | None = None) -> dict[str, Any]:
    """A JSON-able fingerprint of ``value``; ``cell`` is the execution count of the cell
    that last changed it, when known.

    Never raises: a value whose hash fails gets an identity fingerprint.
    """
    kind = type(value)
    found: dict[str, Any] = {
        "type": f"{kind.__module__}.{kind.__qualname__}",
        "cell": cell,
    }
    try:
        found.update(_content(value))
    except Exception:  # foreign code failed: fall back to what is always safe
        found.update(_identity(value))
    return found


def same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether two fingerprints are of the same value (as far as they can tell)."""
    if old.get("type") != new.get("type") or old.get("shape") != new.get("shape"):
        return False
    if old.get("columns") != new.get("columns"):
        return False
    if old.get("how") == "identity" or new.get("how") == "identity":
        if old.get("len") != new.get("len"):
            return False
        if old.get("kernel") != new.get("kernel"):
            return True  # another process: identities cannot be compared; type and length agree
        return bool(old.get("id") == new.get("id"))
    return bool(old.get("hash") == new.get("hash"))


def change_note(old: Mapping[str, Any], new: Mapping[str, Any] | None) -> str | None:
    """How ``new`` differs from ``old`` in a few words ("1,200 → 1,320 rows"), ``"deleted"``
    if ``new`` is ``None``, or ``None`` when they are the same."""
    if new is None:
        return "deleted"
    if same(old, new):
        return None
    if old.get("type") != new.get("type"):
        return f"{_short(old.get('type'))} \u2192 {_short(new.get('type'))}"
    before, after = old.get("shape"), new.get("shape")
    if isinstance(before, list) and isinstance(after, list) and before != after:
        if len(before) == len(after) and before[1:] == after[1:]:
            tabular = len(before) > 1 or str(new.get("type")).startswith("pandas")
            unit = "rows" if tabular else "items"
            return f"{before[0]:,} \u2192 {after[0]:,} {unit}"
        return f"shape {_shape(before)} \u2192 {_shape(after)}"
    columns = _column_note(old.get("columns"), new.get("columns"))
    if columns:
        return columns
    if old.get("how") == "identity" and old.get("len") != new.get("len"):
        return f"length {old.get('len')} \u2192 {new.get('len')}"
    if old.get("how") == "identity":
        return "replaced by another object"
    return "values changed"


# -- content -----------------------------------------------------------------------------


def _content(value: Any) -> dict[str, Any]:
    if isinstance(value, _SCALARS):
        return {"how": "content", "hash": _digest(repr(value).encode())}
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, (pandas.DataFrame, pandas.Series)):
        return _pandas(pandas, value)
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray) and value.dtype != object:
        mixed = _hasher(_raw(numpy, value))
        mixed.update(str(value.dtype).encode())
        return {"how": "content", "shape": list(value.shape), "hash": mixed.hexdigest()}
    return _identity(value)


def _pandas(pd: Any, value: Any) -> dict[str, Any]:
    frame = value.to_frame() if isinstance(value, pd.Series) else value
    rows, cols = frame.shape
    how = "content"
    if rows * max(cols, 1) > SAMPLE_ABOVE:
        step = max(1, rows // _SAMPLE_ROWS)
        frame = frame.iloc[::step]
        how = "sample"
    mixed = _hasher()
    index = frame.index
    if isinstance(index, pd.RangeIndex):
        mixed.update(f"range {index.start} {index.stop} {index.step}".encode())
    else:
        mixed.update(pd.util.hash_pandas_object(index, index=False).to_numpy().tobytes())
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        mixed.update(repr((frame.columns[position], str(column.dtype))).encode())
        mixed.update(_column_bytes(pd, column))
    shape = list(value.shape)
    columns = (
        [[str(name), str(dtype)] for name, dtype in value.dtypes.items()][:_MAX_COLUMNS]
        if isinstance(value, pd.DataFrame)
        else [[str(value.name), str(value.dtype)]]
    )
    return {"how": how, "shape": shape, "columns": columns, "hash": mixed.hexdigest()}


def _column_bytes(pd: Any, column: Any) -> memoryview:
    """A column's content as bytes: its buffer for plain numbers, Arrow's buffers' digest
    for Arrow text, else pandas' row hashes."""
    dtype = column.dtype
    plain = not isinstance(dtype, pd.api.extensions.ExtensionDtype)
    if plain and getattr(dtype, "kind", "O") in "biufcmM":
        import numpy

        return _raw(numpy, column.to_numpy())
    arrow = getattr(column.array, "__arrow_array__", None)
    if arrow is not None:  # text kept by Arrow (pandas 3's str): its buffers, as they are
        return _arrow_bytes(arrow())
    hashed = pd.util.hash_pandas_object(column, index=False)
    return memoryview(hashed.to_numpy()).cast("B")


def _arrow_bytes(array: Any) -> memoryview:
    """An Arrow (chunked) array's content: each chunk's offset, length and buffers."""
    mixed = _hasher()
    for chunk in getattr(array, "chunks", [array]):
        mixed.update(f"{chunk.offset} {len(chunk)}".encode())
        for buffer in chunk.buffers():
            if buffer is not None:
                mixed.update(memoryview(buffer))
    return memoryview(mixed.digest())


def _raw(numpy: Any, array: Any) -> memoryview:
    """An array's bytes without a copy when it is contiguous (any fixed-size dtype: dates
    and times too, which a plain ``memoryview`` refuses)."""
    flat = numpy.ascontiguousarray(array).reshape(-1)
    return memoryview(flat.view(numpy.uint8))


# Values whose len() runs a job (Dask computes every partition, a DuckDB relation runs
# its query): their identity fingerprint has no length.
_LAZY = frozenset(kind for _, _, kind in LAZY_KINDS) | {"polars.LazyFrame"}


def _identity(value: Any) -> dict[str, Any]:
    length: int | None = None
    if kind_of(value) not in _LAZY:
        try:
            length = len(value)
        except Exception:  # no length, or a length that fails
            length = None
    return {"how": "identity", "id": id(value), "len": length, "kernel": KERNEL_TOKEN}


def _hasher(data: bytes | memoryview = b"") -> Any:
    """SHA-1, for speed (processors hash it in hardware, twice as fast as BLAKE2 here): it
    tells versions of a value apart, it guards nothing."""
    return hashlib.sha1(data, usedforsecurity=False)


def _digest(data: bytes) -> str:
    return str(_hasher(data).hexdigest())


# -- words -------------------------------------------------------------------------------


def _short(qualified: object) -> str:
    return str(qualified).rsplit(".", 1)[-1]


def _shape(shape: list[Any]) -> str:
    return " \u00d7 ".join(f"{n:,}" if isinstance(n, int) else str(n) for n in shape)


def _column_note(before: object, after: object) -> str | None:
    if not isinstance(before, list) or not isinstance(after, list) or before == after:
        return None
    old = {name: dtype for name, dtype in before}
    new = {name: dtype for name, dtype in after}
    added = [name for name in new if name not in old]
    removed = [name for name in old if name not in new]
    if added or removed:
        parts = []
        if added:
            parts.append("added " + ", ".join(f"`{n}`" for n in added[:3]))
        if removed:
            parts.append("removed " + ", ".join(f"`{n}`" for n in removed[:3]))
        return "columns " + "; ".join(parts)
    for name, dtype in new.items():
        if old.get(name) != dtype:
            return f"`{name}`: {old.get(name)} \u2192 {dtype}"
    return "columns reordered"
