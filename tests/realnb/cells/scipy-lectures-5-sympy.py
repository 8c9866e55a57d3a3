# J.R. Johansson, Scientific Python Lectures 5: Sympy
# from https://github.com/jrjohansson/scientific-python-lectures/blob/a2a76136ac06ff5fa91343ae095f1223c914d944/Lecture-5-Sympy.ipynb
# licence: CC BY 3.0. Code cells only, outputs stripped; see corpus.toml.

# %% [1]
%matplotlib inline
import matplotlib.pyplot as plt

# %% [2]
from sympy import *

# %% [3]
init_printing()

# or with older versions of sympy/ipython, load the IPython extension
#%load_ext sympy.interactive.ipythonprinting
# or
#%load_ext sympyprinting

# %% [4]
x = Symbol('x')

# %% [5]
(pi + x)**2

# %% [6]
# alternative way of defining symbols
a, b, c = symbols("a, b, c")

# %% [7]
type(a)

# %% [8]
x = Symbol('x', real=True)

# %% [9]
x.is_imaginary

# %% [10]
x = Symbol('x', positive=True)

# %% [11]
x > 0

# %% [12]
1+1*I

# %% [13]
I**2

# %% [14]
(x * I + 1)**2

# %% [15]
r1 = Rational(4,5)
r2 = Rational(5,4)

# %% [16]
r1

# %% [17]
r1+r2

# %% [18]
r1/r2

# %% [19]
pi.evalf(n=50)

# %% [20]
y = (x + pi)**2

# %% [21]
N(y, 5) # same as evalf

# %% [22]
y.subs(x, 1.5)

# %% [23]
N(y.subs(x, 1.5))

# %% [24]
y.subs(x, a+pi)

# %% [25]
import numpy

# %% [26]
x_vec = numpy.arange(0, 10, 0.1)

# %% [27]
y_vec = numpy.array([N(((x + pi)**2).subs(x, xx)) for xx in x_vec])

# %% [28]
fig, ax = plt.subplots()
ax.plot(x_vec, y_vec);

# %% [29]
f = lambdify([x], (x + pi)**2, 'numpy')  # the first argument is a list of variables that
                                         # f will be a function of: in this case only x -> f(x)

# %% [30]
y_vec = f(x_vec)  # now we can directly pass a numpy array and f(x) is efficiently evaluated

# %% [31]
%%timeit

y_vec = numpy.array([N(((x + pi)**2).subs(x, xx)) for xx in x_vec])

# %% [32]
%%timeit

y_vec = f(x_vec)

# %% [33]
(x+1)*(x+2)*(x+3)

# %% [34]
expand((x+1)*(x+2)*(x+3))

# %% [35]
sin(a+b)

# %% [36]
expand(sin(a+b), trig=True)

# %% [37]
factor(x**3 + 6 * x**2 + 11*x + 6)

# %% [38]
# simplify (sometimes) expands a product
simplify((x+1)*(x+2)*(x+3))

# %% [39]
# simplify uses trigonometric identities
simplify(sin(a)**2 + cos(a)**2)

# %% [40]
simplify(cos(x)/sin(x))

# %% [41]
f1 = 1/((a+1)*(a+2))

# %% [42]
f1

# %% [43]
apart(f1)

# %% [44]
f2 = 1/(a+2) + 1/(a+3)

# %% [45]
f2

# %% [46]
together(f2)

# %% [47]
simplify(f2)

# %% [48]
y

# %% [49]
diff(y**2, x)

# %% [50]
diff(y**2, x, x)

# %% [51]
diff(y**2, x, 2) # same as above

# %% [52]
x, y, z = symbols("x,y,z")

# %% [53]
f = sin(x*y) + cos(y*z)

# %% [54]
diff(f, x, 1, y, 2)

# %% [55]
f

# %% [56]
integrate(f, x)

# %% [57]
integrate(f, (x, -1, 1))

# %% [58]
integrate(exp(-x**2), (x, -oo, oo))

# %% [59]
n = Symbol("n")

# %% [60]
Sum(1/n**2, (n, 1, 10))

# %% [61]
Sum(1/n**2, (n,1, 10)).evalf()

# %% [62]
Sum(1/n**2, (n, 1, oo)).evalf()

# %% [63]
Product(n, (n, 1, 10)) # 10!

# %% [64]
limit(sin(x)/x, x, 0)

# %% [65]
f

# %% [66]
diff(f, x)

# %% [67]
h = Symbol("h")

# %% [68]
limit((f.subs(x, x+h) - f)/h, h, 0)

# %% [69]
limit(1/x, x, 0, dir="+")

# %% [70]
limit(1/x, x, 0, dir="-")

# %% [71]
series(exp(x), x)

# %% [72]
series(exp(x), x, 1)

# %% [73]
series(exp(x), x, 1, 10)

# %% [74]
s1 = cos(x).series(x, 0, 5)
s1

# %% [75]
s2 = sin(x).series(x, 0, 2)
s2

# %% [76]
expand(s1 * s2)

# %% [77]
expand(s1.removeO() * s2.removeO())

# %% [78]
(cos(x)*sin(x)).series(x, 0, 6)

# %% [79]
m11, m12, m21, m22 = symbols("m11, m12, m21, m22")
b1, b2 = symbols("b1, b2")

# %% [80]
A = Matrix([[m11, m12],[m21, m22]])
A

# %% [81]
b = Matrix([[b1], [b2]])
b

# %% [82]
A**2

# %% [83]
A * b

# %% [84]
A.det()

# %% [85]
A.inv()

# %% [86]
solve(x**2 - 1, x)

# %% [87]
solve(x**4 - x**2 - 1, x)

# %% [88]
solve([x + y - 1, x - y - 1], [x,y])

# %% [89]
solve([x + y - a, x - y - c], [x,y])

# %% [90]
%reload_ext version_information

%version_information numpy, matplotlib, sympy
