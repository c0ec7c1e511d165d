"""asv benchmarks: fastopt's nnls vs scipy.optimize.nnls.

Dense Gaussian problems (fixed seed) of three sizes; about half of the
variables end up at zero, so the active set changes many times.
"""
try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

import numpy as np

IMPLS = ("fastopt", "scipy")
SIZES = ("10x5", "100x50", "500x200")


def _implementation(impl):
    if impl == "fastopt":
        from fastopt._nnls import nnls
    else:
        from scipy.optimize import nnls
    return nnls


def _problem(size):
    m, n = (int(k) for k in size.split("x"))
    rng = np.random.default_rng(m * 1000 + n)
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    return A, b


class NNLS:
    """One solve of a dense non-negative least-squares problem."""

    params = [list(SIZES), list(IMPLS)]
    param_names = ["size", "impl"]

    def setup(self, size, impl):
        self.A, self.b = _problem(size)
        self.nnls = _implementation(impl)
        self.nnls(self.A, self.b)  # compile / warm up

    def time_nnls(self, size, impl):
        self.nnls(self.A, self.b)

    def track_success(self, size, impl):
        try:
            self.nnls(self.A, self.b)
        except RuntimeError:
            return 0
        return 1

    track_success.unit = "bool"

    def track_rnorm(self, size, impl):
        return self.nnls(self.A, self.b)[1]

    track_rnorm.unit = "residual norm"
