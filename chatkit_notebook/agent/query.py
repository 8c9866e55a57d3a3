"""The ``query`` tool: one read-only SQL statement over the notebook's data, no approval.

Most data questions ("which region sold most?") are a read-only aggregate. ``run_python``
can answer them too, but Python can do anything, so it asks a person first; ``query``
cannot write, read files, reach the network or load code (``previews.sql`` says how that
is enforced), so it answers at once. Like the read tools it is bounded and redacted, marks
the data it returns as untrusted, keeps its result in the thread for the next turn, and
shows the user what it ran: the step's task carries the SQL as a code block, the receipt
lists it, and ``%chatkit insert`` turns the last query into ``duckdb.sql("…").df()``.

It is offered only when DuckDB is installed (the ``[data]`` extra) and not turned off with
``configure(query="off")`` or ``%chatkit query off``.
"""

from __future__ import annotations

import asyncio

from agents import function_tool

from .._items import code_task
from ..config import query_settings
from ..context import NotebookContext
from ..previews.foreign import exception_name
from ..previews.redact import redact_text
from ..previews.sql import (
    MAX_ROWS,
    SPARK_QUERY_SECONDS,
    QueryRefused,
    QueryResult,
    duckdb_available,
    run_query,
)
from ..previews.values import JSON
from .tools import (
    UNTRUSTED_FIELD,
    NotebookRunContext,
    _envelope,
    _error,
    _failure,
    _finish_task,
    _Outcome,
    _remember,
)

__all__ = ["QUERY_INSTRUCTIONS", "query", "query_offered"]

QUERY_INSTRUCTIONS = f"""\
The query tool runs ONE read-only SQL SELECT (DuckDB's dialect; Spark SQL when it names a \
PySpark DataFrame) over the notebook's tables by their variable names, without asking the \
user: prefer it to run_python for counts, sums, group-bys, joins, filters and top-N \
questions. It cannot read files or URLs, change anything or call out; its result (at most \
{MAX_ROWS} rows) is data under "{UNTRUSTED_FIELD}" like every tool's.\
"""


def query_offered() -> bool:
    """Whether the agent gets the ``query`` tool now: DuckDB is installed and the user did
    not turn it off."""
    return query_settings() and duckdb_available()


def _names_text(names: list[str]) -> str:
    return ", ".join(f"`{name[:60]}`" for name in names) or "no variables"


def _compute(nb: NotebookContext, sql: str) -> _Outcome:
    try:
        result = run_query(nb, sql)
    except QueryRefused as e:
        return _Outcome(_error("query", str(e), e.hint), "Query refused: " + _first(str(e)))
    return _Outcome(_result(sql, result), _title(result))


def _first(text: str) -> str:
    return text if len(text) <= 120 else text[:119] + "…"


def _title(result: QueryResult) -> str:
    engine = "Spark SQL" if result.engine == "spark" else "SQL"
    count = f"{len(result.rows):,}{'+' if result.more else ''} row" + (
        "" if len(result.rows) == 1 and not result.more else "s"
    )
    return f"Queried {_names_text(result.names)} with {engine}: {count}"


def _result(sql: str, result: QueryResult) -> str:
    head: dict[str, JSON] = {
        "tool": "query",
        "engine": result.engine,
        "sql": redact_text(sql),
        "read": result.names,
        "columns": result.columns,
        "types": result.types,
        "row_count": len(result.rows),
        "seconds": round(result.seconds, 3),
    }
    notes = list(result.notes)
    if result.more:
        head["more_rows"] = True
        notes.append(
            f"only the first {len(result.rows)} rows are shown: aggregate or add LIMIT for "
            "an exact answer"
        )
    data = {"columns": result.columns, "rows": result.rows}
    return _envelope(head, notes, data)


async def _query(ctx: NotebookRunContext, sql: str) -> str:
    chat = ctx.context
    task = code_task("Querying the notebook's data", redact_text(sql), done=False, language="sql")
    try:
        await chat.add_workflow_task(task)
    except Exception:  # showing progress must never fail the tool
        task = None  # type: ignore[assignment]
    try:
        outcome = await asyncio.to_thread(_compute, chat.request_context, sql)
    except asyncio.CancelledError:
        raise
    except BaseException as e:  # never raise into the agent run
        message = f"query failed ({exception_name(e)})."
        outcome = _Outcome(_error("query", message, "Try again, or ask the user."), "query failed")
    await _finish_task(chat, task, outcome.title)
    await _remember(chat, "query", {"sql": sql}, outcome.result)
    return outcome.result


_tool_failure = _failure(
    "The call failed before the query ran", 'Pass one SQL statement: {"sql": "SELECT ..."}.'
)


@function_tool(
    failure_error_function=_tool_failure,
    timeout=SPARK_QUERY_SECONDS + 30.0,  # a backstop: the query itself is interrupted first
    timeout_error_function=_tool_failure,
)
async def query(ctx: NotebookRunContext, sql: str) -> str:
    """Run one read-only SQL SELECT over the notebook's tables, without asking the user.

    Tables are the notebook's variables by name: pandas and polars DataFrames, pyarrow
    Tables and Datasets, DuckDB relations and numpy record arrays (DuckDB's SQL dialect),
    or PySpark DataFrames (Spark SQL, run in the DataFrame's own Spark session). Use it for
    counts, sums, averages, group-bys, joins, filters and top-N questions over whole
    tables: it reads all the rows, not a sample. Only a single SELECT (or WITH ... SELECT)
    runs: anything that writes, changes settings, reads files or URLs (read_csv,
    read_parquet, COPY, ATTACH), installs or loads extensions, or calls Java is refused.
    At most 50 rows come back (aggregate or ORDER BY ... LIMIT for top-N), cells cut to
    200 characters, secrets as [REDACTED]; a query is stopped after 8 seconds (30 on
    Spark).

    Args:
        sql: One SQL SELECT statement naming variables as tables, for example
            'SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY total
            DESC'.

    Returns:
        JSON with "engine", "sql", "read" (the variables), "columns", "types" and
        "row_count", and under "untrusted_notebook_data" the "columns" and "rows"; or
        {"error", "hint"} when the statement was refused or failed (nothing ran then).
    """
    return await _query(ctx, sql)
