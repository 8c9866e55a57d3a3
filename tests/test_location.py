"""Finding the notebook a kernel belongs to, and the store file beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatkit_notebook import configure, find_notebook_path, locate_store, store_path_for
from chatkit_notebook.config import StoreChoice, store_choice
from chatkit_notebook.errors import ConfigError
from chatkit_notebook.stores.location import is_database_url, notebook_key_for


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


# -- a database store ----------------------------------------------------------------------

URL = "postgresql://alice:s3cret@db.example:5432/team"


@pytest.mark.parametrize(
    ("text", "database"),
    [
        (URL, True),
        ("postgres://db/team", True),
        ("  host=db.example dbname=team", True),
        ("dbname=team", True),
        ("chats/all.chatkit.json", False),
        ("postgresql.chatkit.json", False),
        ("host.json", False),
    ],
)
def test_a_database_is_told_from_a_file(text: str, database: bool) -> None:
    assert is_database_url(text) is database


def test_the_notebook_key_is_the_path_from_the_server_root(tmp_path: Path) -> None:
    root = tmp_path / "home" / "alice"
    notebook = root / "team" / "sales.ipynb"
    assert notebook_key_for(notebook, [root]) == "team/sales.ipynb"
    # The deepest root that holds it wins; a root that does not is passed over.
    assert notebook_key_for(notebook, [root / "team", root, tmp_path / "x"]) == "sales.ipynb"
    # A root reached through a symlink still gives the same key.
    link = tmp_path / "link"
    link.symlink_to(root)
    assert notebook_key_for(link / "team" / "sales.ipynb", [root]) == "team/sales.ipynb"


def test_without_a_server_root_the_key_is_the_path_from_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert notebook_key_for(tmp_path / "work" / "a.ipynb", []) == "work/a.ipynb"
    elsewhere = Path("/srv/shared/a.ipynb")
    assert notebook_key_for(elsewhere, []) == "/srv/shared/a.ipynb"


def test_the_environment_can_name_a_database(tmp_path: Path) -> None:
    env = {
        "JPY_SESSION_NAME": str(tmp_path / "team" / "sales.ipynb"),
        "CHATKIT_NOTEBOOK_STORE": URL,
        "CHATKIT_NOTEBOOK_STORE_SHARED": "1",
    }
    location = locate_store({}, env, tmp_path, roots=[tmp_path])
    assert location.is_database
    assert location.path is None
    assert location.url == URL
    assert location.notebook_key == "team/sales.ipynb"
    assert location.shared
    message = location.describe()
    assert "s3cret" not in message
    assert "postgresql://alice:***@db.example:5432/team" in message
    assert "'team/sales.ipynb'" in message
    assert "shared" in message
    assert "CHATKIT_NOTEBOOK_STORE" in message
    assert "s3cret" not in location.display


def test_a_database_without_a_notebook_uses_the_default_key(tmp_path: Path) -> None:
    location = locate_store({}, {"CHATKIT_NOTEBOOK_STORE": URL}, tmp_path)
    assert location.notebook_key == "default"
    assert not location.shared
    assert "yours only" in location.describe()


def test_configure_wins_over_the_environment_and_can_be_undone(tmp_path: Path) -> None:
    env = {"CHATKIT_NOTEBOOK_STORE": "from-env.chatkit.json"}
    configure(store=URL, store_shared=True, store_key="team/q3")
    location = locate_store({}, env, tmp_path)
    assert (location.url, location.notebook_key, location.shared) == (URL, "team/q3", True)
    assert location.source == "configure"
    configure(store_shared=False)  # keeps the database and its key
    assert locate_store({}, env, tmp_path).notebook_key == "team/q3"
    assert not locate_store({}, env, tmp_path).shared
    configure(store=tmp_path / "mine.chatkit.json")
    assert locate_store({}, env, tmp_path).path == tmp_path / "mine.chatkit.json"
    configure(store="")
    assert locate_store({}, env, tmp_path).path == tmp_path / "from-env.chatkit.json"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"store": "postgresql://alice:s3cret@db:99999999999/x y z ="}, "Not a PostgreSQL"),
        ({"store": "chats.json", "store_shared": True}, "apply to a database"),
        ({"store": "chats.json", "store_key": "k"}, "apply to a database"),
        ({"store": URL, "store_key": " "}, "store_key is empty"),
        ({"store_shared": True}, "not to the file 'kept.chatkit.json'"),
    ],
)
def test_a_bad_store_choice_is_refused_and_changes_nothing(
    options: dict[str, Any], message: str
) -> None:
    configure(store="kept.chatkit.json")
    with pytest.raises(ConfigError, match=message) as caught:
        configure(**options)
    assert "s3cret" not in str(caught.value)
    assert store_choice() == StoreChoice("kept.chatkit.json")


def test_sharing_needs_a_database_chosen_first() -> None:
    with pytest.raises(ConfigError, match="need a database: pass store='postgresql://"):
        configure(store_shared=True)
    assert store_choice() is None
