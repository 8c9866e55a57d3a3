"""The per-request context that the store, server and tools receive.

ChatKit passes one context object through every ``Store`` and ``ChatKitServer`` call. Ours
says which notebook the request is about and which namespace the agent's tools may read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["NotebookContext"]


@dataclass
class NotebookContext:
    """What a ChatKit request needs to know about the notebook it serves.

    Attributes:
        namespace: The user's variables (the kernel's ``user_ns``). Tools read it, never
            write it. Left out of ``repr`` because it can be enormous.
        notebook_path: The notebook file, when known; ``None`` in a console or plain script.
        hidden: Variable names the agent may not read (``%chatkit hide NAME``). Tools act
            as if these variables did not exist.
    """

    namespace: dict[str, Any] = field(default_factory=dict, repr=False)
    notebook_path: Path | None = None
    hidden: set[str] = field(default_factory=set)
