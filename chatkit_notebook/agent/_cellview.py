"""How the notebook tools see the notebook: its cells merged from the kernel and the file.

:func:`notebook_view` merges the kernel's :class:`~chatkit_notebook.previews.cells.CellRecord`
(and IPython's ``In``/``Out`` history before it began) with the saved ``.ipynb`` (read with
nbformat, once per version of the file) into :class:`Cell` entries in notebook order,
each saying where its source and outputs came from; outputs become short texts ("image
640 x 480 (PNG)", "widget: IntSlider(value=3)", "Out[4]: DataFrame (3 rows x 2
columns)"). :func:`scrubber` makes the one function every shown text goes through:
hidden and secret variables' values replaced, then redacted, then cut.
"""

from __future__ import annotations

import base64
import functools
import os
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..context import NotebookContext
from ..previews.cells import CellRecord, CellRun
from ..previews.foreign import is_secret_value, safe_text, type_name
from ..previews.namespace import is_hidden, snapshot, startup_names
from ..previews.redact import REDACTED, is_secret_name
from ..previews.values import summary

__all__ = ["RAW_CHARS", "Cell", "Notebook", "Scrub", "notebook_view", "record_of", "scrubber"]

Scrub = Callable[[str], str]
"""Hidden values replaced, redacted and cut: what every text shown goes through."""

RAW_CHARS = 12_000
"""How much of one output's text the view keeps (raw) before a tool scrubs and cuts it:
more than the most a tool shows (2,000) plus the margin redaction reads past a cut."""

_SCAN_MARGIN = 9_000  # past the shown part: more than redact_head's own window margin

_SCRUB_MIN_CHARS = 4  # shorter hidden values would scrub ordinary words
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


# -- what one cell is, merged from the kernel and the saved file ---------------------------


@dataclass
class Cell:
    kind: str  # "code", "markdown", "raw"
    source: str
    source_from: str  # "saved file", "kernel"
    execution_count: int | None = None
    state: str = ""  # code only: ran / changed since it ran / not run in this kernel
    outputs: list[str] = field(default_factory=list)
    outputs_from: str = ""
    run: CellRun | None = None


@dataclass
class Notebook:
    cells: list[Cell]
    notes: list[str]
    record: CellRecord | None


def record_of(nb: NotebookContext) -> CellRecord | None:
    return nb.cells if isinstance(nb.cells, CellRecord) else None


@functools.lru_cache(maxsize=2)
def _read_saved(path: str, mtime_ns: int, size: int) -> tuple[_FileCell, ...]:
    """The saved notebook's cells, parsed once per version of the file (path, time, size).

    nbformat parses it and tells its version; a version 4 notebook (every notebook saved
    since 2015) is then read as the plain JSON it is, every field defensively: nbformat's
    validation and conversion to ``NotebookNode`` cost three times the parse on a long
    notebook (``bench/cells_bench.py``). Older versions are converted by nbformat.
    """
    import nbformat
    from nbformat import reader

    text = Path(path).read_text(encoding="utf-8")
    book = reader.parse_json(text)  # type: ignore[no-untyped-call]
    major, _ = reader.get_version(book)  # type: ignore[no-untyped-call]
    if major != 4:
        book = nbformat.convert(reader.reads(text), 4)  # type: ignore[no-untyped-call]
    cells = book.get("cells", ()) if isinstance(book, Mapping) else ()
    return tuple(_digest(cell) for cell in cells if isinstance(cell, Mapping))


@dataclass(frozen=True)
class _FileCell:
    """A saved cell, as the view needs it: read once per version of the file."""

    kind: str
    source: str
    cell_id: str
    execution_count: int | None
    outputs: tuple[str, ...]


def _digest(cell: Mapping[str, Any]) -> _FileCell:
    count = cell.get("execution_count")
    return _FileCell(
        kind=str(cell.get("cell_type", "code")),
        source=_source(cell),
        cell_id=str(cell.get("id", "")),
        execution_count=count if isinstance(count, int) else None,
        outputs=tuple(_file_outputs(cell)) if cell.get("cell_type") == "code" else (),
    )


def _saved(path: Path | None) -> tuple[tuple[_FileCell, ...] | None, float, str | None]:
    """The saved notebook, its modification time, and a note when it cannot be read."""
    if path is None:
        return None, 0.0, None
    try:
        stat = os.stat(path)
    except OSError:
        return None, 0.0, "the notebook has not been saved yet"
    try:
        return _read_saved(os.fspath(path), stat.st_mtime_ns, stat.st_size), stat.st_mtime, None
    except Exception as e:  # a half-written or foreign file: the kernel's record still serves
        return None, 0.0, f"the saved notebook could not be read ({type(e).__name__})"


def notebook_view(nb: NotebookContext) -> Notebook:
    """The notebook's cells in order, from the saved file and the kernel's record; their
    texts raw (cut to :data:`RAW_CHARS`), for the caller to scrub what it shows."""
    record = record_of(nb)
    runs = _latest_runs(record.runs() if record is not None else ())
    saved, saved_at, problem = _saved(nb.notebook_path)
    notes: list[str] = []
    if problem:
        notes.append(problem)
    if saved is None:
        cells = _history_cells(nb, runs)
        notes.append(
            "no saved notebook was read: these are the cells the kernel ran, in the order "
            "they last ran; Markdown cells and printed output are not known"
        )
        return Notebook(cells, notes, record)
    by_id = {run.cell_id: run for run in runs if run.cell_id}
    by_source = {run.source: run for run in runs}
    used: set[int] = set()
    cells = []
    for file_cell in saved:
        run = None
        if file_cell.kind == "code":
            run = by_id.get(file_cell.cell_id) or by_source.get(file_cell.source)
        if run is not None:
            used.add(id(run))
        cells.append(_merged(file_cell, run, saved_at))
    newer = [run for run in runs if run.started > saved_at]
    extra = [run for run in runs if id(run) not in used]
    for run in extra:
        cells.append(_kernel_cell(run, "ran in the kernel; not in the saved file"))
    notes.append(
        "cells come in the saved notebook's order; 'source_from' and 'outputs_from' say "
        "whether a part is the saved file's or what the kernel ran"
    )
    if newer:
        notes.append(
            f"the saved file is older than what ran: {len(newer)} cell run(s) came after the "
            "last save, so their source and outputs are the kernel's"
        )
    if extra:
        notes.append(f"{len(extra)} cell(s) ran in the kernel but are not in the saved file")
    return Notebook(cells, notes, record)


def _latest_runs(runs: Iterable[CellRun]) -> list[CellRun]:
    """The latest run of each cell (by cell id; a run without one is its own cell), in
    the order they last ran. Silent runs (no execution count) are not cells."""
    latest: dict[object, CellRun] = {}
    for run in runs:
        if run.number is None:
            continue
        key = run.cell_id or ("number", run.number)
        latest.pop(key, None)  # re-inserted: the order is the last run's
        latest[key] = run
    return list(latest.values())


def _merged(file_cell: _FileCell, run: CellRun | None, saved_at: float) -> Cell:
    kind, source = file_cell.kind, file_cell.source
    if kind != "code":
        return Cell(kind, source, "saved file")
    saved_outputs = list(file_cell.outputs)
    if run is None:
        cell = Cell(kind, source, "saved file", file_cell.execution_count)
        cell.state = "not run in this kernel"
        cell.outputs, cell.outputs_from = saved_outputs, "saved file"
        return cell
    if run.source == source:
        cell = Cell(kind, source, "saved file", run.number, "ran", run=run)
        if file_cell.execution_count == run.number and saved_outputs:
            cell.outputs, cell.outputs_from = saved_outputs, "saved file"
        else:
            cell.outputs, cell.outputs_from = _kernel_outputs(run), "kernel"
        return cell
    if run.started > saved_at:  # ran after the last save: the kernel's version is newer
        return _kernel_cell(run, "ran (changed since the last save)")
    cell = Cell(kind, source, "saved file", run.number, "changed since it last ran", run=run)
    cell.outputs, cell.outputs_from = saved_outputs, "saved file"
    return cell


def _kernel_cell(run: CellRun, state: str = "ran") -> Cell:
    cell = Cell("code", run.source, "kernel", run.number, state, run=run)
    cell.outputs, cell.outputs_from = _kernel_outputs(run), "kernel"
    return cell


def _history_cells(nb: NotebookContext, runs: list[CellRun]) -> list[Cell]:
    """Without a saved file: IPython's history before the record began, then the runs."""
    recorded = {run.number for run in runs}
    first = min((n for n in recorded if n is not None), default=None)
    history = nb.namespace.get("In")
    results = nb.namespace.get("Out")
    cells = []
    if isinstance(history, list):
        end = first if first is not None else len(history)
        for number in range(1, min(end, len(history))):
            if number in recorded or not isinstance(history[number], str):
                continue
            cell = Cell("code", history[number], "kernel history", number, "ran")
            if isinstance(results, dict) and number in results:
                cell.outputs = [_result_text(results[number], number)]
                cell.outputs_from = "kernel history"
            cells.append(cell)
    return cells + [_kernel_cell(run) for run in runs]


# -- outputs as short texts ---------------------------------------------------------------


def _result_text(value: object, number: int | None) -> str:
    """A cell's value as ``Out[n]: DataFrame (3 rows x 2 columns)``, never its repr."""
    if is_secret_value(value):
        return f"Out[{number}]: {REDACTED}"
    said = summary(value)
    prefix = f"Out[{number}]: " if number is not None else ""
    return f"{prefix}{type_name(value)}" + (f" ({said})" if said else "")


def _kernel_outputs(run: CellRun) -> list[str]:
    texts = []
    for output in run.outputs:
        if output.kind == "result":
            texts.append(_result_text(output.value, run.number))
        elif output.kind == "error":
            texts.append(f"error: {output.text}")
        elif output.kind == "stream":
            texts.append(f"{output.stream}: {output.text}")
        else:
            texts.append(_bundle_text(output.data, output.mimes, output.text))
    if run.more_outputs:
        texts.append(f"… {run.more_outputs} more displayed outputs")
    return texts


def _file_outputs(file_cell: Any) -> list[str]:
    texts = []
    for output in file_cell.get("outputs", ()):
        kind = output.get("output_type")
        if kind == "stream":
            texts.append(f"{output.get('name', 'stdout')}: {_joined(output.get('text'))}")
        elif kind == "error":
            texts.append(f"error: {output.get('ename', '')}: {output.get('evalue', '')}")
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            text = _joined(data.get("text/plain", ""))
            shown = _bundle_text(data, tuple(data), text)
            count = output.get("execution_count")
            texts.append(f"Out[{count}]: {shown}" if kind == "execute_result" else shown)
    return texts


def _source(file_cell: Any) -> str:
    source = file_cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(line) for line in source)
    return source if isinstance(source, str) else ""


def _joined(text: object) -> str:
    if isinstance(text, list):  # the file's lines
        try:
            text = "".join(text)
        except TypeError:  # a line that is not text: a hand-edited file
            text = "".join(map(str, text))
    return text[:RAW_CHARS] if isinstance(text, str) else ""


def _bundle_text(data: Mapping[str, Any], mimes: tuple[str, ...], text: str) -> str:
    """What a display shows, in words: an image's size, a widget, else its plain text."""
    if _WIDGET_MIME in mimes:
        return f"widget: {text}" if text else "widget"
    if "image/png" in mimes:
        size = _png_size(data.get("image/png"))
        return f"image {size[0]} \N{MULTIPLICATION SIGN} {size[1]} (PNG)" if size else "image (PNG)"
    for mime, name in (("image/jpeg", "JPEG"), ("image/gif", "GIF"), ("image/svg+xml", "SVG")):
        if mime in mimes:
            return f"image ({name})"
    if text:
        return text
    if "text/html" in mimes:
        return "HTML output"
    return "output of type " + ", ".join(mimes[:3]) if mimes else "empty output"


def _png_size(value: object) -> tuple[int, int] | None:
    """A PNG's width and height from its header (base64 text or bytes)."""
    try:
        raw = base64.b64decode(value[:44]) if isinstance(value, str) else value
        if isinstance(raw, bytes) and raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) >= 24:
            width, height = struct.unpack(">II", raw[16:24])
            return int(width), int(height)
    except (ValueError, TypeError, struct.error):
        pass
    return None


# -- hidden and secret values in text -------------------------------------------------------


def scrubber(nb: NotebookContext, limit: int) -> Scrub:
    """Redact and cut a text, after replacing the text of hidden and secret variables'
    values (a printed hidden password, token or name) with [REDACTED]."""
    needles = _secret_texts(nb)

    def scrub(text: str) -> str:
        # Past this nothing is shown; and redact_head still sees the text go on past its
        # window, so it drops a token the window's edge splits instead of showing half.
        text = text[: limit + _SCAN_MARGIN]
        for needle in needles:
            if needle in text:
                text = text.replace(needle, REDACTED)
        return safe_text(text, limit)

    return scrub


def _secret_texts(nb: NotebookContext) -> list[str]:
    """The texts of values the agent may not see: hidden variables and secrets by name or
    type, as far as they are plain strings or numbers (longest first)."""
    found = set()
    startup = startup_names()
    for name, value in snapshot(nb.namespace).items():
        if not isinstance(name, str) or name.startswith("_"):
            continue
        if not (name in nb.hidden or is_secret_name(name) or is_secret_value(value)):
            continue
        if is_hidden(name, value, (), startup) and name not in nb.hidden:
            continue
        text = _plain(value)
        if text is not None and len(text) >= _SCRUB_MIN_CHARS:
            found.add(text)
    return sorted(found, key=len, reverse=True)


def _plain(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    getter = getattr(value, "get_secret_value", None)  # pydantic's SecretStr
    if callable(getter):
        try:
            inner = getter()
        except Exception:
            return None
        return inner if isinstance(inner, str) else None
    return None
