"""What the agent may read from the notebook's namespace, and how it is shown.

Belongs here: bounded, JSON-able previews of values (``values``), of tables (``tables``:
pandas, polars, numpy), of values an analyst asks particular things of (``known``: pandas
indexes and groups, xarray, scipy.sparse, sympy matrices, networkx graphs, matplotlib
figures, statsmodels results), of values that stand for more data than the kernel should
read (``engines``: Arrow, DuckDB relations, Dask and Spark frames, by schema and a bounded
head, never a full count or compute), which of them a value is (``kinds``), attribute and key
paths into a value (``paths``), the timed and guarded calls into foreign objects
(``foreign``), secret redaction (``redact``), the one rule for which names the agent
may see, and in which order (``namespace``), the kernel's record of the cells it ran,
their outputs and errors (``cells``: filled by the kernel, read by the notebook tools),
and read-only SQL over the visible frames (``sql``: DuckDB on a locked connection;
``spark_sql``: Spark SQL proven a query).
Previews are pure functions with their caps in the signature; they never raise out of
foreign code and never call an unbounded ``__repr__``.

May import: ``_items``, ``config``, ``context``, ``errors`` and the data libraries it
describes (lazily). Never the agent, the panel, the stores, the kernel faces or IPython.
"""
