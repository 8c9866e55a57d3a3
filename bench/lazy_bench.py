"""Benchmark the lazy previews of big frames against the naive way of looking at them.

Run ``python bench/lazy_bench.py`` from anywhere (``--quick`` for small sizes; ``--out
PATH`` for the Markdown results, default ``bench/LAZY_RESULTS.md``). Needs Java 17 for
Spark. In one run, on one machine, it measures:

- ``describe_variable``'s preview of a 10,000,000-row Spark DataFrame (a classic local
  session, ``local[2]``): Spark jobs started and wall time, beside the naive
  ``df.count()`` + ``df.toPandas().describe()`` (Arrow transfer on);
- the same preview of a 100-partition Dask frame (10,000 rows a partition): partitions
  computed (counted by the partition function) and wall time, beside
  ``ddf.compute().describe()``;
- ``list_variables`` over a namespace holding one of each lazy type (Arrow table and
  dataset, DuckDB relation, Dask frame, series and array, Spark frame) beside a pandas
  frame: wall time, Spark jobs and Dask partitions, once with the Spark frame's schema
  already read (as after the cell that made it showed it) and once with a new Spark frame
  whose schema Spark must analyse first; beside the naive listing that counts each frame's
  rows (``count()``, ``len()``).

Spark jobs are counted with the status tracker: a marker job in a group of its own before
and after each measure (Spark numbers jobs in order). Each figure is the median of several
runs; the naive paths run fewer times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, machine, machine_line, markdown_table

PACKAGES = ("pyspark", "dask", "duckdb", "pyarrow", "pandas")


class Counter:
    """Counts the Dask partitions a computation ran (its partition function counts)."""

    def __init__(self) -> None:
        self.n = 0
        self._lock = threading.Lock()

    def __dask_tokenize__(self) -> int:
        return id(self)

    def __call__(self, part: Any) -> Any:
        with self._lock:
            self.n += 1
        return part


def spark_session(scratch: Path) -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return (
        SparkSession.builder.master("local[2]")
        .appName("chatkit-notebook lazy bench")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.local.dir", str(scratch))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # The naive toPandas() of 10M rows runs out of the default 1 GiB driver heap.
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )


def marker(spark: Any) -> int:
    """Run one job in a group of its own; its id (Spark numbers jobs in order)."""
    sc = spark.sparkContext
    group = f"bench-marker-{uuid.uuid4().hex}"
    sc.setJobGroup(group, "bench marker")
    try:
        spark.range(1).collect()
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    (job,) = sc.statusTracker().getJobIdsForGroup(group)
    return int(job)


def measure(
    fn: Callable[[], Any], runs: int, spark: Any, counter: Counter | None
) -> dict[str, float]:
    """Median wall ms of ``runs`` calls, and the Spark jobs / Dask partitions of one call."""
    walls: list[float] = []
    jobs = partitions = 0
    for _ in range(runs):
        before = marker(spark)
        seen = counter.n if counter is not None else 0
        started = time.perf_counter()
        fn()
        walls.append((time.perf_counter() - started) * 1000)
        jobs = marker(spark) - before - 1
        partitions = (counter.n - seen) if counter is not None else 0
    return {"ms": statistics.median(walls), "jobs": jobs, "partitions": partitions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer runs")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "LAZY_RESULTS.md")
    args = parser.parse_args()

    import dask.array as da
    import dask.dataframe as dd
    import duckdb
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    from chatkit_notebook import NotebookContext
    from chatkit_notebook.agent.tools import _compute_list
    from chatkit_notebook.previews.values import describe

    spark_rows = 100_000 if args.quick else 10_000_000
    per_partition = 100 if args.quick else 10_000
    runs, naive_runs = (2, 1) if args.quick else (5, 2)
    scratch = Path(tempfile.mkdtemp(prefix="chatkit-lazy-bench-"))
    spark = spark_session(scratch)
    try:
        sdf = spark.range(spark_rows).selectExpr("id", "id % 7 AS g", "rand(1) AS v")
        n = 100 * per_partition
        pdf = pd.DataFrame({"id": np.arange(n), "g": np.arange(n) % 7, "v": np.random.rand(n)})
        counter = Counter()
        ddf = dd.from_pandas(pdf, npartitions=100).map_partitions(counter, meta=pdf.iloc[:0])
        for i in range(4):
            pq.write_table(pa.Table.from_pandas(pdf.iloc[i::4]), scratch / f"part-{i}.parquet")
        con = duckdb.connect()
        namespace = {
            "pandas_frame": pdf,
            "arrow_table": pa.Table.from_pandas(pdf),
            "arrow_dataset": pads.dataset(scratch, format="parquet"),
            "relation": con.sql("SELECT range AS id, range % 7 AS g FROM range(10000000)"),
            "dask_frame": ddf,
            "dask_series": ddf["v"],
            "dask_array": da.ones((n, 3), chunks=(per_partition, 3)),
            "spark_frame": sdf,
        }
        nb = NotebookContext(namespace=namespace)
        sdf.columns  # noqa: B018 - the notebook's own cell would have read it
        new_frames = [sdf.selectExpr("*", f"{i} AS k") for i in range(runs * 2)]

        def fresh() -> NotebookContext:
            """The namespace with a Spark frame whose schema nobody has asked for yet."""
            return NotebookContext(namespace={**namespace, "spark_frame": new_frames.pop()})

        results: list[tuple[str, dict[str, float]]] = [
            (
                f"preview: describe_variable, Spark DataFrame of {spark_rows:,} rows",
                measure(lambda: describe(sdf), runs, spark, None),
            ),
            (
                "naive: df.count() + df.toPandas().describe(), same frame",
                measure(lambda: (sdf.count(), sdf.toPandas().describe()), naive_runs, spark, None),
            ),
            (
                f"preview: describe_variable, Dask frame of 100 partitions ({n:,} rows)",
                measure(lambda: describe(ddf), runs, spark, counter),
            ),
            (
                "naive: ddf.compute().describe(), same frame",
                measure(lambda: ddf.compute().describe(), naive_runs, spark, counter),
            ),
            (
                "preview: list_variables, one of each type (8 variables)",
                measure(lambda: _compute_list(nb, False), runs * 2, spark, counter),
            ),
            (
                "preview: list_variables, same, the Spark frame's schema not yet read",
                measure(lambda: _compute_list(fresh(), False), runs * 2, spark, counter),
            ),
            (
                "naive: count each frame's rows (Spark count(), Dask len(), ...)",
                measure(
                    lambda: [
                        sdf.count(),
                        len(ddf),
                        len(ddf["v"]),
                        namespace["relation"].count("*").fetchall(),
                        namespace["arrow_dataset"].count_rows(),
                    ],
                    naive_runs,
                    spark,
                    counter,
                ),
            ),
        ]
    finally:
        spark.stop()

    info = machine(packages=PACKAGES)
    rows = [
        [name, f"{r['ms']:,.1f}", f"{int(r['jobs'])}", f"{int(r['partitions'])}"]
        for name, r in results
    ]
    table = markdown_table(["measure", "median ms", "Spark jobs", "Dask partitions computed"], rows)
    versions = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    report = "\n".join(
        [
            f"# Lazy previews ({'quick' if args.quick else 'full'} run, "
            f"{datetime.now().astimezone():%Y-%m-%d %H:%M})",
            "",
            machine_line(info, extras=[versions]),
            "",
            table,
            "",
        ]
    )
    args.out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
