"""fastopt's DF-SANE against scipy.optimize.root(method='df-sane').

Small Moré-Garbow-Hillstrom systems (suite DFSane) and Broyden's
tridiagonal system at n = 10**5 (DFSaneLarge; see ``fastopt._examples``),
each as a NumPy function ('python') and as an ``@njit`` function ('njit';
fastopt runs the whole iteration in compiled code, SciPy calls it from
Python).  Both implementations take the same steps, so ``track_nfev``
agrees exactly.
"""
try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

IMPLS = ("fastopt", "scipy")
LARGE_N = 10 ** 5


def _problem(name):
    import numpy as np
    from fastopt import _examples

    if name == "broyden_tridiagonal_100000":
        return (_examples.broyden_tridiagonal,
                _examples.broyden_tridiagonal_jit, -np.ones(LARGE_N))
    return _examples.root_problem(name)


def _solver(impl):
    if impl == "fastopt":
        from fastopt._dfsane import root_df_sane

        return lambda fun, x0: root_df_sane(fun, x0)
    import scipy.optimize

    return lambda fun, x0: scipy.optimize.root(fun, x0, method="df-sane")


class DFSane:
    """One DF-SANE solve of a small system (n <= 100) from the standard
    starting point (the three non-quadratic MGH systems use all 1000
    evaluations, in SciPy too).  The targets are medians over these
    problems, so the large system has a suite of its own."""

    params = [["rosenbrock", "powell_singular", "helical_valley",
               "broyden_tridiagonal_10"],
              ["python", "njit"], list(IMPLS)]
    param_names = ["problem", "fun_kind", "impl"]
    timeout = 300

    def setup(self, problem, fun_kind, impl):
        fun, fun_jit, self.x0 = _problem(problem)
        self.fun = fun if fun_kind == "python" else fun_jit
        self.solve = _solver(impl)
        self.solve(self.fun, self.x0)  # compile / warm up

    def time_root(self, problem, fun_kind, impl):
        self.solve(self.fun, self.x0)

    def track_nfev(self, problem, fun_kind, impl):
        return self.solve(self.fun, self.x0).nfev

    track_nfev.unit = "evaluations"

    def track_success(self, problem, fun_kind, impl):
        return int(self.solve(self.fun, self.x0).success)

    track_success.unit = "bool"


class DFSaneLarge(DFSane):
    """One DF-SANE solve of Broyden's tridiagonal system at n = 10**5 (all
    1000 evaluations; above ``LONG_DOT`` unknowns fastopt's dot products
    are its own, so ``track_nfev`` agrees with SciPy's but ``nit`` only
    nearly)."""

    params = [["broyden_tridiagonal_100000"], ["python", "njit"],
              list(IMPLS)]
