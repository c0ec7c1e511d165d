"""fastopt: SciPy's optimisation building blocks, compiled with Numba.

Public functions keep the names, signatures and results of their
``scipy.optimize`` counterparts:

* :func:`approx_derivative`, :func:`check_derivative` -- finite-difference
  Jacobians (dense, sparse, or as a LinearOperator);
* :func:`group_columns` -- column grouping for sparse Jacobians;
* :func:`minimize` (``method='SLSQP'``), :func:`minimize_slsqp`,
  :func:`fmin_slsqp` -- constrained minimisation by SLSQP, and
  :func:`nnls`, its non-negative least-squares core;
* :func:`root`, :func:`fsolve`, :func:`show_options` -- nonlinear systems
  ('hybr', 'lm', the quasi-Newton and Krylov family, 'df-sane');
* :func:`broyden1`, :func:`broyden2`, :func:`anderson`,
  :func:`linearmixing`, :func:`diagbroyden`, :func:`excitingmixing`,
  :func:`newton_krylov`, :func:`nonlin_solve` and the Jacobian
  approximation classes, raising :class:`NoConvergence` (a subclass of
  SciPy's) when they fail.

Compiled building blocks callable from users' own ``@njit`` code live in
:mod:`fastopt.compiled`.
"""
from ._group_columns import group_columns
from ._krylov_jacobian import KrylovJacobian, newton_krylov
from ._minimize import minimize
from ._nnls import nnls
from ._nonlin import (Anderson, BroydenFirst, BroydenSecond, DiagBroyden,
                      ExcitingMixing, LinearMixing, anderson, broyden1,
                      broyden2, diagbroyden, excitingmixing, linearmixing,
                      nonlin_solve)
from ._numdiff import approx_derivative, check_derivative
from ._root import fsolve, root, show_options
from ._slsqp import fmin_slsqp, minimize_slsqp

__version__ = "0.1.0"

__all__ = ["Anderson", "BroydenFirst", "BroydenSecond", "DiagBroyden",
           "ExcitingMixing", "KrylovJacobian", "LinearMixing",
           "NoConvergence", "anderson", "approx_derivative", "broyden1",
           "broyden2", "check_derivative", "diagbroyden", "excitingmixing",
           "fmin_slsqp", "fsolve", "group_columns", "linearmixing",
           "minimize", "minimize_slsqp", "newton_krylov", "nnls",
           "nonlin_solve", "root", "show_options"]


def __getattr__(name):
    # NoConvergence subclasses SciPy's, whose module costs ~0.4 s to import:
    # made on first use so that ``import fastopt`` stays light.
    if name == "NoConvergence":
        from ._nonlin import _no_convergence_class
        return _no_convergence_class()
    raise AttributeError(f"module 'fastopt' has no attribute {name!r}")
