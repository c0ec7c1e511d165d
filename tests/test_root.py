"""root / fsolve / show_options: the dispatcher against SciPy's contract."""
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import optimize as sopt

from numba import njit

from fastopt import compiled, fsolve, root, show_options


def docs_system(x):
    return np.array([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
                     0.5 * (x[1] - x[0]) ** 3 + x[1]])


def docs_jacobian(x):
    return np.array([[1 + 1.5 * (x[0] - x[1]) ** 2, -1.5 * (x[0] - x[1]) ** 2],
                     [-1.5 * (x[1] - x[0]) ** 2, 1 + 1.5 * (x[1] - x[0]) ** 2]])


def with_jacobian(x):
    return docs_system(x), docs_jacobian(x)


def scaled(x, a):
    return np.array([a * x[0] - 1.0, x[1] ** 3 - a])


@pytest.mark.parametrize("method", ["hybr", "lm"])
@pytest.mark.parametrize("jac", [None, docs_jacobian, True])
def test_matches_scipy_on_the_docs_example(method, jac):
    fun = with_jacobian if jac is True else docs_system
    ours = root(fun, [0.5, 0.5], method=method, jac=jac)
    theirs = sopt.root(fun, [0.5, 0.5], method=method, jac=jac)
    assert ours.success and theirs.success
    assert_allclose(ours.x, theirs.x, rtol=1e-8)
    assert set(theirs.keys()) <= set(ours.keys())
    assert ours.message == theirs.message
    assert ours.method == method
    # nfev counts real calls; SciPy makes two more than MINPACK needs (a
    # shape check at x0 and a last call at the solution).
    assert ours.nfev == theirs.nfev - 2


def test_result_shapes_like_scipy():
    ours = root(docs_system, [0.0, 0.0])
    theirs = sopt.root(docs_system, [0.0, 0.0])
    for key in ("x", "fun", "fjac", "r", "qtf"):
        assert np.shape(ours[key]) == np.shape(theirs[key]), key
    ours = root(docs_system, [0.0, 0.0], method="lm")
    theirs = sopt.root(docs_system, [0.0, 0.0], method="lm")
    for key in ("x", "fun", "fjac", "ipvt", "qtf", "cov_x"):
        assert np.shape(ours[key]) == np.shape(theirs[key]), key
    assert ours.ipvt.dtype == np.int32


def test_args_tol_and_case_insensitive_method():
    ours = root(scaled, [1.0, 1.0], args=2.0, method="HYBR", tol=1e-4)
    theirs = sopt.root(scaled, [1.0, 1.0], args=2.0, method="hybr", tol=1e-4)
    assert_allclose(ours.x, theirs.x, rtol=1e-10)
    same = root(scaled, [1.0, 1.0], args=(2.0,), options={"xtol": 1e-4})
    assert same.nfev == ours.nfev


def test_honest_success_where_scipy_is_fooled():
    # ||f|| has a minimum of 1 at x = 1e6 and no root; SciPy's hybr stops
    # there by its step test and reports success.
    def no_root(x):
        return np.array([(x[0] - 1e6) ** 2 + 1.0])
    theirs = sopt.root(no_root, [1e6 + 5])
    assert theirs.success and np.linalg.norm(theirs.fun) > 0.99
    ours = root(no_root, [1e6 + 5])
    assert not ours.success
    assert ours.status == 10
    assert "not a root" in ours.message
    # Levenberg-Marquardt on a square system: SciPy claims success too.
    def also_no_root(x):
        return np.array([x[0] ** 2 + 1.0])
    assert sopt.root(also_no_root, [1.0], method="lm").success
    ours = root(also_no_root, [1.0], method="lm")
    assert not ours.success and ours.status == 10


def test_lm_from_the_docs_start_is_not_a_root():
    # SciPy's documentation example solved with 'lm' from (0, 0): SciPy
    # reports success at a local minimiser of ||f|| with ||f|| = 0.21.
    theirs = sopt.root(docs_system, [0.0, 0.0], method="lm")
    assert theirs.success and np.linalg.norm(theirs.fun) > 0.2
    ours = root(docs_system, [0.0, 0.0], method="lm")
    assert_allclose(ours.x, theirs.x, rtol=1e-10, atol=1e-14)
    assert not ours.success and ours.status == 10


def test_lm_non_finite_is_not_success():
    def nan_fun(x):
        return np.array([np.nan, x[1]])
    assert sopt.root(nan_fun, [1.0, 1.0], method="lm").success  # SciPy
    ours = root(nan_fun, [1.0, 1.0], method="lm")
    assert not ours.success and ours.status == 9
    ours = root(nan_fun, [1.0, 1.0], method="hybr")
    assert not ours.success and ours.status == 6


def test_lm_overdetermined_and_underdetermined():
    t = np.linspace(0, 1, 8)
    y = 2.0 * np.exp(-1.5 * t)

    def residual(p):
        return p[0] * np.exp(-p[1] * t) - y
    ours = root(residual, [1.0, 1.0], method="lm")
    theirs = sopt.root(residual, [1.0, 1.0], method="lm")
    assert ours.success
    assert_allclose(ours.x, [2.0, 1.5], rtol=1e-7)
    assert_allclose(ours.x, theirs.x, rtol=1e-8)
    with pytest.raises(TypeError, match="Improper input: func input vector "
                                        "length N=3 must not exceed func "
                                        "output vector length M=2"):
        root(lambda x: x[:2], [1.0, 2.0, 3.0], method="lm")


def test_user_exception_propagates():
    class Boom(Exception):
        pass

    def fails(x):
        raise Boom("from the user")
    for method in ("hybr", "lm"):
        with pytest.raises(Boom, match="from the user"):
            root(fails, [1.0, 2.0], method=method)


def test_dispatcher_errors_and_warnings():
    with pytest.raises(ValueError, match="Unknown solver newton"):
        root(docs_system, [0, 0], method="newton")
    with pytest.raises(TypeError, match="`method` must be a string"):
        root(docs_system, [0, 0], method=None)
    with pytest.raises(TypeError, match="`options` must be a dict"):
        root(docs_system, [0, 0], options=[("xtol", 1e-3)])
    with pytest.raises(TypeError, match="`fun` must be callable"):
        root(None, [0, 0])
    with pytest.warns(RuntimeWarning, match="Method hybr does not accept "
                                            "callback."):
        root(docs_system, [0, 0], callback=lambda x, f: None)
    with pytest.warns(sopt.OptimizeWarning, match="Unknown solver options: "
                                                  "foo"):
        root(docs_system, [0, 0], options={"foo": 1})


def test_show_options():
    text = show_options("root", "hybr", disp=False)
    assert "xtol" in text and "band" in text
    assert "gtol" in show_options("root", "LM", disp=False)
    assert "hybr" in show_options("root", disp=False)
    with pytest.raises(ValueError, match="Unknown method 'newton'"):
        show_options("root", "newton")
    with pytest.raises(ValueError, match="Unknown solver 'newton'"):
        show_options("newton")
    assert "ftol" in show_options("minimize", "slsqp", disp=False)
    for method in ("broyden1", "krylov", "df-sane"):
        assert "line_search" in show_options("root", method, disp=False)
    assert "minimize" in show_options(disp=False)


def test_fsolve_forms():
    def func(x):
        return [x[0] * np.cos(x[1]) - 4, x[1] * x[0] - x[1] - 5]
    x = fsolve(func, [1, 1])
    assert_allclose(x, sopt.fsolve(func, [1, 1]), rtol=1e-8)
    x, info, ier, msg = fsolve(func, [1, 1], full_output=True)
    _, their_info, their_ier, their_msg = sopt.fsolve(func, [1, 1],
                                                      full_output=True)
    assert ier == their_ier == 1 and msg == their_msg
    assert set(info) == set(their_info)
    with pytest.warns(RuntimeWarning, match="reached maxfev = 3"):
        fsolve(func, [1, 1], maxfev=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fsolve(docs_system, [0, 0], fprime=docs_jacobian)


@njit
def _parametrised(x, a):
    return np.array([x[0] ** 2 + x[1] - a, x[0] - x[1] ** 2 + 1.0])


@njit
def _no_root(x):
    return np.array([x[0] ** 2 + 1.0])


@njit
def _solve_many(a_values, x0):
    # One compiled caller for every solve: each compiled function that
    # calls the drivers pays for optimising the solvers' code once.
    out = np.empty((a_values.size, 2, 2))
    flags = np.empty((a_values.size + 1, 2), dtype=np.bool_)
    for k in range(a_values.size):
        x, f, status, nfev, ok = compiled.root_hybr(
            _parametrised, x0, (a_values[k],), 1.49012e-08, 0)
        out[k, 0] = x
        flags[k, 0] = ok
        x, f, status, nfev, ok = compiled.root_lm(
            _parametrised, x0, (a_values[k],), 1.49012e-08, 1.49012e-08, 0)
        out[k, 1] = x
        flags[k, 1] = ok
    one = x0[:1].copy()
    flags[-1, 0] = compiled.root_hybr(_no_root, one, (), 1.49e-8, 0)[4]
    flags[-1, 1] = compiled.root_lm(_no_root, one, (), 1.49e-8, 1.49e-8,
                                    0)[4]
    return out, flags


def test_compiled_root_from_users_njit_loop():
    a_values = np.linspace(2.0, 5.0, 7)
    x0 = np.array([1.0, 1.0])
    out, flags = _solve_many(a_values, x0)
    assert flags[:-1].all()
    for k, a in enumerate(a_values):
        for j, method in enumerate(("hybr", "lm")):
            expected = root(_parametrised, x0, args=(a,), method=method)
            assert_allclose(out[k, j], expected.x, rtol=1e-12, atol=1e-14)
    # No root: the compiled solvers report failure as root does.
    assert not flags[-1].any()
    assert not root(_no_root, x0[:1], method="hybr").success
    assert not root(_no_root, x0[:1], method="lm").success


@njit
def _returns_its_argument(x):
    return x


@njit
def _overwrites_its_argument(x):
    f = x * x - 4.0
    x[:] = 99.0
    return f


def _py_overwrites(x):
    f = x * x - 4.0
    x[:] = 99.0
    return f


@pytest.mark.parametrize("method", ["hybr", "lm"])
def test_njit_function_may_return_or_overwrite_its_argument(method):
    # The compiled drivers reuse one point array between calls: a function
    # returning it, or writing to it, must not disturb the iteration (the
    # answers are the Python path's, exactly).
    x0 = np.array([1.0, 3.0])
    ours = root(_returns_its_argument, x0, method=method)
    python = root(lambda x: x, x0, method=method)
    assert ours.success and python.success
    assert_allclose(ours.x, python.x, rtol=0, atol=0)
    assert ours.nfev == python.nfev
    ours = root(_overwrites_its_argument, x0, method=method)
    python = root(_py_overwrites, x0, method=method)
    assert ours.success
    assert_allclose(ours.x, [2.0, 2.0], rtol=1e-8)
    assert_allclose(ours.x, python.x, rtol=0, atol=0)
    assert ours.nfev == python.nfev


@njit
def _five_args(x, a, b, c, d, e):
    return np.array([a * x[0] ** 2 + b[0] * x[1] - c,
                     d * np.sin(x[1]) - e * x[0]])


@njit
def _one_arg(x, a):
    return np.array([a * x[0] - 1.0, x[1] ** 3 - a])


@pytest.mark.parametrize("method", ["hybr", "lm", "broyden1", "anderson",
                                    "krylov", "df-sane"])
@pytest.mark.parametrize("fun,args", [
    (_one_arg, (2.0,)),
    # more extra arguments than the compiled calls spell out one by one
    (_five_args, (2.0, np.array([3.0]), 1.0, 0.5, 0.25))],
    ids=["one_arg", "five_args"])
def test_njit_functions_with_extra_arguments(method, fun, args):
    # the compiled path (the user's function called with its extra
    # arguments one by one, or as a tuple beyond four) against SciPy; the
    # inexact-Newton family and df-sane stop at a residual of about 6e-6
    x0 = np.array([0.3, 0.4])
    ours = root(fun, x0, args=args, method=method)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        theirs = sopt.root(fun, x0, args=args, method=method)
    # (anderson fails on the one-argument system, in SciPy too, at the
    # same point after 300 iterations)
    minpack = method in ("hybr", "lm")
    assert ours.success == theirs.success
    assert_allclose(ours.x, theirs.x, rtol=1e-7 if minpack else 1e-4,
                    atol=1e-9 if minpack else 1e-5)
    if ours.success:
        assert_allclose(fun(ours.x, *args), 0.0,
                        atol=1e-9 if minpack else 1e-5)
