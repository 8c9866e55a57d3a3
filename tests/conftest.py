"""Shared fixtures, and the groups the suite runs in.

No test reaches the network: any connection off loopback fails. Every test starts from a
clean slate: none of the environment variables the package or the OpenAI and Agents SDKs
read, and no :func:`~chatkit_notebook.configure` settings left by an earlier test.

Every test belongs to one group, a marker given here from its file (``GROUPS``), never by
hand: ``./dev test`` runs the groups as parallel pytest processes, and ``pytest -m kernel``
runs one (tests/README.md).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai import fake_openai_fixture  # noqa: F401  (registers the `fake_openai` fixture)

from chatkit_notebook import NotebookContext
from chatkit_notebook.config import reset_configuration
from chatkit_notebook.runtime import Runtime

# OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_AGENTS_*...;
# CHATKIT_NOTEBOOK_MODEL and CHATKIT_NOTEBOOK_STORE.
_ENV_PREFIXES = ("OPENAI_", "CHATKIT_NOTEBOOK_")
# The notebook-path hints that location.find_notebook_path reads, and the hub user name.
_ENV_NAMES = ("JPY_SESSION_NAME", "PAPERMILL_INPUT_PATH", "JUPYTERHUB_USER")


# The groups, in the order a file is tested against them (the first that fits wins).
GROUPS = {
    "notebooks": "the example notebooks, run under nbval in real kernels",
    "browser": "the panel in real JupyterLab / Notebook 7 and Chromium (tests/browser/)",
    "realnb": "public notebooks run in real kernels, every tool on every name (tests/realnb/)",
    "pg": "needs PostgreSQL (a test in the file uses the `postgres` or `pg_dsn` fixture)",
    "spark": "a local Spark session in the test process (a test uses the `spark` fixture)",
    "spark_connect": "a Spark Connect server beside the tests (a test uses `spark_connect`)",
    "kernel": "starts real Jupyter kernels (tests/test_*kernel*.py)",
    "unit": "everything else: in-process, or a child Python at most",
}
_PG_FIXTURES = {"postgres", "pg_dsn"}
# PySpark holds either a classic or a remote session in one process, never both (spark.py).
_SPARK_FIXTURES = {"spark"}
_SPARK_CONNECT_FIXTURES = {"spark_connect", "spark_connect_server"}
_HERE = Path(__file__).resolve().parent
LONG_FUZZ = "CHATKIT_FUZZ_LONG"  # set for a `-m fuzz` run; tests/fuzzing.py reads it


def _group_of(path: Path, fixtures: set[str]) -> str:
    """The group of the test file at ``path``, whose tests use ``fixtures`` between them."""
    if path.suffix == ".ipynb":
        return "notebooks"
    if _HERE / "browser" in path.parents:
        return "browser"
    if _HERE / "realnb" in path.parents:
        return "realnb"  # deselected by default (addopts); its CI subset is `-m realnb_ci`
    if fixtures & _PG_FIXTURES:
        return "pg"
    if fixtures & _SPARK_CONNECT_FIXTURES:
        return "spark_connect"
    if fixtures & _SPARK_FIXTURES:
        return "spark"
    if "kernel" in path.stem:
        return "kernel"
    return "unit"


def pytest_configure(config: pytest.Config) -> None:
    """``-m fuzz`` (``./dev test -m fuzz``) is the fuzzer's long run: each fuzz test draws
    for ``CHATKIT_FUZZ_MINUTES`` minutes instead of its CI budget (tests/fuzzing.py). In the
    groups' runs (``-m unit``, ``-m pg``) the fuzz tests keep their CI budget."""
    words = (config.getoption("markexpr") or "").replace("(", " ").replace(")", " ").split()
    if any(word == "fuzz" and (at == 0 or words[at - 1] != "not") for at, word in enumerate(words)):
        os.environ[LONG_FUZZ] = "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its file's group (see ``GROUPS``)."""
    fixtures: dict[Path, set[str]] = {}
    for item in items:
        fixtures.setdefault(item.path, set()).update(getattr(item, "fixturenames", ()))
    for item in items:
        item.add_marker(_group_of(item.path, fixtures[item.path]))


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # Unix sockets and the like stay on this machine


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection off 127.0.0.0/8 or ::1: tests never call a real model."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise AssertionError(f"a test tried to reach the network at {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset what the developer's shell may have set; kernels the tests start inherit this."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _fresh_configuration() -> Iterator[None]:
    """Forget configure()'s settings before and after each test (they are process-wide)."""
    reset_configuration()
    yield
    reset_configuration()


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT (and ``_thread.interrupt_main()``) raise ``KeyboardInterrupt``, as in a kernel.

    Not a given: a process started under ``nohup`` or by some CI runners ignores SIGINT,
    and then an interrupt a test waits for never comes.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    """The package's background event loop, as the panel and the magics use it; stopped after."""
    rt = Runtime(name="test-loop")
    yield rt
    rt.stop()


@pytest.fixture
def ctx() -> NotebookContext:
    """A context with an empty namespace and no notebook."""
    return NotebookContext()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where a test's store file goes (not yet created)."""
    return tmp_path / "analysis.chatkit.json"
