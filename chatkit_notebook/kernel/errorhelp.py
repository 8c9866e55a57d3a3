"""Help under a failing cell: the "Ask about this error" line, and the fix it leads to.

The session registers :meth:`ErrorHelp.after_cell` as IPython's ``post_run_cell`` hook,
after the record of cells (``kernel/cells.py``). When a cell raises an ``Exception`` (an
interrupt is no failure to explain, and the package's own errors already say what to do)
and a person can click (:meth:`ErrorHelp.shows_line`: a notebook front end with widgets
running the cell; never nbclient, nbval, papermill or a terminal), one
:class:`~chatkit_notebook.panel.errorline.ErrorLine` goes under the traceback. Its click
asks "Why did cell [7] fail?" in the notebook's current thread, in a panel it opens
beneath itself, with the error attached as a tag (``_items.error_tag``: the cell and its
redacted headline; the server and the agent's ``last_error`` read the rest). When the
answer holds code (its last code block, else the code the agent ran for it), the line
offers "Use this fix": a diff of the failing cell's source, and ``%chatkit insert`` to
take it (:func:`fix_for_insert` gives the same diff there).

``configure(error_help=False)`` or ``%chatkit errors off`` turns the line off.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.display import display

from ..config import error_help_enabled
from ..errors import ChatkitNotebookError
from .cellturn import has_front_end

if TYPE_CHECKING:
    import concurrent.futures

    from chatkit.store import Store
    from IPython.core.interactiveshell import ExecutionResult, InteractiveShell

    from ..context import NotebookContext
    from ..panel.errorline import ErrorLine
    from .session import ChatSession

__all__ = [
    "AskedError",
    "ErrorHelp",
    "FailedCell",
    "Fix",
    "asked_error",
    "fix_for_insert",
    "proposed_fix",
    "question_for",
    "source_digest",
]

logger = logging.getLogger("chatkit_notebook")

_RUNNING: Any = object()  # shows_line(): the running cell's id


@dataclass(frozen=True)
class FailedCell:
    """What the line knows of a failed cell: its execution count, source and error."""

    cell: int | None
    source: str
    headline: str  # "KeyError: 'regoin'", raw (redacted before it leaves the kernel)


def question_for(error: FailedCell) -> str:
    """The question a click asks."""
    if error.cell is None:
        return "Why did this cell fail?"
    return f"Why did cell [{error.cell}] fail?"


class ErrorHelp:
    """The session's ``post_run_cell`` hook and what its lines do when clicked."""

    def __init__(self, session: ChatSession) -> None:
        self._session = session

    @property
    def shell(self) -> InteractiveShell:
        return self._session.shell

    def bind(self) -> None:
        """Watch the cells that run (once)."""
        events = self.shell.events
        if self.after_cell not in events.callbacks["post_run_cell"]:
            events.register("post_run_cell", self.after_cell)

    def unbind(self) -> None:
        events = self.shell.events
        if self.after_cell in events.callbacks["post_run_cell"]:
            events.unregister("post_run_cell", self.after_cell)

    def after_cell(self, result: ExecutionResult) -> None:
        """After each cell: the line under it, if it failed and someone can click."""
        error = result.error_in_exec or result.error_before_exec
        if not isinstance(error, Exception) or isinstance(error, ChatkitNotebookError):
            return  # an interrupt is no failure; the package's own errors say their fix
        if not self.shows_line(getattr(result.info, "cell_id", None)):
            return
        try:
            self.show_line(self._failed(result, error))
        except Exception:  # help for a failed cell must never add a failure of its own
            logger.debug("could not show the error line", exc_info=True)

    def _failed(self, result: ExecutionResult, error: BaseException) -> FailedCell:
        """The failed cell, as the session's record of cells has it (``kernel/cells.py``,
        whose hook ran first), else from IPython's result."""
        run = self._session.cells.last_run()
        count = result.execution_count if isinstance(result.execution_count, int) else None
        if run is not None and run.error is not None and run.number == count:
            return FailedCell(cell=count, source=run.source, headline=run.error.headline)
        message = str(error)
        headline = f"{type(error).__name__}: {message}" if message else type(error).__name__
        source = str(getattr(result.info, "raw_cell", "") or "")
        return FailedCell(cell=count, source=source, headline=headline)

    def shows_line(self, cell_id: str | None = _RUNNING) -> bool:
        """Whether a failing cell gets the line: turned on, and someone can click it.

        A person can click in a notebook that a front end with widgets runs cell by cell:
        a kernel of Jupyter Server (``JPY_SESSION_NAME``), VS Code or Colab
        (:func:`~.cellturn.has_front_end`) whose cell came with the front end's cell id
        (JupyterLab and Notebook 7 send one with each cell). nbclient, papermill and nbval
        send none, so a harness that sets ``JPY_SESSION_NAME`` itself (as nbval runs often
        do, to name the notebook) still gets no line. ``cell_id`` is the cell's; by default,
        the running cell's.
        """
        if not error_help_enabled() or not has_front_end(self.shell):
            return False
        if cell_id is _RUNNING:
            cell_id = _running_cell_id(self.shell)
        return cell_id is not None or _marked_front_end(self.shell)

    def show_line(self, error: FailedCell) -> ErrorLine:
        """Show the line for ``error`` in the cell's output."""
        from ..panel.errorline import ErrorLine

        line = ErrorLine(lambda shown: self.ask(shown, error))
        display(line)
        return line

    def ask(self, line: ErrorLine, error: FailedCell) -> concurrent.futures.Future[None] | None:
        """The click: ask about ``error`` in the current thread, in a panel under ``line``."""
        from .._items import error_tag
        from ..previews.redact import redact_text
        from .session import loaded

        session = loaded()  # a line from before %reload_ext asks in the session loaded now
        if session is None:
            msg = "the chat is not loaded; run %load_ext chatkit_notebook, then click again"
            raise ChatkitNotebookError(msg)
        panel = session.panel()
        line.host(panel)
        tag = error_tag(error.cell, redact_text(error.headline))
        # The source's hash lets %chatkit insert tell that cell from a later one of its number.
        tag = tag.model_copy(update={"data": {**tag.data, "digest": source_digest(error.source)}})
        sent = panel.send(question_for(error), tags=[tag])
        if sent is not None:
            sent.add_done_callback(lambda _: _after_answer(session, line, panel, error))
        return sent


def _running_cell_id(shell: InteractiveShell) -> str | None:
    """The front end's id of the cell running now (``None``: it sent none)."""
    kernel: Any = getattr(shell, "kernel", None)
    try:
        parent = kernel.get_parent("shell") if kernel is not None else {}
    except Exception:  # an older kernel: no way to tell
        return None
    cell_id = (parent.get("metadata") or {}).get("cellId")
    return cell_id if isinstance(cell_id, str) else None


def _marked_front_end(shell: InteractiveShell) -> bool:
    """VS Code and Colab, known by their own marks (their cell ids are not checked here)."""
    return "__vsc_ipynb_file__" in shell.user_ns or "google.colab" in sys.modules


def _after_answer(session: ChatSession, line: ErrorLine, panel: Any, error: FailedCell) -> None:
    """Once the answer is in (loop thread): offer its fix, if it holds one."""
    from ..panel.errorline import fix_diff

    thread_id = panel.thread_id
    if thread_id is None:
        return

    async def offer() -> None:
        try:
            fix = await proposed_fix(session.store(), thread_id, session.context())
        except Exception:  # no offer is better than a broken one
            logger.debug("could not read the proposed fix", exc_info=True)
            return
        if fix is not None:
            line.offer_fix(fix_diff(error.source, fix.code, cell=error.cell), fix.command)

    session.runtime.submit(offer())


async def _newest_first(
    store: Store[NotebookContext], thread_id: str, context: NotebookContext
) -> Any:
    """The thread's items, newest first, page by page (hidden items too: the store's)."""
    after = None
    while True:
        page = await store.load_thread_items(thread_id, after, 100, "desc", context)
        for item in page.data:
            yield item
        if not page.has_more or page.after is None:
            return
        after = page.after


@dataclass(frozen=True)
class Fix:
    """Code an answer proposes, and the ``%chatkit insert`` that takes it."""

    code: str
    command: str


async def proposed_fix(
    store: Store[NotebookContext], thread_id: str, context: NotebookContext
) -> Fix | None:
    """The fix the last answer proposes: its last code block (``%chatkit insert N``), else
    the code the agent ran in that turn (``%chatkit insert``); ``None`` if it holds no code."""
    from chatkit.types import AssistantMessageItem, UserMessageItem

    from .._items import ran_code
    from ..panel.markdown import code_blocks

    ran: str | None = None
    answered = False  # only the newest answer's blocks: what %chatkit insert N reads
    async for item in _newest_first(store, thread_id, context):
        if isinstance(item, UserMessageItem):
            break
        if isinstance(item, AssistantMessageItem):
            blocks = code_blocks("".join(part.text for part in item.content))
            if blocks and not answered:
                return Fix(blocks[-1], f"%chatkit insert {len(blocks)}")
            answered = True
        elif ran is None:
            ran = ran_code(item)
    return Fix(ran, "%chatkit insert") if ran is not None else None


@dataclass(frozen=True)
class AskedError:
    """The cell a thread's question about an error named, and its source's hash."""

    cell: int | None
    digest: str | None


async def asked_error(
    store: Store[NotebookContext], thread_id: str, context: NotebookContext
) -> AskedError | None:
    """The error the thread's latest question about an error attached, or ``None``."""
    from chatkit.types import UserMessageItem, UserMessageTagContent

    from .._items import is_error_tag

    async for item in _newest_first(store, thread_id, context):
        if not isinstance(item, UserMessageItem):
            continue
        for part in item.content:
            if is_error_tag(part) and isinstance(part, UserMessageTagContent):
                cell, digest = part.data.get("cell"), part.data.get("digest")
                return AskedError(
                    cell=cell if isinstance(cell, int) and not isinstance(cell, bool) else None,
                    digest=digest if isinstance(digest, str) else None,
                )
    return None


def fix_for_insert(session: ChatSession, asked: AskedError | None, code: str) -> list[str]:
    """The diff ``%chatkit insert`` shows: the cell the thread asked about (as this kernel
    ran it) against ``code``; empty when the thread asked about no error, or the kernel no
    longer has that cell (a restart, or another cell has its number since)."""
    from ..panel.errorline import fix_diff

    if asked is None or asked.cell is None:
        return []
    run = session.cells.run_of(asked.cell)
    if run is not None:
        source = run.source
    else:  # loaded after that cell ran: IPython's history has it
        history = getattr(session.shell.history_manager, "input_hist_raw", [])
        if not 0 < asked.cell < len(history):
            return []
        source = history[asked.cell]
    if asked.digest is not None and asked.digest != source_digest(source):
        return []
    return fix_diff(source, code, cell=asked.cell)


def source_digest(source: str) -> str:
    """A short hash of a cell's source: the same cell, or another of the same number."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]
