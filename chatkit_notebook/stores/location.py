"""Where a notebook's threads are kept.

A notebook ``analysis.ipynb`` keeps its conversations in ``analysis.chatkit.json`` beside it,
so they travel with the notebook. Inside a kernel the notebook's own path is not handed to
Python directly; :func:`find_notebook_path` reads the hints that the frontends leave
(VS Code, Jupyter Server, papermill). :func:`locate_store` combines both with the choice
made by ``configure(store=...)`` (or ``%chatkit store``) or ``CHATKIT_NOTEBOOK_STORE``, and
says where the threads are and why there, so the panel and the magics can tell the user.

The choice is a file path or a PostgreSQL connection string (``postgresql://...``), for a
team's database; there a notebook's threads are found by its *notebook key*, the
notebook's path relative to the Jupyter server's root (:func:`notebook_key_for`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._targets import is_database_url, masked, needs_psycopg

if TYPE_CHECKING:
    from chatkit.store import Store

    from ..context import NotebookContext

__all__ = [
    "DEFAULT_NOTEBOOK_KEY",
    "FALLBACK_STORE_NAME",
    "SHARED_ENV_VAR",
    "STORE_ENV_VAR",
    "STORE_SUFFIX",
    "StoreLocation",
    "find_notebook_path",
    "is_database_url",
    "locate_store",
    "location_for",
    "needs_psycopg",
    "notebook_key_for",
    "store_path_for",
]

STORE_SUFFIX = ".chatkit.json"
STORE_ENV_VAR = "CHATKIT_NOTEBOOK_STORE"
SHARED_ENV_VAR = "CHATKIT_NOTEBOOK_STORE_SHARED"
FALLBACK_STORE_NAME = "chatkit-threads" + STORE_SUFFIX
DEFAULT_NOTEBOOK_KEY = "default"
"""The notebook key of a kernel that belongs to no notebook file (a console, a script)."""
_CONFIGURED = "configure"
# libpq's key=value form names one of these first; a file name never looks like it.
_TRUE = {"1", "true", "yes", "on"}
logger = logging.getLogger("chatkit_notebook")


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


def notebook_key_for(notebook: Path, roots: Iterable[Path] | None = None) -> str:
    """The key a database store files a notebook's threads under.

    It is the notebook's path relative to the Jupyter server's root (on JupyterHub, usually
    the user's home), so everyone who opens ``team/sales.ipynb`` from their own server
    meets the same key. With no running server found, the path relative to the home folder;
    failing that, the absolute path.

    Args:
        notebook: The notebook file.
        roots: The servers' root folders; by default those of the running Jupyter servers
            (``jupyter_server.serverapp.list_running_servers``).
    """
    candidates = list(_server_roots() if roots is None else roots)
    candidates.append(Path.home())
    for root in candidates:
        for base, path in ((root, notebook), (_real(root), _real(notebook))):
            with contextlib.suppress(ValueError):
                key = path.relative_to(base).as_posix()
                if key != ".":
                    return key
    return notebook.as_posix()


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def _server_roots() -> list[Path]:
    """The root folders of the Jupyter servers running for this user, deepest first."""
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:  # the kernel's environment need not have Jupyter Server
        return []
    roots = []
    try:
        for info in list_running_servers():
            root = info.get("root_dir") or info.get("notebook_dir")
            if root:
                roots.append(Path(root).expanduser())
    except Exception:  # a stale or unreadable server file: use what was read
        logger.debug("listing the running Jupyter servers failed", exc_info=True)
    return sorted(roots, key=lambda root: len(root.parts), reverse=True)


@dataclass(frozen=True)
class StoreLocation:
    """Where the threads are kept, and why there.

    Attributes:
        path: The store file; ``None`` when the threads are in a database.
        notebook_path: The notebook they belong to, if one was found.
        source: What decided: ``"configure"`` (``configure(store=...)`` or ``%chatkit
            store``), ``"CHATKIT_NOTEBOOK_STORE"``, the notebook hint's name (e.g.
            ``"JPY_SESSION_NAME"``), or ``"fallback"``.
        url: The PostgreSQL connection string, when the threads are in a database.
        notebook_key: The database's key for this notebook's threads.
        shared: Everyone on the notebook key sees its threads (a database only).
    """

    path: Path | None
    notebook_path: Path | None
    source: str
    url: str | None = None
    notebook_key: str | None = None
    shared: bool = False

    @property
    def is_fallback(self) -> bool:
        """True when no notebook was found and the store sits in the current folder."""
        return self.source == "fallback"

    @property
    def is_database(self) -> bool:
        """True when the threads are in PostgreSQL."""
        return self.url is not None

    @property
    def display(self) -> str:
        """The file, or the database with its password masked: safe to show anywhere."""
        if self.url is None:
            return str(self.path)
        return masked(self.url)

    @property
    def scope(self) -> str:
        """Whose threads of which notebook a database shows, in a few words."""
        who = "everyone's (shared)" if self.shared else "yours only"
        return f"notebook key {self.notebook_key!r}, {who}"

    def describe(self) -> str:
        """One sentence for the user saying where threads are kept and why."""
        if self.url is not None:
            why = _why(self.source)
            return f"Threads are stored in PostgreSQL {self.display} ({self.scope}{why})."
        if self.source == STORE_ENV_VAR:
            return f"Threads are stored in {self.path} (set by {STORE_ENV_VAR})."
        if self.source == _CONFIGURED:
            return f"Threads are stored in {self.path}."
        if self.notebook_path is not None:
            return f"Threads are stored in {self.path}, beside {self.notebook_path.name}."
        return (
            f"No notebook file was found for this kernel, so threads are stored in {self.path}. "
            f"Set {STORE_ENV_VAR} to choose another file."
        )

    def open(self) -> Store[NotebookContext]:
        """The store at this location: a ``NotebookStore``, or a ``PostgresStore``.

        Raises:
            ConfigError: a database was chosen but ``chatkit-notebook[postgres]`` is not
                installed, or the connection string cannot be parsed.
        """
        if self.url is None:
            from .file import NotebookStore

            assert self.path is not None  # a file location always has one
            return NotebookStore(self.path)
        try:
            from .postgres import PostgresStore
        except ImportError as e:
            raise needs_psycopg(e) from None
        return PostgresStore(self.url, notebook_key=self.notebook_key, shared=self.shared)


def _why(source: str) -> str:
    if source == STORE_ENV_VAR:
        return f"; set by {STORE_ENV_VAR}"
    return ""


def locate_store(
    user_ns: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    *,
    roots: Iterable[Path] | None = None,
) -> StoreLocation:
    """Decide where this kernel keeps its threads.

    In order: ``configure(store=...)`` (or ``%chatkit store``); ``CHATKIT_NOTEBOOK_STORE``
    (with ``CHATKIT_NOTEBOOK_STORE_SHARED=1`` to share a database's threads); the notebook's
    sidecar from :func:`store_path_for`; with no notebook, ``chatkit-threads.chatkit.json``
    in the current folder. Each may be a file path or a PostgreSQL connection string.

    Args:
        user_ns: As for :func:`find_notebook_path`.
        environ: As for :func:`find_notebook_path`.
        cwd: As for :func:`find_notebook_path`.
        roots: As for :func:`notebook_key_for`.

    Returns:
        The chosen :class:`StoreLocation`.
    """
    from ..config import store_choice

    env = os.environ if environ is None else environ
    here = Path.cwd() if cwd is None else cwd
    found = find_notebook_path(user_ns, env, here)
    notebook = found[0] if found else None
    chosen = store_choice()
    if chosen is not None:
        target, shared, key = chosen.target, chosen.shared, chosen.notebook_key
        source = _CONFIGURED
    else:
        target = env.get(STORE_ENV_VAR, "").strip()
        shared = env.get(SHARED_ENV_VAR, "").strip().lower() in _TRUE
        key, source = None, STORE_ENV_VAR
    if target:
        return location_for(
            target, notebook, source, cwd=here, shared=shared, notebook_key=key, roots=roots
        )
    if found is not None:
        return StoreLocation(store_path_for(found[0]), found[0], found[1])
    return StoreLocation(here / FALLBACK_STORE_NAME, None, "fallback")


def location_for(
    target: str,
    notebook: Path | None,
    source: str,
    *,
    cwd: Path | None = None,
    shared: bool = False,
    notebook_key: str | None = None,
    roots: Iterable[Path] | None = None,
) -> StoreLocation:
    """The location of a chosen store: a file (relative to ``cwd``) or a database.

    Args:
        target: A file path or a PostgreSQL connection string.
        notebook: The notebook the threads belong to, if known.
        source: What chose it (see :attr:`StoreLocation.source`).
        cwd: The folder a relative file path is in; defaults to the current directory.
        shared: A database's threads are everyone's on the notebook key.
        notebook_key: A database's key; by default :func:`notebook_key_for` the notebook,
            or ``"default"`` without one.
        roots: As for :func:`notebook_key_for`.
    """
    if is_database_url(target):
        key = notebook_key
        if key is None:
            key = DEFAULT_NOTEBOOK_KEY if notebook is None else notebook_key_for(notebook, roots)
        return StoreLocation(None, notebook, source, url=target, notebook_key=key, shared=shared)
    here = Path.cwd() if cwd is None else cwd
    return StoreLocation(here / Path(target).expanduser(), notebook, source)
