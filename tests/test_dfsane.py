"""DF-SANE (``root(method='df-sane')``) against SciPy 1.17.

The oracle is ``scipy.optimize.root(method='df-sane')``.  fastopt's port
performs the same floating-point operations in the same order, so the
comparisons are strict: ``nfev``, ``nit`` and ``success`` exactly equal,
``x`` and ``fun`` to 1e-12 relative (they agree bit for bit in practice),
callback and ``disp`` sequences identical.  Above ``K.LONG_DOT`` unknowns
(where BLAS's threads make SciPy's own result depend on the thread count)
the kernels use their own dot products, and the comparison is to the
convergence tolerance (test_large_system_matches_scipy_to_tolerance).
"""
import warnings

import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_allclose
from scipy.optimize import OptimizeWarning, root

from fastopt import _examples as E
from fastopt._dfsane import root_df_sane
from fastopt._kernels import dfsane as K
from mgh_problems import boundary_value as discrete_bv
from mgh_problems import bvp_start as discrete_bv_x0

RTOL = 1e-12


def scipy_dfsane(fun, x0, args=(), callback=None, **options):
    with warnings.catch_warnings():
        # SciPy's own arithmetic may overflow on wild trial steps
        warnings.simplefilter("ignore", RuntimeWarning)
        return root(fun, x0, args=args, method="df-sane", callback=callback,
                    options=options)


def assert_same(ours, ref):
    assert ours.nfev == ref.nfev
    assert ours.nit == ref.nit
    assert ours.success == ref.success
    assert ours.message == ref.message
    assert ours.method == "df-sane"
    assert ours.x.shape == ref.x.shape and ours.x.dtype == ref.x.dtype
    assert ours.fun.shape == ref.fun.shape
    assert_allclose(ours.x, ref.x, rtol=RTOL, atol=1e-300)
    assert_allclose(ours.fun, ref.fun, rtol=RTOL, atol=1e-300)


def compare(fun, x0, fun_jit=None, **options):
    ref = scipy_dfsane(fun, x0, **options)
    assert_same(root_df_sane(fun, x0, **options), ref)
    if fun_jit is not None:
        # SciPy calls the @njit function too: its values can differ from
        # the NumPy version's in the last bit (x * x against pow(x, 2))
        assert_same(root_df_sane(fun_jit, x0, **options),
                    scipy_dfsane(fun_jit, x0, **options))
    return ref


# --------------------------------------------------------------------------
# test problems
# --------------------------------------------------------------------------

@njit
def discrete_bv_jit(x):
    n = x.size
    h = 1.0 / (n + 1)
    f = np.empty(n)
    for i in range(n):
        t = (i + 1) * h
        f[i] = 2.0 * x[i] + 0.5 * h * h * (x[i] + t + 1.0) ** 3
        if i > 0:
            f[i] -= x[i - 1]
        if i < n - 1:
            f[i] -= x[i + 1]
    return f


def bratu(x, lam):
    """2-D Bratu problem -Laplace(u) = lam exp(u), zero boundary values,
    on a k-by-k grid, scaled by h^2."""
    k = int(round(np.sqrt(x.size)))
    u = x.reshape(k, k)
    h2 = 1.0 / (k + 1) ** 2
    f = 4.0 * u - h2 * lam * np.exp(u)
    f[1:, :] -= u[:-1, :]
    f[:-1, :] -= u[1:, :]
    f[:, 1:] -= u[:, :-1]
    f[:, :-1] -= u[:, 1:]
    return f.ravel()


@njit
def bratu_jit(x, lam):
    k = int(round(np.sqrt(x.size)))
    h2 = 1.0 / (k + 1) ** 2
    f = np.empty(x.size)
    for r in range(k):
        for c in range(k):
            i = r * k + c
            v = 4.0 * x[i] - h2 * lam * np.exp(x[i])
            if r > 0:
                v -= x[i - k]
            if r < k - 1:
                v -= x[i + k]
            if c > 0:
                v -= x[i - 1]
            if c < k - 1:
                v -= x[i + 1]
            f[i] = v
    return f


C_RHS = np.array([1.0 + 2.0j, -0.5 + 0.25j, 3.0])


def complex_system(z):
    return np.exp(z) - 1.0 - 0.3 * C_RHS


# --------------------------------------------------------------------------
# SciPy's answers, counts included
# --------------------------------------------------------------------------

@pytest.mark.parametrize("line_search", ["cruz", "cheng"])
@pytest.mark.parametrize("name", sorted(E.ROOT_PROBLEMS))
def test_mgh_systems_match_scipy(name, line_search):
    # Rosenbrock, Powell singular and helical valley exhaust maxfev in
    # SciPy too: the counts and the final iterate still match exactly.
    fun, fun_jit, x0 = E.root_problem(name)
    ref = compare(fun, x0, fun_jit, line_search=line_search)
    assert ref.success == (name == "broyden_tridiagonal_10")


@pytest.mark.parametrize("options", [{}, {"line_search": "cheng"}, {"M": 1},
                                     {"M": 5}, {"sigma_0": 0.3},
                                     {"sigma_0": -2.0},
                                     {"sigma_eps": 1e-2},
                                     {"ftol": 1e-12, "fatol": 1e-14},
                                     {"M": None}])
def test_broyden_tridiagonal_options_match_scipy(options):
    x0 = -np.ones(300)
    ref = compare(E.broyden_tridiagonal, x0, E.broyden_tridiagonal_jit,
                  **options)
    assert ref.nit > 10


@pytest.mark.parametrize("line_search", ["cruz", "cheng"])
def test_discrete_boundary_value_matches_scipy(line_search):
    x0 = discrete_bv_x0(200)
    ref = compare(discrete_bv, x0, discrete_bv_jit, line_search=line_search,
                  maxfev=3000)
    assert ref.nit > 10


@pytest.mark.parametrize("line_search", ["cruz", "cheng"])
def test_bratu_2d_matches_scipy(line_search):
    # a 20 x 20 grid keeps the test short (the benchmark and the demo run
    # larger grids); SciPy needs ~600 iterations
    k = 20
    x0 = np.zeros(k * k)
    ref = compare(bratu, x0, bratu_jit, args=(5.0,), line_search=line_search,
                  maxfev=4000)
    assert ref.success


def test_nonlinear_poisson_matches_scipy():
    fun, fun_jit, x0, _ = E.sparse_problem("laplacian2d", 900)
    compare(fun, x0, fun_jit, M=3)


def test_complex_x0_matches_scipy():
    x0 = np.array([1.0 + 1.0j, 0.5 - 0.5j, 1.0 + 0.0j])
    ref = compare(complex_system, x0, line_search="cheng")
    assert ref.x.dtype == np.complex128 and ref.success
    compare(complex_system, x0)


def test_real_x0_with_complex_residual_matches_scipy():
    ref = compare(complex_system, np.array([1.0, 0.5, 1.0]))
    assert ref.x.dtype == np.complex128 and ref.fun.dtype == np.complex128


def test_complex_njit_function_runs_on_the_real_view():
    @njit
    def fun(z):
        return np.exp(z) - 1.0 - 0.3 * C_RHS

    x0 = np.array([1.0 + 1.0j, 0.5 - 0.5j, 1.0 + 0.0j])
    ours = root_df_sane(fun, x0)
    assert_same(ours, scipy_dfsane(fun, x0))
    assert ours.success and ours.x.dtype == np.complex128


def test_njit_function_with_real_input_and_complex_output():
    @njit
    def fun(x):
        return np.exp(x.astype(np.complex128)) - 1.0 - 0.3 * C_RHS

    x0 = np.array([1.0, 0.5, 1.0])
    ours = root_df_sane(fun, x0)
    assert_same(ours, scipy_dfsane(fun, x0))
    assert ours.success and ours.x.dtype == np.complex128


def test_x_keeps_the_shape_of_x0_and_fun_is_raveled():
    def fun(x):
        assert x.shape == (3, 4)
        return E.broyden_tridiagonal(x.ravel()).reshape(3, 4)

    x0 = -np.ones((3, 4))
    ref = scipy_dfsane(fun, x0)
    ours = root_df_sane(fun, x0)
    assert_same(ours, ref)
    assert ours.x.shape == (3, 4) and ours.fun.shape == (12,)


def test_integer_x0_and_list_x0():
    ref = scipy_dfsane(E.broyden_tridiagonal, -np.ones(10))
    ours = root_df_sane(E.broyden_tridiagonal, [-1] * 10)
    assert_same(ours, ref)
    assert ours.x.dtype == np.float64


def test_args_are_passed_to_python_and_njit_functions():
    @njit
    def shifted(x, a, b):
        return E.broyden_tridiagonal_jit(x) - a * b

    def shifted_py(x, a, b):
        return E.broyden_tridiagonal(x) - a * b

    x0 = -np.ones(20)
    ref = root(shifted_py, x0, args=(0.5, 0.2), method="df-sane")
    assert_same(root_df_sane(shifted_py, x0, args=(0.5, 0.2)), ref)
    assert_same(root_df_sane(shifted, x0, args=(0.5, 0.2)), ref)
    # a lone extra argument need not be wrapped in a tuple
    one = root_df_sane(lambda x, c: E.broyden_tridiagonal(x) - c, x0,
                       args=0.1)
    ref1 = root(lambda x, c: E.broyden_tridiagonal(x) - c, x0, args=0.1,
                method="df-sane")
    assert_same(one, ref1)


# --------------------------------------------------------------------------
# user hooks
# --------------------------------------------------------------------------

def _recorder():
    calls = []

    def record(*values):
        calls.append(tuple(np.array(v, copy=True) if isinstance(v, np.ndarray)
                           else v for v in values))
    return calls, record


def _assert_same_calls(ours, ref):
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            assert_allclose(u, v, rtol=RTOL, atol=0)


def test_callback_sequence_matches_scipy():
    x0 = -np.ones(30)
    ref_calls, ref_cb = _recorder()
    our_calls, our_cb = _recorder()
    ref = scipy_dfsane(E.broyden_tridiagonal, x0, callback=ref_cb)
    ours = root_df_sane(E.broyden_tridiagonal, x0, callback=our_cb)
    assert_same(ours, ref)
    _assert_same_calls(our_calls, ref_calls)
    assert len(our_calls) == ref.nit + 1   # before the first step too
    # and an @njit residual with a Python callback (the Python loop)
    jit_calls, jit_cb = _recorder()
    assert_same(root_df_sane(E.broyden_tridiagonal_jit, x0,
                             callback=jit_cb), ref)
    _assert_same_calls(jit_calls, ref_calls)


def test_callback_gets_real_views_for_complex_problems():
    x0 = np.array([1.0 + 1.0j, 0.5 - 0.5j, 1.0 + 0.0j])
    ref_calls, ref_cb = _recorder()
    our_calls, our_cb = _recorder()
    scipy_dfsane(complex_system, x0, callback=ref_cb)
    root_df_sane(complex_system, x0, callback=our_cb)
    _assert_same_calls(our_calls, ref_calls)
    assert our_calls[0][0].dtype == np.float64 and our_calls[0][0].size == 6


def test_user_fnorm_matches_scipy_and_is_called_as_often():
    x0 = -np.ones(50)
    ref_calls, ref_rec = _recorder()
    our_calls, our_rec = _recorder()

    def norm_with(record):
        def fnorm(F):
            record(F)
            return np.abs(F).max()
        return fnorm

    ref = scipy_dfsane(E.broyden_tridiagonal, x0, fnorm=norm_with(ref_rec))
    ours = root_df_sane(E.broyden_tridiagonal, x0, fnorm=norm_with(our_rec))
    assert_same(ours, ref)
    _assert_same_calls(our_calls, ref_calls)
    assert len(our_calls) == ref.nit + 2   # F(x0) twice, as SciPy


def test_user_eta_strategy_matches_scipy():
    x0 = -np.ones(50)
    ref_calls, ref_rec = _recorder()
    our_calls, our_rec = _recorder()

    def eta_with(record):
        def eta(k, x, F):
            record(k, x, F)
            return 0.5 ** k * float(F @ F)
        return eta

    ref = scipy_dfsane(E.broyden_tridiagonal, x0, eta_strategy=eta_with(ref_rec),
                       line_search="cheng")
    ours = root_df_sane(E.broyden_tridiagonal, x0,
                        eta_strategy=eta_with(our_rec), line_search="cheng")
    assert_same(ours, ref)
    _assert_same_calls(our_calls, ref_calls)
    # once per iteration that searches (also the last, cut by maxfev)
    assert [c[0] for c in our_calls] == list(range(len(our_calls)))
    assert len(our_calls) in (ref.nit, ref.nit + 1)


def test_disp_prints_scipys_lines(capsys):
    x0 = -np.ones(10)
    res = scipy_dfsane(E.broyden_tridiagonal, x0, disp=True, sigma_0=2)
    ref = capsys.readouterr().out
    root_df_sane(E.broyden_tridiagonal, x0, disp=True, sigma_0=2)
    ours = capsys.readouterr().out
    assert ours == ref
    assert ours.startswith("iter 0: ||F|| = ")
    assert ours.count("\n") == res.nit + 1


def test_disp_with_user_fnorm(capsys):
    x0 = -np.ones(10)
    scipy_dfsane(E.broyden_tridiagonal, x0, disp=True, fnorm=np.linalg.norm)
    ref = capsys.readouterr().out
    root_df_sane(E.broyden_tridiagonal_jit, x0, disp=True,
                 fnorm=np.linalg.norm)
    assert capsys.readouterr().out == ref


# --------------------------------------------------------------------------
# maxfev, non-finite residuals, errors
# --------------------------------------------------------------------------

@pytest.mark.parametrize("maxfev", [1, 2, 7, 30])
def test_maxfev_exhaustion_matches_scipy(maxfev):
    calls = []

    def fun(x):
        calls.append(1)
        return E.broyden_tridiagonal(x)

    x0 = -np.ones(10)
    ref = scipy_dfsane(E.broyden_tridiagonal, x0, maxfev=maxfev)
    ours = root_df_sane(fun, x0, maxfev=maxfev)
    assert_same(ours, ref)
    assert ours.message == "too many function evaluations required"
    assert ours.status == 1 and len(calls) == maxfev
    assert_same(root_df_sane(E.broyden_tridiagonal_jit, x0, maxfev=maxfev),
                ref)


def test_maxfev_as_float_and_inf():
    x0 = -np.ones(10)
    ref = scipy_dfsane(E.broyden_tridiagonal, x0, maxfev=6.5)
    assert_same(root_df_sane(E.broyden_tridiagonal, x0, maxfev=6.5), ref)
    ref = scipy_dfsane(E.broyden_tridiagonal, x0, maxfev=np.inf)
    assert_same(root_df_sane(E.broyden_tridiagonal, x0, maxfev=np.inf), ref)


def test_success_status_and_result_fields():
    ours = root_df_sane(E.broyden_tridiagonal, -np.ones(10))
    assert ours.success and ours.status == 0
    assert ours.message == "successful convergence"
    assert set(ours) == {"x", "success", "message", "fun", "nfev", "nit",
                         "method", "status"}


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_residual_at_x0_stops_at_once(bad):
    def fun(x):
        f = E.broyden_tridiagonal(x)
        f[3] = bad
        return f

    @njit
    def fun_jit(x):
        f = E.broyden_tridiagonal_jit(x)
        f[3] = np.nan
        return f

    for f in (fun, fun_jit):
        ours = root_df_sane(f, -np.ones(10))
        assert not ours.success and ours.status == 2
        assert ours.nfev == 1 and ours.nit == 0
        assert "not finite" in ours.message
    # SciPy burns every evaluation and fails too
    ref = scipy_dfsane(fun, -np.ones(10), maxfev=50)
    assert not ref.success and ref.nfev == 50


def test_nan_at_a_trial_point_is_rejected_and_never_a_success():
    # sqrt is nan for negative arguments: the first trial step from x0
    # leaves the domain for some components
    def fun(x):
        with np.errstate(invalid="ignore"):
            return np.sqrt(x) - np.array([0.5, 1.0, 1.5])

    @njit
    def fun_jit(x):
        return np.sqrt(x) - np.array([0.5, 1.0, 1.5])

    x0 = np.array([4.0, 0.1, 9.0])
    for f in (fun, fun_jit):
        ours = root_df_sane(f, x0, sigma_0=5.0)
        assert ours.success
        assert np.all(np.isfinite(ours.fun))
        assert_allclose(ours.x, [0.25, 1.0, 2.25], rtol=1e-6)
    # where nan never goes away the run fails
    ours = root_df_sane(lambda x: np.full(3, np.nan) if x[0] != 1 else
                        x - 1.0 + 1.0, np.ones(3), maxfev=20)
    assert not ours.success and ours.nfev == 20
    assert np.all(np.isfinite(ours.fun))


def test_invalid_line_search_raises_before_any_evaluation():
    calls = []

    def fun(x):
        calls.append(1)
        return x

    with pytest.raises(ValueError, match="Invalid value 'armijo' for "
                                         "'line_search'"):
        root_df_sane(fun, np.ones(2), line_search="armijo")
    with pytest.raises(ValueError) as ref:
        root(fun, np.ones(2), method="df-sane",
             options={"line_search": "armijo"})
    assert not calls or len(calls) == 0
    assert str(ref.value) == "Invalid value 'armijo' for 'line_search'"


def test_unknown_options_warn_like_scipy():
    with pytest.warns(OptimizeWarning, match="Unknown solver options: "
                                             "xtol, foo"):
        ours = root_df_sane(E.broyden_tridiagonal, -np.ones(10), xtol=1.0,
                            foo=2)
    assert ours.success


def test_empty_and_missing_x0_raise():
    with pytest.raises(ValueError, match="x0"):
        root_df_sane(lambda x: x, np.empty(0))
    with pytest.raises(TypeError, match="x0"):
        root_df_sane(lambda x: x, None)
    with pytest.raises(TypeError, match="x0"):
        root_df_sane(lambda x: x, ["a", "b"])


@pytest.mark.parametrize("options,kind,name", [
    ({"M": 0}, ValueError, "M"), ({"M": 2.5}, ValueError, "M"),
    ({"sigma_eps": 0.0}, ValueError, "sigma_eps"),
    ({"fnorm": 3}, TypeError, "fnorm"),
    ({"eta_strategy": "x"}, TypeError, "eta_strategy"),
    ({"callback": 1}, TypeError, "callback"),
    ({"maxfev": "many"}, TypeError, "maxfev"),
    ({"ftol": "small"}, TypeError, "ftol")])
def test_bad_options_name_the_option(options, kind, name):
    calls = []

    def fun(x):
        calls.append(1)
        return x

    with pytest.raises(kind, match=name):
        root_df_sane(fun, np.ones(2), **options)
    assert not calls


def test_wrong_residual_size_raises():
    with pytest.raises(ValueError, match="one residual per unknown"):
        root_df_sane(lambda x: np.ones(3), np.ones(2))

    @njit
    def short(x):
        return x[:1].copy()

    with pytest.raises(ValueError, match="one residual per unknown"):
        root_df_sane(short, np.ones(2))

    @njit
    def growing(x):
        return np.ones(4) if x[0] != 1.0 else x - 0.5

    with pytest.raises(ValueError, match="changed size"):
        root_df_sane(growing, np.ones(3))


def test_user_exceptions_propagate_unchanged():
    class Boom(Exception):
        pass

    def fun(x):
        if x[0] > -0.9:
            raise Boom("from fun")
        return E.broyden_tridiagonal(x)

    with pytest.raises(Boom, match="from fun"):
        root_df_sane(fun, -np.ones(5))

    @njit
    def fun_jit(x):
        if x[0] > -0.9:
            raise ZeroDivisionError("from fun_jit")
        return E.broyden_tridiagonal_jit(x)

    with pytest.raises(ZeroDivisionError, match="from fun_jit"):
        root_df_sane(fun_jit, -np.ones(5))

    def bad_callback(x, F):
        raise Boom("from callback")

    with pytest.raises(Boom, match="from callback"):
        root_df_sane(E.broyden_tridiagonal, -np.ones(5),
                     callback=bad_callback)


# --------------------------------------------------------------------------
# the compiled path
# --------------------------------------------------------------------------

def test_njit_runs_without_the_python_loop(monkeypatch):
    import fastopt._dfsane as D

    def refuse(*args, **kwargs):
        raise AssertionError("the Python loop ran")

    ref = root_df_sane(E.broyden_tridiagonal, -np.ones(40))
    monkeypatch.setattr(D, "_solve_python", refuse)
    assert_same(root_df_sane(E.broyden_tridiagonal_jit, -np.ones(40)), ref)


def test_new_njit_function_does_not_recompile_the_solver():
    @njit
    def first(x):
        return E.broyden_tridiagonal_jit(x) - 0.1

    @njit
    def second(x):
        return E.broyden_tridiagonal_jit(x) + 0.1

    root_df_sane(first, -np.ones(10))
    before = (len(K.dfsane_at.signatures), len(K.dfsane_start.signatures))
    ours = root_df_sane(second, -np.ones(10))
    after = (len(K.dfsane_at.signatures), len(K.dfsane_start.signatures))
    assert before == after
    assert_same(ours, scipy_dfsane(lambda x: E.broyden_tridiagonal(x) + 0.1,
                                   -np.ones(10)))


def test_kernels_have_one_specialisation_per_argument_kind():
    # options of other Python types are normalised before the kernels see
    # them: no new specialisation
    root_df_sane(E.broyden_tridiagonal, -np.ones(10))
    before = (len(K.dfsane_start.signatures),
              len(K.dfsane_advance.signatures))
    root_df_sane(E.broyden_tridiagonal, [-1] * 10, ftol=1, M=np.int32(3),
                 sigma_0=np.float32(1.0), maxfev=100.0, fatol=np.float32(0),
                 sigma_eps=1, line_search="cheng", disp=0)
    root_df_sane(complex_system, np.ones(3, dtype=np.complex64),
                 eta_strategy=lambda k, x, F: np.float32(1.0),
                 fnorm=lambda F: 1, callback=lambda x, F: None)
    after = (len(K.dfsane_start.signatures),
             len(K.dfsane_advance.signatures))
    assert after == before


def test_state_is_linear_in_n_and_m():
    # four n-vectors (two (x, F) pairs) and the window
    n, M = 1000, 7
    x0 = np.zeros(n)
    iw, rw = K.dfsane_start(x0, x0 + 1.0, 1e-8, 0.0, 10, M, 1.0, 1e-10,
                            False, False, 0.0, False, False, 2.0, 0.5, 16)
    assert rw.size == K.NSCALAR + 4 * n + M and rw.dtype == np.float64
    assert iw.size == K.NISCALAR


def test_njit_function_returning_its_argument():
    # the compiled driver passes its own trial vector (as SciPy does) and
    # keeps the returned array: a function returning x itself must not
    # corrupt the iterate
    @njit
    def identity(x):
        return x

    @njit
    def scaled(x):
        x *= 1.0        # in place, then returned
        return x

    x0 = np.linspace(-3.0, 2.0, 7)
    for fun in (identity, scaled):
        ours = root_df_sane(fun, x0)
        assert_same(ours, scipy_dfsane(lambda x: x.copy(), x0))
        assert ours.success and np.array_equal(ours.x, ours.fun)


def test_points_kept_by_a_python_function_are_not_overwritten():
    # the Python loop hands the function the array it got last time when
    # the function kept no reference to it; kept ones (stored, returned,
    # or viewed by the result) must keep their values, and the sequence of
    # points must be SciPy's
    def run(solver, keep):
        kept, seen = [], []

        def fun(x):
            seen.append(x.copy())
            if keep == "store":
                kept.append(x)
            elif keep == "view":
                kept.append(x[1:])
            if keep == "return":
                # F(x) = x, as x itself (SciPy gets a copy: its own x
                # would alias its residual)
                return x if solver is root_df_sane else x.copy()
            return E.broyden_tridiagonal(x)
        result = solver(fun, np.linspace(-1.0, 2.0, 8))
        return result, kept, seen

    for keep in ("store", "view", "return", None):
        ours, kept, seen = run(root_df_sane, keep)
        ref, _, ref_seen = run(scipy_dfsane, keep)
        assert_same(ours, ref)
        _assert_same_calls([(a,) for a in seen], [(b,) for b in ref_seen])
        if keep == "store":
            for x, copy in zip(kept, seen):
                assert np.array_equal(x, copy)
        if keep == "view":
            for x, copy in zip(kept, seen):
                assert np.array_equal(x, copy[1:])


def test_memoised_options_keep_their_type_checks():
    # validated options are memoised on (type, value): maxfev=True and M=True
    # must still fail after maxfev=1 and M=1 (equal keys without the types)
    x0 = -np.ones(5)
    root_df_sane(E.broyden_tridiagonal_jit, x0, maxfev=1, M=1)
    with pytest.raises(TypeError, match="maxfev"):
        root_df_sane(E.broyden_tridiagonal_jit, x0, maxfev=True)
    with pytest.raises(ValueError, match="M"):
        root_df_sane(E.broyden_tridiagonal_jit, x0, M=True)
    # and equal values of other types give SciPy's run again
    ref = scipy_dfsane(E.broyden_tridiagonal, x0, maxfev=37, M=3)
    for options in ({"maxfev": 37, "M": 3}, {"maxfev": 37.0, "M": 3},
                    {"maxfev": np.int64(37), "M": np.int32(3)}):
        assert_same(root_df_sane(E.broyden_tridiagonal_jit, x0, **options),
                    ref)


def test_memoised_compiled_path_per_function_and_argument_types():
    # the compiled entry is memoised per function and per argument types:
    # new functions (possibly at a dead one's id) and new argument types
    # get their own
    import gc

    x0 = -np.ones(12)
    for shift in (0.1, -0.2, 0.3):
        @njit
        def shifted(x, c):
            return E.broyden_tridiagonal_jit(x) - c

        for c in (shift, np.float64(shift), np.full(12, shift)):
            ref = scipy_dfsane(lambda x, c: E.broyden_tridiagonal(x) - c, x0,
                               args=(c,))
            assert_same(root_df_sane(shifted, x0, args=(c,)), ref)
        del shifted
        gc.collect()


def test_read_only_x0_takes_the_compiled_path():
    x0 = -np.ones(10)
    ref = root_df_sane(E.broyden_tridiagonal_jit, x0)
    before = len(K.dfsane_at.signatures)
    frozen = x0.copy()
    frozen.flags.writeable = False
    ours = root_df_sane(E.broyden_tridiagonal_jit, frozen)
    assert len(K.dfsane_at.signatures) == before
    assert_same(ours, scipy_dfsane(E.broyden_tridiagonal, x0))
    assert np.array_equal(ours.x, ref.x) and np.array_equal(frozen, x0)


def test_njit_function_allocating_per_call_over_many_iterations():
    # the compiled driver keeps the user's residual arrays alive through
    # borrowed aliases: a long run (every kind of step, both line
    # searches) must match SciPy exactly, and the result must own its data
    @njit
    def fresh(x):
        out = np.empty(x.size + 1)   # a view of a larger allocation
        out[:-1] = E.broyden_tridiagonal_jit(x)
        return out[:-1]

    x0 = -np.ones(30)
    for line_search in ("cruz", "cheng"):
        ours = root_df_sane(fresh, x0, line_search=line_search, maxfev=400,
                            ftol=1e-14)
        assert_same(ours, scipy_dfsane(E.broyden_tridiagonal, x0,
                                       line_search=line_search, maxfev=400,
                                       ftol=1e-14))
        assert_allclose(ours.fun, E.broyden_tridiagonal(ours.x), rtol=0,
                        atol=1e-14)


def test_short_dot_products_agree_with_blas():
    # fma_dot replaces BLAS below 16 entries only where it reproduces
    # NumPy's dot exactly (checked at run time); then both give the same
    # iteration
    from fastopt._dfsane import _dot_limit

    rng = np.random.default_rng(3)
    limit = _dot_limit()
    assert limit in (0, 16)
    if limit:
        for n in range(1, 16):
            a, b = rng.standard_normal((2, n)) * 1e3
            assert K.fma_dot(a, b) == np.vdot(a, b) == a.dot(b)
    x0 = -np.ones(10)
    F0 = E.broyden_tridiagonal(x0)
    states = []
    for dot_limit in (0, 16):
        iw, rw = K.dfsane_start(x0, F0, 1e-8, 1e-300, 1000, 10, 1.0, 1e-10,
                                False, False, 0.0, False, False, 2.0, 0.5,
                                dot_limit)
        while iw[K.I_ACTION] != K.DONE:
            ot = K.trial_x_offset(iw)
            K.dfsane_advance(iw, rw, E.broyden_tridiagonal(rw[ot:ot + 10]),
                             0.0)
        states.append((iw.copy(), rw.copy()))
    if limit:
        assert np.array_equal(states[0][0][:K.I_DOT_LIMIT],
                              states[1][0][:K.I_DOT_LIMIT])
        assert np.array_equal(states[0][1], states[1][1])


def test_long_dot_is_the_dot_product_to_rounding():
    # above K.LONG_DOT entries the kernels sum in their own order (BLAS
    # threads there); the value is the dot product to rounding
    rng = np.random.default_rng(5)
    for n in (1, 3, 4, 7, K.LONG_DOT + 3):
        a, b = rng.uniform(0.5, 2.0, (2, n))
        assert_allclose(K.long_dot(a, b), np.dot(a, b), rtol=1e-13)


@pytest.mark.parametrize("line_search", ["cruz", "cheng"])
def test_large_system_matches_scipy_to_tolerance(line_search):
    # n > K.LONG_DOT: dot products no longer bit-equal to BLAS's (whose
    # own result there depends on its thread count), so the iterates
    # differ by rounding; the runs still converge to the same root with
    # about as many evaluations.  x agrees to the convergence tolerance
    # (||F|| < ftol ||F_0||, ||F_0|| ~ 1e2, a well-conditioned Jacobian).
    n = 2 * K.LONG_DOT
    x0 = -np.ones(n)
    ref = scipy_dfsane(E.broyden_tridiagonal, x0, line_search=line_search)
    assert ref.success
    for fun in (E.broyden_tridiagonal, E.broyden_tridiagonal_jit):
        ours = root_df_sane(fun, x0, line_search=line_search)
        assert ours.success and ours.message == ref.message
        assert abs(ours.nfev - ref.nfev) <= 0.1 * ref.nfev
        assert abs(ours.nit - ref.nit) <= 0.1 * ref.nit
        assert np.linalg.norm(ours.fun) < 1e-8 * np.linalg.norm(
            E.broyden_tridiagonal(x0))
        assert_allclose(ours.x, ref.x, rtol=0, atol=1e-6)
        assert_allclose(ours.fun, fun(ours.x), rtol=0, atol=1e-12)



@pytest.mark.parametrize("options", [{}, {"line_search": "cheng"},
                                     {"maxfev": 7}, {"M": 1}])
def test_python_loop_on_long_vectors_takes_the_compiled_steps(options):
    # above K.LONG_DOT unknowns the Python loop holds the vectors itself
    # (K.dfsane_held_step); its arithmetic is the compiled driver's, so
    # both take bitwise the same steps
    for n, x0 in ((K.LONG_DOT + 1, -1.0), (3 * K.LONG_DOT, 0.5)):
        start = np.full(n, x0)
        ours = root_df_sane(E.broyden_tridiagonal, start, **options)
        compiled = root_df_sane(E.broyden_tridiagonal_jit, start, **options)
        assert (ours.nfev, ours.nit, ours.status) == (
            compiled.nfev, compiled.nit, compiled.status)
        assert np.array_equal(ours.x, compiled.x)
        assert np.array_equal(ours.fun, compiled.fun)


def test_python_loop_on_long_vectors_with_functions_that_keep_arrays():
    # the function may keep its argument, return it, return a view, or
    # return its own buffer (overwritten by its next call): the held
    # vectors must never change under the loop, and every kept point must
    # keep its value
    n = K.LONG_DOT + 5
    start = np.linspace(-1.0, 0.5, n)
    buffer = np.empty(n)

    def run(keep):
        kept, seen = [], []

        def fun(x):
            seen.append(x.copy())
            if keep == "store":
                kept.append(x)
            if keep == "return":
                return x
            F = E.broyden_tridiagonal(x)
            if keep == "buffer":
                buffer[:] = F
                return buffer
            if keep == "view":
                return np.concatenate([F, [0.0]])[:n]
            return F
        return root_df_sane(fun, start, maxfev=60), kept, seen

    clean, _, clean_seen = run(None)
    for keep in ("store", "buffer", "view"):
        ours, kept, seen = run(keep)
        assert (ours.nfev, ours.nit) == (clean.nfev, clean.nit)
        assert np.array_equal(ours.x, clean.x)
        assert all(np.array_equal(a, b) for a, b in zip(seen, clean_seen))
        for x, copy in zip(kept, seen):
            assert np.array_equal(x, copy)
    # F(x) = x with x itself returned, against a copy returned
    ours, _, _ = run("return")
    ref = root_df_sane(lambda x: x.copy(), start, maxfev=60)
    assert (ours.nfev, ours.nit, ours.success) == (ref.nfev, ref.nit, True)
    assert np.array_equal(ours.x, ref.x) and np.array_equal(ours.x, ours.fun)


_LONG_VECTOR_SCRIPT = """
import numpy as np
from fastopt import _examples as E
from fastopt._dfsane import root_df_sane
for maxfev in (3, 40):
    r = root_df_sane(E.broyden_tridiagonal_jit, -np.ones(150_000),
                     maxfev=maxfev)
    np.save(f"{folder}/x{maxfev}.npy", r.x)
    print(maxfev, r.nfev, int(r.success))
"""


def test_compiled_path_on_long_vectors(tmp_path):
    # The compiled loop must keep every residual it still reads alive.  In
    # a fresh process, freeing a vector of more than ~10^5 entries returns
    # its memory to the system at once, so a read after a premature
    # release crashes there (in a long-running process it may pass
    # unnoticed): hence a subprocess.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c",
         _LONG_VECTOR_SCRIPT.replace("{folder}", str(tmp_path))],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    x0 = -np.ones(150_000)
    for line in done.stdout.split("\n")[-3:-1]:
        maxfev, nfev, success = map(int, line.split())
        ref = root(E.broyden_tridiagonal, x0, method="df-sane",
                   options={"maxfev": maxfev})
        assert (nfev, bool(success)) == (ref.nfev, ref.success)
        # dot products beyond LONG_DOT entries are fastopt's own (see the
        # kernel's docstring): agreement to rounding, not bitwise
        assert_allclose(np.load(tmp_path / f"x{maxfev}.npy"), ref.x,
                        rtol=1e-10, atol=1e-12)
