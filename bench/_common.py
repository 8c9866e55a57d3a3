"""What the benchmark scripts share: their paths, a description of the machine and a table.

The scripts run as ``python bench/<name>.py``, so this directory is first on ``sys.path`` and
they import this module as ``_common``, before anything from ``chatkit_notebook``. Importing
it puts this checkout first after ``bench/`` (a script measures the package beside it, not
another installed copy) and ``tests/`` last (``pg_bench`` starts PostgreSQL the way the tests
do, with ``tests/postgres.py``): the one place the scripts' ``sys.path`` is set.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TESTS_DIR = REPO_ROOT / "tests"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(1, str(REPO_ROOT))
if str(TESTS_DIR) not in sys.path:
    sys.path.append(str(TESTS_DIR))


def machine(
    tmp: Path | None = None,
    packages: Sequence[str] = (),
    *,
    missing: str | None = "not installed",
) -> dict[str, Any]:
    """Describe the CPU, memory, Python and OS, and optionally packages and a temp dir.

    Args:
        tmp: A directory whose filesystem to report (``tmp_dir``, ``filesystem``, ``device``
            and ``df_T``, the output of ``df -T``); ``None`` leaves these keys out.
        packages: Distribution names whose versions go under ``packages``; empty leaves the
            key out.
        missing: The version to report for a package that is not installed; ``None`` leaves
            such a package out.

    Returns:
        A JSON-able dict: ``cpu``, ``cores``, ``ram_gib``, ``python``, ``platform``, then the
        optional keys above.
    """
    cpu = platform.processor() or platform.machine()
    ram_kib = 0
    # /proc is Linux-only; elsewhere the fallbacks stand.
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kib = int(line.split()[1])
                break
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "ram_gib": round(ram_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if packages:
        versions: dict[str, str] = {}
        for name in packages:
            try:
                versions[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                if missing is not None:
                    versions[name] = missing
        info["packages"] = versions
    if tmp is not None:
        df = subprocess.run(
            ["df", "-T", str(tmp)],  # noqa: S607 - df from PATH is the point: report this machine
            capture_output=True,
            text=True,
            check=False,
        )
        df_fields = df.stdout.splitlines()[-1].split() if df.returncode == 0 else []
        info["tmp_dir"] = str(tmp)
        info["filesystem"] = df_fields[1] if len(df_fields) > 1 else "unknown"
        info["device"] = df_fields[0] if df_fields else "unknown"
        info["df_T"] = df.stdout.strip()
    return info


def machine_line(info: dict[str, Any], *, extras: Sequence[str] = (), suffix: str = "") -> str:
    """One sentence for a report: ``Machine: <cpu>, <n> cores, ..., Python <v>, <platform>.``

    Args:
        info: What ``machine`` returns.
        extras: Phrases to put between the Python version and the platform.
        suffix: Text to put after the platform, before the full stop.
    """
    tail = ", ".join([f"Python {info['python']}", *extras, info["platform"]])
    return (
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, {tail}{suffix}."
    )


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, left_columns: int = 1
) -> str:
    """A Markdown table with its columns padded to line up in a terminal.

    Args:
        header: The column names.
        rows: The cells, one sequence a row, as long as ``header``.
        left_columns: How many columns, from the left, to left-align; the rest align right.

    Returns:
        The table's lines joined by newlines, without a trailing newline.
    """
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.ljust(w) if i < left_columns else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    lines = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [line(r) for r in rows]
    return "\n".join(lines)
