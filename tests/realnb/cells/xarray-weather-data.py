# xarray examples: Toy weather data
# from https://github.com/pydata/xarray/blob/b1c1dc549b62bdfc8de0bdded24f56464cf0db1a/doc/examples/weather-data.ipynb
# licence: Apache-2.0. Code cells only, outputs stripped; see corpus.toml.

# %% [1]
import numpy as np
import pandas as pd
import seaborn as sns

import xarray as xr
%matplotlib inline

# %% [2]
np.random.seed(123)

xr.set_options(display_style="html")

times = pd.date_range("2000-01-01", "2001-12-31", name="time")
annual_cycle = np.sin(2 * np.pi * (times.dayofyear.values / 365.25 - 0.28))

base = 10 + 15 * annual_cycle.reshape(-1, 1)
tmin_values = base + 3 * np.random.randn(annual_cycle.size, 3)
tmax_values = base + 10 + 3 * np.random.randn(annual_cycle.size, 3)

ds = xr.Dataset(
    {
        "tmin": (("time", "location"), tmin_values),
        "tmax": (("time", "location"), tmax_values),
    },
    {"time": times, "location": ["IA", "IN", "IL"]},
)

ds

# %% [3]
df = ds.to_dataframe()
df.head()

# %% [4]
df.describe()

# %% [5]
ds.mean(dim="location").to_dataframe().plot()

# %% [6]
sns.pairplot(df.reset_index(), vars=ds.data_vars)

# %% [7]
freeze = (ds["tmin"] <= 0).groupby("time.month").mean("time")
freeze

# %% [8]
freeze.to_pandas().plot()

# %% [9]
monthly_avg = ds.resample(time="1MS").mean()
monthly_avg.sel(location="IA").to_dataframe().plot(style="s-")

# %% [10]
climatology = ds.groupby("time.month").mean("time")
anomalies = ds.groupby("time.month") - climatology
anomalies.mean("location").to_dataframe()[["tmin", "tmax"]].plot()

# %% [11]
climatology_mean = ds.groupby("time.month").mean("time")
climatology_std = ds.groupby("time.month").std("time")
stand_anomalies = xr.apply_ufunc(
    lambda x, m, s: (x - m) / s,
    ds.groupby("time.month"),
    climatology_mean,
    climatology_std,
)

stand_anomalies.mean("location").to_dataframe()[["tmin", "tmax"]].plot()

# %% [12]
# throw away the first half of every month
some_missing = ds.tmin.sel(time=ds["time.day"] > 15).reindex_like(ds)
filled = some_missing.groupby("time.month").fillna(climatology.tmin)
both = xr.Dataset({"some_missing": some_missing, "filled": filled})
both

# %% [13]
df = both.sel(time="2000").mean("location").reset_coords(drop=True).to_dataframe()
df.head()

# %% [14]
df[["filled", "some_missing"]].plot()
