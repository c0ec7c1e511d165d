"""Bounds and constraint normalisation for SLSQP (fastopt._constraints),
checked against SciPy's own conversion rules."""
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import (Bounds, LinearConstraint, NonlinearConstraint,
                            OptimizeWarning)
from scipy.optimize._minimize import standardize_constraints
from scipy.sparse import csr_array

from fastopt._constraints import normalize_bounds, normalize_constraints


def _scipy_rows(constraints, x):
    # SciPy's converted constraint values at x, eq rows first then ineq
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cons = standardize_constraints(constraints, x, "slsqp")
    eq = [np.atleast_1d(c["fun"](x, *c.get("args", ()))) for c in cons
          if c["type"].lower() == "eq"]
    ineq = [np.atleast_1d(c["fun"](x, *c.get("args", ()))) for c in cons
            if c["type"].lower() == "ineq"]
    return np.concatenate(eq + ineq) if eq + ineq else np.zeros(0)


def _our_rows(constraints, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        blocks, values = normalize_constraints(constraints, x)
    return np.concatenate(values) if values else np.zeros(0), blocks


def test_bounds_pairs_none_and_infinities():
    lb, ub = normalize_bounds([(None, 1), (-np.inf, None), (2, 2)], 3, True)
    assert_array_equal(lb, [-np.inf, -np.inf, 2.0])
    assert_array_equal(ub, [1.0, np.inf, 2.0])
    assert lb.dtype == np.float64 and lb.flags.c_contiguous


def test_bounds_objects_and_broadcasting():
    lb, ub = normalize_bounds(Bounds(0.0, [1.0, 2.0]), 2, False)
    assert_array_equal(lb, [0.0, 0.0])
    assert_array_equal(ub, [1.0, 2.0])
    lb, ub = normalize_bounds([(0, 1)], 3, True)
    assert_array_equal(ub, [1.0, 1.0, 1.0])
    lb, ub = normalize_bounds(None, 2, True)
    assert np.isinf(lb).all() and np.isinf(ub).all()
    lb, ub = normalize_bounds([], 2, False)
    assert np.isinf(lb).all()
    lb, ub = normalize_bounds([(np.array([0.5]), np.array(1.5))], 1, False)
    assert_array_equal(lb, [0.5])


@pytest.mark.parametrize("bounds,from_minimize,error,match", [
    ([(1, 0)], True, ValueError, "An upper bound is less"),
    ([(0, 1)] * 3, True, ValueError, "number of bounds is not compatible"),
    ([(0, 1)] * 3, False, IndexError, "SLSQP Error: the length of bounds"),
    ([(1, 0), (0, 1)], False, ValueError,
     r"SLSQP Error: lb > ub in bounds True, False\."),
    ([(np.nan, 1), (0, 1)], True, ValueError, "NaN"),
    ([(0, 1, 2), (0, 1)], True, ValueError, "pair"),
    (3.0, True, TypeError, "bounds"),
])
def test_bounds_errors(bounds, from_minimize, error, match):
    with pytest.raises(error, match=match):
        normalize_bounds(bounds, 2, from_minimize)


def test_rows_and_order_match_scipy():
    x = np.array([0.3, -0.7, 1.1])
    nl = NonlinearConstraint(lambda x: np.array([x[0] * x[1], x[2] ** 2,
                                                 x.sum()]),
                             [0.0, -np.inf, 1.0], [0.0, 2.0, 3.0])
    lin = LinearConstraint(csr_array(np.array([[1.0, 2.0, 0.0],
                                               [0.0, 1.0, -1.0]])),
                           [-1.0, 0.5], [-1.0, np.inf])
    dicts = [{"type": "ineq", "fun": lambda x, a: x[0] - a, "args": (0.1,)},
             {"type": "EQ", "fun": lambda x: np.array([x[1] + 1.0])}]
    cons = [nl, dicts[0], lin, dicts[1]]
    ours, blocks = _our_rows(cons, x)
    assert_allclose(ours, _scipy_rows(cons, x), rtol=1e-15)
    kinds = [b.kind for b in blocks]
    assert kinds == sorted(kinds)          # 'eq' blocks before 'ineq'
    assert [b.size for b in blocks] == [1, 1, 1, 1, 3, 1]


def test_jacobian_rows_follow_the_values():
    x = np.array([0.3, -0.7])
    nl = NonlinearConstraint(lambda x: np.array([x[0] ** 2, x[1]]),
                             [1.0, -1.0], [1.0, 2.0],
                             jac=lambda x: np.array([[2 * x[0], 0.0],
                                                     [0.0, 1.0]]))
    with pytest.warns(OptimizeWarning, match="Equality and inequality"):
        blocks, _ = normalize_constraints(nl, x)
    eq, ineq = blocks
    J = eq.raw_jacobian(x, 2)
    assert_allclose(eq.transform_jacobian(J), [[0.6, 0.0]])
    assert_allclose(ineq.transform_jacobian(J), [[0.0, 1.0], [0.0, -1.0]])
    assert_allclose(ineq.transform(ineq.raw_value(x)), [0.3, 2.7])


def test_warnings_match_scipy_text():
    x = np.array([1.0, 2.0])
    with pytest.warns(OptimizeWarning) as ours:
        normalize_constraints(
            NonlinearConstraint(lambda x: x[0], 0.0, 1.0,
                                finite_diff_rel_step=1e-3), x)
    assert str(ours[0].message) == (
        "Constraint options `finite_diff_jac_sparsity`, "
        "`finite_diff_rel_step`, `keep_feasible`, and `hess`are ignored by "
        "this method.")
    with pytest.warns(OptimizeWarning,
                      match="unbounded above and below. Such constraints "
                            "are ignored."):
        blocks, values = normalize_constraints(
            LinearConstraint([[1.0, 0.0], [0.0, 1.0]], [-np.inf, 0.0],
                             [np.inf, 1.0]), x)
    assert [b.size for b in blocks] == [2]


def test_single_and_empty_inputs():
    x = np.array([1.0])
    assert normalize_constraints(None, x) == ([], [])
    assert normalize_constraints((), x) == ([], [])
    blocks, values = normalize_constraints({"type": "eq",
                                            "fun": lambda x: x[0]}, x)
    assert len(blocks) == 1 and values[0].tolist() == [1.0]
    with pytest.raises(TypeError, match="constraints"):
        normalize_constraints(5, x)
    with pytest.raises(ValueError, match="shape"):
        normalize_constraints(LinearConstraint([[1.0, 2.0]], 0, 1), x)
    with pytest.raises(ValueError, match="do not match"):
        normalize_constraints(NonlinearConstraint(lambda x: x, [0, 0], 1), x)
