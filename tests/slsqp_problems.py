"""A catalogue of constrained problems for SLSQP (Hock & Schittkowski 1981
and a few of our own): objective, gradient, constraints with Jacobians,
bounds, starting point and, where known, the solution.

W. Hock and K. Schittkowski, *Test Examples for Nonlinear Programming
Codes*, Lecture Notes in Economics and Mathematical Systems 187, Springer
1981.

Each problem is a dict:

``name``, ``fun``, ``grad``, ``x0``, ``bounds`` (list of pairs or None),
``constraints`` (old-style dicts, each with ``jac``), ``unique`` (whether
the minimiser is unique, so that ``x`` can be compared), ``fstar`` (known
optimal value or None), ``feasible`` (False for infeasible problems).
"""
import numpy as np

__all__ = ["PROBLEMS", "problem", "without_jacobians", "dense_qp"]


def _eq(fun, jac):
    return {"type": "eq", "fun": fun, "jac": jac}


def _ineq(fun, jac):
    return {"type": "ineq", "fun": fun, "jac": jac}


def _rosen(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def _rosen_grad(x):
    return np.array([-400.0 * x[0] * (x[1] - x[0] ** 2) - 2.0 * (1.0 - x[0]),
                     200.0 * (x[1] - x[0] ** 2)])


def dense_qp(n, seed=0):
    """A convex QP on the simplex: ``min 1/2 x'Qx + c'x`` s.t.
    ``sum(x) = 1``, ``x >= 0`` and ``x[0] - x[1] >= -0.1`` (Q = I + a
    low-rank term)."""
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((n, 3)) / np.sqrt(n)
    Q = np.eye(n) + U @ U.T
    c = rng.standard_normal(n) / np.sqrt(n)

    def fun(x):
        return 0.5 * x @ (Q @ x) + c @ x

    def grad(x):
        return Q @ x + c

    ones = np.ones(n)
    e01 = np.zeros(n)
    e01[0], e01[1] = 1.0, -1.0
    return {
        "name": f"QP{n}", "fun": fun, "grad": grad,
        "x0": np.full(n, 1.0 / n), "bounds": [(0.0, None)] * n,
        "constraints": [
            _eq(lambda x: ones @ x - 1.0, lambda x: ones.reshape(1, n)),
            _ineq(lambda x: x[0] - x[1] + 0.1, lambda x: e01.reshape(1, n)),
        ],
        "unique": True, "fstar": None, "feasible": True,
    }


def _catalogue():
    P = []

    def add(name, fun, grad, x0, bounds=None, constraints=(), unique=True,
            fstar=None, feasible=True):
        P.append({"name": name, "fun": fun, "grad": grad,
                  "x0": np.asarray(x0, dtype=float), "bounds": bounds,
                  "constraints": list(constraints), "unique": unique,
                  "fstar": fstar, "feasible": feasible})

    add("HS1", _rosen, _rosen_grad, [-2.0, 1.0], [(None, None), (-1.5, None)],
        fstar=0.0)
    add("HS2", _rosen, _rosen_grad, [-2.0, 1.0], [(None, None), (1.5, None)],
        fstar=None)  # SLSQP stops at a local point from this x0
    add("HS3", lambda x: x[1] + 1e-5 * (x[1] - x[0]) ** 2,
        lambda x: np.array([-2e-5 * (x[1] - x[0]),
                            1.0 + 2e-5 * (x[1] - x[0])]),
        [10.0, 1.0], [(None, None), (0.0, None)], unique=False)
    add("HS4", lambda x: (x[0] + 1.0) ** 3 / 3.0 + x[1],
        lambda x: np.array([(x[0] + 1.0) ** 2, 1.0]),
        [1.125, 0.125], [(1.0, None), (0.0, None)], fstar=8.0 / 3.0)
    add("HS5", lambda x: (np.sin(x[0] + x[1]) + (x[0] - x[1]) ** 2
                          - 1.5 * x[0] + 2.5 * x[1] + 1.0),
        lambda x: np.array([np.cos(x[0] + x[1]) + 2 * (x[0] - x[1]) - 1.5,
                            np.cos(x[0] + x[1]) - 2 * (x[0] - x[1]) + 2.5]),
        [0.0, 0.0], [(-1.5, 4.0), (-3.0, 3.0)],
        fstar=-np.sqrt(3.0) / 2.0 - np.pi / 3.0)
    add("HS6", lambda x: (1.0 - x[0]) ** 2,
        lambda x: np.array([-2.0 * (1.0 - x[0]), 0.0]), [-1.2, 1.0],
        constraints=[_eq(lambda x: 10.0 * (x[1] - x[0] ** 2),
                         lambda x: np.array([[-20.0 * x[0], 10.0]]))],
        fstar=0.0)
    add("HS7", lambda x: np.log(1.0 + x[0] ** 2) - x[1],
        lambda x: np.array([2.0 * x[0] / (1.0 + x[0] ** 2), -1.0]),
        [2.0, 2.0],
        constraints=[_eq(lambda x: (1.0 + x[0] ** 2) ** 2 + x[1] ** 2 - 4.0,
                         lambda x: np.array([[4.0 * x[0] * (1.0 + x[0] ** 2),
                                              2.0 * x[1]]]))],
        fstar=-np.sqrt(3.0))
    add("HS8", lambda x: -1.0, lambda x: np.zeros(2), [2.0, 1.0],
        constraints=[_eq(lambda x: x[0] ** 2 + x[1] ** 2 - 25.0,
                         lambda x: np.array([[2 * x[0], 2 * x[1]]])),
                     _eq(lambda x: x[0] * x[1] - 9.0,
                         lambda x: np.array([[x[1], x[0]]]))],
        unique=False, fstar=-1.0)
    add("HS9", lambda x: np.sin(np.pi * x[0] / 12) * np.cos(np.pi * x[1] / 16),
        lambda x: np.array(
            [np.pi / 12 * np.cos(np.pi * x[0] / 12)
             * np.cos(np.pi * x[1] / 16),
             -np.pi / 16 * np.sin(np.pi * x[0] / 12)
             * np.sin(np.pi * x[1] / 16)]),
        [0.0, 0.0],
        constraints=[_eq(lambda x: 4.0 * x[0] - 3.0 * x[1],
                         lambda x: np.array([[4.0, -3.0]]))],
        unique=False, fstar=-0.5)
    add("HS10", lambda x: x[0] - x[1], lambda x: np.array([1.0, -1.0]),
        [-10.0, 10.0],
        constraints=[_ineq(
            lambda x: -3 * x[0] ** 2 + 2 * x[0] * x[1] - x[1] ** 2 + 1.0,
            lambda x: np.array([[-6 * x[0] + 2 * x[1],
                                 2 * x[0] - 2 * x[1]]]))],
        fstar=-1.0)
    add("HS11", lambda x: (x[0] - 5.0) ** 2 + x[1] ** 2 - 25.0,
        lambda x: np.array([2 * (x[0] - 5.0), 2 * x[1]]), [4.9, 0.1],
        constraints=[_ineq(lambda x: -x[0] ** 2 + x[1],
                           lambda x: np.array([[-2 * x[0], 1.0]]))],
        fstar=-8.498464223)
    add("HS12", lambda x: 0.5 * x[0] ** 2 + x[1] ** 2 - x[0] * x[1]
        - 7 * x[0] - 7 * x[1],
        lambda x: np.array([x[0] - x[1] - 7.0, 2 * x[1] - x[0] - 7.0]),
        [0.0, 0.0],
        constraints=[_ineq(lambda x: 25.0 - 4 * x[0] ** 2 - x[1] ** 2,
                           lambda x: np.array([[-8 * x[0], -2 * x[1]]]))],
        fstar=-30.0)
    add("HS14", lambda x: (x[0] - 2.0) ** 2 + (x[1] - 1.0) ** 2,
        lambda x: np.array([2 * (x[0] - 2.0), 2 * (x[1] - 1.0)]), [2.0, 2.0],
        constraints=[_eq(lambda x: x[0] - 2 * x[1] + 1.0,
                         lambda x: np.array([[1.0, -2.0]])),
                     _ineq(lambda x: -x[0] ** 2 / 4 - x[1] ** 2 + 1.0,
                           lambda x: np.array([[-x[0] / 2, -2 * x[1]]]))],
        fstar=9 - 2.875 * np.sqrt(7))
    add("HS21", lambda x: 0.01 * x[0] ** 2 + x[1] ** 2 - 100.0,
        lambda x: np.array([0.02 * x[0], 2 * x[1]]), [-1.0, -1.0],
        [(2.0, 50.0), (-50.0, 50.0)],
        constraints=[_ineq(lambda x: 10 * x[0] - x[1] - 10.0,
                           lambda x: np.array([[10.0, -1.0]]))],
        fstar=-99.96)
    add("HS28", lambda x: (x[0] + x[1]) ** 2 + (x[1] + x[2]) ** 2,
        lambda x: np.array([2 * (x[0] + x[1]), 2 * (x[0] + x[1])
                            + 2 * (x[1] + x[2]), 2 * (x[1] + x[2])]),
        [-4.0, 1.0, 1.0],
        constraints=[_eq(lambda x: x[0] + 2 * x[1] + 3 * x[2] - 1.0,
                         lambda x: np.array([[1.0, 2.0, 3.0]]))],
        fstar=0.0)
    add("HS35", lambda x: (9 - 8 * x[0] - 6 * x[1] - 4 * x[2] + 2 * x[0] ** 2
                           + 2 * x[1] ** 2 + x[2] ** 2 + 2 * x[0] * x[1]
                           + 2 * x[0] * x[2]),
        lambda x: np.array([-8 + 4 * x[0] + 2 * x[1] + 2 * x[2],
                            -6 + 4 * x[1] + 2 * x[0], -4 + 2 * x[2]
                            + 2 * x[0]]),
        [0.5, 0.5, 0.5], [(0.0, None)] * 3,
        constraints=[_ineq(lambda x: 3 - x[0] - x[1] - 2 * x[2],
                           lambda x: np.array([[-1.0, -1.0, -2.0]]))],
        fstar=1.0 / 9.0)
    add("HS48", lambda x: (x[0] - 1) ** 2 + (x[1] - x[2]) ** 2
        + (x[3] - x[4]) ** 2,
        lambda x: np.array([2 * (x[0] - 1), 2 * (x[1] - x[2]),
                            -2 * (x[1] - x[2]), 2 * (x[3] - x[4]),
                            -2 * (x[3] - x[4])]),
        [3.0, 5.0, -3.0, 2.0, -2.0],
        constraints=[_eq(lambda x: np.array([x.sum() - 5.0,
                                             x[2] - 2 * (x[3] + x[4]) + 3.0]),
                         lambda x: np.array([[1.0, 1, 1, 1, 1],
                                             [0.0, 0, 1, -2, -2]]))],
        fstar=0.0)
    add("HS71", lambda x: x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2],
        lambda x: np.array([x[3] * (2 * x[0] + x[1] + x[2]), x[0] * x[3],
                            x[0] * x[3] + 1.0, x[0] * (x[0] + x[1] + x[2])]),
        [1.0, 5.0, 5.0, 1.0], [(1.0, 5.0)] * 4,
        constraints=[
            _ineq(lambda x: x[0] * x[1] * x[2] * x[3] - 25.0,
                  lambda x: np.array([[x[1] * x[2] * x[3], x[0] * x[2] * x[3],
                                       x[0] * x[1] * x[3],
                                       x[0] * x[1] * x[2]]])),
            _eq(lambda x: x @ x - 40.0, lambda x: 2 * x.reshape(1, 4))],
        fstar=17.0140173)
    # Rosenbrock with a disc and a linear constraint (SciPy's tutorial-like)
    add("ROSEN-DISC", _rosen, _rosen_grad, [0.5, 0.0], [(0, 1), (-0.5, 2.0)],
        constraints=[
            _ineq(lambda x: 1 - x[0] - 2 * x[1],
                  lambda x: np.array([[-1.0, -2.0]])),
            _ineq(lambda x: 1 - x[0] ** 2 - x[1],
                  lambda x: np.array([[-2 * x[0], -1.0]])),
            _eq(lambda x: 2 * x[0] + x[1] - 1,
                lambda x: np.array([[2.0, 1.0]]))],
        fstar=0.3427175)
    # degenerate: a duplicated (rank-deficient) equality constraint
    add("DUP-EQ", lambda x: x[0] ** 2 + 2 * x[1] ** 2 + x[2] ** 2,
        lambda x: np.array([2 * x[0], 4 * x[1], 2 * x[2]]), [1.0, 1.0, 1.0],
        constraints=[_eq(lambda x: x[0] + x[1] + x[2] - 1.0,
                         lambda x: np.array([[1.0, 1.0, 1.0]])),
                     _eq(lambda x: x[0] + x[1] + x[2] - 1.0,
                         lambda x: np.array([[1.0, 1.0, 1.0]]))],
        unique=False)
    # degenerate: an active constraint at the unconstrained minimum
    add("DEGEN-ACTIVE", lambda x: (x[0] - 1) ** 2 + (x[1] - 1) ** 2,
        lambda x: np.array([2 * (x[0] - 1), 2 * (x[1] - 1)]), [0.0, 0.0],
        constraints=[_ineq(lambda x: 2.0 - x[0] - x[1],
                           lambda x: np.array([[-1.0, -1.0]]))],
        fstar=0.0)
    # infeasible: x0 >= 1 and x0 <= 0
    add("INFEASIBLE", lambda x: x[0] ** 2 + x[1] ** 2,
        lambda x: np.array([2 * x[0], 2 * x[1]]), [0.5, 0.5],
        constraints=[_ineq(lambda x: x[0] - 1.0,
                           lambda x: np.array([[1.0, 0.0]])),
                     _ineq(lambda x: -x[0],
                           lambda x: np.array([[-1.0, 0.0]]))],
        unique=False, feasible=False)
    P.append(dense_qp(50))
    P.append(dense_qp(200, seed=1))
    return P


PROBLEMS = _catalogue()
_BY_NAME = {p["name"]: p for p in PROBLEMS}


def problem(name):
    """The catalogue entry called ``name``."""
    return _BY_NAME[name]


def without_jacobians(constraints):
    """The constraint dicts without their ``jac`` entries."""
    return [{k: v for k, v in c.items() if k != "jac"} for c in constraints]


def pool_objective(x):
    """A module-level (picklable) objective for tests of ``workers=int``."""
    return (x[0] - 1.0) ** 2 + (x[1] - 2.5) ** 2 + x[2] ** 2


def pool_constraint(x):
    """A module-level (picklable) inequality constraint (``>= 0``)."""
    return np.array([x[0] - 2.0 * x[1] + 2.0, 3.0 - x[0] - x[2]])
