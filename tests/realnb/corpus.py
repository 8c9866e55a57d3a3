"""The real-notebook corpus: its manifest (``corpus.toml``) and the code cells kept in ``cells/``.

Used by the tests (``test_realnb.py``), the benchmark (``bench/realnb_bench.py``) and
``extract.py``, which writes ``cells/<id>.py`` from clones of the notebooks' repositories.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "corpus.toml"
CELLS = HERE / "cells"

_HEADER = re.compile(r"^# %% \[(\d+)\]$", re.MULTILINE)


@dataclass(frozen=True)
class Patch:
    cell: int
    old: str
    new: str
    why: str


@dataclass(frozen=True)
class Notebook:
    """One notebook of the corpus, as the manifest describes it."""

    id: str
    title: str
    repo: str
    commit: str
    path: str
    license: str
    data: tuple[str, ...]
    ci: bool
    skip: dict[int, str] = field(default_factory=dict)
    patches: tuple[Patch, ...] = ()

    @property
    def cells_file(self) -> Path:
        return CELLS / f"{self.id}.py"

    def cells(self) -> list[tuple[int, str]]:
        """``(number, source)`` of every code cell, numbered from 1 as in the notebook."""
        text = self.cells_file.read_text(encoding="utf-8")
        parts = _HEADER.split(text)
        # parts: [preamble, "1", source, "2", source, ...]
        return [
            (int(number), source.strip("\n"))
            for number, source in zip(parts[1::2], parts[2::2], strict=True)
        ]

    def runnable(self) -> list[tuple[int, str]]:
        """The cells the harness runs: skips left out, patches applied."""
        cells = []
        for number, source in self.cells():
            if number in self.skip:
                continue
            for patch in self.patches:
                if patch.cell == number:
                    if patch.old not in source:
                        msg = f"{self.id} cell {number}: patch target {patch.old!r} not found"
                        raise ValueError(msg)
                    source = source.replace(patch.old, patch.new)
            cells.append((number, source))
        return cells


def load() -> list[Notebook]:
    """Every notebook of the manifest, in its order."""
    raw = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    notebooks = []
    for entry in raw["notebook"]:
        skip = {int(k): str(v) for k, v in entry.get("skip", {}).items()}
        patches = tuple(Patch(**p) for p in entry.get("patch", []))
        notebooks.append(
            Notebook(
                id=entry["id"],
                title=entry["title"],
                repo=entry["repo"],
                commit=entry["commit"],
                path=entry["path"],
                license=entry["license"],
                data=tuple(entry.get("data", [])),
                ci=bool(entry.get("ci", False)),
                skip=skip,
                patches=patches,
            )
        )
    ids = [n.id for n in notebooks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate notebook ids in {MANIFEST}")
    return notebooks


def write_cells(notebook: Notebook, sources: list[str]) -> None:
    """Write ``cells/<id>.py``: a provenance header, then each code cell under its number."""
    lines = [
        f"# {notebook.title}",
        f"# from https://github.com/{notebook.repo}/blob/{notebook.commit}/{notebook.path}",
        f"# licence: {notebook.license}. Code cells only, outputs stripped; see corpus.toml.",
        "",
    ]
    for number, source in enumerate(sources, start=1):
        lines += [f"# %% [{number}]", source.rstrip("\n"), ""]
    notebook.cells_file.parent.mkdir(parents=True, exist_ok=True)
    notebook.cells_file.write_text("\n".join(lines), encoding="utf-8")
