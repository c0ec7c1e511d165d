"""fastopt's nnls against scipy.optimize.nnls (answers, messages, warnings).

Tolerances: where the solution is unique (A of full column rank) x agrees
with SciPy's to 1e-10 (relative to max(1, |x|)); otherwise rnorm agrees to
1e-10 relative and x satisfies the KKT conditions of the NNLS problem to
1e-9 relative to ||A|| ||b||.
"""
import re
import warnings

import numpy as np
import pytest
import scipy.optimize

from fastopt._kernels import nnls as K
from fastopt._nnls import nnls


def _problems():
    rng = np.random.default_rng(20261202)
    out = []
    for m, n in [(10, 5), (20, 3), (8, 7), (50, 20), (6, 2), (30, 29)]:
        out.append(("tall", rng.standard_normal((m, n)),
                    rng.standard_normal(m)))
    for m, n in [(3, 8), (5, 10), (2, 4), (10, 30)]:
        out.append(("wide", rng.standard_normal((m, n)),
                    rng.standard_normal(m)))
    for n in (1, 2, 5, 12):
        out.append(("square", rng.standard_normal((n, n)),
                    rng.standard_normal(n)))
    for m, n, r in [(10, 6, 3), (12, 5, 1), (8, 8, 4), (20, 10, 7),
                    (5, 9, 2)]:
        A = rng.standard_normal((m, r)) @ rng.standard_normal((r, n))
        out.append(("rank-deficient", A, rng.standard_normal(m)))
    for m, n in [(10, 4), (15, 15), (6, 9)]:
        A = rng.standard_normal((m, n))
        xt = np.abs(rng.standard_normal(n))
        xt[::2] = 0.0
        out.append(("in-range", A, A @ xt))
    # Ties: duplicated columns, equal right-hand sides, identical duals.
    A = rng.standard_normal((8, 3))
    out.append(("tie-duplicate", np.hstack([A, A]), rng.standard_normal(8)))
    out.append(("tie-identity", np.eye(4), np.ones(4)))
    out.append(("tie-ones", np.ones((5, 3)), np.ones(5)))
    out.append(("tie-scaled", np.hstack([A, 2 * A[:, :1]]),
                rng.standard_normal(8)))
    # Positive data (many variables active), nonpositive b (x = 0),
    # badly scaled columns.
    out.append(("positive", np.abs(rng.standard_normal((12, 6))),
                np.abs(rng.standard_normal(12))))
    out.append(("x-zero", np.abs(rng.standard_normal((6, 3))),
                -np.ones(6)))
    # Correlated positive columns: variables leave the passive set
    # (interpolation steps and Givens rotations).
    corr = np.random.default_rng(5)
    for m, n in [(20, 10), (15, 15), (40, 30), (30, 20), (12, 20),
                 (50, 40)]:
        A = corr.uniform(0, 1, (m, n)) * 0.1 + corr.uniform(0, 1, (m, 1))
        b = A @ corr.uniform(0.5, 1, n) + corr.standard_normal(m) * 0.2
        out.append(("correlated", A, b))
    A = rng.standard_normal((10, 4)) * np.array([1e-3, 1.0, 1e3, 10.0])
    out.append(("scaled", A, rng.standard_normal(10)))
    out.append(("integer", np.array([[1, 0], [1, 0], [0, 1]]),
                np.array([2, 1, 1])))
    return out


PROBLEMS = _problems()


def _kkt_error(A, b, x):
    w = A.T @ (b - A @ x)
    scale = max(np.linalg.norm(A) * max(np.linalg.norm(b), 1.0), 1.0)
    err = max(-x.min(initial=0.0), w.max(initial=0.0),
              np.abs(w * x).max(initial=0.0) / max(1.0, np.abs(x).max()))
    return err / scale


def test_enough_problems():
    assert len(PROBLEMS) >= 30


def test_some_problems_remove_variables():
    # The interpolation / Givens path is exercised: with maxiter equal to
    # the number of entering steps plus one, some problem must fail.
    failed = 0
    for kind, A, b in PROBLEMS:
        x, _ = nnls(A, b)
        try:
            nnls(A, b, maxiter=int(np.count_nonzero(x)) + 1)
        except RuntimeError:
            failed += 1
    assert failed >= 3


@pytest.mark.parametrize("kind,A,b", PROBLEMS,
                         ids=[f"{i}-{p[0]}" for i, p in enumerate(PROBLEMS)])
def test_matches_scipy(kind, A, b):
    x, rnorm = nnls(A, b)
    xs, rs = scipy.optimize.nnls(A, b, maxiter=10 * A.shape[1])
    A = np.asarray(A, float)
    b = np.asarray(b, float)
    assert x.dtype == np.float64 and x.shape == (A.shape[1],)
    assert type(rnorm) is float
    assert rnorm == pytest.approx(np.linalg.norm(A @ x - b), rel=1e-12,
                                  abs=1e-13)
    assert abs(rnorm - rs) <= 1e-10 * max(1.0, rs)
    assert _kkt_error(A, b, x) <= 1e-9
    unique = (A.shape[0] >= A.shape[1]
              and np.linalg.matrix_rank(A) == A.shape[1])
    if unique:
        np.testing.assert_allclose(x, xs, rtol=0,
                                   atol=1e-10 * max(1.0, np.abs(xs).max()))


def test_docstring_example():
    A = np.array([[1, 0], [1, 0], [0, 1]])
    x, rnorm = nnls(A, np.array([2, 1, 1]))
    np.testing.assert_allclose(x, [1.5, 1.0], rtol=0, atol=1e-15)
    assert rnorm == pytest.approx(np.sqrt(0.5), rel=1e-15)
    x, rnorm = nnls(A, np.array([-1, -1, -1]))
    assert np.array_equal(x, [0.0, 0.0])
    assert rnorm == pytest.approx(np.sqrt(3), rel=1e-15)


def test_b_column_is_raveled():
    A, b = PROBLEMS[0][1], PROBLEMS[0][2]
    x1, r1 = nnls(A, b)
    x2, r2 = nnls(A, b[:, None])
    assert np.array_equal(x1, x2) and r1 == r2


def test_maxiter_like_scipy():
    # The counter is incremented on entry to each inner step and reaching
    # maxiter stops: this problem needs 2 inner steps, so 1 and 2 raise.
    A = np.array([[1.0, 0], [1, 0], [0, 1]])
    b = np.array([2.0, 1, 1])
    for maxiter in (1, 2, -1, True):
        with pytest.raises(RuntimeError, match=re.escape(
                "Maximum number of iterations reached.")):
            scipy.optimize.nnls(A, b, maxiter=maxiter)
        with pytest.raises(RuntimeError, match=re.escape(
                "Maximum number of iterations reached.")):
            nnls(A, b, maxiter=maxiter)
    for maxiter in (None, 0, 3, np.int32(5)):
        x, _ = nnls(A, b, maxiter=maxiter)
        np.testing.assert_allclose(x, [1.5, 1.0], atol=1e-15)


def test_maxiter_type_error_like_scipy():
    A = np.eye(2)
    b = np.ones(2)
    for bad in (2.5, "a"):
        with pytest.raises(TypeError) as expected:
            scipy.optimize.nnls(A, b, maxiter=bad)
        with pytest.raises(TypeError, match=re.escape(str(expected.value))):
            nnls(A, b, maxiter=bad)


A3 = np.array([[1.0, 0], [1, 0], [0, 1]])
B3 = np.array([2.0, 1, 1])


@pytest.mark.parametrize("A,b", [
    (A3, B3[:2]),                       # incompatible dimensions
    (A3, np.ones(0)),
    (A3[0], B3),                        # A not 2-D
    (np.ones((1, 1, 1)), B3),
    (A3, np.ones((3, 2))),              # b 2-D with several columns
    (A3, np.ones((1, 3))),
    (A3, np.ones((3, 1, 1))),           # b 3-D
    (A3, [1.0, np.nan, 2.0]),           # not finite
    (np.array([[1.0, np.inf], [0, 1], [1, 1]]), B3),
], ids=["rows", "rows-empty", "A-1d", "A-3d", "b-2cols", "b-row",
        "b-3d", "b-nan", "A-inf"])
def test_errors_verbatim(A, b):
    with pytest.raises(ValueError) as expected:
        scipy.optimize.nnls(A, b)
    with pytest.raises(ValueError, match=re.escape(str(expected.value))):
        nnls(A, b)


def test_scalar_b_names_b():
    with pytest.raises(ValueError, match="`b` is a scalar"):
        nnls(A3, 3.0)


def test_too_many_positional_arguments():
    with pytest.raises(TypeError, match="takes from 2 to 4 positional"):
        nnls(A3, B3, 5, None, 7)


def _scipy_warnings(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scipy.optimize.nnls(*args, **kwargs)
    return [(w.category, str(w.message)) for w in caught]


def _our_warnings(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = nnls(*args, **kwargs)
    return result, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("args,kwargs", [
    ((A3, B3), {"atol": 1e-3}),
    ((A3, B3), {"atol": None}),
    ((A3, B3, 5), {}),
    ((A3, B3, 5, 1e-3), {}),
    ((A3, B3, 5), {"atol": 1.0}),
], ids=["atol", "atol-none", "positional-maxiter", "positional-both",
        "positional-and-atol"])
def test_deprecation_warnings_verbatim(args, kwargs):
    expected = _scipy_warnings(*args, **kwargs)
    assert expected and all(c is DeprecationWarning for c, _ in expected)
    (x, _), got = _our_warnings(*args, **kwargs)
    assert got == expected
    np.testing.assert_allclose(x, [1.5, 1.0], atol=1e-15)
    # The same through pytest.warns (which re-raises unmatched warnings
    # as errors here, so no match= when there are several).
    with pytest.warns(DeprecationWarning) as record:
        nnls(*args, **kwargs)
    assert [str(w.message) for w in record] == [m for _, m in expected]


def test_no_warning_by_default():
    _, got = _our_warnings(A3, B3, maxiter=10)
    assert got == []


def test_empty_problems_are_defined():
    # SciPy returns uninitialised memory (m == 0) or crashes (n == 0).
    x, rnorm = nnls(np.zeros((0, 3)), np.zeros(0))
    assert np.array_equal(x, np.zeros(3)) and rnorm == 0.0
    x, rnorm = nnls(np.zeros((3, 0)), np.array([3.0, 0.0, 4.0]))
    assert x.shape == (0,) and rnorm == 5.0


def test_kernel_dual_and_info():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((9, 5))
    b = rng.standard_normal(9)
    x = np.empty(5)
    w = np.empty(5)
    work = np.empty(K.nnls_work_size(9, 5))
    A0, b0 = A.copy(), b.copy()
    rnorm, info = K.nnls(A, b, x, w, 15, work)
    assert info == 1
    assert np.array_equal(A, A0) and np.array_equal(b, b0)
    np.testing.assert_allclose(w[x == 0], (A.T @ (b - A @ x))[x == 0],
                               atol=1e-12)
    assert np.all(w[x > 0] == 0.0) and np.all(w <= 1e-12)
    rnorm, info = K.nnls(A, b, x, w, 1, work)
    assert info == 3


def test_spacing_matches_numpy():
    for v in (0.0, 1.0, 3.5, 1e-300, 1e300, -2.0, 5e-324, 2.2e-308):
        assert K.spacing(v) == np.spacing(abs(v)) or (
            v == 0.0 and K.spacing(v) == 5e-324)


def test_one_kernel_specialisation():
    # Lists, ints, read-only, Fortran-ordered and (m, 1) inputs all reach
    # the kernel as writeable C-contiguous float64 arrays.
    A = np.asfortranarray(np.random.default_rng(3).standard_normal((6, 3)))
    b = np.ones(6)
    readonly = np.broadcast_to(np.ones(6), (6,))
    for args in [(A, b), (A.tolist(), b.tolist()), (A, readonly),
                 (np.ascontiguousarray(A), b[:, None]),
                 (A.astype(np.float32), b.astype(int))]:
        nnls(*args)
    signatures = getattr(K.nnls_solve, "signatures", [None])  # no-JIT runs
    assert len(signatures) == 1
