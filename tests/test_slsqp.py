"""SLSQP: fastopt against scipy.optimize.minimize(method='SLSQP').

The catalogue (tests/slsqp_problems.py) is solved by both with analytic and
with numerical derivatives: same success flag, the same x (where the
minimiser is unique) and fun within the stated tolerances, and, where the
solve succeeds, multipliers (constraint and bound) that satisfy the KKT
conditions.  Then the contract: options, warnings, errors, statuses,
callbacks, fixed variables, output, fmin_slsqp.
"""
import io
import contextlib
import warnings

import numpy as np
import pytest
import scipy.optimize as so
from numpy.testing import assert_allclose
from scipy.optimize import (Bounds, LinearConstraint, NonlinearConstraint,
                            OptimizeWarning)
from scipy.sparse import csr_array

from fastopt._minimize import minimize
from fastopt._slsqp import fmin_slsqp, minimize_slsqp
from fastopt._kernels import slsqp as K
from slsqp_problems import PROBLEMS, problem, without_jacobians

NAMES = [p["name"] for p in PROBLEMS]


def scipy_minimize(*args, **kwargs):
    # SciPy warns about its own clipping on some problems; not under test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return so.minimize(*args, **kwargs)


def _kwargs(p, kind):
    if kind == "analytic":
        return {"jac": p["grad"], "constraints": p["constraints"]}
    return {"constraints": without_jacobians(p["constraints"])}


def _constraint_matrix(p, x):
    rows = [np.atleast_2d(c["jac"](x)) for c in p["constraints"]
            if c["type"] == "eq"]
    rows += [np.atleast_2d(c["jac"](x)) for c in p["constraints"]
             if c["type"] == "ineq"]
    return np.vstack(rows) if rows else np.zeros((0, x.size))


@pytest.mark.parametrize("kind", ["analytic", "numerical"])
@pytest.mark.parametrize("name", NAMES)
def test_catalogue_matches_scipy(name, kind):
    p = problem(name)
    kw = _kwargs(p, kind)
    ours = minimize(p["fun"], p["x0"], method="SLSQP", bounds=p["bounds"],
                    **kw)
    theirs = scipy_minimize(p["fun"], p["x0"], method="SLSQP",
                            bounds=p["bounds"], **kw)
    assert ours.success == theirs.success, (ours.message, theirs.message)
    if not theirs.success:
        assert ours.status != 0
        return
    # fun within 1e-6 (relative to max(1, |f|)); x within 1e-5 (analytic)
    # or 1e-4 (finite differences) where the minimiser is unique
    assert abs(ours.fun - theirs.fun) <= 1e-6 * max(1.0, abs(theirs.fun))
    if p["unique"]:
        tol = 1e-5 if kind == "analytic" else 1e-4
        assert_allclose(ours.x, theirs.x, rtol=tol, atol=tol)
    if p["fstar"] is not None:
        assert abs(ours.fun - p["fstar"]) <= 1e-4 * max(1.0, abs(p["fstar"]))
    # KKT: g - C' lambda - mu_lower + mu_upper ~ 0, with the gradient and
    # constraint Jacobian at the solution; ineq and bound multipliers >= 0
    g = p["grad"](ours.x)
    C = _constraint_matrix(p, ours.x)
    lam = ours.multipliers
    bm = ours.bound_multipliers
    resid = g - C.T @ lam - bm[0] + bm[1]
    assert np.linalg.norm(resid) <= 1e-3 * max(1.0, np.linalg.norm(g))
    meq = sum(np.atleast_1d(c["fun"](p["x0"])).size
              for c in p["constraints"] if c["type"] == "eq")
    assert np.all(lam[meq:] >= -1e-8)
    assert np.all(bm >= 0.0)
    assert ours.maxcv <= 1e-5
    assert_allclose(ours.multipliers, theirs.multipliers, rtol=1e-3,
                    atol=1e-4 if kind == "analytic" else 1e-3)


def test_active_bound_has_its_multiplier():
    # HS21: x0 = 2 is at its lower bound with multiplier 0.04 - 10*lambda
    p = problem("HS21")
    res = minimize(p["fun"], p["x0"], jac=p["grad"], bounds=p["bounds"],
                   constraints=p["constraints"])
    assert res.success
    g = p["grad"](res.x)
    assert res.bound_multipliers.shape == (2, 2)
    assert_allclose(res.bound_multipliers[0, 0],
                    g[0] - 10 * res.multipliers[0], atol=1e-8)
    assert res.bound_multipliers[0, 0] > 0.01


def test_every_evaluation_is_inside_the_bounds():
    p = problem("HS71")
    lb, ub = 1.0, 5.0
    seen = []

    def fun(x):
        seen.append(x.copy())
        return p["fun"](x)

    cons = []
    for c in without_jacobians(p["constraints"]):
        def cf(x, f=c["fun"]):
            seen.append(x.copy())
            return f(x)
        cons.append({"type": c["type"], "fun": cf})
    res = minimize(fun, [0.0, 6.0, 6.0, 0.0], bounds=[(lb, ub)] * 4,
                   constraints=cons, options={"finite_diff_rel_step": None})
    assert res.success
    pts = np.array(seen)
    assert pts.min() >= lb and pts.max() <= ub


@pytest.mark.parametrize("jac", [True, "2-point", "3-point", "cs"])
def test_jac_kinds_match_scipy(jac):
    p = problem("HS71")
    if jac is True:
        def fun(x):
            return p["fun"](x), p["grad"](x)
    else:
        fun = p["fun"]
    cons = without_jacobians(p["constraints"])
    ours = minimize(fun, p["x0"], jac=jac, bounds=p["bounds"],
                    constraints=cons)
    theirs = scipy_minimize(fun, p["x0"], jac=jac, method="SLSQP",
                            bounds=p["bounds"], constraints=cons)
    assert ours.success and theirs.success
    assert_allclose(ours.x, theirs.x, rtol=1e-6)
    assert (ours.nit, ours.nfev, ours.njev) == (theirs.nit, theirs.nfev,
                                                theirs.njev)


def test_counts_match_scipy_on_a_smooth_problem():
    p = problem("HS35")
    for kw in (_kwargs(p, "analytic"), _kwargs(p, "numerical")):
        ours = minimize(p["fun"], p["x0"], bounds=p["bounds"], **kw)
        theirs = scipy_minimize(p["fun"], p["x0"], method="SLSQP",
                                bounds=p["bounds"], **kw)
        assert (ours.nit, ours.nfev, ours.njev) == (theirs.nit, theirs.nfev,
                                                    theirs.njev)
        # finite differences and QP round-off differ in the last digits
        assert_allclose(ours.jac, theirs.jac, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------- statuses

def test_maxiter_zero_is_status_9():
    p = problem("HS71")
    res = minimize(p["fun"], p["x0"], bounds=p["bounds"],
                   constraints=p["constraints"], options={"maxiter": 0})
    assert (res.status, res.nit, res.nfev, res.success) == (9, 0, 5, False)
    assert res.message == "Iteration limit reached"


def test_more_equalities_than_variables_is_status_2():
    cons = [{"type": "eq", "fun": lambda x, k=k: x[0] + k * x[1] - 1.0}
            for k in range(3)]
    res = minimize(lambda x: x @ x, [1.0, 1.0], constraints=cons)
    theirs = scipy_minimize(lambda x: x @ x, [1.0, 1.0], method="SLSQP",
                            constraints=cons)
    assert res.status == theirs.status == 2
    assert res.message == ("More equality constraints than independent "
                           "variables")
    assert not res.success


def test_nan_objective_is_status_10():
    res = minimize(lambda x: np.nan, [1.0, 2.0])
    assert res.status == 10 and not res.success
    assert "non-finite" in res.message


def test_nan_gradient_is_status_10():
    res = minimize(lambda x: x @ x, [1.0, 2.0],
                   jac=lambda x: np.array([np.nan, 1.0]))
    assert res.status == 10 and not res.success


def test_nan_at_a_trial_point_shortens_the_step():
    # f is nan for x > 2; the first trial step (to x = 4) lands there
    def fun(x):
        return np.nan if x[0] > 2.0 else (x[0] - 1.5) ** 2
    res = minimize(fun, [0.0], jac=lambda x: np.array([2 * (x[0] - 1.5)]),
                   options={"maxiter": 50})
    assert np.isfinite(res.fun)
    assert res.success
    assert_allclose(res.x, [1.5], atol=1e-4)


def test_infeasible_problem_is_not_a_success():
    p = problem("INFEASIBLE")
    res = minimize(p["fun"], p["x0"], constraints=p["constraints"])
    assert not res.success
    assert res.maxcv > 0.4


def test_stop_iteration_is_status_99():
    calls = []

    def callback(xk):
        calls.append(xk)
        if len(calls) == 2:
            raise StopIteration

    p = problem("HS71")
    res = minimize(p["fun"], p["x0"], bounds=p["bounds"],
                   constraints=p["constraints"], callback=callback)
    assert res.status == 99 and not res.success
    assert res.message == "`callback` raised `StopIteration`."
    assert len(calls) == 2 and res.nit == 2


def test_callback_forms_match_scipy():
    p = problem("HS35")
    ours_x, theirs_x, ours_r = [], [], []
    minimize(p["fun"], p["x0"], bounds=p["bounds"],
             constraints=p["constraints"], callback=ours_x.append)
    scipy_minimize(p["fun"], p["x0"], method="SLSQP", bounds=p["bounds"],
                   constraints=p["constraints"], callback=theirs_x.append)
    assert_allclose(np.array(ours_x), np.array(theirs_x), rtol=1e-7,
                    atol=1e-12)

    def cb(intermediate_result):
        ours_r.append(intermediate_result)
    res = minimize(p["fun"], p["x0"], bounds=p["bounds"],
                   constraints=p["constraints"], callback=cb)
    assert len(ours_r) == res.nit
    assert_allclose(ours_r[-1].x, res.x)
    assert ours_r[-1].fun == res.fun


# -------------------------------------------------------------- variables

def test_fixed_variables_match_scipy():
    def fun(x):
        return (x[0] - 1) ** 2 + (x[1] - 2) ** 2 + (x[2] + 1) ** 2
    cons = [{"type": "ineq", "fun": lambda x: 1.0 - x[0] - x[2]}]
    bounds = [(None, None), (0.5, 0.5), (-3, 3)]
    ours = minimize(fun, [0.0, 0.0, 0.0], bounds=bounds, constraints=cons)
    theirs = scipy_minimize(fun, [0.0, 0.0, 0.0], method="SLSQP",
                            bounds=bounds, constraints=cons)
    assert ours.success and theirs.success
    assert_allclose(ours.x, theirs.x, atol=1e-8)
    assert ours.x[1] == 0.5
    assert np.isnan(ours.jac[1]) and np.isnan(theirs.jac[1])
    assert np.isnan(ours.bound_multipliers[:, 1]).all()


def test_all_fixed_variables_match_scipy():
    bounds = [(1.0, 1.0), (2.0, 2.0)]
    fun = lambda x: x @ x  # noqa: E731
    for cons in ((), [{"type": "ineq", "fun": lambda x: x[0] - 3.0}]):
        ours = minimize(fun, [0.0, 0.0], bounds=bounds, constraints=cons)
        theirs = scipy_minimize(fun, [0.0, 0.0], method="SLSQP",
                                bounds=bounds, constraints=cons)
        assert ours.message == theirs.message
        assert ours.success == theirs.success
        assert ours.fun == theirs.fun and ours.nfev == theirs.nfev == 1
        assert_allclose(ours.x, theirs.x)


def test_float32_x0_works():
    # SciPy raises in its compiled core for float32 x0 without bounds (Q4)
    p = problem("HS35")
    x32 = p["x0"].astype(np.float32)
    ours = minimize(p["fun"], x32, constraints=p["constraints"])
    ref = minimize(p["fun"], p["x0"], constraints=p["constraints"])
    assert ours.success
    assert ours.x.dtype == np.float64
    assert_allclose(ours.x, ref.x)


def test_integer_x0_and_scalar_args():
    res = minimize(lambda x, a: (x[0] - a) ** 2, [0], args=3.0)
    assert res.success
    assert_allclose(res.x, [3.0], atol=1e-6)


# ------------------------------------------------------------ constraints

def test_new_style_constraints_order_and_warnings_match_scipy():
    def fun(x):
        return (x[0] - 2) ** 2 + (x[1] - 1) ** 2 + x[2] ** 2
    nl = NonlinearConstraint(lambda x: np.array([x[0] ** 2 + x[1] ** 2,
                                                 x[0] + x[2]]),
                             [-np.inf, 1.0], [2.0, 1.0])
    lin = LinearConstraint(csr_array(np.array([[1.0, -1.0, 0.0]])), -0.5, 0.5)
    d = {"type": "eq", "fun": lambda x: x[2] - 0.1}
    cons = [nl, d, lin]
    with pytest.warns(OptimizeWarning, match="Equality and inequality"):
        ours = minimize(fun, [0.5, 0.5, 0.5], constraints=cons)
    theirs = scipy_minimize(fun, [0.5, 0.5, 0.5], method="SLSQP",
                            constraints=cons)
    assert ours.success and theirs.success
    assert_allclose(ours.x, theirs.x, atol=1e-7)
    assert_allclose(ours.multipliers, theirs.multipliers, atol=1e-6)


def test_linear_constraint_dense_matches_scipy():
    lin = LinearConstraint([[1.0, 2.0], [3.0, -1.0]], [1.0, -np.inf],
                           [np.inf, 2.0])
    fun = lambda x: (x[0] - 3) ** 2 + (x[1] + 1) ** 2  # noqa: E731
    ours = minimize(fun, [0.0, 0.0], constraints=lin)
    theirs = scipy_minimize(fun, [0.0, 0.0], method="SLSQP", constraints=lin)
    assert_allclose(ours.x, theirs.x, atol=1e-8)
    assert_allclose(ours.multipliers, theirs.multipliers, atol=1e-7)


def test_constraint_option_warnings():
    fun = lambda x: x @ x  # noqa: E731
    nl = NonlinearConstraint(lambda x: x[0], 1.0, np.inf, keep_feasible=True)
    with pytest.warns(OptimizeWarning, match="`hess`are ignored"):
        minimize(fun, [2.0, 1.0], constraints=nl)
    lin = LinearConstraint([[1.0, 0.0]], 1.0, np.inf, keep_feasible=True)
    with pytest.warns(OptimizeWarning,
                      match="Constraint option `keep_feasible` is ignored"):
        minimize(fun, [2.0, 1.0], constraints=lin)
    unb = LinearConstraint([[1.0, 0.0], [0.0, 1.0]], [1.0, -np.inf],
                           [np.inf, np.inf])
    with pytest.warns(OptimizeWarning, match="unbounded above and below"):
        res = minimize(fun, [2.0, 1.0], constraints=unb)
    assert_allclose(res.x, [1.0, 0.0], atol=1e-6)


@pytest.mark.parametrize("con,error,match", [
    ({"fun": lambda x: x[0]}, KeyError, "Constraint 0 has no type defined."),
    ([1.0], TypeError, "Constraints must be defined using a dictionary."),
    ({"type": 1, "fun": lambda x: x[0]}, TypeError,
     "Constraint's type must be a string."),
    ({"type": "eqq", "fun": lambda x: x[0]}, ValueError,
     "Unknown constraint type 'eqq'."),
    ({"type": "eq"}, ValueError, "Constraint 0 has no function defined."),
])
def test_constraint_errors_match_scipy(con, error, match):
    cons = con if isinstance(con, dict) else con
    with pytest.raises(error, match=match):
        minimize(lambda x: x @ x, [1.0, 1.0], constraints=cons)
    with pytest.raises(error, match=match):
        scipy_minimize(lambda x: x @ x, [1.0, 1.0], method="SLSQP",
                       constraints=cons)


def test_bad_shapes_name_the_argument():
    fun = lambda x: x @ x  # noqa: E731
    with pytest.raises(ValueError, match="scalar value"):
        minimize(lambda x: x, [1.0, 2.0])
    with pytest.raises(ValueError, match="gradient"):
        minimize(fun, [1.0, 2.0], jac=lambda x: np.ones(3))
    with pytest.raises(ValueError, match="Jacobian of constraint 0"):
        minimize(fun, [1.0, 2.0],
                 constraints={"type": "ineq", "fun": lambda x: x[0],
                              "jac": lambda x: np.ones((2, 2))})
    with pytest.raises(ValueError, match="constraint 0"):
        minimize(fun, [1.0, 2.0],
                 constraints={"type": "ineq",
                              "fun": lambda x: np.ones((2, 2))})
    with pytest.raises(ValueError, match="'x0' must only have one dimension."):
        minimize(fun, [[1.0, 2.0]])
    with pytest.raises(ValueError, match="finite"):
        minimize(fun, [np.nan, 2.0])


def test_bounds_errors_match_scipy():
    fun = lambda x: x @ x  # noqa: E731
    for call in (minimize, scipy_minimize):
        with pytest.raises(ValueError, match="An upper bound is less"):
            call(fun, [1.0, 2.0], method="SLSQP", bounds=[(1, 0), (0, 1)])
        with pytest.raises(ValueError, match="number of bounds"):
            call(fun, [1.0, 2.0], method="SLSQP", bounds=[(0, 1)] * 3)
    with pytest.raises(IndexError, match="length of bounds"):
        minimize_slsqp(fun, [1.0, 2.0], bounds=[(0, 1)] * 3)
    with pytest.raises(ValueError,
                       match=r"lb > ub in bounds True, False\."):
        minimize_slsqp(fun, [1.0, 2.0], bounds=[(1, 0), (0, 1)])
    # one pair broadcasts through minimize; Bounds objects are accepted
    res = minimize(fun, [1.0, 2.0], bounds=[(0.5, 3.0)])
    assert_allclose(res.x, [0.5, 0.5])
    res = minimize(fun, [1.0, 2.0], bounds=Bounds([0.5, -1.0], [3.0, 3.0]))
    assert_allclose(res.x, [0.5, 0.0], atol=1e-8)


def test_user_exceptions_propagate():
    class Boom(Exception):
        pass

    def fun(x):
        raise Boom("from the user")
    with pytest.raises(Boom, match="from the user"):
        minimize(fun, [1.0])

    def con(x):
        raise Boom("constraint")
    with pytest.raises(Boom, match="constraint"):
        minimize(lambda x: x @ x, [1.0], constraints={"type": "eq",
                                                       "fun": con})


# ------------------------------------------------------------ the options

def test_unknown_options_and_method_errors():
    fun = lambda x: x @ x  # noqa: E731
    with pytest.warns(OptimizeWarning, match="Unknown solver options: foo"):
        minimize(fun, [1.0], options={"foo": 1})
    with pytest.warns(OptimizeWarning, match="Unknown solver options: bar"):
        minimize_slsqp(fun, [1.0], bar=2)
    with pytest.raises(ValueError, match="SLSQP"):
        minimize(fun, [1.0], method="BFGS")
    with pytest.warns(RuntimeWarning, match="does not use Hessian"):
        minimize(fun, [1.0], method="slsqp", hess=lambda x: np.eye(1))
    with pytest.warns(RuntimeWarning, match="return_all"), \
            pytest.warns(OptimizeWarning, match="return_all"):
        minimize(fun, [1.0], options={"return_all": True})


def test_tol_sets_ftol():
    p = problem("HS1")
    a = minimize(p["fun"], p["x0"], bounds=p["bounds"], tol=1e-10)
    b = minimize(p["fun"], p["x0"], bounds=p["bounds"],
                 options={"ftol": 1e-10})
    c = scipy_minimize(p["fun"], p["x0"], method="SLSQP", bounds=p["bounds"],
                       tol=1e-10)
    assert a.nit == b.nit == c.nit
    assert_allclose(a.x, c.x, rtol=1e-8)


def test_disp_output_matches_scipy():
    p = problem("HS35")
    opts = {"disp": True, "iprint": 2}
    ours, theirs = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(ours):
        minimize(p["fun"], p["x0"], bounds=p["bounds"],
                 constraints=p["constraints"], jac=p["grad"], options=opts)
    with contextlib.redirect_stdout(theirs):
        scipy_minimize(p["fun"], p["x0"], method="SLSQP", bounds=p["bounds"],
                       constraints=p["constraints"], jac=p["grad"],
                       options=opts)
    # identical text except round-off in the printed function values
    a, b = ours.getvalue().splitlines(), theirs.getvalue().splitlines()
    assert len(a) == len(b)
    for la, lb in zip(a, b):
        if "Current function value" in la:
            assert la.split(":")[0] == lb.split(":")[0]
            assert_allclose(float(la.split(":")[1]), float(lb.split(":")[1]),
                            rtol=1e-10)
        else:
            assert la == lb
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        minimize(p["fun"], p["x0"], options={"iprint": 2})
    assert quiet.getvalue() == ""


def test_workers_serve_objective_and_constraints():
    p = problem("HS71")
    mapped = []

    def workers(f, iterable):
        items = list(iterable)
        mapped.append(len(items))
        return list(map(f, items))
    cons = without_jacobians(p["constraints"])
    ours = minimize(p["fun"], p["x0"], bounds=p["bounds"], constraints=cons,
                    options={"workers": workers})
    ref = minimize(p["fun"], p["x0"], bounds=p["bounds"], constraints=cons)
    assert_allclose(ours.x, ref.x, rtol=1e-12)
    # each gradient: the objective's and both constraints' differences
    assert len(mapped) >= 3 * ours.njev
    with pytest.raises(TypeError, match="workers"):
        minimize(p["fun"], p["x0"], options={"workers": "many"})


def test_fmin_slsqp_forms_match_scipy():
    def f(x, a):
        return (x[0] - a) ** 2 + (x[1] + 1) ** 2

    def fprime(x, a):
        return np.array([2 * (x[0] - a), 2 * (x[1] + 1)])

    def eq(x, a):
        return x[0] + x[1] - 1.0

    def ieq(x, a):
        return np.array([x[0] - 0.2 * a, 4.0 - x[0]])
    kw = dict(eqcons=[eq], f_ieqcons=ieq, fprime=fprime, args=(2.0,),
              bounds=[(-5, 5), (-5, 5)], iprint=0)
    x = fmin_slsqp(f, [0.0, 0.0], **kw)
    xs = so.fmin_slsqp(f, [0.0, 0.0], **kw)
    assert_allclose(x, xs, atol=1e-8)
    out = fmin_slsqp(f, [0.0, 0.0], full_output=True, **kw)
    outs = so.fmin_slsqp(f, [0.0, 0.0], full_output=True, **kw)
    assert len(out) == 5
    assert_allclose(out[1], outs[1])
    assert out[2:] == outs[2:]
    out = fmin_slsqp(f, [0.0, 0.0], ieqcons=[lambda x, a: x[0] - a - 1],
                     args=(2.0,), iprint=0, full_output=True)
    outs = so.fmin_slsqp(f, [0.0, 0.0], ieqcons=[lambda x, a: x[0] - a - 1],
                         args=(2.0,), iprint=0, full_output=True)
    assert_allclose(out[0], outs[0], atol=1e-7)
    assert out[3] == outs[3] == 0


# ------------------------------------------------------------- the kernel

def test_kernel_reverse_communication_contract():
    # min (x0-3)^2 + (x1-3)^2, x in [0, 1]^2, x0 + x1 <= 1.5
    n, m, meq = 2, 1, 0
    nrw, niw = K.slsqp_work_sizes(n, m, meq)
    rw = np.zeros(nrw)
    iw = np.zeros(niw, dtype=np.int64)
    K.slsqp_init(rw, iw, n, m, meq, 1e-8, 50)
    x = np.array([0.2, 0.9])
    xl = np.zeros(2)
    xu = np.ones(2)
    mult = np.zeros(m + 2 * n)

    def values(x):
        return ((x - 3) @ (x - 3), 2 * (x - 3),
                np.array([[-1.0, -1.0]]), np.array([1.5 - x.sum()]))
    f, g, C, d = values(x)
    seen_iters = []
    while True:
        mode = K.slsqp_iterate(rw, iw, f, g, C, d, x, xl, xu, mult)
        assert np.all(x >= xl) and np.all(x <= xu)
        seen_iters.append(int(iw[K.I_ITER]))
        if mode == K.EVALUATE_F:
            f, _, _, d = values(x)
        elif mode == K.EVALUATE_G:
            _, g, C, _ = values(x)
        else:
            break
    assert mode == 0
    assert_allclose(x, [0.75, 0.75], atol=1e-6)
    assert seen_iters == sorted(seen_iters)
    # KKT with the kernel's multipliers: g = C' lam + mu_l - mu_u
    assert_allclose(g, C.T @ mult[:m] + mult[m:m + n] - mult[m + n:],
                    atol=1e-5)


# -------------------------------------------------------- the compiled path

from numba import njit  # noqa: E402

from fastopt._kernels import slsqp_compiled as KC  # noqa: E402


@njit
def jit_hs71(x):
    return x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2]


@njit
def jit_hs71_grad(x):
    return np.array([x[3] * (2 * x[0] + x[1] + x[2]), x[0] * x[3],
                     x[0] * x[3] + 1.0, x[0] * (x[0] + x[1] + x[2])])


@njit
def jit_hs71_ineq(x):
    return np.array([x[0] * x[1] * x[2] * x[3] - 25.0])


@njit
def jit_hs71_ineq_jac(x):
    return np.array([[x[1] * x[2] * x[3], x[0] * x[2] * x[3],
                      x[0] * x[1] * x[3], x[0] * x[1] * x[2]]])


@njit
def jit_hs71_eq(x):
    return x @ x - 40.0


@pytest.mark.parametrize("jac", [None, "grad", "3-point"])
@pytest.mark.parametrize("cjac", [False, True])
def test_compiled_path_matches_python_path(jac, cjac):
    p = problem("HS71")
    grad = jit_hs71_grad if jac == "grad" else jac
    cons = [{"type": "ineq", "fun": jit_hs71_ineq},
            {"type": "eq", "fun": jit_hs71_eq}]
    if cjac:
        cons[0]["jac"] = jit_hs71_ineq_jac
    before = len(KC.slsqp_solve_at.signatures)
    ours = minimize(jit_hs71, p["x0"], jac=grad, bounds=p["bounds"],
                    constraints=cons)
    assert len(KC.slsqp_solve_at.signatures) >= max(before, 1)
    # the same problem through the Python path (plain Python callables)
    py_cons = [{"type": "ineq", "fun": jit_hs71_ineq.py_func},
               {"type": "eq", "fun": jit_hs71_eq.py_func}]
    if cjac:
        py_cons[0]["jac"] = jit_hs71_ineq_jac.py_func
    py_grad = jit_hs71_grad.py_func if jac == "grad" else jac
    python = minimize(jit_hs71.py_func, p["x0"], jac=py_grad,
                      bounds=p["bounds"], constraints=py_cons)
    assert ours.success and python.success
    assert_allclose(ours.x, python.x, rtol=1e-9)
    assert (ours.nit, ours.nfev, ours.njev) == (python.nit, python.nfev,
                                                python.njev)
    assert_allclose(ours.multipliers, python.multipliers, rtol=1e-6,
                    atol=1e-9)
    assert_allclose(ours.bound_multipliers, python.bound_multipliers,
                    rtol=1e-6, atol=1e-9)


def test_compiled_path_linear_and_nonlinear_constraints():
    @njit
    def fun(x):
        return (x[0] - 2) ** 2 + (x[1] - 1) ** 2 + x[2] ** 2

    @njit
    def nl(x):
        return np.array([x[0] ** 2 + x[1] ** 2, x[0] + x[2]])
    cons = [NonlinearConstraint(nl, [-np.inf, 1.0], [2.0, 1.0]),
            LinearConstraint([[1.0, -1.0, 0.0]], -0.5, 0.5)]
    with pytest.warns(OptimizeWarning, match="Equality and inequality"):
        ours = minimize(fun, [0.5, 0.5, 0.5], constraints=cons)
    theirs = scipy_minimize(fun.py_func, [0.5, 0.5, 0.5], method="SLSQP",
                            constraints=cons)
    assert ours.success and theirs.success
    assert_allclose(ours.x, theirs.x, atol=1e-7)
    assert_allclose(ours.multipliers, theirs.multipliers, atol=1e-6)


def test_new_njit_problem_does_not_recompile_the_solver():
    @njit
    def f1(x):
        return (x[0] - 1.0) ** 2 + (x[1] - 2.0) ** 4

    @njit
    def c1(x):
        return np.array([1.0 - x[0] - x[1]])
    minimize(f1, [0.0, 0.0], constraints={"type": "ineq", "fun": c1})
    before = len(KC.slsqp_solve_at.signatures)

    @njit
    def f2(x):
        return np.cos(x[0]) + x[1] ** 2

    @njit
    def c2(x):
        return np.array([x[0] - 0.5])
    res = minimize(f2, [0.0, 1.0], constraints={"type": "ineq", "fun": c2})
    assert res.success
    assert len(KC.slsqp_solve_at.signatures) == before


def test_compiled_path_errors_and_statuses():
    @njit
    def f(x):
        return x @ x

    @njit
    def bad_grad(x):
        return np.ones(3)
    with pytest.raises(ValueError, match="gradient"):
        minimize(f, [1.0, 2.0], jac=bad_grad)

    @njit
    def nan_f(x):
        return np.nan
    res = minimize(nan_f, [1.0, 2.0])
    assert res.status == 10 and not res.success

    @njit
    def raises(x):
        if x[0] > 0.5:
            raise ValueError("user error inside njit")
        return x @ x
    with pytest.raises(ValueError, match="user error inside njit"):
        minimize(raises, [1.0, 2.0])
    res = minimize(f, [1.0, 2.0], options={"maxiter": 0})
    assert (res.status, res.nit, res.nfev) == (9, 0, 3)


def test_compiled_path_with_args_and_jacobian_forms():
    @njit
    def f(x, a):
        return (x[0] - a) ** 2 + (x[1] + 1) ** 2

    @njit
    def c(x):
        return x[0] + x[1] - 1.0

    @njit
    def row(x):            # a 1-D Jacobian row (served by the Python path)
        return np.array([1.0, 1.0])

    @njit
    def matrix(x):
        return np.array([[1.0, 1.0]])
    theirs = scipy_minimize(f.py_func, [0.0, 0.0], args=(2.0,),
                            method="SLSQP",
                            constraints={"type": "eq", "fun": c.py_func})
    for cj in (row, matrix):
        ours = minimize(f, [0.0, 0.0], args=(2.0,),
                        constraints={"type": "eq", "fun": c, "jac": cj})
        assert ours.success
        assert_allclose(ours.x, theirs.x, atol=1e-7)
        assert ours.nfev == theirs.nfev


def test_compiled_path_with_many_extra_arguments():
    # five extra arguments: beyond the compiled calls spelt out one by one
    @njit
    def f(x, a, b, c, d, e):
        return (x[0] - a) ** 2 + (x[1] - b[0]) ** 2 + c * d * e

    @njit
    def grad(x, a, b, c, d, e):
        return np.array([2.0 * (x[0] - a), 2.0 * (x[1] - b[0])])

    @njit
    def g(x, a, b, c, d, e):
        return np.array([c - x[0] - x[1], x[0] - d * e])

    args = (2.0, np.array([3.0]), 1.0, 0.5, 0.25)
    cons = {"type": "ineq", "fun": g, "args": args}
    for jac in (None, grad):
        ours = minimize(f, [0.0, 0.0], args=args, jac=jac, constraints=cons)
        theirs = scipy_minimize(f, [0.0, 0.0], args=args, jac=jac,
                                method="SLSQP", constraints=cons)
        assert ours.success and theirs.success
        assert_allclose(ours.x, theirs.x, rtol=1e-8, atol=1e-10)
        assert (ours.nit, ours.nfev) == (theirs.nit, theirs.nfev)


@pytest.mark.parametrize("options", [{"eps": 1e-6},
                                     {"finite_diff_rel_step": 1e-5},
                                     {"maxiter": 3}, {"ftol": 1e-10}])
def test_options_match_scipy(options):
    p = problem("HS71")
    cons = without_jacobians(p["constraints"])
    jac = "2-point" if "finite_diff_rel_step" in options else None
    ours = minimize(p["fun"], p["x0"], jac=jac, bounds=p["bounds"],
                    constraints=cons, options=options)
    theirs = scipy_minimize(p["fun"], p["x0"], jac=jac, method="SLSQP",
                            bounds=p["bounds"], constraints=cons,
                            options=options)
    assert ours.status == theirs.status
    assert (ours.nit, ours.nfev, ours.njev) == (theirs.nit, theirs.nfev,
                                                theirs.njev)
    assert_allclose(ours.x, theirs.x, rtol=1e-6)


def test_minimize_slsqp_direct_call_matches_scipy():
    from scipy.optimize._slsqp_py import _minimize_slsqp
    p = problem("HS35")
    ours = minimize_slsqp(p["fun"], p["x0"], jac=p["grad"],
                          bounds=p["bounds"], constraints=p["constraints"])
    theirs = _minimize_slsqp(p["fun"], p["x0"], jac=p["grad"],
                             bounds=p["bounds"], constraints=p["constraints"])
    assert (ours.status, ours.nit, ours.nfev) == (theirs.status, theirs.nit,
                                                  theirs.nfev)
    assert_allclose(ours.x, theirs.x, rtol=1e-8)
    assert ours.message == theirs.message


@pytest.mark.parametrize("case", ["zero-gradient", "circle"])
def test_inconsistent_linearisation_matches_scipy(case):
    # the first subproblem is inconsistent: Kraft's augmented problem
    if case == "zero-gradient":
        def fun(x):
            return (x[0] - 2) ** 2 + (x[1] - 1) ** 2
        x0, bounds = [0.0, 1.0], None
        cons = [{"type": "ineq", "fun": lambda x: x[0] ** 2 - 1.0}]
    else:
        def fun(x):
            return x[0] + x[1]
        x0, bounds = [0.1, 0.1], [(-2, 2), (-2, 2)]
        cons = [{"type": "eq", "fun": lambda x: x[0] ** 2 + x[1] ** 2 - 1.0},
                {"type": "ineq", "fun": lambda x: x[0] - 0.9}]
    ours = minimize(fun, x0, bounds=bounds, constraints=cons)
    theirs = scipy_minimize(fun, x0, method="SLSQP", bounds=bounds,
                            constraints=cons)
    assert ours.success and theirs.success
    assert ours.nit == theirs.nit
    assert_allclose(ours.x, theirs.x, atol=1e-6)
    assert ours.maxcv < 1e-6


def test_workers_int_is_a_process_pool():
    # a real pool of two processes, with module-level (picklable) functions
    from slsqp_problems import pool_constraint, pool_objective
    cons = {"type": "ineq", "fun": pool_constraint}
    bounds = [(0.0, None)] * 3
    x0 = [2.0, 0.0, 1.0]
    ours = minimize(pool_objective, x0, bounds=bounds, constraints=cons,
                    options={"workers": 2})
    ref = minimize(pool_objective, x0, bounds=bounds, constraints=cons)
    theirs = scipy_minimize(pool_objective, x0, method="SLSQP",
                            bounds=bounds, constraints=cons)
    assert ours.success and theirs.success
    assert_allclose(ours.x, theirs.x, atol=1e-7)
    assert_allclose(ours.x, ref.x, rtol=1e-12)
    assert (ours.nfev, ours.njev) == (ref.nfev, ref.njev)


# ------------------------------------------------ the memoised problem

def _quad(x, a=1.0):
    return (x[0] - a) ** 2 + (x[1] - 2.0) ** 2


def _line_up(x):
    return 1.0 - x[0] - x[1]


def _line_down(x):
    return 0.5 - x[0] - x[1]


@pytest.mark.parametrize("compiled", [False, True])
def test_repeat_solves_follow_changed_inputs(compiled):
    wrap = njit if compiled else (lambda f: f)
    fun, up, down = wrap(_quad), wrap(_line_up), wrap(_line_down)

    def check(cons, bounds=None, args=()):
        ours = minimize(fun, [0.0, 0.0], args=args, bounds=bounds,
                        constraints=cons)
        py = [{k: (v.py_func if compiled and k == "fun" else v)
               for k, v in c.items()} for c in cons]
        theirs = scipy_minimize(_quad, [0.0, 0.0], args=args,
                                method="SLSQP", bounds=bounds,
                                constraints=py)
        assert ours.success == theirs.success
        assert_allclose(ours.x, theirs.x, atol=1e-7)
        assert ours.nfev == theirs.nfev
        return ours.x

    cons = [{"type": "ineq", "fun": up}]
    first = check(cons)
    assert_allclose(check(cons), first)          # a repeat: the same answer
    cons[0]["fun"] = down                        # the dict mutated
    assert not np.allclose(check(cons), first)
    cons[0]["type"] = "eq"
    check(cons)
    cons.append({"type": "ineq", "fun": up})     # the list mutated
    check(cons)
    bounds = [(None, None), (None, 0.1)]
    x = check(cons, bounds)
    bounds[1] = (None, 0.0)                      # the bounds list mutated
    assert not np.allclose(check(cons, bounds), x)
    cons = [{"type": "ineq", "fun": up}]
    x = check(cons, None, (1.0,))
    assert not np.allclose(check(cons, None, (-1.0,)), x)    # new args


def test_repeat_solves_never_serve_a_new_function_stale():
    # new closures each time (ids may be reused once one is collected)
    for a in (0.0, 1.0, 2.0, 3.0):
        def fun(x, a=a):
            return (x[0] - a) ** 2 + x[1] ** 2

        def con(x, a=a):
            return np.array([a + 1.0 - x[0]])
        cons = {"type": "ineq", "fun": con}
        res = minimize(fun, [0.5, 0.5], constraints=cons)
        theirs = scipy_minimize(fun, [0.5, 0.5], method="SLSQP",
                                constraints=cons)
        assert_allclose(res.x, theirs.x, atol=1e-7)
        assert_allclose(res.x, [a, 0.0], atol=1e-3)
        del fun, con


@pytest.mark.parametrize("compiled", [False, True])
def test_repeat_solves_follow_a_change_of_constraint_size(compiled):
    # the constraint's output size depends on an array mutated in place:
    # the memoised sizes are checked and the problem prepared afresh
    def con(x, mask):
        return x[mask] - 0.25
    if compiled:
        con = njit(con)
    mask = np.array([True, False])
    cons = {"type": "ineq", "fun": con, "args": (mask,)}
    obj = njit(_quad) if compiled else _quad

    def check(size):
        ours = minimize(obj, [0.0, 0.0], args=(-1.0,), constraints=cons)
        py = dict(cons, fun=con.py_func if compiled else con)
        theirs = scipy_minimize(_quad, [0.0, 0.0], args=(-1.0,),
                                method="SLSQP", constraints=py)
        assert ours.multipliers.shape == (size,)
        assert ours.success and theirs.success
        assert_allclose(ours.x, theirs.x, atol=1e-7)
        return ours.x
    assert_allclose(check(1), [0.25, 2.0], atol=1e-4)
    mask[1] = True
    assert_allclose(check(2), [0.25, 2.0], atol=1e-4)
    mask[0] = False
    assert_allclose(check(1), [-1.0, 2.0], atol=1e-4)


def test_repeat_solves_with_callback_jac_true_and_fixed_variables():
    fun, up = njit(_quad), njit(_line_up)
    cons = [{"type": "ineq", "fun": up}]
    first = minimize(fun, [0.0, 0.0], constraints=cons)      # compiled
    seen = []
    again = minimize(fun, [0.0, 0.0], constraints=cons,
                     callback=lambda xk: seen.append(xk))  # Python driver
    assert len(seen) == again.nit == first.nit
    assert_allclose(again.x, first.x, rtol=1e-12)

    def both(x):
        return _quad(x), np.array([2.0 * (x[0] - 1.0), 2.0 * (x[1] - 2.0)])
    bounds = [(None, None), (0.25, 0.25)]                    # x[1] fixed
    py = [{"type": "ineq", "fun": _line_up}]
    theirs = scipy_minimize(both, [0.0, 0.25], jac=True, bounds=bounds,
                            method="SLSQP", constraints=py)
    for _ in range(2):
        ours = minimize(both, [0.0, 0.25], jac=True, bounds=bounds,
                        constraints=py)
        assert_allclose(ours.x, theirs.x, atol=1e-7)
        assert ours.nfev == theirs.nfev


def _hs71_python(readonly=False, as_list=False):
    # HS71 with Python callables whose gradient may come back read-only
    # (the driver then calls the kernel through its dispatcher) or as a
    # list (converted).
    def grad(x):
        g = jit_hs71_grad.py_func(x)
        if readonly:
            g.flags.writeable = False
        return g.tolist() if as_list else g
    cons = [{"type": "ineq", "fun": jit_hs71_ineq.py_func,
             "jac": jit_hs71_ineq_jac.py_func},
            {"type": "eq", "fun": lambda x: np.array([x @ x - 40.0]),
             "jac": lambda x: 2.0 * x.reshape(1, 4)}]
    return grad, cons


def _same_run(a, b):
    # identical iterates: the same kernel on the same values
    assert (a.nit, a.nfev, a.njev, a.status) == (b.nit, b.nfev, b.njev,
                                                 b.status)
    for field in ("x", "jac", "multipliers", "bound_multipliers"):
        np.testing.assert_array_equal(a[field], b[field])
    assert a.fun == b.fun and a.maxcv == b.maxcv


@pytest.mark.parametrize("readonly, as_list", [(False, False),
                                                (True, False),
                                                (False, True)])
def test_analytic_fast_loop_matches_the_general_driver(readonly, as_list):
    # The analytic loop (kernel entry point, memoised work arrays) against
    # the general driver (chosen by a callback): identical results, and
    # x0 is left alone.
    p = problem("HS71")
    grad, cons = _hs71_python(readonly, as_list)
    x0 = np.array(p["x0"], dtype=float)
    keep = x0.copy()
    fast = [minimize(jit_hs71.py_func, x0, jac=grad, bounds=p["bounds"],
                     constraints=cons) for _ in range(2)]
    general = minimize(jit_hs71.py_func, x0, jac=grad, bounds=p["bounds"],
                       constraints=cons, callback=lambda xk: None)
    np.testing.assert_array_equal(x0, keep)
    assert fast[0].success
    _same_run(fast[0], general)
    _same_run(fast[1], general)
    # without bounds the starting point is copied, not clipped
    res = minimize(jit_hs71.py_func, x0, jac=grad, constraints=cons)
    assert res.x is not x0
    np.testing.assert_array_equal(x0, keep)
    _same_run(res, minimize(jit_hs71.py_func, x0, jac=grad,
                            constraints=cons, callback=lambda xk: None))


@pytest.mark.parametrize("compiled", [False, True])
def test_repeat_solves_reproduce_the_first_and_follow_settings(compiled):
    # A repeat solve (memoised problem, work arrays and, compiled, the
    # solver's entry point) reproduces the first exactly; a new maxiter or
    # ftol, or args of another type, is honoured.
    wrap = njit if compiled else (lambda f: f)
    fun, up = wrap(_quad), wrap(_line_up)

    def grad(x, a=1.0):
        return np.array([2.0 * (x[0] - a), 2.0 * (x[1] - 2.0)])
    if compiled:
        grad = njit(grad)
    cons = [{"type": "ineq", "fun": up}]
    first = minimize(fun, [0.0, 0.0], args=(0.5,), jac=grad,
                     constraints=cons)
    for _ in range(2):
        _same_run(minimize(fun, [0.0, 0.0], args=(0.5,), jac=grad,
                           constraints=cons), first)
    theirs = scipy_minimize(_quad, [0.0, 0.0], args=(0.5,), method="SLSQP",
                            jac=grad.py_func if compiled else grad,
                            constraints=[{"type": "ineq", "fun": _line_up}])
    assert_allclose(first.x, theirs.x, atol=1e-8)
    assert (first.nit, first.nfev) == (theirs.nit, theirs.nfev)
    short = minimize(fun, [0.0, 0.0], args=(0.5,), jac=grad,
                     constraints=cons, options={"maxiter": 1})
    assert (short.status, short.nit) == (9, 1)
    loose = minimize(fun, [0.0, 0.0], args=(0.5,), jac=grad,
                     constraints=cons, tol=1e-1)
    assert loose.nit <= first.nit
    # an int argument: other numba types, so another compiled solve
    other = minimize(fun, [0.0, 0.0], args=(-1,), jac=grad,
                     constraints=cons)
    theirs = scipy_minimize(_quad, [0.0, 0.0], args=(-1,), method="SLSQP",
                            jac=grad.py_func if compiled else grad,
                            constraints=[{"type": "ineq", "fun": _line_up}])
    assert_allclose(other.x, theirs.x, atol=1e-8)
    assert_allclose(other.x, [-1.0, 2.0], atol=1e-3)
    _same_run(minimize(fun, [0.0, 0.0], args=(0.5,), jac=grad,
                       constraints=cons), first)
