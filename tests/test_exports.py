"""The package's public face is exactly what a notebook user or subclasser needs."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import types
from pathlib import Path

import chatkit_notebook


def test_all_is_exactly_the_public_names() -> None:
    ours = {
        name
        for name, value in vars(chatkit_notebook).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", "").startswith("chatkit_notebook.")
    }
    ours |= {
        "ChatPanel",
        "NotebookChatServer",
        "NotebookStore",
        "PostgresStore",
        "__version__",
    }  # lazy
    assert sorted(chatkit_notebook.__all__) == chatkit_notebook.__all__
    assert set(chatkit_notebook.__all__) == ours


def test_every_exported_name_resolves() -> None:
    for name in chatkit_notebook.__all__:
        assert getattr(chatkit_notebook, name) is not None


def test_errors_share_one_root() -> None:
    for name in (
        "ConfigError",
        "StoreCorruptError",
        "StoreError",
        "StoreLockTimeout",
        "StoreReadOnlyError",
        "StoreVersionError",
    ):
        assert issubclass(getattr(chatkit_notebook, name), chatkit_notebook.ChatkitNotebookError)


def test_import_is_cheap() -> None:
    # The agent runtime, widgets and chatkit's models load on first use, not on import.
    heavy = ("agents", "chatkit", "ipywidgets", "openai", "pydantic")
    code = f"import sys, chatkit_notebook; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


README = Path(__file__).resolve().parents[1] / "README.md"
# `chatkit_notebook.reset_configuration()`, `chatkit_notebook.config.configure`...
_DOTTED = re.compile(r"\bchatkit_notebook((?:\.[A-Za-z_]\w*)+)")
# `from chatkit_notebook import (\n A,\n B,\n)` and `from chatkit_notebook.stores.file import C, D`
_FROM_IMPORT = re.compile(
    r"^from (chatkit_notebook(?:\.\w+)*) import (?:\(([^)]*)\)|(.+)$)", re.MULTILINE
)


def _mentioned(text: str) -> set[str]:
    """The dotted ``chatkit_notebook`` names that ``text`` mentions or imports."""
    names = {"chatkit_notebook" + tail for tail in _DOTTED.findall(text)}
    for module, parenthesised, one_line in _FROM_IMPORT.findall(text):
        names |= {f"{module}.{name}" for name in re.findall(r"\w+", parenthesised or one_line)}
    return names


def _resolve(dotted: str) -> object:
    """Import the longest module prefix of ``dotted``, then getattr the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            value = getattr(value, attribute)
        return value
    raise ModuleNotFoundError(dotted)


def test_mentioned_finds_prose_names_and_both_import_forms() -> None:
    # Guards the patterns: if they missed names, the README test below would pass vacuously.
    text = (
        "Call `chatkit_notebook.reset_configuration()` or chatkit_notebook.config.configure.\n"
        "```python\n"
        "from chatkit_notebook import (\n    ChatPanel,\n    locate_store,\n)\n"
        "from chatkit_notebook.stores.file import NotebookStore, StoreItemType\n"
        "```\n"
        "See `chatkit_notebook/_journal.py`.\n"
    )
    assert _mentioned(text) == {
        "chatkit_notebook.reset_configuration",
        "chatkit_notebook.config.configure",
        "chatkit_notebook.ChatPanel",
        "chatkit_notebook.locate_store",
        "chatkit_notebook.stores.file",
        "chatkit_notebook.stores.file.NotebookStore",
        "chatkit_notebook.stores.file.StoreItemType",
    }


def test_every_name_the_readme_mentions_resolves() -> None:
    missing = []
    for dotted in sorted(_mentioned(README.read_text(encoding="utf-8"))):
        try:
            _resolve(dotted)
        except (ImportError, AttributeError):
            missing.append(dotted)
    assert missing == []
