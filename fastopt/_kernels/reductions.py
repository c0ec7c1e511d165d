"""Dot products of long vectors, vectorised.

A sum written as a plain loop cannot be vectorised without permission to
reorder it, and hand-written partial sums (four or eight accumulators)
vectorise only partly: at 10^5 entries an eight-accumulator loop took 33
us against 19 us for these kernels and 20 us for single-threaded BLAS.
These are :func:`~fastopt._kernels._jit.reduction_kernel` s: the compiler
may reassociate the sums and fuse multiply-adds, so results are correct
to rounding but not bit-equal to another summation order (the order is
fixed at compile time, so a given build always returns the same bits).

They are not inlined (the flags belong to the function), so a call with
array views costs a few reference-count updates: callers use them above
:data:`LONG_VECTOR` entries and their own short loops below it.
"""
from ._jit import reduction_kernel

__all__ = ["LONG_VECTOR", "long_dot", "long_difference_dots"]

# Shorter vectors are summed by the callers' own inlined loops: for them a
# call's reference counting and setup cost more than the vectorised sum
# saves.
LONG_VECTOR = 1024


@reduction_kernel
def long_dot(a, b):
    """``sum(a * b)`` of two 1-D float64 arrays of equal size."""
    s = 0.0
    for i in range(a.size):
        s += a[i] * b[i]
    return s


@reduction_kernel
def long_difference_dots(x1, x0, y1, y0):
    """``(s.s, s.y)`` with ``s = x1 - x0`` and ``y = y1 - y0`` in one
    pass, ``s`` and ``y`` never stored (all four 1-D float64 arrays of
    equal size)."""
    ss = 0.0
    sy = 0.0
    for i in range(x1.size):
        s = x1[i] - x0[i]
        ss += s * s
        sy += s * (y1[i] - y0[i])
    return ss, sy
