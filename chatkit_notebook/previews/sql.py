"""Read-only SQL over the notebook's variables: the engine behind the agent's ``query`` tool.

A question such as "which region sold most?" is an aggregate, and an aggregate needs no
Python: :func:`run_query` runs ONE SQL statement in DuckDB over the variables it names
(pandas and polars frames, Arrow tables, record batches and datasets, DuckDB relations,
numpy structured arrays) and returns a bounded, redacted table. It is safe without a
person's approval because the connection, not the text, decides what a statement can do:

* a fresh in-memory connection per query, with ``enable_external_access=false`` (no
  files, no network: ``read_csv``, ``read_parquet``, ``glob``, ``COPY``, ``ATTACH`` fail),
  extension autoloading and autoinstalling off, Python replacement scans off (only the
  variables registered here exist) and the configuration locked (``SET`` fails);
* DuckDB's own parser (``extract_statements``) must find exactly one statement, of type
  ``SELECT``; anything else is refused before it runs;
* only the variables the statement names are registered, and only those the agent may see
  (``namespace.lookup``: private, IPython's and ``%chatkit hide``'s names are unknown) and
  that are not secrets;
* a timer interrupts the query at its time limit, and the result is cut to
  :data:`MAX_ROWS` rows and cells to ``cell_chars`` characters, then redacted.

DuckDB scans pandas, polars and Arrow data in place (no copy): ``bench/query_bench.py``
measures it. A statement that names a PySpark DataFrame goes to :mod:`.spark_sql` instead.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..context import NotebookContext
from .foreign import exception_name, is_secret_value, safe_text, type_name
from .namespace import lookup, visible
from .redact import REDACTED, is_secret_name, redact_text

__all__ = [
    "DUCKDB_SETTINGS",
    "MAX_ROWS",
    "QUERY_SECONDS",
    "SPARK_QUERY_SECONDS",
    "QueryRefused",
    "QueryResult",
    "duckdb_available",
    "insert_code",
    "run_query",
]

MAX_ROWS = 50
"""The most result rows a query returns to the model."""

QUERY_SECONDS = 8.0
"""How long one DuckDB query may run before it is interrupted."""

SPARK_QUERY_SECONDS = 30.0
"""How long one Spark SQL query may run before its jobs are cancelled (a cold session's
first job takes seconds before it starts)."""

CELL_CHARS = 200
"""The most characters of one result cell."""

MAX_SQL_CHARS = 20_000
"""The longest statement accepted."""

DUCKDB_SETTINGS: dict[str, str | bool] = {
    "enable_external_access": False,  # no files, no network, no ATTACH, no COPY
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "python_enable_replacements": False,  # only the variables registered here exist
    "lock_configuration": True,  # SET and PRAGMA cannot undo any of this
}
"""The settings of every query's connection, fixed when it opens."""


class QueryRefused(Exception):
    """A statement :func:`run_query` will not run, or that failed: one line, and a hint.

    Args:
        message: What is wrong, naming the bad value.
        hint: What to do instead.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass
class QueryResult:
    """A query's bounded, redacted result."""

    engine: str  # "duckdb" or "spark"
    names: list[str]  # the variables it read
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    more: bool  # rows were left out
    seconds: float
    notes: list[str] = field(default_factory=list)


def duckdb_available() -> bool:
    """Whether DuckDB can be imported (the ``[data]`` extra)."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def run_query(
    nb: NotebookContext,
    sql: str,
    *,
    max_rows: int = MAX_ROWS,
    cell_chars: int = CELL_CHARS,
    seconds: float | None = None,
) -> QueryResult:
    """Run one read-only statement over the notebook's variables (see the module docstring).

    ``seconds`` is the time limit: :data:`QUERY_SECONDS` for DuckDB and
    :data:`SPARK_QUERY_SECONDS` for Spark unless given.

    Raises:
        QueryRefused: the statement is not a single read, names a variable that is not
            there (or hidden, or a secret), or failed, was interrupted or was refused by
            the engine; nothing was changed.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise QueryRefused("The SQL statement is empty.", "Pass one SELECT statement.")
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRefused(
            f"The SQL statement has {len(sql):,} characters, more than {MAX_SQL_CHARS:,}.",
            "Write a shorter statement.",
        )
    from .spark_sql import run_spark_query, spark_frames

    frames = spark_frames(nb, sql)
    if frames:
        limit = SPARK_QUERY_SECONDS if seconds is None else seconds
        return run_spark_query(
            nb, sql, frames, max_rows=max_rows, cell_chars=cell_chars, seconds=limit
        )
    limit = QUERY_SECONDS if seconds is None else seconds
    return _run_duckdb(nb, sql, max_rows=max_rows, cell_chars=cell_chars, seconds=limit)


# -- DuckDB ----------------------------------------------------------------------------------


def _connect() -> Any:
    try:
        import duckdb
    except ImportError as e:
        msg = "DuckDB is not installed."
        raise QueryRefused(msg, "pip install 'chatkit-notebook[data]'") from e
    return duckdb.connect(":memory:", config=dict(DUCKDB_SETTINGS))


def _one_select(con: Any, sql: str) -> None:
    """Refuse anything but exactly one statement that DuckDB's parser types as SELECT."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as e:
        raise QueryRefused(_first_line(e), "Fix the SQL (DuckDB's dialect).") from None
    if len(statements) != 1:
        raise QueryRefused(
            f"Only one SQL statement may run at a time; this has {len(statements)}.",
            "Send one SELECT statement, without ';' between statements.",
        )
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        name = str(getattr(kind, "name", kind)).upper()
        raise QueryRefused(
            f"Only a read (SELECT) may run here; DuckDB parses this as a {name} statement.",
            "query only reads: writing, settings, files and extensions need run_python, "
            "which asks the user.",
        )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return redact_text(safe_text(text[0] if text else exception_name(error), 300))


def _named(con: Any, nb: NotebookContext, sql: str) -> set[str]:
    """The tables the statement reads, by DuckDB's own parser (CTEs are not tables).

    DuckDB binds some statements to name their tables (a ``JOIN ... USING`` needs the
    columns), which fails before the tables exist; then the candidates are the visible
    table-like variables whose names the statement mentions (registering one too many is
    harmless: each is a variable the agent may read anyway).
    """
    import duckdb

    try:
        return set(con.get_table_names(sql))
    except duckdb.PermissionException as e:  # a table function that reaches a file
        raise QueryRefused(_first_line(e), _EXTERNAL_HINT) from None
    except duckdb.Error:
        words = set(_WORDS.findall(sql))
        return {
            name
            for name, value in visible(nb.namespace, nb.hidden).items()
            if name in words and not _secret(name, value) and _is_table(value)
        }


_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _secret(name: str, value: object) -> bool:
    return is_secret_name(name) or is_secret_value(value)


_EXTERNAL_HINT = (
    "query reads only the notebook's variables: files, URLs and extensions are off. Load "
    "the data into a variable first (or use run_python, which asks the user)."
)


_TABLES = {
    "pandas": ("DataFrame", "Series"),
    "polars": ("DataFrame", "Series"),
    "pyarrow": ("Table", "RecordBatch", "Dataset"),
    "duckdb": ("DuckDBPyRelation",),
    "_duckdb": ("DuckDBPyRelation",),
}


def _table_kind(value: object) -> str | None:
    """``"frame"``, ``"relation"`` or ``"records"`` for what DuckDB can scan, else None."""
    cls = type(value)
    module = cls.__module__.split(".")[0]
    names = {base.__name__ for base in cls.__mro__ if base.__module__.split(".")[0] == module}
    if names & set(_TABLES.get(module, ())):  # pyarrow's datasets: InMemory, FileSystem, ...
        return "relation" if "duckdb" in module else "frame"
    if module == "numpy" and getattr(getattr(value, "dtype", None), "names", None):
        return "records"
    return None


def _is_table(value: object) -> bool:
    return _table_kind(value) is not None


def _scannable(name: str, value: object) -> object:
    """What DuckDB scans for ``value``, or a refusal naming what it cannot read."""
    kind = _table_kind(value)
    if kind == "frame":
        return value
    if kind == "relation":
        # A relation belongs to its own connection: stream its rows as Arrow batches.
        return value.to_arrow_reader()  # type: ignore[attr-defined]
    if kind == "records":
        # A structured (record) array: a frame with a column per field (pandas, which
        # DuckDB reads, is there: numpy record arrays come from it or beside it).
        return importlib.import_module("pandas").DataFrame(value)
    raise QueryRefused(
        f"{name!r} is a {type_name(value)}, which query cannot read as a table.",
        "query reads pandas and polars frames, Arrow tables and datasets, DuckDB relations "
        "and numpy record arrays (and PySpark DataFrames); use describe_variable for others.",
    )


def _register(con: Any, nb: NotebookContext, names: set[str]) -> list[str]:
    registered = []
    for name in sorted(names):
        found, value = lookup(nb, name)
        if not found:
            raise QueryRefused(
                f"No variable named {safe_text(name, 100)!r}.",
                "Call list_variables to see the names you can query; names are case-"
                "sensitive, and a table is a variable holding a frame.",
            )
        if _secret(name, value):
            raise QueryRefused(f"{name!r} holds a secret; it is never read.", "")
        con.register(name, _scannable(name, value))
        registered.append(name)
    return registered


def _run_duckdb(
    nb: NotebookContext, sql: str, *, max_rows: int, cell_chars: int, seconds: float
) -> QueryResult:
    started = time.monotonic()
    con = _connect()  # first: without DuckDB, it says how to install it
    import duckdb

    try:
        _one_select(con, sql)
        names = _register(con, nb, _named(con, nb, sql))
        timer = threading.Timer(seconds, con.interrupt)
        timer.start()
        try:
            relation = con.sql(sql)
            columns = list(relation.columns)
            types = [str(t) for t in relation.types]
            fetched = relation.limit(max_rows + 1).fetchall()
        except duckdb.InterruptException:
            msg = f"The query was stopped at its time limit of {seconds:g} s."
            raise QueryRefused(msg, "Aggregate more, or filter first, then try again.") from None
        except duckdb.PermissionException as e:
            raise QueryRefused(_first_line(e), _EXTERNAL_HINT) from None
        except duckdb.Error as e:
            raise QueryRefused(_first_line(e), "Fix the SQL (DuckDB's dialect).") from None
        finally:
            timer.cancel()
    finally:
        con.close()
    rows = [_row(columns, list(row), cell_chars) for row in fetched[:max_rows]]
    return QueryResult(
        engine="duckdb",
        names=names,
        columns=[safe_text(c, 100) for c in columns],
        types=types,
        rows=rows,
        more=len(fetched) > max_rows,
        seconds=time.monotonic() - started,
    )


# -- results ---------------------------------------------------------------------------------


def _row(columns: list[str], values: list[Any], cell_chars: int) -> list[Any]:
    return [
        REDACTED if is_secret_name(column) else cell(value, cell_chars)
        for column, value in zip(columns, values, strict=False)
    ]


def cell(value: object, chars: int) -> Any:
    """One result cell as bounded, redacted JSON: numbers as numbers, the rest as text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value):,} bytes>"
    text = value if isinstance(value, str) else _nested(value)
    text = redact_text(text)
    return text if len(text) <= chars else text[:chars] + "…"


def _nested(value: object) -> str:
    """Lists, structs and maps as short text (their parts bounded before joining)."""
    if isinstance(value, dict):
        parts = [f"{k}: {cell(v, 60)}" for k, v in list(value.items())[:20]]
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(cell(v, 60)) for v in list(value)[:20]) + "]"
    return f"<{type_name(value)}>"


# -- code a person can run -------------------------------------------------------------------


def insert_code(sql: str, engine: str, names: list[str]) -> str:
    """The Python a cell runs for a query the agent ran: ``duckdb.sql("…").df()``, or for
    Spark the temporary views and ``spark.sql(…)``."""
    quoted = f'"""{sql.strip()}"""' if '"""' not in sql and "\\" not in sql else repr(sql)
    if engine == "spark" and names:
        views = "".join(f'{n}.createOrReplaceTempView("{n}")\n' for n in names)
        return f"{views}{names[0]}.sparkSession.sql({quoted}).show()"
    return f"import duckdb\n\nduckdb.sql({quoted}).df()"
