"""Lazy previews of classic Spark DataFrames, on a real local Spark session (group ``spark``).

Jobs are counted with the session's status tracker: Spark numbers jobs in order, so a
marker job (one ``collect`` in a job group of its own) before and after an action tells
how many jobs ran in between, whoever started them. Listing a Spark frame must start none;
describing or previewing a 10-million-row frame at most one; a preview that runs past its
time limit cancels its job.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from scripted import ChatClient, answer_text
from spark import spark_fixture  # noqa: F401  (the `spark` fixture)

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook.agent.sandbox import held_handles, reaches, sandbox_namespace
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.agent.tools import read_tagged
from chatkit_notebook.previews.engines import NOT_COUNTED
from chatkit_notebook.previews.values import Caps, describe, rows, summary

BIG = 10_000_000


def marker(spark: Any) -> int:
    """Run one job in a group of its own and return its id."""
    sc = spark.sparkContext
    group = f"marker-{uuid.uuid4().hex}"
    sc.setJobGroup(group, "test marker")
    try:
        spark.range(1).collect()
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    (job,) = sc.statusTracker().getJobIdsForGroup(group)
    return int(job)


def jobs_started(spark: Any, action: Callable[[], Any]) -> tuple[int, Any]:
    """How many Spark jobs ``action`` started, and what it returned."""
    before = marker(spark)
    result = action()
    after = marker(spark)
    return after - before - 1, result


@pytest.fixture
def big(spark: Any) -> Any:
    return spark.range(BIG).selectExpr("id", "id % 7 AS g", "rand(1) AS v", "'hunter2' AS password")


def test_listing_a_spark_frame_starts_no_job(spark: Any, big: Any) -> None:
    jobs, line = jobs_started(spark, lambda: summary(big))
    assert jobs == 0
    assert line == "4 columns, Spark, rows not counted"


def test_describing_ten_million_rows_starts_one_job_and_never_counts(spark: Any, big: Any) -> None:
    jobs, preview = jobs_started(spark, lambda: describe(big))
    assert jobs == 1
    assert preview.meta["row_count"] == NOT_COUNTED
    assert preview.meta["engine"] == "Spark"
    assert "ran 1 Spark job (limit 1,000); count() was not run" in preview.notes
    assert "stats come from the 1,000 rows read, not the whole frame" in preview.notes
    columns = {c["name"]: c for c in preview.data["columns"]}
    assert columns["id"]["dtype"] == "bigint"
    assert columns["id"]["stats"]["max"] == 999
    assert columns["password"] == {"name": "password", "dtype": "string", "values": "[REDACTED]"}
    assert preview.data["head"]["rows"][2][:2] == [2, 2]


def test_a_window_of_rows_starts_one_job(spark: Any, big: Any) -> None:
    jobs, window = jobs_started(spark, lambda: rows(big, start=100, count=3, columns=["g", "id"]))
    assert jobs == 1
    assert window.data["columns"] == ["g", "id"]
    assert window.data["rows"] == [[2, 100], [3, 101], [4, 102]]
    assert window.data["index"] == [100, 101, 102]


def test_a_preview_past_its_time_limit_cancels_its_job(spark: Any) -> None:
    endless = spark.range(10**13).selectExpr("sum(id % 7) AS total")  # a full scan: hours
    before = marker(spark)
    preview = describe(endless, caps=Caps(lazy_seconds=1.0))
    assert (
        "reading rows did not finish within 1 s: its Spark job group was cancelled" in preview.notes
    )
    tracker = spark.sparkContext.statusTracker()
    deadline = time.monotonic() + 60

    def status() -> str:
        info = tracker.getJobInfo(before + 1)
        return "UNKNOWN" if info is None else str(info.status)

    # The tracker learns of the job and its cancel through Spark's listener bus, which
    # runs behind: poll it (a hang detector, not pacing).
    while status() in ("UNKNOWN", "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status() == "FAILED"  # cancelled, not finished
    assert tracker.getActiveJobsIds() == []


def test_the_sandbox_shares_a_spark_frame_and_the_card_names_the_session(
    spark: Any, big: Any
) -> None:
    namespace = sandbox_namespace({"big": big, "spark": spark}, set(), {})
    assert namespace["big"] is big
    handles = held_handles({"big": big, "spark": spark})
    assert set(handles) == {"spark"}
    assert reaches("spark.sql('DROP TABLE sales')", {"spark"}, handles) == [
        "uses your Spark session `spark`, which the sandbox cannot protect: "
        "it can write tables and files"
    ]


def test_an_at_tag_reads_a_spark_frame_with_one_job(spark: Any, big: Any) -> None:
    jobs, tagged = jobs_started(
        spark, lambda: read_tagged(NotebookContext(namespace={"big": big}), ["big"])
    )
    ((title, result),) = tagged
    assert jobs == 1
    assert title == "Read `big`"
    assert "ran 1 Spark job" in result


def tool_outputs(model: ScriptedModel, call: int) -> list[str]:
    return [
        str(item["output"])
        for item in model.calls[call].input
        if isinstance(item, dict) and item.get("type") == "function_call_output"
    ]


async def test_a_question_about_a_spark_frame_is_answered_through_the_server(
    spark: Any, big: Any, store_path: Path
) -> None:
    model = ScriptedModel(
        [
            [function_call("list_variables", {}, call_id="c1")],
            [function_call("describe_variable", {"name": "big"}, call_id="c2")],
            [function_call("preview_rows", {"name": "big", "count": 2}, call_id="c3")],
            [assistant_message("big has 4 columns; g cycles 0 to 6.")],
        ]
    )
    server = NotebookChatServer(NotebookStore(store_path), model=model)
    client = ChatClient(server, NotebookContext(namespace={"big": big, "spark": spark}))
    jobs, (_, events) = await _async_jobs(spark, client.create("What is in big?"))
    assert answer_text(events) == ["big has 4 columns; g cycles 0 to 6."]
    assert jobs == 2  # describe_variable 1, preview_rows 1, list_variables none
    listing = json.loads(tool_outputs(model, 1)[0])
    assert listing["untrusted_notebook_data"]["variables"]["big"].endswith(
        "4 columns, Spark, rows not counted"
    )
    assert "ran 1 Spark job (limit 1,000)" in tool_outputs(model, 2)[1]
    window = json.loads(tool_outputs(model, 3)[2])
    assert window["untrusted_notebook_data"]["rows"] == [
        [0, 0, window["untrusted_notebook_data"]["rows"][0][2], "[REDACTED]"],
        [1, 1, window["untrusted_notebook_data"]["rows"][1][2], "[REDACTED]"],
    ]


async def _async_jobs(spark: Any, turn: Any) -> tuple[int, Any]:
    before = marker(spark)
    result = await turn
    after = marker(spark)
    return after - before - 1, result


def test_columns_that_share_a_name_are_described_but_not_read(spark: Any) -> None:
    twins = spark.range(3).selectExpr("id", "id * 2 AS id")
    jobs, preview = jobs_started(spark, lambda: describe(twins))
    assert jobs == 0
    assert [c["name"] for c in preview.data["columns"]] == ["id", "id"]
    assert "no rows read: columns that share a name cannot be selected apart" in " ".join(
        preview.notes
    )
