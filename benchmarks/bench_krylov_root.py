"""fastopt.newton_krylov against scipy.optimize.newton_krylov.

Large sparse residuals written as NumPy functions (Python callables):
Broyden's tridiagonal system from x0 = -1 (n = 10^4, 10^5) and the 2-D
Bratu problem (lambda = 1, n = 100^2), where SciPy also converges.  fastopt
runs the inner Krylov arithmetic in compiled kernels; both call the same
Python ``F`` for every finite-difference product.
"""
try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

import numpy as np

from fastopt._examples import bratu, broyden_tridiagonal as tridiagonal

IMPLS = ("fastopt", "scipy")


def problem(name):
    """``(F, x0)`` for a benchmark problem name."""
    if name == "tridiagonal_1e4":
        return tridiagonal, -np.ones(10_000)
    if name == "tridiagonal_1e5":
        return tridiagonal, -np.ones(100_000)
    if name == "bratu_1e4":
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
    """One newton_krylov solve of a large system, Python residual."""

    params = [["tridiagonal_1e4", "tridiagonal_1e5", "bratu_1e4"],
              ["lgmres", "gmres"], list(IMPLS)]
    param_names = ["problem", "method", "impl"]

    def setup(self, name, method, impl):
        self.F, self.x0 = problem(name)
        self.solve = _implementations()[impl]
        self.method = method
        self.solve(self.F, self.x0, method=method)  # compile / warm up

    def time_newton_krylov(self, name, method, impl):
        self.solve(self.F, self.x0, method=self.method)

    def track_nfev(self, name, method, impl):
        F = _Counted(self.F)
        self.solve(F, self.x0, method=self.method)
        return F.calls

    track_nfev.unit = "evaluations"

    def track_success(self, name, method, impl):
        x = self.solve(self.F, self.x0, method=self.method)
        return int(np.max(np.abs(self.F(x))) <= 6.06e-6)

    track_success.unit = "bool"
