"""The one place where fastopt's compiled functions get their options.

Four decorators:

``kernel``
    ``cache=True``: compiled once, loaded from disk by later processes.
    For everything typed only on fastopt's own argument types (arrays,
    scalars, tuples of them, and user functions passed as addresses, see
    :mod:`fastopt._kernels.funcptr`).
``driver``
    The same without ``cache`` and inlined into its callers at the IR
    level, for the generic drivers that take a user's ``@njit`` function
    itself as an argument (users call them from their own compiled code).
    A cache entry keyed on a user's dispatcher type names the user's
    module, and an on-disk index holding such an entry cannot be read by a
    process where that module is not importable.  The cached kernels still
    call these drivers: the callee's code is compiled into the caller's
    cache entry.  Inlined, because every compiled function that calls
    another links in the callee's LLVM module and optimises the whole of
    it again: a chain of four drivers over the hybrid method's kernel cost
    about 50 s of compilation per user function, the inlined chain 14 s.
``inline_kernel``
    A ``kernel`` that numba also inlines into its callers at the IR level
    (``inline='always'``), for small helpers called in hot loops.  Callers
    pass row views and slices of their work arrays; a call that is not
    inlined increments and decrements the parent array's reference count
    atomically for every view, which measured as the dominant cost of
    NNLS at n ~ 50.  Inlined, numba's reference-count pruning removes
    those pairs.  Numba does not invalidate a caller's cache entry when an
    inlined callee in another file changes: delete the callers'
    ``__pycache__/*.nbi``/``*.nbc`` after editing one.

    Inlining is paid for at compile time, and more than linearly: numba
    deep-copies the callee's IR, already holding its own inlined callees,
    at every call site, block by block with the callee's whole scope each
    time.  A large function inlined at several sites (the hybrid method's
    factorisation step) or a stack of large ones (the inexact-Newton
    driver over the Jacobian approximations) cost a minute of compilation
    per kernel.  So large once-per-iteration steps are plain ``kernel``
    calls; the drivers pass them borrowed arrays (see
    :mod:`fastopt._kernels.borrow`), whose reference counting is a no-op,
    and the call itself costs nanoseconds against microseconds of work.

``reduction_kernel``
    A ``kernel`` whose floating-point sums may be reassociated and whose
    multiply-adds may be fused (``fastmath={'reassoc', 'contract'}``), for
    long dot products: the loop then vectorises with several partial sums,
    as BLAS's ddot does (at n = 10^4, 0.9 us against 3.0 us for eight
    hand-written partial sums).  Not inlined: the flags belong to the
    function, and inlined IR would be compiled with its caller's.

All four use ``error_model='numpy'``: floating-point division by zero gives
inf/nan as in NumPy (and SciPy) instead of raising ZeroDivisionError, and
the division needs no per-element check, so loops vectorise.  No other
``fastmath`` flags: 'nnan' and 'ninf' would break the ``isfinite`` tests
solvers rely on.
"""
from numba import njit

__all__ = ["kernel", "driver", "inline_kernel", "reduction_kernel",
           "OPTIONS", "DRIVER_OPTIONS"]

# Options of a kernel, for the few defined with njit(...) directly.
OPTIONS = {"cache": True, "error_model": "numpy"}
DRIVER_OPTIONS = {"error_model": "numpy", "inline": "always"}


def kernel(function):
    """Compile ``function`` as a cached fastopt kernel."""
    return njit(**OPTIONS)(function)


def driver(function):
    """Compile ``function`` as a driver generic over user functions."""
    return njit(**DRIVER_OPTIONS)(function)


def inline_kernel(function):
    """Compile ``function`` as a cached kernel inlined into its callers."""
    return njit(inline="always", **OPTIONS)(function)


def reduction_kernel(function):
    """Compile ``function`` as a cached kernel free to reorder its sums."""
    return njit(fastmath={"reassoc", "contract"}, **OPTIONS)(function)
