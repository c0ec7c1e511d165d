"""The one place where fastopt's kernels get their compilation options.

``cache=True``: compiled once, loaded from disk by later processes.
``error_model='numpy'``: floating-point division by zero gives inf/nan as in
NumPy (and SciPy) instead of raising ZeroDivisionError, and the division
needs no per-element check, so loops vectorise.
No ``fastmath``: it would break the ``isfinite`` tests solvers rely on.
"""
from numba import njit

__all__ = ["kernel"]

OPTIONS = {"cache": True, "error_model": "numpy"}


def kernel(function):
    """Compile ``function`` as a fastopt kernel (see module docstring)."""
    return njit(**OPTIONS)(function)
