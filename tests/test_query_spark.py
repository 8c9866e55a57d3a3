"""The ``query`` tool over a classic local Spark session: Spark SQL, proven a query first.

A real ``SparkSession`` (``spark`` fixture, local[2]). "Runs nothing" is checked where it
would show: the table ``INSERT`` or ``DROP`` would touch, the setting ``SET`` would change,
the JAR list ``ADD JAR`` would grow, the cache ``CACHE`` would fill, the jobs a refused
statement would start (the status tracker).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from spark import spark_fixture  # noqa: F401  (the `spark` fixture)

from chatkit_notebook import NotebookContext
from chatkit_notebook.previews.sql import QueryRefused, run_query

OPENAI_KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2


@pytest.fixture
def sales(spark: Any) -> Any:
    rows = [("north", 120.0), ("south", 80.0), ("north", 30.0), ("east", 55.0)]
    return spark.createDataFrame(rows, ["region", "amount"])


@pytest.fixture
def kept_table(spark: Any) -> Any:
    """A real catalog table the hostile statements aim at."""
    spark.sql("CREATE TABLE IF NOT EXISTS kept_table (n INT) USING parquet")
    spark.sql("INSERT OVERWRITE kept_table VALUES (1), (2)")
    yield "kept_table"
    spark.sql("DROP TABLE IF EXISTS kept_table")


def refused(nb: NotebookContext, sql: str, **caps: Any) -> str:
    with pytest.raises(QueryRefused) as caught:
        run_query(nb, sql, **caps)
    message = str(caught.value)
    assert message
    assert "\n" not in message, message
    return message


def test_a_group_by_runs_as_spark_sql_in_the_frames_session(spark: Any, sales: Any) -> None:
    nb = NotebookContext(namespace={"sales": sales})
    sql = "SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY total DESC"
    result = run_query(nb, sql)
    assert result.engine == "spark"
    assert result.names == ["sales"]
    assert result.rows == [["north", 150.0], ["south", 80.0], ["east", 55.0]]
    assert not spark.catalog.tableExists("sales")  # the temporary view is gone
    with_cte = "WITH big AS (SELECT * FROM sales WHERE amount > 50) SELECT COUNT(*) AS n FROM big"
    assert run_query(nb, with_cte).rows == [[3]]


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        ("INSERT INTO kept_table SELECT 3 FROM sales", "Spark parses this as InsertInto"),
        ("DROP TABLE kept_table -- sales", "Spark parses this as DropTable"),
        ("DROP VIEW sales", "Spark parses this as DropView"),
        ("SET spark.sql.shuffle.partitions = 7 -- sales", "Spark parses this as Set"),
        ("ADD JAR /tmp/chatkit-attack.jar -- sales", "Spark parses this as AddJars"),
        ("CACHE TABLE kept_table -- sales", "Spark parses this as CacheTable"),
        ("CACHE TABLE cached AS SELECT * FROM sales", "Spark parses this as CacheTable"),
        ("SELECT reflect('java.lang.System', 'exit', 1) FROM sales", "reflect()"),
        ("SELECT java_method('java.lang.Runtime', 'getRuntime') FROM sales", "java_method()"),
        (
            "SELECT IDENTIFIER('ref' || 'lect')('java.lang.System', 'exit', 1) FROM sales",
            "identifier",
        ),
        ("SELECT * FROM sales; DROP TABLE kept_table", "could not parse"),
        ("SELECT * FROM kept_table JOIN sales", "not 'kept_table'"),
        ("SELECT * FROM parquet.`/tmp` JOIN sales", "not 'parquet./tmp'"),
        ("SELECT * FROM range(10) JOIN sales", "table functions"),
    ],
)
def test_hostile_spark_sql_is_refused_and_runs_nothing(
    spark: Any, sales: Any, kept_table: str, sql: str, said: str
) -> None:
    nb = NotebookContext(namespace={"sales": sales})
    partitions = spark.conf.get("spark.sql.shuffle.partitions")
    tracker = spark.sparkContext.statusTracker()
    before = set(tracker.getJobIdsForGroup(None))
    assert said in refused(nb, sql)
    assert set(tracker.getJobIdsForGroup(None)) == before  # no job started
    assert spark.table(kept_table).count() == 2  # not dropped, nothing inserted
    assert spark.conf.get("spark.sql.shuffle.partitions") == partitions
    assert not spark.catalog.isCached(kept_table)
    assert not spark.catalog.tableExists("cached")
    jars = spark.sparkContext._jsc.sc().listJars()
    assert "chatkit-attack" not in str(jars)
    assert not spark.catalog.tableExists("sales")


def test_a_name_already_taken_in_the_session_is_refused(spark: Any, sales: Any) -> None:
    spark.range(3).createOrReplaceTempView("sales")
    try:
        nb = NotebookContext(namespace={"sales": sales})
        assert "already has a table or view named 'sales'" in refused(nb, "SELECT * FROM sales")
        assert spark.table("sales").count() == 3  # the user's own view is untouched
    finally:
        spark.catalog.dropTempView("sales")


def test_hidden_frames_are_not_queried(sales: Any) -> None:
    nb = NotebookContext(namespace={"sales": sales}, hidden={"sales"})
    assert "No variable named 'sales'" in refused(nb, "SELECT * FROM sales")


def test_results_are_bounded_and_redacted(spark: Any) -> None:
    frame = spark.createDataFrame(
        [(n, f"key={OPENAI_KEY}", "x" * 500) for n in range(100)], ["n", "note", "long"]
    )
    nb = NotebookContext(namespace={"frame": frame})
    result = run_query(nb, "SELECT * FROM frame ORDER BY n", max_rows=5, cell_chars=30)
    assert len(result.rows) == 5
    assert result.more
    assert OPENAI_KEY not in str(result.rows)
    assert all("[REDACTED" in row[1] for row in result.rows)
    assert all(len(row[2]) == 31 for row in result.rows)


def test_a_slow_query_is_cancelled_at_the_time_limit(spark: Any, tmp_path: Path) -> None:
    # Minutes of work in many short tasks (a cancelled job stops at its tasks' ends), no memory.
    big = spark.range(0, 400_000_000_000, numPartitions=4000)
    nb = NotebookContext(namespace={"big": big})
    sql = "SELECT COUNT(*) FROM big WHERE id % 7 = 3"
    assert "time limit of 1 s" in refused(nb, sql, seconds=1.0)
    tracker = spark.sparkContext.statusTracker()
    assert tracker.getActiveJobsIds() == []  # cancelled, not left running


async def test_a_question_about_a_spark_frame_is_answered_through_the_server(
    spark: Any, sales: Any, store_path: Path
) -> None:
    from agents.testing import ScriptedModel, assistant_message, function_call
    from chatkit.types import WidgetItem, WorkflowItem
    from scripted import ChatClient
    from stored import read_items

    from chatkit_notebook._items import is_approval_card, task_code
    from chatkit_notebook.agent.receipt import is_receipt
    from chatkit_notebook.agent.server import NotebookChatServer
    from chatkit_notebook.stores.file import NotebookStore

    sql = "SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY total DESC"
    model = ScriptedModel(
        [
            [function_call("query", {"sql": sql}, call_id="q1")],
            [assistant_message("North: 150.")],
        ]
    )
    client = ChatClient(
        NotebookChatServer(NotebookStore(store_path), model=model),
        NotebookContext(namespace={"sales": sales}),
    )
    thread_id, _ = await client.create("Which region sold most?")
    assert spark.sparkContext.statusTracker().getActiveJobsIds() == []
    assert spark.getTags() == set()  # the query's tag was removed
    items = await read_items(store_path, thread_id)
    assert not [i for i in items if isinstance(i, WidgetItem) and is_approval_card(i)]
    (step,) = [i for i in items if isinstance(i, WorkflowItem) and not is_receipt(i)]
    assert step.workflow.tasks[0].title == "Queried `sales` with Spark SQL: 3 rows"
    assert task_code(step.workflow.tasks[0]) == sql
    (receipt,) = [i for i in items if is_receipt(i)]
    assert f"with Spark SQL: {sql}" in str(receipt.workflow.tasks[0].title)
    model.assert_complete()
