"""fastopt's KrylovJacobian / newton_krylov against SciPy 1.17 as oracle.

Answers (x, success) are compared with SciPy's where SciPy works; where it
fails (documented in docs/krylov.rst) fastopt must find a verified root.
"""
import warnings

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse
import scipy.sparse.linalg as sla
from scipy.optimize import _nonlin as SN

from fastopt._krylov_jacobian import KrylovJacobian, newton_krylov
from fastopt import _nonlin as N
from fastopt._examples import bratu, broyden_tridiagonal as tridiagonal

METHODS = ["lgmres", "gmres", "bicgstab", "cgs", "minres"]
F_TOL = 1e-9


# --------------------------------------------------------------- problems

def tridiagonal_jac(x):
    n = x.size
    return scipy.sparse.diags_array(
        [-np.ones(n - 1), 3.0 - 4.0 * x, -2.0 * np.ones(n - 1)],
        offsets=[-1, 0, 1]).tocsr()


def bvp_problem(n):
    # Moré-Garbow-Hillstrom discrete boundary value problem
    h = 1.0 / (n + 1)
    t = np.arange(1, n + 1) * h

    def F(x):
        f = 2.0 * x + 0.5 * h * h * (x + t + 1.0) ** 3
        f[1:] -= x[:-1]
        f[:-1] -= x[1:]
        return f
    return F, t * (t - 1.0)


def bratu_problem(m, lam=1.0):
    return bratu(m, lam), np.zeros(m * m)


def two_equations(x):
    # root's documented example
    return np.array([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
                     0.5 * (x[1] - x[0]) ** 3 + x[1]])


def fastopt_solve(F, x0, **kw):
    opts = {k: kw.pop(k) for k in list(kw) if k in
            ("f_tol", "maxiter", "line_search", "callback", "iter")}
    jac = KrylovJacobian(**kw)
    return N.nonlin_solve(F, x0, jac, full_output=True,
                          raise_exception=False, **opts)


def scipy_solve(F, x0, **kw):
    opts = {k: kw.pop(k) for k in list(kw) if k in
            ("f_tol", "maxiter", "line_search", "callback", "iter")}
    return SN.nonlin_solve(F, x0, SN.KrylovJacobian(**kw), full_output=True,
                           raise_exception=False, **opts)


def assert_root(F, x, tol):
    assert np.all(np.isfinite(x))
    assert np.max(np.abs(F(x))) <= tol


# ------------------------------------------------------- SciPy as oracle

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [10, 1000])
def test_tridiagonal_matches_scipy(method, n):
    x0 = -np.ones(n)
    x, info = fastopt_solve(tridiagonal, x0, method=method, f_tol=F_TOL)
    xs, infos = scipy_solve(tridiagonal, x0, method=method, f_tol=F_TOL)
    assert info["success"] and infos["success"]
    assert_root(tridiagonal, x, F_TOL)
    # both within f_tol of the same (well-conditioned) root
    np.testing.assert_allclose(x, xs, rtol=0, atol=1e-8)


@pytest.mark.parametrize("method", METHODS)
def test_bvp_matches_scipy(method):
    F, x0 = bvp_problem(500)
    x, info = fastopt_solve(F, x0, method=method, f_tol=1e-10)
    xs, infos = scipy_solve(F, x0, method=method, f_tol=1e-10)
    assert info["success"] == infos["success"]
    if infos["success"]:
        assert_root(F, x, 1e-10)
        # the BVP Jacobian has condition ~ n^2: compare in that scale
        np.testing.assert_allclose(x, xs, rtol=0, atol=1e-4)


@pytest.mark.parametrize("method", METHODS)
def test_bratu_matches_scipy(method):
    F, x0 = bratu_problem(40)
    x, info = fastopt_solve(F, x0, method=method, f_tol=1e-10)
    xs, infos = scipy_solve(F, x0, method=method, f_tol=1e-10)
    assert info["success"] and infos["success"]
    assert_root(F, x, 1e-10)
    np.testing.assert_allclose(x, xs, rtol=0, atol=1e-6)


@pytest.mark.parametrize("method", ["lgmres", "gmres"])
def test_bratu_n10000(method):
    F, x0 = bratu_problem(100)
    x, info = fastopt_solve(F, x0, method=method, f_tol=1e-9)
    xs, infos = scipy_solve(F, x0, method=method, f_tol=1e-9)
    assert info["success"] and infos["success"]
    assert_root(F, x, 1e-9)
    np.testing.assert_allclose(x, xs, rtol=0, atol=1e-5)


def test_same_iterates_as_scipy_where_augmentation_is_regular():
    # tridiagonal from -1: SciPy's lgmres vectors stay independent, so
    # fastopt's safeguards never fire and the iterates are SciPy's
    steps, steps_s = [], []
    x0 = -np.ones(200)
    fastopt_solve(tridiagonal, x0,
                  callback=lambda x, f: steps.append(x.copy()))
    scipy_solve(tridiagonal, x0,
                callback=lambda x, f: steps_s.append(x.copy()))
    assert len(steps) == len(steps_s)
    # rounding differences of the kernels, amplified by the finite
    # difference (~eps/omega ~ 1e-8)
    np.testing.assert_allclose(steps, steps_s, rtol=0, atol=1e-7)


# ---------------------------------------------------- robustness vs SciPy

def test_documented_example_where_scipy_fails():
    x0 = np.array([0.0, 0.0])
    xs, infos = scipy_solve(two_equations, x0)
    assert not infos["success"]             # SciPy 1.17.1 stalls
    sol = so.root(two_equations, x0, method="hybr")
    x, info = fastopt_solve(two_equations, x0)
    assert info["success"]
    assert info["nit"] < 20
    assert_root(two_equations, x, 6.1e-6)
    np.testing.assert_allclose(x, sol.x, atol=1e-5)
    # through newton_krylov as well
    x2 = newton_krylov(two_equations, [0, 0])
    np.testing.assert_allclose(x2, sol.x, atol=1e-5)


@pytest.mark.parametrize("n", [10, 50, 100])
@pytest.mark.parametrize("start", [-10.0, -100.0])
def test_tridiagonal_scaled_start_where_scipy_stalls(n, start):
    x0 = start * np.ones(n)
    xs, infos = scipy_solve(tridiagonal, x0, maxiter=200)
    assert not infos["success"]
    x, info = fastopt_solve(tridiagonal, x0, f_tol=F_TOL)
    assert info["success"]
    assert_root(tridiagonal, x, F_TOL)
    # the root SciPy's gmres variant (which works here) finds
    xg, infog = scipy_solve(tridiagonal, x0, method="gmres", f_tol=F_TOL)
    assert infog["success"]
    np.testing.assert_allclose(x, xg, atol=1e-8)


def test_tridiagonal_zero_vector_where_scipy_raises():
    x0 = -10.0 * np.ones(1000)
    with pytest.raises(ValueError, match="Jacobian inversion yielded zero"):
        SN.newton_krylov(tridiagonal, x0)
    x = newton_krylov(tridiagonal, x0, f_tol=F_TOL)
    assert_root(tridiagonal, x, F_TOL)
    # Newton with the exact Jacobian from the same start: same root
    z = x0.copy()
    for _ in range(50):
        z = z - sla.spsolve(tridiagonal_jac(z).tocsc(), tridiagonal(z))
    np.testing.assert_allclose(x, z, atol=1e-8)


def test_augmentation_vectors_stay_independent():
    jac = KrylovJacobian()
    N.nonlin_solve(tridiagonal, -10.0 * np.ones(50), jac, f_tol=F_TOL)
    V = np.array([v for v, _ in jac._ws.outer_v])
    assert 0 < V.shape[0] <= 10
    s = np.linalg.svd(V, compute_uv=False)
    assert s[-1] > 1e-5


# -------------------------------------------------------------- options

@pytest.mark.parametrize("kw", [dict(outer_k=3), dict(outer_k=0),
                                dict(inner_maxiter=5),
                                dict(inner_maxiter=5, method="gmres"),
                                dict(rdiff=1e-6), dict(inner_rtol=1e-8),
                                dict(inner_inner_m=10),
                                dict(method="bicgstab", inner_maxiter=50)])
def test_options_match_scipy(kw):
    x0 = -np.ones(300)
    x, info = fastopt_solve(tridiagonal, x0, f_tol=F_TOL, **dict(kw))
    xs, infos = scipy_solve(tridiagonal, x0, f_tol=F_TOL, **dict(kw))
    assert info["success"] and infos["success"]
    assert_root(tridiagonal, x, F_TOL)
    np.testing.assert_allclose(x, xs, atol=1e-8)


def test_tfqmr_and_user_callable():
    x0 = -np.ones(200)
    calls = []

    def my_gmres(A, b, rtol=1e-5, maxiter=None, M=None, **kw):
        calls.append(rtol)
        return sla.gmres(A, b, rtol=rtol, atol=0, restart=20, maxiter=1,
                         M=M)

    for method in ["tfqmr", my_gmres]:
        x, info = fastopt_solve(tridiagonal, x0, method=method, f_tol=F_TOL)
        xs, infos = scipy_solve(tridiagonal, x0, method=method, f_tol=F_TOL)
        assert info["success"] and infos["success"]
        np.testing.assert_allclose(x, xs, atol=1e-8)
    assert calls and calls[0] == 1e-3       # the first forcing term


def test_inner_outer_v_persists_in_user_list():
    outer_v = []
    x, info = fastopt_solve(tridiagonal, -np.ones(100), f_tol=F_TOL,
                            inner_outer_v=outer_v)
    assert info["success"]
    assert 0 < len(outer_v) <= 10


def test_preconditioner_linear_operator():
    # an approximate inverse: the inverse of the diagonal at x0
    F, x0 = bratu_problem(30)
    d = 4.0 - np.exp(x0) / 31 ** 2
    seen = []

    def mv(v):
        seen.append(1)
        return v / d
    M = sla.LinearOperator((900, 900), matvec=mv, dtype=float)
    for method in ["lgmres", "gmres", "bicgstab", "cgs"]:
        x, info = fastopt_solve(F, x0, method=method, inner_M=M,
                                f_tol=1e-10)
        xs, infos = scipy_solve(F, x0, method=method, inner_M=M,
                                f_tol=1e-10)
        assert info["success"] and infos["success"]
        np.testing.assert_allclose(x, xs, atol=1e-8)
    assert seen


class _Recorder:
    # a preconditioner that records setup/update forwarding
    def __init__(self, n):
        self.shape = (n, n)
        self.dtype = np.dtype(float)
        self.events = []

    def matvec(self, v):
        return v / 3.0

    def setup(self, x, f, func):
        self.events.append("setup")

    def update(self, x, f):
        self.events.append("update")


def test_preconditioner_setup_update_forwarded():
    events = []
    for solve in (fastopt_solve, scipy_solve):
        M = sla.aslinearoperator(np.eye(50) / 3.0)
        rec = _Recorder(50)
        M.setup = rec.setup
        M.update = rec.update
        x, info = solve(tridiagonal, -np.ones(50), inner_M=M)
        assert info["success"]
        events.append(rec.events)
    assert events[0] == events[1]
    assert events[0][0] == "setup" and events[0].count("setup") == 1
    assert events[0].count("update") >= 3


@pytest.mark.parametrize("cls", ["Anderson", "BroydenFirst"])
def test_preconditioner_from_nonlin_jacobian(cls):
    F, x0 = bratu_problem(20)
    pre = getattr(N, cls)()
    pre.setup(x0, F(x0), F)
    x = newton_krylov(F, x0, inner_M=pre.aspreconditioner(), f_tol=1e-10)
    spre = getattr(SN, cls)()
    spre.setup(x0, F(x0), F)
    xs = SN.newton_krylov(F, x0, inner_M=spre.aspreconditioner(),
                          f_tol=1e-10)
    assert_root(F, x, 1e-10)
    np.testing.assert_allclose(x, xs, atol=1e-8)


def test_krylov_jacobian_as_preconditioner_and_matvec():
    F, x0 = bratu_problem(10)
    jac = KrylovJacobian()
    jac.setup(x0, F(x0), F)
    v = np.linspace(-1, 1, 100)
    sj = SN.KrylovJacobian()
    sj.setup(x0, F(x0), F)
    np.testing.assert_allclose(jac.matvec(v), sj.matvec(v), rtol=1e-12)
    np.testing.assert_array_equal(jac.matvec(np.zeros(100)), np.zeros(100))
    assert jac.omega == sj.omega
    np.testing.assert_allclose(jac.solve(v, tol=1e-10),
                               sj.solve(v, tol=1e-10), atol=1e-8)
    P = jac.aspreconditioner()
    np.testing.assert_allclose(P.matvec(v), jac.solve(v), atol=1e-12)


def test_omega():
    # SciPy's step while max|F| <= rdiff**-0.5 ...
    jac = KrylovJacobian(rdiff=1e-6)
    x = np.array([3.0, -5.0])
    jac.setup(x, np.array([500.0, 2.0]), lambda z: z)
    assert jac.omega == 1e-6 * 5.0 / 500.0
    sj = SN.KrylovJacobian(rdiff=1e-6)
    sj.setup(x, np.array([500.0, 2.0]), lambda z: z)
    assert jac.omega == sj.omega
    # ... then at least rdiff**1.5 max(1, max|x|)
    jac.update(x, np.array([1e9, 2.0]))
    assert jac.omega == 1e-6 ** 1.5 * 5.0


# ------------------------------------------- inner_ kwargs: exact texts

def _messages(factory):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        factory()
    return [str(m.message) for m in w if m.category is UserWarning]


@pytest.mark.parametrize("method, kw", [
    ("lgmres", dict(inner_tol=1e-3)),          # suggestion: rtol? or none
    ("gmres", dict(inner_restrt=5)),           # "Did you mean 'restart'"
    ("minres", dict(inner_atol=0.1)),          # minres has no atol
    ("bicgstab", dict(inner_zzz=1)),           # no suggestion
    ("cgs", dict(inner_maxiters=3)),
])
def test_invalid_inner_option_warning_text(method, kw):
    ours = _messages(lambda: KrylovJacobian(method=method, **kw))
    theirs = _messages(lambda: SN.KrylovJacobian(method=method, **kw))
    assert ours == theirs
    assert len(ours) == 1


def test_unknown_parameter_text():
    with pytest.raises(ValueError, match=r"^Unknown parameter foo$"):
        KrylovJacobian(foo=1)
    with pytest.raises(ValueError, match=r"^Unknown parameter foo$"):
        SN.KrylovJacobian(foo=1)
    with pytest.raises(ValueError, match="method must be one of"):
        KrylovJacobian(method="nope")


def test_valid_inner_option_lists_are_scipys():
    import inspect
    from fastopt._krylov_jacobian import _SCIPY_PARAMS
    for name, params in _SCIPY_PARAMS.items():
        sig = inspect.signature(getattr(sla, name)).parameters
        assert tuple(k for k in sig if k not in ("self", "args", "kwargs")) \
            == params


# --------------------------------------------------------- failures

def test_nonfinite_in_matvec_raises_scipys_error():
    def F(x):
        # NaN only at the finite-difference points around x0 = -1
        f = tridiagonal(x)
        if np.any((x != -1.0) & (np.abs(x + 1.0) < 1e-6)):
            f[0] = np.nan
        return f
    for solver in (newton_krylov, SN.newton_krylov):
        with pytest.raises(ValueError,
                           match="^Function returned non-finite results$"):
            solver(F, -np.ones(10))


def test_nonfinite_residual_status():
    def F(x):
        f = tridiagonal(x)
        return f if x[0] < -0.8 else f + np.inf
    x, info = fastopt_solve(F, -np.ones(10))
    assert not info["success"]
    assert info["status"] != 1


def test_user_exception_propagates():
    class Boom(Exception):
        pass

    def F(x):
        if x[0] > -0.99:
            raise Boom("from F")
        return tridiagonal(x)
    with pytest.raises(Boom, match="from F"):
        newton_krylov(F, -np.ones(10))


def test_no_convergence_raised():
    with pytest.raises(so.NoConvergence):
        newton_krylov(tridiagonal, -np.ones(50), maxiter=2)


def test_solve_before_setup():
    with pytest.raises(RuntimeError, match="set up"):
        KrylovJacobian().solve(np.ones(3))


def test_shape_kept():
    F, x0 = bratu_problem(10)
    x = newton_krylov(lambda u: F(u.ravel()).reshape(10, 10),
                      x0.reshape(10, 10))
    assert x.shape == (10, 10)


def test_njit_residual_through_python_driver():
    from numba import njit

    @njit(cache=False)
    def F(x):
        n = x.size
        f = np.empty(n)
        for i in range(n):
            left = x[i - 1] if i > 0 else 0.0
            right = x[i + 1] if i < n - 1 else 0.0
            f[i] = (3.0 - 2.0 * x[i]) * x[i] - left - 2.0 * right + 1.0
        return f
    x = newton_krylov(F, -np.ones(100), f_tol=F_TOL)
    xs = SN.newton_krylov(tridiagonal, -np.ones(100), f_tol=F_TOL)
    np.testing.assert_allclose(x, xs, atol=1e-8)


def test_scipy_equivalent_solves_complex():
    jac = KrylovJacobian(method="gmres", inner_maxiter=10, outer_k=4)
    sj = jac.scipy_equivalent()
    assert isinstance(sj, SN.KrylovJacobian)
    assert sj.method_kw["restart"] == 10
    with pytest.raises(TypeError, match="real problems"):
        jac.setup(np.ones(3, complex), np.ones(3, complex), lambda z: z)
    c = np.array([1 + 2j, 3 - 1j])
    x = SN.nonlin_solve(lambda z: z * z - c, np.array([1 + 1j, 1 - 1j]), sj,
                        f_tol=1e-10)
    np.testing.assert_allclose(x * x, c, atol=1e-9)


@pytest.mark.parametrize("scale", [1e8, 1e10])
def test_badly_scaled_residual_where_scipy_raises(scale):
    # |F| >> |x|: SciPy's step omega = rdiff max(1,|x|)/max(1,|F|) falls
    # below the rounding of x, every product is 0 -> "zero vector"
    def F(x):
        f = scale * (x - 1.0) + x ** 3
        f[1:] -= x[:-1]
        return f
    x0 = 2.0 * np.ones(20)
    with pytest.raises(ValueError, match="Jacobian inversion yielded zero"):
        SN.newton_krylov(F, x0, f_tol=1e-6 * scale)
    x = newton_krylov(F, x0, f_tol=1e-6 * scale)
    assert np.max(np.abs(F(x))) <= 1e-6 * scale
    sol = so.root(F, x0, method="hybr", tol=1e-14)
    np.testing.assert_allclose(x, sol.x, rtol=1e-6)


def test_breakdown_with_dependent_augmentation_falls_back_to_gmres():
    # Load two identical augmentation vectors (what SciPy accumulates on
    # the failing problems): SciPy's lgmres returns a step with ~93%
    # relative residual; fastopt detects the breakdown, checks the true
    # residual, clears the augmentation and solves by GMRES.
    from fastopt._kernels import krylov as K
    rng = np.random.default_rng(0)
    n = 6
    A = 3.0 * np.eye(n) + 0.3 * rng.standard_normal((n, n))

    def F(x):
        return A @ x
    rhs = rng.standard_normal(n)
    e1 = np.eye(n)[0]
    jac = KrylovJacobian()
    jac.setup(np.zeros(n), np.zeros(n), F)
    iw, rw = jac._ws.iw, jac._ws.rw
    oz = int(iw[K.I_OZ])
    rw[oz:oz + n] = e1
    rw[oz + n:oz + 2 * n] = e1
    iw[K.I_NOUTER] = 2
    iw[K.I_OUTER_START] = 0
    x = jac.solve(rhs, tol=1e-10)
    assert np.linalg.norm(A @ x - rhs) <= 1e-8 * np.linalg.norm(rhs)
    sj = SN.KrylovJacobian()
    sj.setup(np.zeros(n), np.zeros(n), F)
    sj.method_kw["outer_v"][:] = [(e1.copy(), None), (e1.copy(), None)]
    xs = sj.solve(rhs, tol=1e-10)
    assert np.linalg.norm(A @ xs - rhs) > 0.5 * np.linalg.norm(rhs)
