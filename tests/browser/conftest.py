"""A real Jupyter server (JupyterLab or Notebook 7) and a real Chromium for the browser tests.

``jupyter`` starts the frontend named by the ``frontend`` fixture (``"lab"`` unless a test
parametrizes it, e.g. over ``FRONTENDS``) on 127.0.0.1 with a token, in a scratch root holding
copies of the test notebooks, with every Jupyter directory (config, data, runtime, settings,
workspaces) and IPYTHONDIR in scratch space so no user setup leaks in; ``jupyter_lab`` is
JupyterLab whatever the test says. ``chromium`` launches
the system Chromium (Playwright cannot download its own here); if it cannot be launched the
test is skipped, unless ``CHATKIT_REQUIRE_BROWSER`` is set (CI sets it), then it fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The notebooks here are driven by the browser tests, not collected by nbval.
collect_ignore_glob = ["*.ipynb"]

HERE = Path(__file__).parent
CHROMIUM = Path(os.environ.get("CHATKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing but 127.0.0.1 resolves: a request to any other host fails at once.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
SERVER_READY_TIMEOUT = 30.0

# frontend -> (the module `python -m` starts, the page of a notebook at a root-relative path)
FRONTENDS = {
    "lab": ("jupyterlab", "/lab/tree/{path}?reset"),
    "notebook7": ("notebook", "/notebooks/{path}"),
}

# Lab asks whether to fetch Jupyter news in a toast that covers the notebook; say no, don't
# check PyPI for updates, and don't autosave (a reload must show the notebook as on disk).
# Notebook 7 is built from the same extensions and reads the same settings directory.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
# The theme a person picks in Settings > Theme, as the settings file that keeps it.
THEMES = {
    theme: {"@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": name}}
    for theme, name in (("light", "JupyterLab Light"), ("dark", "JupyterLab Dark"))
}
SERVER_CONFIG = {
    "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}
}


@dataclass
class Jupyter:
    """A running Jupyter server with one frontend: JupyterLab or Notebook 7."""

    frontend: str
    url: str
    token: str
    root: Path
    store: Path
    log: Path

    def notebook_url(self, name: str) -> str:
        """The page that opens the notebook ``name`` (in the root), token included."""
        path = FRONTENDS[self.frontend][1].format(path=name)
        separator = "&" if "?" in path else "?"
        return f"{self.url}{path}{separator}token={self.token}"

    def api(self, method: str, path: str) -> Any:
        """Call the REST API; the parsed JSON answer, or None for an empty one."""
        headers = {"Authorization": f"token {self.token}"}
        # S310: the URL is always http://127.0.0.1:<port>/api/..., built here
        request = urllib.request.Request(f"{self.url}{path}", method=method, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def _wait_until_ready(server: Jupyter, process: subprocess.Popen[bytes]) -> None:
    """Poll /api/status; the deadline only catches a server that never comes up."""
    deadline = time.monotonic() + SERVER_READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{server.frontend} exited with {process.returncode}:\n{server.log_tail()}")
        try:
            server.api("GET", "/api/status")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)  # polling a server that is starting, not synchronising a test
        else:
            return
    pytest.fail(
        f"{server.frontend} not ready after {SERVER_READY_TIMEOUT:.0f} s:\n{server.log_tail()}"
    )


def _shutdown_kernels(server: Jupyter) -> None:
    try:
        for session in server.api("GET", "/api/sessions") or []:
            server.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in server.api("GET", "/api/kernels") or []:
            server.api("DELETE", f"/api/kernels/{kernel['id']}")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        pass  # the server is going away anyway; terminating it stops its kernels too


@contextmanager
def serve(
    tmp_path: Path,
    frontend: str,
    environ: Mapping[str, str] | None = None,
    settings: Mapping[str, object] | None = None,
    config: Mapping[str, Mapping[str, object]] | None = None,
) -> Iterator[Jupyter]:
    """Run ``frontend`` ("lab" or "notebook7") over a scratch copy of this directory's notebooks.

    The kernels' threads go to ``Jupyter.store`` (``CHATKIT_NOTEBOOK_STORE``), which does not
    exist yet: a test may seed it before it opens a page. ``environ`` adds to the server's
    environment, which its kernels inherit, and overrides what is set here: a database for
    ``CHATKIT_NOTEBOOK_STORE``, say, or the ``JUPYTERHUB_USER`` that JupyterHub would set.
    ``settings`` adds to the front end's settings by file name (``THEMES["dark"]``, say:
    both front ends read them). ``config`` adds to the server's configuration by class
    (``{"LabApp": {"expose_app_in_browser": True}}``, say).
    """
    module = FRONTENDS[frontend][0]
    root = tmp_path / "root"
    root.mkdir()
    for notebook in HERE.glob("*.ipynb"):
        shutil.copy(notebook, root / notebook.name)
    scratch = tmp_path / "jupyter"
    for name, values in {**LAB_SETTINGS, **(settings or {})}.items():
        _write_json(scratch / "settings" / name, values)
    _write_json(
        scratch / "config" / "jupyter_server_config.json", {**SERVER_CONFIG, **(config or {})}
    )

    port = _free_port()
    server = Jupyter(
        frontend=frontend,
        url=f"http://127.0.0.1:{port}",
        token=secrets.token_hex(16),
        root=root,
        store=tmp_path / "threads.chatkit.json",
        log=tmp_path / f"{frontend}.log",
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(scratch / "config"),
        "JUPYTER_DATA_DIR": str(scratch / "data"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(scratch / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "workspaces"),
        "IPYTHONDIR": str(scratch / "ipython"),
        "CHATKIT_NOTEBOOK_STORE": str(server.store),
        "CHATKIT_TESTS_DIR": str(HERE.parent),
        **(environ or {}),
    }
    command = [
        sys.executable,
        "-m",
        module,
        "--no-browser",
        "--ServerApp.open_browser=False",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={server.token}",
        f"--ServerApp.root_dir={root}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    with server.log.open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_ready(server, process)
        yield server
    finally:
        if process.poll() is None:
            _shutdown_kernels(server)
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def frontend() -> str:
    """The frontend ``jupyter`` serves; parametrize it to run a test in Notebook 7 as well."""
    return "lab"


@pytest.fixture
def artifacts(tmp_path: Path, frontend: str, request: pytest.FixtureRequest) -> Path:
    """Where a test leaves its screenshots, and what explains a failure: the test's
    ``tmp_path/artifacts``, or ``$CHATKIT_BROWSER_ARTIFACTS/<frontend>/<test>``, so that one
    run keeps every test's artifacts, in both frontends."""
    if shared := os.environ.get("CHATKIT_BROWSER_ARTIFACTS"):
        return Path(shared) / frontend / str(request.node.originalname)
    return tmp_path / "artifacts"


@pytest.fixture
def jupyter(tmp_path: Path, frontend: str) -> Iterator[Jupyter]:
    """A Jupyter server with the ``frontend`` of the test, over scratch copies of the notebooks."""
    with serve(tmp_path, frontend) as server:
        yield server


@pytest.fixture
def jupyter_lab(tmp_path: Path) -> Iterator[Jupyter]:
    """JupyterLab serving a scratch copy of this directory's notebooks."""
    with serve(tmp_path, "lab") as server:
        yield server


def _no_browser(reason: str) -> None:
    if os.environ.get("CHATKIT_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (CHATKIT_REQUIRE_BROWSER is set, so this is not skipped)")
    pytest.skip(reason)


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless system Chromium driven by Playwright."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as error:
        _no_browser(f"playwright is not installed: {error}")
    if not CHROMIUM.exists():
        _no_browser(f"no Chromium at {CHROMIUM}: apt-get install chromium, or set CHATKIT_CHROMIUM")
    playwright = sync_playwright().start()
    try:
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
            )
        except Error as error:
            _no_browser(f"Chromium at {CHROMIUM} cannot be launched: {error.message}")
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
