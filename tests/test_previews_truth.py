"""Previews that tell the truth on real notebooks (issue 18, findings 1-7).

Each test builds by hand the kind of value the real-notebook run found mislabelled, cut or
out of reach, and asserts what an analyst needs to see: distinct date labels, the user's
variables before star-imported names, a fitted model's numbers, exact (or clearly labelled)
statistics, every key of a JSON record, rows of the objects that have them.
"""

from __future__ import annotations

import functools
import json
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chatkit_notebook import NotebookContext
from chatkit_notebook.agent import tools as T
from chatkit_notebook.previews.foreign import Budget
from chatkit_notebook.previews.namespace import offered_variables
from chatkit_notebook.previews.redact import is_secret_name
from chatkit_notebook.previews.values import (
    Caps,
    PreviewError,
    describe,
    kind_of,
    rows,
    shape_text,
    summary,
)

UNTRUSTED = T.UNTRUSTED_FIELD


def data_of(result: str) -> Any:
    parsed = json.loads(result)
    assert len(result) <= T.MAX_RESULT_CHARS
    return parsed


def close_px() -> pd.DataFrame:
    dates = pd.date_range("2011-10-10", periods=8, freq="B")
    return pd.DataFrame(
        {"AAPL": np.linspace(390.0, 400.0, 8), "MSFT": np.linspace(26.0, 27.0, 8)}, index=dates
    )


# -- 1. pandas 3 timestamps -------------------------------------------------------------------


def test_dates_as_column_labels_are_distinct_and_selectable() -> None:
    wide = close_px().head(5).T  # the dates become the column labels
    names = [c["name"] for c in describe(wide).data["columns"]]
    assert names == [str(ts) for ts in wide.columns]
    assert len(set(names)) == 5
    picked = rows(wide, columns=["2011-10-12 00:00:00"])
    assert picked.data["columns"] == ["2011-10-12 00:00:00"]
    assert picked.data["rows"] == [[wide.iloc[0, 2]], [wide.iloc[1, 2]]]


def test_a_column_label_that_reads_like_another_is_refused_not_guessed() -> None:
    class Label:
        def __init__(self, n: int) -> None:
            self.n = n

    twins = pd.DataFrame([[1, 2]], columns=[Label(1), Label(2)])
    names = [c["name"] for c in describe(twins).data["columns"]]
    assert names[0] == names[1]  # both read "<...Label>"
    with pytest.raises(PreviewError, match="2 columns"):
        rows(twins, columns=[names[0]])


def test_a_date_series_name_dict_keys_and_cells_read_as_dates_without_foreign_calls() -> None:
    px = close_px()
    row = px.loc["2011-10-14"]
    assert describe(row).data["name"] == "2011-10-14 00:00:00"
    as_dict = px["AAPL"].head(3).to_dict()
    items = describe(as_dict, budget=Budget(0)).data["items"]
    assert list(items) == [str(ts) for ts in px.index[:3]]
    cells = pd.Series([pd.Timestamp("2011-10-14"), pd.Timedelta("1D"), pd.Period("2011-10")])
    shown = describe(cells, budget=Budget(0)).data["head"]["values"]  # no time for repr
    assert shown == ["2011-10-14 00:00:00", "1 days 00:00:00", "2011-10"]
    assert describe([pd.NaT, pd.Interval(0, 1)], budget=Budget(0)).data["items"] == [
        "NaT",
        "(0, 1]",
    ]


def test_an_object_column_of_timestamps_gets_statistics() -> None:
    column = pd.Series([pd.Timestamp("2011-10-14"), pd.Timestamp("2011-10-17")], dtype=object)
    stats = describe(column).data["stats"]
    assert isinstance(stats, dict)
    assert stats["unique"] == 2


# -- 2. star imports ----------------------------------------------------------------------------


def test_function_like_objects_are_functions_not_data() -> None:
    import sympy

    @functools.lru_cache
    def cached(x: int) -> int:
        return x

    for value in (np.add, np.sum, cached, functools.partial(max, 1), sympy.pprint):
        assert kind_of(value) == "function", value


def pylab_notebook() -> NotebookContext:
    namespace: dict[str, Any] = {}
    exec("from pylab import *", namespace)  # noqa: S102 - a real star import
    namespace.pop("__builtins__", None)
    cells = ["", "from pylab import *", "t = linspace(0, 1, 50)\nx = sin(t)\ny = cos(t)"]
    namespace["In"] = cells
    namespace.update(t=np.linspace(0, 1, 50), x=np.zeros(50), y=np.ones(50))
    return NotebookContext(namespace=namespace)


def test_the_user_variables_come_first_after_a_star_import() -> None:
    nb = pylab_notebook()
    listed = data_of(T._compute_list(nb, include_callables=False).result)
    names = list(listed[UNTRUSTED]["variables"])
    assert names[:3] == ["t", "x", "y"]
    assert "sum" not in names  # a numpy dispatcher is a function
    assert "add" not in names  # a ufunc too
    offered = [name for name, _ in offered_variables(nb)]
    assert offered[:3] == ["t", "x", "y"]


def test_a_name_the_cells_only_import_or_use_is_not_the_users() -> None:
    # Found by the real-notebook corpus: `from numpy import pi` and `pi * r` put `pi` before
    # the user's own `r` when "the user's" meant any name a cell mentions; and a star
    # import's callable objects (`FR`, `colormaps`, numpy's `test`) were listed as data.
    nb = pylab_notebook()
    nb.namespace["In"] = [
        *nb.namespace["In"],
        "from numpy import pi\nr = 2.0\narea = pi * r**2  # e and nan are mentioned here",
    ]
    nb.namespace.update(pi=np.pi, r=2.0, area=np.pi * 4)
    listed = list(
        data_of(T._compute_list(nb, include_callables=False).result)[UNTRUSTED]["variables"]
    )
    assert listed[:5] == ["area", "r", "t", "x", "y"]
    assert "pi" in listed[5:]  # imported data: listed, after
    assert "e" in listed[5:]
    assert not {"FR", "MO", "colormaps", "test"} & set(listed)  # imported callables: not data
    offered = [name for name, _ in offered_variables(nb)]
    assert set(offered[:5]) == {"area", "r", "t", "x", "y"}  # in namespace order
    assert "colormaps" not in offered


# -- 3. fitted models ---------------------------------------------------------------------------


def test_fitted_attributes_come_first() -> None:
    from sklearn.mixture import BayesianGaussianMixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BayesianGaussianMixture(n_components=2, random_state=0, max_iter=20)
        model.fit(np.random.default_rng(0).normal(size=(40, 2)))
    attributes = describe(model).data["attributes"]
    for fitted in ("weights_", "means_", "converged_", "n_iter_", "lower_bound_"):
        assert fitted in attributes
    assert next(iter(attributes)).endswith("_")
    assert attributes["converged_"] in (True, False)


def test_small_arrays_inside_objects_and_dicts_are_shown() -> None:
    class Fit:
        def __init__(self) -> None:
            self.coef_ = np.array([[1.0, 2.0], [3.0, 4.0]])
            # a Gaussian mixture's covariances_: 2 components of 2 x 2 (found by the corpus)
            self.covariances_ = np.arange(8.0).reshape(2, 2, 2)
            self.big_ = np.zeros((100, 64))

    attributes = describe(Fit()).data["attributes"]
    assert attributes["coef_"] == [[1.0, 2.0], [3.0, 4.0]]
    assert attributes["covariances_"] == [[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]]
    assert "shape (100, 64)" in attributes["big_"]
    assert describe({"w": np.arange(3)}).data["items"] == {"w": [0, 1, 2]}


class Model:
    """A user class: a property and __getattr__ must never run."""

    def __init__(self) -> None:
        self.coef_ = np.arange(6.0).reshape(2, 3)
        self.meta = {"key": [1, 2, 3], "api_key": "sk-" + "x" * 40}
        self.ran: list[str] = []

    @property
    def expensive(self) -> int:
        self.ran.append("property")
        return 1

    def fit(self) -> None:
        self.ran.append("method")

    def __getattr__(self, name: str) -> object:
        self.ran.append("getattr")
        return 0


def test_an_attribute_and_key_path_reads_without_running_user_code() -> None:
    model = Model()
    nb = NotebookContext(namespace={"model": model, "d": {"key": {"inner": [5, 6]}}})
    coef = data_of(T._compute_describe(nb, "model.coef_").result)
    assert coef["name"] == "model.coef_"
    assert coef["shape"] == [2, 3]
    assert coef[UNTRUSTED]["head"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    inner = data_of(T._compute_describe(nb, 'd["key"]["inner"]').result)
    assert inner[UNTRUSTED]["items"] == [5, 6]
    listed = data_of(T._compute_rows(nb, "model.meta['key']", 1, 5, None).result)
    assert listed[UNTRUSTED]["items"] == [2, 3]
    secret = data_of(T._compute_describe(nb, "model.meta['api_key']").result)
    assert secret[UNTRUSTED]["value"] == "[REDACTED]"
    for path, said in (
        ("model.expensive", "property"),
        ("model.fit", "method"),
        ("model.missing", "no attribute"),
        ("model._private", "private"),
        ("model.coef_()", "path"),
        ("d['nope']", "no key"),
    ):
        error = data_of(T._compute_describe(nb, path).result)
        assert said in error["error"], (path, error)
    assert model.ran == []


def test_statsmodels_results_show_what_an_analyst_asks() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": np.arange(30.0)})
    frame["y"] = 2 * frame["x"] + 1 + rng.normal(size=30)
    results = sm.OLS(frame["y"], sm.add_constant(frame[["x"]])).fit()
    data = describe(results).data
    assert set(data["params"]) == {"const", "x"}
    assert abs(data["params"]["x"] - 2) < 0.2
    assert 0.9 < data["statistics"]["rsquared"] <= 1
    assert data["statistics"]["nobs"] == 30
    assert "aic" in data["statistics"]
    assert set(data["pvalues"]) == {"const", "x"}
    nb = NotebookContext(namespace={"results": results})
    params = data_of(T._compute_describe(nb, "results.params").result)
    assert params["type"] == "pandas.Series"
    assert params[UNTRUSTED]["head"]["index"] == ["const", "x"]


def test_an_optimize_result_leads_with_its_answer() -> None:
    from scipy.optimize import minimize

    found = minimize(lambda v: float(((v - 3) ** 2).sum()), [0.0, 0.0])
    items = describe(found).data["items"]
    assert list(items)[:3] == ["x", "fun", "success"]
    assert [round(v, 3) for v in items["x"]] == [3.0, 3.0]


# -- 4. statistics ------------------------------------------------------------------------------


def test_statistics_keep_enough_digits_to_tell_values_apart() -> None:
    seconds = pd.Series(1331920000 + np.arange(4000) ** 1.5)
    stats = describe(seconds).data["stats"]
    assert len({stats["min"], stats["25%"], stats["50%"], stats["mean"]}) == 4
    assert stats["min"] == 1331920000


def test_text_statistics_of_a_long_column_are_exact() -> None:
    names = np.array([f"name{i}" for i in range(3000)], dtype=object)
    column = pd.Series(np.concatenate([names, names[:1].repeat(262), names[5:]]).repeat(5))
    expected = column.value_counts()
    assert len(column) > Caps().sample_rows
    stats = describe(column).data["stats"]
    assert stats["unique"] == column.nunique()
    assert stats["top"] == expected.index[0]
    assert stats["freq"] == int(expected.iloc[0])
    frame = describe(pd.DataFrame({"name": column})).data["columns"][0]["stats"]
    assert frame["unique"] == column.nunique()


def test_a_sample_statistic_is_labelled_as_one() -> None:
    column = pd.Series([f"v{i % 997}" for i in range(30_000)], dtype=object)
    stats = describe(column, caps=Caps(exact_count_rows=1000)).data["stats"]
    assert "unique" not in stats
    assert stats["unique_in_sample"] == 997


# -- 5. JSON records ----------------------------------------------------------------------------


def records() -> list[dict[str, Any]]:
    keys = ["a", "c", "nk", "tz", "gr", "g", "h", "l", "al", "hh", "r", "u", "t", "hc", "cy"]
    return [{**{k: f"{k}{i}" for k in keys}, "ll": [42.5 + i, -71.1]} for i in range(30)]


def test_a_list_of_records_shows_every_key_of_a_record() -> None:
    described = describe(records()).data
    first = described["items"][0]
    assert set(first) == set(records()[0])
    assert described["record_keys"]["ll"] == 30
    read = rows(records(), start=3, count=2).data["items"]
    assert read[1]["cy"] == "cy4"
    assert read[1]["ll"] == [46.5, -71.1]
    picked = rows(records(), start=0, count=2, columns=["ll", "cy"]).data["items"]
    assert picked == [{"ll": [42.5, -71.1], "cy": "cy0"}, {"ll": [43.5, -71.1], "cy": "cy1"}]


def test_the_tools_keep_every_record_key_within_the_size_limit() -> None:
    nb = NotebookContext(namespace={"records": records()})
    described = data_of(T._compute_describe(nb, "records").result)
    assert set(described[UNTRUSTED]["items"][0]) == set(records()[0])
    read = data_of(T._compute_rows(nb, "records", 0, 20, None).result)
    assert all(set(item) == set(records()[0]) for item in read[UNTRUSTED]["items"])


# -- 6. objects with rows -----------------------------------------------------------------------


def test_pandas_indexes_have_rows() -> None:
    dates = pd.date_range("2020-01-01", periods=30, freq="D")
    assert rows(dates, start=0, count=2).data["values"] == [
        "2020-01-01 00:00:00",
        "2020-01-02 00:00:00",
    ]
    assert describe(dates).meta["length"] == 30
    periods = pd.period_range("2020-01", periods=3, freq="M")
    assert rows(periods).data["values"] == ["2020-01", "2020-02", "2020-03"]
    multi = pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["k", "n"])
    read = rows(multi, start=1, count=2)
    assert read.data["values"] == [["a", 2], ["b", 1]]
    assert read.data["names"] == ["k", "n"]


def test_range_has_rows() -> None:
    assert rows(range(0, 100, 5), start=-2, count=5).data["items"] == [90, 95]
    assert summary(range(10)) == "10 items"


def test_xarray_data_has_rows() -> None:
    import xarray as xr

    array = xr.DataArray(
        np.arange(12.0).reshape(4, 3),
        dims=("time", "x"),
        coords={"time": pd.date_range("2020-01-01", periods=4)},
        name="temp",
    )
    read = rows(array, start=1, count=2)
    assert read.data["index"] == ["2020-01-02 00:00:00", "2020-01-03 00:00:00"]
    assert read.data["rows"] == [[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]
    assert describe(array).data["dims"] == {"time": 4, "x": 3}
    dataset = xr.Dataset({"temp": array, "rain": ("time", np.arange(4.0))})
    read = rows(dataset, start=0, count=2)
    assert read.data["variables"]["rain"] == [0.0, 1.0]
    assert read.data["variables"]["temp"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert set(describe(dataset).data["data_vars"]) == {"temp", "rain"}


def test_sparse_and_symbolic_matrices_have_rows() -> None:
    import scipy.sparse
    import sympy

    sparse = scipy.sparse.random(50, 40, density=0.1, format="coo", random_state=0)
    read = rows(sparse, start=2, count=2)
    dense = sparse.toarray()
    assert read.data["rows"] == dense[2:4, :20].tolist()
    assert describe(sparse).meta["nnz"] == sparse.nnz
    x = sympy.Symbol("x")
    matrix = sympy.Matrix([[x, 1], [2, x**2]])
    assert rows(matrix).data["rows"] == [["x", "1"], ["2", "x**2"]]


def test_a_groupby_has_its_groups_and_sizes() -> None:
    frame = pd.DataFrame({"k": ["a", "b", "a", "c", "a"], "v": range(5)})
    grouped = frame.groupby("k")
    read = rows(grouped)
    assert read.data["groups"] == ["a", "b", "c"]
    assert read.data["sizes"] == [3, 1, 1]
    assert describe(grouped).data["groups"] == 3


def test_a_graph_has_nodes_and_edges_with_attributes() -> None:
    import networkx as nx

    graph = nx.Graph()
    graph.add_node("a", role="hub")
    graph.add_edge("a", "b", weight=2.5)
    read = rows(graph)
    assert read.data["nodes"] == [["a", {"role": "hub"}], ["b", {}]]
    assert read.data["edges"] == [["a", "b", {"weight": 2.5}]]
    assert describe(graph).data["edges"] == 1


def test_a_figure_says_what_it_plots() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    ax.plot([1, 2, 3], label="price")
    ax.set_title("Close")
    ax.set_xlabel("day")
    figure.suptitle("Stocks")
    try:
        data = describe(figure).data
    finally:
        plt.close(figure)
    assert data["suptitle"] == "Stocks"
    axes = data["axes"][0]
    assert axes["title"] == "Close"
    assert axes["xlabel"] == "day"
    assert axes["lines"] == ["price"]


# -- 7. smaller ---------------------------------------------------------------------------------


def test_a_regex_parameter_is_not_a_secret() -> None:
    assert not is_secret_name("token_pattern")
    assert is_secret_name("auth_token")


def test_sizes_of_one_are_singular() -> None:
    assert shape_text({"a": 1}) == "1 key"
    assert shape_text([1]) == "1 item"
    assert summary("x") == "1 character"
    nb = NotebookContext(namespace={"d": {"a": 1}})
    assert T._compute_describe(nb, "d").title == "Read `d` (1 key)"


# -- bounds: the new previews stay within the tools' limits on large values -----------------


def test_large_values_of_the_new_kinds_stay_within_the_limits() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx
    import scipy.sparse
    import xarray as xr

    graph = nx.gnm_random_graph(2000, 5000, seed=0)
    for node in graph.nodes:
        graph.nodes[node]["label"] = "x" * 500
    figure, axes = plt.subplots(5, 5)
    for ax in axes.flat:
        for i in range(25):
            ax.plot([0, 1], [i, i], label="y" * 300)
        ax.legend()
    wide_records = [{f"key{k}": "v" * 200 for k in range(300)} for _ in range(50)]
    rng = np.random.default_rng(0)
    values = {
        "graph": graph,
        "figure": figure,
        "sparse": scipy.sparse.coo_matrix(
            (np.ones(500_000), (rng.integers(0, 100_000, 500_000), rng.integers(0, 5000, 500_000))),
            shape=(100_000, 5000),
        ),
        "multi": pd.MultiIndex.from_product([range(300), range(300), ["a" * 150]]),
        "dataset": xr.Dataset({f"v{i}": ("t", np.arange(1000.0)) for i in range(100)}),
        "grouped": pd.DataFrame({"k": np.arange(100_000) % 977}).groupby("k"),
        "records": wide_records,
        "big_range": range(10**12),
    }
    nb = NotebookContext(namespace=values)
    try:
        for name in values:
            calls = [functools.partial(T._compute_describe, nb, name)]
            if name != "figure":  # a figure has no rows: describe says what it plots
                calls.append(functools.partial(T._compute_rows, nb, name, 0, 20, None))
            for call in calls:
                started = time.monotonic()
                parsed = data_of(call().result)
                assert time.monotonic() - started < 8.0, name  # a hang detector, not a target
                assert "error" not in parsed, (name, parsed)
    finally:
        plt.close(figure)
    read = data_of(T._compute_rows(nb, "records", 0, 20, ["key299", "key0"]).result)
    assert list(read[UNTRUSTED]["items"][0]) == ["key299", "key0"]


def test_paths_obey_the_visibility_rule() -> None:
    nb = NotebookContext(namespace={"d": {"a": 1}, "_p": {"a": 1}}, hidden={"d"})
    for path in ('d["a"]', '_p["a"]', "missing.x"):
        error = data_of(T._compute_describe(nb, path).result)
        assert error["error"].startswith("No variable named"), (path, error)
    bad = data_of(T._compute_describe(nb, "d[1:2]").result)
    assert "not a variable name or a path" in bad["error"]


def test_a_real_shell_history_puts_the_cells_names_first() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    before = dict(shell.user_ns)
    shell.run_cell("import matplotlib\nmatplotlib.use('Agg')", store_history=True)
    shell.run_cell("from pylab import *", store_history=True)
    shell.run_cell("zz_t = linspace(0, 1, 5)\nzz_signal = sin(zz_t)", store_history=True)
    try:
        nb = NotebookContext(namespace=shell.user_ns)
        listed = data_of(T._compute_list(nb, include_callables=False).result)
        names = list(listed[UNTRUSTED]["variables"])
        assert names.index("zz_signal") < names.index("pi")  # pylab's pi came in with *
        assert "linspace" not in names
        offered = [name for name, _ in offered_variables(nb)]
        assert offered.index("zz_t") < offered.index("pi")
    finally:  # the shell is shared: leave its namespace as it was
        shell.user_ns.clear()
        shell.user_ns.update(before)


def test_a_path_key_lookup_never_hangs_on_a_users_eq() -> None:
    class Collides:
        def __hash__(self) -> int:
            return hash("a")

        def __eq__(self, other: object) -> bool:
            time.sleep(10)  # a hostile comparison: the lookup must not wait for it
            return False

    nb = NotebookContext(namespace={"d": {Collides(): 1}})
    started = time.monotonic()
    error = data_of(T._compute_describe(nb, 'd["a"]').result)
    assert time.monotonic() - started < 5.0
    assert "no key" in error["error"]
