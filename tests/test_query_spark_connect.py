"""The ``query`` tool over Spark Connect, the session Databricks and EMR notebooks hold.

A real Spark Connect server (``spark_connect`` fixture: pyspark's own ``spark-submit`` on
127.0.0.1) and a remote session of it. Connect has no parse-only call, so the statement is
sent as a subquery, where only a query parses: commands are refused by Spark's parser and
change nothing on the server (checked on the server's own catalog and settings).
"""

from __future__ import annotations

from typing import Any

import pytest
from spark import (  # noqa: F401  (the `spark_connect` fixture and its server)
    spark_connect_fixture,
    spark_connect_server_fixture,
)

from chatkit_notebook import NotebookContext
from chatkit_notebook.previews.sql import QueryRefused, run_query

OPENAI_KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2


@pytest.fixture
def sales(spark_connect: Any) -> Any:
    rows = [("north", 120.0, f"key={OPENAI_KEY}"), ("south", 80.0, ""), ("north", 30.0, "")]
    return spark_connect.createDataFrame(rows, ["region", "amount", "note"])


@pytest.fixture
def kept_table(spark_connect: Any) -> Any:
    spark_connect.sql("CREATE TABLE IF NOT EXISTS kept_remote (n INT) USING parquet")
    spark_connect.sql("INSERT OVERWRITE kept_remote VALUES (1), (2)")
    yield "kept_remote"
    spark_connect.sql("DROP TABLE IF EXISTS kept_remote")


def refused(nb: NotebookContext, sql: str, **caps: Any) -> str:
    with pytest.raises(QueryRefused) as caught:
        run_query(nb, sql, **caps)
    message = str(caught.value)
    assert message
    assert "\n" not in message, message
    return message


def test_a_group_by_runs_on_the_connect_server(spark_connect: Any, sales: Any) -> None:
    nb = NotebookContext(namespace={"sales": sales})
    sql = "SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY total DESC"
    result = run_query(nb, sql)
    assert result.engine == "spark"
    assert result.rows == [["north", 150.0], ["south", 80.0]]
    assert "Spark Connect" in result.notes[0]
    assert not spark_connect.catalog.tableExists("sales")  # the view was dropped
    notes = run_query(nb, "SELECT note FROM sales WHERE note <> ''").rows
    assert notes[0][0].startswith("key=[REDACTED")


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        ("INSERT INTO kept_remote SELECT 3 FROM sales", "Spark refused the query"),
        ("DROP TABLE kept_remote -- sales", "Spark refused the query"),
        ("SET spark.sql.shuffle.partitions = 7 -- sales", "Spark refused the query"),
        ("ADD JAR /tmp/chatkit-attack.jar -- sales", "Spark refused the query"),
        ("CACHE TABLE kept_remote -- sales", "Spark refused the query"),
        ("SELECT 1) AS q; DROP TABLE kept_remote; SELECT * FROM (SELECT 1 FROM sales", "Spark"),
        ("SELECT reflect('java.lang.System', 'exit', 1) FROM sales", "reflect()"),
        ("SELECT java_method('java.lang.Runtime', 'getRuntime') FROM sales", "java_method()"),
        (
            "SELECT IDENTIFIER('ref' || 'lect')('java.lang.System', 'exit', 1) FROM sales",
            "identifier",
        ),
        ("SELECT * FROM kept_remote JOIN sales", "not 'kept_remote'"),
    ],
)
def test_hostile_statements_are_refused_and_change_nothing(
    spark_connect: Any, sales: Any, kept_table: str, sql: str, said: str
) -> None:
    nb = NotebookContext(namespace={"sales": sales})
    partitions = spark_connect.conf.get("spark.sql.shuffle.partitions")
    assert said in refused(nb, sql)
    assert spark_connect.table(kept_table).count() == 2
    assert spark_connect.conf.get("spark.sql.shuffle.partitions") == partitions
    assert not spark_connect.catalog.isCached(kept_table)
    assert not spark_connect.catalog.tableExists("sales")


def test_a_slow_query_is_interrupted_by_its_tag(spark_connect: Any) -> None:
    big = spark_connect.range(0, 200_000_000, numPartitions=4)
    nb = NotebookContext(namespace={"big": big})
    sql = "SELECT COUNT(*) FROM big a JOIN big b ON a.id % 1000 = b.id % 1000"
    assert "time limit of 1 s" in refused(nb, sql, seconds=1.0)
    assert spark_connect.getTags() == set()
