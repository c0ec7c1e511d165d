"""The compiled Newton-Krylov path (an ``@njit`` F, fastopt's KrylovJacobian).

Three oracles: fastopt's own Python-driven path (the same F wrapped in a
Python callable, which forces that path) must give the same iterations,
evaluations and status and x to 1e-10 (the two share every kernel and the
summation order of the products, so in practice bitwise); SciPy 1.17 where
it converges (x and success); and the exact contracts of the fallback (the
compiled kernel is not entered for options it does not serve) and of
compilation (a new function compiles no solver kernel).
"""
import warnings

import numpy as np
import pytest
import scipy.optimize as so
from numba import njit
from scipy.optimize import _nonlin as SN
from scipy.sparse.linalg import LinearOperator

import fastopt
from fastopt import _nonlin as N
from fastopt._examples import (ROOT_PROBLEMS, bratu, bratu_jit,
                               broyden_tridiagonal,
                               broyden_tridiagonal_jit, docs_system_jit)
from fastopt._kernels import krylov_jacobian as KJ
from fastopt._kernels import nonlin as K
from fastopt._krylov_jacobian import KrylovJacobian, newton_krylov

METHODS = ["lgmres", "gmres", "bicgstab", "cgs", "minres"]
X_TOL = 1e-10


def python_form(fun):
    # the same arithmetic as a Python callable: fastopt's Python path
    return lambda x, *args: fun(x, *args)


class Entered:
    """Counts the calls fastopt._nonlin makes of the compiled Newton-Krylov
    kernels (through a stand-in for its kernel module: patching the module
    itself would change the globals the kernels are compiled against)."""

    _NAMES = ("nonlin_krylov_run", "nonlin_krylov_at")

    def __init__(self, monkeypatch):
        self.count = 0
        entered = self

        class Proxy:
            def __getattr__(self, name):
                value = getattr(K, name)
                if name not in Entered._NAMES:
                    return value

                def wrapper(*a):
                    entered.count += 1
                    return value(*a)
                return wrapper

        monkeypatch.setattr(N, "K", Proxy())


@pytest.fixture
def entered(monkeypatch):
    return Entered(monkeypatch)


def root(fun, x0, **kw):
    top = {k: kw.pop(k) for k in ("tol", "callback", "args") if k in kw}
    try:
        return fastopt.root(fun, x0, method="krylov", options=kw, **top)
    except Exception as exc:       # compared as (type, message)
        return (type(exc), str(exc))


def assert_same(a, b):
    if isinstance(a, tuple) or isinstance(b, tuple):
        assert a == b
        return
    assert (a.nit, a.nfev, a.status, a.success) == \
        (b.nit, b.nfev, b.status, b.success)
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=X_TOL)
    np.testing.assert_allclose(a.fun, b.fun, rtol=0, atol=X_TOL)


SMALL = [(name, fj, np.array(x0, float))
         for name, (_, fj, x0) in ROOT_PROBLEMS.items()]
SMALL.append(("docs_system", docs_system_jit, np.zeros(2)))


# ------------------------------------------- the Python path as oracle

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name, fun, x0", SMALL, ids=[p[0] for p in SMALL])
def test_small_systems_match_python_path(name, fun, x0, method, entered):
    opts = dict(jac_options=dict(method=method))
    a = root(fun, x0, **opts)
    assert entered.count == 1
    b = root(python_form(fun), x0, **opts)
    assert entered.count == 1
    assert_same(a, b)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("start", [-1.0, -10.0])
def test_tridiagonal_matches_python_path(method, start, entered):
    x0 = start * np.ones(1000)
    opts = dict(jac_options=dict(method=method), fatol=1e-9)
    a = root(broyden_tridiagonal_jit, x0, **opts)
    b = root(python_form(broyden_tridiagonal_jit), x0, **opts)
    assert entered.count == 1
    assert_same(a, b)
    if start == -1.0 or method != "minres":
        assert a.success


@pytest.mark.parametrize("method", ["lgmres", "gmres"])
def test_bratu_matches_python_path_and_scipy(method):
    F = bratu_jit(40)
    x0 = np.zeros(1600)
    a = root(F, x0, jac_options=dict(method=method), fatol=1e-10)
    b = root(python_form(F), x0, jac_options=dict(method=method),
             fatol=1e-10)
    assert_same(a, b)
    s = so.root(bratu(40), x0, method="krylov",
                options=dict(jac_options=dict(method=method), fatol=1e-10))
    assert a.success and s.success
    np.testing.assert_allclose(a.x, s.x, rtol=0, atol=1e-6)
    assert np.max(np.abs(bratu(40)(a.x))) <= 1e-10


@pytest.mark.parametrize("kw", [
    dict(outer_k=3), dict(outer_k=0), dict(inner_maxiter=5),
    dict(inner_maxiter=5, method="gmres"), dict(inner_restart=7,
                                                 method="gmres"),
    dict(rdiff=1e-6), dict(inner_rtol=1e-8), dict(inner_atol=1e-12),
    dict(inner_inner_m=10), dict(inner_store_outer_Av=True),
    dict(inner_prepend_outer_v=False), dict(method="bicgstab",
                                            inner_maxiter=50),
    dict(method="minres", inner_shift=1e-3), dict(method="cgs",
                                                  inner_maxiter=None)])
def test_options_match_python_path(kw, entered):
    x0 = -np.ones(300)
    a = root(broyden_tridiagonal_jit, x0, jac_options=kw, fatol=1e-9)
    assert entered.count == 1
    b = root(python_form(broyden_tridiagonal_jit), x0, jac_options=kw,
             fatol=1e-9)
    assert_same(a, b)


@pytest.mark.parametrize("opts", [
    dict(line_search="wolfe"), dict(line_search=None), dict(nit=3),
    dict(maxiter=2), dict(xtol=1e-6), dict(tol=1e-8), dict(ftol=1e-3)])
def test_driver_options_match_python_path(opts):
    x0 = -np.ones(200)
    a = root(broyden_tridiagonal_jit, x0, **opts)
    b = root(python_form(broyden_tridiagonal_jit), x0, **opts)
    assert not isinstance(a, tuple), a
    assert_same(a, b)


def test_extra_arguments():
    @njit
    def shifted(x, c, scale):
        f = broyden_tridiagonal_jit(x)
        for i in range(x.size):
            f[i] -= scale * c[i]
        return f

    c = np.linspace(0.0, 1.0, 50)
    x0 = -np.ones(50)
    a = fastopt.root(shifted, x0, args=(c, 0.5), method="krylov")
    b = fastopt.root(python_form(shifted), x0, args=(c, 0.5),
                     method="krylov")
    assert_same(a, b)
    assert a.success
    assert np.max(np.abs(shifted(a.x, c, 0.5))) <= 6.06e-6


# ------------------------------------------------------ SciPy as oracle

@pytest.mark.parametrize("method", METHODS)
def test_tridiagonal_matches_scipy(method):
    x0 = -np.ones(1000)
    a = fastopt.root(broyden_tridiagonal_jit, x0, method="krylov",
                     options=dict(fatol=1e-9,
                                  jac_options=dict(method=method)))
    s = so.root(broyden_tridiagonal, x0, method="krylov",
                options=dict(fatol=1e-9, jac_options=dict(method=method)))
    assert a.success and s.success
    np.testing.assert_allclose(a.x, s.x, rtol=0, atol=1e-8)


def test_docs_example_where_scipy_fails():
    # SciPy 1.17.1 stalls here (docs/krylov.rst); the compiled path has
    # fastopt's safeguards and finds the root hybr finds
    x0 = np.zeros(2)
    s = so.root(docs_system_jit, x0, method="krylov")
    assert not s.success
    a = fastopt.root(docs_system_jit, x0, method="krylov")
    h = so.root(docs_system_jit, x0, method="hybr")
    assert a.success and a.nit < 20
    np.testing.assert_allclose(a.x, h.x, atol=1e-5)


def test_newton_krylov_matches_scipy_and_python_path(entered):
    x0 = -np.ones(500)
    x = newton_krylov(broyden_tridiagonal_jit, x0, f_tol=1e-9)
    assert entered.count == 1
    xp = newton_krylov(python_form(broyden_tridiagonal_jit), x0, f_tol=1e-9)
    assert entered.count == 1
    np.testing.assert_allclose(x, xp, rtol=0, atol=X_TOL)
    xs = SN.newton_krylov(broyden_tridiagonal, x0, f_tol=1e-9)
    np.testing.assert_allclose(x, xs, rtol=0, atol=1e-8)
    with pytest.raises(fastopt.NoConvergence):
        newton_krylov(broyden_tridiagonal_jit, x0, maxiter=1)


def test_explicit_jacobian_object_is_left_as_python_path_leaves_it():
    x0 = -10.0 * np.ones(50)
    ja, jb = KrylovJacobian(), KrylovJacobian()
    xa, ia = N.nonlin_solve(broyden_tridiagonal_jit, x0, ja, f_tol=1e-9,
                            full_output=True)
    xb, ib = N.nonlin_solve(python_form(broyden_tridiagonal_jit), x0, jb,
                            f_tol=1e-9, full_output=True)
    assert ia["nit"] == ib["nit"] and ia["success"] and ib["success"]
    np.testing.assert_allclose(xa, xb, rtol=0, atol=X_TOL)
    np.testing.assert_allclose(ja.x0, jb.x0, rtol=0, atol=X_TOL)
    np.testing.assert_allclose(ja.f0, jb.f0, rtol=0, atol=X_TOL)
    assert ja.omega == pytest.approx(jb.omega, rel=1e-12)
    va = np.array([v for v, _ in ja._ws.outer_v])
    vb = np.array([v for v, _ in jb._ws.outer_v])
    assert va.shape == vb.shape and va.shape[0] > 0
    np.testing.assert_allclose(va, vb, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ja._gram, jb._gram, rtol=0, atol=1e-8)
    # the adopted object keeps working from Python
    v = np.linspace(-1.0, 1.0, 50)
    np.testing.assert_allclose(ja.matvec(v), jb.matvec(v), atol=1e-6)


# ------------------------------------------- errors as on the Python path

def test_nonfinite_product_raises_as_python_path():
    @njit
    def blows_up(x):
        f = x - 1.0
        if x[0] != 0.0:        # any finite-difference point
            f[1] = np.nan
        return f

    x0 = np.zeros(3)
    a = root(blows_up, x0)
    b = root(python_form(blows_up), x0)
    assert a == b == (ValueError, "Function returned non-finite results")
    with pytest.raises(ValueError, match="non-finite results"):
        newton_krylov(blows_up, x0)


def test_wrong_size_raises_as_python_path():
    @njit
    def wrong(x):
        return np.ones(x.size + 1)

    a = root(wrong, np.zeros(3))
    assert a[0] is ValueError and "F(x) has 4 entries but x has 3" in a[1]


def test_nonfinite_start_matches_python_path():
    @njit
    def bad(x):
        return np.full(x.size, np.inf)

    a = root(bad, np.zeros(4))
    b = root(python_form(bad), np.zeros(4))
    assert_same(a, b)
    assert a.status == N.NONFINITE_F


def test_user_exception_propagates():
    @njit
    def raises(x):
        if x[0] > 0.5:
            raise ZeroDivisionError("from F")
        return x - 1.0

    with pytest.raises(ZeroDivisionError, match="from F"):
        fastopt.root(raises, np.zeros(2), method="krylov")


# ------------------------------------------------------- the fallbacks

@pytest.mark.parametrize("case", [
    "inner_M", "callback", "tol_norm", "tfqmr", "callable", "inner_x0",
    "inner_callback", "disp", "2-d x0", "unhashable option"])
def test_fallback_gives_the_same_answers(case, entered, capsys):
    n = 40
    x0 = -np.ones(n)
    jo = {}
    kw = {}
    fun = broyden_tridiagonal_jit
    if case == "inner_M":
        jo["inner_M"] = LinearOperator((n, n), matvec=lambda v: v / 3.0)
    elif case == "callback":
        kw["callback"] = lambda x, f: None
    elif case == "tol_norm":
        kw["tol_norm"] = lambda v: float(np.max(np.abs(v)))
    elif case == "tfqmr":
        jo["method"] = "tfqmr"
    elif case == "callable":
        import scipy.sparse.linalg as sla
        jo["method"] = sla.gmres
    elif case == "inner_x0":
        jo["inner_x0"] = np.zeros(n)
    elif case == "inner_callback":
        jo["inner_callback"] = lambda x: None
    elif case == "disp":
        kw["disp"] = True
    elif case == "2-d x0":
        x0 = -np.ones((5, 8))

        @njit
        def fun(x):
            return broyden_tridiagonal_jit(x.ravel()).reshape(x.shape)
    elif case == "unhashable option":
        # a NumPy scalar is not memoised as a fast-path key: the general
        # path, which still runs the compiled kernel
        jo["inner_rtol"] = np.float64(1e-3)
    a = root(fun, x0, jac_options=jo, **kw)
    assert not isinstance(a, tuple), a
    compiled = entered.count
    b = root(python_form(fun), x0, jac_options=jo, **kw)
    assert entered.count == compiled
    assert compiled == (1 if case == "unhashable option" else 0)
    assert_same(a, b)
    assert a.success
    capsys.readouterr()


def test_invalid_options_raise_as_python_path():
    x0 = -np.ones(10)
    f = broyden_tridiagonal_jit
    for jo in (dict(bogus=1), dict(inner_atol=-1.0, method="gmres"),
               dict(method="nope"), dict(inner_maxiter=5, method="gmres",
                                         inner_restart=0)):
        assert root(f, x0, jac_options=jo) == \
            root(python_form(f), x0, jac_options=jo)
        assert isinstance(root(f, x0, jac_options=jo), tuple)
    assert root(f, x0, line_search="nope") == \
        root(python_form(f), x0, line_search="nope")
    # the warning for an option the inner solver ignores, on every call
    for _ in range(2):
        with pytest.warns(UserWarning, match="inner_restart"):
            r = root(f, x0, jac_options=dict(inner_restart=3))
        assert r.success


# ------------------------------------------------------- compilation

def test_no_recompilation_for_a_new_function():
    fastopt.root(docs_system_jit, np.zeros(2), method="krylov")
    kernels = (K.nonlin_krylov_run, K.nonlin_krylov_at, K.nonlin_advance,
               K.nonlin_start, KJ.kj_new, KJ.kj_solve, KJ.kj_setup,
               KJ.kj_update)
    before = [len(k.signatures) for k in kernels]

    @njit
    def other(x):
        return np.array([x[0] - 0.25, 2.0 * x[1] + x[0]])

    r = fastopt.root(other, np.zeros(2), method="krylov")
    assert r.success
    np.testing.assert_allclose(r.x, [0.25, -0.125], atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        N.nonlin_solve(other, np.zeros(2), KrylovJacobian(method="gmres"))
    assert [len(k.signatures) for k in kernels] == before


def test_memory_is_linear_in_n():
    # the state of one solve: O(n (inner_m + outer_k)) floats, no n x n
    n = 20_000
    x0 = -np.ones(n)
    opts = N._build_opts((N.BroydenFirst, (), (), None, None, None, None,
                          None, None, "armijo", str))
    kopts = KrylovJacobian()._compiled_options()
    work = np.empty(KJ.kj_workspace_size(n, kopts))
    rw, iw, kiw, krw_head, kj_head = K.nonlin_krylov_run(
        *N.compiled_addresses(broyden_tridiagonal_jit, ()), (), x0, opts,
        kopts, work)
    x = rw[K.OX:K.OX + n]
    F = rw[K.OX + n:K.OX + 2 * n]
    assert iw[K.I_STATUS] == 1
    # the driver's state: five vectors
    assert rw.size <= 5 * n + 100
    np.testing.assert_array_equal(F, broyden_tridiagonal(x))
    assert np.max(np.abs(F)) <= 6.0554544523933395e-06   # SciPy's f_tol
    # only the scalar heads of the workspaces come back
    assert krw_head.size < 100 and kj_head.size < 100
    kiw, krw, kj = KJ.kj_new(n, kopts)
    assert krw.size == work.size
    # lgmres: b, x, r, tmp, inner_m 30 + outer_cap 11 basis vectors, 11
    # outer ones (the update is built in a free outer slot)
    assert krw.size <= (4 + 30 + 11 + 11) * n + 10_000
    # no vector: the point, the residual and the scratch are the driver's
    assert kj.size <= 200
