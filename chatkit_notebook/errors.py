"""Exceptions and warnings raised by chatkit-notebook.

Every error the package raises on purpose derives from one root, so a notebook can catch
them all with ``except ChatkitNotebookError``::

    ChatkitNotebookError
    ├── StoreError                 the thread store could not do what was asked
    │   ├── StoreCorruptError      the store file is not a readable chatkit-notebook store
    │   ├── StoreVersionError      the file was written by a newer major schema version
    │   ├── StoreLockTimeout       another process held the store's lock for too long
    │   └── StoreReadOnlyError     the store can be read but not written
    ├── ConfigError                a setting (model, base URL, path, ...) is unusable
    ├── RequestError               a ChatKit request names a bad value (HTTP 4xx)
    └── ServerFailure              the chat server itself failed (a bug): a request id to quote

    StoreWarning (UserWarning)     the store recovered from a problem and carried on

ChatKit's own ``chatkit.store.NotFoundError`` is kept where the SDK expects it (unknown
thread, item or attachment ids), so ``ChatKitServer`` maps it as it always does.

Messages name the bad value and say what to do about it.
"""

from __future__ import annotations

import secrets

__all__ = [
    "ChatkitNotebookError",
    "ConfigError",
    "RequestError",
    "ServerFailure",
    "StoreCorruptError",
    "StoreError",
    "StoreLockTimeout",
    "StoreReadOnlyError",
    "StoreVersionError",
    "StoreWarning",
]


class ChatkitNotebookError(Exception):
    """Root of every error chatkit-notebook raises on purpose."""


class StoreError(ChatkitNotebookError):
    """The thread store could not complete an operation; nothing was half-written."""


class StoreCorruptError(StoreError):
    """The store file holds bytes this package cannot read as a store."""


class StoreReadOnlyError(StoreError):
    """The store can be read but refuses writes (for example, an unwritable folder)."""


class StoreVersionError(StoreReadOnlyError):
    """The store file comes from a newer major schema version than this package reads.

    The file is left untouched and opened read-only; upgrading chatkit-notebook fixes it.
    """

    def __init__(self, message: str, *, found: tuple[int, int], supported: tuple[int, int]):
        super().__init__(message)
        self.found = found
        self.supported = supported


class StoreLockTimeout(StoreError):
    """Another process held the store's lock file longer than the timeout."""


class ConfigError(ChatkitNotebookError):
    """A configuration value (model, endpoint, key, path) cannot be used as given."""


class RequestError(ChatkitNotebookError, ValueError):
    """A ChatKit request the schema admits but the server cannot do as asked.

    The message is one line naming the bad field and what is allowed; ``status`` is the
    HTTP status ``%chatkit serve`` answers with (422 a bad value, 409 a request the
    thread's state does not allow now, 400 something this server does not do).
    """

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class ServerFailure(ChatkitNotebookError):
    """The chat server failed on a request it should have done: a bug, not a bad request.

    The client gets one line, "the chat server failed", with a request id to quote
    (``request_id``); the log (the ``chatkit_notebook`` logger) has the traceback under the
    same id. ``%chatkit serve`` answers with a 500.
    """

    def __init__(self, error: BaseException, request_id: str | None = None) -> None:
        self.request_id = request_id or f"req_{secrets.token_hex(6)}"
        self.error = error
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        super().__init__(
            f"the chat server failed (request id {self.request_id}; quote it when reporting "
            f"this, the kernel's log has the details): {reason}"
        )


class StoreWarning(UserWarning):
    """The store met a problem, recovered without losing data, and carried on."""
