"""Benchmark ``%load_ext chatkit_notebook`` against IPython's own extension and eager imports.

Run ``python bench/load_bench.py`` from anywhere (``--quick`` for a smoke run of a few
seconds, ``--json PATH`` to also write the raw numbers, ``--out PATH`` to choose where the
Markdown goes, default ``bench/LOAD_RESULTS.md``). Import caches make a second load in the
same process nearly free, so every sample is a fresh ``python`` process: it creates
``InteractiveShell.instance()`` (untimed), then times only the step being measured with
``time.perf_counter``. The variants take turns, round after round, so background load on
the machine hits them alike. In one run it measures:

- ``%load_ext chatkit_notebook`` on a fresh shell (the load that opens each of the three
  chatkit variants below, pooled);
- baselines: ``%load_ext autoreload`` (IPython's own extension), ``import chatkit.server,
  agents`` (what an extension that imported the SDKs at load would pay) and ``import
  chatkit_notebook.agent.server, chatkit_notebook.panel.panel`` (what the warm-up thread imports);
- ``%load_ext`` to the first ``%chat`` panel, with ``%chat`` run at once (in the same
  cell), and ``%chat`` on its own once the warm-up thread (named
  ``chatkit-notebook-warmup``, started when the cell that loaded the extension ends, which
  the benchmark signals as the kernel does, with IPython's ``post_execute`` event) has been
  joined;
- ``%reload_ext chatkit_notebook``, several times a process with a ``%chat`` panel built
  (and its first refresh awaited) after each, then the live ``chatkit-notebook-loop``
  threads; and again once the panel built before the reloads has refreshed its thread list
  (as a click on an old panel left in the notebook does).

The chatkit processes keep threads in a fresh temp file (``CHATKIT_NOTEBOOK_STORE``), with no
API key and ``OPENAI_BASE_URL`` on a closed local port: building a panel lists threads from
the store and makes no model request. Targets: ``%load_ext`` well under 500 ms, and at most
one loop thread after the reloads, also once the old panel has been used.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, REPO_ROOT, machine, machine_line, markdown_table

PACKAGES = ("ipython", "openai-agents", "openai-chatkit", "ipywidgets", "pydantic")
TARGETS = {"load_ms_max": 500.0, "loop_threads_max": 1}
LOOP_THREAD = "chatkit-notebook-loop"

# One sample, in a fresh interpreter. It imports only what IPython imports anyway (json,
# sys, threading, time), so the timed steps pay for everything else they need: nothing
# from _common here, which would import importlib.metadata ahead of the package. It prints
# one JSON line. (argv: repo root, variant, reloads.)
_CHILD = """
import json, sys, threading, time

sys.path.insert(0, sys.argv[1])
variant, reloads = sys.argv[2], int(sys.argv[3])

from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
out = {"panels": [], "notices": []}


def ms(since):
    return (time.perf_counter() - since) * 1000.0


def end_cell():
    # What the kernel does when the cell that ran %load_ext ends: the warm-up starts then.
    shell.events.trigger("post_execute")


def join_warm_up():
    # load_ipython_extension keeps no handle on the thread: find it by its name.
    for thread in threading.enumerate():
        if thread.name == "chatkit-notebook-warmup":
            thread.join()


def loop_threads():
    return sum(t.name == "chatkit-notebook-loop" for t in threading.enumerate())


def chat():
    # The panel's first refresh runs on the loop thread: settle() waits for it.
    return shell.run_line_magic("chat", "")


def settle(panel):
    out["panels"].append(type(panel).__name__)
    panel.wait()
    out["notices"].append(panel._notice.value)  # an error the refresh showed, if any


if variant == "autoreload":
    started = time.perf_counter()
    shell.run_line_magic("load_ext", "autoreload")
    out["load_ms"] = ms(started)
elif variant == "import_sdks":
    started = time.perf_counter()
    import agents, chatkit.server
    out["import_ms"] = ms(started)
elif variant == "import_warm_up":
    started = time.perf_counter()
    import chatkit_notebook.panel.panel, chatkit_notebook.agent.server
    out["import_ms"] = ms(started)
else:
    started = time.perf_counter()
    shell.run_line_magic("load_ext", "chatkit_notebook")
    out["load_ms"] = ms(started)
    if variant == "chat_at_once":
        asked = time.perf_counter()
        panel = chat()
        out["chat_ms"] = ms(asked)
        out["to_panel_ms"] = ms(started)
        settle(panel)
    elif variant == "chat_after_warm_up":
        end_cell()
        join_warm_up()
        out["warm_up_ms"] = ms(started)
        asked = time.perf_counter()
        panel = chat()
        out["chat_ms"] = ms(asked)
        settle(panel)
    elif variant == "reload":
        first = chat()
        settle(first)
        end_cell()
        join_warm_up()
        out["reload_ms"], out["loop_threads_after"] = [], []
        for _ in range(reloads):
            again = time.perf_counter()
            shell.run_line_magic("reload_ext", "chatkit_notebook")
            out["reload_ms"].append(ms(again))
            settle(chat())
            out["loop_threads_after"].append(loop_threads())
        out["loop_threads"] = loop_threads()
        out["warm_up_threads"] = sum(
            t.name == "chatkit-notebook-warmup" for t in threading.enumerate()
        )
        # A panel left in the notebook from before the reloads is clicked (its thread list
        # refreshes): its runtime is the one the first reload stopped.
        first.refresh().result(timeout=60)
        out["loop_threads_stale_panel"] = loop_threads()
    else:
        raise SystemExit(f"unknown variant {variant!r}")
    join_warm_up()  # not mid-import when the interpreter exits
print(json.dumps(out))
"""

VARIANTS = (
    "chat_at_once",
    "autoreload",
    "chat_after_warm_up",
    "import_sdks",
    "reload",
    "import_warm_up",
)
CHATKIT_VARIANTS = ("chat_at_once", "chat_after_warm_up", "reload")


@dataclass(frozen=True)
class Config:
    """How many samples to take."""

    rounds: int
    """Timed rounds; each runs every variant once, in a rotating order."""
    warm_up_rounds: int
    """Untimed rounds first, so every ``.pyc`` is written and the files are in the page cache."""
    reloads: int
    """``%reload_ext`` calls in each reload process."""


FULL = Config(rounds=24, warm_up_rounds=1, reloads=5)
QUICK = Config(rounds=2, warm_up_rounds=0, reloads=5)


def _child_env(tmp: Path, store: Path) -> dict[str, str]:
    """The environment for one sample: no key, a dead local endpoint, a fresh store file."""
    env = dict(os.environ)
    # Hints that would point the store at a notebook, and settings that would reach a model.
    for name in ("OPENAI_API_KEY", "JPY_SESSION_NAME", "PAPERMILL_INPUT_PATH"):
        env.pop(name, None)
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
    env["CHATKIT_NOTEBOOK_STORE"] = str(store)
    env["IPYTHONDIR"] = str(tmp / "ipython")  # leave the user's profile and history alone
    return env


def _sample(variant: str, cfg: Config, tmp: Path, index: int) -> dict[str, Any]:
    """Run one variant in a fresh interpreter and return what it measured."""
    store = tmp / f"{variant}-{index}.chatkit.json"
    argv = [sys.executable, "-c", _CHILD, str(REPO_ROOT), variant, str(cfg.reloads)]
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=tmp,
        env=_child_env(tmp, store),
    )
    if proc.returncode != 0:
        msg = f"load_bench variant {variant} failed (exit {proc.returncode}):\n{proc.stderr}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    bad = [n for n in result["panels"] if n != "ChatPanel"] + [n for n in result["notices"] if n]
    if bad:
        msg = f"load_bench variant {variant}: %chat did not build a clean panel: {bad}"
        raise RuntimeError(msg)
    return result


def _stats(samples_ms: list[float]) -> dict[str, Any]:
    """Median and nearest-rank p90 of ``samples_ms``, with the samples themselves."""
    ordered = sorted(samples_ms)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return {
        "median_ms": statistics.median(ordered),
        "p90_ms": p90,
        "n": len(ordered),
        "runs_ms": samples_ms,
    }


def _collect(cfg: Config, tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """Run the rounds; the order of the variants rotates by one each round."""
    samples: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    total = cfg.warm_up_rounds + cfg.rounds
    for round_no in range(total):
        shift = round_no % len(VARIANTS)
        order = VARIANTS[shift:] + VARIANTS[:shift]
        timed = round_no >= cfg.warm_up_rounds
        label = f"round {round_no + 1 - cfg.warm_up_rounds}/{cfg.rounds}" if timed else "warm-up"
        print(f"{label} ...", flush=True)
        for variant in order:
            result = _sample(variant, cfg, tmp, round_no)
            if timed:
                samples[variant].append(result)
    return samples


def _measures(samples: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The samples gathered into one entry per measure."""

    def pick(variants: tuple[str, ...], key: str) -> list[float]:
        values: list[float] = []
        for variant in variants:
            for result in samples[variant]:
                value = result[key]
                values.extend(value if isinstance(value, list) else [value])
        return values

    return {
        "load_chatkit": _stats(pick(CHATKIT_VARIANTS, "load_ms")),
        "load_autoreload": _stats(pick(("autoreload",), "load_ms")),
        "import_sdks": _stats(pick(("import_sdks",), "import_ms")),
        "import_warm_up": _stats(pick(("import_warm_up",), "import_ms")),
        "load_to_panel_at_once": _stats(pick(("chat_at_once",), "to_panel_ms")),
        "chat_at_once": _stats(pick(("chat_at_once",), "chat_ms")),
        "warm_up": _stats(pick(("chat_after_warm_up",), "warm_up_ms")),
        "chat_after_warm_up": _stats(pick(("chat_after_warm_up",), "chat_ms")),
        "reload": _stats(pick(("reload",), "reload_ms")),
    }


def _machine(tmp: Path) -> dict[str, Any]:
    """The machine, package versions, and the commit with any uncommitted package files."""
    info = machine(tmp, PACKAGES)
    del info["df_T"]

    def git(*args: str) -> str:
        proc = subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args],  # noqa: S607 - git from PATH, like a user
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.stdout.strip() if proc.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "chatkit_notebook").splitlines()
    return {
        **info,
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "uncommitted": [line[3:] for line in changed],
    }


def run(cfg: Config, *, quick: bool) -> dict[str, Any]:
    """Take the samples in a temp dir and summarise them.

    Args:
        cfg: How many samples to take.
        quick: Recorded in the report.

    Returns:
        A JSON-able report: ``machine``, ``config``, ``measures`` (median, p90 and the
        samples, in ms), ``loop_threads`` (one count per reload process, after its
        reloads), ``loop_threads_stale_panel`` (the same, after a panel from before the
        reloads refreshed), ``ratios``, ``targets``, ``checks`` and ``seconds`` (the run's
        wall time).
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chatkit-load-bench-") as name:
        tmp = Path(name)
        info = _machine(tmp)
        samples = _collect(cfg, tmp)
    measures = _measures(samples)
    loop_threads = [result["loop_threads"] for result in samples["reload"]]
    stale = [result["loop_threads_stale_panel"] for result in samples["reload"]]
    load = measures["load_chatkit"]["median_ms"]
    ratios = {
        "load_over_autoreload": load / measures["load_autoreload"]["median_ms"],
        "load_over_import_sdks": load / measures["import_sdks"]["median_ms"],
        "load_over_import_warm_up": load / measures["import_warm_up"]["median_ms"],
        "chat_at_once_over_after_warm_up": measures["chat_at_once"]["median_ms"]
        / measures["chat_after_warm_up"]["median_ms"],
    }
    return {
        "quick": quick,
        "machine": info,
        "config": vars(cfg),
        "measures": measures,
        "loop_threads": loop_threads,
        "loop_threads_after_each_reload": [r["loop_threads_after"] for r in samples["reload"]],
        "loop_threads_stale_panel": stale,
        "warm_up_threads_left": max(r["warm_up_threads"] for r in samples["reload"]),
        "ratios": ratios,
        "targets": TARGETS,
        "checks": {
            "load_ms": measures["load_chatkit"]["p90_ms"] < TARGETS["load_ms_max"],
            "loop_threads": max(loop_threads) <= TARGETS["loop_threads_max"],
            "loop_threads_stale_panel": max(stale) <= TARGETS["loop_threads_max"],
        },
        "seconds": round(time.monotonic() - started, 1),
    }


ROWS = (
    ("load_chatkit", "`%load_ext chatkit_notebook`, fresh shell"),
    ("load_autoreload", "baseline: `%load_ext autoreload`"),
    ("import_sdks", "baseline: `import chatkit.server, agents`"),
    (
        "import_warm_up",
        "baseline: `import chatkit_notebook.agent.server, chatkit_notebook.panel.panel`",
    ),
    ("load_to_panel_at_once", "`%load_ext` -> first `%chat` panel, `%chat` at once"),
    ("chat_at_once", "`%chat` alone, run at once after `%load_ext`"),
    ("warm_up", "`%load_ext` -> warm-up thread finished"),
    ("chat_after_warm_up", "`%chat` alone, after the warm-up finished"),
    ("reload", "`%reload_ext chatkit_notebook` (panel built before each)"),
)


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.3f}" if value / base < 0.1 else f"{value / base:.2f}"


def render(report: dict[str, Any]) -> str:
    """The results as Markdown: the machine, the settings, then two tables.

    Args:
        report: What ``run`` returns.
    """
    m, cfg, measures = report["machine"], report["config"], report["measures"]
    versions = ", ".join(f"{name} {v}" for name, v in m["packages"].items())
    commit = m["commit"] + (
        f" + uncommitted {', '.join(m['uncommitted'])}" if m["uncommitted"] else ""
    )
    autoreload = measures["load_autoreload"]["median_ms"]
    sdks = measures["import_sdks"]["median_ms"]
    header = ("measure", "median ms", "p90 ms", "n", "x autoreload", "x SDK import")
    rows = []
    for key, label in ROWS:
        stats = measures[key]
        rows.append(
            (
                label,
                f"{stats['median_ms']:.1f}",
                f"{stats['p90_ms']:.1f}",
                str(stats["n"]),
                _ratio(stats["median_ms"], autoreload),
                _ratio(stats["median_ms"], sdks),
            )
        )
    load = measures["load_chatkit"]
    met = "met" if report["checks"]["load_ms"] else "NOT met"
    threads, stale = report["loop_threads"], report["loop_threads_stale_panel"]
    thread_rows = [
        (
            f"live `{LOOP_THREAD}` threads after {cfg['reloads']} reloads, a `%chat` panel "
            "after each",
            f"{max(threads)} (max of {len(threads)} processes)",
            f"<= {TARGETS['loop_threads_max']} "
            f"({'ok' if report['checks']['loop_threads'] else 'NOT met'})",
        ),
        (
            "then a panel built before the reloads refreshes its thread list",
            f"{max(stale)} (max of {len(stale)} processes)",
            f"<= {TARGETS['loop_threads_max']} "
            f"({'ok' if report['checks']['loop_threads_stale_panel'] else 'NOT met'})",
        ),
    ]
    return "\n".join(
        [
            machine_line(m, extras=(versions,), suffix=f"; commit {commit}"),
            f"Run: {'--quick' if report['quick'] else 'full'}; {cfg['rounds']} rounds after "
            f"{cfg['warm_up_rounds']} untimed, each a fresh `python` per variant, variants in "
            "rotating order; the chatkit load pools the three chatkit variants' loads; "
            f"{report['seconds']:.0f} s in all.",
            f"Target: `%load_ext chatkit_notebook` well under 500 ms: p90 {load['p90_ms']:.1f} ms"
            f" ({met}); median {report['ratios']['load_over_autoreload']:.2f}x `%load_ext "
            f"autoreload`, {report['ratios']['load_over_import_sdks']:.3f}x importing the SDKs.",
            "",
            markdown_table(header, rows),
            "",
            markdown_table(("reload check", "value", "target"), thread_rows),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the tables, and write them (and JSON if asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few rounds, for a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write raw numbers here")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        default=BENCH_DIR / "LOAD_RESULTS.md",
        help="where the Markdown goes (default: bench/LOAD_RESULTS.md)",
    )
    args = parser.parse_args(argv)
    report = run(QUICK if args.quick else FULL, quick=args.quick)
    text = render(report)
    print(text)
    title = "# Extension load benchmark\n\nWritten by `python bench/load_bench.py`.\n\n"
    args.out.write_text(title + text + "\n")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
