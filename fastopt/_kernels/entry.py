"""Helpers for Python drivers that call kernels' compiled entry points.

A kernel compiled for exactly one signature can be called from Python
through its compiled entry (:func:`entry_point`), skipping numba's
argument-type dispatch; :func:`array_address` gives the address of a
vector's data, which such drivers pass instead of the array.  Shared by the
hybr and lm drivers, in a module of its own so that neither imports (and
compiles) the other's kernels.
"""
from numba import njit, types

from ._jit import OPTIONS

__all__ = ["array_address", "entry_point"]


def _array_address(a):
    # See array_address.
    return a.ctypes.data


array_address = njit(types.int64(types.float64[::1]),
                     **OPTIONS)(_array_address)
array_address.__doc__ = """The address of the data of a C float64 vector
(``a.ctypes.data`` costs the Python driver about 0.8 us, this call a
tenth of that)."""
_array_address.__doc__ = array_address.__doc__
array_address.disable_compile()


def entry_point(dispatcher):
    """The compiled entry of a kernel compiled for exactly one signature,
    callable from Python without numba's argument-type dispatch (a third of
    the cost of a small call).  It converts its arguments by that
    signature without checking array dtypes or dimensions: the caller must
    pass exactly the declared types."""
    (signature,) = dispatcher.signatures
    return dispatcher.overloads[signature].entry_point
