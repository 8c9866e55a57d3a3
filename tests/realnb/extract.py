"""Write ``cells/<id>.py`` for every notebook of ``corpus.toml`` from clones of their repositories.

    python tests/realnb/extract.py --clone wesm/pydata-book=/path/to/pydata-book [...]

Each clone must hold the commit the manifest records; the notebook is read from that commit
with ``git show``, its code cells kept exactly as published (outputs are not kept). Notebooks
whose repository is not given are left as they are.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import corpus


def code_cells(clone: Path, commit: str, path: str) -> list[str]:
    shown = subprocess.run(
        ["git", "-C", str(clone), "show", f"{commit}:{path}"],  # noqa: S607 - git from PATH
        capture_output=True,
        text=True,
        check=True,
    )
    notebook = json.loads(shown.stdout)
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            cells.append("".join(source) if isinstance(source, list) else source)
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clone", action="append", default=[], help="OWNER/NAME=PATH of a git clone"
    )
    args = parser.parse_args()
    clones = dict(item.split("=", 1) for item in args.clone)
    for notebook in corpus.load():
        if notebook.repo not in clones:
            continue
        cells = code_cells(Path(clones[notebook.repo]), notebook.commit, notebook.path)
        corpus.write_cells(notebook, cells)
        print(f"{notebook.id}: {len(cells)} code cells")


if __name__ == "__main__":
    main()
