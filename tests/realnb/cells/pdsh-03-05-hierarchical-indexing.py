# Python Data Science Handbook 3.05: Hierarchical Indexing
# from https://github.com/jakevdp/PythonDataScienceHandbook/blob/d66231454ef753818dc9213c9b5942e067266966/notebooks/03.05-Hierarchical-Indexing.ipynb
# licence: MIT (code). Code cells only, outputs stripped; see corpus.toml.

# %% [1]
import pandas as pd
import numpy as np

# %% [2]
index = [('California', 2010), ('California', 2020),
         ('New York', 2010), ('New York', 2020),
         ('Texas', 2010), ('Texas', 2020)]
populations = [37253956, 39538223,
               19378102, 20201249,
               25145561, 29145505]
pop = pd.Series(populations, index=index)
pop

# %% [3]
pop[('California', 2020):('Texas', 2010)]

# %% [4]
pop[[i for i in pop.index if i[1] == 2010]]

# %% [5]
index = pd.MultiIndex.from_tuples(index)

# %% [6]
pop = pop.reindex(index)
pop

# %% [7]
pop[:, 2020]

# %% [8]
pop_df = pop.unstack()
pop_df

# %% [9]
pop_df.stack()

# %% [10]
pop_df = pd.DataFrame({'total': pop,
                       'under18': [9284094, 8898092,
                                   4318033, 4181528,
                                   6879014, 7432474]})
pop_df

# %% [11]
f_u18 = pop_df['under18'] / pop_df['total']
f_u18.unstack()

# %% [12]
df = pd.DataFrame(np.random.rand(4, 2),
                  index=[['a', 'a', 'b', 'b'], [1, 2, 1, 2]],
                  columns=['data1', 'data2'])
df

# %% [13]
data = {('California', 2010): 37253956,
        ('California', 2020): 39538223,
        ('New York', 2010): 19378102,
        ('New York', 2020): 20201249,
        ('Texas', 2010): 25145561,
        ('Texas', 2020): 29145505}
pd.Series(data)

# %% [14]
pd.MultiIndex.from_arrays([['a', 'a', 'b', 'b'], [1, 2, 1, 2]])

# %% [15]
pd.MultiIndex.from_tuples([('a', 1), ('a', 2), ('b', 1), ('b', 2)])

# %% [16]
pd.MultiIndex.from_product([['a', 'b'], [1, 2]])

# %% [17]
pd.MultiIndex(levels=[['a', 'b'], [1, 2]],
              codes=[[0, 0, 1, 1], [0, 1, 0, 1]])

# %% [18]
pop.index.names = ['state', 'year']
pop

# %% [19]
# hierarchical indices and columns
index = pd.MultiIndex.from_product([[2013, 2014], [1, 2]],
                                   names=['year', 'visit'])
columns = pd.MultiIndex.from_product([['Bob', 'Guido', 'Sue'], ['HR', 'Temp']],
                                     names=['subject', 'type'])

# mock some data
data = np.round(np.random.randn(4, 6), 1)
data[:, ::2] *= 10
data += 37

# create the DataFrame
health_data = pd.DataFrame(data, index=index, columns=columns)
health_data

# %% [20]
health_data['Guido']

# %% [21]
pop

# %% [22]
pop['California', 2010]

# %% [23]
pop['California']

# %% [24]
pop.loc['California':'New York']

# %% [25]
pop[:, 2010]

# %% [26]
pop[pop > 22000000]

# %% [27]
pop[['California', 'Texas']]

# %% [28]
health_data

# %% [29]
health_data['Guido', 'HR']

# %% [30]
health_data.iloc[:2, :2]

# %% [31]
health_data.loc[:, ('Bob', 'HR')]

# %% [32]
health_data.loc[(:, 1), (:, 'HR')]

# %% [33]
idx = pd.IndexSlice
health_data.loc[idx[:, 1], idx[:, 'HR']]

# %% [34]
index = pd.MultiIndex.from_product([['a', 'c', 'b'], [1, 2]])
data = pd.Series(np.random.rand(6), index=index)
data.index.names = ['char', 'int']
data

# %% [35]
try:
    data['a':'b']
except KeyError as e:
    print("KeyError", e)

# %% [36]
data = data.sort_index()
data

# %% [37]
data['a':'b']

# %% [38]
pop.unstack(level=0)

# %% [39]
pop.unstack(level=1)

# %% [40]
pop.unstack().stack()

# %% [41]
pop_flat = pop.reset_index(name='population')
pop_flat

# %% [42]
pop_flat.set_index(['state', 'year'])
