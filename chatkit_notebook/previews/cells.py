"""The kernel's record of the cells it ran: sources, results, displays and errors.

The kernel side (``kernel/cells.py``) fills one :class:`CellRecord` per session from
IPython's ``pre_run_cell``/``post_run_cell`` events and the display publisher; the agent's
notebook tools (``notebook_cells``, ``read_cell``, ``last_error``) and the "Ask about this
error" line under a failing cell read it. Nothing here imports IPython: an error is read
from the exception's own traceback, and which file is a cell is asked of a function the
kernel side passes in (:data:`CellOf`).

The public API, for every reader:

* :meth:`CellRecord.last_error` -> :class:`CellError` or ``None``: the exception of the
  user's most recent cell (the chat's own ``%chat``/``%chatkit`` cells skipped), ``None``
  when that cell ran without error; :meth:`CellRecord.last_cell` -> that cell's run;
* :meth:`CellRecord.runs` -> the :class:`CellRun` of each cell run, oldest first;
* :meth:`CellRecord.run_of` -> the latest run of one execution count;
* :meth:`CellRecord.listen` -> be called with each run as it is recorded (still inside the
  cell, on the main thread).

What is recorded is raw: the sources, messages and texts are the user's own, not yet
redacted. Whatever shows them to a model or a person outside the kernel redacts them
first (``previews/redact.py``), as the notebook tools do.

Recording is cheap by construction (the post-run hook must add well under a millisecond
to a cell): a run keeps references and bounded texts, never a repr of a result; an error
keeps its frames' file names, line numbers and the names its failing line reads.
"""

from __future__ import annotations

import io
import keyword
import linecache
import logging
import re
import sys
import threading
import time
import tokenize
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

__all__ = [
    "MAX_OUTPUT_CHARS",
    "CellError",
    "CellOf",
    "CellOutput",
    "CellRecord",
    "CellRun",
    "Frame",
    "error_of",
    "is_chat_cell",
    "names_read",
]

logger = logging.getLogger("chatkit_notebook")

MAX_OUTPUT_CHARS = 4000
"""The most characters of one output's text a run keeps (tools show less)."""

MAX_RUNS = 2000
"""The most runs a record keeps; older ones are dropped (their cells show as not run)."""

MAX_OUTPUTS = 20
"""The most displayed outputs one run keeps (the rest are counted)."""

MAX_FRAMES = 40
"""The most frames an error keeps, the last ones (where it failed) first to stay."""

CellOf = Callable[[str], "int | None"]
"""Which execution count compiled a file name (``None``: not a cell). IPython knows."""

_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


@dataclass(frozen=True)
class Frame:
    """One frame of a traceback, or a run of library frames summarised.

    Attributes:
        filename: The file (a cell's code name for a cell).
        line: The line number in that file (in the cell, for a cell).
        function: The function's name (``<module>`` for a cell's top level).
        text: The source line, stripped ("" when unknown).
        cell: The execution count of the cell this frame runs in, else ``None``.
        library: For a summary of library frames, the top-level package ("pandas");
            ``None`` for a frame in the user's code.
        count: How many frames a library summary stands for (1 for a user frame).
    """

    filename: str
    line: int
    function: str
    text: str = ""
    cell: int | None = None
    library: str | None = None
    count: int = 1

    @property
    def is_user(self) -> bool:
        """Whether this frame is in the user's code (a cell or a file of their own)."""
        return self.library is None


@dataclass(frozen=True)
class CellError:
    """The exception a cell raised, as the tools and the error line need it.

    Attributes:
        type_name: The exception's class, qualified outside builtins ("KeyError",
            "pandas.errors.ParserError").
        message: ``str(exception)``, bounded; raw (redact before showing).
        cell: The execution count of the cell that raised (``None``: unknown).
        line: The failing line's number in that cell (the deepest frame in it).
        line_text: That line's source, stripped.
        frames: The user's frames, outermost first, with library frames in between and
            after them summarised (:attr:`Frame.library`).
        names: The values of the names the failing line reads, from the deepest user
            frame (its locals, then its globals): what a tool previews. Not compared,
            not shown in ``repr``. Only the newest error of a record keeps them.
        at: When it was recorded (``time.time()``).
    """

    type_name: str
    message: str
    cell: int | None
    line: int | None
    line_text: str
    frames: tuple[Frame, ...] = ()
    names: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)
    at: float = 0.0

    @property
    def headline(self) -> str:
        """``KeyError: 'revenu'``: the traceback's last line (raw)."""
        return f"{self.type_name}: {self.message}" if self.message else self.type_name


@dataclass(frozen=True)
class CellOutput:
    """One output a cell showed: its result, a display, or its error.

    Attributes:
        kind: ``"result"`` (the cell's value, ``Out[n]``), ``"display"``, ``"stream"``
            (printed text) or ``"error"``.
        mimes: The MIME types of the output's bundle.
        text: Its ``text/plain`` or printed text (bounded to :data:`MAX_OUTPUT_CHARS`), raw.
        value: The result object itself (only for ``"result"``; not compared or shown).
        data: What of a display's bundle is kept besides its text (an image's first bytes,
            a widget's model id).
        stream: For printed text, ``"stdout"`` or ``"stderr"``.
    """

    kind: str
    mimes: tuple[str, ...] = ()
    text: str = ""
    value: object = field(default=None, compare=False, repr=False)
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    stream: str = ""

    @property
    def is_widget(self) -> bool:
        """Whether the output is a widget (ipywidgets, anywidget)."""
        return _WIDGET_MIME in self.mimes

    @property
    def image_mime(self) -> str | None:
        """The output's image type, if it shows an image."""
        return next((m for m in _IMAGE_MIMES if m in self.mimes), None)


@dataclass(frozen=True)
class CellRun:
    """One run of one cell, as the kernel saw it.

    Attributes:
        number: The execution count (``In[number]``); ``None`` for a silent run.
        source: The cell's source as typed (raw).
        cell_id: The frontend's cell id (Jupyter sends it; ``None`` from a terminal).
        outputs: What it showed, in order: displays, then its result or its error.
        error: The exception it raised, if it did.
        more_outputs: How many displayed outputs were not kept (beyond :data:`MAX_OUTPUTS`).
        started: When it started (``time.time()``).
        seconds: How long it ran.
    """

    number: int | None
    source: str
    cell_id: str | None = None
    outputs: tuple[CellOutput, ...] = ()
    error: CellError | None = None
    more_outputs: int = 0
    started: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the cell ran without raising."""
        return self.error is None


class CellRecord:
    """The cells one kernel ran since ``%load_ext``, and what each showed.

    The kernel side calls :meth:`started`, :meth:`displayed` and :meth:`finished` on the
    main thread; readers (tools on worker threads, the panel) call :meth:`runs`,
    :meth:`last_error` and :meth:`run_of`, which copy under a lock.
    """

    def __init__(self, max_runs: int = MAX_RUNS) -> None:
        self._lock = threading.Lock()
        self._runs: deque[CellRun] = deque(maxlen=max_runs)
        self._current: list[CellOutput | _Printed] | None = None
        self._dropped = 0
        self._started = 0.0
        self._cell_id: str | None = None
        self._listeners: list[Callable[[CellRun], object]] = []

    def __repr__(self) -> str:
        return f"<CellRecord: {len(self._runs)} runs>"

    # -- writing (the kernel's main thread) ------------------------------------------------

    def started(self, cell_id: str | None = None) -> None:
        """A cell starts: what it displays from now on is its output."""
        self._current, self._dropped = [], 0
        self._started, self._cell_id = time.time(), cell_id

    def printed(self, stream: str, text: str) -> None:
        """The running cell printed ``text`` to ``stream`` ("stdout", "stderr"); kept
        bounded, one output per run of writes to one stream."""
        current = self._current
        if current is None or not text:
            return
        last = current[-1] if current else None
        if isinstance(last, _Printed) and last.stream == stream:
            last.add(text)
        elif len(current) >= MAX_OUTPUTS:
            self._dropped += 1
        else:
            current.append(_Printed(stream, text[:MAX_OUTPUT_CHARS]))

    def displayed(self, data: Mapping[str, Any]) -> None:
        """The running cell displayed ``data`` (a MIME bundle); kept bounded."""
        current = self._current
        if current is None:
            return
        if len(current) >= MAX_OUTPUTS:
            self._dropped += 1
            return
        text = data.get("text/plain", "")
        current.append(
            CellOutput(
                kind="display",
                mimes=tuple(data),
                text=text[:MAX_OUTPUT_CHARS] if isinstance(text, str) else "",
                data=_kept_data(data),
            )
        )

    def finished(
        self,
        number: int | None,
        source: str,
        *,
        result: object = None,
        error: CellError | None = None,
        cell_id: str | None = None,
    ) -> CellRun:
        """The cell ended; record its run (with its result or its error) and return it."""
        outputs = [
            item.output() if isinstance(item, _Printed) else item for item in self._current or ()
        ]
        if result is not None:
            outputs.append(CellOutput(kind="result", mimes=("text/plain",), value=result))
        if error is not None:
            outputs.append(CellOutput(kind="error", text=error.headline[:MAX_OUTPUT_CHARS]))
        run = CellRun(
            number=number,
            source=source,
            cell_id=cell_id if cell_id is not None else self._cell_id,
            outputs=tuple(outputs),
            error=error,
            more_outputs=self._dropped,
            started=self._started,
            seconds=time.time() - self._started if self._started else 0.0,
        )
        with self._lock:
            if error is not None:
                self._forget_older_names()
            self._runs.append(run)
        self._current, self._cell_id = None, None
        for listener in list(self._listeners):
            try:
                listener(run)
            except Exception:  # a listener must not break the user's cells
                logger.warning("a cell listener failed", exc_info=True)
        return run

    def listen(self, callback: Callable[[CellRun], object]) -> Callable[[], None]:
        """Call ``callback(run)`` after each run is recorded, on the thread that ran the
        cell (the kernel's main thread, still inside the cell: what it displays goes under
        the cell, as "Ask about this error" does). Returns a function that stops listening.
        """
        self._listeners.append(callback)

        def forget() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return forget

    def _forget_older_names(self) -> None:
        """Let go of the values an older error's failing line read: only the newest error
        keeps them (as IPython keeps only the last traceback), so a large frame a function
        made is not kept alive by an error nobody asks about any more."""
        for index in range(len(self._runs) - 1, -1, -1):
            old = self._runs[index]
            if old.error is not None and old.error.names:
                self._runs[index] = replace(old, error=replace(old.error, names={}))
                return

    # -- reading (any thread) --------------------------------------------------------------

    def runs(self) -> tuple[CellRun, ...]:
        """Every recorded run, oldest first."""
        with self._lock:
            return tuple(self._runs)

    def last_run(self) -> CellRun | None:
        """The most recent run, or ``None`` before any."""
        with self._lock:
            return self._runs[-1] if self._runs else None

    def last_error(self) -> CellError | None:
        """The exception of the user's most recent cell (:meth:`last_cell`); ``None`` when
        it ran without error, or no cell ran yet."""
        run = self.last_cell()
        return run.error if run is not None else None

    def last_cell(self) -> CellRun | None:
        """The most recent run of one of the user's cells: silent runs (no execution
        count) and the chat's own cells (``%chat``, ``%%chat``, ``%chatkit``: opening the
        panel or switching a setting after an error) are skipped."""
        with self._lock:
            for run in reversed(self._runs):
                if run.number is not None and not is_chat_cell(run.source):
                    return run
        return None

    def run_of(self, number: int) -> CellRun | None:
        """The latest run with execution count ``number``."""
        with self._lock:
            return next((r for r in reversed(self._runs) if r.number == number), None)


class _Printed:
    """Printed text of one stream, growing while the cell prints (bounded)."""

    def __init__(self, stream: str, text: str) -> None:
        self.stream = stream
        self.parts = [text]
        self.size = len(text)

    def add(self, text: str) -> None:
        if self.size < MAX_OUTPUT_CHARS:
            self.parts.append(text[: MAX_OUTPUT_CHARS - self.size])
        self.size += len(text)

    def output(self) -> CellOutput:
        text = "".join(self.parts)
        if self.size > len(text):
            text += f"\n… {self.size - len(text):,} more characters"
        return CellOutput(kind="stream", mimes=("text/plain",), text=text, stream=self.stream)


_CHAT_CELL = re.compile(r"\A\s*%{1,2}chat(?:kit)?(?![\w])")


def is_chat_cell(source: str) -> bool:
    """Whether a cell is the chat's own (``%chat ...``, ``%%chat``, ``%chatkit ...``)."""
    return _CHAT_CELL.match(source) is not None


def _kept_data(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """What of a display bundle a run keeps beside its text: an image's first bytes (for
    its size) and a widget's model reference. Never the whole image."""
    kept: dict[str, Any] = {}
    for mime in ("image/png", "image/jpeg", "image/gif"):
        value = data.get(mime)
        if isinstance(value, (str, bytes)):
            kept[mime] = value[:4096]
    widget = data.get(_WIDGET_MIME)
    if isinstance(widget, Mapping):
        kept[_WIDGET_MIME] = {"model_id": widget.get("model_id")}
    return kept


# -- reading an exception -------------------------------------------------------------------


def error_of(
    error: BaseException, cell_of: CellOf, *, message_chars: int = MAX_OUTPUT_CHARS
) -> CellError:
    """Read what the tools need from an exception a cell raised.

    Frames before the first cell frame (IPython's own ``run_code``) are dropped; frames in
    installed libraries and the standard library are summarised per package; the failing
    line is the deepest frame that is in a cell (else the deepest user frame).
    """
    frames: list[Frame] = []
    deepest: tuple[Frame, dict[str, object], dict[str, object]] | None = None
    in_user_code = False
    for tb in _tracebacks(error.__traceback__):
        code = tb.tb_frame.f_code
        filename, line = code.co_filename, tb.tb_lineno
        cell = cell_of(filename)
        library = None if cell is not None else _library_of(tb.tb_frame.f_globals, filename)
        if not in_user_code and cell is None:
            continue  # the shell's frames before the cell's code
        in_user_code = True
        text = linecache.getline(filename, line).strip()
        frame = Frame(filename, line, code.co_name, text, cell, library)
        if library is not None and frames and frames[-1].library == library:
            last = frames[-1]
            frames[-1] = Frame(
                last.filename, last.line, last.function, last.text, None, library, last.count + 1
            )
        else:
            frames.append(frame)
        if library is None and (deepest is None or cell is not None or deepest[0].cell is None):
            deepest = (frame, tb.tb_frame.f_locals, tb.tb_frame.f_globals)
    frames = frames[-MAX_FRAMES:]
    failing = deepest[0] if deepest is not None else None
    if failing is None and isinstance(error, SyntaxError):  # it never ran: no frames
        cell = cell_of(error.filename or "")
        failing = Frame(error.filename or "", error.lineno or 0, "<module>",
                        (error.text or "").strip(), cell)  # fmt: skip
    names: dict[str, object] = {}
    if deepest is not None:
        frame, local_ns, global_ns = deepest
        for name in names_read(frame.text):
            for space in (local_ns, global_ns):
                if name in space:
                    names[name] = space[name]
                    break
    return CellError(
        type_name=_type_name(type(error)),
        message=_message(error)[:message_chars],
        cell=failing.cell if failing is not None else None,
        line=failing.line if failing is not None else None,
        line_text=failing.text if failing is not None else "",
        frames=tuple(frames),
        names=names,
        at=time.time(),
    )


def _tracebacks(tb: TracebackType | None) -> list[TracebackType]:
    found: list[TracebackType] = []
    while tb is not None and len(found) < 10_000:
        found.append(tb)
        tb = tb.tb_next
    return found


def _library_of(global_ns: Mapping[str, Any], filename: str) -> str | None:
    """The top-level package of an installed or standard-library frame; ``None`` for the
    user's own files (anything outside ``sys.prefix``'s libraries and site-packages)."""
    if "site-packages" in filename or "dist-packages" in filename or _in_stdlib(filename):
        module = global_ns.get("__name__")
        top = module.split(".")[0] if isinstance(module, str) and module else ""
        return top or "a library"
    if filename.startswith("<frozen "):
        return "python"
    return None


def _in_stdlib(filename: str) -> bool:
    prefixes = {sys.base_prefix, sys.prefix, sys.exec_prefix}
    return any(filename.startswith(p + "/lib/python") for p in prefixes)


def _type_name(cls: type) -> str:
    module = getattr(cls, "__module__", "builtins")
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in ("builtins", "__main__") else f"{module}.{name}"


def _message(error: BaseException) -> str:
    try:
        return str(error)
    except BaseException:  # a broken __str__ must not break the record
        return ""


def names_read(line: str) -> list[str]:
    """The variable names a line of code reads, in order, without keywords, attributes
    (``df.col`` reads ``df``) or keyword-argument names."""
    found: list[str] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return found
    previous: tokenize.TokenInfo | None = None
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if (
            token.type == tokenize.NAME
            and not keyword.iskeyword(token.string)
            and not (previous is not None and previous.string == ".")
            and not (after is not None and after.string == "=" and _in_call(tokens, i))
            and token.string not in found
        ):
            found.append(token.string)
        previous = token
    return found


def _in_call(tokens: list[tokenize.TokenInfo], index: int) -> bool:
    """Whether the token at ``index`` is inside brackets (so ``name=`` names an argument)."""
    depth = 0
    for token in tokens[:index]:
        if token.string in "([{":
            depth += 1
        elif token.string in ")]}":
            depth -= 1
    return depth > 0
