"""Real Spark for tests: a local session in this process, or a Spark Connect server beside it.

Test modules import the fixtures they use, as they do with ``postgres``::

    from spark import spark_fixture  # noqa: F401          (the `spark` fixture)
    from spark import (  # noqa: F401  (`spark_connect` and the server it needs)
        spark_connect_fixture,
        spark_connect_server_fixture,
    )

``spark`` is one classic ``SparkSession`` in local mode for the whole run (``local[2]``, no
UI, two shuffle partitions). ``spark_connect`` is a Spark Connect session, as Databricks and
EMR notebooks hold: a ``SparkConnectServer`` started with pyspark's own ``spark-submit`` as a
child process on 127.0.0.1 and a free port, and a ``SparkSession.builder.remote(...)`` client
of it in this process.

PySpark refuses a remote session in a process that holds a classic one (and the other way
round), so a test file uses one of the two fixtures, never both. ``conftest.py`` gives files
that use ``spark`` the group ``spark`` and files that use ``spark_connect`` the group
``spark_connect``: each group is its own pytest process.

Both need Java 17 or newer (Debian's ``default-jre-headless``). Without ``java`` the tests
are skipped with that reason, unless ``CHATKIT_REQUIRE_SPARK`` is set (as in CI), when they
fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# How long a JVM may take to start a session or a Connect server on a loaded 2-core machine.
_START_TIMEOUT = 180.0


def _need_java() -> None:
    if shutil.which("java"):
        return
    reason = "Spark needs Java 17 (Debian: apt-get install default-jre-headless)"
    if os.environ.get("CHATKIT_REQUIRE_SPARK"):
        pytest.fail(f"CHATKIT_REQUIRE_SPARK is set, but {reason}")
    pytest.skip(reason)


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quiet_jvm_env(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SPARK_HOME"] = str(_spark_home())
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    env["SPARK_LOCAL_DIRS"] = str(scratch)
    env.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
    return env


@pytest.fixture(scope="session", name="spark")
def spark_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A classic local ``SparkSession`` shared by the whole run."""
    _need_java()
    from pyspark.sql import SparkSession

    scratch = tmp_path_factory.mktemp("spark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("chatkit-notebook tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.local.dir", str(scratch))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


class ConnectServer:
    """A ``SparkConnectServer`` child process on 127.0.0.1 (its log in ``log``)."""

    def __init__(self, scratch: Path) -> None:
        self.port = _free_port()
        self.url = f"sc://127.0.0.1:{self.port}"
        self.log = scratch / "connect-server.log"
        home = _spark_home()
        command = [
            str(home / "bin" / "spark-submit"),
            "--class",
            "org.apache.spark.sql.connect.service.SparkConnectServer",
            "--master",
            "local[2]",
            "--conf",
            f"spark.connect.grpc.binding.port={self.port}",
            "--conf",
            "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            "--conf",
            f"spark.sql.warehouse.dir={scratch / 'warehouse'}",
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=_quiet_jvm_env(scratch),
                cwd=scratch,
                start_new_session=True,
            )
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the Spark Connect server exited ({self.process.returncode}); "
                    f"its log: {self.log.read_text(errors='replace')[-3000:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                # Polling a port the child opens when ready: nothing to wait on instead.
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the Spark Connect server did not listen within {_START_TIMEOUT} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


@pytest.fixture(scope="session", name="spark_connect_server")
def spark_connect_server_fixture() -> Iterator[ConnectServer]:
    """A Spark Connect server for the whole run (``.url`` is ``sc://127.0.0.1:PORT``)."""
    _need_java()
    scratch = Path(tempfile.mkdtemp(prefix="chatkit-spark-connect-"))
    server = ConnectServer(scratch)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session", name="spark_connect")
def spark_connect_fixture(spark_connect_server: ConnectServer) -> Iterator[Any]:
    """A Spark Connect ``SparkSession`` (``pyspark.sql.connect.session.SparkSession``)."""
    from pyspark.sql import SparkSession

    session = SparkSession.builder.remote(spark_connect_server.url).getOrCreate()
    try:
        yield session
    finally:
        session.stop()
