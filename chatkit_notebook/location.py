"""Where a notebook's threads are kept.

A notebook ``analysis.ipynb`` keeps its conversations in ``analysis.chatkit.json`` beside it,
so they travel with the notebook. Inside a kernel the notebook's own path is not handed to
Python directly; :func:`find_notebook_path` reads the hints that the frontends leave
(VS Code, Jupyter Server, papermill). :func:`locate_store` combines both with the
``CHATKIT_NOTEBOOK_STORE`` override and says where the path came from, so the panel and the
magics can tell the user where their threads live.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FALLBACK_STORE_NAME",
    "STORE_ENV_VAR",
    "STORE_SUFFIX",
    "StoreLocation",
    "find_notebook_path",
    "locate_store",
    "store_path_for",
]

STORE_SUFFIX = ".chatkit.json"
STORE_ENV_VAR = "CHATKIT_NOTEBOOK_STORE"
FALLBACK_STORE_NAME = "chatkit-threads" + STORE_SUFFIX


def store_path_for(notebook_path: str | os.PathLike[str]) -> Path:
    """Return the default store file for a notebook: ``<stem>.chatkit.json`` beside it.

    Args:
        notebook_path: The notebook file, e.g. ``work/analysis.ipynb``.

    Returns:
        ``work/analysis.chatkit.json``.
    """
    path = Path(notebook_path)
    return path.with_name(path.stem + STORE_SUFFIX)


def _as_notebook(value: object, cwd: Path) -> Path | None:
    """Interpret one hint as a notebook path, or ``None`` if it is not one.

    Jupyter Server gives an absolute path in Lab and Notebook 7, but a path relative to the
    server's root when a session was made over REST without a name. The kernel runs in the
    notebook's folder, so a relative path that does not exist from here is taken by name.
    """
    if not isinstance(value, (str, os.PathLike)):
        return None
    text = os.fspath(value).strip()
    if not text or not text.lower().endswith(".ipynb"):
        return None  # a console session, a script, or an empty hint
    path = Path(text).expanduser()
    if path.is_absolute():
        return path
    joined = cwd / path
    if joined.exists():
        return joined
    return cwd / path.name


def find_notebook_path(
    user_ns: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[Path, str] | None:
    """Find the notebook the current kernel belongs to.

    Looks, in order, at ``__vsc_ipynb_file__`` (VS Code), ``JPY_SESSION_NAME`` and
    ``__session__`` (Jupyter Server), and ``PAPERMILL_INPUT_PATH``. A hint that is not an
    ``.ipynb`` path (a console) counts as none.

    Args:
        user_ns: The kernel's user namespace; defaults to the running IPython's, if any.
        environ: Environment variables; defaults to ``os.environ``.
        cwd: The folder relative hints resolve against; defaults to the current directory.

    Returns:
        ``(path, source)`` where ``source`` names the hint used, or ``None``.
    """
    if user_ns is None:
        user_ns = _ipython_user_ns()
    env = os.environ if environ is None else environ
    here = Path.cwd() if cwd is None else cwd
    hints: list[tuple[str, object]] = [
        ("__vsc_ipynb_file__", user_ns.get("__vsc_ipynb_file__")),
        ("JPY_SESSION_NAME", env.get("JPY_SESSION_NAME")),
        ("__session__", user_ns.get("__session__")),
        ("PAPERMILL_INPUT_PATH", env.get("PAPERMILL_INPUT_PATH")),
    ]
    for source, value in hints:
        path = _as_notebook(value, here)
        if path is not None:
            return path, source
    return None


def _ipython_user_ns() -> Mapping[str, Any]:
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is a dependency, but the store works without it
        return {}
    shell = get_ipython()
    return {} if shell is None else shell.user_ns


@dataclass(frozen=True)
class StoreLocation:
    """Where the store file is, and why there.

    Attributes:
        path: The store file.
        notebook_path: The notebook it belongs to, if one was found.
        source: What decided the path: ``"CHATKIT_NOTEBOOK_STORE"``, the notebook hint's
            name (e.g. ``"JPY_SESSION_NAME"``), or ``"fallback"``.
    """

    path: Path
    notebook_path: Path | None
    source: str

    @property
    def is_fallback(self) -> bool:
        """True when no notebook was found and the store sits in the current folder."""
        return self.source == "fallback"

    def describe(self) -> str:
        """One sentence for the user saying where threads are kept and why."""
        if self.source == STORE_ENV_VAR:
            return f"Threads are stored in {self.path} (set by {STORE_ENV_VAR})."
        if self.notebook_path is not None:
            return f"Threads are stored in {self.path}, beside {self.notebook_path.name}."
        return (
            f"No notebook file was found for this kernel, so threads are stored in {self.path}. "
            f"Set {STORE_ENV_VAR} to choose another file."
        )


def locate_store(
    user_ns: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> StoreLocation:
    """Decide which store file this kernel uses.

    ``CHATKIT_NOTEBOOK_STORE`` wins; otherwise the notebook's sidecar from
    :func:`store_path_for`; with no notebook, ``chatkit-threads.chatkit.json`` in the
    current folder.

    Args:
        user_ns: As for :func:`find_notebook_path`.
        environ: As for :func:`find_notebook_path`.
        cwd: As for :func:`find_notebook_path`.

    Returns:
        The chosen :class:`StoreLocation`.
    """
    env = os.environ if environ is None else environ
    here = Path.cwd() if cwd is None else cwd
    found = find_notebook_path(user_ns, env, here)
    notebook = found[0] if found else None
    override = env.get(STORE_ENV_VAR, "").strip()
    if override:
        return StoreLocation(here / Path(override).expanduser(), notebook, STORE_ENV_VAR)
    if found is not None:
        return StoreLocation(store_path_for(found[0]), found[0], found[1])
    return StoreLocation(here / FALLBACK_STORE_NAME, None, "fallback")
