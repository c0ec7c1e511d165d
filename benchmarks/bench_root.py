"""fastopt.root against scipy.optimize.root ('hybr' and 'lm').

Small Moré-Garbow-Hillstrom systems (see ``fastopt._examples``), each as a
NumPy function ('python') and as an ``@njit`` function ('njit'; fastopt
solves it entirely in compiled code, SciPy calls it from MINPACK); and
(RootLoop) 10**4 small systems solved from a user's ``@njit`` loop with
``fastopt.compiled.root_hybr`` / ``root_lm``, against a Python loop of
``scipy.optimize.root`` calls; and (RootSmallInLoop) RootSmall's systems
solved the same way, fastopt's compiled solve with no Python at all: the
lower bound of RootSmall's 'njit' ratios.
"""
try:
    from . import common  # noqa: F401
except ImportError:  # asv imports benchmark files as top-level modules
    import common  # noqa: F401

import numpy as np
from numba import njit

from fastopt import compiled

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


LOOP_SIZE = 10_000


def _loop_residual_py(x, a):
    return np.array([x[0] ** 2 + x[1] - a, x[0] - x[1] ** 2 + 1.0])


_loop_residual = njit(cache=True)(_loop_residual_py)


# fastopt's side of RootLoop: the whole loop of solves compiled
# (compiled.root_hybr / root_lm inside a user's @njit function; cached on
# disk, so only the first process compiles it)
@njit(cache=True)
def _hybr_loop(a_values):
    roots = np.empty((a_values.size, 2))
    solved = 0
    for k in range(a_values.size):
        x, _, _, _, ok = compiled.root_hybr(
            _loop_residual, np.array([1.0, 1.0]), (a_values[k],),
            1.49012e-08, 0)
        roots[k] = x
        solved += ok
    return roots, solved


@njit(cache=True)
def _lm_loop(a_values):
    roots = np.empty((a_values.size, 2))
    solved = 0
    for k in range(a_values.size):
        x, _, _, _, ok = compiled.root_lm(
            _loop_residual, np.array([1.0, 1.0]), (a_values[k],),
            1.49012e-08, 1.49012e-08, 0)
        roots[k] = x
        solved += ok
    return roots, solved

_LOOPS = {"hybr": _hybr_loop, "lm": _lm_loop}


class RootLoop:
    """10**4 solves of a two-equation system with a parameter, ``x0**2 +
    x1 = a``, ``x0 = x1**2 - 1``: fastopt's compiled solvers called from a
    user's ``@njit`` loop against scipy.optimize.root called from a Python
    loop (time per solve = the time shown / 10**4)."""

    params = [["hybr", "lm"], list(IMPLS)]
    param_names = ["method", "impl"]
    timeout = 600

    def setup(self, method, impl):
        self.a_values = np.linspace(1.0, 3.0, LOOP_SIZE)
        if impl == "fastopt":
            loop = _LOOPS[method]
            self.solve = lambda: loop(self.a_values)
        else:
            import scipy.optimize

            def solve():
                x0 = np.array([1.0, 1.0])
                roots = np.empty((self.a_values.size, 2))
                solved = 0
                for k, a in enumerate(self.a_values):
                    r = scipy.optimize.root(_loop_residual_py, x0, args=(a,),
                                            method=method)
                    roots[k] = r.x
                    solved += bool(r.success)
                return roots, solved
            self.solve = solve
        self.solve()  # compile / load

    def time_loop(self, method, impl):
        self.solve()

    def track_solved(self, method, impl):
        return int(self.solve()[1])

    track_solved.unit = "systems"


IN_LOOP_SOLVES = 100


def _in_loop(method):
    # A user's @njit loop of IN_LOOP_SOLVES compiled solves of fun from x0
    # (fun is an argument: numba compiles the loop once per residual, in
    # setup)
    if method == "hybr":
        @njit
        def solve(fun, x0):
            nfev = 0
            for _ in range(IN_LOOP_SOLVES):
                x, _, _, k, _ = compiled.root_hybr(fun, x0.copy(), (),
                                                   1.49012e-08, 0)
                nfev += k
            return nfev
    else:
        @njit
        def solve(fun, x0):
            nfev = 0
            for _ in range(IN_LOOP_SOLVES):
                x, _, _, k, _ = compiled.root_lm(fun, x0.copy(), (),
                                                 1.49012e-08, 1.49012e-08,
                                                 0)
                nfev += k
            return nfev
    return solve


class RootSmallInLoop:
    """RootSmall's ``@njit`` systems, 100 solves each: fastopt's compiled
    solver from a user's ``@njit`` loop (no Python in or around the solve)
    against 100 scipy.optimize.root calls.  The ratio is what fastopt's
    kernels alone take against SciPy's whole call: no Python wrapper could
    bring RootSmall's 'njit' ratio below it."""

    params = [["rosenbrock", "powell_singular", "helical_valley",
               "broyden_tridiagonal_10"], ["hybr", "lm"], list(IMPLS)]
    param_names = ["problem", "method", "impl"]
    timeout = 600

    def setup(self, problem, method, impl):
        from fastopt import _examples

        _, fun, x0 = _examples.root_problem(problem)
        if impl == "fastopt":
            loop = _in_loop(method)
            self.solve = lambda: loop(fun, x0)
        else:
            import scipy.optimize

            def solve():
                nfev = 0
                for _ in range(IN_LOOP_SOLVES):
                    nfev += scipy.optimize.root(fun, x0, method=method).nfev
                return nfev
            self.solve = solve
        self.solve()  # compile / warm up

    def time_solves(self, problem, method, impl):
        self.solve()

    def track_nfev(self, problem, method, impl):
        return self.solve() // IN_LOOP_SOLVES

    track_nfev.unit = "evaluations"
