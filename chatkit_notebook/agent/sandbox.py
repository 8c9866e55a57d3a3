"""Where the agent's Python runs: a sandbox of the user's variables, and what code reaches.

:func:`sandbox_namespace` builds the namespace an approved ``run_python`` call runs in: a
shallow copy of the user's visible variables in which every pandas DataFrame and Series is
a copy-on-write shallow copy (writes, ``inplace=True`` and ``.loc`` edits change only the
copy) and every numpy array a read-only view, with the thread's scratch names (what earlier
calls defined) on top. It costs one dict copy plus O(1) per frame and array, whatever their
size. Arrow tables, Dask and Spark frames are immutable (every operation makes a new one),
so they are shared as they are, never copied or collected. Lists, dicts and other objects
are the user's own: code that mutates them in place changes them, which is why the
approval card says what the code touches.

:func:`reaches` reads the code's syntax tree for what goes beyond the sandbox (imports of
``os``, ``subprocess``, network and database modules, file writes, ``exec``/``eval``, and
the user's own database handles: a DuckDB connection or a Spark session, which the sandbox
cannot make read-only, :func:`held_handles`), so a person sees at a glance when
"summarise this column" comes back as code that writes files or tables;
:func:`sandbox_changes` the user's names it deletes or rebinds (in the sandbox only).

:func:`execute` runs the code on the calling thread with its output captured: stdout and
stderr (head and tail kept), the value of a trailing expression, the error with the last
frames of its traceback, and the figures it made (matplotlib figures and displayed PNGs),
each closed so it never shows up in another cell. :class:`Stopper` stops it from another
thread: the panel's Stop, the kernel's interrupt button or the time limit.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import ctypes
import io
import linecache
import math
import signal
import struct
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal

from ..previews.namespace import visible

__all__ = [
    "Figure",
    "Outcome",
    "Stopper",
    "execute",
    "held_handles",
    "reaches",
    "sandbox_changes",
    "sandbox_namespace",
    "scratch_after",
]

MAX_FIGURES = 4
"""The most figures one call keeps; the rest are counted."""

MAX_FIGURE_BYTES = 300_000
"""The largest PNG kept; bigger figures are saved again at a lower resolution."""

FIGURE_DPI = 100
"""The resolution figures are saved at."""

MAX_OUTPUT_CHARS = 6_000
"""How much of stdout (and of stderr) is kept: the first and last halves."""

TRACEBACK_FRAMES = 5
"""The frames of an error's traceback the model gets, the innermost last."""

_FILENAME = "<agent code {}>"
_calls = iter(range(1, sys.maxsize))


# -- the namespace -----------------------------------------------------------------------


def protect(value: object) -> object:
    """What the sandbox holds for one of the user's values: a copy-on-write shallow copy of
    a pandas DataFrame or Series, a read-only view of a numpy array, else the value itself
    (Arrow tables, Dask and Spark frames among them: immutable, so shared, never copied)."""
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, (pandas.DataFrame, pandas.Series)):
        return value.copy(deep=False)
    numpy = sys.modules.get("numpy")
    if numpy is not None and type(value) is numpy.ndarray:
        view = value.view()  # type: ignore[attr-defined]
        view.flags.writeable = False
        return view
    return value


def sandbox_namespace(
    user_ns: Mapping[str, Any], hidden: Collection[str], scratch: Mapping[str, Any]
) -> dict[str, Any]:
    """The namespace one call runs in: the user's visible variables, protected, then the
    thread's scratch names. What the agent may not see (``previews.namespace``: private,
    IPython's, start-up and hidden names) is left out, as the tools leave it out."""
    namespace: dict[str, Any] = {"__name__": "__agent__", "__builtins__": builtins}
    with copy_on_write():
        for name, value in visible(user_ns, hidden).items():
            namespace[name] = protect(value)
    namespace.update(scratch)
    return namespace


def scratch_after(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The names a call bound or rebound: what later calls in the thread see."""
    return {
        name: value
        for name, value in after.items()
        if not name.startswith("__") and (name not in before or before[name] is not value)
    }


@contextlib.contextmanager
def copy_on_write() -> Iterator[None]:
    """pandas copy-on-write for shallow copies made (and written) inside: the default from
    pandas 3, switched on here for pandas 2."""
    pandas = sys.modules.get("pandas")
    version = getattr(pandas, "__version__", "3")
    if pandas is None or int(version.split(".")[0]) >= 3:
        yield
        return
    with pandas.option_context("mode.copy_on_write", True):
        yield


# -- what the code reaches ---------------------------------------------------------------

_MODULES = {
    "os": "the operating system (files, processes, environment)",
    "sys": "the interpreter itself",
    "subprocess": "other programs",
    "shutil": "files and folders (copy, move, delete)",
    "pathlib": "files and folders",
    "glob": "the file system",
    "tempfile": "temporary files",
    "pickle": "pickled data, which can run code when loaded",
    "ctypes": "native code",
    "signal": "the process's signals",
    "importlib": "modules loaded by name",
    "socket": "the network",
    "ssl": "the network",
    "http": "the network",
    "urllib": "the network",
    "requests": "the network",
    "httpx": "the network",
    "aiohttp": "the network",
    "ftplib": "the network",
    "smtplib": "email (the network)",
    "webbrowser": "the browser",
    "sqlite3": "a database",
    "duckdb": "a database (DuckDB can read and write files)",
    "sqlalchemy": "a database",
    "psycopg": "a database",
    "psycopg2": "a database",
    "pymysql": "a database",
    "pymongo": "a database",
    "boto3": "cloud services",
    "IPython": "the kernel itself",
    "ipykernel": "the kernel itself",
}
_WRITERS = frozenset(
    {
        "to_csv",
        "to_parquet",
        "to_excel",
        "to_json",
        "to_pickle",
        "to_feather",
        "to_hdf",
        "to_sql",
        "to_stata",
        "to_html",
        "to_latex",
        "to_markdown",
        "to_xml",
        "to_orc",
        "write_csv",
        "write_parquet",
        "write_json",
        "write_ipc",
        "write_excel",
        "write_database",
        "savefig",
        "save",
        "savez",
        "savez_compressed",
        "savetxt",
        "tofile",
        "write_text",
        "write_bytes",
        "unlink",
        "rmdir",
        "mkdir",
        "rename",
        "replace",
        "touch",
        "dump",
    }
)
_DYNAMIC = {
    "exec": "runs code built from text (`exec`)",
    "eval": "runs code built from text (`eval`)",
    "compile": "compiles code from text (`compile`)",
    "__import__": "imports modules by name (`__import__`)",
    "globals": "reaches the namespace directly (`globals()`)",
    "vars": "reaches a namespace directly (`vars()`)",
    "get_ipython": "reaches the kernel itself (`get_ipython()`)",
    "setattr": "changes objects' attributes by name (`setattr`)",
    "delattr": "deletes objects' attributes by name (`delattr`)",
    "input": "waits for typed input (`input()`), which nobody will answer",
    "breakpoint": "starts the debugger (`breakpoint()`)",
}


def reaches(
    code: str, user_names: Collection[str] = (), handles: Mapping[str, str] | None = None
) -> list[str]:
    """What ``code`` reaches beyond the sandbox, one line of Markdown each, in code order.

    Read from the syntax tree, never by running anything: imports of modules that reach
    the system, files, programs, the network or a database; file writes (``open`` for
    writing, ``df.to_csv(...)``, ``df.write.parquet(...)``, ``savefig`` and the like);
    ``exec``/``eval`` and other dynamic code; the user's database handles it uses
    (``handles``, from :func:`held_handles`). Code that does not parse says so. What it
    changes only in the sandbox (``del`` or rebinding of the user's names) is
    :func:`sandbox_changes`.
    """
    return _read(code, user_names, handles or {})[0]


# The user's handles to an engine that holds data outside the kernel and can change it:
# handed to the code as they are (no read-only view of them exists), so the card names
# them. Types are looked up in sys.modules, never imported.
_HANDLES = (
    ("duckdb", "DuckDBPyConnection", "DuckDB connection", "tables and files"),
    ("duckdb", "DuckDBPyRelation", "DuckDB relation", "its connection's tables and files"),
    ("pyspark.sql", "SparkSession", "Spark session", "tables and files"),
    ("pyspark.sql.connect.session", "SparkSession", "Spark Connect session", "tables and files"),
)


def held_handles(user_ns: Mapping[str, Any]) -> dict[str, str]:
    """The user's names bound to a DuckDB connection or relation, or a Spark session, each
    with the line the approval card shows when code uses it.

    Args:
        user_ns: The user's namespace; only the types of its values are read.

    Returns:
        ``{name: "uses your DuckDB connection `con`, which the sandbox cannot protect: it
        can write tables and files"}``, for the names that hold one.
    """
    from ..previews.foreign import is_instance

    found: dict[str, str] = {}
    for name, value in list(user_ns.items()):
        for module, cls, what, writes in _HANDLES:
            if is_instance(value, module, cls):
                found[name] = (
                    f"uses your {what} `{name}`, which the sandbox cannot protect: "
                    f"it can write {writes}"
                )
                break
    return found


def sandbox_changes(code: str, user_names: Collection[str] = ()) -> list[str]:
    """The user's names ``code`` deletes or rebinds, one line of Markdown each, in code
    order: it changes only the sandbox's copy, which is worth seeing all the same."""
    return _read(code, user_names, {})[1]


def _read(
    code: str, user_names: Collection[str], handles: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return [f"does not parse as Python (line {e.lineno}: {e.msg}): it will fail"], []
    found: dict[str, tuple[int, int]] = {}  # line -> where it first occurs
    changed: dict[str, tuple[int, int]] = {}
    users = set(user_names)
    # A handle's name the code binds itself (``con = duckdb.connect()``) is its own.
    rebound = {
        name
        for n in ast.walk(tree)
        if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        for target in (n.targets if isinstance(n, ast.Assign) else [n.target])
        for name in _bound(target)
    }
    node: ast.AST

    def note(into: dict[str, tuple[int, int]], line: str) -> None:
        where = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if line not in into or where < into[line]:
            into[line] = where

    def add(line: str) -> None:
        note(found, line)

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in _MODULES:
                    add(f"imports `{name}`: {_MODULES[top]}")
        elif isinstance(node, ast.Call):
            _call(node, add)
        elif isinstance(node, ast.Name) and node.id in handles and node.id not in rebound:
            add(handles[node.id])
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in users:
                    note(changed, f"deletes `{target.id}` in the sandbox only (yours stays)")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in _bound(target):
                    if name in users:
                        note(changed, f"changes `{name}` in the sandbox only (yours stays)")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            add("declares `global` names")
    return sorted(found, key=found.__getitem__), sorted(changed, key=changed.__getitem__)


def _call(node: ast.Call, add: Any) -> None:
    func = node.func
    if isinstance(func, ast.Name):
        if func.id in _DYNAMIC:
            add(_DYNAMIC[func.id])
        elif func.id == "open" and _opens_for_writing(node):
            add(f"writes a file: `{_source(node)}`")
    elif isinstance(func, ast.Attribute):
        if func.attr in _WRITERS or (func.attr == "open" and _opens_for_writing(node)):
            add(f"writes a file: `{_source(node)}`")
        elif func.attr in _SPARK_WRITES and _spark_writer(func.value):
            add(f"writes data through Spark: `{_source(node)}`")
        elif func.attr in ("system", "popen", "spawnl", "execv", "remove", "rmtree", "kill"):
            add(f"acts on the system: `{_source(node)}`")


# What ends a Spark writer chain, and so writes (``df.write.mode(...).parquet(path)``).
_SPARK_WRITES = frozenset(
    {
        "parquet",
        "csv",
        "json",
        "orc",
        "text",
        "xml",
        "jdbc",
        "saveAsTable",
        "insertInto",
        "toTable",
        "start",
        "create",
        "createOrReplace",
        "append",
        "overwrite",
        "overwritePartitions",
        "replace",
    }
)


def _spark_writer(target: ast.expr) -> bool:
    """``df.write`` / ``df.writeTo(...)`` / ``df.writeStream``, however far down a chain
    (``df.write.mode("overwrite").parquet(...)``)."""
    while isinstance(target, (ast.Attribute, ast.Call)):
        if isinstance(target, ast.Call):
            target = target.func
            continue
        if target.attr in ("write", "writeTo", "writeStream"):
            return True
        target = target.value
    return False


def _opens_for_writing(node: ast.Call) -> bool:
    mode: ast.expr | None = node.args[1] if len(node.args) > 1 else None
    for keyword in node.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if mode is None:
        return False
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return any(flag in mode.value for flag in "wax+")
    return True  # a mode computed at run time: could be anything


def _bound(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _bound(element)
    elif isinstance(target, ast.Starred):
        yield from _bound(target.value)


def _source(node: ast.AST, limit: int = 80) -> str:
    text = ast.unparse(node).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- running -----------------------------------------------------------------------------


@dataclass
class Figure:
    """A figure the code made, as a PNG."""

    png: bytes
    width: int
    height: int


@dataclass
class Outcome:
    """What one run produced."""

    status: Literal["ok", "error", "stopped"]
    seconds: float
    stdout: str = ""
    stderr: str = ""
    value: object = None
    has_value: bool = False
    error: str = ""
    stopped_by: str = ""
    figures: list[Figure] = field(default_factory=list)
    figures_dropped: int = 0
    displayed: list[str] = field(default_factory=list)
    namespace: dict[str, Any] = field(default_factory=dict, repr=False)


class Stopper:
    """Stops a run from another thread (Stop, the time limit), or says it was interrupted.

    On the main thread the run installs Python's own SIGINT handler, and a stop sends
    SIGINT to it: that also cuts ``time.sleep`` short. Elsewhere a ``KeyboardInterrupt``
    is set on the thread, which takes effect at its next bytecode.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._thread: int | None = None
        self._main = False
        self.reason = ""

    def stop(self, reason: str) -> None:
        """Stop the run (if it is running), saying why."""
        with self._guard:
            if self.reason:
                return
            self.reason = reason
            if self._thread is None:
                return  # not started yet (it will not start), or already over
            if self._main:
                signal.pthread_kill(self._thread, signal.SIGINT)
            else:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._thread), ctypes.py_object(KeyboardInterrupt)
                )

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        main = threading.current_thread() is threading.main_thread()
        previous: Any = None
        if main:
            previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        with self._guard:
            if self.reason:
                raise KeyboardInterrupt  # stopped before it started
            self._thread, self._main = threading.get_ident(), main
        try:
            yield
        finally:
            with self._guard:
                self._thread = None
            if main:
                signal.signal(signal.SIGINT, previous)


def execute(
    code: str,
    namespace: dict[str, Any],
    *,
    timeout: float,
    stopper: Stopper,
    capture: Callable[[list[Mapping[str, Any]]], AbstractContextManager[None]] | None = None,
) -> Outcome:
    """Run ``code`` in ``namespace`` on this thread, capturing what it produces.

    ``capture`` catches what the code displays (``display(fig)``, ``plt.show()`` inline),
    as the kernel side knows how (``mainthread.capture()``); without it only new
    matplotlib figures are caught.

    A trailing expression's value is kept (as a cell shows it). Never raises for anything
    the code does: errors and stops become the outcome's ``status``.
    """
    started = time.perf_counter()
    name = _FILENAME.format(next(_calls))
    try:
        body, trailing = _compile(code, name)
    except SyntaxError as e:
        message = "".join(traceback.format_exception_only(type(e), e)).strip()
        return Outcome("error", 0.0, error=message, namespace=namespace)
    stdout, stderr = _Capped(), _Capped()
    figures = _Figures()
    outcome = Outcome("ok", 0.0, namespace=namespace)
    timer = threading.Timer(timeout, stopper.stop, [f"the time limit of {timeout:g} s"])
    timer.daemon = True
    displays: list[Mapping[str, Any]] = []
    figures.start()
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(contextlib.redirect_stdout(stdout))
            stack.enter_context(contextlib.redirect_stderr(stderr))
            if capture is not None:
                stack.enter_context(capture(displays))
            stack.enter_context(copy_on_write())
            stack.enter_context(_warnings_to(stderr))
            try:
                with stopper.running():
                    timer.start()
                    try:
                        exec(body, namespace)  # noqa: S102 - the code a person approved
                        if trailing is not None:
                            outcome.value = eval(trailing, namespace)  # noqa: S307
                            outcome.has_value = outcome.value is not None
                    finally:
                        timer.cancel()
            except KeyboardInterrupt:
                outcome.status = "stopped"
                outcome.stopped_by = stopper.reason or "the kernel's interrupt"
            except BaseException as e:  # SystemExit too: the code must not end the kernel
                outcome.status = "error"
                outcome.error = _traceback(e, name)
    except KeyboardInterrupt:  # a stop that landed just after the code ended
        outcome.status = "stopped"
        outcome.stopped_by = stopper.reason or "the kernel's interrupt"
    finally:
        linecache.cache.pop(name, None)
        figures.collect(displays)
    outcome.seconds = time.perf_counter() - started
    outcome.stdout, outcome.stderr = stdout.text(), stderr.text()
    outcome.figures, outcome.figures_dropped = figures.kept, figures.dropped
    outcome.displayed = figures.texts
    return outcome


def _compile(code: str, name: str) -> tuple[Any, Any]:
    tree = ast.parse(code, name, "exec")
    trailing = None
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        tree.body.pop()
        trailing = compile(ast.Expression(last.value), name, "eval")
    lines = code.splitlines(keepends=True)
    linecache.cache[name] = (len(code), None, lines, name)  # tracebacks show the lines
    return compile(tree, name, "exec"), trailing


def _traceback(error: BaseException, name: str) -> str:
    """The error with the frames of the agent's code (and below), the last few."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != name:
        tb = tb.tb_next  # skip this module's own frames
    lines = traceback.format_exception(type(error), error, tb, limit=-TRACEBACK_FRAMES)
    return "".join(lines).strip()


class _Capped(io.TextIOBase):
    """A text stream that keeps the first and last ``MAX_OUTPUT_CHARS // 2`` characters."""

    def __init__(self, limit: int = MAX_OUTPUT_CHARS) -> None:
        self._half = limit // 2
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""
        self._total = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._total += len(text)
        rest = text
        room = self._half - self._head_len
        if room > 0:
            self._head.append(rest[:room])
            self._head_len += min(room, len(rest))
            rest = rest[room:]
        if rest:
            self._tail = (self._tail + rest)[-self._half :]
        return len(text)

    def text(self) -> str:
        head = "".join(self._head)
        left_out = self._total - len(head) - len(self._tail)
        if left_out > 0:
            return f"{head}\n[… {left_out:,} characters left out …]\n{self._tail}"
        return head + self._tail


@contextlib.contextmanager
def _warnings_to(stream: _Capped) -> Iterator[None]:
    """The code's warnings go to its stderr (each once), not to the cell that runs next."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            for w in caught:
                stream.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))


class _Figures:
    """The figures one run makes: matplotlib's new figures and displayed PNGs."""

    def __init__(self) -> None:
        self.before: set[int] = set()
        self.kept: list[Figure] = []
        self.dropped = 0
        self.texts: list[str] = []

    def start(self) -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        self.before = set(pyplot.get_fignums()) if pyplot is not None else set()

    def collect(self, displays: list[Mapping[str, Any]]) -> None:
        for data in displays:
            png = data.get("image/png")
            if isinstance(png, str):
                self._keep(_fit_png(base64.b64decode(png)))
            elif isinstance(png, bytes):
                self._keep(_fit_png(png))
            elif "text/plain" in data:
                self.texts.append(str(data["text/plain"])[:2_000])
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return
        for number in sorted(set(pyplot.get_fignums()) - self.before):
            figure = pyplot.figure(number)
            try:
                if len(self.kept) < MAX_FIGURES:
                    self._keep(_save(figure))
                else:
                    self.dropped += 1
            finally:
                pyplot.close(figure)  # never left to show up in another cell

    def _keep(self, figure: Figure | None) -> None:
        if figure is None:
            return
        if len(self.kept) < MAX_FIGURES:
            self.kept.append(figure)
        else:
            self.dropped += 1


def _save(figure: Any) -> Figure | None:
    dpi = float(FIGURE_DPI)
    for _ in range(4):
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        png = buffer.getvalue()
        if len(png) <= MAX_FIGURE_BYTES:
            return _figure(png)
        dpi *= math.sqrt(MAX_FIGURE_BYTES / len(png)) * 0.9
    return None


def _fit_png(png: bytes) -> Figure | None:
    """A displayed PNG, downscaled (with Pillow, which matplotlib brings) if too big."""
    if len(png) <= MAX_FIGURE_BYTES:
        return _figure(png)
    try:
        from PIL import Image
    except ImportError:
        return None
    image: Any = Image.open(io.BytesIO(png))
    for _ in range(4):
        scale = math.sqrt(MAX_FIGURE_BYTES / len(png)) * 0.9
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        png = buffer.getvalue()
        if len(png) <= MAX_FIGURE_BYTES:
            return _figure(png)
    return None


def _figure(png: bytes) -> Figure | None:
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        return None
    width, height = struct.unpack(">II", png[16:24])
    return Figure(png, width, height)
