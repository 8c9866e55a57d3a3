"""The per-request context that the store, server and tools receive.

ChatKit passes one context object through every ``Store`` and ``ChatKitServer`` call. Ours
says which notebook the request is about, which namespace the agent's tools may read, and
whose request it is.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["NotebookContext", "default_user"]


@dataclass
class NotebookContext:
    """What a ChatKit request needs to know about the notebook it serves.

    Attributes:
        namespace: The user's variables (the kernel's ``user_ns``). Tools read it, never
            write it. Left out of ``repr`` because it can be enormous.
        notebook_path: The notebook file, when known; ``None`` in a console or plain script.
        hidden: Variable names the agent may not read (``%chatkit hide NAME``). Tools act
            as if these variables did not exist.
        user: Who makes the request. A store shared by several people (``PostgresStore``)
            shows each of them only their own threads. Whoever builds the context resolves
            it, by default with :func:`default_user` (``JUPYTERHUB_USER``, else the OS
            user); ``None`` leaves it to the store. ``NotebookStore`` ignores it: its file
            belongs to one notebook.
        cells: The kernel's record of the cells it ran (a
            ``previews.cells.CellRecord``), which the notebook tools read; ``None``
            outside a kernel. Typed loosely because this module sits below ``previews``.
        changed_in: The execution count of the cell that last changed each variable, as
            far as the kernel saw (its stale-answer hook keeps it); empty elsewhere.
    """

    namespace: dict[str, Any] = field(default_factory=dict, repr=False)
    notebook_path: Path | None = None
    hidden: set[str] = field(default_factory=set)
    user: str | None = None
    cells: object | None = field(default=None, repr=False)
    changed_in: Mapping[str, int] = field(default_factory=dict, repr=False)


def default_user() -> str:
    """Who is working in this kernel: ``JUPYTERHUB_USER``, else the OS user.

    Under JupyterHub every user's server often runs as the same OS user (``jovyan``), so the
    hub's user name comes first.
    """
    hub_user = os.environ.get("JUPYTERHUB_USER")
    if hub_user:
        return hub_user
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container's uid with no name (no passwd entry)
        return f"uid-{os.getuid()}"
