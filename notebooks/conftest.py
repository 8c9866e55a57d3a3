"""Run the example notebooks offline under nbval, unchanged.

Each notebook's kernel gets, from its environment only (nothing in the notebooks exists
for the tests): ``JPY_SESSION_NAME`` set to the notebook's path, as Jupyter Server sets
it; ``CHATKIT_NOTEBOOK_STORE`` in a temporary folder, so no store file lands in the repo;
``OPENAI_BASE_URL`` pointing at the loopback OpenAI-compatible server from
``tests/fake_openai.py``; and ``CHATKIT_NOTEBOOK_MODEL`` naming the one model it serves.
Every other ``OPENAI_*`` and ``CHATKIT_NOTEBOOK_*`` variable (``OPENAI_API_KEY``,
``OPENAI_ORG_ID``...) and ``PAPERMILL_INPUT_PATH`` are unset, whatever the shell had.
Its offline model behaves like a small real one: it looks at the notebook with a tool
first (so the notebooks' turns read the live kernel's variables through the real tools),
then answers with a short reply that says it is offline.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from fake_openai import FakeOpenAI, RecordedRequest, Turn

_VARIABLES = (
    "JPY_SESSION_NAME",
    "CHATKIT_NOTEBOOK_STORE",
    "OPENAI_BASE_URL",
    "CHATKIT_NOTEBOOK_MODEL",
)
# Unset for the kernels: what the package and the OpenAI and Agents SDKs also read.
_STRAY_PREFIXES = ("OPENAI_", "CHATKIT_NOTEBOOK_")
_STRAY_NAMES = ("PAPERMILL_INPUT_PATH",)
_state: dict[str, Any] = {}


# What the offline model runs when a question asks it to compute or plot (04).
_COMPUTE = """\
by_month = weather.groupby(weather["date"].dt.month_name())["precipitation"].mean()
by_month.sort_values().round(2).head(3)"""
_PLOT = """\
import matplotlib.pyplot as plt

by_month = weather.groupby(weather["date"].dt.month)["precipitation"].mean()
ax = by_month.plot(kind="bar", title="Average daily precipitation by month (mm)")
ax.set_xlabel("month")
plt.tight_layout()"""


# What it runs when asked to fix 05's failing cell: the column's name, spelled right.
_FIX = """\
yearly = weather.groupby(weather["date"].dt.year)["precipitation"].sum()
yearly"""


def _offline_model(request: RecordedRequest) -> Turn:
    """Call a tool once (``run_python`` for a question that asks to compute, plot or fix,
    ``last_error`` for one about a failure, ``list_variables`` otherwise), then answer
    from its result."""
    messages = request.messages
    tools = [t["function"]["name"] for t in request.body.get("tools", [])]
    question = (_user_texts(request) or [""])[-1].lower()
    if tools and messages and messages[-1].get("role") != "tool":
        if "run_python" in tools and any(w in question for w in ("compute", "plot", "fix")):
            code = _PLOT if "plot" in question else _FIX if "fix" in question else _COMPUTE
            return Turn.tool_call("run_python", {"code": code})
        if "last_error" in tools and "fail" in question:
            return Turn.tool_call("last_error", {})
        if "list_variables" in tools:
            return Turn.tool_call("list_variables", {"include_callables": False})
        return Turn.tool_call(tools[0], {})  # %chatkit doctor's health-check tool
    if (
        messages
        and messages[-1].get("role") == "tool"
        and '"run_python"' in str(messages[-1].get("content"))
    ):
        return Turn.text(["The offline test model ran the code: ", _ran(messages[-1]), "."])
    if (
        messages
        and messages[-1].get("role") == "tool"
        and '"last_error"' in str(messages[-1].get("content"))
    ):
        return Turn.text(["The offline test model read the error: ", _failed(messages[-1]), "."])
    seen = ""
    if messages and messages[-1].get("role") == "tool":
        with contextlib.suppress(KeyError, TypeError, ValueError):
            count = json.loads(messages[-1]["content"])["count"]
            seen = f"I can see {count} variables in this notebook. "
    pieces = (seen, "This answer comes from ", "the offline test model: ", "OK.")
    return Turn.text([piece for piece in pieces if piece])


def _ran(message: dict[str, Any]) -> str:
    """What a run_python result says, in a few words."""
    try:
        result = json.loads(message["content"])
    except (KeyError, TypeError, ValueError):
        return "it returned something the test model could not read"
    data = result.get("untrusted_notebook_data", {})
    if result.get("status") != "ok":
        return f"it ended with status {result.get('status')}"
    if "figures" in data:
        return f"it made {len(data['figures'])} figure(s)"
    value = data.get("value", {})
    return f"it returned {json.dumps(value.get('preview', value))[:200]}"


def _failed(message: dict[str, Any]) -> str:
    """What a last_error result says, in a few words."""
    try:
        result = json.loads(message["content"])
        data = result["untrusted_notebook_data"]
        return f"{data['exception']}: {data['message']} on the line `{data['failing_line']}`"
    except (KeyError, TypeError, ValueError):
        return "it returned something the test model could not read"


def pytest_runtest_setup(item: Any) -> None:  # runs before nbval starts the kernel
    if not str(item.fspath).endswith(".ipynb"):
        return
    if "server" not in _state:
        _state["server"] = FakeOpenAI(fallback=_offline_model).__enter__()
        _state["folder"] = tempfile.TemporaryDirectory(prefix="chatkit-notebooks-")
        strays = [
            name
            for name in os.environ
            if (name.startswith(_STRAY_PREFIXES) or name in _STRAY_NAMES) and name not in _VARIABLES
        ]
        _state["saved"] = {name: os.environ.get(name) for name in (*_VARIABLES, *strays)}
        for name in strays:
            del os.environ[name]
    notebook = Path(str(item.fspath))
    os.environ["JPY_SESSION_NAME"] = str(notebook)
    os.environ["CHATKIT_NOTEBOOK_STORE"] = str(
        Path(_state["folder"].name) / f"{notebook.stem}.chatkit.json"
    )
    os.environ["OPENAI_BASE_URL"] = _state["server"].base_url
    os.environ["CHATKIT_NOTEBOOK_MODEL"] = "test-model"


def _asked(cell_source: str) -> str | None:
    """The question a cell sends with ``%chat QUESTION`` or ``%%chat``, or ``None``."""
    source = cell_source.strip()
    if source.startswith("%%chat"):
        return source.partition("\n")[2].strip() or None
    if source.startswith("%chat ") and "\n" not in source:
        return source.removeprefix("%chat ").strip() or None
    return None


def _user_texts(request: RecordedRequest) -> list[str]:
    texts = []
    for message in request.messages:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        parts = content if isinstance(content, list) else [{"text": content}]
        texts.extend(str(part.get("text", "")) for part in parts if isinstance(part, dict))
    return texts


def pytest_runtest_teardown(item: Any) -> None:
    """A cell that asks with ``%chat`` must have reached the model with its question.

    nbval-lax only fails a cell that raises; this catches a question that never left the
    kernel (IPython once read ``%chat ...?`` as a help request and printed "not found").
    """
    cell = getattr(item, "cell", None)
    question = _asked(cell.source) if cell is not None else None
    if question is None or "server" not in _state:
        return
    seen = [text for r in _state["server"].chat_requests for text in _user_texts(r)]
    assert question in seen, f"the cell's question never reached the model: {question!r}"


def pytest_unconfigure(config: Any) -> None:
    if "server" in _state:
        _state["server"].close()
        _state["folder"].cleanup()
        for name, value in _state["saved"].items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
