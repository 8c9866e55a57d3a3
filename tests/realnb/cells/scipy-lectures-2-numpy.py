# J.R. Johansson, Scientific Python Lectures 2: Numpy
# from https://github.com/jrjohansson/scientific-python-lectures/blob/a2a76136ac06ff5fa91343ae095f1223c914d944/Lecture-2-Numpy.ipynb
# licence: CC BY 3.0. Code cells only, outputs stripped; see corpus.toml.

# %% [1]
# what is this line all about?!? Answer in lecture 4
%matplotlib inline
import matplotlib.pyplot as plt

# %% [2]
from numpy import *

# %% [3]
# a vector: the argument to the array function is a Python list
v = array([1,2,3,4])

v

# %% [4]
# a matrix: the argument to the array function is a nested Python list
M = array([[1, 2], [3, 4]])

M

# %% [5]
type(v), type(M)

# %% [6]
v.shape

# %% [7]
M.shape

# %% [8]
M.size

# %% [9]
shape(M)

# %% [10]
size(M)

# %% [11]
M.dtype

# %% [12]
M[0,0] = "hello"

# %% [13]
M = array([[1, 2], [3, 4]], dtype=complex)

M

# %% [14]
# create a range

x = arange(0, 10, 1) # arguments: start, stop, step

x

# %% [15]
x = arange(-1, 1, 0.1)

x

# %% [16]
# using linspace, both end points ARE included
linspace(0, 10, 25)

# %% [17]
logspace(0, 10, 10, base=e)

# %% [18]
x, y = mgrid[0:5, 0:5] # similar to meshgrid in MATLAB

# %% [19]
x

# %% [20]
y

# %% [21]
from numpy import random

# %% [22]
# uniform random numbers in [0,1]
random.rand(5,5)

# %% [23]
# standard normal distributed random numbers
random.randn(5,5)

# %% [24]
# a diagonal matrix
diag([1,2,3])

# %% [25]
# diagonal with offset from the main diagonal
diag([1,2,3], k=1) 

# %% [26]
zeros((3,3))

# %% [27]
ones((3,3))

# %% [28]
!head stockholm_td_adj.dat

# %% [29]
data = genfromtxt('stockholm_td_adj.dat')

# %% [30]
data.shape

# %% [31]
fig, ax = plt.subplots(figsize=(14,4))
ax.plot(data[:,0]+data[:,1]/12.0+data[:,2]/365, data[:,5])
ax.axis('tight')
ax.set_title('tempeatures in Stockholm')
ax.set_xlabel('year')
ax.set_ylabel('temperature (C)');

# %% [32]
M = random.rand(3,3)

M

# %% [33]
savetxt("random-matrix.csv", M)

# %% [34]
!cat random-matrix.csv

# %% [35]
savetxt("random-matrix.csv", M, fmt='%.5f') # fmt specifies the format

!cat random-matrix.csv

# %% [36]
save("random-matrix.npy", M)

!file random-matrix.npy

# %% [37]
load("random-matrix.npy")

# %% [38]
M.itemsize # bytes per element

# %% [39]
M.nbytes # number of bytes

# %% [40]
M.ndim # number of dimensions

# %% [41]
# v is a vector, and has only one dimension, taking one index
v[0]

# %% [42]
# M is a matrix, or a 2 dimensional array, taking two indices 
M[1,1]

# %% [43]
M

# %% [44]
M[1]

# %% [45]
M[1,:] # row 1

# %% [46]
M[:,1] # column 1

# %% [47]
M[0,0] = 1

# %% [48]
M

# %% [49]
# also works for rows and columns
M[1,:] = 0
M[:,2] = -1

# %% [50]
M

# %% [51]
A = array([1,2,3,4,5])
A

# %% [52]
A[1:3]

# %% [53]
A[1:3] = [-2,-3]

A

# %% [54]
A[::] # lower, upper, step all take the default values

# %% [55]
A[::2] # step is 2, lower and upper defaults to the beginning and end of the array

# %% [56]
A[:3] # first three elements

# %% [57]
A[3:] # elements from index 3

# %% [58]
A = array([1,2,3,4,5])

# %% [59]
A[-1] # the last element in the array

# %% [60]
A[-3:] # the last three elements

# %% [61]
A = array([[n+m*10 for n in range(5)] for m in range(5)])

A

# %% [62]
# a block from the original array
A[1:4, 1:4]

# %% [63]
# strides
A[::2, ::2]

# %% [64]
row_indices = [1, 2, 3]
A[row_indices]

# %% [65]
col_indices = [1, 2, -1] # remember, index -1 means the last element
A[row_indices, col_indices]

# %% [66]
B = array([n for n in range(5)])
B

# %% [67]
row_mask = array([True, False, True, False, False])
B[row_mask]

# %% [68]
# same thing
row_mask = array([1,0,1,0,0], dtype=bool)
B[row_mask]

# %% [69]
x = arange(0, 10, 0.5)
x

# %% [70]
mask = (5 < x) * (x < 7.5)

mask

# %% [71]
x[mask]

# %% [72]
indices = where(mask)

indices

# %% [73]
x[indices] # this indexing is equivalent to the fancy indexing x[mask]

# %% [74]
diag(A)

# %% [75]
diag(A, -1)

# %% [76]
v2 = arange(-3,3)
v2

# %% [77]
row_indices = [1, 3, 5]
v2[row_indices] # fancy indexing

# %% [78]
v2.take(row_indices)

# %% [79]
take([-3, -2, -1,  0,  1,  2], row_indices)

# %% [80]
which = [1, 0, 1, 0]
choices = [[-2,-2,-2,-2], [5,5,5,5]]

choose(which, choices)

# %% [81]
v1 = arange(0, 5)

# %% [82]
v1 * 2

# %% [83]
v1 + 2

# %% [84]
A * 2, A + 2

# %% [85]
A * A # element-wise multiplication

# %% [86]
v1 * v1

# %% [87]
A.shape, v1.shape

# %% [88]
A * v1

# %% [89]
dot(A, A)

# %% [90]
dot(A, v1)

# %% [91]
dot(v1, v1)

# %% [92]
M = matrix(A)
v = matrix(v1).T # make it a column vector

# %% [93]
v

# %% [94]
M * M

# %% [95]
M * v

# %% [96]
# inner product
v.T * v

# %% [97]
# with matrix objects, standard matrix algebra applies
v + M*v

# %% [98]
v = matrix([1,2,3,4,5,6]).T

# %% [99]
shape(M), shape(v)

# %% [100]
M * v

# %% [101]
C = matrix([[1j, 2j], [3j, 4j]])
C

# %% [102]
conjugate(C)

# %% [103]
C.H

# %% [104]
real(C) # same as: C.real

# %% [105]
imag(C) # same as: C.imag

# %% [106]
angle(C+1) # heads up MATLAB Users, angle is used instead of arg

# %% [107]
abs(C)

# %% [108]
linalg.inv(C) # equivalent to C.I 

# %% [109]
C.I * C

# %% [110]
linalg.det(C)

# %% [111]
linalg.det(C.I)

# %% [112]
# reminder, the temperature dataset is stored in the data variable:
shape(data)

# %% [113]
# the temperature data is in column 3
mean(data[:,3])

# %% [114]
std(data[:,3]), var(data[:,3])

# %% [115]
# lowest daily average temperature
data[:,3].min()

# %% [116]
# highest daily average temperature
data[:,3].max()

# %% [117]
d = arange(0, 10)
d

# %% [118]
# sum up all elements
sum(d)

# %% [119]
# product of all elements
prod(d+1)

# %% [120]
# cumulative sum
cumsum(d)

# %% [121]
# cumulative product
cumprod(d+1)

# %% [122]
# same as: diag(A).sum()
trace(A)

# %% [123]
!head -n 3 stockholm_td_adj.dat

# %% [124]
unique(data[:,1]) # the month column takes values from 1 to 12

# %% [125]
mask_feb = data[:,1] == 2

# %% [126]
# the temperature data is in column 3
mean(data[mask_feb,3])

# %% [127]
months = arange(1,13)
monthly_mean = [mean(data[data[:,1] == month, 3]) for month in months]

fig, ax = plt.subplots()
ax.bar(months, monthly_mean)
ax.set_xlabel("Month")
ax.set_ylabel("Monthly avg. temp.");

# %% [128]
m = random.rand(3,3)
m

# %% [129]
# global max
m.max()

# %% [130]
# max in each column
m.max(axis=0)

# %% [131]
# max in each row
m.max(axis=1)

# %% [132]
A

# %% [133]
n, m = A.shape

# %% [134]
B = A.reshape((1,n*m))
B

# %% [135]
B[0,0:5] = 5 # modify the array

B

# %% [136]
A # and the original variable is also changed. B is only a different view of the same data

# %% [137]
B = A.flatten()

B

# %% [138]
B[0:5] = 10

B

# %% [139]
A # now A has not changed, because B's data is a copy of A's, not referring to the same data

# %% [140]
v = array([1,2,3])

# %% [141]
shape(v)

# %% [142]
# make a column matrix of the vector v
v[:, newaxis]

# %% [143]
# column matrix
v[:,newaxis].shape

# %% [144]
# row matrix
v[newaxis,:].shape

# %% [145]
a = array([[1, 2], [3, 4]])

# %% [146]
# repeat each element 3 times
repeat(a, 3)

# %% [147]
# tile the matrix 3 times 
tile(a, 3)

# %% [148]
b = array([[5, 6]])

# %% [149]
concatenate((a, b), axis=0)

# %% [150]
concatenate((a, b.T), axis=1)

# %% [151]
vstack((a,b))

# %% [152]
hstack((a,b.T))

# %% [153]
A = array([[1, 2], [3, 4]])

A

# %% [154]
# now B is referring to the same array data as A 
B = A 

# %% [155]
# changing B affects A
B[0,0] = 10

B

# %% [156]
A

# %% [157]
B = copy(A)

# %% [158]
# now, if we modify B, A is not affected
B[0,0] = -5

B

# %% [159]
A

# %% [160]
v = array([1,2,3,4])

for element in v:
    print(element)

# %% [161]
M = array([[1,2], [3,4]])

for row in M:
    print("row", row)
    
    for element in row:
        print(element)

# %% [162]
for row_idx, row in enumerate(M):
    print("row_idx", row_idx, "row", row)
    
    for col_idx, element in enumerate(row):
        print("col_idx", col_idx, "element", element)
       
        # update the matrix M: square each element
        M[row_idx, col_idx] = element ** 2

# %% [163]
# each element in M is now squared
M

# %% [164]
def Theta(x):
    """
    Scalar implementation of the Heaviside step function.
    """
    if x >= 0:
        return 1
    else:
        return 0

# %% [165]
Theta(array([-3,-2,-1,0,1,2,3]))

# %% [166]
Theta_vec = vectorize(Theta)

# %% [167]
Theta_vec(array([-3,-2,-1,0,1,2,3]))

# %% [168]
def Theta(x):
    """
    Vector-aware implementation of the Heaviside step function.
    """
    return 1 * (x >= 0)

# %% [169]
Theta(array([-3,-2,-1,0,1,2,3]))

# %% [170]
# still works for scalars as well
Theta(-1.2), Theta(2.6)

# %% [171]
M

# %% [172]
if (M > 5).any():
    print("at least one element in M is larger than 5")
else:
    print("no element in M is larger than 5")

# %% [173]
if (M > 5).all():
    print("all elements in M are larger than 5")
else:
    print("all elements in M are not larger than 5")

# %% [174]
M.dtype

# %% [175]
M2 = M.astype(float)

M2

# %% [176]
M2.dtype

# %% [177]
M3 = M.astype(bool)

M3

# %% [178]
%reload_ext version_information

%version_information numpy
