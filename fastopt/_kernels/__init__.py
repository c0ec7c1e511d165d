"""Compiled (``@njit``) kernels behind fastopt's public functions.

Every kernel here takes C-contiguous float64 / int64 arrays and plain
scalars, returns status codes rather than raising for numerical events,
and is compiled with ``cache=True`` so a new process loads it from disk.
The Python wrappers in :mod:`fastopt` validate input and build results.
"""
