"""fastopt: SciPy's optimisation building blocks, compiled with Numba.

Public functions keep the names, signatures and results of their
``scipy.optimize`` counterparts:

* :func:`approx_derivative`, :func:`check_derivative` -- finite-difference
  Jacobians (dense, sparse, or as a LinearOperator);
* :func:`group_columns` -- column grouping for sparse Jacobians;
* :func:`root`, :func:`fsolve`, :func:`show_options` -- nonlinear systems
  by Powell's hybrid method ('hybr') and Levenberg-Marquardt ('lm').

Compiled building blocks callable from users' own ``@njit`` code live in
:mod:`fastopt.compiled`.
"""
from ._group_columns import group_columns
from ._numdiff import approx_derivative, check_derivative
from ._root import fsolve, root, show_options

__version__ = "0.1.0"

__all__ = ["approx_derivative", "check_derivative", "fsolve",
           "group_columns", "root", "show_options"]
