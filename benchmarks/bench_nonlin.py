"""fastopt's nonlin family against scipy.optimize.root (broyden1, broyden2,
anderson, diagbroyden, excitingmixing).

Small systems (n <= 100) as NumPy functions ('python') and ``@njit``
functions ('njit'; fastopt runs the whole solve in compiled code, SciPy
calls the function from Python), and large ones (n = 10**5) where the
limited-memory methods (broyden1 with ``max_rank``, anderson) matter.
"""
try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

import numpy as np

from fastopt._examples import (broyden_tridiagonal, broyden_tridiagonal_jit,
                               cheap_fixed_point, cheap_fixed_point_jit,
                               docs_system as doc2,
                               docs_system_jit as doc2_jit, fixed_point,
                               fixed_point_jit)

IMPLS = ("fastopt", "scipy")


PROBLEMS = {
    # name: (python function, njit function, x0)
    "doc2": (doc2, doc2_jit, np.zeros(2)),
    "fixed_point_100": (fixed_point, fixed_point_jit, np.zeros(100)),
    "fixed_point_1e5": (cheap_fixed_point, cheap_fixed_point_jit,
                        np.zeros(10 ** 5)),
    "broyden_tridiagonal_1e5": (broyden_tridiagonal,
                                broyden_tridiagonal_jit, np.zeros(10 ** 5)),
}

LARGE_CASES = {
    # case: (problem, method, jac_options); broyden1 does not converge on
    # Broyden's tridiagonal system, anderson does
    "fixed_point_1e5-broyden1_rank10": ("fixed_point_1e5", "broyden1",
                                        {"max_rank": 10}),
    "fixed_point_1e5-anderson": ("fixed_point_1e5", "anderson", {}),
    "broyden_tridiagonal_1e5-anderson": ("broyden_tridiagonal_1e5",
                                         "anderson", {}),
}


def _root(impl):
    if impl == "fastopt":
        from fastopt._nonlin import root_nonlin

        def solve(fun, x0, method, jac_options):
            return root_nonlin(fun, x0, method=method,
                               jac_options=jac_options)
    else:
        import scipy.optimize

        def solve(fun, x0, method, jac_options):
            return scipy.optimize.root(fun, x0, method=method,
                                       options={"jac_options": jac_options})
    return solve


class _Nonlin:
    def _setup(self, problem, method, options, fun_kind, impl):
        fun, fun_jit, self.x0 = PROBLEMS[problem]
        # SciPy gets the NumPy function for 'python' and the @njit one
        # for 'njit' too (called from Python)
        self.fun = fun if fun_kind == "python" else fun_jit
        self.method = method
        self.options = options
        self.solve = _root(impl)
        self.solve(self.fun, self.x0, method, options)  # compile / warm up

    def _run(self):
        return self.solve(self.fun, self.x0, self.method, self.options)


class NonlinSmall(_Nonlin):
    """One solve of a small system (n <= 100)."""

    params = [["doc2", "fixed_point_100"],
              ["broyden1", "broyden2", "anderson", "diagbroyden",
               "excitingmixing"],
              ["python", "njit"], list(IMPLS)]
    param_names = ["problem", "method", "fun_kind", "impl"]

    def setup(self, problem, method, fun_kind, impl):
        self._setup(problem, method, {}, fun_kind, impl)

    def time_solve(self, problem, method, fun_kind, impl):
        self._run()

    def track_nfev(self, problem, method, fun_kind, impl):
        return self._run().nfev

    track_nfev.unit = "evaluations"

    def track_success(self, problem, method, fun_kind, impl):
        return int(self._run().success)

    track_success.unit = "bool"


class NonlinLarge(_Nonlin):
    """One solve at n = 10**5 with a limited-memory method."""

    params = [list(LARGE_CASES), ["njit", "python"], list(IMPLS)]
    param_names = ["case", "fun_kind", "impl"]
    timeout = 300

    def setup(self, case, fun_kind, impl):
        problem, name, options = LARGE_CASES[case]
        self._setup(problem, name, options, fun_kind, impl)

    def time_solve(self, case, fun_kind, impl):
        self._run()

    def track_nfev(self, case, fun_kind, impl):
        return self._run().nfev

    track_nfev.unit = "evaluations"

    def track_success(self, case, fun_kind, impl):
        return int(self._run().success)

    track_success.unit = "bool"
