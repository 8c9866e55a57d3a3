"""Lazy previews: Arrow tables and datasets, DuckDB relations, polars LazyFrames, Dask and
Spark frames.

These values stand for more data than the kernel holds, or than it should read to answer a
question: a Spark DataFrame over a warehouse, a Dask frame of a hundred Parquet files, a
DuckDB relation over a join. So a preview reads what is free and a bounded head, never the
whole:

* **Always, and without running anything:** the schema (column names and types) and the
  partitioning (Dask partitions and divisions, Arrow chunks and files). ``summary`` (what
  ``list_variables`` shows) reads only these, so a listing starts no job at all.
* **Row counts only when free:** an Arrow table's ``num_rows``, a Parquet dataset's
  metadata. Otherwise the preview says "not counted (would run a job)": Spark's
  ``count()``, Dask's ``len()`` and a relation's ``COUNT(*)`` are never run.
* **A bounded head:** ``limit`` / ``head`` on as few partitions as possible (Dask:
  ``head(n, npartitions=1)``; Spark: ``limit(n)`` then ``collect``, one job). Statistics
  come from these rows only, and say so.
* **A time limit, and a cancel:** each read runs in ``foreign.call_foreign``'s worker for
  at most ``Caps.lazy_seconds``; a Spark read runs in its own job group (Spark Connect: an
  operation tag; polars: a background query) that is cancelled when time is up. Dask's
  local schedulers cannot be cancelled, which is why they read one partition; a DuckDB
  relation does not expose its connection, so its ``LIMIT`` is the bound. The preview's
  notes say what it did ("read 1 of 100 partitions", "ran 1 Spark job").

Each library is recognised by the value's type (``kinds.kind_of``) and never imported here:
the value's own methods do the work. The rows read become a small pandas frame, shown with
``tables``' cells, statistics and redaction.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .foreign import Budget, call_foreign, is_instance, safe_text
from .kinds import kind_of
from .redact import REDACTED
from .tables import (
    _SAMPLE_ONLY,
    _column_note,
    _describe_column,
    _number,
    _pandas_rows,
    _sample_rows,
    _secret_label,
    _select,
)
from .values import JSON, Preview, PreviewError, Walker, label_text, window

__all__ = ["LAZY_DESCRIBERS", "LAZY_ROW_READERS", "NOT_COUNTED", "lazy_summary"]

NOT_COUNTED = "not counted (would run a job)"

# How far into a lazy frame preview_rows reads: rows further in need a query.
_MAX_ROW_END = 10_000
# The most partitions a Dask row window computes.
_MAX_DASK_PARTITIONS = 2
# A summary (one line of list_variables) may wait this long for a schema: Spark Connect
# asks its server to analyse the plan the first time (nothing runs; the client keeps it).
_SUMMARY_SECONDS = 1.5


class _Stopped(Exception):
    """A bounded read that did not finish; the message says what happened, for a note."""


@dataclass
class _Read:
    """Rows one bounded read brought back, and what it did to get them."""

    frame: Any  # a pandas DataFrame of the columns asked for
    did: str  # "read 1 of 100 partitions", for the preview's notes
    basis: str = ""  # what the statistics come from, when it is not "the rows read"
    exact_nulls: dict[int, int] = field(default_factory=dict)  # by column position


def _timed(fn: Callable[[], Any], seconds: float, cancel: Callable[[], str] | None) -> Any:
    """``fn()`` in the foreign worker for at most ``seconds``; on a timeout ``cancel`` stops
    what it started and says how, and :class:`_Stopped` carries that to the notes."""
    status, value = call_foreign(fn, Budget(seconds, seconds))
    if status == "ok":
        return value
    if status == "timeout":
        how = cancel() if cancel is not None else "it could not be cancelled and may still run"
        raise _Stopped(f"reading rows did not finish within {seconds:g} s: {how}")
    if status == "error":
        raise _Stopped(f"reading rows failed ({value})")
    raise _Stopped(f"reading rows was skipped ({status}: earlier reads are still running)")


def _pandas() -> Any:
    """pandas, which Arrow, DuckDB and Dask convert to themselves; Spark rows need it too."""
    return importlib.import_module("pandas")


# -- the engines ---------------------------------------------------------------------------


class _Engine:
    """How a preview reads one kind of lazy value; subclasses fill in the three reads."""

    what = "a lazy frame"

    def schema(self, obj: Any) -> list[tuple[str, str]]:
        """Column names and types: free (no job, no scan)."""
        raise NotImplementedError

    def facts(self, obj: Any) -> dict[str, JSON]:
        """Free facts: partitions, and ``rows`` when known without a job."""
        return {}

    def rows_known(self, obj: Any) -> int | None:
        return None

    def read(self, obj: Any, first: int, count: int, names: list[str], w: Walker) -> _Read:
        """Rows ``first`` to ``first + count`` of the columns ``names``, bounded."""
        raise NotImplementedError

    def sample(self, obj: Any, names: list[str], w: Walker) -> _Read:
        """The rows statistics come from: by default the first ``caps.lazy_rows``."""
        return self.read(obj, 0, w.caps.lazy_rows, names, w)


def _arrow_frame(table: Any) -> Any:
    return table.to_pandas(types_mapper=None, self_destruct=False)


class _ArrowTable(_Engine):
    """In memory already: rows are counted, and the sample is evenly spaced."""

    what = "an Arrow table"

    def schema(self, obj: Any) -> list[tuple[str, str]]:
        return [(str(f.name), str(f.type)) for f in obj.schema]

    def facts(self, obj: Any) -> dict[str, JSON]:
        out: dict[str, JSON] = {"row_count": int(obj.num_rows), "memory_bytes": int(obj.nbytes)}
        if is_instance(obj, "pyarrow", "Table"):
            out["chunks"] = int(obj.column(0).num_chunks) if obj.num_columns else 0
        return out

    def rows_known(self, obj: Any) -> int | None:
        return int(obj.num_rows)

    def read(self, obj: Any, first: int, count: int, names: list[str], w: Walker) -> _Read:
        part = obj.slice(first, count).select(names)
        return _Read(_arrow_frame(part), "read from memory (an Arrow table is already loaded)")

    def sample(self, obj: Any, names: list[str], w: Walker) -> _Read:
        total = int(obj.num_rows)
        picks = _sample_rows(total, w.caps.sample_rows)
        part = obj.select(names)
        if isinstance(picks, list):
            part = part.take(picks)
        nulls = {j: int(obj.column(name).null_count) for j, name in enumerate(names)}
        basis = f"an evenly spaced sample of {part.num_rows:,} of {total:,} rows"
        if part.num_rows >= total:
            basis = f"all {total:,} rows"
        return _Read(_arrow_frame(part), "", basis, nulls)


class _ArrowDataset(_Engine):
    """Files on disk: rows are counted from Parquet metadata, values read from the head."""

    what = "an Arrow dataset"

    def schema(self, obj: Any) -> list[tuple[str, str]]:
        return [(str(f.name), str(f.type)) for f in obj.schema]

    def facts(self, obj: Any) -> dict[str, JSON]:
        files = getattr(obj, "files", None)
        out: dict[str, JSON] = {"format": type(getattr(obj, "format", None)).__name__}
        if isinstance(files, list):
            out["files"] = len(files)
        return out

    def read(self, obj: Any, first: int, count: int, names: list[str], w: Walker) -> _Read:
        table = _timed(
            lambda: obj.head(first + count, columns=names).slice(first, count),
            w.caps.lazy_seconds,
            None,
        )
        return _Read(_arrow_frame(table), f"read the first {first + count:,} rows (head)")

    def count(self, obj: Any, w: Walker) -> int | None:
        """Rows from Parquet footers (metadata, no data pages), under the time limit."""
        if not type(getattr(obj, "format", None)).__name__.startswith("Parquet"):
            return None
        try:
            return int(_timed(obj.count_rows, w.caps.lazy_seconds, None))
        except _Stopped:
            return None


class _DuckRelation(_Engine):
    """A query not yet run: ``LIMIT`` pushes down to its scans (not through aggregates)."""

    what = "a DuckDB relation"

    def schema(self, obj: Any) -> list[tuple[str, str]]:
        return [(str(n), str(t)) for n, t in zip(obj.columns, obj.types, strict=True)]

    def read(self, obj: Any, first: int, count: int, names: list[str], w: Walker) -> _Read:
        quoted = ", ".join('"' + n.replace('"', '""') + '"' for n in names)

        def run() -> Any:
            return obj.project(quoted).limit(count, first).df()

        frame = _timed(run, w.caps.lazy_seconds, None)
        return _Read(frame, f"ran the relation with LIMIT {count:,} OFFSET {first:,}")


class _DaskFrame(_Engine):
    """Partitions computed with the frame's own scheduler: one for a head, at most two for
    a window of rows. Local schedulers cannot be cancelled, so the partitions are the bound."""

    what = "a Dask frame"

    def schema(self, obj: Any) -> list[tuple[str, str]]:
        if is_instance(obj, "dask.dataframe", "Series"):
            return [(str(obj.name), str(obj.dtype))]
        return [(str(n), str(t)) for n, t in obj.dtypes.items()]

    def facts(self, obj: Any) -> dict[str, JSON]:
        out: dict[str, JSON] = {"partitions": int(obj.npartitions)}
        if obj.known_divisions:
            divisions = obj.divisions
            out["divisions"] = {
                "known": True,
                "first": label_text(divisions[0]),
                "last": label_text(divisions[-1]),
            }
        else:
            out["divisions"] = {"known": False}
        return out

    def read(self, obj: Any, first: int, count: int, names: list[str], w: Walker) -> _Read:
        part = obj if is_instance(obj, "dask.dataframe", "Series") else obj[names]
        total = int(obj.npartitions)
        wanted = first + count
        pieces: list[Any] = []

        def run() -> Any:
            # One partition at a time, each computed once, until the window is filled.
            have = 0
            for i in range(min(total, _MAX_DASK_PARTITIONS)):
                piece = part.partitions[i].head(wanted - have, npartitions=1, compute=True)
                pieces.append(piece)
                have += len(piece)
                if have >= wanted:
                    break
            return _pandas().concat(pieces) if len(pieces) > 1 else pieces[0]

        head = _timed(run, w.caps.lazy_seconds, None)
        if head.ndim == 1:
            head = head.to_frame()
        frame = head.iloc[first:wanted]
        used = len(pieces)
        did = f"read {used} of {total:,} partition{'s' if total != 1 else ''}"
        if len(head) < wanted and used < total:
            did += f"; rows past the first {used} partitions are not read"
        return _Read(frame, did)


class _PolarsLazy(_Engine):
    """A polars query plan: ``slice`` pushes down to its scans (not through a sort or a
    group-by), and the query runs in the background, so the time limit cancels it."""

    what = "a polars LazyFrame"

    def schema(self, obj: Any) -> list[tuple[str, str]]:
        return [(str(n), str(t)) for n, t in obj.collect_schema().items()]

    def read(self, obj: Any, first: int, count: int, names: list[str], w: Walker) -> _Read:
        query = obj.select(names).slice(first, count).collect(background=True)

        def cancel() -> str:
            query.cancel()
            return "the polars query was cancelled"

        frame = _timed(query.fetch_blocking, w.caps.lazy_seconds, cancel)
        rows = _pandas().DataFrame(frame.to_dict(as_series=False))
        return _Read(rows, f"collected a slice of {count:,} rows (the plan up to it runs)")


def _spark_connect(obj: Any) -> bool:
    return is_instance(obj, "pyspark.sql.connect.dataframe", "DataFrame")


class _SparkFrame(_Engine):
    """One ``limit(n)`` then ``collect``: on a classic session a single job in its own job
    group (counted by the status tracker, cancelled on timeout); through Spark Connect a
    single operation with its own tag (interrupted on timeout). ``count()`` never runs."""

    what = "a Spark DataFrame"

    def schema(self, obj: Any) -> list[tuple[str, str]]:
        return [(str(n), str(t)) for n, t in obj.dtypes]

    def facts(self, obj: Any) -> dict[str, JSON]:
        return {"engine": "Spark Connect" if _spark_connect(obj) else "Spark"}

    def read(self, obj: Any, first: int, count: int, names: list[str], w: Walker) -> _Read:
        if len(set(names)) < len(names):
            raise _Stopped("no rows read: columns that share a name cannot be selected apart")
        limited = obj.select(*names).limit(first + count)
        if _spark_connect(obj):
            rows, did = _spark_connect_collect(obj.sparkSession, limited, w.caps.lazy_seconds)
        else:
            rows, did = _spark_classic_collect(obj.sparkSession, limited, w.caps.lazy_seconds)
        pandas = _pandas()
        records = [tuple(r) for r in rows[first:]]
        frame = pandas.DataFrame.from_records(records, columns=list(limited.columns))
        return _Read(frame, f"{did} (limit {first + count:,}); count() was not run")


_GROUP_KEYS = ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")


def _spark_classic_collect(session: Any, limited: Any, seconds: float) -> tuple[list[Any], str]:
    sc = session.sparkContext
    group = f"chatkit-notebook-preview-{uuid.uuid4().hex[:12]}"

    def run() -> list[Any]:
        sc.setJobGroup(group, "chatkit-notebook: a bounded preview", interruptOnCancel=True)
        try:
            return list(limited.collect())
        finally:
            for key in _GROUP_KEYS:  # the worker thread is reused: leave no group on it
                sc.setLocalProperty(key, None)

    def cancel() -> str:
        sc.cancelJobGroup(group)
        return "its Spark job group was cancelled"

    rows = _timed(run, seconds, cancel)
    jobs = len(sc.statusTracker().getJobIdsForGroup(group))
    return rows, f"ran {jobs} Spark job{'s' if jobs != 1 else ''}"


def _spark_connect_collect(session: Any, limited: Any, seconds: float) -> tuple[list[Any], str]:
    tag = f"chatkit-notebook-preview-{uuid.uuid4().hex[:12]}"

    def run() -> list[Any]:
        session.addTag(tag)  # tags are per thread: only this read carries it
        try:
            return list(limited.collect())
        finally:
            session.removeTag(tag)

    def cancel() -> str:
        session.interruptTag(tag)
        return "its Spark Connect operation was interrupted"

    return _timed(run, seconds, cancel), "ran 1 Spark Connect query"


_ENGINES: dict[str, _Engine] = {
    "pyarrow.Table": _ArrowTable(),
    "pyarrow.RecordBatch": _ArrowTable(),
    "pyarrow.Dataset": _ArrowDataset(),
    "duckdb.Relation": _DuckRelation(),
    "dask.DataFrame": _DaskFrame(),
    "dask.Series": _DaskFrame(),
    "spark.DataFrame": _SparkFrame(),
    "polars.LazyFrame": _PolarsLazy(),
}


# -- one line for list_variables --------------------------------------------------------------


def lazy_summary(obj: Any, kind: str) -> str:
    """One line from the schema and free facts only: nothing runs, no row is read.

    Args:
        obj: A value of a lazy kind.
        kind: Its kind (``kinds.LAZY_KINDS``).

    Returns:
        Text such as ``1,000,000 rows \u00d7 3 columns`` (Arrow) or ``3 columns, 100
        partitions, rows not counted`` (Dask), or ``""`` if the schema did not come in time.
    """
    if kind == "dask.Array":
        return _array_summary(obj)
    engine = _ENGINES[kind]
    status, schema = call_foreign(
        lambda: engine.schema(obj), Budget(_SUMMARY_SECONDS, _SUMMARY_SECONDS)
    )
    if status != "ok" or not isinstance(schema, list):
        return f"{engine.what}, schema not read ({status})"
    width = len(schema)
    rows = engine.rows_known(obj)
    if rows is not None:
        return f"{rows:,} rows \u00d7 {width:,} columns"
    facts = engine.facts(obj)
    parts = [f"{width:,} column{'s' if width != 1 else ''}"]
    if "partitions" in facts:
        parts.append(f"{facts['partitions']:,} partitions")
    if "files" in facts:
        parts.append(f"{facts['files']:,} files")
    if kind == "spark.DataFrame":
        parts.append(str(facts["engine"]))
    parts.append("rows not counted")
    return ", ".join(parts)


def _array_summary(a: Any) -> str:
    shape = " \u00d7 ".join("?" if n != n else f"{int(n):,}" for n in a.shape)
    return f"shape ({shape}), {safe_text(str(a.dtype), 40)}, {int(a.npartitions):,} chunks"


# -- describe ----------------------------------------------------------------------------------


def _describe_lazy(obj: Any, w: Walker, p: Preview) -> None:
    engine = _ENGINES[kind_of(obj)]
    schema = _schema(engine, obj, w)
    width = len(schema)
    facts = engine.facts(obj)
    if isinstance(engine, _ArrowDataset):
        counted = engine.count(obj, w)
        facts["row_count"] = counted if counted is not None else NOT_COUNTED
        if counted is not None:
            p.notes.append("rows counted from the Parquet files' metadata")
    facts.setdefault("row_count", NOT_COUNTED)
    p.meta.update(columns=width, **facts)
    shown = schema[: w.caps.columns]
    _column_note(p, len(shown), width)
    names = [name for name, _ in shown]
    columns: list[dict[str, JSON]] = [
        {"name": label_text(name), "dtype": safe_text(dtype, w.caps.cell_chars)}
        for name, dtype in shown
    ]
    p.data["columns"] = columns
    safe = _safe_positions(names)
    if not safe:
        for entry in columns:
            entry["values"] = REDACTED
        p.notes.append("every column shown has a secret's name: no rows were read")
        return
    try:
        read = engine.sample(obj, [names[j] for j in safe], w)
    except _Stopped as e:
        p.notes.append(str(e))
        return
    if read.did:
        p.notes.append(read.did)
    frame = _widen(read.frame, names, safe)
    exact_nulls = {safe[k]: n for k, n in read.exact_nulls.items()}
    basis = read.basis or f"the {len(frame):,} rows read, not the whole frame"
    for j, entry in enumerate(columns):
        if _secret_label(names[j]):
            entry["values"] = REDACTED
            continue
        column = frame.iloc[:, j]
        entry["nulls" if j in exact_nulls else "nulls_in_sample"] = exact_nulls.get(
            j, int(column.isna().sum())
        )
        stats = _describe_column(column, w)
        if isinstance(stats, dict) and not read.basis.startswith("all "):
            stats = {_SAMPLE_ONLY.get(k, k): v for k, v in stats.items()}
        entry["stats"] = stats
    p.notes.append(f"stats come from {basis}")
    p.data["head"] = _head(frame.iloc[: w.caps.head_rows], names, w)


def _safe_positions(names: list[str]) -> list[int]:
    """The columns to read: a column with a secret's name is never read at all."""
    return [j for j, name in enumerate(names) if not _secret_label(name)]


def _widen(frame: Any, names: list[str], safe: list[int]) -> Any:
    """The frame read (the ``safe`` columns) with the secret columns put back, empty."""
    pandas = _pandas()
    parts: list[Any] = [pandas.Series([None] * len(frame), index=frame.index)] * len(names)
    for k, j in enumerate(safe):
        parts[j] = frame.iloc[:, k]
    return pandas.concat(parts, axis=1).set_axis(names, axis=1)


def _schema(engine: _Engine, obj: Any, w: Walker) -> list[tuple[str, str]]:
    got = _timed(lambda: engine.schema(obj), w.caps.lazy_seconds, None)
    assert isinstance(got, list)
    return got


def _head(frame: Any, names: list[str], w: Walker) -> JSON:
    """Rows of a read frame, as ``tables`` shows a pandas frame (secret columns redacted)."""
    frame = frame.set_axis(names, axis=1)
    return _pandas_rows(frame, 0, len(frame), list(range(len(names))), w)


# -- rows ----------------------------------------------------------------------------------------


def _rows_lazy(
    obj: Any, start: int, count: int, columns: list[str] | None, w: Walker, p: Preview
) -> None:
    engine = _ENGINES[kind_of(obj)]
    schema = _schema(engine, obj, w)
    labels: list[object] = [name for name, _ in schema]
    positions = _select(labels, columns, w.caps.columns)
    if columns is None:
        _column_note(p, len(positions), len(schema))
    known = engine.rows_known(obj)
    if known is not None:
        first, end = window(start, count, known)
        p.meta["shape"] = [known, len(schema)]
    else:
        if start < 0:
            raise PreviewError(
                "The end of a lazy frame is not known without counting its rows, which "
                "would run a job.",
                "Read from the start (start >= 0), or ask the user to run a count.",
            )
        first, end = start, start + count
        p.meta.update(columns=len(schema), row_count=NOT_COUNTED)
    if known is None and end > _MAX_ROW_END:
        raise PreviewError(
            f"preview_rows reads the first {_MAX_ROW_END:,} rows of a lazy frame; "
            f"start={start:,} is further in.",
            "Filter or sort the frame in code the user approves (run_python), or read "
            "from the start.",
        )
    names = [str(labels[j]) for j in positions]
    safe = _safe_positions(names)
    if not safe:
        raise PreviewError(
            "Every column asked for has a secret's name; their values are never shown.",
            "Ask for other columns (describe_variable lists them).",
        )
    try:
        read = engine.read(obj, first, end - first, [names[j] for j in safe], w)
    except _Stopped as e:
        p.meta["rows"] = [first, first]
        p.notes.append(str(e))
        return
    p.notes.append(read.did)
    frame = _widen(read.frame, names, safe)
    p.meta["rows"] = [first, first + len(frame)]
    shown = _head(frame, names, w)
    if not isinstance(engine, _DaskFrame):  # a Dask frame's index labels mean something
        shown["index"] = list(range(first, first + len(frame)))
    p.data.update(shown)
    if columns is not None:
        p.meta["columns"] = [label_text(n) for n in names]


# -- dask arrays -------------------------------------------------------------------------------


def _array_facts(a: Any, p: Preview) -> None:
    p.meta.update(
        shape=[None if n != n else int(n) for n in a.shape],
        dtype=str(a.dtype),
        chunks=int(a.npartitions),
        chunk_shape=[None if n != n else int(n) for n in (c[0] for c in a.chunks)],
    )


def _describe_dask_array(a: Any, w: Walker, p: Preview) -> None:
    _array_facts(a, p)
    if a.ndim == 0 or a.npartitions == 0:
        return
    total = int(a.npartitions)

    def run() -> Any:
        return a.blocks[(0,) * a.ndim].compute()

    try:
        block = _timed(run, w.caps.lazy_seconds, None)
    except _Stopped as e:
        p.notes.append(str(e))
        return
    p.notes.append(f"read 1 of {total:,} chunks")
    np = sys.modules["numpy"]
    if block.size and block.dtype.kind in "biuf":
        flat = block.ravel()[: w.caps.sample_rows]
        if block.dtype.kind == "f":
            flat = flat[np.isfinite(flat)]
        if flat.size:
            with np.errstate(all="ignore"):
                found = (flat.min().item(), flat.max().item(), flat.mean(dtype=float).item())
            p.data["stats"] = {
                k: _number(v, w) for k, v in zip(("min", "max", "mean"), found, strict=True)
            }
            p.notes.append(f"stats come from {flat.size:,} values of the first chunk only")
    index = (slice(0, w.caps.head_rows), *(slice(0, w.caps.columns) for _ in range(1, a.ndim)))
    p.data["head"] = [w.plain(row, w.caps.cell_chars) for row in block[index].tolist()]


def _rows_dask_array(a: Any, start: int, count: int, columns: Any, w: Walker, p: Preview) -> None:
    _array_facts(a, p)
    if a.ndim == 0:
        raise PreviewError("A 0-dimensional array has no rows.", "Use describe_variable.")
    length = a.shape[0]
    if length != length:
        raise PreviewError(
            "This Dask array's length is unknown (chunks not computed).",
            "Ask the user to run compute_chunk_sizes(), or read it with run_python.",
        )
    first, end = window(start, count, int(length))
    index = (slice(first, end), *(slice(0, w.caps.columns) for _ in range(1, a.ndim)))
    part = a[index]
    try:
        values = _timed(part.compute, w.caps.lazy_seconds, None)
    except _Stopped as e:
        p.meta["rows"] = [first, first]
        p.notes.append(str(e))
        return
    p.meta["rows"] = [first, end]
    p.notes.append(f"read {int(part.npartitions):,} of {int(a.npartitions):,} chunks")
    p.data["rows"] = [w.plain(row, w.caps.cell_chars) for row in values.tolist()]


_Describer = Callable[[Any, Walker, Preview], None]
_RowReader = Callable[[Any, int, int, Any, Walker, Preview], None]

LAZY_DESCRIBERS: dict[str, _Describer] = {
    **dict.fromkeys(_ENGINES, _describe_lazy),
    "dask.Array": _describe_dask_array,
}
LAZY_ROW_READERS: dict[str, _RowReader] = {
    **dict.fromkeys(_ENGINES, _rows_lazy),
    "dask.Array": _rows_dask_array,
}
