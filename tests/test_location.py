"""Finding the notebook a kernel belongs to, and the store file beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatkit_notebook import find_notebook_path, locate_store, store_path_for


def test_store_sits_beside_the_notebook() -> None:
    assert store_path_for("/work/sales/Q3 report.ipynb") == Path(
        "/work/sales/Q3 report.chatkit.json"
    )
    assert store_path_for(Path("nb.v2.ipynb")) == Path("nb.v2.chatkit.json")


def test_vscode_hint_wins(tmp_path: Path) -> None:
    found = find_notebook_path(
        {"__vsc_ipynb_file__": "/code/a.ipynb", "__session__": "/lab/b.ipynb"},
        {"JPY_SESSION_NAME": "/lab/c.ipynb"},
        tmp_path,
    )
    assert found == (Path("/code/a.ipynb"), "__vsc_ipynb_file__")


@pytest.mark.parametrize(
    ("user_ns", "environ", "expected"),
    [
        ({}, {"JPY_SESSION_NAME": "/lab/c.ipynb"}, ("/lab/c.ipynb", "JPY_SESSION_NAME")),
        ({"__session__": "/lab/b.ipynb"}, {}, ("/lab/b.ipynb", "__session__")),
        ({}, {"PAPERMILL_INPUT_PATH": "/runs/p.ipynb"}, ("/runs/p.ipynb", "PAPERMILL_INPUT_PATH")),
        # A console's session name is not a notebook: the next hint is used.
        (
            {"__session__": "/lab/b.ipynb"},
            {"JPY_SESSION_NAME": "console-1-abc"},
            ("/lab/b.ipynb", "__session__"),
        ),
        ({}, {"JPY_SESSION_NAME": "/lab/script.py"}, None),
        ({"__vsc_ipynb_file__": 42}, {}, None),
        ({}, {}, None),
    ],
)
def test_hints_in_order(
    tmp_path: Path,
    user_ns: dict[str, object],
    environ: dict[str, str],
    expected: tuple[str, str] | None,
) -> None:
    found = find_notebook_path(user_ns, environ, tmp_path)
    assert found == (None if expected is None else (Path(expected[0]), expected[1]))


def test_relative_session_path_resolves_from_the_kernel_folder(tmp_path: Path) -> None:
    # Jupyter Server gives a path relative to its root; the kernel runs in the notebook's folder.
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nb.ipynb").write_text("{}")
    env = {"JPY_SESSION_NAME": "sub/nb.ipynb"}
    assert find_notebook_path({}, env, tmp_path) == (
        tmp_path / "sub" / "nb.ipynb",
        "JPY_SESSION_NAME",
    )
    kernel_dir = tmp_path / "sub"
    assert find_notebook_path({}, env, kernel_dir) == (kernel_dir / "nb.ipynb", "JPY_SESSION_NAME")


def test_locate_store_uses_the_notebook(tmp_path: Path) -> None:
    location = locate_store({}, {"JPY_SESSION_NAME": str(tmp_path / "sales.ipynb")}, tmp_path)
    assert location.path == tmp_path / "sales.chatkit.json"
    assert location.notebook_path == tmp_path / "sales.ipynb"
    assert not location.is_fallback
    assert "sales.chatkit.json" in location.describe()
    assert "sales.ipynb" in location.describe()


def test_environment_variable_overrides_the_store_path(tmp_path: Path) -> None:
    env = {
        "JPY_SESSION_NAME": str(tmp_path / "sales.ipynb"),
        "CHATKIT_NOTEBOOK_STORE": "chats/all.json",
    }
    location = locate_store({}, env, tmp_path)
    assert location.path == tmp_path / "chats" / "all.json"
    assert location.source == "CHATKIT_NOTEBOOK_STORE"
    assert location.notebook_path == tmp_path / "sales.ipynb"
    assert "CHATKIT_NOTEBOOK_STORE" in location.describe()


def test_without_a_notebook_the_store_falls_back_to_the_current_folder_and_says_so(
    tmp_path: Path,
) -> None:
    location = locate_store({}, {}, tmp_path)
    assert location.is_fallback
    assert location.path.parent == tmp_path
    assert location.path.name.endswith(".chatkit.json")
    message = location.describe()
    assert "No notebook" in message
    assert str(location.path) in message
    assert "CHATKIT_NOTEBOOK_STORE" in message
