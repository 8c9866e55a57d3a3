"""Values an analyst asks particular things of: indexes, groups, labelled and sparse arrays,
symbolic matrices, graphs, figures and fitted results.

``values.describe`` and ``values.rows`` dispatch here by kind (``values.kind_of`` names
them from the type alone, with each library looked up in ``sys.modules``, never
imported). The same contract as ``tables.py``: bounded, redacted, never mutating. Library
code is called directly where it is cheap and bounded (pandas, xarray, scipy.sparse,
networkx and matplotlib accessors); anything that may compute at length (sympy's printing,
statsmodels' statistics, which are computed on first access) runs in
``foreign.call_foreign``'s worker under the tool's time budget.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from typing import Any

from .foreign import call_foreign, safe_text, type_name
from .tables import _array_head, _cells, _describe_ndarray
from .values import JSON, Preview, Walker, label_text, window

__all__ = ["KNOWN_DESCRIBERS", "KNOWN_ROW_READERS"]


# -- range ---------------------------------------------------------------------------------


def _describe_range(r: range, w: Walker, p: Preview) -> None:
    p.meta["length"] = len(r)
    p.data.update(start=r.start, stop=r.stop, step=r.step)
    p.data["head"] = list(r[: w.caps.head_rows])


def _rows_range(r: range, start: int, count: int, columns: Any, w: Walker, p: Preview) -> None:
    first, end = window(start, count, len(r))
    p.meta.update(length=len(r), rows=[first, end])
    p.data["items"] = list(r[first:end])


# -- pandas indexes and groups ----------------------------------------------------------------


def _index_names(idx: Any, p: Preview) -> None:
    if int(idx.nlevels) > 1:
        p.data["names"] = [label_text(n) for n in idx.names]
    else:
        p.data["name"] = None if idx.name is None else label_text(idx.name)


def _describe_index(idx: Any, w: Walker, p: Preview) -> None:
    total = len(idx)
    p.meta.update(length=total, dtype=str(idx.dtype))
    _index_names(idx, p)
    if int(idx.nlevels) > 1:
        p.data["levels"] = [
            {"name": label_text(name), "values": len(level)}
            for name, level in zip(idx.names, idx.levels, strict=True)
        ]
    elif (total and idx.dtype.kind in "iufmM") or str(idx.dtype).startswith("period"):
        p.data["min"] = _cells([idx.min()], w)[0]
        p.data["max"] = _cells([idx.max()], w)[0]
    freq = getattr(idx, "freqstr", None)
    if isinstance(freq, str):
        p.data["freq"] = freq
    p.data["unique"] = bool(idx.is_unique)
    p.data["head"] = _cells(idx[: w.caps.head_rows].tolist(), w)
    if total > w.caps.head_rows:
        p.data["tail"] = _cells(idx[-w.caps.head_rows :].tolist(), w)


def _rows_index(idx: Any, start: int, count: int, columns: Any, w: Walker, p: Preview) -> None:
    total = len(idx)
    first, end = window(start, count, total)
    p.meta.update(length=total, rows=[first, end])
    _index_names(idx, p)
    p.data["values"] = _cells(idx[first:end].tolist(), w)


def _group_sizes(gb: Any) -> Any:
    sizes = gb.size()
    if not hasattr(sizes, "name") or sizes.ndim != 1:  # as_index=False: a frame
        sizes = sizes.set_index(list(sizes.columns[:-1])).iloc[:, -1]
    return sizes


def _describe_groupby(gb: Any, w: Walker, p: Preview) -> None:
    sizes = _group_sizes(gb)
    p.data["groups"] = len(sizes)
    keys = gb.keys if isinstance(gb.keys, list) else [gb.keys]
    p.data["by"] = [label_text(k) if not hasattr(k, "ndim") else type_name(k) for k in keys]
    if len(sizes):
        p.data["sizes"] = {
            "min": int(sizes.min()),
            "max": int(sizes.max()),
            "mean": float(sizes.mean()),
        }
    shown = sizes.iloc[: w.caps.head_rows]
    p.data["head"] = {"groups": _cells(shown.index.tolist(), w), "sizes": shown.tolist()}
    p.notes.append("preview_rows reads every group's key and size")


def _rows_groupby(gb: Any, start: int, count: int, columns: Any, w: Walker, p: Preview) -> None:
    sizes = _group_sizes(gb)
    first, end = window(start, count, len(sizes))
    p.meta.update(length=len(sizes), rows=[first, end])
    part = sizes.iloc[first:end]
    p.data["groups"] = _cells(part.index.tolist(), w)
    p.data["sizes"] = [int(n) for n in part.tolist()]


# -- xarray --------------------------------------------------------------------------------


def _coord_labels(obj: Any, dim: str, first: int, end: int, w: Walker) -> list[JSON]:
    try:
        labels = obj.indexes[dim][first:end].tolist()
    except KeyError:  # a dimension without a coordinate: its positions
        return list(range(first, end))
    return _cells(labels, w)


def _loaded(data: Any) -> bool:
    return type(data).__module__.partition(".")[0] == "numpy"


def _describe_dataarray(a: Any, w: Walker, p: Preview) -> None:
    p.data["name"] = label_text(a.name)
    p.data["dims"] = {label_text(d): int(n) for d, n in zip(a.dims, a.shape, strict=True)}
    p.data["coords"] = [label_text(c) for c in itertools.islice(a.coords, w.caps.columns)]
    if a.attrs:
        p.data["attrs"] = w.value(dict(a.attrs), 1, w.caps.cell_chars)
    if _loaded(a.data):
        inner = Preview()
        _describe_ndarray(a.data, w, inner)
        p.meta.update(inner.meta)
        p.data.update(inner.data)
        p.notes.extend(inner.notes)
    else:
        p.meta["shape"] = [int(n) for n in a.shape]
        p.notes.append(f"the data is not loaded ({type_name(a.data)}): no values shown")


def _rows_dataarray(a: Any, start: int, count: int, columns: Any, w: Walker, p: Preview) -> None:
    p.meta["shape"] = [int(n) for n in a.shape]
    if not a.ndim:
        p.data["rows"] = [_cells([a.item()], w)[0]]
        return
    dim = a.dims[0]
    first, end = window(start, count, int(a.shape[0]))
    p.meta.update(dim=label_text(dim), rows=[first, end])
    p.data["index"] = _coord_labels(a, dim, first, end, w)
    part = a.isel({dim: slice(first, end)})
    if _loaded(part.data):
        p.data["rows"] = _array_head(part.data, 0, end - first, w)
    else:
        p.notes.append("the data is not loaded: no values shown")


def _describe_dataset(ds: Any, w: Walker, p: Preview) -> None:
    p.data["dims"] = {label_text(d): int(n) for d, n in ds.sizes.items()}
    p.data["data_vars"] = {
        label_text(name): {
            "dims": [label_text(d) for d in var.dims],
            "dtype": str(var.dtype),
        }
        for name, var in itertools.islice(ds.data_vars.items(), w.caps.columns)
    }
    if len(ds.data_vars) > w.caps.columns:
        p.notes.append(f"showing {w.caps.columns} of {len(ds.data_vars)} data variables")
    p.data["coords"] = [label_text(c) for c in itertools.islice(ds.coords, w.caps.columns)]
    if ds.attrs:
        p.data["attrs"] = w.value(dict(ds.attrs), 1, w.caps.cell_chars)
    p.notes.append("preview_rows reads the variables along the first dimension")


def _rows_dataset(ds: Any, start: int, count: int, columns: Any, w: Walker, p: Preview) -> None:
    dims = list(ds.sizes)
    if not dims:
        p.data["variables"] = {}
        return
    dim = dims[0]
    total = int(ds.sizes[dim])
    first, end = window(start, count, total)
    p.meta.update(dim=label_text(dim), length=total, rows=[first, end])
    p.data["index"] = _coord_labels(ds, dim, first, end, w)
    shown: dict[str, JSON] = {}
    wanted = None if columns is None else {str(c) for c in columns}
    for name, var in ds.data_vars.items():
        if dim not in var.dims or (wanted is not None and label_text(name) not in wanted):
            continue
        if len(shown) >= w.caps.columns:
            p.notes.append(f"showing {w.caps.columns} variables; pass columns=[...] for others")
            break
        part = var.isel({dim: slice(first, end)}).transpose(dim, ...)
        shown[label_text(name)] = (
            _array_head(part.data, 0, end - first, w) if _loaded(part.data) else "<not loaded>"
        )
    p.data["variables"] = shown
    if columns is not None:
        p.meta["columns"] = sorted(shown)


# -- scipy.sparse --------------------------------------------------------------------------


def _sparse_meta(m: Any, p: Preview) -> None:
    shape = [int(n) for n in m.shape]
    cells = 1
    for n in shape:
        cells *= n
    p.meta.update(shape=shape, nnz=int(m.nnz), format=str(m.format), dtype=str(m.dtype))
    p.meta["density"] = round(int(m.nnz) / cells, 6) if cells else 0.0


def _sparse_rows(m: Any, first: int, end: int, w: Walker) -> JSON:
    if m.ndim == 1:
        return _cells(m.toarray()[first:end].tolist(), w)
    part = m.tocsr()[first:end, : w.caps.columns]
    return [w.plain(row, w.caps.cell_chars) for row in part.toarray().tolist()]


def _describe_sparse(m: Any, w: Walker, p: Preview) -> None:
    _sparse_meta(m, p)
    p.data["head"] = _sparse_rows(m, 0, w.caps.head_rows, w)
    p.notes.append(f"head shows up to {w.caps.head_rows} rows of {w.caps.columns} values")


def _rows_sparse(m: Any, start: int, count: int, columns: Any, w: Walker, p: Preview) -> None:
    _sparse_meta(m, p)
    first, end = window(start, count, int(m.shape[0]))
    p.meta["rows"] = [first, end]
    p.data["rows"] = _sparse_rows(m, first, end, w)


# -- sympy ---------------------------------------------------------------------------------


def _matrix_text(m: Any, first: int, end: int, w: Walker) -> JSON:
    columns = min(int(m.shape[1]), w.caps.columns)

    def render() -> list[list[str]]:  # sympy's printer: one timed call for the window
        return [[str(m[i, j]) for j in range(columns)] for i in range(first, end)]

    status, got = call_foreign(render, w.budget)
    if status != "ok" or not isinstance(got, list):
        return f"<printing the matrix did not finish ({status})>"
    return [[safe_text(cell, w.caps.cell_chars) for cell in row] for row in got]


def _describe_matrix(m: Any, w: Walker, p: Preview) -> None:
    p.meta["shape"] = [int(n) for n in m.shape]
    p.data["head"] = _matrix_text(m, 0, min(int(m.shape[0]), w.caps.head_rows), w)


def _rows_matrix(m: Any, start: int, count: int, columns: Any, w: Walker, p: Preview) -> None:
    p.meta["shape"] = [int(n) for n in m.shape]
    first, end = window(start, count, int(m.shape[0]))
    p.meta["rows"] = [first, end]
    p.data["rows"] = _matrix_text(m, first, end, w)


# -- networkx ------------------------------------------------------------------------------


def _nodes(g: Any, first: int, end: int, w: Walker) -> list[JSON]:
    return [
        [w.value(node, 1, w.caps.cell_chars), w.value(dict(data), 1, w.caps.cell_chars)]
        for node, data in itertools.islice(g.nodes(data=True), first, end)
    ]


def _edges(g: Any, first: int, end: int, w: Walker) -> list[JSON]:
    edges = g.edges(keys=True, data=True) if g.is_multigraph() else g.edges(data=True)
    return [
        [w.value(part, 1, w.caps.cell_chars) for part in edge[:-1]]
        + [w.value(dict(edge[-1]), 1, w.caps.cell_chars)]
        for edge in itertools.islice(edges, first, end)
    ]


def _describe_graph(g: Any, w: Walker, p: Preview) -> None:
    p.meta.update(directed=bool(g.is_directed()), multigraph=bool(g.is_multigraph()))
    p.data["nodes"] = int(g.number_of_nodes())
    p.data["edges"] = int(g.number_of_edges())
    if g.graph:
        p.data["graph"] = w.value(dict(g.graph), 1, w.caps.cell_chars)
    p.data["first_nodes"] = _nodes(g, 0, w.caps.head_rows, w)
    p.data["first_edges"] = _edges(g, 0, w.caps.head_rows, w)
    p.notes.append("nodes read [node, attributes]; edges [from, to, (key,) attributes]")


def _rows_graph(g: Any, start: int, count: int, columns: Any, w: Walker, p: Preview) -> None:
    nodes, edges = int(g.number_of_nodes()), int(g.number_of_edges())
    first_node, end_node = window(start, count, nodes)
    first_edge, end_edge = window(start, count, edges)
    p.meta.update(nodes=nodes, edges=edges, rows=[first_node, max(end_node, end_edge)])
    p.data["nodes"] = _nodes(g, first_node, end_node, w)
    p.data["edges"] = _edges(g, first_edge, end_edge, w)
    p.notes.append("rows count nodes and edges alike: start and count apply to each")


# -- matplotlib ----------------------------------------------------------------------------


def _label(artist: Any, n: int) -> str:
    label = artist.get_label()
    return f"(unlabelled {n})" if not isinstance(label, str) or label.startswith("_") else label


def _axes(ax: Any, w: Walker) -> dict[str, JSON]:
    chars = w.caps.cell_chars
    out: dict[str, JSON] = {
        "title": safe_text(ax.get_title(), chars),
        "xlabel": safe_text(ax.get_xlabel(), chars),
        "ylabel": safe_text(ax.get_ylabel(), chars),
    }
    if hasattr(ax, "get_xlim"):
        out["xlim"] = [w.value(v, 1, chars) for v in ax.get_xlim()]
        out["ylim"] = [w.value(v, 1, chars) for v in ax.get_ylim()]
        out["xscale"], out["yscale"] = str(ax.get_xscale()), str(ax.get_yscale())
    lines = list(ax.lines)
    out["lines"] = [safe_text(_label(a, i), chars) for i, a in enumerate(lines[: w.caps.items])]
    out["artists"] = {
        "lines": len(lines),
        "collections": len(ax.collections),
        "images": len(ax.images),
        "patches": len(ax.patches),
        "texts": len(ax.texts),
    }
    legend = ax.get_legend()
    if legend is not None:
        texts = legend.get_texts()[: w.caps.items]
        out["legend"] = [safe_text(t.get_text(), chars) for t in texts]
    return out


def _describe_figure(fig: Any, w: Walker, p: Preview) -> None:
    axes = list(fig.axes)
    p.meta["axes"] = len(axes)
    suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    p.data["suptitle"] = safe_text(suptitle, w.caps.cell_chars)
    p.data["size_inches"] = [round(float(v), 2) for v in fig.get_size_inches()]
    p.data["axes"] = [_axes(ax, w) for ax in axes[: w.caps.items]]
    if len(axes) > w.caps.items:
        p.notes.append(f"showing {w.caps.items} of {len(axes)} axes")


def _describe_axes(ax: Any, w: Walker, p: Preview) -> None:
    p.data.update(_axes(ax, w))


# -- statsmodels ---------------------------------------------------------------------------

# What an analyst asks of a fitted model, read through the results' public attributes
# (statsmodels computes most on first access and caches them): per-parameter series...
_SERIES = ("params", "bse", "tvalues", "pvalues")
# ...and single numbers. A statistic a model does not have is left out.
_NUMBERS = (
    "nobs",
    "df_model",
    "df_resid",
    "rsquared",
    "rsquared_adj",
    "prsquared",
    "fvalue",
    "f_pvalue",
    "llf",
    "aic",
    "bic",
    "scale",
    "converged",
)
_MAX_PARAMS = 50


def _statsmodels_facts(r: Any) -> dict[str, Any]:
    """Runs in the foreign worker: every fact as builtin values (or an error's name)."""
    np = sys.modules["numpy"]
    facts: dict[str, Any] = {}
    model = getattr(r, "model", None)
    facts["model"] = type(model).__name__ if model is not None else None
    names = getattr(model, "exog_names", None)
    facts["dependent"] = getattr(model, "endog_names", None)
    facts["formula"] = getattr(model, "formula", None)
    for attr in _SERIES:
        try:
            value = getattr(r, attr)
        except Exception:  # noqa: S112 - a model without it: left out
            continue
        if hasattr(value, "index") and hasattr(value, "tolist") and np.ndim(value) == 1:
            labels = value.index.tolist()
            pairs = zip(labels[:_MAX_PARAMS], value.tolist()[:_MAX_PARAMS], strict=True)
            facts[attr] = list(pairs)
        elif np.ndim(value) == 1:
            values = np.asarray(value).tolist()[:_MAX_PARAMS]
            labels = names if isinstance(names, list) and len(names) >= len(values) else None
            labels = labels[: len(values)] if labels else [f"x{i}" for i in range(len(values))]
            facts[attr] = list(zip(labels, values, strict=True))
    numbers: dict[str, Any] = {}
    for attr in _NUMBERS:
        try:
            value = getattr(r, attr)
        except Exception:  # noqa: S112 - a statistic this model lacks: left out
            continue
        if np.ndim(value) == 0 and not callable(value):
            numbers[attr] = value.item() if hasattr(value, "item") else value
    facts["statistics"] = numbers
    return facts


def _describe_statsmodels(r: Any, w: Walker, p: Preview) -> None:
    status, facts = call_foreign(lambda: _statsmodels_facts(r), w.budget)
    if status != "ok" or not isinstance(facts, dict):
        p.notes.append(f"the results' statistics could not be read ({status})")
        return
    chars = w.caps.cell_chars
    for key in ("model", "dependent", "formula"):
        if facts.get(key) is not None:
            p.data[key] = w.value(facts[key], 1, chars)
    for attr in _SERIES:
        if attr in facts:
            p.data[attr] = {label_text(k): w.value(v, 2, chars) for k, v in facts[attr]}
    p.data["statistics"] = {k: w.value(v, 2, chars) for k, v in facts["statistics"].items()}
    p.notes.append(
        "read any other result with a path (results.resid, results.fittedvalues); "
        "results.summary() and conf_int() are methods: call them with run_python"
    )


_Describer = Callable[[Any, Walker, Preview], None]
_RowReader = Callable[[Any, int, int, Any, Walker, Preview], None]

KNOWN_DESCRIBERS: dict[str, _Describer] = {
    "range": _describe_range,
    "pandas.Index": _describe_index,
    "pandas.GroupBy": _describe_groupby,
    "xarray.DataArray": _describe_dataarray,
    "xarray.Dataset": _describe_dataset,
    "scipy.sparse": _describe_sparse,
    "sympy.Matrix": _describe_matrix,
    "networkx.Graph": _describe_graph,
    "matplotlib.Figure": _describe_figure,
    "matplotlib.Axes": _describe_axes,
    "statsmodels.Results": _describe_statsmodels,
}
KNOWN_ROW_READERS: dict[str, _RowReader] = {
    "range": _rows_range,
    "pandas.Index": _rows_index,
    "pandas.GroupBy": _rows_groupby,
    "xarray.DataArray": _rows_dataarray,
    "xarray.Dataset": _rows_dataset,
    "scipy.sparse": _rows_sparse,
    "sympy.Matrix": _rows_matrix,
    "networkx.Graph": _rows_graph,
}
