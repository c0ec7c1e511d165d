"""fastopt's Krylov solvers against scipy.sparse.linalg on a sparse
tridiagonal system.

fastopt multiplies the CSR matrix in compiled code (the whole solve is one
kernel call, no LinearOperator); SciPy gets the same ``csr_array``.  The
matrix is a diagonally dominant convection-diffusion stencil (symmetric for
minres), so every method converges at the default ``rtol=1e-5``.
"""
try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

import numpy as np

IMPLS = ("fastopt", "scipy")
METHODS = ("gmres", "lgmres", "bicgstab", "cgs", "minres")


def tridiagonal(n, symmetric):
    """``(A, b)``: the csr_array tridiag(lower, 2.5, upper) and a smooth
    right-hand side."""
    from scipy.sparse import diags_array

    lower, upper = (-1.0, -1.0) if symmetric else (-1.2, -0.8)
    A = diags_array([np.full(n - 1, lower), np.full(n, 2.5),
                     np.full(n - 1, upper)], offsets=[-1, 0, 1],
                    format="csr")
    b = np.sin(np.linspace(0.0, 20.0, n)) + 1.0
    return A, b


def _implementations():
    import scipy.sparse.linalg
    from fastopt import _krylov

    return {"fastopt": _krylov, "scipy": scipy.sparse.linalg}


class KrylovSolve:
    """One solve of ``A x = b`` from x0 = 0."""

    params = [list(METHODS), [1000, 100000], list(IMPLS)]
    param_names = ["method", "n", "impl"]

    def setup(self, method, n, impl):
        self.A, self.b = tridiagonal(n, method == "minres")
        self.solve = getattr(_implementations()[impl], method)
        self.solve(self.A, self.b)  # compile / warm up

    def time_solve(self, method, n, impl):
        self.solve(self.A, self.b)

    def track_success(self, method, n, impl):
        return int(self.solve(self.A, self.b)[1] == 0)

    track_success.unit = "bool"
