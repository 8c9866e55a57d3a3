# statsmodels examples: Ordinary Least Squares
# from https://github.com/statsmodels/statsmodels/blob/82c59e378bdfb5ae324006c477954879ad3e24be/examples/notebooks/ols.ipynb
# licence: BSD-3-Clause. Code cells only, outputs stripped; see corpus.toml.

# %% [1]
%matplotlib inline

# %% [2]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import statsmodels.api as sm

np.random.seed(9876789)

# %% [3]
nsample = 100
x = np.linspace(0, 10, 100)
X = np.column_stack((x, x**2))
beta = np.array([1, 0.1, 10])
e = np.random.normal(size=nsample)

# %% [4]
X = sm.add_constant(X)
y = np.dot(X, beta) + e

# %% [5]
model = sm.OLS(y, X)
results = model.fit()
print(results.summary())

# %% [6]
print("Parameters: ", results.params)
print("R2: ", results.rsquared)

# %% [7]
nsample = 50
sig = 0.5
x = np.linspace(0, 20, nsample)
X = np.column_stack((x, np.sin(x), (x - 5) ** 2, np.ones(nsample)))
beta = [0.5, 0.5, -0.02, 5.0]

y_true = np.dot(X, beta)
y = y_true + sig * np.random.normal(size=nsample)

# %% [8]
res = sm.OLS(y, X).fit()
print(res.summary())

# %% [9]
print("Parameters: ", res.params)
print("Standard errors: ", res.bse)
print("Predicted values: ", res.predict())

# %% [10]
pred_ols = res.get_prediction()
iv_l = pred_ols.summary_frame()["obs_ci_lower"]
iv_u = pred_ols.summary_frame()["obs_ci_upper"]

fig, ax = plt.subplots(figsize=(8, 6))

ax.plot(x, y, "o", label="data")
ax.plot(x, y_true, "b-", label="True")
ax.plot(x, res.fittedvalues, "r--.", label="OLS")
ax.plot(x, iv_u, "r--")
ax.plot(x, iv_l, "r--")
ax.legend(loc="best")

# %% [11]
nsample = 50
groups = np.zeros(nsample, int)
groups[20:40] = 1
groups[40:] = 2
# dummy = (groups[:,None] == np.unique(groups)).astype(float)

dummy = pd.get_dummies(groups).values
x = np.linspace(0, 20, nsample)
# drop reference category
X = np.column_stack((x, dummy[:, 1:]))
X = sm.add_constant(X, prepend=False)

beta = [1.0, 3, -3, 10]
y_true = np.dot(X, beta)
e = np.random.normal(size=nsample)
y = y_true + e

# %% [12]
print(X[:5, :])
print(y[:5])
print(groups)
print(dummy[:5, :])

# %% [13]
res2 = sm.OLS(y, X).fit()
print(res2.summary())

# %% [14]
pred_ols2 = res2.get_prediction()
iv_l = pred_ols2.summary_frame()["obs_ci_lower"]
iv_u = pred_ols2.summary_frame()["obs_ci_upper"]

fig, ax = plt.subplots(figsize=(8, 6))

ax.plot(x, y, "o", label="Data")
ax.plot(x, y_true, "b-", label="True")
ax.plot(x, res2.fittedvalues, "r--.", label="Predicted")
ax.plot(x, iv_u, "r--")
ax.plot(x, iv_l, "r--")
legend = ax.legend(loc="best")

# %% [15]
R = [[0, 1, 0, 0], [0, 0, 1, 0]]
print(np.array(R))
print(res2.f_test(R))

# %% [16]
print(res2.f_test("x2 = x3 = 0"))

# %% [17]
beta = [1.0, 0.3, -0.0, 10]
y_true = np.dot(X, beta)
y = y_true + np.random.normal(size=nsample)

res3 = sm.OLS(y, X).fit()

# %% [18]
print(res3.f_test(R))

# %% [19]
print(res3.f_test("x2 = x3 = 0"))

# %% [20]
from statsmodels.datasets.longley import load_pandas

y = load_pandas().endog
X = load_pandas().exog
X = sm.add_constant(X)

# %% [21]
ols_model = sm.OLS(y, X)
ols_results = ols_model.fit()
print(ols_results.summary())

# %% [22]
norm_x = X.values
for i, name in enumerate(X):
    if name == "const":
        continue
    norm_x[:, i] = X[name] / np.linalg.norm(X[name])
norm_xtx = np.dot(norm_x.T, norm_x)

# %% [23]
eigs = np.linalg.eigvals(norm_xtx)
condition_number = np.sqrt(eigs.max() / eigs.min())
print(condition_number)

# %% [24]
ols_results2 = sm.OLS(y.iloc[:14], X.iloc[:14]).fit()
print(
    "Percentage change %4.2f%%\n"
    * 7
    % tuple((ols_results2.params - ols_results.params) / ols_results.params * 100)
)

# %% [25]
infl = ols_results.get_influence()

# %% [26]
2.0 / len(X) ** 0.5

# %% [27]
print(infl.summary_frame().filter(regex="dfb"))
