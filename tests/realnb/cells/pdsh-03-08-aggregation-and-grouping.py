# Python Data Science Handbook 3.08: Aggregation and Grouping
# from https://github.com/jakevdp/PythonDataScienceHandbook/blob/d66231454ef753818dc9213c9b5942e067266966/notebooks/03.08-Aggregation-and-Grouping.ipynb
# licence: MIT (code). Code cells only, outputs stripped; see corpus.toml.

# %% [1]
import numpy as np
import pandas as pd

class display(object):
    """Display HTML representation of multiple objects"""
    template = """<div style="float: left; padding: 10px;">
    <p style='font-family:"Courier New", Courier, monospace'>{0}</p>{1}
    </div>"""
    def __init__(self, *args):
        self.args = args
        
    def _repr_html_(self):
        return '\n'.join(self.template.format(a, eval(a)._repr_html_())
                         for a in self.args)
    
    def __repr__(self):
        return '\n\n'.join(a + '\n' + repr(eval(a))
                           for a in self.args)

# %% [2]
import seaborn as sns
planets = sns.load_dataset('planets')
planets.shape

# %% [3]
planets.head()

# %% [4]
rng = np.random.RandomState(42)
ser = pd.Series(rng.rand(5))
ser

# %% [5]
ser.sum()

# %% [6]
ser.mean()

# %% [7]
df = pd.DataFrame({'A': rng.rand(5),
                   'B': rng.rand(5)})
df

# %% [8]
df.mean()

# %% [9]
df.mean(axis='columns')

# %% [10]
planets.dropna().describe()

# %% [11]
df = pd.DataFrame({'key': ['A', 'B', 'C', 'A', 'B', 'C'],
                   'data': range(6)}, columns=['key', 'data'])
df

# %% [12]
df.groupby('key')

# %% [13]
df.groupby('key').sum()

# %% [14]
planets.groupby('method')

# %% [15]
planets.groupby('method')['orbital_period']

# %% [16]
planets.groupby('method')['orbital_period'].median()

# %% [17]
for (method, group) in planets.groupby('method'):
    print("{0:30s} shape={1}".format(method, group.shape))

# %% [18]
planets.groupby('method')['year'].describe().unstack()

# %% [19]
rng = np.random.RandomState(0)
df = pd.DataFrame({'key': ['A', 'B', 'C', 'A', 'B', 'C'],
                   'data1': range(6),
                   'data2': rng.randint(0, 10, 6)},
                   columns = ['key', 'data1', 'data2'])
df

# %% [20]
df.groupby('key').aggregate(['min', np.median, max])

# %% [21]
df.groupby('key').aggregate({'data1': 'min',
                             'data2': 'max'})

# %% [22]
def filter_func(x):
    return x['data2'].std() > 4

display('df', "df.groupby('key').std()",
        "df.groupby('key').filter(filter_func)")

# %% [23]
def center(x):
    return x - x.mean()
df.groupby('key').transform(center)

# %% [24]
def norm_by_data2(x):
    # x is a DataFrame of group values
    x['data1'] /= x['data2'].sum()
    return x

df.groupby('key').apply(norm_by_data2)

# %% [25]
L = [0, 1, 0, 1, 2, 0]
df.groupby(L).sum()

# %% [26]
df.groupby(df['key']).sum()

# %% [27]
df2 = df.set_index('key')
mapping = {'A': 'vowel', 'B': 'consonant', 'C': 'consonant'}
display('df2', 'df2.groupby(mapping).sum()')

# %% [28]
df2.groupby(str.lower).mean()

# %% [29]
df2.groupby([str.lower, mapping]).mean()

# %% [30]
decade = 10 * (planets['year'] // 10)
decade = decade.astype(str) + 's'
decade.name = 'decade'
planets.groupby(['method', decade])['number'].sum().unstack().fillna(0)
