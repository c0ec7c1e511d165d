"""fastopt's SLSQP against scipy.optimize.minimize(method='SLSQP').

Small Hock-Schittkowski problems (equality, inequality and bound
constraints), each with finite-difference ('numerical') or analytic
gradients and constraint Jacobians, as NumPy functions ('python') or
``@njit`` functions ('njit': fastopt solves the whole problem in compiled
code, SciPy calls them from Python); and dense convex QPs on the simplex
with n = 100, 300 and 500 variables, where the QP linear algebra dominates.
"""
import numpy as np

try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

IMPLS = ("fastopt", "scipy")


def _minimize(impl):
    if impl == "fastopt":
        from fastopt._minimize import minimize
        return minimize
    import scipy.optimize
    return scipy.optimize.minimize


# ---------------------------------------------------------------- problems

def hs6_f(x):
    return (1.0 - x[0]) ** 2


def hs6_g(x):
    return np.array([-2.0 * (1.0 - x[0]), 0.0])


def hs6_c(x):
    return np.array([10.0 * (x[1] - x[0] ** 2)])


def hs6_cj(x):
    return np.array([[-20.0 * x[0], 10.0]])


def hs10_f(x):
    return x[0] - x[1]


def hs10_g(x):
    return np.array([1.0, -1.0])


def hs10_c(x):
    return np.array([-3 * x[0] ** 2 + 2 * x[0] * x[1] - x[1] ** 2 + 1.0])


def hs10_cj(x):
    return np.array([[-6 * x[0] + 2 * x[1], 2 * x[0] - 2 * x[1]]])


def hs21_f(x):
    return 0.01 * x[0] ** 2 + x[1] ** 2 - 100.0


def hs21_g(x):
    return np.array([0.02 * x[0], 2 * x[1]])


def hs21_c(x):
    return np.array([10 * x[0] - x[1] - 10.0])


def hs21_cj(x):
    return np.array([[10.0, -1.0]])


def hs35_f(x):
    return (9 - 8 * x[0] - 6 * x[1] - 4 * x[2] + 2 * x[0] ** 2
            + 2 * x[1] ** 2 + x[2] ** 2 + 2 * x[0] * x[1] + 2 * x[0] * x[2])


def hs35_g(x):
    return np.array([-8 + 4 * x[0] + 2 * x[1] + 2 * x[2],
                     -6 + 4 * x[1] + 2 * x[0], -4 + 2 * x[2] + 2 * x[0]])


def hs35_c(x):
    return np.array([3 - x[0] - x[1] - 2 * x[2]])


def hs35_cj(x):
    return np.array([[-1.0, -1.0, -2.0]])


def hs71_f(x):
    return x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2]


def hs71_g(x):
    return np.array([x[3] * (2 * x[0] + x[1] + x[2]), x[0] * x[3],
                     x[0] * x[3] + 1.0, x[0] * (x[0] + x[1] + x[2])])


def hs71_c1(x):
    return np.array([x[0] * x[1] * x[2] * x[3] - 25.0])


def hs71_c1j(x):
    return np.array([[x[1] * x[2] * x[3], x[0] * x[2] * x[3],
                      x[0] * x[1] * x[3], x[0] * x[1] * x[2]]])


def hs71_c2(x):
    return np.array([x @ x - 40.0])


def hs71_c2j(x):
    return 2.0 * x.reshape(1, 4)


# name: (f, g, [(type, c, cj)], x0, bounds)
PROBLEMS = {
    "hs6": (hs6_f, hs6_g, [("eq", hs6_c, hs6_cj)], [-1.2, 1.0], None),
    "hs10": (hs10_f, hs10_g, [("ineq", hs10_c, hs10_cj)], [-10.0, 10.0],
             None),
    "hs21": (hs21_f, hs21_g, [("ineq", hs21_c, hs21_cj)], [-1.0, -1.0],
             [(2.0, 50.0), (-50.0, 50.0)]),
    "hs35": (hs35_f, hs35_g, [("ineq", hs35_c, hs35_cj)], [0.5, 0.5, 0.5],
             [(0.0, None)] * 3),
    "hs71": (hs71_f, hs71_g, [("ineq", hs71_c1, hs71_c1j),
                              ("eq", hs71_c2, hs71_c2j)],
             [1.0, 5.0, 5.0, 1.0], [(1.0, 5.0)] * 4),
}


def small_problem(name, jac_kind, fun_kind):
    """``(fun, x0, kwargs)`` for ``minimize(fun, x0, **kwargs)``."""
    f, g, cons, x0, bounds = PROBLEMS[name]
    wrap = (lambda h: h)
    if fun_kind == "njit":
        from numba import njit
        wrap = njit
    kwargs = {"method": "SLSQP", "bounds": bounds, "constraints": []}
    if jac_kind == "analytic":
        kwargs["jac"] = wrap(g)
    for kind, c, cj in cons:
        con = {"type": kind, "fun": wrap(c)}
        if jac_kind == "analytic":
            con["jac"] = wrap(cj)
        kwargs["constraints"].append(con)
    return wrap(f), np.array(x0, dtype=float), kwargs


def dense_problem(n, seed=0):
    """A convex QP on the simplex with ``n`` variables, analytic
    derivatives: ``(fun, x0, kwargs)``."""
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((n, 3)) / np.sqrt(n)
    Q = np.eye(n) + U @ U.T
    c = rng.standard_normal(n) / np.sqrt(n)
    ones = np.ones((1, n))
    e01 = np.zeros((1, n))
    e01[0, 0], e01[0, 1] = 1.0, -1.0
    kwargs = {
        "method": "SLSQP", "jac": lambda x: Q @ x + c,
        "bounds": [(0.0, None)] * n,
        "constraints": [
            {"type": "eq", "fun": lambda x: ones[0] @ x - 1.0,
             "jac": lambda x: ones},
            {"type": "ineq", "fun": lambda x: x[0] - x[1] + 0.1,
             "jac": lambda x: e01}],
    }
    return (lambda x: 0.5 * x @ (Q @ x) + c @ x), np.full(n, 1.0 / n), kwargs


class SLSQPSmall:
    """One solve of a small constrained problem."""

    params = [list(PROBLEMS), ["numerical", "analytic"], ["python", "njit"],
              list(IMPLS)]
    param_names = ["problem", "jac", "fun_kind", "impl"]

    def setup(self, problem, jac, fun_kind, impl):
        self.fun, self.x0, self.kwargs = small_problem(problem, jac, fun_kind)
        self.minimize = _minimize(impl)
        self.minimize(self.fun, self.x0, **self.kwargs)  # compile / warm up

    def time_minimize(self, problem, jac, fun_kind, impl):
        self.minimize(self.fun, self.x0, **self.kwargs)

    def track_nfev(self, problem, jac, fun_kind, impl):
        return self.minimize(self.fun, self.x0, **self.kwargs).nfev

    track_nfev.unit = "evaluations"

    def track_success(self, problem, jac, fun_kind, impl):
        return int(self.minimize(self.fun, self.x0, **self.kwargs).success)

    track_success.unit = "bool"


class SLSQPDense:
    """A dense QP with n variables (one equality, one inequality, n
    bounds)."""

    params = [[100, 300, 500], list(IMPLS)]
    param_names = ["n", "impl"]
    # One solve at n = 500 takes about 0.3 s (SciPy several seconds on a
    # loaded machine, its BLAS threads contending): room for asv's samples.
    timeout = 240

    def setup(self, n, impl):
        self.fun, self.x0, self.kwargs = dense_problem(n)
        self.minimize = _minimize(impl)
        self.minimize(self.fun, self.x0, **self.kwargs)

    def time_minimize(self, n, impl):
        self.minimize(self.fun, self.x0, **self.kwargs)

    def track_nfev(self, n, impl):
        return self.minimize(self.fun, self.x0, **self.kwargs).nfev

    track_nfev.unit = "evaluations"

    def track_success(self, n, impl):
        return int(self.minimize(self.fun, self.x0, **self.kwargs).success)

    track_success.unit = "bool"
