"""Powell's hybrid method (MINPACK hybrd/hybrj) against SciPy 1.17.

The oracle is ``scipy.optimize._minpack._hybrd``/``_hybrj`` (whose
``nfev`` is MINPACK's own count: SciPy's ``root`` reports the number of
Python calls, which includes extra shape-check calls) and
``scipy.optimize.root(method='hybr')`` for x.  The catalogue is the
MINPACK test set of square systems (Moré, Garbow, Hillstrom 1981), from
the standard starts scaled by 1, 10 and 100.
"""
import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_allclose, assert_array_equal
import scipy.linalg
from scipy.optimize import _minpack, root
from scipy.optimize._minpack_py import _root_hybr

from fastopt._hybr import solve_hybr
from arrays import point_user, read_only_copy, unaligned_copy
from mgh_problems import SQUARE_SYSTEMS, complex_step_jac, rosenbrock, wood
from fastopt._kernels import hybrd as H
from fastopt._kernels.minpack_qr import (enorm, fill_point, qform, qrfac,
                                         r1mpyq, r1updt, packed_index)


# --------------------------------------------------------------------------
# minpack_qr kernels
# --------------------------------------------------------------------------

def test_enorm_matches_norm_and_is_overflow_safe():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(17)
    assert_allclose(enorm(x), np.linalg.norm(x), rtol=1e-15)
    assert enorm(np.empty(0)) == 0.0
    assert_allclose(enorm(np.array([3e200, 4e200])), 5e200, rtol=1e-15)
    assert_allclose(enorm(np.array([3e-200, 4e-200])), 5e-200, rtol=1e-15)
    assert_allclose(enorm(np.array([3e-25, 4e5, 1e25])),
                    np.hypot(4e5, 1e25), rtol=1e-15)
    assert np.isnan(enorm(np.array([1.0, np.nan])))


def _unpack_qr(a, rdiag, m, n):
    k = min(m, n)
    q = np.zeros((m, m))
    q[:, :k] = a[:, :k]
    qform(q, n)
    R = np.triu(a[:min(m, n), :])
    R[np.arange(min(m, n)), np.arange(min(m, n))] = rdiag[:min(m, n)]
    return q, R


@pytest.mark.parametrize("m,n", [(5, 5), (7, 4), (4, 6), (1, 3)])
@pytest.mark.parametrize("pivot", [False, True])
def test_qrfac_qform_reconstruct(m, n, pivot):
    rng = np.random.default_rng(m * 10 + n)
    a0 = rng.standard_normal((m, n))
    a = a0.copy()
    ipvt, rdiag, acnorm = qrfac(a, pivot)
    assert ipvt.dtype == np.int64
    assert_allclose(acnorm, np.linalg.norm(a0, axis=0), rtol=1e-14)
    q, R = _unpack_qr(a, rdiag, m, n)
    assert_allclose(q.T @ q, np.eye(m), atol=1e-14)
    assert_allclose(q[:, :min(m, n)] @ R, a0[:, ipvt], atol=1e-13)
    if pivot:
        _, Rs, p = scipy.linalg.qr(a0, pivoting=True)
        assert_array_equal(ipvt, p)
        assert_allclose(np.abs(rdiag[:min(m, n)]), np.abs(np.diag(Rs)),
                        rtol=1e-12)
        assert np.all(np.diff(np.abs(rdiag[:min(m, n)])) <= 1e-14)
    else:
        assert_array_equal(ipvt, np.arange(n))
        Rn = np.linalg.qr(a0, mode="r")
        assert_allclose(np.abs(R), np.abs(Rn[:min(m, n)]), atol=1e-13)


def test_qrfac_zero_and_rank_deficient_columns():
    a0 = np.array([[1.0, 0.0, 2.0], [2.0, 0.0, 4.0], [3.0, 0.0, 6.0]])
    a = a0.copy()
    ipvt, rdiag, acnorm = qrfac(a, True)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(rdiag))
    q, R = _unpack_qr(a, rdiag, 3, 3)
    assert_allclose(q @ R, a0[:, ipvt], atol=1e-13)
    assert abs(rdiag[2]) == 0.0


def _pack(R):
    n = R.shape[0]
    return np.concatenate([R[i, i:] for i in range(n)])


def _unpack(r, n):
    R = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            R[i, j] = r[packed_index(i, j, n)]
    return R


@pytest.mark.parametrize("n", [1, 2, 5])
def test_r1updt_r1mpyq_rank_one_update(n):
    # Q^T (R + v u^T) upper triangular, with the same rotations applied to
    # Q: the product is the dense rank-one update of Q R.
    rng = np.random.default_rng(n)
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    u = rng.standard_normal(n)
    v = rng.standard_normal(n)
    target = Q @ (R + np.outer(v, u))
    s = _pack(R)
    w = np.empty(n)
    vv = v.copy()
    sing = r1updt(s, u, vv, w, n, n)
    assert not sing
    Q2 = Q.copy()
    r1mpyq(Q2, vv, w)
    R2 = _unpack(s, n)
    assert_allclose(Q2.T @ Q2, np.eye(n), atol=1e-14)
    assert_allclose(Q2 @ R2, target, atol=1e-13)
    # the same rotations on a vector (qtf) give Q2^T (Q b) = Q2^T Q b
    b = rng.standard_normal(n)
    qtb = (Q.T @ b).reshape(1, n).copy()
    r1mpyq(qtb, vv, w)
    assert_allclose(qtb[0], Q2.T @ b, atol=1e-13)


def test_r1updt_reports_singular():
    n = 3
    R = np.triu(np.ones((n, n)))
    u = np.array([0.0, 0.0, -1.0])
    v = np.array([0.0, 0.0, 1.0])
    s = _pack(R)
    assert r1updt(s, u, v.copy(), np.empty(n), n, n)


# --------------------------------------------------------------------------
# Catalogue of square systems (MINPACK's hybrd test set)
# Written for real or complex x, so that the "analytic" Jacobian can be the
# complex-step derivative (exact to rounding; both solvers get the same).
# --------------------------------------------------------------------------

CATALOGUE = SQUARE_SYSTEMS
SCALES = [1.0, 10.0, 100.0]


def _start(x0, scale):
    # MINPACK's test driver: a zero start becomes `scale` in every entry.
    if scale == 1.0:
        return x0.copy()
    if not np.any(x0):
        return np.full_like(x0, scale)
    return scale * x0


def _scipy(fun, x0, jac=None, band=None, **kw):
    n = x0.size
    xtol = kw.get("xtol", 1.49012e-08)
    factor = kw.get("factor", 100)
    diag = kw.get("diag", None)
    if jac is None:
        ml, mu = (-10, -10) if band is None else band
        out = _minpack._hybrd(fun, x0.copy(), (), 1, xtol, 200 * (n + 1),
                              ml, mu, np.finfo(float).eps, factor, diag)
    else:
        out = _minpack._hybrj(fun, jac, x0.copy(), (), 1, 0, xtol,
                              100 * (n + 1), factor, diag)
    return out[0], out[1], out[-1]


def _cases():
    for name in CATALOGUE:
        for scale in SCALES:
            for use_jac in (False, True):
                yield name, scale, use_jac, None
    for scale in SCALES:
        yield "broyden_tridiagonal", scale, False, (1, 1)
        yield "broyden_banded", scale, False, (5, 1)


CASES = list(_cases())
_SUMMARY = []


@pytest.mark.parametrize("name,scale,use_jac,band", CASES,
                         ids=[f"{c[0]}-x{c[1]:g}-{'jac' if c[2] else 'fd'}"
                              f"{'-band' if c[3] else ''}" for c in CASES])
def test_catalogue_matches_scipy(name, scale, use_jac, band):
    fun, x0 = CATALOGUE[name]
    x0 = _start(x0, scale)
    jac = complex_step_jac(fun) if use_jac else None
    with np.errstate(all="ignore"):
        theirs_x, theirs, theirs_status = _scipy(fun, x0, jac, band)
        ours = solve_hybr(fun, x0, jac=jac, band=band)
    same_nfev = ours["nfev"] == theirs["nfev"]
    _SUMMARY.append((name, scale, use_jac, band, ours["status"],
                     theirs_status, ours["nfev"], theirs["nfev"]))
    assert ours["status"] == theirs_status
    assert same_nfev, (ours["nfev"], theirs["nfev"])
    if use_jac:
        assert ours["njev"] == theirs["njev"]
    else:
        assert ours["njev"] is None
    assert_allclose(ours["x"], theirs_x, rtol=1e-6, atol=1e-12)
    assert_allclose(ours["fun"], theirs["fvec"], rtol=1e-6, atol=1e-10)
    if theirs_status == 1:
        assert_allclose(ours["r"], theirs["r"], rtol=1e-6, atol=1e-8)


def test_catalogue_summary():
    # Runs after the catalogue (same module, definition order): prints
    # the agreement so that `pytest -s` shows it.
    if not _SUMMARY:
        pytest.skip("catalogue not run")
    total = len(_SUMMARY)
    nfev = sum(s[6] == s[7] for s in _SUMMARY)
    status = sum(s[4] == s[5] for s in _SUMMARY)
    print(f"\nhybr catalogue: status agrees {status}/{total}, "
          f"nfev agrees exactly {nfev}/{total}")


def test_root_reports_the_same_x_on_rosenbrock():
    x0 = np.array([-1.2, 1.0])
    sol = root(rosenbrock, x0, method="hybr")
    ours = solve_hybr(rosenbrock, x0)
    assert_allclose(ours["x"], sol.x, rtol=1e-12)
    assert_allclose(ours["fjac"], sol.fjac, rtol=1e-12, atol=1e-14)
    assert_allclose(ours["r"], sol.r, rtol=1e-12, atol=1e-14)
    assert_allclose(ours["qtf"], sol.qtf, rtol=1e-12, atol=1e-14)
    assert ours["status"] == sol.status == 1


def test_fjac_r_factor_the_final_jacobian():
    # Stopped right after the first Jacobian: J = fjac.T @ triu(r).
    x0 = np.array([-1.2, 1.0])
    out = solve_hybr(rosenbrock, x0, maxfev=4)
    theirs = root(rosenbrock, x0, method="hybr", options={"maxfev": 4})
    assert out["status"] == theirs.status == 2
    n = 2
    R = _unpack(out["r"], n)
    J = complex_step_jac(rosenbrock)(x0)
    assert_allclose(out["fjac"].T @ R, J, rtol=1e-6, atol=1e-6)
    assert_allclose(out["fjac"], theirs.fjac, rtol=1e-12, atol=1e-14)
    assert_allclose(out["qtf"], theirs.qtf, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------
# Options and input handling
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(xtol=1e-3), dict(factor=0.5),
                                dict(diag=[1.0, 2.0, 3.0, 4.0]),
                                dict(xtol=0.0)],
                         ids=["xtol", "factor", "diag", "xtol0"])
def test_options_match_scipy(kw):
    x0 = np.array([-3.0, -1.0, -3.0, -1.0])
    theirs = root(wood, x0, method="hybr", options=dict(kw))
    ours = solve_hybr(wood, x0, **kw)
    assert ours["status"] == theirs.status
    assert_allclose(ours["x"], theirs.x, rtol=1e-6)
    theirs_raw = _scipy(wood, x0, **{k: np.asarray(v, float) if k == "diag"
                                     else v for k, v in kw.items()})
    assert ours["nfev"] == theirs_raw[1]["nfev"]


def test_maxfev_and_eps_and_col_deriv():
    x0 = np.array([-1.2, 1.0])
    ours = solve_hybr(rosenbrock, x0, maxfev=5)
    assert ours["status"] == 2 and ours["nfev"] == 5
    theirs = root(rosenbrock, x0, method="hybr", options={"eps": 1e-6})
    ours = solve_hybr(rosenbrock, x0, eps=1e-6)
    assert_allclose(ours["x"], theirs.x, rtol=1e-10)
    jac = complex_step_jac(rosenbrock)
    jt = lambda x: jac(x).T.copy()  # noqa: E731
    a = solve_hybr(rosenbrock, x0, jac=jac)
    b = solve_hybr(rosenbrock, x0, jac=jt, col_deriv=1)
    assert a["nfev"] == b["nfev"] and a["njev"] == b["njev"]
    assert_array_equal(a["x"], b["x"])


def test_improper_input_gives_status_0():
    x0 = np.array([-1.2, 1.0])
    for kw in (dict(diag=[1.0, 0.0]), dict(factor=0.0), dict(xtol=-1.0)):
        ours = solve_hybr(rosenbrock, x0, **kw)
        theirs = root(rosenbrock, x0, method="hybr", options=dict(kw))
        assert ours["status"] == theirs.status == 0, kw
        assert ours["nfev"] == 0


def test_bad_diag_and_band_raise():
    x0 = np.array([-1.2, 1.0])
    with pytest.raises(ValueError, match="diag"):
        solve_hybr(rosenbrock, x0, diag=[1.0])
    for band in [(1,), (-1, 0), (0.5, 1), "ab"]:
        with pytest.raises(ValueError, match="band"):
            solve_hybr(rosenbrock, x0, band=band)


def test_shape_mismatch_and_size_change():
    def three(x):
        return np.zeros(3)
    msg = ("fsolve: there is a mismatch between the input and output shape "
           "of the 'func' argument 'three'.Shape should be (2,) but it is "
           "(3,).")
    with pytest.raises(TypeError) as info:
        solve_hybr(three, [1.0, 2.0])
    assert str(info.value) == msg
    with pytest.raises(TypeError) as theirs:
        _root_hybr(three, [1.0, 2.0])
    assert str(theirs.value) == msg
    calls = []

    def growing(x):
        calls.append(1)
        return np.zeros(2) + x if len(calls) < 3 else np.zeros(3)

    with pytest.raises(ValueError, match="changed size between calls"):
        solve_hybr(growing, [1.0, 2.0])
    calls.clear()
    with pytest.raises(ValueError, match="changed size between calls"):
        root(growing, [1.0, 2.0], method="hybr")


def test_user_exception_propagates():
    class Boom(Exception):
        pass

    def f(x):
        raise Boom("boom")

    with pytest.raises(Boom, match="boom"):
        solve_hybr(f, [1.0])


def test_nonfinite_value_stops_with_status_6():
    def f(x):
        return np.array([x[0] - 1.0, np.nan * x[1]])
    out = solve_hybr(f, [0.0, 1.0])
    assert out["status"] == 6 and out["nfev"] == 1
    assert not out["success"]


def test_reverse_communication_protocol():
    x0 = np.array([-1.2, 1.0])
    iw, rw = H.hybr_start(x0, 1.49012e-8, 0, 1, 1, 2.2e-16, 100.0, 1,
                          np.ones(2), False, False)
    offsets = H.hybr_layout(2)
    assert rw.size == offsets[-1]
    xe = rw[offsets[8]:offsets[8] + 2]
    nofj = np.empty((0, 0))
    action = iw[H.I_ACTION]
    evaluations = 0
    while action != H.DONE:
        assert action == H.EVALUATE_F
        evaluations += 1
        action = H.hybr_advance(iw, rw, rosenbrock(xe.copy()), nofj)
    assert iw[H.I_STATUS] == 1
    assert iw[H.I_NFEV] == evaluations
    x, fvec, fjac, r, qtf = H.hybr_result(iw, rw)
    assert_allclose(x, [1.0, 1.0])


# --------------------------------------------------------------------------
# The compiled path: @njit functions
# --------------------------------------------------------------------------

@njit
def jit_rosenbrock(x):
    return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


@njit
def jit_rosenbrock_jac(x):
    return np.array([[-20.0 * x[0], 10.0], [-1.0, 0.0]])


@njit
def jit_powell_singular(x, a):
    return np.array([x[0] + a * x[1], np.sqrt(5.0) * (x[2] - x[3]),
                     (x[1] - 2.0 * x[2]) ** 2,
                     np.sqrt(10.0) * (x[0] - x[3]) ** 2])


@njit
def jit_powell_singular_jac(x, a):
    J = np.zeros((4, 4))
    J[0, 0] = 1.0
    J[0, 1] = a
    J[1, 2] = np.sqrt(5.0)
    J[1, 3] = -np.sqrt(5.0)
    J[2, 1] = 2.0 * (x[1] - 2.0 * x[2])
    J[2, 2] = -4.0 * (x[1] - 2.0 * x[2])
    J[3, 0] = 2.0 * np.sqrt(10.0) * (x[0] - x[3])
    J[3, 3] = -2.0 * np.sqrt(10.0) * (x[0] - x[3])
    return J


@njit
def jit_broyden_tridiagonal(x):
    n = x.size
    f = np.empty(n)
    for i in range(n):
        f[i] = (3.0 - 2.0 * x[i]) * x[i] + 1.0
        if i > 0:
            f[i] -= x[i - 1]
        if i < n - 1:
            f[i] -= 2.0 * x[i + 1]
    return f


@njit
def jit_broyden_tridiagonal_jac(x):
    n = x.size
    J = np.zeros((n, n))
    for i in range(n):
        J[i, i] = 3.0 - 4.0 * x[i]
        if i > 0:
            J[i, i - 1] = -1.0
        if i < n - 1:
            J[i, i + 1] = -2.0
    return J


JIT_CASES = [
    ("rosenbrock", jit_rosenbrock, jit_rosenbrock_jac, np.array([-1.2, 1.0]),
     (), None),
    ("powell_singular", jit_powell_singular, jit_powell_singular_jac,
     np.array([3.0, -1.0, 0.0, 1.0]), (10.0,), None),
    ("tridiagonal", jit_broyden_tridiagonal, jit_broyden_tridiagonal_jac,
     -np.ones(10), (), None),
    ("tridiagonal_band", jit_broyden_tridiagonal, None, -np.ones(10), (),
     (1, 1)),
]


# (case, use_jac): the banded case has no Jacobian variant.
JIT_RUNS = [(case, use_jac) for case in JIT_CASES for use_jac in (False, True)
            if case[2] is not None or not use_jac]


@pytest.mark.parametrize("scale", [1.0, 10.0])
@pytest.mark.parametrize("case,use_jac", JIT_RUNS,
                         ids=[f"{c[0]}-{'jac' if j else 'fd'}"
                              for c, j in JIT_RUNS])
def test_njit_matches_scipy_and_python_path(case, use_jac, scale):
    name, fun, jac, x0, args, band = case
    x0 = scale * x0
    jac = jac if use_jac else None
    ours = solve_hybr(fun, x0, args=args, jac=jac, band=band)
    py_fun = fun.py_func
    py_jac = None if jac is None else jac.py_func
    python = solve_hybr(py_fun, x0, args=args, jac=py_jac, band=band)
    theirs = root(fun, x0, args=args, jac=jac, method="hybr",
                  options={"band": band})
    # compiled and Python paths run the same kernels: identical results
    assert_array_equal(ours["x"], python["x"])
    assert ours["nfev"] == python["nfev"]
    assert ours["njev"] == python["njev"]
    assert_array_equal(ours["fjac"], python["fjac"])
    assert ours["status"] == theirs.status
    if theirs.status == 1:
        assert_allclose(ours["x"], theirs.x, rtol=1e-6, atol=1e-12)
    if jac is None:
        ml, mu = (-10, -10) if band is None else band
        raw = _minpack._hybrd(fun, x0.copy(), args, 1, 1.49012e-08,
                              200 * (x0.size + 1), ml, mu,
                              np.finfo(float).eps, 100, None)
        assert ours["nfev"] == raw[1]["nfev"]


def test_njit_shape_error_and_status_0():
    @njit
    def three(x):
        return np.zeros(3)
    with pytest.raises(TypeError, match=r"Shape should be \(2,\) but it is "
                                        r"\(3,\)"):
        solve_hybr(three, np.array([1.0, 2.0]))
    out = solve_hybr(jit_rosenbrock, np.array([-1.2, 1.0]), factor=-1.0)
    assert out["status"] == 0 and out["nfev"] == 0


def test_njit_dispatcher_in_generic_driver():
    # hybr_solve called directly with numba dispatchers (the generic
    # driver other compiled code can call)
    x0 = np.array([-1.2, 1.0])
    x, fvec, fjac, r, qtf, info, fnorm0 = H.hybr_solve(
        jit_rosenbrock, jit_rosenbrock_jac, (), x0, 1.49012e-8, 0, 1, 1,
        2.220446049250313e-16, 100.0, 1, np.ones(2), True, False)
    ours = solve_hybr(rosenbrock, x0, jac=complex_step_jac(rosenbrock))
    assert info[0] == 1
    assert_allclose(x, ours["x"], rtol=1e-12)
    assert_allclose(fnorm0, np.linalg.norm(rosenbrock(x0)), rtol=1e-15)
    assert ours["fnorm0"] == fnorm0


def test_njit_jacobian_shape_error():
    @njit
    def bad_jac(x):
        return np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"'fprime' argument 'bad_jac'.*"
                                        r"\(2, 2\) but it is \(2, 3\)"):
        solve_hybr(jit_rosenbrock, np.array([-1.2, 1.0]), jac=bad_jac)


def test_float32_output_uses_float32_eps_like_scipy():
    def f32(x):
        return np.array([x[0] ** 2 - 2, x[1] - x[0] ** 3], dtype=np.float32)
    x0 = np.array([3.0, 1.0])
    ours = solve_hybr(f32, x0)
    raw = _minpack._hybrd(f32, x0.copy(), (), 1, 1.49012e-08, 600, -10, -10,
                          float(np.finfo(np.float32).eps), 100, None)
    assert ours["status"] == raw[-1]
    assert ours["nfev"] == raw[1]["nfev"]
    assert_allclose(ours["x"], raw[0], rtol=1e-12)


def test_scalar_function_of_one_variable():
    def g(x):
        return np.log(x[0]) - 1.0
    ours = solve_hybr(g, 0.5)
    theirs = root(g, 0.5, method="hybr")
    assert ours["x"].shape == (1,)
    assert_allclose(ours["x"], theirs.x, rtol=1e-10)
    assert ours["status"] == theirs.status == 1


SWEEP = ["rosenbrock", "wood", "helical_valley", "trigonometric",
         "integral_equation", "broyden_banded"]
SWEEP_OPTIONS = [dict(factor=1.0), dict(factor=0.1), dict(xtol=1e-12),
                 dict(diag="ramp"), dict(eps=1e-10)]


@pytest.mark.parametrize("kw", SWEEP_OPTIONS,
                         ids=["factor1", "factor0.1", "xtol", "diag", "eps"])
@pytest.mark.parametrize("name", SWEEP)
def test_option_sweep_matches_minpack(name, kw):
    fun, x0 = CATALOGUE[name]
    x0 = _start(x0, 10.0)
    n = x0.size
    kw = dict(kw)
    if kw.get("diag") == "ramp":
        kw["diag"] = np.linspace(0.5, 2.0, n)
    for use_jac in (False, True):
        if use_jac and "eps" in kw:
            continue
        jac = complex_step_jac(fun) if use_jac else None
        diag = kw.get("diag")
        with np.errstate(all="ignore"):
            ours = solve_hybr(fun, x0, jac=jac, **kw)
            if use_jac:
                raw = _minpack._hybrj(fun, jac, x0.copy(), (), 1, 0,
                                      kw.get("xtol", 1.49012e-08),
                                      100 * (n + 1), kw.get("factor", 100),
                                      None if diag is None else diag.copy())
            else:
                raw = _minpack._hybrd(fun, x0.copy(), (), 1,
                                      kw.get("xtol", 1.49012e-08),
                                      200 * (n + 1), -10, -10,
                                      kw.get("eps", np.finfo(float).eps),
                                      kw.get("factor", 100),
                                      None if diag is None else diag.copy())
        assert ours["status"] == raw[-1]
        assert ours["nfev"] == raw[1]["nfev"]
        assert_allclose(ours["x"], raw[0], rtol=1e-6, atol=1e-12)


def test_nested_and_threaded_solves():
    # The state lives in per-call arrays: solves nest and run on threads.
    import concurrent.futures

    def outer(x):
        inner = solve_hybr(lambda y: y ** 2 - x[0] ** 2, [1.0])
        return np.array([inner["x"][0] - 2.0])

    out = solve_hybr(outer, [1.0])
    assert out["status"] == 1
    assert_allclose(abs(out["x"][0]), 2.0, rtol=1e-8)
    starts = [np.array([-3.0, -1.0, -3.0, -1.0]) * s for s in (1, 2, 3, 4)]
    serial = [solve_hybr(wood, s) for s in starts]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(lambda s: solve_hybr(wood, s), starts))
    for a, b in zip(serial, threaded):
        assert_array_equal(a["x"], b["x"])
        assert a["nfev"] == b["nfev"]


# --------------------------------------------------------------------------
# Block evaluation of the finite-difference Jacobian and the fast paths of
# the Python driver

def _run_protocol(fun, x0, block, ml=None, mu=None):
    n = x0.size
    ml = n - 1 if ml is None else ml
    mu = n - 1 if mu is None else mu
    iw, rw = H.hybr_start(x0, 1.49012e-8, 0, ml, mu, 2.220446049250313e-16,
                          100.0, 1, np.ones(n), False, False, block)
    oe = H.hybr_layout(n)[8]
    xe = rw[oe:oe + n]
    nofj = np.empty((0, 0))
    action = iw[H.I_ACTION]
    calls = 0
    while action != H.DONE:
        if action == H.EVALUATE_BLOCK:
            points, values = H.hybr_block(iw, rw)
            for k in range(points.shape[0]):
                values[k] = fun(points[k].copy())
                calls += 1
            action = H.hybr_advance(iw, rw, np.empty(0), nofj)
        else:
            assert action == H.EVALUATE_F
            calls += 1
            action = H.hybr_advance(iw, rw, fun(xe.copy()), nofj)
    return iw, rw, calls


@pytest.mark.parametrize("band", [None, (1, 1), (0, 2)])
def test_block_mode_matches_one_point_at_a_time(band):
    def f(x):
        out = np.empty_like(x)
        out[0] = (3 - 2 * x[0]) * x[0] - 2 * x[1] + 1
        out[1:-1] = (3 - 2 * x[1:-1]) * x[1:-1] - x[:-2] - 2 * x[2:] + 1
        out[-1] = (3 - 2 * x[-1]) * x[-1] - x[-2] + 1
        return out
    x0 = -np.ones(7)
    ml, mu = (None, None) if band is None else band
    iw1, rw1, c1 = _run_protocol(f, x0, False, ml, mu)
    iw2, rw2, c2 = _run_protocol(f, x0, True, ml, mu)
    assert iw1[H.I_STATUS] == iw2[H.I_STATUS] == 1
    assert iw1[H.I_NFEV] == iw2[H.I_NFEV] == c1 == c2
    assert_array_equal(H.hybr_result(iw1, rw1)[0], H.hybr_result(iw2, rw2)[0])
    assert_array_equal(H.hybr_result(iw1, rw1)[2], H.hybr_result(iw2, rw2)[2])


def test_block_mode_nonfinite_counts_every_call():
    def f(x):
        if x[1] != 1.0:
            return np.array([np.nan, 0.0])
        return np.array([x[0] - 2.0, x[1] - 1.0])
    iw, rw, calls = _run_protocol(f, np.array([0.0, 1.0]), True)
    assert iw[H.I_STATUS] == 6
    assert iw[H.I_NFEV] == calls == 3


@pytest.mark.parametrize("kind", ["strided", "list", "readonly"])
def test_python_driver_converts_other_outputs(kind):
    def base(x):
        return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])

    def f(x):
        v = base(x)
        if kind == "strided":
            w = np.empty(4)
            w[::2] = v
            return w[::2]
        if kind == "list":
            return v.tolist()
        v.flags.writeable = False
        return v
    ref = solve_hybr(base, [-1.2, 1.0])
    out = solve_hybr(f, [-1.2, 1.0])
    assert out["status"] == ref["status"] and out["nfev"] == ref["nfev"]
    assert_array_equal(out["x"], ref["x"])
    assert_array_equal(out["fjac"], ref["fjac"])


def test_python_driver_size_change_after_first_call():
    calls = []

    def f(x):
        calls.append(1)
        if len(calls) > 4:
            return np.zeros(3)
        return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])
    with pytest.raises(ValueError, match="changed size"):
        solve_hybr(f, [-1.2, 1.0])


def test_compiled_result_arrays_are_independent_of_python_path():
    ours = solve_hybr(jit_rosenbrock, np.array([-1.2, 1.0]))
    py = solve_hybr(rosenbrock, np.array([-1.2, 1.0]))
    for key in ("x", "fun", "fjac", "r", "qtf"):
        assert_array_equal(ours[key], py[key])
        assert ours[key].flags.c_contiguous
    assert ours["nfev"] == py["nfev"] and ours["status"] == py["status"]
    assert ours["fnorm0"] == py["fnorm0"]


@njit
def _fill_twice(src, keep):
    xs = np.zeros(2)
    xs = fill_point(xs, src, 0, 2)
    first = xs.ctypes.data
    kept = xs if keep else np.zeros(2)
    xs = fill_point(xs, src, 2, 2)
    return kept, xs, first == xs.ctypes.data


def test_fill_point_reuses_the_array_unless_someone_keeps_it():
    # The compiled drivers hand the user's function one reused point array
    # (fill_point); a function that keeps a reference to it must keep its
    # values, as with a fresh copy per call.
    src = np.array([1.0, 2.0, 3.0, 4.0])
    kept, xs, same = _fill_twice(src, True)
    assert not same
    assert_array_equal(kept, [1.0, 2.0])
    assert_array_equal(xs, [3.0, 4.0])
    _, xs, same = _fill_twice(src, False)
    assert same
    assert_array_equal(xs, [3.0, 4.0])


# --------------------------------------------------------------------------
# The Python layer's memos: compiled entry points, reused work spaces

@pytest.mark.parametrize("kind", ["njit", "python"])
def test_read_only_and_unaligned_inputs_give_identical_runs(kind):
    # x0 and diag of any alignment and writeability: the same iterates as
    # plain arrays (the Python layer copies them into the one array type
    # the memoised compiled entry points take), and as MINPACK's.
    fun = jit_powell_singular if kind == "njit" else jit_powell_singular.py_func
    x0 = np.array([3.0, -1.0, 0.0, 1.0])
    diag = np.array([1.0, 2.0, 0.5, 1.0])
    args = (10.0,)
    for use_diag in (False, True):
        d = diag if use_diag else None
        ref = solve_hybr(fun, x0, args=args, diag=d)
        raw = _minpack._hybrd(jit_powell_singular.py_func, x0.copy(), args,
                              1, 1.49012e-08, 1000, -10, -10,
                              np.finfo(float).eps, 100,
                              diag if use_diag else None)
        assert ref["nfev"] == raw[1]["nfev"]
        assert_allclose(ref["x"], raw[0], rtol=1e-12, atol=1e-300)
        for convert in (unaligned_copy, read_only_copy):
            got = solve_hybr(fun, convert(x0), args=args,
                             diag=None if d is None else convert(d))
            assert_array_equal(got["x"], ref["x"])
            assert_array_equal(got["fjac"], ref["fjac"])
            assert (got["nfev"], got["status"]) == (ref["nfev"],
                                                    ref["status"])


def test_compiled_entry_points_are_memoised_per_argument_types():
    from fastopt import _kernel_calls

    x0 = np.array([3.0, -1.0, 0.0, 1.0])
    first = solve_hybr(jit_powell_singular, x0, args=(10.0,))
    assert (H.hybrd_at, (float,)) in _kernel_calls._KERNEL_ENTRIES
    again = solve_hybr(jit_powell_singular, x0, args=(10.0,))
    with_jac = solve_hybr(jit_powell_singular, x0, args=(10.0,),
                          jac=jit_powell_singular_jac)
    assert (H.hybrj_at, (float,)) in _kernel_calls._KERNEL_ENTRIES
    for key in ("x", "fun", "fjac", "r", "qtf"):
        assert_array_equal(again[key], first[key])
    assert again["nfev"] == first["nfev"]
    # the same iterates as the Python driver (and MINPACK: see
    # test_njit_matches_scipy_and_python_path)
    py = solve_hybr(jit_powell_singular.py_func, x0, args=(10.0,),
                    jac=jit_powell_singular_jac.py_func)
    assert_array_equal(with_jac["x"], py["x"])
    assert (with_jac["nfev"], with_jac["njev"]) == (py["nfev"], py["njev"])
    # arguments _args_key cannot describe, and integers beyond int64, go
    # through the dispatcher every time
    assert _kernel_calls.kernel_key((object(),), 5) is None
    assert _kernel_calls.kernel_key((), 2 ** 63) is None
    assert _kernel_calls.kernel_key((), 5, False) is None


def test_reused_work_spaces_do_not_leak_between_solves():
    from fastopt import _hybr

    x0 = np.array([-1.2, 1.0])
    first = solve_hybr(rosenbrock, x0)
    kept = {key: np.copy(first[key]) for key in ("x", "fun", "fjac", "r",
                                                 "qtf")}
    assert _hybr._WORKSPACES.get(2)
    # another solve of the same size, and one that fails half way, reuse
    # the space; the first results stay as they were
    other = solve_hybr(rosenbrock, 3.0 * x0)
    calls = []

    def fails(x):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("stop")
        return rosenbrock(x)

    with pytest.raises(RuntimeError, match="stop"):
        solve_hybr(fails, x0)
    repeat = solve_hybr(rosenbrock, x0)
    for key, value in kept.items():
        assert_array_equal(first[key], value)
        assert_array_equal(repeat[key], value)
    assert repeat["nfev"] == first["nfev"]
    assert other["nfev"] != first["nfev"]
    raw = _minpack._hybrd(rosenbrock, x0.copy(), (), 1, 1.49012e-08, 600,
                          -10, -10, np.finfo(float).eps, 100, None)
    assert repeat["nfev"] == raw[1]["nfev"]
    assert_allclose(repeat["x"], raw[0], rtol=1e-12)


@pytest.mark.parametrize("behaviour", ["keep", "keep_every_other",
                                       "overwrite", "return_argument",
                                       "return_view"])
@pytest.mark.parametrize("use_jac", [False, True])
def test_python_driver_point_array_kept_overwritten_or_returned(behaviour,
                                                                use_jac):
    # The Python driver hands the function one point array that the kernels
    # refill, replacing it when the function keeps a reference: whatever
    # the function does with its argument, it sees the points of a run
    # with a fresh copy per call (bit for bit, with the same nfev and
    # result as MINPACK's), and what it keeps keeps its values.
    x0 = np.array([-1.2, 1.0])
    jac = None
    if use_jac:
        def jac(x):
            return np.array([[-20.0 * x[0], 10.0], [-1.0, 0.0]])
    ref_seen = []
    ref = solve_hybr(point_user(rosenbrock, "none", ref_seen, []), x0,
                     jac=jac)
    seen, kept = [], []
    out = solve_hybr(point_user(rosenbrock, behaviour, seen, kept), x0,
                     jac=jac)
    assert (out["nfev"], out["status"]) == (ref["nfev"], ref["status"])
    assert len(seen) == ref["nfev"] == len(ref_seen)
    for got, want in zip(seen, ref_seen):
        assert_array_equal(got, want)
    for key in ("x", "fun", "fjac", "r", "qtf"):
        assert_array_equal(out[key], ref[key])
    if behaviour in ("keep", "keep_every_other"):
        # every kept array is a distinct one, holding the point it got
        assert kept and len({id(x) for x in kept}) == len(kept)
        for x in kept:
            assert any(np.array_equal(x, p) for p in seen)
    if behaviour == "return_argument":
        for x, p in zip(kept, (p for p in seen)):
            assert_array_equal(x, rosenbrock(p))
    # and MINPACK's run (SciPy's wrapper)
    if use_jac:
        raw = _minpack._hybrj(rosenbrock, jac, x0.copy(), (), 1, 0,
                              1.49012e-08, 300, 100, None)
    else:
        raw = _minpack._hybrd(rosenbrock, x0.copy(), (), 1, 1.49012e-08, 600,
                              -10, -10, np.finfo(float).eps, 100, None)
    assert_allclose(out["x"], raw[0], rtol=1e-12)
    assert out["nfev"] == raw[1]["nfev"]


def test_python_driver_maxfev_beyond_int64():
    # The Python driver's compiled entries take int64s: a maxfev beyond
    # that range is never reached (the run is the default one, MINPACK's),
    # a negative one is improper input (status 0, nothing evaluated).
    ref = solve_hybr(rosenbrock, [-1.2, 1.0])
    for maxfev in (2 ** 63, 2 ** 70):
        out = solve_hybr(rosenbrock, [-1.2, 1.0], maxfev=maxfev)
        assert (out["status"], out["nfev"]) == (ref["status"], ref["nfev"])
        assert_array_equal(out["x"], ref["x"])
    out = solve_hybr(rosenbrock, [-1.2, 1.0], maxfev=-2 ** 70)
    assert (out["status"], out["nfev"]) == (0, 0)
