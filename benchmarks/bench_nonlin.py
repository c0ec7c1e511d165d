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
from numba import njit

IMPLS = ("fastopt", "scipy")


def doc2(x):
    return np.array([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
                     0.5 * (x[1] - x[0]) ** 3 + x[1]])


@njit
def doc2_jit(x):
    return np.array([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
                     0.5 * (x[1] - x[0]) ** 3 + x[1]])


def fixed_point(x):
    # x = 0.5 cos(x) + 0.1 x_{i-1} + 0.2: a contraction, fixed-point form
    return 0.5 * np.cos(x) + 0.1 * np.roll(x, 1) + 0.2 - x


def cheap_fixed_point(x):
    # x = 0.2 x_{i-1} + 0.1 x_i^2 + 0.5: a contraction whose evaluation
    # costs little next to the solver's own vector work
    return 0.2 * np.roll(x, 1) + 0.1 * x * x + 0.5 - x


@njit
def cheap_fixed_point_jit(x):
    n = x.size
    f = np.empty(n)
    for i in range(n):
        f[i] = 0.2 * x[i - 1] + 0.1 * x[i] * x[i] + 0.5 - x[i]
    return f


@njit
def fixed_point_jit(x):
    n = x.size
    f = np.empty(n)
    for i in range(n):
        f[i] = 0.5 * np.cos(x[i]) + 0.1 * x[i - 1] + 0.2 - x[i]
    return f


def broyden_tridiagonal(x):
    f = (3.0 - 2.0 * x) * x + 1.0
    f[1:] -= x[:-1]
    f[:-1] -= 2.0 * x[1:]
    return f


@njit
def broyden_tridiagonal_jit(x):
    n = x.size
    f = np.empty(n)
    for i in range(n):
        f[i] = (3.0 - 2.0 * x[i]) * x[i] + 1.0
        if i > 0:
            f[i] -= x[i - 1]
        if i < n - 1:
            f[i] -= 2.0 * x[i + 1]
    return f


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
