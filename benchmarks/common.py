"""Problems shared by the benchmarks: those of :mod:`fastopt._examples`
(also used by the demo, ``python -m fastopt``), at benchmark sizes.

Importable as ``benchmarks.common`` from the repository root, or as
``common`` from inside ``benchmarks/`` (how asv imports it).
"""
from fastopt import _examples

__all__ = ["DENSE_SIZES", "SPARSE_STRUCTURES", "SPARSE_N", "dense_problem",
           "sparse_problem", "implementations"]

DENSE_SIZES = (2, 10, 100)
SPARSE_STRUCTURES = _examples.SPARSE_KINDS
SPARSE_N = 10 ** 5


def dense_problem(n, kind="python"):
    """``(fun, x0)``: the cyclic map of size n, NumPy ('python') or
    ``@njit`` ('njit')."""
    python_fun, njit_fun, x0 = _examples.dense_problem(n)
    return (python_fun if kind == "python" else njit_fun), x0


def sparse_problem(structure, kind="python"):
    """``(fun, x0, sparsity)`` of about 10**5 unknowns; ``structure`` is one
    of :data:`SPARSE_STRUCTURES`, ``kind`` 'python' or 'njit'.  The sparsity
    is a ``csr_array`` without precomputed groups."""
    python_fun, njit_fun, x0, sparsity = _examples.sparse_problem(structure,
                                                                  SPARSE_N)
    return (python_fun if kind == "python" else njit_fun), x0, sparsity


def implementations():
    """``{'fastopt': approx_derivative, 'scipy': approx_derivative}``."""
    import fastopt
    from scipy.optimize._numdiff import approx_derivative as scipy_approx

    return {"fastopt": fastopt.approx_derivative, "scipy": scipy_approx}
