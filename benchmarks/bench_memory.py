"""Peak memory of the large-system root solvers against SciPy's.

Broyden's tridiagonal system from x0 = -1 at n = 10**6, ``@njit`` residual,
solved by ``root(method='df-sane')`` and ``root(method='krylov')``.  ``setup``
solves a 100-unknown copy first, so that compilation (the user's function,
and for fastopt its kernels' loading) is done before the measured solve.
asv's ``peakmem_`` reports the process's peak resident memory;
``compare.py`` runs each case in a fresh interpreter and reports the peak
added by the solve over what the process held before it.
"""
try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

IMPLS = ("fastopt", "scipy")
LARGE_N = 10 ** 6


def _root(impl):
    if impl == "fastopt":
        import fastopt

        return fastopt.root
    import scipy.optimize

    return scipy.optimize.root


class PeakMemory:
    """One solve of Broyden's tridiagonal system with a million unknowns."""

    params = [[LARGE_N], ["df-sane", "krylov"], list(IMPLS)]
    param_names = ["n", "method", "impl"]
    timeout = 600

    def setup(self, n, method, impl):
        import numpy as np
        from fastopt import _examples

        self.fun = _examples.broyden_tridiagonal_jit
        self.root = _root(impl)
        self.root(self.fun, -np.ones(100), method=method)  # compile, load
        self.x0 = -np.ones(n)

    def peakmem_root(self, n, method, impl):
        self.root(self.fun, self.x0, method=method)

    def track_success(self, n, method, impl):
        return int(self.root(self.fun, self.x0, method=method).success)

    track_success.unit = "bool"
