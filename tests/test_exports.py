"""The package's public face is exactly what a notebook user or subclasser needs."""

from __future__ import annotations

import subprocess
import sys
import types

import chatkit_notebook


def test_all_is_exactly_the_public_names() -> None:
    ours = {
        name
        for name, value in vars(chatkit_notebook).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", "").startswith("chatkit_notebook.")
    }
    ours |= {"ChatPanel", "NotebookChatServer", "NotebookStore", "__version__"}  # lazy
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
