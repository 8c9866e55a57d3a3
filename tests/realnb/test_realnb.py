"""The variable tools on real notebooks (issue 18): public notebooks nobody here wrote, run
cell by cell in a real kernel, then every tool called on every name they left behind.

Slow, so deselected by default: ``./dev test -m realnb`` runs the whole corpus (about
fifteen minutes on two cores), ``-m realnb_ci`` the fixed subset CI runs (the notebooks
marked ``ci = true`` in ``corpus.toml``: time series, hierarchical indexes, feature
engineering, ``from pylab import *`` and statsmodels OLS; a few minutes). Each notebook
runs once per session; its three tests read the same run:

* every cell runs (``corpus.toml`` says which are skipped and why);
* no tool call fails, through the tools or through the real server with a scripted model;
  every result is at most 16,000 characters and every call takes at most a second;
* the semantic checks of the issue (``probe.py``) find nothing, and the checks this
  notebook exists to exercise did run (``EXERCISES``), so "nothing found" means something.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import corpus
import harness
import pytest

pytestmark = [pytest.mark.realnb, pytest.mark.slow]

NOTEBOOKS = corpus.load()

# The checks each notebook must run at least once: what it holds that the issue is about.
EXERCISES: dict[str, set[str]] = {
    "pydata-book-ch10": {"dates", "stats", "rows"},
    "pydata-book-ch11": {"dates", "stats", "rows"},
    "pydata-book-ch13": {"records", "stats"},
    "pdsh-03-05-hierarchical-indexing": {"rows", "stats"},
    "pdsh-03-08-aggregation-and-grouping": {"stats", "user_first"},
    "pdsh-05-04-feature-engineering": {"fitted", "regex", "paths"},
    "pdsh-05-06-linear-regression": {"fitted", "paths", "dates", "stats"},
    "pdsh-05-12-gaussian-mixtures": {"fitted", "paths"},
    "scipy-lectures-2-numpy": {"user_first", "figures"},
    "scipy-lectures-3-scipy": {"user_first", "rows", "fitted"},
    "scipy-lectures-4-matplotlib": {"user_first"},
    "scipy-lectures-5-sympy": {"user_first", "rows"},
    "statsmodels-ols": {"fitted", "paths", "stats"},
    "xarray-weather-data": {"rows", "dates", "stats"},
}

_runs: dict[str, harness.Run] = {}


def _params() -> list[Any]:
    return [
        pytest.param(nb, id=nb.id, marks=[pytest.mark.realnb_ci] if nb.ci else [])
        for nb in NOTEBOOKS
    ]


@pytest.fixture
def run(notebook: corpus.Notebook, tmp_path_factory: pytest.TempPathFactory) -> harness.Run:
    """The notebook run and probed, once per session."""
    if notebook.id not in _runs:
        _runs[notebook.id] = harness.run(notebook, tmp_path_factory.mktemp(notebook.id))
    return _runs[notebook.id]


@pytest.mark.realnb_ci
def test_the_corpus_is_recorded() -> None:
    assert len(NOTEBOOKS) >= 10
    for nb in NOTEBOOKS:
        assert nb.cells_file.is_file(), f"{nb.id}: run tests/realnb/extract.py"
        assert len(nb.commit) == 40
        assert nb.repo.count("/") == 1
        assert set(nb.skip) <= {number for number, _ in nb.cells()}, nb.id
        nb.runnable()  # every patch applies
    assert set(EXERCISES) == {nb.id for nb in NOTEBOOKS}
    assert any(nb.ci for nb in NOTEBOOKS)


@pytest.mark.parametrize("notebook", _params())
def test_every_cell_runs(run: harness.Run) -> None:
    assert run.cells_run == len(run.notebook.runnable())
    assert run.failed == [], "cells raised (skip them in corpus.toml, saying why)"


@pytest.mark.parametrize("notebook", _params())
def test_no_tool_call_fails_or_passes_its_limits(run: harness.Run) -> None:
    calls = run.report["calls"]
    by_path = {path: [c for c in calls if c["path"] == path] for path in ("tools", "server")}
    names = run.report["names"]
    assert names > 0
    # Every name was read through both paths: describe_variable and preview_rows each.
    for path, made in by_path.items():
        described = {c["arguments"].get("name") for c in made if c["tool"] == "describe_variable"}
        assert len(described) >= names, f"{path}: {len(described)} of {names} names described"
    problems = [c for c in calls if c["problem"]]
    assert problems == [], f"{len(problems)} of {len(calls)} calls went wrong"
    assert max(c["chars"] for c in calls) <= 16_000
    timed = [c["ms"] for c in calls if c["ms"] is not None]
    assert max(timed) <= 1000.0


@pytest.mark.parametrize("notebook", _params())
def test_previews_tell_the_truth(run: harness.Run) -> None:
    ran = run.report["checks_ran"]
    missing = EXERCISES[run.notebook.id] - set(ran)
    assert not missing, f"checks that found nothing to check: {sorted(missing)} (ran {ran})"
    problems = run.report["problems"]
    listed = "\n".join(f"  {p['check']}: {p['name']}: {p['problem']}" for p in problems[:40])
    assert problems == [], f"{len(problems)} problems:\n{listed}"


@pytest.mark.realnb_ci
def test_the_probe_runs_its_checks_on_hand_built_values(tmp_path: Path) -> None:
    """Each check finds what it looks for in a namespace built by hand (no kernel)."""
    import json
    import subprocess
    import sys

    script = tmp_path / "probe_itself.py"
    script.write_text(_PROBE_ITSELF, encoding="utf-8")
    shown = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=harness._environment(tmp_path),
        timeout=600,
    )
    report = json.loads(shown.stdout.splitlines()[-1])
    assert report["checks_ran"].keys() >= {"dates", "records", "stats", "user_first", "titles"}


_PROBE_ITSELF = """
import json, sys
import numpy as np, pandas as pd
import probe
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
ns = shell.user_ns
cells = ["import numpy as np", "px = frame.T", "records = [dict(zip('abcdefgh', range(8)))] * 3"]
idx = pd.date_range("2011-10-10", periods=6, freq="B")
ns["frame"] = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0) * 2}, index=idx)
ns["px"] = ns["frame"].T
ns["records"] = [dict(zip("abcdefgh", range(8)))] * 3
ns["epoch"] = pd.DataFrame({"t": 1331920000 + np.arange(100) * 37})
ns["np"] = np
print(json.dumps(probe._in_thread(lambda: probe._probe(ns, cells, False))))
"""
