"""fastopt: SciPy's optimisation building blocks, compiled with Numba.

Public functions keep the names, signatures and results of their
``scipy.optimize`` counterparts:

* :func:`approx_derivative`, :func:`check_derivative` -- finite-difference
  Jacobians (dense, sparse, or as a LinearOperator);
* :func:`group_columns` -- column grouping for sparse Jacobians.

Compiled building blocks callable from users' own ``@njit`` code live in
:mod:`fastopt.compiled`.
"""
from ._group_columns import group_columns
from ._numdiff import approx_derivative, check_derivative

__version__ = "0.1.0"

__all__ = ["approx_derivative", "check_derivative", "group_columns"]
