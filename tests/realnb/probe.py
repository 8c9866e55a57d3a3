"""Runs inside the notebook's kernel: every variable tool on every name, and the issue's checks.

After the notebook's cells have run, the harness (``harness.py``) calls :func:`probe` in the
same kernel. It reads the live namespace (``get_ipython().user_ns``) the way the chat does:

* **through the tools**: each tool's ``on_invoke_tool`` (what the Agents SDK calls), with a
  real ``AgentContext`` over a real ``NotebookStore``: ``list_variables`` (with and without
  callables), then for every visible name ``describe_variable`` and ``preview_rows`` with
  its argument variants (the first rows, the last three, twenty rows, one column). Each call
  is timed and measured;
* **through the real server**: ``NotebookChatServer`` with ``agents.testing.ScriptedModel``
  calling the same tools on every name, eight calls a model step, the results read from
  what the model is sent next;
* **the checks of issue 18** on the live values: date labels distinct and asked for by what
  is shown (1); what the user assigned listed and offered first, no imported callable
  listed (2); fitted attributes, small arrays and known result types shown, attribute paths
  readable (3); statistics exact or labelled (4); every record key reachable (5); rows from
  indexes, xarray, sparse and sympy matrices, ranges, group-bys and graphs (6); a regex not
  redacted, no "1 keys" titles (7).

The report is a JSON file: counts and extremes of every call, the problems found (each
naming the notebook's variable, the check and what was wrong) and how often each check
ran, so a test can tell "no problem" from "nothing checked".
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import json
import math
import re
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

LIMIT_CHARS = 16_000
LIMIT_SECONDS = 1.0
PREVIEW_COLUMNS = 20  # describe_variable shows at most this many columns
CALLS_PER_STEP = 8  # server path: function calls in one scripted model step
STEPS_PER_TURN = 10  # below the server's MAX_TURNS, leaving one step for the answer

_PLACEHOLDERS = re.compile(r"<pandas\.(Timestamp|Timedelta|Period|Interval|NaT)|<pandas\._libs")
_ONE_PLURAL = re.compile(
    r"\b1 (keys|items|rows|columns|values|lines|characters|variables|elements|entries|"
    r"names|fields|attributes|groups|nodes|edges)\b"
)
_LEVELS = {"min": 0.0, "25%": 0.25, "50%": 0.5, "75%": 0.75, "max": 1.0}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


# -- calling the tools -----------------------------------------------------------------------


class Tools:
    """The notebook tools, called as the Agents SDK calls them, each call recorded."""

    def __init__(self, namespace: dict[str, Any], workdir: Path) -> None:
        from chatkit.types import ThreadMetadata

        from chatkit_notebook import NotebookContext
        from chatkit_notebook.agent.tools import NOTEBOOK_TOOLS
        from chatkit_notebook.stores.file import NotebookStore

        self.nb = NotebookContext(namespace=namespace)
        self.store = NotebookStore(workdir / "probe.chatkit.json")
        self.thread = ThreadMetadata(id="thr_realnb", created_at=datetime.now())
        self.tools = {tool.name: tool for tool in NOTEBOOK_TOOLS}
        self.records: list[dict[str, Any]] = []
        self.titles: list[str] = []
        self.phase = "sweep"  # "check": errors are judged by the check that asked
        self.loop = asyncio.new_event_loop()
        self._await(self.store.save_thread(self.thread, self.nb))

    def _await(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.loop.close()

    def call(self, tool: str, **arguments: Any) -> tuple[dict[str, Any] | None, str]:
        """``(parsed, text)`` of one call; ``parsed`` is None when the text is not JSON."""
        from agents.tool_context import ToolContext
        from chatkit.agents import AgentContext

        chat = AgentContext(thread=self.thread, store=self.store, request_context=self.nb)
        payload = json.dumps(arguments)
        context = ToolContext(
            chat, tool_name=tool, tool_call_id=f"call_{len(self.records)}", tool_arguments=payload
        )
        started = time.perf_counter()
        text = self._await(self.tools[tool].on_invoke_tool(context, payload))
        elapsed = time.perf_counter() - started
        if chat.workflow_item is not None:
            self.titles += [str(task.title) for task in chat.workflow_item.workflow.tasks]
        parsed = _parse(text)
        record = _record("tools", tool, arguments, text, parsed, elapsed)
        if self.phase == "check" and record["problem"] and record["problem"].startswith("error"):
            record["problem"] = None
        self.records.append(record | {"phase": self.phase})
        return parsed, text if isinstance(text, str) else repr(text)


def _parse(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _record(
    path: str,
    tool: str,
    arguments: dict[str, Any],
    text: Any,
    parsed: dict[str, Any] | None,
    seconds: float | None,
) -> dict[str, Any]:
    """One call, as the report keeps it: never the result itself, only what it was like."""
    error = parsed.get("error") if parsed is not None else None
    refused = (
        tool == "preview_rows"
        and isinstance(error, str)
        and "has no rows" in error
        and not arguments.get("columns")
    )
    chars = len(text) if isinstance(text, str) else -1
    problem = None
    if parsed is None:
        problem = "the result is not a JSON object"
    elif chars > LIMIT_CHARS:
        problem = f"the result has {chars:,} characters"
    elif error is not None and not refused:
        problem = f"error: {str(error)[:200]}"
    elif seconds is not None and seconds > LIMIT_SECONDS:
        problem = f"took {seconds * 1000:.0f} ms"
    return {
        "path": path,
        "tool": tool,
        "arguments": arguments,
        "ms": round(seconds * 1000, 2) if seconds is not None else None,
        "chars": chars,
        "refused": refused,
        "problem": problem,
    }


def _data(parsed: dict[str, Any] | None) -> Any:
    from chatkit_notebook.agent.tools import UNTRUSTED_FIELD

    return parsed.get(UNTRUSTED_FIELD) if parsed else None


# -- what the user defined and what they imported --------------------------------------------


def _bound_names(tree: ast.AST) -> tuple[set[str], set[str], list[str]]:
    """Names a cell binds at top level: (assigned, imported, star-imported modules)."""
    assigned: set[str] = set()
    imported: set[str] = set()
    stars: list[str] = []

    def targets(node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                assigned.add(sub.id)

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    targets(target)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                targets(node.target)
                visit(node.body + node.orelse)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars)
                visit(node.body)
            elif isinstance(node, (ast.If, ast.While)):
                visit(node.body + node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body + node.orelse + node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                imported.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "*":
                        stars.append(node.module or "")
                    else:
                        imported.add(alias.asname or alias.name)
            elif isinstance(node, ast.Expr):
                for sub in ast.walk(node):  # walrus in an expression
                    if isinstance(sub, ast.NamedExpr):
                        targets(sub.target)

    if isinstance(tree, ast.Module):
        visit(tree.body)
    return assigned, imported, stars


def provenance(cells: list[str]) -> tuple[set[str], set[str]]:
    """(names the user's cells assigned, names they only imported), from the cells' code."""
    shell = sys.modules["IPython"].get_ipython()
    assigned: set[str] = set()
    imported: set[str] = set()
    for source in cells:
        try:
            tree = ast.parse(shell.transform_cell(source))
        except SyntaxError:
            continue
        a, i, stars = _bound_names(tree)
        assigned |= a
        imported |= i
        for module_name in stars:
            try:
                module = importlib.import_module(module_name)
            except Exception:  # noqa: S112 - a module the cell could not import binds nothing
                continue
            public = getattr(module, "__all__", None)
            if public is None:
                public = [n for n in vars(module) if not n.startswith("_")]
            imported.update(str(n) for n in public)
    return assigned, imported - assigned


# -- the checks -------------------------------------------------------------------------------


class Checks:
    """The issue's semantic checks; each problem names the check, the variable and the fault."""

    def __init__(self, tools: Tools, namespace: dict[str, Any]) -> None:
        self.tools = tools
        self.ns = namespace
        self.problems: list[dict[str, str]] = []
        self.ran: dict[str, int] = {}

    def problem(self, check: str, name: str, what: str) -> None:
        self.problems.append({"check": check, "name": name, "problem": what[:300]})

    def count(self, check: str) -> None:
        self.ran[check] = self.ran.get(check, 0) + 1


def _numbers(text: str) -> list[float]:
    return [float(m) for m in _NUMBER.findall(text)]


def _shows_number(text: str, value: float, rel: float = 1e-4) -> bool:
    if not math.isfinite(value):
        return True  # NaN and inf are spelled in many ways; not what these checks are about
    return any(math.isclose(n, value, rel_tol=rel, abs_tol=1e-9) for n in _numbers(text))


def _quoted(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def _date_text(label: Any) -> str | None:
    import pandas as pd

    if isinstance(label, pd.Timestamp) and not pd.isna(label):
        return label.strftime("%Y-%m-%d")
    if isinstance(label, pd.Period):
        return str(label)
    return None


def check_dates(c: Checks, name: str, value: Any) -> None:
    """Finding 1: dates as column labels, Series names and dict keys read as dates."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        labels = list(value.columns[:PREVIEW_COLUMNS])
        dates = [_date_text(label) for label in labels]
        if not any(dates):
            return
        c.count("dates")
        parsed, text = c.tools.call("describe_variable", name=name)
        for label, date in zip(labels, dates, strict=True):
            if date and date not in text:
                c.problem("dates", name, f"column {label!r} is not shown as {date}")
        shown = [
            e.get("name") for e in (_data(parsed) or {}).get("columns", []) if isinstance(e, dict)
        ]
        if len(set(map(str, shown))) != len(shown):
            c.problem("dates", name, f"column labels shown are not distinct: {shown[:5]}")
        picks = sorted({0, 1, len(labels) - 1} & set(range(min(len(shown), len(labels)))))
        for j in picks:
            if not dates[j] or value.shape[0] == 0:
                continue
            asked, got = c.tools.call("preview_rows", name=name, count=1, columns=[shown[j]])
            body = _data(asked) or {}
            cols = body.get("columns") if isinstance(body, dict) else None
            if asked is None or "error" in asked or cols != [shown[j]]:
                c.problem("dates", name, f"asking for column {shown[j]!r} returned {got[:200]}")
                continue
            first = value.iloc[0, j]
            if isinstance(first, (int, float)) and not _shows_number(
                json.dumps(body), float(first)
            ):
                c.problem("dates", name, f"column {shown[j]!r} returned another column's values")
    elif isinstance(value, pd.Series):
        date = _date_text(value.name)
        index_dates = [_date_text(x) for x in value.index[:3]] if len(value) else []
        if not date and not any(index_dates):
            return
        c.count("dates")
        _, text = c.tools.call("describe_variable", name=name)
        if date and date not in text:
            c.problem("dates", name, f"the Series' name {value.name!r} is not shown as {date}")
        _, rows = c.tools.call("preview_rows", name=name, count=3)
        for d in index_dates:
            if d and d not in rows:
                c.problem("dates", name, f"index label {d} is not shown by preview_rows")
    elif isinstance(value, dict) and value:
        keys = list(value)[:5]
        dates = [_date_text(k) for k in keys]
        if not any(dates):
            return
        c.count("dates")
        _, text = c.tools.call("describe_variable", name=name)
        for d in dates:
            if d and d not in text:
                c.problem("dates", name, f"dict key {d} is not shown as a date")


def check_listing(c: Checks, user: set[str], imported: set[str]) -> None:
    """Finding 2: what the user assigned is listed and offered first; imported callables not."""
    from chatkit_notebook import NotebookContext
    from chatkit_notebook.previews.namespace import offered_variables, visible

    seen = visible(c.ns, ())
    user_data = sorted(
        n
        for n in user & set(seen)
        if not callable(seen[n]) and not isinstance(seen[n], types.ModuleType)
    )
    if not user_data:
        return
    c.count("user_first")
    parsed, _ = c.tools.call("list_variables")
    listed = list((_data(parsed) or {}).get("variables") or {})
    position = {n: i for i, n in enumerate(listed)}
    missing = [n for n in user_data if n not in position]
    if missing:
        c.problem(
            "user_first",
            "*",
            f"{len(missing)} of {len(user_data)} user variables not listed: {missing[:8]}",
        )
    last_user = max((position[n] for n in user_data if n in position), default=-1)
    early = [n for n in listed[:last_user] if n in imported]
    if early:
        c.problem(
            "user_first", "*", f"{len(early)} imported names listed before user ones: {early[:8]}"
        )
    listed_callables = [n for n in listed if n in imported and callable(seen.get(n))]
    if listed_callables:
        c.problem(
            "user_first",
            "*",
            f"{len(listed_callables)} imported callables listed as variables: "
            f"{listed_callables[:8]}",
        )
    offered = {n for n, _ in offered_variables(NotebookContext(namespace=c.ns))}
    not_offered = [n for n in user_data if n not in offered]
    if not_offered:
        c.problem(
            "user_first",
            "*",
            f"{len(not_offered)} of {len(user_data)} user variables never offered for @: "
            f"{not_offered[:8]}",
        )


def _read_path(c: Checks, path: str) -> tuple[dict[str, Any] | None, str]:
    """Read ``model.coef_``-style paths: a tool with a ``path`` parameter if there is one,
    else ``describe_variable`` with the path as its name."""
    for tool in c.tools.tools.values():
        properties = tool.params_json_schema.get("properties", {})
        if "path" in properties and "name" not in properties:
            return c.tools.call(tool.name, path=path)
    return c.tools.call("describe_variable", name=path)


def check_fitted(c: Checks, name: str, value: Any) -> None:
    """Finding 3 (and 7's regex): fitted models and results show what an analyst asks."""
    import numpy as np

    module = type(value).__module__ or ""
    if module.startswith("sklearn.") and hasattr(value, "get_params"):
        try:
            attributes = dict(vars(value))
        except TypeError:
            return
        fitted = [k for k in attributes if k.endswith("_") and not k.startswith("_")]
        pattern = attributes.get("token_pattern")
        if not fitted and not isinstance(pattern, str):
            return
        c.count("fitted")
        _parsed, text = c.tools.call("describe_variable", name=name)
        required = fitted if len(fitted) <= 40 else fitted[:20]
        absent = [k for k in required if _quoted(k) not in text]
        if absent:
            c.problem("fitted", name, f"fitted attributes not shown: {absent[:10]}")
        for k in fitted:
            v = attributes[k]
            small = isinstance(v, np.ndarray) and 0 < v.size <= 16 and v.dtype.kind in "fiu"
            if small and not _shows_number(text, float(v.flat[0])):
                c.problem("fitted", name, f"the small array {k} ({v.shape}) is not shown")
        arrays = [k for k in fitted if isinstance(attributes[k], np.ndarray)][:2]
        for k in arrays:
            c.count("paths")
            v = attributes[k]
            got, got_text = _read_path(c, f"{name}.{k}")
            first = float(v.flat[0]) if v.size and v.dtype.kind in "fiub" else None
            if (
                got is None
                or "error" in got
                or (first is not None and not _shows_number(got_text, first))
            ):
                c.problem("paths", name, f"{name}.{k} cannot be read: {got_text[:200]}")
        if isinstance(pattern, str):
            c.count("regex")
            if _quoted(pattern)[1:-1] not in text:
                c.problem("regex", name, f"token_pattern {pattern!r} is not shown (redacted?)")
        return
    if module.startswith("statsmodels.") and hasattr(value, "params") and hasattr(value, "nobs"):
        c.count("fitted")
        _, text = c.tools.call("describe_variable", name=name)
        wanted: dict[str, float] = {}
        try:
            params = np.asarray(value.params, dtype=float).ravel()
            for i, p in enumerate(params[:3]):
                wanted[f"params[{i}]"] = float(p)
            wanted["nobs"] = float(value.nobs)
            for attr in ("rsquared", "aic"):
                if hasattr(value, attr):
                    wanted[attr] = float(getattr(value, attr))
        except Exception as e:  # a result without these: say so, do not crash the probe
            c.problem("fitted", name, f"could not compute expectations: {type(e).__name__}")
        for what, number in wanted.items():
            if not _shows_number(text, number):
                c.problem("fitted", name, f"{what} = {number:.6g} is not shown")
        c.count("paths")
        got, got_text = _read_path(c, f"{name}.params")
        if (
            got is None
            or "error" in got
            or not _shows_number(got_text, wanted.get("params[0]", math.nan))
        ):
            c.problem("paths", name, f"{name}.params cannot be read: {got_text[:200]}")
        return
    optimize = sys.modules.get("scipy.optimize")
    if optimize is not None and isinstance(value, optimize.OptimizeResult):
        c.count("fitted")
        _, text = c.tools.call("describe_variable", name=name)
        x = np.atleast_1d(np.asarray(value.get("x", []), dtype=float))
        if x.size and not _shows_number(text, float(x[0])):
            c.problem("fitted", name, "the solution x is not shown")
        fun = value.get("fun")
        if isinstance(fun, (int, float, np.floating)) and not _shows_number(text, float(fun)):
            c.problem("fitted", name, "the objective value fun is not shown")


def check_stats(c: Checks, name: str, value: Any) -> None:
    """Finding 4: statistics exact to enough digits, or labelled as a sample's."""
    import numpy as np
    import pandas as pd

    if not isinstance(value, pd.DataFrame) or value.shape[0] == 0:
        return
    parsed, _ = c.tools.call("describe_variable", name=name)
    entries = [e for e in (_data(parsed) or {}).get("columns", []) if isinstance(e, dict)]
    if not entries:
        return
    notes = " ".join(map(str, (parsed or {}).get("notes", [])))
    sampled = value.shape[0] > 10_000 and "sample" in notes
    c.count("stats")
    for j, entry in enumerate(entries[: value.shape[1]]):
        stats = entry.get("stats")
        if not isinstance(stats, dict):
            continue
        column = value.iloc[:, j]
        label = str(entry.get("name"))
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            exact = column.dropna().astype(float)
            if exact.empty or "sample" in json.dumps(entry) or sampled:
                continue
            truth = {"min": exact.min(), "max": exact.max(), "mean": exact.mean()}
            for key, true in truth.items():
                shown = stats.get(key)
                if isinstance(shown, (int, float)) and not math.isclose(
                    shown, true, rel_tol=1e-7, abs_tol=1e-12
                ):
                    c.problem("stats", name, f"{label}: {key} shown {shown!r}, exact {true!r}")
            quartiles = [k for k in ("min", "25%", "50%", "75%", "max") if k in stats]
            if len(quartiles) >= 2:
                levels = [_LEVELS[k] for k in quartiles]
                real = exact.quantile(levels)
                distinct = len(set(np.round(real.to_numpy(), 12))) == len(quartiles)
                if distinct and len({json.dumps(stats[k]) for k in quartiles}) < len(quartiles):
                    c.problem(
                        "stats",
                        name,
                        f"{label}: distinct {quartiles} read the same: "
                        f"{[stats[k] for k in quartiles]}",
                    )
        elif {"unique", "top", "freq"} & set(stats):
            counts = column.value_counts(dropna=True)
            if counts.empty:
                continue
            if "unique" in stats and stats["unique"] != int(column.nunique(dropna=True)):
                c.problem(
                    "stats",
                    name,
                    f"{label}: unique shown {stats['unique']!r}, exact {column.nunique()}",
                )
            if "freq" in stats and stats["freq"] != int(counts.iloc[0]):
                c.problem(
                    "stats",
                    name,
                    f"{label}: freq shown {stats['freq']!r}, exact {int(counts.iloc[0])}",
                )
            if "top" in stats:
                modes = {str(k) for k, n in counts.items() if n == counts.iloc[0]}
                if str(stats["top"]) not in modes and len(modes) < 50:
                    c.problem(
                        "stats",
                        name,
                        f"{label}: top shown {stats['top']!r}, exact one of {sorted(modes)[:3]}",
                    )


def check_records(c: Checks, name: str, value: Any) -> None:
    """Finding 5: every key of a record is shown, and preview_rows reaches any key."""
    if not isinstance(value, (list, tuple)) or not value or not isinstance(value[0], dict):
        return
    first = [r for r in value[:3] if isinstance(r, dict)]
    keys = [[k for k in r if isinstance(k, str)] for r in first]
    if not keys[0] or max(map(len, keys)) > 60:
        return
    c.count("records")
    _, text = c.tools.call("describe_variable", name=name)
    absent = [k for k in keys[0] if _quoted(k) not in text]
    if absent:
        c.problem("records", name, f"describe_variable hides keys of record 0: {absent[:10]}")
    _, rows = c.tools.call("preview_rows", name=name, start=0, count=len(first))
    for i, ks in enumerate(keys):
        absent = [k for k in ks if _quoted(k) not in rows]
        if absent:
            c.problem(
                "records", name, f"preview_rows cannot reach keys of record {i}: {absent[:10]}"
            )


def _wants_rows(value: Any) -> bool:
    kinds = [
        ("pandas", ("DatetimeIndex", "PeriodIndex", "MultiIndex", "TimedeltaIndex")),
        ("xarray", ("Dataset", "DataArray")),
        ("sympy", ("MatrixBase",)),
        ("networkx", ("Graph",)),
    ]
    for module_name, classes in kinds:
        module = sys.modules.get(module_name)
        if module is not None:
            for cls in classes:
                found = getattr(module, cls, None) or getattr(
                    getattr(module, "matrices", None), cls, None
                )
                if isinstance(found, type) and isinstance(value, found):
                    return True
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(value):
        return True
    groupby = sys.modules.get("pandas.core.groupby")
    if groupby is not None and isinstance(value, groupby.GroupBy):
        return True
    return isinstance(value, range) and len(value) > 0


def check_rows(c: Checks, name: str, value: Any) -> None:
    """Finding 6: objects an analyst expects rows from have rows; figures say what they plot."""
    if _wants_rows(value):
        c.count("rows")
        parsed, text = c.tools.call("preview_rows", name=name, count=5)
        if parsed is None or "error" in parsed:
            c.problem("rows", name, f"{type(value).__name__} has no rows: {text[:160]}")
        return
    figure = sys.modules.get("matplotlib.figure")
    if figure is not None and isinstance(value, figure.Figure):
        words = []
        for ax in value.get_axes():
            words += [w for w in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) if w.strip()]
        if not words:
            return
        c.count("figures")
        _, text = c.tools.call("describe_variable", name=name)
        absent = [w for w in words if _quoted(w)[1:-1] not in text]
        if absent:
            c.problem("figures", name, f"the figure's titles and labels are not said: {absent[:5]}")


def check_titles(c: Checks, titles: list[str]) -> None:
    """Finding 7: step titles say "1 key", not "1 keys"."""
    wrong = sorted({t for t in titles if _ONE_PLURAL.search(t)})
    c.count("titles")
    if wrong:
        c.problem("titles", "*", f"{len(wrong)} step titles with a plural after 1: {wrong[:5]}")


# -- the sweep --------------------------------------------------------------------------------


def sweep(tools: Tools, names: list[str], namespace: dict[str, Any]) -> list[str]:
    """Every tool on every name, with preview_rows' argument variants; the tables whose
    description shows a date as ``Timestamp('…')`` (finding 1)."""
    import pandas as pd

    dated: list[str] = []
    tools.call("list_variables")
    tools.call("list_variables", include_callables=True)
    for name in names:
        value = namespace.get(name)
        _, text = tools.call("describe_variable", name=name)
        table = isinstance(value, (pd.DataFrame, pd.Series))
        if table and "Timestamp('" in text:
            dated.append(name)
        parsed, text = tools.call("preview_rows", name=name)
        if parsed is None or "error" in parsed:
            continue
        tools.call("preview_rows", name=name, start=-3, count=3)
        tools.call("preview_rows", name=name, start=0, count=20)
        shown = (_data(parsed) or {}).get("columns") if isinstance(_data(parsed), dict) else None
        if isinstance(shown, list) and shown:
            tools.call("preview_rows", name=name, count=5, columns=[shown[-1]])
    return dated


def through_server(
    namespace: dict[str, Any], names: list[str], workdir: Path
) -> tuple[list[dict[str, Any]], list[str]]:
    """The same tools through NotebookChatServer and a scripted model; one record a call."""
    from agents.testing import ScriptedModel, assistant_message, function_call
    from scripted import ChatClient

    from chatkit_notebook import NotebookContext
    from chatkit_notebook.agent.server import NotebookChatServer
    from chatkit_notebook.stores.file import NotebookStore

    calls: list[tuple[str, dict[str, Any]]] = [("list_variables", {})]
    for name in names:
        calls += [("describe_variable", {"name": name}), ("preview_rows", {"name": name})]
    store = NotebookStore(workdir / "server.chatkit.json")
    records: list[dict[str, Any]] = []
    titles: list[str] = []
    per_turn = CALLS_PER_STEP * STEPS_PER_TURN

    async def run_all() -> None:
        for base in range(0, len(calls), per_turn):
            batch = calls[base : base + per_turn]
            steps: list[Any] = []
            ids: dict[str, tuple[str, dict[str, Any]]] = {}
            for s in range(0, len(batch), CALLS_PER_STEP):
                step = []
                for k, (tool, arguments) in enumerate(batch[s : s + CALLS_PER_STEP]):
                    call_id = f"call_{base + s + k}"
                    ids[call_id] = (tool, arguments)
                    step.append(function_call(tool, arguments, call_id=call_id))
                steps.append(step)
            steps.append([assistant_message("Read them all.")])
            model = ScriptedModel(steps)
            client = ChatClient(
                NotebookChatServer(store, model=model), NotebookContext(namespace=namespace)
            )
            _, events = await client.create("Read every variable.")
            for event in events:
                item = getattr(event, "item", None)
                workflow = getattr(item, "workflow", None)
                if event.type == "thread.item.done" and workflow is not None:
                    titles.extend(str(getattr(t, "title", "")) for t in workflow.tasks)
            outputs = {
                i.get("call_id"): i.get("output")
                for i in model.calls[-1].input
                if isinstance(i, dict) and i.get("type") == "function_call_output"
            }
            for call_id, (tool, arguments) in ids.items():
                text = outputs.get(call_id)
                if not isinstance(text, str):
                    records.append(
                        _record("server", tool, arguments, None, None, None)
                        | {"problem": "no output reached the model"}
                    )
                    continue
                records.append(_record("server", tool, arguments, text, _parse(text), None))

    asyncio.run(run_all())
    return records, titles


def _in_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` in a thread of its own: the kernel's main thread has a running event
    loop, and the probe runs loops of its own (as the chat's runtime thread does)."""
    outcome: dict[str, Any] = {}

    def main() -> None:
        try:
            outcome["value"] = function()
        except BaseException as e:  # carried to the caller
            outcome["error"] = e

    thread = threading.Thread(target=main, name="realnb-probe")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def probe(cells: list[str], report_path: str, *, server: bool = True) -> None:
    """Probe the kernel's namespace after ``cells`` ran; write the report to ``report_path``."""
    shell = sys.modules["IPython"].get_ipython()
    report = _in_thread(lambda: _probe(shell.user_ns, cells, server))
    Path(report_path).write_text(json.dumps(report), encoding="utf-8")


def _probe(namespace: dict[str, Any], cells: list[str], server: bool) -> dict[str, Any]:
    from chatkit_notebook.previews.namespace import visible

    names = list(visible(namespace, ()))
    user, imported = provenance(cells)
    with tempfile.TemporaryDirectory(prefix="realnb-") as tmp:
        workdir = Path(tmp)
        tools = Tools(namespace, workdir)
        started = time.perf_counter()
        try:
            dated = sweep(tools, names, namespace)
            checks = Checks(tools, namespace)
            for name in dated:
                checks.count("dates")
                checks.problem("dates", name, "a date in the table is shown as Timestamp('…')")
            tools.phase = "check"
            for name in names:
                value = namespace.get(name)
                for check in (check_dates, check_fitted, check_stats, check_records, check_rows):
                    try:
                        check(checks, name, value)
                    except Exception as e:  # a broken check is reported, not a crash
                        what = f"the check raised {type(e).__name__}: {e}"
                        checks.problem(check.__name__, name, what)
            check_listing(checks, user, imported)
            server_records: list[dict[str, Any]] = []
            titles = list(tools.titles)
            if server:
                server_records, server_titles = through_server(namespace, names, workdir)
                titles += server_titles
            check_titles(checks, titles)
        finally:
            tools.close()
        seconds = time.perf_counter() - started
    return {
        "names": len(names),
        "user_names": len(user & set(names)),
        "seconds": round(seconds, 2),
        "calls": tools.records + server_records,
        "problems": checks.problems,
        "checks_ran": checks.ran,
    }
