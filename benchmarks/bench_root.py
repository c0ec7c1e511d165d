"""fastopt.root against scipy.optimize.root ('hybr' and 'lm').

Small Moré-Garbow-Hillstrom systems (see ``fastopt._examples``), each as a
NumPy function ('python') and as an ``@njit`` function ('njit'; fastopt
solves it entirely in compiled code, SciPy calls it from MINPACK).
"""
try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

IMPLS = ("fastopt", "scipy")


def _implementations():
    import fastopt
    import scipy.optimize

    return {"fastopt": fastopt.root, "scipy": scipy.optimize.root}


class RootSmall:
    """One solve of a small system from its standard starting point."""

    params = [["rosenbrock", "powell_singular", "helical_valley",
               "broyden_tridiagonal_10"], ["hybr", "lm"],
              ["python", "njit"], list(IMPLS)]
    param_names = ["problem", "method", "fun_kind", "impl"]

    def setup(self, problem, method, fun_kind, impl):
        from fastopt import _examples

        fun, fun_jit, self.x0 = _examples.root_problem(problem)
        self.fun = fun if fun_kind == "python" else fun_jit
        self.root = _implementations()[impl]
        self.method = method
        self.root(self.fun, self.x0, method=method)  # compile / warm up

    def time_root(self, problem, method, fun_kind, impl):
        self.root(self.fun, self.x0, method=self.method)

    def track_nfev(self, problem, method, fun_kind, impl):
        return self.root(self.fun, self.x0, method=self.method).nfev

    track_nfev.unit = "evaluations"

    def track_success(self, problem, method, fun_kind, impl):
        return int(self.root(self.fun, self.x0, method=self.method).success)

    track_success.unit = "bool"
