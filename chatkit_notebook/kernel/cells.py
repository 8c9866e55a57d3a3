"""Recording the cells a kernel runs into the session's :class:`CellRecord`.

Three IPython hooks, registered by ``%load_ext`` and removed by ``%unload_ext``:

* ``pre_run_cell``: a cell starts (with the frontend's cell id); while it runs, ipykernel's
  ``sys.stdout``/``sys.stderr`` echo what it prints into the record (their ``echo``, set
  once while loaded);
* the display publisher's hook (ipykernel's ``ZMQDisplayPublisher.register_hook``): what
  the running cell displays, as MIME bundles (the message still goes out unchanged);
* ``post_run_cell``: the cell ended, with its result or its exception.

Only the exception path does real work (reading the traceback's frames); a cell that
succeeds costs a few attribute reads and one append (``bench/cells_bench.py``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..previews.cells import CellRecord, error_of

if TYPE_CHECKING:
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult, InteractiveShell

__all__ = ["CellWatch"]

logger = logging.getLogger("chatkit_notebook")


class CellWatch:
    """Follows one shell's cells into a :class:`CellRecord` (:meth:`start`, :meth:`stop`)."""

    def __init__(self, shell: InteractiveShell, record: CellRecord | None = None) -> None:
        self.shell = shell
        self.record = record if record is not None else CellRecord()
        self._publisher: Any = None
        self._echoing: list[Any] = []

    def start(self) -> None:
        """Register the hooks (idempotent)."""
        self.stop()
        events = self.shell.events
        events.register("pre_run_cell", self._pre_run_cell)
        events.register("post_run_cell", self._post_run_cell)
        publisher: Any = getattr(self.shell, "display_pub", None)
        if publisher is not None and callable(getattr(publisher, "register_hook", None)):
            publisher.register_hook(self._display_hook)
            self._publisher = publisher
        self._listen_to_streams()

    def stop(self) -> None:
        """Remove the hooks."""
        self._stop_listening()
        events = self.shell.events
        for event, callback in (
            ("pre_run_cell", self._pre_run_cell),
            ("post_run_cell", self._post_run_cell),
        ):
            if callback in events.callbacks[event]:
                events.unregister(event, callback)
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            with contextlib.suppress(Exception):
                publisher.unregister_hook(self._display_hook)

    def cell_of(self, filename: str) -> int | None:
        """The execution count whose cell compiled ``filename`` (``None``: not a cell)."""
        found = getattr(self.shell.compile, "_filename_map", {}).get(filename)
        return found if isinstance(found, int) else None

    # -- the hooks (main thread) -----------------------------------------------------------

    def _pre_run_cell(self, info: ExecutionInfo) -> None:
        self.record.started(getattr(info, "cell_id", None))

    def _listen_to_streams(self) -> None:
        """Copy what cells print into the record through ipykernel's ``OutStream.echo`` (a
        stream every write is also sent to): no wrapper around ``sys.stdout``, nothing when
        the kernel echoes already or is not an ipykernel. It stays in place while loaded
        (the record ignores text printed between cells): ipykernel reads ``echo`` from its
        IO thread too, and setting it back to ``None`` under it could break a flush."""
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if hasattr(stream, "echo") and stream.echo is None and hasattr(stream, "pub_thread"):
                stream.echo = _Echo(self.record, name)
                self._echoing.append(stream)

    def _stop_listening(self) -> None:
        streams, self._echoing = self._echoing, []
        for stream in streams:
            if isinstance(stream.echo, _Echo):
                stream.echo = None

    def _display_hook(self, msg: Any) -> Any:
        """ipykernel calls this with each display message before sending it; pass it on."""
        try:
            if isinstance(msg, Mapping) and msg.get("msg_type") == "display_data":
                data = msg.get("content", {}).get("data")
                if isinstance(data, Mapping):
                    self.record.displayed(data)
        except Exception:  # recording must never lose an output
            logger.debug("could not record a display", exc_info=True)
        return msg

    def _post_run_cell(self, result: ExecutionResult) -> None:
        try:
            info: Any = result.info
            error = result.error_in_exec or result.error_before_exec
            number = None if info.silent or not info.store_history else result.execution_count
            self.record.finished(
                number,
                info.raw_cell,
                result=result.result,
                error=error_of(error, self.cell_of) if error is not None else None,
                cell_id=getattr(info, "cell_id", None),
            )
        except Exception:  # a broken record must not break the user's cells
            logger.warning("could not record a cell", exc_info=True)


class _Echo:
    """What ipykernel's ``OutStream`` echoes each write to: the record's running cell."""

    def __init__(self, record: CellRecord, stream: str) -> None:
        self.record = record
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            self.record.printed(self.stream, text)
        except Exception:  # recording must never break printing
            logger.debug("could not record printed text", exc_info=True)
        return len(text)

    def flush(self) -> None:
        pass
