"""What a new user meets in the first minutes outside the panel (issue 19): the store's lock
file stays out of Jupyter's file browser, running the example notebooks leaves `git status`
clean, and the README's commands install and open Notebook 7 as well as JupyterLab."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from chatkit.types import ThreadMetadata

from chatkit_notebook import NotebookContext, NotebookStore

ROOT = Path(__file__).resolve().parents[1]


def test_the_lock_file_is_not_in_jupyters_file_browser(tmp_path: Path) -> None:
    from jupyter_server.services.contents.filemanager import FileContentsManager

    store = NotebookStore(tmp_path / "analysis.chatkit.json")
    thread = ThreadMetadata(id="thr_1", created_at=datetime.now())
    asyncio.run(store.save_thread(thread, NotebookContext()))
    assert store.lock_path.exists()  # the lock is real, and beside the store
    # What JupyterLab's and Notebook 7's file browsers list: the contents API.
    listing = FileContentsManager(root_dir=str(tmp_path)).get("")
    names = sorted(entry["name"] for entry in listing["content"])
    assert names == ["analysis.chatkit.json"], names


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_running_the_example_notebooks_leaves_git_status_clean() -> None:
    # The quickstart keeps its threads beside itself: notebooks/01-quickstart.chatkit.json.
    for written in (
        "notebooks/01-quickstart.chatkit.json",
        "notebooks/04-let-it-compute.chatkit.json",
        "notebooks/.01-quickstart.chatkit.json.lock",
    ):
        git = shutil.which("git") or "git"
        checked = subprocess.run(
            [git, "check-ignore", "--no-index", "-q", written], cwd=ROOT, check=False
        )
        assert checked.returncode == 0, f"{written} would show in git status"


def test_dev_lab_installs_notebook_7_and_the_readme_says_where_it_is() -> None:
    # (tomllib is Python 3.11+; the project supports 3.10)
    extra = re.search(r"(?m)^notebooks = \[(.*)\]", (ROOT / "pyproject.toml").read_text())
    assert extra is not None
    assert '"notebook>=7' in extra.group(1), extra.group(0)
    dev = (ROOT / "dev").read_text()
    assert re.search(r"(?m)^\s+(lab \| )?notebook\)", dev), "./dev notebook opens Notebook 7"
    readme = (ROOT / "README.md").read_text()
    assert "./dev notebook" in readme
    assert "/tree" in readme  # where Notebook 7 is, for a Lab that is already running


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=str)
def test_the_example_notebooks_carry_what_the_kernel_reports_but_the_python_version(
    notebook: Path,
) -> None:
    """JupyterLab and Notebook 7 write the kernel's ``language_info`` into a notebook as its
    kernel starts, and mark it modified when that differs from the file's: an example
    holds everything ipykernel reports but the one field no file can match for every
    Python, its version (the browser test opens the quickstart in both front ends)."""
    from ipykernel.ipkernel import IPythonKernel

    reported = {**IPythonKernel.language_info}
    reported.pop("version")
    metadata = json.loads(notebook.read_text())["metadata"]
    assert metadata.get("language_info") == reported, (
        f"{notebook.name}: set metadata.language_info to {reported} (no version)"
    )


def test_the_readme_starts_with_exactly_two_commands_one_opens_the_quickstart_one_tests() -> None:
    readme = (ROOT / "README.md").read_text()
    first = re.match(r"# chatkit-notebook\n\n```bash\n(.*?)```", readme, re.S)  # first thing
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert commands == ["./dev lab", "./dev test"]
