"""The ``query`` tool over DuckDB: one read, no approval, nothing else ever runs.

Real DuckDB over real pandas, polars, Arrow and numpy data; the hostile statements are the
issue's list, and "runs nothing" is checked where it would show (a file ``COPY`` would
write, a table ``CREATE`` would leave). The server test drives a real turn with a scripted
model through ``server.process``, as the panel does.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset
import pytest
from agents import RunContextWrapper
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.agents import AgentContext
from chatkit.types import ThreadMetadata, WidgetItem, WorkflowItem
from scripted import ChatClient
from stored import read_items

import chatkit_notebook
from chatkit_notebook import NotebookContext
from chatkit_notebook._items import (
    is_approval_card,
    ran_query,
    read_tool_result,
    task_code,
    task_language,
)
from chatkit_notebook.agent import query as Q
from chatkit_notebook.agent.plan import plan_turn
from chatkit_notebook.agent.receipt import is_receipt
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.panel.transcript import thread_markdown
from chatkit_notebook.panel.views import _task_code_html
from chatkit_notebook.previews.sql import QueryRefused, insert_code, run_query
from chatkit_notebook.stores.file import NotebookStore

OPENAI_KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2


@pytest.fixture
def sales() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["north", "south", "north", "east", "south", "north"],
            "amount": [120.0, 80.0, 30.0, 55.0, 20.0, 10.0],
        }
    )


@pytest.fixture
def nb(sales: pd.DataFrame) -> NotebookContext:
    return NotebookContext(namespace={"sales": sales})


def refused(nb: NotebookContext, sql: str, **caps: Any) -> QueryRefused:
    with pytest.raises(QueryRefused) as caught:
        run_query(nb, sql, **caps)
    message = str(caught.value)
    assert message
    assert "\n" not in message, message  # one line, always
    return caught.value


# -- what runs -------------------------------------------------------------------------------


def test_a_group_by_over_a_frame_answers_with_every_row(nb: NotebookContext) -> None:
    sql = "SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY total DESC"
    result = run_query(nb, sql)
    assert result.engine == "duckdb"
    assert result.names == ["sales"]
    assert result.columns == ["region", "total"]
    assert result.rows == [["north", 160.0], ["south", 100.0], ["east", 55.0]]
    assert not result.more


def test_polars_arrow_relations_and_record_arrays_are_tables(sales: pd.DataFrame) -> None:
    records = np.array([(1, 2.5), (2, 3.5)], dtype=[("id", "i8"), ("score", "f8")])
    relation = duckdb.connect().sql("SELECT range AS n FROM range(10)")
    nb = NotebookContext(
        namespace={
            "pl_sales": pl.from_pandas(sales),
            "arrow_sales": pa.Table.from_pandas(sales),
            "batch": pa.RecordBatch.from_pandas(sales),
            "dataset": pyarrow.dataset.dataset(pa.Table.from_pandas(sales)),
            "rel": relation,
            "records": records,
        }
    )
    for name in ("pl_sales", "arrow_sales", "batch", "dataset"):
        assert run_query(nb, f"SELECT SUM(amount) FROM {name}").rows == [[315.0]]
    assert run_query(nb, "SELECT SUM(n) FROM rel").rows == [[45]]
    assert run_query(nb, "SELECT SUM(score) FROM records").rows == [[6.0]]
    joined = run_query(nb, "SELECT COUNT(*) FROM pl_sales JOIN arrow_sales USING (region)")
    assert joined.names == ["arrow_sales", "pl_sales"]


def test_ctes_and_describe_are_reads(nb: NotebookContext) -> None:
    with_cte = "WITH big AS (SELECT * FROM sales WHERE amount > 50) SELECT COUNT(*) FROM big"
    assert run_query(nb, with_cte).rows == [[3]]
    assert [row[0] for row in run_query(nb, "DESCRIBE sales").rows] == ["region", "amount"]


# -- what never runs -------------------------------------------------------------------------


def test_copy_is_refused_and_writes_no_file(nb: NotebookContext, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    error = refused(nb, f"COPY sales TO '{target}'")
    assert "COPY" in str(error)
    error = refused(nb, f"COPY (SELECT * FROM sales) TO '{target}' (FORMAT csv)")
    assert not target.exists()


def test_create_table_is_refused_and_leaves_no_table(nb: NotebookContext) -> None:
    assert "CREATE" in str(refused(nb, "CREATE TABLE t AS SELECT * FROM sales"))
    assert "No variable named 't'" in str(refused(nb, "SELECT * FROM t"))


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "/etc/passwd"),
        ("SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')", "http://127.0.0.1:9"),
        ("SELECT * FROM glob('/etc/*')", "/etc/*"),
        ("SELECT * FROM '/etc/passwd'", "/etc/passwd"),
        ("ATTACH '/tmp/chatkit-query-attack.db' AS x", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("SET threads = 1", "SET"),
        ("PRAGMA version", "PRAGMA"),
        ("INSERT INTO sales VALUES ('west', 1)", "INSERT"),
        ("DROP TABLE sales", "DROP"),
        ("UPDATE sales SET amount = 0", "UPDATE"),
        ("EXPORT DATABASE '/tmp/chatkit-query-attack'", "EXPORT"),
        ("SELECT 1; DROP TABLE sales", "2"),
        ("SELECT 1; SELECT 2", "2"),
        ("CALL pragma_version()", "CALL"),
    ],
)
def test_hostile_statements_are_refused_with_a_reason(
    nb: NotebookContext, sales: pd.DataFrame, sql: str, said: str
) -> None:
    before = sales.copy()
    error = refused(nb, sql)
    assert said in str(error)
    assert error.hint
    pd.testing.assert_frame_equal(sales, before)
    assert not Path("/tmp/chatkit-query-attack.db").exists()
    assert not Path("/tmp/chatkit-query-attack").exists()


def test_a_hidden_private_or_secret_variable_cannot_be_queried(sales: pd.DataFrame) -> None:
    nb = NotebookContext(
        namespace={"sales": sales, "_private": sales, "db_password": sales, "kept": sales},
        hidden={"kept"},
    )
    for name in ("_private", "kept", "nowhere"):
        error = refused(nb, f'SELECT * FROM "{name}"')
        assert f"No variable named {name!r}" in str(error)  # hidden reads as unknown
    assert "secret" in str(refused(nb, "SELECT * FROM db_password"))
    # A name only in a string is not a table: DuckDB's own Python lookup is off.
    assert "No variable named" in str(refused(nb, "SELECT * FROM query('SELECT * FROM kept')"))


def test_a_slow_cross_join_is_interrupted_at_the_time_limit() -> None:
    big = pd.DataFrame({"a": np.arange(200_000)})
    nb = NotebookContext(namespace={"big": big})
    error = refused(nb, "SELECT COUNT(*) FROM big x, big y WHERE x.a + y.a < 0", seconds=0.3)
    assert "time limit of 0.3 s" in str(error)


def test_not_a_table_is_refused_by_type(sales: pd.DataFrame) -> None:
    nb = NotebookContext(namespace={"numbers": [1, 2, 3]})
    assert "list, which query cannot read as a table" in str(refused(nb, "SELECT * FROM numbers"))


# -- bounded and redacted --------------------------------------------------------------------


def test_results_are_bounded_in_rows_and_characters() -> None:
    frame = pd.DataFrame({"n": np.arange(1000), "text": ["x" * 5000] * 1000})
    nb = NotebookContext(namespace={"frame": frame})
    result = run_query(nb, "SELECT * FROM frame", max_rows=7, cell_chars=40)
    assert len(result.rows) == 7
    assert result.more
    assert all(len(row[1]) == 41 for row in result.rows)  # 40 and an ellipsis


def test_secrets_in_a_column_come_back_redacted() -> None:
    keys = pd.DataFrame({"user": ["ann", "bob"], "note": [f"key={OPENAI_KEY}", "none"]})
    keys["api_key"] = ["abc", "def"]
    nb = NotebookContext(namespace={"keys": keys})
    result = run_query(nb, "SELECT * FROM keys")
    text = json.dumps(result.rows)
    assert OPENAI_KEY not in text
    assert "[REDACTED" in result.rows[0][1]
    assert [row[2] for row in result.rows] == ["[REDACTED]", "[REDACTED]"]  # by column name


# -- the tool, the step and the receipt -------------------------------------------------------


async def test_the_tool_shows_the_sql_and_keeps_its_result(
    tmp_path: Path, sales: pd.DataFrame
) -> None:
    store = NotebookStore(tmp_path / "a.chatkit.json")
    nb = NotebookContext(namespace={"sales": sales, "note": OPENAI_KEY})
    thread = ThreadMetadata(id="thr_q", created_at=datetime.now())
    await store.save_thread(thread, nb)
    chat = AgentContext(thread=thread, store=store, request_context=nb)
    sql = "SELECT region, COUNT(*) AS n FROM sales GROUP BY region ORDER BY n DESC, region"
    result = json.loads(await Q._query(RunContextWrapper(chat), sql))
    assert result["sql"] == sql
    assert result["read"] == ["sales"]
    assert result["untrusted_notebook_data"]["rows"][0] == ["north", 3]
    assert chat.workflow_item is not None
    (task,) = chat.workflow_item.workflow.tasks
    assert task_code(task) == sql
    assert task_language(task) == "sql"
    assert task.title == "Queried `sales` with SQL: 3 rows"
    page = await store.load_thread_items(thread.id, None, 10, "asc", nb)
    kept = [ran_query(item) for item in page.data]
    assert [k.sql for k in kept if k is not None] == [sql]

    refusal = json.loads(await Q._query(RunContextWrapper(chat), "DROP TABLE sales"))
    assert "DROP" in refusal["error"]
    assert chat.workflow_item.workflow.tasks[-1].title.startswith("Query refused: ")


def test_the_inserted_code_runs_the_same_query(sales: pd.DataFrame) -> None:
    sql = "SELECT region, SUM(amount) AS total\nFROM sales GROUP BY region ORDER BY region"
    code = insert_code(sql, "duckdb", ["sales"])
    assert code.startswith("import duckdb")
    assert 'duckdb.sql("""' in code
    namespace: dict[str, Any] = {"sales": sales}
    cell = code.replace("duckdb.sql(", "out = duckdb.sql(", 1)
    exec(compile(cell, "<cell>", "exec"), namespace)  # noqa: S102 (the cell a person runs)
    assert namespace["out"]["total"].tolist() == [55.0, 160.0, 100.0]


def test_query_can_be_turned_off_and_then_the_agent_has_no_such_tool() -> None:
    model = ScriptedModel([])
    names = [tool.name for tool in plan_turn(model, None, {}).agent.tools]
    assert "query" in names
    assert "The query tool" in str(plan_turn(model, None, {}).agent.instructions)
    chatkit_notebook.configure(query="off")
    plan = plan_turn(model, None, {})
    assert "query" not in [tool.name for tool in plan.agent.tools]
    assert "query tool" not in str(plan.agent.instructions)
    with pytest.raises(chatkit_notebook.ConfigError, match="'on' or 'off', not 'maybe'"):
        chatkit_notebook.configure(query="maybe")  # type: ignore[arg-type]


async def test_a_turn_answers_through_query_without_a_card(
    store_path: Path, sales: pd.DataFrame
) -> None:
    sql = "SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY total DESC"
    model = ScriptedModel(
        [
            [function_call("query", {"sql": sql}, call_id="q1")],
            [assistant_message("North sold most: 160.")],
        ]
    )
    client = ChatClient(
        NotebookChatServer(NotebookStore(store_path), model=model),
        NotebookContext(namespace={"sales": sales}),
    )
    thread_id, events = await client.create("Which region sold most?")
    items = await read_items(store_path, thread_id)
    assert not [i for i in items if isinstance(i, WidgetItem) and is_approval_card(i)]
    steps = [i for i in items if isinstance(i, WorkflowItem) and not is_receipt(i)]
    (task,) = steps[0].workflow.tasks
    assert task_code(task) == sql
    assert task_language(task) == "sql"
    (receipt,) = [i for i in items if is_receipt(i)]
    lines = [getattr(t, "title", "") for t in receipt.workflow.tasks]
    assert f"Queried `sales` with SQL: {sql} · " in lines[0]
    kept = [read_tool_result(i) for i in items]
    assert any(k is not None and k.tool == "query" and "160" in k.result for k in kept)
    # %chatkit export and the panel show the step's SQL as SQL.
    assert f"```sql\n{sql}\n```" in thread_markdown(items)
    # highlighted as SQL: SELECT is a keyword (the Python lexer would call it a name)
    assert '<span class="k">SELECT</span>' in _task_code_html(task)
    assert any(e.type == "thread.item.done" and "North sold most" in str(e.item) for e in events)
    model.assert_complete()


def test_without_duckdb_the_agent_has_no_query_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # as if the [data] extra were missing
    plan = plan_turn(ScriptedModel([]), None, {})
    assert "query" not in [tool.name for tool in plan.agent.tools]
    assert "query tool" not in str(plan.agent.instructions)
    error = refused(NotebookContext(namespace={}), "SELECT 1")
    assert "DuckDB is not installed" in str(error)
    assert "chatkit-notebook[data]" in error.hint
