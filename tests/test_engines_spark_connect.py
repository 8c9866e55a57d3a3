"""Lazy previews of Spark Connect DataFrames (Databricks, EMR), against a real Spark Connect
server beside the tests (group ``spark_connect``).

A Connect client cannot see the server's jobs, so these tests check what the client can:
the schema and a bounded head come back, nothing is counted, and a read past its time
limit is interrupted through its operation tag (the server is free again at once).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from spark import (  # noqa: F401  (the `spark_connect` fixture and its server)
    spark_connect_fixture,
    spark_connect_server_fixture,
)

from chatkit_notebook import NotebookContext
from chatkit_notebook.agent.sandbox import held_handles, sandbox_namespace
from chatkit_notebook.agent.tools import read_tagged
from chatkit_notebook.previews.engines import NOT_COUNTED
from chatkit_notebook.previews.kinds import kind_of
from chatkit_notebook.previews.values import Caps, describe, rows, summary


@pytest.fixture
def big(spark_connect: Any) -> Any:
    return spark_connect.range(10_000_000).selectExpr("id", "id % 7 AS g", "'x' AS token")


def test_a_connect_frame_is_a_spark_frame_read_lazily(big: Any) -> None:
    assert kind_of(big) == "spark.DataFrame"
    # The first schema request makes a cold server analyse the plan, which can outlast a
    # listing's time limit on a loaded machine: ask once, as the notebook's own cell would.
    assert big.columns == ["id", "g", "token"]
    assert summary(big) == "3 columns, Spark Connect, rows not counted"
    preview = describe(big)
    assert preview.meta["engine"] == "Spark Connect"
    assert preview.meta["row_count"] == NOT_COUNTED
    assert "ran 1 Spark Connect query (limit 1,000); count() was not run" in preview.notes
    columns = {c["name"]: c for c in preview.data["columns"]}
    assert columns["g"]["stats"]["max"] == 6
    assert columns["token"]["values"] == "[REDACTED]"
    window = rows(big, start=7, count=2)
    assert window.data["rows"] == [[7, 0, "[REDACTED]"], [8, 1, "[REDACTED]"]]


def test_a_connect_read_past_its_time_limit_is_interrupted(spark_connect: Any) -> None:
    endless = spark_connect.range(10**13).selectExpr("sum(id % 7) AS total")
    preview = describe(endless, caps=Caps(lazy_seconds=1.0))
    assert (
        "reading rows did not finish within 1 s: its Spark Connect operation was interrupted"
        in preview.notes
    )
    # Interrupted, the server answers the next preview at once (it would otherwise scan
    # for hours on both of its cores).
    started = time.monotonic()
    small = describe(spark_connect.range(10), caps=Caps(lazy_seconds=30.0))
    assert "ran 1 Spark Connect query (limit 1,000); count() was not run" in small.notes
    assert time.monotonic() - started < 30


def test_the_sandbox_shares_a_connect_frame_and_the_card_names_the_session(
    spark_connect: Any, big: Any
) -> None:
    assert sandbox_namespace({"big": big}, set(), {})["big"] is big
    handles = held_handles({"big": big, "spark": spark_connect})
    assert list(handles) == ["spark"]
    assert "Spark Connect session `spark`" in handles["spark"]


def test_an_at_tag_reads_a_connect_frame(big: Any) -> None:
    ((title, result),) = read_tagged(NotebookContext(namespace={"big": big}), ["big"])
    assert title == "Read `big`"
    assert "Spark Connect query" in result
