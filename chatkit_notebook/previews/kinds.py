"""Which preview applies to a value, decided from its type alone: nothing of it runs.

:func:`kind_of` names builtin kinds (``"dict"``, ``"sequence"``...), the libraries whose
values the previews know (``"pandas.DataFrame"``, ``"xarray.Dataset"``,
``"statsmodels.Results"``, the lazy ``"spark.DataFrame"``...), each looked up in
``sys.modules`` and never imported, and tells code from data: functions, classes,
modules, and the callables that star imports bring in by the hundred (numpy ufuncs,
Cython functions, functools wrappers).
"""

from __future__ import annotations

import types

from .foreign import (
    class_dict,
    instance_dict,
    is_instance,
    is_secret_value,
    module_of,
    mro,
    type_qualname,
)

__all__ = ["LAZY_KINDS", "kind_of"]

_BUILTIN_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "scalar"),
    (int, "int"),
    (float, "float"),
    (complex, "complex"),
    (str, "str"),
    ((bytes, bytearray, memoryview), "bytes"),
    (dict, "dict"),
    ((list, tuple), "sequence"),
    ((set, frozenset), "set"),
    (range, "range"),
)
_LIBRARY_KINDS = (
    ("pandas", "DataFrame"),
    ("pandas", "Series"),
    ("numpy", "ndarray"),
    ("polars", "DataFrame"),
    ("polars", "Series"),
    ("polars", "LazyFrame"),
)
# Values the previews describe by what an analyst asks of them (``known.py``); a library
# is looked up in ``sys.modules`` only, so none is imported here.
_KNOWN_KINDS = (
    ("pandas", "Index", "pandas.Index"),
    ("pandas.api.typing", "DataFrameGroupBy", "pandas.GroupBy"),
    ("pandas.api.typing", "SeriesGroupBy", "pandas.GroupBy"),
    ("xarray", "DataArray", "xarray.DataArray"),
    ("xarray", "Dataset", "xarray.Dataset"),
    ("scipy.sparse", "spmatrix", "scipy.sparse"),
    ("scipy.sparse", "sparray", "scipy.sparse"),
    ("sympy", "MatrixBase", "sympy.Matrix"),
    ("networkx", "Graph", "networkx.Graph"),
    ("matplotlib.figure", "Figure", "matplotlib.Figure"),
    ("matplotlib.axes", "Axes", "matplotlib.Axes"),
    ("statsmodels.base.wrapper", "ResultsWrapper", "statsmodels.Results"),
    ("statsmodels.base.model", "Results", "statsmodels.Results"),
)
LAZY_KINDS = (
    ("pyarrow", "Table", "pyarrow.Table"),
    ("pyarrow", "RecordBatch", "pyarrow.RecordBatch"),
    ("pyarrow.dataset", "Dataset", "pyarrow.Dataset"),
    ("duckdb", "DuckDBPyRelation", "duckdb.Relation"),
    ("dask.dataframe", "DataFrame", "dask.DataFrame"),
    ("dask.dataframe", "Series", "dask.Series"),
    ("dask.array", "Array", "dask.Array"),
    ("pyspark.sql", "DataFrame", "spark.DataFrame"),
)
"""Values that stand for more data than the kernel should read (``engines.py``): Arrow,
DuckDB, Dask and Spark (a Spark Connect DataFrame is a ``pyspark.sql.DataFrame`` too)."""
_FUNCTION_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
)


def kind_of(obj: object) -> str:
    """Which preview applies, decided from the type alone (nothing of ``obj`` runs).

    Returns:
        ``"secret"``, ``"scalar"`` (None and bool), ``"int"``, ``"float"``, ``"complex"``,
        ``"str"``, ``"bytes"``, ``"dict"``, ``"sequence"``, ``"set"``, a library kind such as
        ``"pandas.DataFrame"`` or ``"numpy.scalar"``, ``"module"``, ``"class"``,
        ``"function"`` or ``"object"``.
    """
    cls = type(obj)
    if is_secret_value(obj):
        return "secret"
    if obj is None:
        return "scalar"
    for base, tag in _BUILTIN_KINDS:
        if issubclass(cls, base):
            return tag
    for module, name in _LIBRARY_KINDS:
        if is_instance(obj, module, name):
            return f"{module}.{name}"
    if is_instance(obj, "numpy", "generic"):
        return "numpy.scalar"
    for module, name, kind in _KNOWN_KINDS:
        if is_instance(obj, module, name):
            return kind
    for module, name, kind in LAZY_KINDS:
        if is_instance(obj, module, name):
            return kind
    if issubclass(cls, types.ModuleType):
        return "module"
    if issubclass(cls, type):
        return "class"
    if issubclass(cls, (*_FUNCTION_TYPES, types.MethodWrapperType)) or _function_like(obj):
        return "function"
    return "object"


# Callables that are not Python functions, which star imports bring in by the hundred
# (``from pylab import *``): numpy ufuncs and array-function dispatchers, Cython
# functions, functools wrappers, sympy's print functions. They are code, not data.
_FUNCTION_LIKE = frozenset(
    {
        ("numpy", "ufunc"),
        ("numpy", "_ArrayFunctionDispatcher"),
        ("numpy._core._multiarray_umath", "_ArrayFunctionDispatcher"),
        ("functools", "partial"),
        ("functools", "_lru_cache_wrapper"),
        ("functools", "_CacheInfo"),
        ("sympy.printing.printer", "_PrintFunction"),
    }
)
_CYTHON_FUNCTIONS = frozenset({"cython_function_or_method", "fused_cython_function"})


def _function_like(obj: object) -> bool:
    cls = type(obj)
    module, name = module_of(cls), type_qualname(cls)
    if (module, name) in _FUNCTION_LIKE or name in _CYTHON_FUNCTIONS:
        return True
    # A wrapper made with functools.wraps: callable, and names what it wraps.
    own = instance_dict(obj)
    return (
        own is not None
        and "__wrapped__" in own
        and any("__call__" in class_dict(k) for k in mro(cls) if k is not object)
    )
