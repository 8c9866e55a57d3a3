"""Run the example notebooks offline under nbval, unchanged.

Each notebook's kernel gets, from its environment only (nothing in the notebooks exists
for the tests): ``JPY_SESSION_NAME`` set to the notebook's path, as Jupyter Server sets
it; ``CHATKIT_NOTEBOOK_STORE`` in a temporary folder, so no store file lands in the repo;
and ``OPENAI_BASE_URL`` pointing at the loopback OpenAI-compatible server from
``tests/fake_openai.py``, which answers every question with a short offline reply.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_openai import FakeOpenAI, Turn

_VARIABLES = (
    "JPY_SESSION_NAME",
    "CHATKIT_NOTEBOOK_STORE",
    "OPENAI_BASE_URL",
    "CHATKIT_NOTEBOOK_MODEL",
    "OPENAI_API_KEY",
)
_state: dict[str, Any] = {}


def _offline_answer() -> Turn:
    return Turn.text(
        ["This answer comes from ", "the offline test model: ", "no network was used."]
    )


def pytest_runtest_setup(item: Any) -> None:  # runs before nbval starts the kernel
    if not str(item.fspath).endswith(".ipynb"):
        return
    if "server" not in _state:
        _state["server"] = FakeOpenAI(fallback=_offline_answer).__enter__()
        _state["folder"] = tempfile.TemporaryDirectory(prefix="chatkit-notebooks-")
        _state["saved"] = {name: os.environ.get(name) for name in _VARIABLES}
    notebook = Path(str(item.fspath))
    os.environ["JPY_SESSION_NAME"] = str(notebook)
    os.environ["CHATKIT_NOTEBOOK_STORE"] = str(
        Path(_state["folder"].name) / f"{notebook.stem}.chatkit.json"
    )
    os.environ["OPENAI_BASE_URL"] = _state["server"].base_url
    os.environ["CHATKIT_NOTEBOOK_MODEL"] = "test-model"
    os.environ.pop("OPENAI_API_KEY", None)


def pytest_unconfigure(config: Any) -> None:
    if "server" in _state:
        _state["server"].close()
        _state["folder"].cleanup()
        for name, value in _state["saved"].items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
