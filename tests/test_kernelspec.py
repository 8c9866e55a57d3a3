"""The wheel installs a "Python 3 (ChatKit)" kernel whose kernels have %chat loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from this checkout and install it into a fresh environment.

    The fresh environment gets the wheel only (no dependencies): the test needs its
    shared data, and the kernel it starts runs on this interpreter. (pip's ``--prefix``
    would uninstall the package from the running environment first.)
    """
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(work),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = work.glob("chatkit_notebook-*.whl")
    fresh = work / "env"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
    )
    return fresh / "share" / "jupyter"


def test_building_it_left_this_environment_alone(installed: Path) -> None:
    # Subprocesses (workers, kernels) must still import the package after the wheel test.
    found = subprocess.run([sys.executable, "-c", "import chatkit_notebook"], check=False, cwd="/")
    assert found.returncode == 0


def test_the_kernelspec_is_listed(installed: Path) -> None:
    env = {**os.environ, "JUPYTER_PATH": str(installed)}
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    specs = json.loads(listed.stdout)["kernelspecs"]
    spec = specs["python3-chatkit"]["spec"]
    assert spec["display_name"] == "Python 3 (ChatKit)"
    assert "--ext=chatkit_notebook" in spec["argv"]


def test_a_kernel_from_it_has_the_magics(
    installed: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JUPYTER_PATH", str(installed))
    monkeypatch.setenv("CHATKIT_NOTEBOOK_STORE", str(tmp_path / "k.chatkit.json"))
    manager, client = start_new_kernel(kernel_name="python3-chatkit", startup_timeout=60)
    try:
        code = "print(sorted(m for m in ('chat', 'chatkit') if get_ipython().find_line_magic(m)))"
        outputs: list[str] = []
        client.execute_interactive(
            code,
            timeout=60,
            output_hook=lambda msg: outputs.append(msg["content"].get("text", "")),
        )
        assert "['chat', 'chatkit']" in "".join(outputs)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
