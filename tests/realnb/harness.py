"""Run one corpus notebook in a real kernel, then probe its namespace (``probe.py``).

``run(notebook, workdir)`` writes the notebook's data (``datagen.py``) into ``workdir``,
starts an ipykernel there through ``jupyter_client`` with ``chatkit_notebook`` loaded
(``%load_ext``), runs the notebook's code cells one by one as a front end would, then runs
:func:`probe.probe` in the same kernel and reads its JSON report. Used by
``test_realnb.py`` and ``bench/realnb_bench.py``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import corpus
import datagen
from jupyter_client.manager import start_new_kernel

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
ROOT = TESTS.parent

CELL_TIMEOUT = 600.0
"""Seconds one cell may take before the run calls it hung (a loaded 2-core machine)."""
PROBE_TIMEOUT = 1800.0


@dataclass
class Run:
    """What running one notebook and probing it found."""

    notebook: corpus.Notebook
    cells_run: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # cells that raised
    report: dict[str, Any] = field(default_factory=dict)  # probe.py's report
    seconds_cells: float = 0.0
    seconds_probe: float = 0.0


def _environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("JPY_SESSION_NAME", None)  # no front end: as under nbclient
    paths = [str(ROOT), str(TESTS), str(HERE)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["CHATKIT_NOTEBOOK_STORE"] = str(workdir / "notebook.chatkit.json")
    env["SEABORN_DATA"] = str(workdir / datagen.SEABORN_DIR)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def _execute(client: Any, code: str, timeout: float) -> tuple[str, dict[str, Any] | None]:
    """Run ``code``; its status and, if it raised, the error's name and message."""
    errors: list[dict[str, Any]] = []

    def hook(message: dict[str, Any]) -> None:
        if message["msg_type"] == "error":
            content = message["content"]
            errors.append({"ename": content["ename"], "evalue": content["evalue"][:300]})

    reply = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    status = str(reply["content"]["status"])
    if status != "ok" and not errors:
        content = reply["content"]
        errors.append({"ename": content.get("ename", status), "evalue": content.get("evalue", "")})
    return status, (errors[0] if errors else None)


def run(notebook: corpus.Notebook, workdir: Path, *, server: bool = True) -> Run:
    """Run ``notebook``'s cells in a fresh kernel in ``workdir``, then probe its namespace."""
    datagen.write(notebook.data, workdir)
    result = Run(notebook)
    cells = notebook.runnable()
    manager, client = start_new_kernel(
        kernel_name="python3", startup_timeout=120, env=_environment(workdir), cwd=str(workdir)
    )
    try:
        _, error = _execute(client, "%load_ext chatkit_notebook", 120)
        if error is not None:
            raise RuntimeError(f"%load_ext chatkit_notebook failed: {error}")
        started = time.perf_counter()
        for number, source in cells:
            _, error = _execute(client, source, CELL_TIMEOUT)
            result.cells_run += 1
            if error is not None:
                result.failed.append({"cell": number, **error})
        result.seconds_cells = time.perf_counter() - started
        sources = workdir / "probe-cells.json"
        sources.write_text(json.dumps([source for _, source in cells]), encoding="utf-8")
        report = workdir / "probe-report.json"
        code = (
            "import json as _j, probe as _probe\n"
            f"_probe.probe(_j.loads(open({str(sources)!r}).read()), {str(report)!r}, "
            f"server={server!r})\n"
            "del _j, _probe"
        )
        started = time.perf_counter()
        _status, error = _execute(client, code, PROBE_TIMEOUT)
        result.seconds_probe = time.perf_counter() - started
        if error is not None:
            raise RuntimeError(f"the probe failed in {notebook.id}: {error}")
        result.report = json.loads(report.read_text(encoding="utf-8"))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return result
