"""fastopt.newton_krylov against scipy.optimize.newton_krylov.

Large sparse residuals: Broyden's tridiagonal system from x0 = -1 (n =
10^4, 10^5) and the 2-D Bratu problem (lambda = 1, n = 100^2), where SciPy
also converges.  The ``residual`` axis: 'python', the NumPy functions
(both libraries call the same Python ``F`` for every finite-difference
product; fastopt runs the inner Krylov arithmetic in compiled kernels),
and 'njit', their ``@njit`` forms (both get the same dispatcher; fastopt
runs the whole solve, products included, in one compiled call).

``KrylovRootSmall``: ``root(method='krylov')`` on small ``@njit`` systems,
where the cost is the solvers' own overhead.
"""
try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

import numpy as np

from fastopt._examples import (ROOT_PROBLEMS, bratu, bratu_jit,
                               broyden_tridiagonal,
                               broyden_tridiagonal_jit, docs_system_jit)

IMPLS = ("fastopt", "scipy")


_BRATU = {}


def problem(name, residual="python"):
    """``(F, x0)`` for a benchmark problem name, ``residual`` 'python'
    (NumPy) or 'njit'."""
    jit = residual == "njit"
    if name == "tridiagonal_1e4":
        return (broyden_tridiagonal_jit if jit else broyden_tridiagonal,
                -np.ones(10_000))
    if name == "tridiagonal_1e5":
        return (broyden_tridiagonal_jit if jit else broyden_tridiagonal,
                -np.ones(100_000))
    if name == "bratu_1e4":
        if jit:
            # one dispatcher per process: compiled once
            if 100 not in _BRATU:
                _BRATU[100] = bratu_jit(100)
            return _BRATU[100], np.zeros(10_000)
        return bratu(100), np.zeros(10_000)
    raise ValueError(name)


def _implementations():
    import scipy.optimize
    from fastopt._krylov_jacobian import newton_krylov

    return {"fastopt": newton_krylov, "scipy": scipy.optimize.newton_krylov}


class _Counted:
    def __init__(self, F):
        self.F = F
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return self.F(x)


class KrylovRoot:
    """One newton_krylov solve of a large system."""

    params = [["tridiagonal_1e4", "tridiagonal_1e5", "bratu_1e4"],
              ["lgmres", "gmres"], ["python", "njit"], list(IMPLS)]
    param_names = ["problem", "method", "residual", "impl"]

    def setup(self, name, method, residual, impl):
        self.F, self.x0 = problem(name, residual)
        self.solve = _implementations()[impl]
        self.method = method
        self.solve(self.F, self.x0, method=method)  # compile / warm up

    def time_newton_krylov(self, name, method, residual, impl):
        self.solve(self.F, self.x0, method=self.method)

    def track_nfev(self, name, method, residual, impl):
        # a Python wrapper counts the calls (and so forces fastopt's
        # Python-driven path, which makes the same evaluations)
        F = _Counted(self.F)
        self.solve(F, self.x0, method=self.method)
        return F.calls

    track_nfev.unit = "evaluations"

    def track_success(self, name, method, residual, impl):
        x = self.solve(self.F, self.x0, method=self.method)
        return int(np.max(np.abs(self.F(x))) <= 6.06e-6)

    track_success.unit = "bool"


SMALL = {
    "docs_system": (docs_system_jit, (0.0, 0.0)),
    "powell_singular": ROOT_PROBLEMS["powell_singular"][1:],
    "helical_valley": ROOT_PROBLEMS["helical_valley"][1:],
    "tridiagonal_10": ROOT_PROBLEMS["broyden_tridiagonal_10"][1:],
}


class KrylovRootSmall:
    """``root(fun, x0, method='krylov')`` on a small ``@njit`` system
    (both libraries get the same dispatcher)."""

    params = [list(SMALL), list(IMPLS)]
    param_names = ["problem", "impl"]

    def setup(self, name, impl):
        import scipy.optimize

        import fastopt
        self.fun, x0 = SMALL[name]
        self.x0 = np.array(x0, dtype=float)
        self.root = fastopt.root if impl == "fastopt" else \
            scipy.optimize.root
        self.root(self.fun, self.x0, method="krylov")  # compile / warm up

    def time_root_krylov(self, name, impl):
        self.root(self.fun, self.x0, method="krylov")

    def track_success(self, name, impl):
        return int(self.root(self.fun, self.x0, method="krylov").success)

    track_success.unit = "bool"
