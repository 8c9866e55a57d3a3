"""Lazy previews of Arrow, DuckDB and Dask values (previews/engines.py), with the real
libraries: what is read (schema, a bounded head), what is never run (a count, a full
compute), the time limit, and the sandbox's handling of these values.

Dask partitions are counted by the partition function itself (a ``map_partitions``
counter), so a preview that computed more of the frame than it says fails here.
Spark has its own files (test_engines_spark.py, test_engines_spark_connect.py): PySpark
holds one kind of session per process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import dask.array as da
import dask.dataframe as dd
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from scripted import ChatClient, answer_text

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook.agent.run_python import is_approval_card
from chatkit_notebook.agent.sandbox import held_handles, reaches, sandbox_namespace
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.agent.tools import read_tagged
from chatkit_notebook.previews.engines import NOT_COUNTED
from chatkit_notebook.previews.values import Caps, PreviewError, describe, rows, summary


class Counted:
    """A Dask frame of ``partitions`` partitions whose partition function counts the
    partitions computed (and can be held, to stand for a slow read)."""

    def __init__(self, partitions: int = 100, rows_each: int = 1_000) -> None:
        n = partitions * rows_each
        frame = pd.DataFrame(
            {"id": np.arange(n), "g": np.arange(n) % 7, "api_key": ["sk-not-shown"] * n}
        )
        self.computed = 0
        self.hold = threading.Event()
        self.hold.set()
        self._lock = threading.Lock()
        self.frame = dd.from_pandas(frame, npartitions=partitions).map_partitions(
            self._count, meta=frame.iloc[:0]
        )

    def __dask_tokenize__(self) -> int:
        return id(self)  # one counter, one frame

    def _count(self, part: pd.DataFrame) -> pd.DataFrame:
        self.hold.wait(30)
        with self._lock:
            self.computed += 1
        return part


def test_a_dask_frame_preview_reads_one_of_100_partitions_and_says_so() -> None:
    counted = Counted()
    preview = describe(counted.frame)
    assert counted.computed == 1
    assert preview.meta["partitions"] == 100
    assert preview.meta["row_count"] == NOT_COUNTED
    assert preview.meta["divisions"] == {"known": True, "first": "0", "last": "99999"}
    assert "read 1 of 100 partitions" in preview.notes
    assert "stats come from the 1,000 rows read, not the whole frame" in preview.notes
    by_name = {c["name"]: c for c in preview.data["columns"]}
    assert by_name["id"]["stats"]["max"] == 999  # the first partition's, labelled as such
    assert by_name["api_key"] == {"name": "api_key", "dtype": "str", "values": "[REDACTED]"}
    assert preview.data["head"]["rows"][0] == [0, 0, "[REDACTED]"]


def test_dask_rows_past_the_first_partition_read_at_most_two() -> None:
    counted = Counted(rows_each=10)
    window = rows(counted.frame, start=8, count=5, columns=["g"])
    assert counted.computed <= 2
    assert window.meta["rows"] == [8, 13]
    assert window.data["rows"] == [[1], [2], [3], [4], [5]]
    assert window.data["index"] == [8, 9, 10, 11, 12]  # the frame's own index labels
    assert "read 2 of 100 partitions" in window.notes


def test_listing_dask_and_arrow_values_computes_nothing() -> None:
    counted = Counted()
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    array = da.ones((1_000, 10), chunks=(100, 10))
    assert summary(counted.frame) == "3 columns, 100 partitions, rows not counted"
    assert summary(counted.frame["g"]) == "1 column, 100 partitions, rows not counted"
    assert summary(table) == "3 rows \u00d7 2 columns"
    assert summary(array) == "shape (1,000 \u00d7 10), float64, 10 chunks"
    assert counted.computed == 0


def test_a_slow_dask_read_is_cut_off_by_the_time_limit_and_says_it_could_not_cancel() -> None:
    counted = Counted()
    counted.hold.clear()
    try:
        preview = describe(counted.frame, caps=Caps(lazy_seconds=0.3))
    finally:
        counted.hold.set()  # the abandoned read finishes its one partition
    assert preview.data["columns"][0] == {"name": "id", "dtype": "int64"}  # schema all the same
    assert "head" not in preview.data
    (note,) = [n for n in preview.notes if "did not finish" in n]
    assert note == (
        "reading rows did not finish within 0.3 s: it could not be cancelled and may still run"
    )


def test_a_dask_array_reads_its_first_chunk() -> None:
    array = da.from_array(np.arange(10_000).reshape((1_000, 10)), chunks=(100, 10))
    preview = describe(array)
    assert preview.meta["chunks"] == 10
    assert preview.meta["shape"] == [1_000, 10]
    assert "read 1 of 10 chunks" in preview.notes
    assert preview.data["stats"] == {"min": 0, "max": 999, "mean": 499.5}
    assert preview.data["head"][1][:3] == [10, 11, 12]
    window = rows(array, start=-2, count=2)
    assert window.data["rows"][1][:2] == [9_990, 9_991]


def test_an_arrow_table_is_counted_and_sampled_evenly_with_exact_nulls() -> None:
    n = 100_000
    table = pa.table(
        {"x": pa.array(np.arange(n)), "y": pa.array([None if i % 4 else 1.0 for i in range(n)])}
    )
    preview = describe(table)
    assert preview.meta["row_count"] == n
    x, y = preview.data["columns"]
    assert y["nulls"] == 75_000  # Arrow's own null count, not the sample's
    assert x["stats"]["max"] == n - 1  # an evenly spaced sample reaches the end
    assert "stats come from an evenly spaced sample of 10,000 of 100,000 rows" in preview.notes
    assert rows(table, start=-2, count=2).data["rows"] == [[n - 2, "NaN"], [n - 1, "NaN"]]


def test_a_parquet_dataset_is_counted_from_metadata_and_read_from_its_head(tmp_path: Path) -> None:
    for i in range(3):
        pq.write_table(
            pa.table({"v": np.arange(i * 1_000, (i + 1) * 1_000)}), tmp_path / f"{i}.parquet"
        )
    dataset = pads.dataset(tmp_path)
    preview = describe(dataset)
    assert preview.meta["row_count"] == 3_000
    assert preview.meta["files"] == 3
    assert "rows counted from the Parquet files' metadata" in preview.notes
    assert rows(dataset, start=999, count=2).data["rows"] == [[999], [1_000]]


def test_a_duckdb_relation_runs_with_a_limit_and_is_never_counted() -> None:
    con = duckdb.connect()
    rel = con.sql("select range as id, range % 3 as g, 'secret' as password from range(10000000)")
    assert summary(rel) == "3 columns, rows not counted"
    preview = describe(rel)
    assert preview.meta["row_count"] == NOT_COUNTED
    assert "ran the relation with LIMIT 1,000 OFFSET 0" in preview.notes
    assert preview.data["columns"][2]["values"] == "[REDACTED]"
    window = rows(rel, start=5, count=2)
    assert window.data["rows"] == [[5, 2, "[REDACTED]"], [6, 0, "[REDACTED]"]]
    with pytest.raises(PreviewError, match="not known without counting"):
        rows(rel, start=-5, count=2)
    with pytest.raises(PreviewError, match="first 10,000 rows"):
        rows(rel, start=50_000, count=2)


def test_the_previews_import_none_of_the_engines() -> None:
    # A value's library is looked up in sys.modules, never imported: a notebook that does
    # not use Spark never pays for importing it (nor for Dask, DuckDB, Arrow).
    code = textwrap.dedent(
        """
        import sys
        from chatkit_notebook.previews.values import describe, summary
        for v in (1, "s", [1], {"a": 1}, object()):
            summary(v); describe(v)
        print([m for m in ("pyspark", "dask", "duckdb", "pyarrow") if m in sys.modules])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


# -- the sandbox -------------------------------------------------------------------------------


def test_the_sandbox_shares_arrow_and_dask_values_without_computing_them() -> None:
    counted = Counted()
    table = pa.table({"a": [1]})
    namespace = sandbox_namespace({"ddf": counted.frame, "t": table}, set(), {})
    assert namespace["ddf"] is counted.frame
    assert namespace["t"] is table
    assert counted.computed == 0


def test_the_card_names_a_duckdb_connection_the_code_uses_but_not_one_it_makes() -> None:
    con = duckdb.connect()
    rel = con.sql("select 1 as a")
    handles = held_handles({"con": con, "rel": rel, "df": pd.DataFrame()})
    assert set(handles) == {"con", "rel"}
    lines = reaches('con.execute("create table t as select 1")', {"con"}, handles)
    assert lines == [
        "uses your DuckDB connection `con`, which the sandbox cannot protect: "
        "it can write tables and files"
    ]
    assert "DuckDB relation `rel`" in reaches("rel.to_table('kept')", {"rel"}, handles)[0]
    own = reaches("import duckdb\ncon = duckdb.connect()\ncon.sql('select 1')", {"con"}, handles)
    assert own == ["imports `duckdb`: a database (DuckDB can read and write files)"]
    assert reaches("df.write.mode('overwrite').parquet('/tmp/x')") == [
        "writes data through Spark: `df.write.mode('overwrite').parquet('/tmp/x')`"
    ]


# -- end to end: a turn through the server ----------------------------------------------------


def tool_outputs(model: ScriptedModel, call: int) -> list[str]:
    return [
        str(item["output"])
        for item in model.calls[call].input
        if isinstance(item, dict) and item.get("type") == "function_call_output"
    ]


async def test_a_question_about_a_dask_frame_is_answered_through_the_server(
    store_path: Path,
) -> None:
    counted = Counted()
    con = duckdb.connect()
    namespace: dict[str, Any] = {
        "events": counted.frame,
        "table": pa.table({"a": [1, 2]}),
        "rel": con.sql("select range as r from range(100)"),
        "array": da.ones((100, 2), chunks=(10, 2)),
    }
    model = ScriptedModel(
        [
            [function_call("list_variables", {}, call_id="c1")],
            [function_call("describe_variable", {"name": "events"}, call_id="c2")],
            [
                function_call(
                    "preview_rows", {"name": "events", "start": 3, "count": 2}, call_id="c3"
                )
            ],
            [assistant_message("events has 100 partitions; g runs 0 to 6 in the first one.")],
        ]
    )
    server = NotebookChatServer(NotebookStore(store_path), model=model)
    client = ChatClient(server, NotebookContext(namespace=namespace))
    _, events = await client.create("What is in events?")
    assert answer_text(events) == ["events has 100 partitions; g runs 0 to 6 in the first one."]
    listing = json.loads(tool_outputs(model, 1)[0])
    assert listing["untrusted_notebook_data"]["variables"]["events"].endswith(
        "3 columns, 100 partitions, rows not counted"
    )
    described = tool_outputs(model, 2)[1]
    assert "read 1 of 100 partitions" in described
    window = json.loads(tool_outputs(model, 3)[2])
    assert window["untrusted_notebook_data"]["rows"] == [[3, 3, "[REDACTED]"], [4, 4, "[REDACTED]"]]
    assert counted.computed == 2  # one partition for describe, one for the rows: none to list


def test_an_at_tag_reads_a_dask_frame_lazily() -> None:
    counted = Counted()
    ((title, result),) = read_tagged(
        NotebookContext(namespace={"events": counted.frame}), ["events"]
    )
    assert title == "Read `events`"
    assert "read 1 of 100 partitions" in result
    assert counted.computed == 1


def test_a_polars_lazyframe_collects_a_slice_and_is_never_collected_whole() -> None:
    import polars as pl

    lf = pl.LazyFrame({"a": list(range(50_000))}).with_columns(b=pl.col("a") % 3)
    assert summary(lf) == "2 columns, rows not counted"
    preview = describe(lf)
    assert preview.meta["row_count"] == NOT_COUNTED
    assert "collected a slice of 1,000 rows (the plan up to it runs)" in preview.notes
    assert preview.data["columns"][1]["stats"]["max"] == 2
    assert rows(lf, start=4, count=2, columns=["b"]).data["rows"] == [[1], [2]]


def test_a_column_with_a_secret_name_is_never_read() -> None:
    # Reading the column would run error(): a preview that reads it fails loudly.
    rel = duckdb.connect().sql("select range as id, error('read') as api_token from range(10)")
    with pytest.raises(duckdb.Error, match="read"):
        rel.limit(1).fetchall()
    preview = describe(rel)
    assert preview.data["columns"][1]["values"] == "[REDACTED]"
    assert "stats" not in preview.data["columns"][1]
    assert preview.data["head"]["rows"][0] == [0, "[REDACTED]"]
    assert rows(rel, start=1, count=1).data["rows"] == [[1, "[REDACTED]"]]
    with pytest.raises(PreviewError, match="secret's name"):
        rows(rel, columns=["api_token"])


async def test_the_card_through_the_server_names_the_users_duckdb_connection(
    store_path: Path,
) -> None:
    con = duckdb.connect()
    model = ScriptedModel(
        [[function_call("run_python", {"code": "con.execute('DROP TABLE t')"}, call_id="c1")]]
    )
    server = NotebookChatServer(NotebookStore(store_path), model=model)
    client = ChatClient(server, NotebookContext(namespace={"con": con}))
    _, events = await client.create("Tidy up")
    (card,) = [e.item for e in events if e.type == "thread.item.done" and is_approval_card(e.item)]
    text = json.dumps(card.widget.model_dump(exclude_none=True))
    assert "uses your DuckDB connection `con`, which the sandbox cannot protect" in text
