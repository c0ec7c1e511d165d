"""fastopt's Krylov solvers against scipy.sparse.linalg.

The kernels follow SciPy's numerics step by step, so the answers agree to
rounding: x to 1e-8 relative to ||x|| (usually ~1e-14) and ``info``
exactly.  Matrices are random and well conditioned (shifted Gaussian), so
rounding differences cannot grow.
"""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sl
from numba import njit

from fastopt import _krylov as fk
from fastopt._kernels import krylov as kk

RTOL_X = 1e-8
NONSYM = ["gmres", "lgmres", "bicgstab", "cgs"]


def nonsymmetric(n, seed, shift=3.0):
    rng = np.random.default_rng(seed)
    A = shift * np.eye(n) + rng.standard_normal((n, n)) / np.sqrt(n)
    return A, rng.standard_normal(n)


def spd(n, seed):
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((n, n)) / np.sqrt(n)
    return Q @ Q.T + np.eye(n), rng.standard_normal(n)


def indefinite(n, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    d = np.concatenate([np.linspace(1, 3, n - n // 2),
                        -np.linspace(1, 3, n // 2)])
    return (Q * d) @ Q.T, rng.standard_normal(n)


def same(x, xs, tol=RTOL_X):
    scale = max(np.linalg.norm(xs), 1e-300)
    assert x.shape == xs.shape
    assert x.dtype == np.float64
    assert np.linalg.norm(x - xs) <= tol * scale, np.linalg.norm(x - xs)


def both(name, *args, **kwargs):
    with np.errstate(all="ignore"):
        ref = getattr(sl, name)(*args, **kwargs)
    return getattr(fk, name)(*args, **kwargs), ref


def as_kind(A, kind):
    # 'dense' and 'csr' run fully compiled, 'operator' through Python
    return {"dense": A, "csr": sp.csr_array(A),
            "operator": sl.aslinearoperator(A)}[kind]


KINDS = ["dense", "csr", "operator"]


@pytest.mark.parametrize("name", NONSYM)
@pytest.mark.parametrize("n", [20, 77, 200])
@pytest.mark.parametrize("kind", KINDS)
def test_nonsymmetric_default_options(name, n, kind):
    A, b = nonsymmetric(n, n)
    (x, info), (xs, infos) = both(name, as_kind(A, kind), b)
    assert info == infos == 0
    same(x, xs)


@pytest.mark.parametrize("name", NONSYM)
def test_operator_kinds_and_x0(name):
    A, b = nonsymmetric(60, 3)
    x0 = np.linspace(-1, 1, 60)
    for op in (sp.csr_array(A), sl.aslinearoperator(A)):
        (x, info), (xs, infos) = both(name, op, b, x0=x0, rtol=1e-9)
        assert info == infos
        same(x, xs)
    # x0 is not modified, b may be a column
    x0c = x0.copy()
    (x, info), (xs, infos) = both(name, A, b[:, None], x0=x0c)
    assert np.array_equal(x0c, x0)
    same(x, xs)


@pytest.mark.parametrize("name", NONSYM)
def test_preconditioner(name):
    n = 80
    A, b = nonsymmetric(n, 5)
    A += np.diag(np.linspace(1, 50, n))
    M = np.diag(1 / np.diag(A))
    for m in (M, sl.aslinearoperator(M)):
        (x, info), (xs, infos) = both(name, A, b, M=m, rtol=1e-10)
        assert info == infos == 0
        same(x, xs)


@pytest.mark.parametrize("name", NONSYM)
@pytest.mark.parametrize("rtol,atol", [(1e-3, 0.0), (1e-12, 0.0),
                                       (0.0, 1e-4), (1e-3, 1e-1),
                                       (1e-6, 1e-6)])
def test_tolerances(name, rtol, atol):
    A, b = nonsymmetric(40, 11, shift=2.0)
    (x, info), (xs, infos) = both(name, A, b, rtol=rtol, atol=atol)
    assert info == infos
    same(x, xs)


@pytest.mark.parametrize("name,kwargs", [
    ("gmres", {"restart": 3, "maxiter": 2}),
    ("gmres", {"restart": 50, "maxiter": 1}),
    ("lgmres", {"inner_m": 3, "maxiter": 2}),
    ("lgmres", {"inner_m": 5, "outer_k": 2, "maxiter": 4}),
    ("bicgstab", {"maxiter": 3}),
    ("cgs", {"maxiter": 3})])
@pytest.mark.parametrize("kind", ["dense", "operator"])
def test_maxiter_reached(name, kwargs, kind):
    A, b = nonsymmetric(100, 2, shift=0.5)      # hard: needs many steps
    (x, info), (xs, infos) = both(name, as_kind(A, kind), b, rtol=1e-12,
                                  **kwargs)
    assert info == infos == kwargs["maxiter"]
    same(x, xs)


@pytest.mark.parametrize("name", NONSYM + ["minres"])
def test_zero_rhs_gives_zero(name):
    A, _ = spd(10, 0)
    x0 = np.ones(10)
    x, info = getattr(fk, name)(A, np.zeros(10), x0=x0)
    assert info == 0
    assert np.array_equal(x, np.zeros(10))


@pytest.mark.parametrize("name", NONSYM)
def test_exact_solution_at_x0(name):
    A, b = nonsymmetric(15, 4)
    x0 = np.linalg.solve(A, b)
    (x, info), (xs, infos) = both(name, A, b, x0=x0)
    assert info == infos == 0
    same(x, xs, 1e-14)


@pytest.mark.parametrize("name", ["gmres", "lgmres"])
def test_krylov_space_exhausted(name):
    # three distinct eigenvalues: the exact solution lies in a 3-dimensional
    # Krylov space (Arnoldi breakdown, reported as success)
    n = 30
    A = np.diag(np.repeat([1.0, 2.0, 5.0], 10))
    b = np.random.default_rng(0).standard_normal(n)
    (x, info), (xs, infos) = both(name, A, b, rtol=1e-12)
    assert info == infos == 0
    same(x, xs)
    same(x, b / np.diag(A), 1e-10)


@pytest.mark.parametrize("name,A,b,expected", [
    ("bicgstab", [[1.0, -2.0], [-1.0, 0.0]], [0.0, -2.0], -11),
    ("cgs", [[1.0, -2.0], [-1.0, 0.0]], [0.0, -2.0], -11),
    ("bicgstab", [[-2.0, -1.0], [-1.0, 0.0]], [-2.0, -2.0], -10),
    ("cgs", [[1.0, -1.0, -1.0], [-1.0, 1.0, 0.0], [-2.0, -2.0, -2.0]],
     [0.0, 0.0, 2.0], -10)])
def test_breakdowns_reported_as_scipy(name, A, b, expected):
    A = np.array(A)
    b = np.array(b)
    with np.errstate(all="ignore"):
        (x, info), (xs, infos) = both(name, A, b, maxiter=20)
    assert info == infos == expected
    np.testing.assert_allclose(x, xs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["gmres", "bicgstab", "cgs", "minres"])
@pytest.mark.parametrize("kind", ["dense", "operator"])
def test_nonfinite_operator_stops_with_scipys_info(name, kind):
    # SciPy iterates on NaN up to maxiter; fastopt stops at once with the
    # same info
    A, b = spd(12, 0)
    A[3, 3] = np.nan
    with np.errstate(all="ignore"):
        (x, info), (xs, infos) = both(name, as_kind(A, kind), b, maxiter=40)
    assert info == infos == 40


def test_lgmres_singular_least_squares():
    # the same augmentation vector twice: the small least-squares matrix is
    # singular and SciPy's lstsq gives the minimum-norm solution
    A, b = nonsymmetric(20, 3)
    v = np.random.default_rng(2).standard_normal(20)
    v /= np.linalg.norm(v)
    for prepend in (True, False):
        ours = [(v.copy(), None), (v.copy(), None)]
        ref = [(v.copy(), None), (v.copy(), None)]
        kw = dict(inner_m=5, outer_k=3, maxiter=1, store_outer_Av=False,
                  prepend_outer_v=prepend)
        x, info = fk.lgmres(A, b, outer_v=ours, **kw)
        xs, infos = sl.lgmres(A, b, outer_v=ref, **kw)
        assert info == infos
        if prepend:
            # whether the duplicate column counts as a breakdown is decided
            # by rounding (its residual is ~eps relative): only ask for a
            # residual no worse than SciPy's
            assert (np.linalg.norm(A @ x - b)
                    <= np.linalg.norm(A @ xs - b) * (1 + 1e-8))
        else:
            same(x, xs, 1e-7)


def test_nonfinite_operator_lgmres():
    A, b = nonsymmetric(10, 0)
    A[3, 4] = np.nan
    with np.errstate(all="ignore"):
        (x, info), (xs, infos) = both("lgmres", A, b)
    assert info == infos == 1
    assert np.array_equal(x, xs)


# ----------------------------------------------------------------- gmres
@pytest.mark.parametrize("restart", [1, 5, 20, 100])
def test_gmres_restart(restart):
    A, b = nonsymmetric(60, 9, shift=1.5)
    (x, info), (xs, infos) = both("gmres", A, b, restart=restart,
                                  maxiter=30, rtol=1e-10)
    assert info == infos
    same(x, xs)


@pytest.mark.parametrize("callback_type", ["x", "pr_norm", "legacy"])
def test_gmres_callbacks(callback_type):
    A, b = nonsymmetric(40, 6, shift=1.0)
    ours, ref = [], []
    x, info = fk.gmres(A, b, restart=5, maxiter=7, callback=ours.append,
                       callback_type=callback_type)
    # SciPy passes its live x (copy it); fastopt passes copies
    xs, infos = sl.gmres(A, b, restart=5, maxiter=7,
                         callback=lambda v: ref.append(np.copy(v)),
                         callback_type=callback_type)
    assert info == infos
    same(x, xs)
    assert len(ours) == len(ref) > 0
    np.testing.assert_allclose(np.array(ours), np.array(ref), rtol=1e-8,
                               atol=1e-14)


def test_gmres_callback_without_type_warns_like_scipy():
    A, b = nonsymmetric(10, 1)
    with pytest.warns(DeprecationWarning, match="callback_type"):
        fk.gmres(A, b, callback=lambda r: None)


# ---------------------------------------------------------------- lgmres
def krylov_jacobian_options(outer_v):
    # what KrylovJacobian passes to lgmres
    return dict(inner_m=20, outer_k=3, maxiter=1, atol=0.0, outer_v=outer_v,
                prepend_outer_v=True, store_outer_Av=False)


@pytest.mark.parametrize("options", [
    krylov_jacobian_options,
    # SciPy's defaults; a fixed number of outer iterations on a hard
    # problem (a long unconverged run would amplify rounding differences)
    lambda ov: dict(inner_m=6, outer_k=2, outer_v=ov, maxiter=3),
    lambda ov: dict(inner_m=6, outer_k=4, outer_v=ov, prepend_outer_v=True,
                    maxiter=2),
    lambda ov: dict(inner_m=8, outer_k=3, outer_v=ov, store_outer_Av=False,
                    maxiter=3)])
def test_lgmres_outer_v_persists_across_calls(options):
    n = 120
    A, _ = nonsymmetric(n, 7, shift=1.0)
    rng = np.random.default_rng(8)
    ours, ref = [], []
    for call in range(6):
        # slowly varying right-hand sides, as in successive Newton steps
        b = np.sin(np.arange(n) * (1 + 0.1 * call)) + rng.standard_normal(n)
        ours_before, ref_before = list(ours), list(ref)
        x, info = fk.lgmres(A, b, rtol=1e-8, **options(ours))
        with np.errstate(all="ignore"):
            xs, infos = sl.lgmres(A, b, rtol=1e-8, **options(ref))
        assert info == infos
        same(x, xs)
        assert len(ours) == len(ref)
        # entries SciPy kept are kept (the same objects), in place
        for k, entry in enumerate(ref):
            old = [i for i, e in enumerate(ref_before) if e is entry]
            if old:
                assert ours[k] is ours_before[old[0]]
            else:
                assert all(ours[k] is not e for e in ours_before)
        for (v, av), (vs, avs) in zip(ours, ref):
            same(v, vs)
            assert (av is None) == (avs is None)
            if av is not None:
                same(av, avs)


def test_lgmres_preconditioned_with_outer_v():
    n = 70
    A, _ = nonsymmetric(n, 12)
    A += np.diag(np.linspace(1, 20, n))
    M = sl.aslinearoperator(np.diag(1 / np.diag(A)))
    ours, ref = [], []
    for seed in range(4):
        b = np.random.default_rng(seed).standard_normal(n)
        x, info = fk.lgmres(A, b, M=M, **krylov_jacobian_options(ours))
        xs, infos = sl.lgmres(A, b, M=M, **krylov_jacobian_options(ref))
        assert info == infos
        same(x, xs)


def test_lgmres_user_outer_v_longer_than_outer_k():
    n = 30
    A, b = nonsymmetric(n, 13)
    rng = np.random.default_rng(1)
    start = [(rng.standard_normal(n), None) for _ in range(5)]
    start.append((rng.standard_normal(n), rng.standard_normal(n)))
    ours = [(v.copy(), None if a is None else a.copy()) for v, a in start]
    ref = [(v.copy(), None if a is None else a.copy()) for v, a in start]
    x, info = fk.lgmres(A, b, outer_k=2, outer_v=ours, store_outer_Av=False)
    xs, infos = sl.lgmres(A, b, outer_k=2, outer_v=ref, store_outer_Av=False)
    assert info == infos
    same(x, xs)
    assert len(ours) == len(ref) == 2


def test_lgmres_callback_and_errors():
    A, b = nonsymmetric(25, 2)
    ours, ref = [], []
    fk.lgmres(A, b, inner_m=3, callback=ours.append)
    sl.lgmres(A, b, inner_m=3, callback=lambda v: ref.append(v.copy()))
    assert len(ours) == len(ref)
    for u, v in zip(ours, ref):
        same(u, v)
    b[0] = np.inf
    with pytest.raises(ValueError, match="RHS must contain only finite"):
        fk.lgmres(A, b)
    with pytest.raises(RuntimeError, match="Preconditioner returned a zero"):
        fk.lgmres(A, np.ones(25), M=np.zeros((25, 25)))


# ---------------------------------------------------------------- minres
@pytest.mark.parametrize("problem", [spd, indefinite])
@pytest.mark.parametrize("n", [20, 150])
@pytest.mark.parametrize("kind", KINDS)
def test_minres(problem, n, kind):
    A, b = problem(n, n)
    (x, info), (xs, infos) = both("minres", as_kind(A, kind), b, rtol=1e-10)
    assert info == infos == 0
    same(x, xs)


def test_minres_options():
    A, b = spd(90, 3)
    x0 = np.linspace(0, 1, 90)
    M = np.diag(1 / np.diag(A))
    for kwargs in ({"x0": x0}, {"M": M}, {"shift": 0.5}, {"shift": -0.3,
                   "x0": x0, "M": sl.aslinearoperator(M)},
                   {"maxiter": 4}, {"rtol": 1e-3}):
        (x, info), (xs, infos) = both("minres", A, b, **kwargs)
        assert info == infos, kwargs
        same(x, xs)
    x, info = fk.minres(A, b, maxiter=4)
    assert info == 4
    ours, ref = [], []
    fk.minres(A, b, callback=ours.append)
    sl.minres(A, b, callback=lambda v: ref.append(v.copy()))
    assert len(ours) == len(ref)
    same(ours[-1], ref[-1])


def test_minres_errors_as_scipy():
    A, b = spd(10, 0)
    with pytest.raises(ValueError, match="indefinite preconditioner"):
        fk.minres(A, b, M=-np.eye(10))
    with pytest.raises(ValueError, match="indefinite preconditioner"):
        sl.minres(A, b, M=-np.eye(10))


# ----------------------------------------------------------------- input
@pytest.mark.parametrize("name", NONSYM + ["minres"])
def test_bad_input(name):
    A, b = spd(5, 0)
    solve = getattr(fk, name)
    with pytest.raises(ValueError, match="expected square matrix"):
        solve(np.ones((5, 4)), b)
    with pytest.raises(ValueError, match="incompatible"):
        solve(A, np.ones(4))
    with pytest.raises(ValueError, match="x0"):
        solve(A, b, x0=np.ones(3))
    with pytest.raises(TypeError, match="complex"):
        solve(A.astype(complex), b)
    with pytest.raises(ValueError, match="different shapes"):
        solve(A, b, M=np.eye(4))
    if name != "minres":
        with pytest.raises(ValueError, match="atol"):
            solve(A, b, atol=-1.0)


def test_user_exception_propagates():
    class Boom(Exception):
        pass

    def matvec(v):
        raise Boom("from the user")

    op = sl.LinearOperator((4, 4), matvec=matvec, dtype=float)
    for name in NONSYM + ["minres"]:
        with pytest.raises(Boom, match="from the user"):
            getattr(fk, name)(op, np.ones(4))


# ---------------------------------------------------------------- kernel
def test_protocol_never_asks_for_the_zero_vector():
    # with x0 = 0 SciPy's lgmres multiplies the zero vector; the kernel
    # uses A @ 0 = 0 itself, so finite-difference matvecs need no special
    # case; requests never overlap their output
    A, b = nonsymmetric(30, 1)
    for method in range(5):
        if method == kk.METHOD_MINRES:
            A = A + A.T
        iw, rw = kk.krylov_workspace(method, 30, 10, 3, 4, 0, True, True, 0)
        code = kk.krylov_start(iw, rw, b, np.zeros(30), True, 1e-8, 0.0,
                               50)
        count = 0
        while code != kk.DONE:
            src, dst = iw[kk.I_SRC], iw[kk.I_DST]
            assert abs(src - dst) >= 30
            v = rw[src:src + 30]
            if code == kk.MATVEC:
                assert np.any(v != 0)
                rw[dst:dst + 30] = A @ v
                count += 1
            else:
                rw[dst:dst + 30] = v
            code = kk.krylov_step(iw, rw)
        assert iw[kk.I_INFO] == 0
        assert iw[kk.I_NMATVEC] == count
        x = rw[iw[kk.I_X]:iw[kk.I_X] + 30]
        assert np.linalg.norm(A @ x - b) <= 1e-7 * np.linalg.norm(b)


@njit(cache=False)
def _tridiagonal_solve(method, n, restart, b, maxiter):
    # a compiled caller: the matvec of tridiag(-1, 2.5, -1) in place
    iw, rw = kk.krylov_workspace(method, n, restart, 3, 4, 0, True, False, 0)
    code = kk.krylov_start(iw, rw, b, b, False, 1e-10, 0.0, maxiter)
    while code != kk.DONE:
        src = iw[kk.I_SRC]
        dst = iw[kk.I_DST]
        for i in range(n):
            y = 2.5 * rw[src + i]
            if i > 0:
                y -= rw[src + i - 1]
            if i < n - 1:
                y -= rw[src + i + 1]
            rw[dst + i] = y
        code = kk.krylov_step(iw, rw)
    return rw[iw[kk.I_X]:iw[kk.I_X] + n].copy(), iw[kk.I_INFO]


def test_compiled_caller_matches_scipy():
    n = 200
    A = sp.diags_array([-np.ones(n - 1), 2.5 * np.ones(n), -np.ones(n - 1)],
                       offsets=[-1, 0, 1]).tocsr()
    b = np.cos(np.arange(n))
    names = {kk.METHOD_GMRES: "gmres", kk.METHOD_LGMRES: "lgmres",
             kk.METHOD_BICGSTAB: "bicgstab", kk.METHOD_CGS: "cgs",
             kk.METHOD_MINRES: "minres"}
    for method, name in names.items():
        x, info = _tridiagonal_solve(method, n, 20, b, 1000)
        kwargs = {"restart": 20} if name == "gmres" else {}
        if name == "lgmres":
            kwargs = {"inner_m": 20, "outer_k": 3, "prepend_outer_v": True,
                      "store_outer_Av": False, "outer_v": []}
        xs, infos = getattr(sl, name)(A, b, rtol=1e-10, maxiter=1000,
                                      **kwargs)
        assert info == infos, name
        same(x, xs)


def test_workspace_keeps_outer_vectors_across_starts():
    # the compiled path of KrylovJacobian: one workspace, one krylov_start
    # per Newton step; SciPy keeps the same outer_v list
    n = 90
    A, _ = nonsymmetric(n, 21, shift=1.5)
    iw, rw = kk.krylov_workspace(kk.METHOD_LGMRES, n, 20, 3, 4, 0, True,
                                 False, 0)
    ref = []
    for call in range(6):
        b = np.cos(np.arange(n) * (1 + 0.2 * call))
        code = kk.krylov_start(iw, rw, b, np.zeros(n), False, 1e-6, 0.0, 1)
        while code != kk.DONE:
            src, dst = iw[kk.I_SRC], iw[kk.I_DST]
            rw[dst:dst + n] = A @ rw[src:src + n]
            code = kk.krylov_step(iw, rw)
        x = rw[iw[kk.I_X]:iw[kk.I_X] + n]
        xs, infos = sl.lgmres(A, b, rtol=1e-6, **krylov_jacobian_options(ref))
        assert iw[kk.I_INFO] == infos == 1
        assert iw[kk.I_NOUTER] == len(ref) == min(call + 1, 3)
        same(x, xs)
        # one matvec per outer vector and Arnoldi step (x0 = 0 needs none)
        assert iw[kk.I_NMATVEC] == iw[kk.I_INNER]


def test_documented_workspace_sizes():
    for n in (7, 50):
        for r in (1, 20):
            iw, rw = kk.krylov_workspace(kk.METHOD_GMRES, n, r, 0, 0, 0,
                                         False, False, 0)
            assert rw.dtype == np.float64 and iw.dtype == np.int64
            assert len(rw) == kk.RW_HEAD + (r + 6) * n + r * r + 5 * r + 2
            for cap, store in ((1, 0), (4, 0), (4, 1), (4, 2)):
                iw, rw = kk.krylov_workspace(kk.METHOD_LGMRES, n, r, cap - 1,
                                             cap, store, True, False, 0)
                m = max(1, r + cap - 1)
                assert len(rw) == (kk.RW_HEAD
                                   + (m + 5 + cap * (1 + (store != 0))) * n
                                   + 2 * m * (m + 1) + 6 * m + 4)
                assert len(iw) == kk.IW_HEAD + 2 * (cap + r + 1) + m + 1
        for method, k in ((kk.METHOD_BICGSTAB, 9), (kk.METHOD_CGS, 11),
                          (kk.METHOD_MINRES, 9)):
            iw, rw = kk.krylov_workspace(method, n, 5, 0, 0, 0, False,
                                         False, 0)
            assert len(rw) == kk.RW_HEAD + k * n


@pytest.mark.parametrize("kind", ["dense", "operator"])
def test_workspace_object_as_krylov_jacobian_uses_it(kind):
    n = 80
    A, _ = nonsymmetric(n, 22, shift=1.5)
    M = np.diag(1 / np.diag(A))
    ws = {name: fk.KrylovWorkspace(name, n, restart=20, outer_k=4)
          for name in ("gmres", "lgmres", "bicgstab", "cgs")}
    ref = []
    for call in range(5):
        b = np.cos(np.arange(n) * (1 + 0.3 * call))
        x, info = ws["lgmres"].solve(as_kind(A, kind), b, rtol=1e-6,
                                     maxiter=1, M=M if call % 2 else None)
        xs, infos = sl.lgmres(A, b, rtol=1e-6, maxiter=1, outer_k=4,
                              outer_v=ref, prepend_outer_v=True,
                              store_outer_Av=False, M=M if call % 2 else None)
        assert info == infos
        same(x, xs)
        assert len(ws["lgmres"].outer_v) == len(ref)
        for (v, av), (vs, avs) in zip(ws["lgmres"].outer_v, ref):
            same(v, vs)
            assert av is None and avs is None
        for name, kwargs in (("gmres", {"restart": 20, "maxiter": 1}),
                             ("bicgstab", {"maxiter": 20}),
                             ("cgs", {"maxiter": 20})):
            x, info = ws[name].solve(as_kind(A, kind), b, rtol=1e-6,
                                     maxiter=kwargs["maxiter"])
            xs, infos = getattr(sl, name)(A, b, rtol=1e-6, atol=0.0,
                                          **kwargs)
            assert info == infos
            same(x, xs)
    assert ws["bicgstab"].nmatvec > 0 and ws["bicgstab"].niter > 0
    sym = fk.KrylovWorkspace("minres", n)
    S = A + A.T
    x, info = sym.solve(S, b, rtol=1e-10, shift=0.2)
    xs, infos = sl.minres(S, b, rtol=1e-10, shift=0.2)
    assert info == infos
    same(x, xs)
    with pytest.raises(ValueError, match="size 80"):
        sym.solve(np.eye(3), np.ones(3))
    with pytest.raises(ValueError, match="method must be one of"):
        fk.KrylovWorkspace("tfqmr", 3)


@pytest.mark.parametrize("nv", [0, 1, 2, 5])
def test_one_pass_gram_schmidt_is_modified_gram_schmidt(nv):
    # _mgs sums each coefficient in the pass that subtracts the previous
    # one: the result is a dot-then-axpy modified Gram-Schmidt's to
    # rounding, with w orthogonal to the basis after it
    rng = np.random.default_rng(nv)
    n = 1003
    V = np.linalg.qr(rng.standard_normal((n, max(nv, 1))))[0][:, :nv].T
    w = rng.standard_normal(n)
    ovv, ow, hc = 0, nv * n, (nv + 1) * n
    rw = np.zeros(hc + nv + 1)
    rw[:nv * n] = V.ravel()
    rw[ow:ow + n] = w
    before, after = kk._mgs(rw, ovv, nv, ow, hc, n)
    expect_h = np.empty(nv + 1)
    ref = w.copy()
    for k in range(nv):
        expect_h[k] = V[k] @ ref
        ref -= expect_h[k] * V[k]
    expect_h[nv] = np.linalg.norm(ref)
    assert before == pytest.approx(np.linalg.norm(w), rel=1e-14)
    assert after == pytest.approx(expect_h[nv], rel=1e-13)
    np.testing.assert_allclose(rw[hc:hc + nv + 1], expect_h, rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(rw[ow:ow + n], ref, rtol=0, atol=1e-13)
    assert np.all(np.abs(V @ rw[ow:ow + n]) < 1e-13)
