"""Bounded previews of pandas, polars and numpy tables and arrays.

The table half of ``_preview.py``: the same contract (redacted, capped, never raising into
the kernel, never mutating), for objects whose library is already imported. Statistics
come from all rows of a column up to ``Caps.exact_count_rows`` long (while the preview
has spent under ``Caps.exact_seconds`` on them), else from an evenly spaced sample of
``Caps.sample_rows`` rows, whose unique/top/freq are named ``*_in_sample``; null counts
are exact where that is vectorised (numbers, dates, categoricals) and estimated from the
sample for long text columns. Columns whose
names look secret show ``[REDACTED]`` in place of their values.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any

from .foreign import has_plain_str_type, module_of
from .redact import REDACTED, is_secret_name
from .values import JSON, Preview, PreviewError, Walker, label_text, window

__all__ = ["DESCRIBERS", "ROW_READERS"]

# The sample's count misleads, and the null counts are given beside the statistics.
_STATS_DROPPED = ("count", "null_count")


def _secret_label(label: object) -> bool:
    """A secret column name; for a MultiIndex column, any of its levels."""
    if isinstance(label, tuple):
        return any(is_secret_name(part) for part in label)
    return is_secret_name(label)


def _sample_rows(total: int, limit: int) -> list[int] | slice:
    """Evenly spaced row positions, at a fractional step so periodic data is not aliased."""
    if total <= limit:
        return slice(None)
    return [i * (total - 1) // (limit - 1) for i in range(limit)]


def _basis(shown: int, total: int, what: str) -> str:
    if shown >= total:
        return f"all {total:,} {what}" if total != 1 else f"the one {what.rstrip('s')}"
    return f"an evenly spaced sample of {shown:,} of {total:,} {what}"


def _number(value: object, w: Walker) -> JSON:
    """A statistic: a whole number as an int, other floats to 12 significant digits (epoch
    seconds and nanoseconds keep their quartiles apart), anything else as a cell."""
    if type(value) is float and math.isfinite(value):
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return float(f"{value:.12g}")
    return w.value(value, w.caps.depth - 1, w.caps.cell_chars)


def _cells(values: list[Any], w: Walker) -> list[JSON]:
    return [_cell(v, w) for v in values]


def _cell(value: object, w: Walker) -> JSON:
    """One cell, at most ``cell_chars`` long even when it holds a list or a dict."""
    shown = w.value(value, w.caps.depth - 1, w.caps.cell_chars)
    if isinstance(shown, (list, dict)):
        text = json.dumps(shown, ensure_ascii=False)
        if len(text) > w.caps.cell_chars:
            return text[: w.caps.cell_chars] + "…"
    return shown


def _select(labels: list[object], columns: list[str] | None, limit: int) -> list[int]:
    """Column positions to show: the requested names (as shown in previews) or the first."""
    if columns is None:
        return list(range(min(limit, len(labels))))
    texts = [label_text(label) for label in labels]
    wanted: list[int] = []
    for name in columns[:limit]:
        found = texts.count(name)
        if found == 0:
            raise PreviewError(
                f"No column named {label_text(name)!r}.",
                "Call describe_variable to see the column names, then pass them exactly.",
            )
        if found > 1:  # labels that read alike: never guess which one was meant
            raise PreviewError(
                f"{found} columns read {label_text(name)!r}; their labels differ only in "
                "ways the preview cannot show.",
                "Ask the user to rename the columns, or select them by position with "
                "run_python (df.iloc[:, i]).",
            )
        wanted.append(texts.index(name))
    return wanted


def _column_note(p: Preview, shown: int, total: int) -> None:
    if total > shown:
        p.notes.append(f"showing {shown} of {total:,} columns; pass columns=[...] for others")


# -- pandas ------------------------------------------------------------------------------


_PLAIN_TYPES = (str, int, float, bool, bytes, type(None))


def _plain_type(cls: type) -> bool:
    """Whether cells of this exact type are builtin or library scalars, whose hashing and
    comparison run no user code."""
    if any(cls is plain for plain in _PLAIN_TYPES):
        return True
    return module_of(cls).partition(".")[0] == "numpy" or has_plain_str_type(cls)


def _all_plain(column: Any) -> bool:
    """Whether every cell of an object column is plain, judged once per distinct type (a
    C-speed pass, so a long column costs milliseconds)."""
    kinds = set(map(type, column.to_numpy()))
    return len(kinds) <= 50 and all(_plain_type(kind) for kind in kinds)


def _pandas_nulls(column: Any, sample: Any, total: int, w: Walker) -> JSON:
    pd = sys.modules["pandas"]
    vectorised = column.dtype.kind in "biufcmM" or isinstance(column.dtype, pd.CategoricalDtype)
    if vectorised or total <= w.caps.exact_null_rows:
        return int(column.isna().sum())
    sampled = len(sample)
    estimate = round(int(sample.isna().sum()) * total / sampled) if sampled else 0
    return f"~{estimate:,} (estimated from the sample)"


# Counts that describe a sample only: never shown as the column's own.
_SAMPLE_ONLY = {"unique": "unique_in_sample", "top": "top_in_sample", "freq": "freq_in_sample"}


class _Exact:
    """Whether a column's statistics may come from all its rows: when it is not too long,
    and when the time they are projected to take (from the sample's, scaled by the rows,
    with a margin) fits in what is left of ``caps.exact_seconds`` for the preview. The
    projection keeps a call bounded on a slow or busy machine, where the sample is slow
    too."""

    _MARGIN = 1.5

    def __init__(self, w: Walker) -> None:
        self.rows = w.caps.exact_count_rows
        self.deadline = time.monotonic() + w.caps.exact_seconds

    def allows(self, total: int, sampled: int, sample_seconds: float) -> bool:
        if total > self.rows or sampled <= 0:
            return False
        projected = sample_seconds * self._MARGIN * total / sampled
        return time.monotonic() + projected < self.deadline


def _pandas_stats(
    column: Any, sample: Any, total: int, exact: _Exact, w: Walker
) -> tuple[JSON, bool]:
    """Statistics of all of ``column`` when :class:`_Exact` allows, else of its sample,
    with the sample's unique/top/freq named as the sample's; and whether it was sampled."""
    started = time.monotonic()
    from_sample = _describe_column(sample, w)
    if len(sample) >= total or not isinstance(from_sample, dict):
        return from_sample, False
    if exact.allows(total, len(sample), time.monotonic() - started):
        whole = _describe_column(column, w)
        if isinstance(whole, dict):
            return whole, False
    return {_SAMPLE_ONLY.get(k, k): v for k, v in from_sample.items()}, True


def _describe_column(data: Any, w: Walker) -> JSON:
    pd = sys.modules["pandas"]
    if data.dtype == object and not _all_plain(data):
        # describe() hashes and compares cells: foreign code that could hang the kernel.
        return "skipped: the column holds objects of user-defined types"
    try:
        stats = data.describe()
        return {
            str(k): _number(v, w)
            for k, v in zip(stats.index.tolist(), stats.tolist(), strict=True)
            if k not in _STATS_DROPPED and not pd.isna(v)
        }
    except BaseException:  # unhashable cells, odd extension types
        return "unavailable"


def _frame_stats_note(p: Preview, sampled_rows: int, total: int, sampled: int) -> None:
    if sampled == 0:
        p.notes.append(f"stats come from {_basis(total, total, 'rows')}")
        return
    p.notes.append(
        f"stats of {sampled} column(s) come from {_basis(sampled_rows, total, 'rows')}: "
        "theirs say unique_in_sample/top_in_sample/freq_in_sample, and their mean, std "
        "and quartiles are estimates; the other columns' stats come from all rows"
    )


def _describe_pandas_frame(df: Any, w: Walker, p: Preview) -> None:
    total, width = (int(n) for n in df.shape)
    p.meta["shape"] = [total, width]
    p.meta["memory_bytes"] = int(df.memory_usage(index=True, deep=False).sum())
    p.notes.append("memory_bytes counts text/object cells as pointers only (deep=False)")
    shown = min(width, w.caps.columns)
    _column_note(p, shown, width)
    sample = df.iloc[_sample_rows(total, w.caps.sample_rows), :shown]
    exact = _Exact(w)
    columns: list[JSON] = []
    sampled = 0
    for j in range(shown):
        label, column = df.columns[j], df.iloc[:, j]
        entry: dict[str, JSON] = {"name": label_text(label), "dtype": str(column.dtype)}
        if _secret_label(label):
            entry["values"] = REDACTED
        else:
            entry["nulls"] = _pandas_nulls(column, sample.iloc[:, j], total, w)
            entry["stats"], from_sample = _pandas_stats(column, sample.iloc[:, j], total, exact, w)
            sampled += from_sample
        columns.append(entry)
    _frame_stats_note(p, len(sample), total, sampled)
    p.data["columns"] = columns
    p.data["head"] = _pandas_rows(df, 0, w.caps.head_rows, list(range(shown)), w)


def _pandas_rows(df: Any, start: int, stop: int, positions: list[int], w: Walker) -> JSON:
    window = df.iloc[start:stop]
    by_column = [
        [REDACTED] * len(window)
        if _secret_label(df.columns[j])
        else _cells(window.iloc[:, j].tolist(), w)
        for j in positions
    ]
    return {
        "columns": [label_text(df.columns[j]) for j in positions],
        "index": _cells(window.index.tolist(), w),
        "rows": [list(row) for row in zip(*by_column, strict=True)]
        if by_column
        else [[] for _ in range(len(window))],
    }


def _describe_pandas_series(s: Any, w: Walker, p: Preview) -> None:
    total = int(s.shape[0])
    p.meta["length"] = total
    p.data["name"] = label_text(s.name)
    p.data["dtype"] = str(s.dtype)
    if _secret_label(s.name):
        p.data["values"] = REDACTED
        return
    sample = s.iloc[_sample_rows(total, w.caps.sample_rows)]
    p.data["nulls"] = _pandas_nulls(s, sample, total, w)
    p.data["stats"], from_sample = _pandas_stats(s, sample, total, _Exact(w), w)
    if from_sample:
        p.notes.append(f"stats come from {_basis(len(sample), total, 'values')}")
    else:
        p.notes.append(f"stats come from {_basis(total, total, 'values')}")
    p.data["head"] = _series_rows(s, 0, w.caps.head_rows, w)


def _series_rows(s: Any, start: int, stop: int, w: Walker) -> JSON:
    window = s.iloc[start:stop]
    values = [REDACTED] * len(window) if _secret_label(s.name) else _cells(window.tolist(), w)
    return {"index": _cells(window.index.tolist(), w), "values": values}


def _rows_frame(
    df: Any,
    labels: list[Any],
    read: Callable[[Any, int, int, list[int], Walker], JSON],
    window_args: tuple[int, int, list[str] | None],
    w: Walker,
    p: Preview,
) -> None:
    """A frame's rows, for pandas and polars alike: ``read`` takes the chosen window."""
    start, count, columns = window_args
    total, width = (int(n) for n in df.shape)
    p.meta["shape"] = [total, width]
    positions = _select(labels, columns, w.caps.columns)
    if columns is None:
        _column_note(p, len(positions), width)
    start, stop = window(start, count, total)
    p.meta["rows"] = [start, stop]
    p.data.update(read(df, start, stop, positions, w))


def _rows_pandas_frame(
    df: Any, start: int, count: int, columns: list[str] | None, w: Walker, p: Preview
) -> None:
    _rows_frame(df, df.columns.tolist(), _pandas_rows, (start, count, columns), w, p)


def _rows_pandas_series(
    s: Any, start: int, count: int, columns: list[str] | None, w: Walker, p: Preview
) -> None:
    total = int(s.shape[0])
    p.meta["length"] = total
    start, stop = window(start, count, total)
    p.meta["rows"] = [start, stop]
    p.data["name"] = label_text(s.name)
    p.data.update(_series_rows(s, start, stop, w))


# -- numpy -------------------------------------------------------------------------------


def _describe_ndarray(a: Any, w: Walker, p: Preview) -> None:
    np = sys.modules["numpy"]
    size = int(a.size)
    p.meta.update(shape=[int(n) for n in a.shape], dtype=str(a.dtype), nbytes=int(a.nbytes))
    if a.ndim == 0:
        p.data["value"] = w.value(a.item(), 0, w.caps.scalar_chars)
        return
    if size and a.dtype.kind in "biuf":
        picks = np.unique(np.linspace(0, size - 1, min(size, w.caps.sample_rows)).astype(np.intp))
        sample = np.asarray(a.flat[picks])
        if a.dtype.kind == "f":
            sample = sample[np.isfinite(sample)]
        p.notes.append(f"stats come from {_basis(len(picks), size, 'values')}")
        if sample.size:
            with np.errstate(all="ignore"):
                found = (sample.min().item(), sample.max().item(), sample.mean(dtype=float).item())
            p.data["stats"] = {
                k: _number(v, w) for k, v in zip(("min", "max", "mean"), found, strict=True)
            }
    p.data["head"] = _array_head(a, 0, w.caps.head_rows, w)
    p.notes.append(f"head shows up to {w.caps.head_rows} rows of {w.caps.columns} values")


def _array_head(a: Any, start: int, stop: int, w: Walker) -> JSON:
    index = (slice(start, stop), *(slice(0, w.caps.columns) for _ in range(1, min(a.ndim, 2))))
    index += tuple(slice(0, w.caps.nested_items) for _ in range(2, a.ndim))
    # Every value of the sliced window: the slice already bounds it.
    return [w.plain(row, w.caps.cell_chars) for row in a[index].tolist()]


def _rows_ndarray(
    a: Any, start: int, count: int, columns: list[str] | None, w: Walker, p: Preview
) -> None:
    p.meta.update(shape=[int(n) for n in a.shape], dtype=str(a.dtype))
    if a.ndim == 0:
        raise PreviewError("A 0-dimensional array has no rows.", "Use describe_variable.")
    start, stop = window(start, count, int(a.shape[0]))
    p.meta["rows"] = [start, stop]
    p.data["rows"] = _array_head(a, start, stop, w)
    if columns is not None:
        p.notes.append("columns was ignored: arrays have no column names")


# -- polars ------------------------------------------------------------------------------


def _polars_stats(sample: Any, w: Walker) -> dict[str, JSON]:
    """``describe()`` of a polars sample, per column: {column: {statistic: value}}."""
    try:
        table = sample.describe()
    except BaseException:  # nested or object columns
        return {}
    names = table.get_column("statistic").to_list()
    out: dict[str, JSON] = {}
    for column in table.columns[1:]:
        values = table.get_column(column).to_list()
        out[column] = {
            str(k): _number(v, w)
            for k, v in zip(names, values, strict=True)
            if v is not None and k not in _STATS_DROPPED
        }
    return out


def _describe_polars_frame(df: Any, w: Walker, p: Preview) -> None:
    total, width = (int(n) for n in df.shape)
    p.meta["shape"] = [total, width]
    p.meta["memory_bytes"] = int(df.estimated_size())
    shown = min(width, w.caps.columns)
    _column_note(p, shown, width)
    names = df.columns[:shown]
    safe = [n for n in names if not _secret_label(n)]
    sample = df.select(safe)[_sample_rows(total, w.caps.sample_rows)]
    started = time.monotonic()
    stats = _polars_stats(sample, w)
    if sample.height < total and _Exact(w).allows(total, sample.height, time.monotonic() - started):
        sample = df.select(safe)
        stats = _polars_stats(sample, w)
    p.notes.append(f"stats come from {_basis(sample.height, total, 'rows')}")
    nulls = df.select(safe).null_count().row(0) if safe else ()
    null_by_name = dict(zip(safe, nulls, strict=True))
    columns: list[JSON] = []
    for name, dtype in zip(names, df.dtypes[:shown], strict=True):
        entry: dict[str, JSON] = {"name": label_text(name), "dtype": str(dtype)}
        if name in null_by_name:
            entry["nulls"] = int(null_by_name[name])
            entry["stats"] = stats.get(name, "unavailable")
        else:
            entry["values"] = REDACTED
        columns.append(entry)
    p.data["columns"] = columns
    p.data["head"] = _polars_rows(df, 0, w.caps.head_rows, list(range(shown)), w)


def _polars_rows(df: Any, start: int, stop: int, positions: list[int], w: Walker) -> JSON:
    names = [df.columns[j] for j in positions]
    window = df.select(names).slice(start, stop - start)
    by_column = [
        [REDACTED] * window.height
        if _secret_label(name)
        else _cells(window.get_column(name).to_list(), w)
        for name in names
    ]
    return {
        "columns": [label_text(n) for n in names],
        "index": list(range(start, start + window.height)),
        "rows": [list(row) for row in zip(*by_column, strict=True)]
        if by_column
        else [[] for _ in range(window.height)],
    }


def _describe_polars_series(s: Any, w: Walker, p: Preview) -> None:
    total = int(s.len())
    p.meta["length"] = total
    p.data["name"] = label_text(s.name)
    p.data["dtype"] = str(s.dtype)
    if _secret_label(s.name):
        p.data["values"] = REDACTED
        return
    sample = s[_sample_rows(total, w.caps.sample_rows)]
    started = time.monotonic()
    stats = _polars_stats(sample.to_frame(), w)
    if sample.len() < total and _Exact(w).allows(total, sample.len(), time.monotonic() - started):
        sample = s
        stats = _polars_stats(s.to_frame(), w)
    p.notes.append(f"stats come from {_basis(sample.len(), total, 'values')}")
    p.data["nulls"] = int(s.null_count())
    p.data["stats"] = stats.get(s.name, "unavailable")
    p.data["head"] = _cells(s.slice(0, w.caps.head_rows).to_list(), w)


def _rows_polars_frame(
    df: Any, start: int, count: int, columns: list[str] | None, w: Walker, p: Preview
) -> None:
    _rows_frame(df, list(df.columns), _polars_rows, (start, count, columns), w, p)


def _rows_polars_series(
    s: Any, start: int, count: int, columns: list[str] | None, w: Walker, p: Preview
) -> None:
    total = int(s.len())
    p.meta["length"] = total
    start, stop = window(start, count, total)
    p.meta["rows"] = [start, stop]
    p.data["name"] = label_text(s.name)
    values = s.slice(start, stop - start).to_list()
    p.data["values"] = [REDACTED] * len(values) if _secret_label(s.name) else _cells(values, w)


DESCRIBERS = {
    "pandas.DataFrame": _describe_pandas_frame,
    "pandas.Series": _describe_pandas_series,
    "numpy.ndarray": _describe_ndarray,
    "polars.DataFrame": _describe_polars_frame,
    "polars.Series": _describe_polars_series,
}
ROW_READERS = {
    "pandas.DataFrame": _rows_pandas_frame,
    "pandas.Series": _rows_pandas_series,
    "numpy.ndarray": _rows_ndarray,
    "polars.DataFrame": _rows_polars_frame,
    "polars.Series": _rows_polars_series,
}
