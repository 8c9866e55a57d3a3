# J.R. Johansson, Scientific Python Lectures 3: SciPy
# from https://github.com/jrjohansson/scientific-python-lectures/blob/a2a76136ac06ff5fa91343ae095f1223c914d944/Lecture-3-Scipy.ipynb
# licence: CC BY 3.0. Code cells only, outputs stripped; see corpus.toml.

# %% [1]
# what is this line all about? Answer in lecture 4
%matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Image

# %% [2]
from scipy import *

# %% [3]
import scipy.linalg as la

# %% [4]
#
# The scipy.special module includes a large number of Bessel-functions
# Here we will use the functions jn and yn, which are the Bessel functions 
# of the first and second kind and real-valued order. We also include the 
# function jn_zeros and yn_zeros that gives the zeroes of the functions jn
# and yn.
#
from scipy.special import jn, yn, jn_zeros, yn_zeros

# %% [5]
n = 0    # order
x = 0.0

# Bessel function of first kind
print "J_%d(%f) = %f" % (n, x, jn(n, x))

x = 1.0
# Bessel function of second kind
print "Y_%d(%f) = %f" % (n, x, yn(n, x))

# %% [6]
x = linspace(0, 10, 100)

fig, ax = plt.subplots()
for n in range(4):
    ax.plot(x, jn(n, x), label=r"$J_%d(x)$" % n)
ax.legend();

# %% [7]
# zeros of Bessel functions
n = 0 # order
m = 4 # number of roots to compute
jn_zeros(n, m)

# %% [8]
from scipy.integrate import quad, dblquad, tplquad

# %% [9]
# define a simple function for the integrand
def f(x):
    return x

# %% [10]
x_lower = 0 # the lower limit of x
x_upper = 1 # the upper limit of x

val, abserr = quad(f, x_lower, x_upper)

print "integral value =", val, ", absolute error =", abserr 

# %% [11]
def integrand(x, n):
    """
    Bessel function of first kind and order n. 
    """
    return jn(n, x)


x_lower = 0  # the lower limit of x
x_upper = 10 # the upper limit of x

val, abserr = quad(integrand, x_lower, x_upper, args=(3,))

print val, abserr 

# %% [12]
val, abserr = quad(lambda x: exp(-x ** 2), -Inf, Inf)

print "numerical  =", val, abserr

analytical = sqrt(pi)
print "analytical =", analytical

# %% [13]
def integrand(x, y):
    return exp(-x**2-y**2)

x_lower = 0  
x_upper = 10
y_lower = 0
y_upper = 10

val, abserr = dblquad(integrand, x_lower, x_upper, lambda x : y_lower, lambda x: y_upper)

print val, abserr 

# %% [14]
from scipy.integrate import odeint, ode

# %% [15]
Image(url='http://upload.wikimedia.org/wikipedia/commons/c/c9/Double-compound-pendulum-dimensioned.svg')

# %% [16]
g = 9.82
L = 0.5
m = 0.1

def dx(x, t):
    """
    The right-hand side of the pendulum ODE
    """
    x1, x2, x3, x4 = x[0], x[1], x[2], x[3]
    
    dx1 = 6.0/(m*L**2) * (2 * x3 - 3 * cos(x1-x2) * x4)/(16 - 9 * cos(x1-x2)**2)
    dx2 = 6.0/(m*L**2) * (8 * x4 - 3 * cos(x1-x2) * x3)/(16 - 9 * cos(x1-x2)**2)
    dx3 = -0.5 * m * L**2 * ( dx1 * dx2 * sin(x1-x2) + 3 * (g/L) * sin(x1))
    dx4 = -0.5 * m * L**2 * (-dx1 * dx2 * sin(x1-x2) + (g/L) * sin(x2))
    
    return [dx1, dx2, dx3, dx4]

# %% [17]
# choose an initial state
x0 = [pi/4, pi/2, 0, 0]

# %% [18]
# time coordinate to solve the ODE for: from 0 to 10 seconds
t = linspace(0, 10, 250)

# %% [19]
# solve the ODE problem
x = odeint(dx, x0, t)

# %% [20]
# plot the angles as a function of time

fig, axes = plt.subplots(1,2, figsize=(12,4))
axes[0].plot(t, x[:, 0], 'r', label="theta1")
axes[0].plot(t, x[:, 1], 'b', label="theta2")


x1 = + L * sin(x[:, 0])
y1 = - L * cos(x[:, 0])

x2 = x1 + L * sin(x[:, 1])
y2 = y1 - L * cos(x[:, 1])
    
axes[1].plot(x1, y1, 'r', label="pendulum1")
axes[1].plot(x2, y2, 'b', label="pendulum2")
axes[1].set_ylim([-1, 0])
axes[1].set_xlim([1, -1]);

# %% [21]
from IPython.display import display, clear_output
import time

# %% [22]
fig, ax = plt.subplots(figsize=(4,4))

for t_idx, tt in enumerate(t[:200]):

    x1 = + L * sin(x[t_idx, 0])
    y1 = - L * cos(x[t_idx, 0])

    x2 = x1 + L * sin(x[t_idx, 1])
    y2 = y1 - L * cos(x[t_idx, 1])
    
    ax.cla()    
    ax.plot([0, x1], [0, y1], 'r.-')
    ax.plot([x1, x2], [y1, y2], 'b.-')
    ax.set_ylim([-1.5, 0.5])
    ax.set_xlim([1, -1])

    clear_output() 
    display(fig)

    time.sleep(0.1)

# %% [23]
def dy(y, t, zeta, w0):
    """
    The right-hand side of the damped oscillator ODE
    """
    x, p = y[0], y[1]
    
    dx = p
    dp = -2 * zeta * w0 * p - w0**2 * x

    return [dx, dp]

# %% [24]
# initial state: 
y0 = [1.0, 0.0]

# %% [25]
# time coordinate to solve the ODE for
t = linspace(0, 10, 1000)
w0 = 2*pi*1.0

# %% [26]
# solve the ODE problem for three different values of the damping ratio

y1 = odeint(dy, y0, t, args=(0.0, w0)) # undamped
y2 = odeint(dy, y0, t, args=(0.2, w0)) # under damped
y3 = odeint(dy, y0, t, args=(1.0, w0)) # critical damping
y4 = odeint(dy, y0, t, args=(5.0, w0)) # over damped

# %% [27]
fig, ax = plt.subplots()
ax.plot(t, y1[:,0], 'k', label="undamped", linewidth=0.25)
ax.plot(t, y2[:,0], 'r', label="under damped")
ax.plot(t, y3[:,0], 'b', label=r"critical damping")
ax.plot(t, y4[:,0], 'g', label="over damped")
ax.legend();

# %% [28]
from numpy.fft import fftfreq
from scipy.fftpack import *

# %% [29]
N = len(t)
dt = t[1]-t[0]

# calculate the fast fourier transform
# y2 is the solution to the under-damped oscillator from the previous section
F = fft(y2[:,0]) 

# calculate the frequencies for the components in F
w = fftfreq(N, dt)

# %% [30]
fig, ax = plt.subplots(figsize=(9,3))
ax.plot(w, abs(F));

# %% [31]
indices = where(w > 0) # select only indices for elements that corresponds to positive frequencies
w_pos = w[indices]
F_pos = F[indices]

# %% [32]
fig, ax = plt.subplots(figsize=(9,3))
ax.plot(w_pos, abs(F_pos))
ax.set_xlim(0, 5);

# %% [33]
from scipy.linalg import *

# %% [34]
A = array([[1,2,3], [4,5,6], [7,8,9]])
b = array([1,2,3])

# %% [35]
x = solve(A, b)

x

# %% [36]
# check
dot(A, x) - b

# %% [37]
A = rand(3,3)
B = rand(3,3)

# %% [38]
X = solve(A, B)

# %% [39]
X

# %% [40]
# check
norm(dot(A, X) - B)

# %% [41]
evals = eigvals(A)

# %% [42]
evals

# %% [43]
evals, evecs = eig(A)

# %% [44]
evals

# %% [45]
evecs

# %% [46]
n = 1

norm(dot(A, evecs[:,n]) - evals[n] * evecs[:,n])

# %% [47]
# the matrix inverse
inv(A)

# %% [48]
# determinant
det(A)

# %% [49]
# norms of various orders
norm(A, ord=2), norm(A, ord=Inf)

# %% [50]
from scipy.sparse import *

# %% [51]
# dense matrix
M = array([[1,0,0,0], [0,3,0,0], [0,1,1,0], [1,0,0,1]]); M

# %% [52]
# convert from dense to sparse
A = csr_matrix(M); A

# %% [53]
# convert from sparse to dense
A.todense()

# %% [54]
A = lil_matrix((4,4)) # empty 4x4 sparse matrix
A[0,0] = 1
A[1,1] = 3
A[2,2] = A[2,1] = 1
A[3,3] = A[3,0] = 1
A

# %% [55]
A.todense()

# %% [56]
A

# %% [57]
A = csr_matrix(A); A

# %% [58]
A = csc_matrix(A); A

# %% [59]
A.todense()

# %% [60]
(A * A).todense()

# %% [61]
A.todense()

# %% [62]
A.dot(A).todense()

# %% [63]
v = array([1,2,3,4])[:,newaxis]; v

# %% [64]
# sparse matrix - dense vector multiplication
A * v

# %% [65]
# same result with dense matrix - dense vector multiplication
A.todense() * v

# %% [66]
from scipy import optimize

# %% [67]
def f(x):
    return 4*x**3 + (x-2)**2 + x**4

# %% [68]
fig, ax  = plt.subplots()
x = linspace(-5, 3, 100)
ax.plot(x, f(x));

# %% [69]
x_min = optimize.fmin_bfgs(f, -2)
x_min 

# %% [70]
optimize.fmin_bfgs(f, 0.5) 

# %% [71]
optimize.brent(f)

# %% [72]
optimize.fminbound(f, -4, 2)

# %% [73]
omega_c = 3.0
def f(omega):
    # a transcendental equation: resonance frequencies of a low-Q SQUID terminated microwave resonator
    return tan(2*pi*omega) - omega_c/omega

# %% [74]
fig, ax  = plt.subplots(figsize=(10,4))
x = linspace(0, 3, 1000)
y = f(x)
mask = where(abs(y) > 50)
x[mask] = y[mask] = NaN # get rid of vertical line when the function flip sign
ax.plot(x, y)
ax.plot([0, 3], [0, 0], 'k')
ax.set_ylim(-5,5);

# %% [75]
optimize.fsolve(f, 0.1)

# %% [76]
optimize.fsolve(f, 0.6)

# %% [77]
optimize.fsolve(f, 1.1)

# %% [78]
from scipy.interpolate import *

# %% [79]
def f(x):
    return sin(x)

# %% [80]
n = arange(0, 10)  
x = linspace(0, 9, 100)

y_meas = f(n) + 0.1 * randn(len(n)) # simulate measurement with noise
y_real = f(x)

linear_interpolation = interp1d(n, y_meas)
y_interp1 = linear_interpolation(x)

cubic_interpolation = interp1d(n, y_meas, kind='cubic')
y_interp2 = cubic_interpolation(x)

# %% [81]
fig, ax = plt.subplots(figsize=(10,4))
ax.plot(n, y_meas, 'bs', label='noisy data')
ax.plot(x, y_real, 'k', lw=2, label='true function')
ax.plot(x, y_interp1, 'r', label='linear interp')
ax.plot(x, y_interp2, 'g', label='cubic interp')
ax.legend(loc=3);

# %% [82]
from scipy import stats

# %% [83]
# create a (discrete) random variable with Poissonian distribution

X = stats.poisson(3.5) # photon distribution for a coherent state with n=3.5 photons

# %% [84]
n = arange(0,15)

fig, axes = plt.subplots(3,1, sharex=True)

# plot the probability mass function (PMF)
axes[0].step(n, X.pmf(n))

# plot the cumulative distribution function (CDF)
axes[1].step(n, X.cdf(n))

# plot histogram of 1000 random realizations of the stochastic variable X
axes[2].hist(X.rvs(size=1000));

# %% [85]
# create a (continuous) random variable with normal distribution
Y = stats.norm()

# %% [86]
x = linspace(-5,5,100)

fig, axes = plt.subplots(3,1, sharex=True)

# plot the probability distribution function (PDF)
axes[0].plot(x, Y.pdf(x))

# plot the cumulative distribution function (CDF)
axes[1].plot(x, Y.cdf(x));

# plot histogram of 1000 random realizations of the stochastic variable Y
axes[2].hist(Y.rvs(size=1000), bins=50);

# %% [87]
X.mean(), X.std(), X.var() # Poisson distribution

# %% [88]
Y.mean(), Y.std(), Y.var() # normal distribution

# %% [89]
t_statistic, p_value = stats.ttest_ind(X.rvs(size=1000), X.rvs(size=1000))

print "t-statistic =", t_statistic
print "p-value =", p_value

# %% [90]
stats.ttest_1samp(Y.rvs(size=1000), 0.1)

# %% [91]
Y.mean()

# %% [92]
stats.ttest_1samp(Y.rvs(size=1000), Y.mean())

# %% [93]
%reload_ext version_information

%version_information numpy, matplotlib, scipy
