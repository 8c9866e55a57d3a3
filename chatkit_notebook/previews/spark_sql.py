"""Read-only Spark SQL over the notebook's PySpark DataFrames (classic and Spark Connect).

When the agent's ``query`` names a PySpark DataFrame, the statement runs as Spark SQL in
that DataFrame's own session (a local one, a cluster, or Spark Connect as Databricks and
EMR notebooks hold), on temporary views named after the variables, and nothing else:

* **Only a query.** ``spark.sql(text)`` is lazy for a query but EXECUTES a command
  (``INSERT``, ``DROP``, ``SET``, ``ADD JAR``, ``CACHE``...) at once, so the text is proven
  a single query before it goes there. On a classic session the session's own parser does
  it without running anything: ``parseQuery`` (a query and nothing after it) must accept
  it. Spark Connect has no parse-only call, so the statement is sent wrapped as
  ``SELECT * FROM (<statement>) AS ...`` on lines of their own: only a query parses inside
  a subquery, a statement cannot start there, and Spark's single-statement rule
  (``statement ;* EOF``; a SQL script must start with ``BEGIN``) leaves no room for a
  second one. So whatever the text holds, what Spark gets is one query, which it analyses
  but does not run.
* **No Java calls.** A statement whose text or parsed plan names ``reflect``,
  ``try_reflect``, ``java_method`` or ``IDENTIFIER`` (which names a function by a string
  expression) is refused before Spark analyses it: Spark folds constant expressions while
  it optimises, so even an ``explain`` on the server would run ``reflect('java.lang.System',
  'exit', 1)``. A word check refuses too much (a column named ``identifier``), never too
  little.
* **Only the views.** The parsed plan (classic: the parser's; Connect: the server's
  ``explain``, once the text has passed) may read only the registered views and its own
  CTEs: a catalog table, a file (``parquet.`/path```) or a table-valued function is
  refused.
* **Not covered**: functions the user registered in the session (Python UDFs, SQL
  functions) are callable, as they are from any of the user's queries.
* **Bounded and stoppable.** Results come through ``limit``; the query's jobs carry a tag
  that a timer interrupts at the time limit (``interruptTag``; a job group on sessions
  without tags). The temporary views are dropped afterwards, and a name that is already a
  table or view in the session is refused rather than hidden.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
import uuid
from typing import Any

from ..context import NotebookContext
from .foreign import safe_text
from .namespace import visible
from .redact import REDACTED, is_secret_name, redact_text
from .sql import QueryRefused, QueryResult, cell

__all__ = ["is_spark_frame", "run_spark_query", "spark_frames"]

_SPARK_FRAMES = (
    "pyspark.sql.dataframe.DataFrame",
    "pyspark.sql.classic.dataframe.DataFrame",
    "pyspark.sql.connect.dataframe.DataFrame",
)
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RELATION = re.compile(r"'UnresolvedRelation \[([^\]]*)\]")
_CTE = re.compile(r"\bCTE \[([^\]]*)\]")
# Functions that call Java methods, and IDENTIFIER(...), which names a function by a string
# expression ('ref' || 'lect'), so a name check could not see it.
_JAVA_CALL = re.compile(r"\b(try_reflect|reflect|java_method|identifier)\b", re.IGNORECASE)
_TABLE_FUNCTION = "UnresolvedTableValuedFunction"
_HINT = (
    "query runs one Spark SQL SELECT (or WITH ... SELECT) over the notebook's DataFrames by "
    "their variable names; anything else needs run_python, which asks the user."
)


def is_spark_frame(value: object) -> bool:
    """Whether ``value`` is a PySpark DataFrame (classic or Connect), without importing
    pyspark."""
    if "pyspark" not in sys.modules:
        return False
    return any(f"{c.__module__}.{c.__qualname__}" in _SPARK_FRAMES for c in type(value).__mro__)


def spark_frames(nb: NotebookContext, sql: str) -> dict[str, Any]:
    """The visible, non-secret PySpark DataFrames whose names the statement mentions."""
    if "pyspark" not in sys.modules:
        return {}
    words = set(_WORDS.findall(sql))
    return {
        name: value
        for name, value in visible(nb.namespace, nb.hidden).items()
        if name in words and not is_secret_name(name) and is_spark_frame(value)
    }


def _is_connect(frame: Any) -> bool:
    return type(frame).__module__.startswith("pyspark.sql.connect")


def _one_session(frames: dict[str, Any]) -> Any:
    sessions = {id(frame.sparkSession): frame.sparkSession for frame in frames.values()}
    if len(sessions) != 1:
        raise QueryRefused(
            "The DataFrames named belong to different Spark sessions.", "Query one at a time."
        )
    return next(iter(sessions.values()))


def _parsed_plan_classic(session: Any, sql: str) -> str:
    """The parser's plan as text, once it has proven ``sql`` a single query (runs nothing)."""
    parser = session._jsparkSession.sessionState().sqlParser()
    try:
        plan = parser.parsePlan(sql)
    except Exception as e:
        raise QueryRefused(
            f"Spark could not parse the statement: {_spark_line(e)}", _HINT
        ) from None
    try:
        parser.parseQuery(sql)
    except Exception:
        head = str(plan.nodeName())
        raise QueryRefused(
            f"Only a read (SELECT) may run here; Spark parses this as {head}.", _HINT
        ) from None
    return str(plan.toString())


def _wrapped(sql: str) -> str:
    # Not an injection: the point is that only a query can stand inside the parentheses.
    return f"SELECT * FROM (\n{sql.strip().rstrip(';')}\n) AS chatkit_query"  # noqa: S608


def _spark_line(error: BaseException) -> str:
    for line in str(error).strip().splitlines():
        if line.strip():
            return redact_text(safe_text(line.strip(), 300))
    return type(error).__name__


def _check_calls(text: str) -> None:
    """Refuse a statement or plan that names a Java-calling function (or IDENTIFIER).

    On the statement's text too, before Spark sees it: Spark folds constant expressions
    while it optimises, and ``explain`` optimises, so ``reflect('java.lang.System', 'exit',
    1)`` would run during a plan check on the server.
    """
    call = _JAVA_CALL.search(text)
    if call:
        name = call.group(1).lower()
        why = "it names functions by text" if name == "identifier" else "it runs Java methods"
        raise QueryRefused(f"query does not call {name}(): {why}.", _HINT)


def _check_plan(plan: str, views: set[str]) -> None:
    _check_calls(plan)
    if _TABLE_FUNCTION in plan:
        raise QueryRefused("query does not call table functions in Spark SQL.", _HINT)
    ctes = {part.strip() for found in _CTE.findall(plan) for part in found.split(",")}
    for found in _RELATION.findall(plan):
        parts = [part.strip() for part in found.split(",")]
        name = ".".join(parts)
        if len(parts) != 1 or (name not in views and name not in ctes):
            raise QueryRefused(
                f"query reads only the notebook's DataFrames, not {safe_text(name, 100)!r} "
                "(a table, file or view of the Spark session).",
                _HINT,
            )


def run_spark_query(
    nb: NotebookContext,
    sql: str,
    frames: dict[str, Any],
    *,
    max_rows: int,
    cell_chars: int,
    seconds: float,
) -> QueryResult:
    """Run one Spark SQL query over ``frames`` (see the module docstring)."""
    started = time.monotonic()
    _check_calls(sql)
    session = _one_session(frames)
    connect = _is_connect(next(iter(frames.values())))
    if not connect:
        _check_plan(_parsed_plan_classic(session, sql), set(frames))
    _refuse_taken_names(session, frames)
    tag = f"chatkit-query-{uuid.uuid4().hex[:12]}"
    try:
        for name, frame in frames.items():
            frame.createOrReplaceTempView(name)
        try:
            frame = session.sql(_wrapped(sql) if connect else sql)
        except Exception as e:
            raise QueryRefused(f"Spark refused the query: {_spark_line(e)}", _HINT) from None
        if connect:
            _check_plan(_explained(frame), set(frames))
        columns = list(frame.columns)
        types = [safe_text(t, 60) for _, t in frame.dtypes]
        fetched = _collect(session, frame.limit(max_rows + 1), tag, seconds)
    finally:
        for name in frames:
            with contextlib.suppress(Exception):  # the session went away: nothing to drop
                session.catalog.dropTempView(name)
    rows = [
        [
            REDACTED if is_secret_name(column) else cell(value, cell_chars)
            for column, value in zip(columns, list(row), strict=False)
        ]
        for row in fetched[:max_rows]
    ]
    return QueryResult(
        engine="spark",
        names=sorted(frames),
        columns=[safe_text(c, 100) for c in columns],
        types=types,
        rows=rows,
        more=len(fetched) > max_rows,
        seconds=time.monotonic() - started,
        notes=[
            f"ran as Spark SQL in the DataFrames' {'Spark Connect' if connect else 'Spark'} session"
        ],
    )


def _refuse_taken_names(session: Any, frames: dict[str, Any]) -> None:
    for name in frames:
        try:
            taken = session.catalog.tableExists(name)
        except Exception:
            taken = False
        if taken:
            raise QueryRefused(
                f"The Spark session already has a table or view named {name!r}; query "
                "would hide it.",
                "Query a DataFrame bound to another name, or use run_python.",
            )


def _explained(frame: Any) -> str:
    """The server's parsed plan of a Spark Connect frame (analysis only, no job)."""
    try:
        text = frame._explain_string(extended=True)
    except Exception as e:
        raise QueryRefused(f"Spark refused the query: {_spark_line(e)}", _HINT) from None
    parsed, _, _ = str(text).partition("== Analyzed Logical Plan ==")
    return parsed


def _collect(session: Any, frame: Any, tag: str, seconds: float) -> list[Any]:
    """``frame.collect()``, interrupted at ``seconds``: by its tag on Spark Connect, by its
    job group on a classic session (whose ``interruptTag`` left a collect running to the
    end: measured, a 4,000-task query ran 278 s past a 1 s limit)."""
    tagged = type(session).__module__.startswith("pyspark.sql.connect")
    if tagged:
        session.addTag(tag)
        stop = threading.Timer(seconds, session.interruptTag, args=(tag,))
    else:
        context = session.sparkContext
        context.setJobGroup(tag, "chatkit-notebook query", interruptOnCancel=True)
        stop = threading.Timer(seconds, context.cancelJobGroup, args=(tag,))
    stop.start()
    try:
        return list(frame.collect())
    except Exception as e:
        if not stop.is_alive():
            msg = f"The query was stopped at its time limit of {seconds:g} s."
            raise QueryRefused(msg, "Aggregate more, or filter first, then try again.") from None
        raise QueryRefused(f"Spark failed: {_spark_line(e)}", _HINT) from None
    finally:
        stop.cancel()
        if tagged:
            session.removeTag(tag)
        else:
            session.sparkContext.setLocalProperty("spark.jobGroup.id", None)
