"""approx_derivative and check_derivative against SciPy 1.17 as the oracle."""
import concurrent.futures
import multiprocessing
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import Bounds
from scipy.optimize._numdiff import approx_derivative as scipy_approx
from scipy.optimize._numdiff import check_derivative as scipy_check
from scipy.sparse import csr_array, csr_matrix, random_array

import problems as P
from fastopt import approx_derivative, check_derivative

METHODS = ["2-point", "3-point", "cs"]
REAL_METHODS = ["2-point", "3-point"]
# Same formulas on the same points: results agree to rounding.
RTOL, ATOL = 1e-12, 1e-13


def both(fun, x0, **kw):
    """fastopt's and SciPy's (J, nfev) for the same call."""
    ours, info = approx_derivative(fun, x0, full_output=True, **kw)
    theirs, their_info = scipy_approx(fun, x0, full_output=True, **kw)
    return ours, theirs, info["nfev"], their_info["nfev"]


def dense(J):
    return J.toarray() if hasattr(J, "toarray") else np.asarray(J)


# ---------------------------------------------------------------- dense ----
@pytest.mark.parametrize("fun", P.CATALOGUE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("method", METHODS)
def test_dense_matches_scipy(fun, method):
    x0 = np.array([0.7, -1.3, 2.1])
    ours, theirs, nfev, their_nfev = both(fun, x0, method=method)
    assert ours.shape == theirs.shape
    assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    assert nfev == their_nfev


@pytest.mark.parametrize("method", REAL_METHODS)
@pytest.mark.parametrize("where", ["on_lower", "on_upper", "near_lower",
                                   "near_upper", "tight_box", "one_sided"])
@pytest.mark.parametrize("fun", [P.polynomial, P.exponential, P.rational],
                         ids=lambda f: f.__name__)
def test_dense_bounds_match_scipy(fun, method, where):
    x0 = np.array([0.5, 1.0, -2.0])
    lb = np.array([-1.0, 0.0, -3.0])
    ub = np.array([2.0, 3.0, 5.0])
    if where == "on_lower":
        x0 = lb.copy()
    elif where == "on_upper":
        x0 = ub.copy()
    elif where == "near_lower":
        x0 = lb + 1e-9
    elif where == "near_upper":
        x0 = ub - 3e-6
    elif where == "tight_box":
        lb, ub = x0 - 1e-7, x0 + 2e-7
    else:  # bound on one side only
        lb = np.array([0.5, -np.inf, -np.inf])
    ours, theirs, nfev, their_nfev = both(fun, x0, method=method,
                                          bounds=(lb, ub))
    assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    assert nfev == their_nfev


def test_bounds_keep_every_point_feasible():
    lb, ub = np.array([0.0, 0.0]), np.array([1e-9, 1.0])
    seen = []

    def fun(x):
        seen.append(x.copy())
        return np.array([x[0] + x[1], x[0] * x[1]])

    for method in REAL_METHODS:
        approx_derivative(fun, np.array([0.0, 1.0]), method=method,
                          bounds=(lb, ub))
    pts = np.array(seen)
    assert (pts >= lb).all() and (pts <= ub).all()


def test_scipy_bounds_object_and_scalar_bounds():
    x0 = np.array([0.0, 1.0, 2.0])
    ours = approx_derivative(P.polynomial, x0, bounds=Bounds(0.0, 2.0))
    theirs = scipy_approx(P.polynomial, x0, bounds=(0.0, 2.0))
    assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("step", [{"rel_step": 1e-4},
                                  {"rel_step": np.array([1e-3, 1e-5, 1e-6])},
                                  {"abs_step": 1e-5},
                                  {"abs_step": np.array([1e-3, -1e-4, 1e-6])},
                                  {"abs_step": 1e-5, "rel_step": 1e-2},
                                  {"abs_step": 1e-30},   # vanishes: default
                                  {"rel_step": 1e-30}])
def test_steps_match_scipy(method, step):
    x0 = np.array([1e8, 0.0, -3.5])
    ours, theirs, _, _ = both(P.polynomial, x0, method=method, **step)
    assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def test_output_shapes():
    assert approx_derivative(P.scalar_valued, [1.0, 2.0]).shape == (2,)
    assert approx_derivative(P.vector_of_one_variable, 0.5).shape == (3, 1)
    assert approx_derivative(lambda x: x[0] ** 2, 3.0).shape == (1,)
    assert_allclose(approx_derivative(lambda x: x[0] ** 2, 3.0), [6.0],
                    rtol=1e-9)


def test_args_kwargs_and_f0():
    x0 = np.array([0.3, 0.8])
    ours, theirs, nfev, their_nfev = both(P.with_args, x0, args=(2.0, 3.0))
    assert_allclose(ours, theirs, rtol=RTOL)
    kw = {"args": (2.0,), "kwargs": {"scale": 3.0}}
    ours, theirs, _, _ = both(P.with_kwargs, x0, **kw)
    assert_allclose(ours, theirs, rtol=RTOL)
    f0 = P.with_args(x0, 2.0, 3.0)
    ours, theirs, nfev, their_nfev = both(P.with_args, x0, args=(2.0, 3.0),
                                          f0=f0)
    assert_allclose(ours, theirs, rtol=RTOL)
    assert nfev == their_nfev == 4


def test_integer_and_list_x0_become_float64():
    ours = approx_derivative(P.polynomial, [1, 2, 3])
    theirs = scipy_approx(P.polynomial, [1, 2, 3])
    assert_allclose(ours, theirs, rtol=RTOL)


def test_float32_uses_the_step_actually_taken():
    # SciPy divides by the float64 step while fun sees the float32-rounded
    # point (J = 0.99989 for f(x) = x); fastopt divides by the step taken.
    x0 = np.float32(1.0)
    for method in REAL_METHODS:
        J = approx_derivative(lambda x: x, x0, method=method)
        assert_allclose(J, [1.0], rtol=1e-6)
    x0 = np.array([0.7, -1.3, 2.1], dtype=np.float32)
    exact = approx_derivative(P.polynomial, x0.astype(np.float64))
    for method in REAL_METHODS:
        J = approx_derivative(P.polynomial, x0, method=method)
        assert J.dtype == np.float64
        assert_allclose(J, exact, rtol=2e-3, atol=2e-3)


def test_float32_points_are_float32():
    dtypes = set()

    def fun(x):
        dtypes.add(x.dtype)
        return x ** 2

    approx_derivative(fun, np.ones(3, dtype=np.float32))
    assert dtypes == {np.dtype(np.float32)}


def test_float32_function_values_set_the_step():
    # EPS comes from the smaller dtype of x0 and f0, as in SciPy.
    def fun(x):
        return (x ** 2).astype(np.float32)
    x0 = np.array([1.0, 2.0])
    ours = approx_derivative(fun, x0, method="2-point")
    theirs = scipy_approx(fun, x0, method="2-point")
    assert_allclose(ours, theirs, rtol=1e-12)


def test_complex_step_sees_complex128():
    dtypes = set()

    def fun(x):
        dtypes.add(x.dtype)
        return x ** 2

    approx_derivative(fun, np.ones(2, dtype=np.float32), method="cs")
    assert np.dtype(np.complex128) in dtypes


def test_nan_from_fun_gives_nan_entries():
    J = approx_derivative(lambda x: np.array([np.nan * x[0], x[1]]),
                          np.array([1.0, 2.0]))
    assert np.isnan(J[0]).all()
    assert_allclose(J[1], [0.0, 1.0], atol=1e-8)


# --------------------------------------------------------------- sparse ----
def random_structure(m, n, density, seed):
    A = random_array((m, n), density=density, format="csr", rng=seed)
    A = A + csr_array((np.ones(min(m, n)), (np.arange(min(m, n)),
                                             np.arange(min(m, n)))),
                      shape=(m, n))
    return csr_array(A != 0).astype(float)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape,density,seed", [((30, 30), 0.1, 1),
                                                ((50, 20), 0.05, 2),
                                                ((20, 45), 0.08, 3)])
def test_sparse_matches_scipy_with_the_same_groups(method, shape, density,
                                                   seed):
    from fastopt import group_columns
    A = random_structure(*shape, density, seed)
    rows, cols = A.nonzero()
    x0 = np.linspace(-1, 1, shape[1])
    groups = group_columns(A, order=0)
    kw = dict(method=method, args=(rows, cols), sparsity=(A, groups))
    if method == "cs":
        kw["args"] = (rows, cols)
    fun = P.structured if method != "cs" else structured_complex
    ours, theirs, nfev, their_nfev = both(fun, x0, **kw)
    assert isinstance(ours, csr_array)
    assert_allclose(ours.toarray(), theirs.toarray(), rtol=RTOL, atol=ATOL)
    assert nfev == their_nfev


def structured_complex(x, rows, cols):
    n = x.size
    m = int(rows.max()) + 1
    Ax = np.zeros(m, dtype=complex)
    As = np.zeros(m, dtype=complex)
    np.add.at(Ax, rows, (1 + cols / n) * x[cols])
    np.add.at(As, rows, np.sin(x[cols]))
    return As + Ax ** 2


@pytest.mark.parametrize("method", REAL_METHODS)
def test_sparse_equals_dense_with_own_groups_and_bounds(method):
    A = random_structure(40, 40, 0.08, 7)
    rows, cols = A.nonzero()
    x0 = np.linspace(0, 1, 40)
    bounds = (np.zeros(40), np.ones(40))
    J_sparse, info = approx_derivative(P.structured, x0, method=method,
                                       sparsity=A, bounds=bounds,
                                       args=(rows, cols), full_output=True)
    J_dense = approx_derivative(P.structured, x0, method=method,
                                bounds=bounds, args=(rows, cols))
    assert_allclose(J_sparse.toarray(), J_dense * (A.toarray() != 0),
                    rtol=1e-6, atol=1e-7)
    theirs, their_info = scipy_approx(P.structured, x0, method=method,
                                      sparsity=A, bounds=bounds,
                                      args=(rows, cols), full_output=True)
    assert_allclose(J_sparse.toarray(), theirs.toarray(), rtol=1e-6,
                    atol=1e-7)
    assert info["nfev"] <= their_info["nfev"]


def test_sparse_output_type_follows_input():
    A = random_structure(10, 10, 0.2, 3)
    rows, cols = A.nonzero()
    x0 = np.ones(10)
    J = approx_derivative(P.structured, x0, sparsity=csr_matrix(A),
                          args=(rows, cols))
    assert isinstance(J, csr_matrix)
    J = approx_derivative(P.structured, x0, sparsity=A.toarray(),
                          args=(rows, cols))
    assert isinstance(J, csr_array) and J.shape == (10, 10)
    J = approx_derivative(P.structured, x0, sparsity=A.tocoo(),
                          args=(rows, cols))
    assert isinstance(J, csr_array)


def test_dense_structure_with_two_rows_is_a_structure():
    # SciPy reads any 2-long sparsity as (structure, groups) and fails.
    structure = np.array([[1, 1, 0], [0, 1, 1]])

    def fun(x):
        return np.array([x[0] * x[1], x[1] + x[2] ** 2])

    J = approx_derivative(fun, np.array([1.0, 2.0, 3.0]), sparsity=structure)
    assert_allclose(J.toarray(), [[2, 1, 0], [0, 1, 6]], rtol=1e-8)


def test_sparse_structure_explicit_zeros_are_not_structure():
    A = csr_array((np.array([1.0, 0.0, 1.0]), np.array([0, 1, 1]),
                   np.array([0, 2, 3])), shape=(2, 2))
    J = approx_derivative(lambda x: np.array([x[0] ** 2, x[1] ** 2]),
                          np.array([1.0, 2.0]), sparsity=A)
    assert J.nnz == 2
    assert A.nnz == 3  # the user's object is untouched


def test_tridiagonal_large_sparse():
    n = 2000
    from scipy.sparse import diags_array
    A = diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)],
                    offsets=[-1, 0, 1])
    x0 = np.linspace(-1, 1, n)
    J, info = approx_derivative(P.tridiagonal, x0, sparsity=A,
                                full_output=True)
    assert info["nfev"] == 1 + 2 * 3  # three groups, two points each
    exact = diags_array([-np.ones(n - 1), 3 - 4 * x0, -2 * np.ones(n - 1)],
                        offsets=[-1, 0, 1]).toarray()
    assert_allclose(J.toarray(), exact, rtol=1e-7, atol=1e-8)


# ------------------------------------------------------- linear operator ----
@pytest.mark.parametrize("method", METHODS)
def test_linear_operator_matches_scipy(method):
    x0 = np.array([0.7, -1.3, 2.1])
    ours = approx_derivative(P.polynomial, x0, method=method,
                             as_linear_operator=True)
    theirs = scipy_approx(P.polynomial, x0, method=method,
                          as_linear_operator=True)
    rng = np.random.default_rng(0)
    for _ in range(3):
        p = rng.standard_normal(3)
        assert_allclose(ours @ p, theirs @ p, rtol=RTOL, atol=ATOL)
    assert_array_equal(ours @ np.zeros(3), np.zeros(3))
    assert ours.shape == (3, 3)
    _, info = approx_derivative(P.polynomial, x0, method=method,
                                as_linear_operator=True, full_output=True)
    assert info == {"nfev": 1}


# ------------------------------------------------------------- workers ----
@pytest.fixture(scope="module")
def pool():
    with multiprocessing.get_context("forkserver").Pool(2) as p:
        yield p


@pytest.mark.parametrize("method", METHODS)
def test_workers_pool_map(pool, method):
    x0 = np.array([0.7, -1.3, 2.1])
    serial = approx_derivative(P.trigonometric, x0, method=method)
    parallel, info = approx_derivative(P.trigonometric, x0, method=method,
                                       workers=pool.map, full_output=True)
    assert_array_equal(parallel, serial)
    assert info["nfev"] == scipy_approx(P.trigonometric, x0, method=method,
                                        full_output=True)[1]["nfev"]


def test_workers_int_makes_a_pool():
    x0 = np.array([0.7, -1.3, 2.1])
    serial = approx_derivative(P.exponential, x0)
    assert_array_equal(approx_derivative(P.exponential, x0, workers=2), serial)


def test_workers_executors_and_vectorised_map():
    x0 = np.array([0.7, -1.3, 2.1])
    A = random_structure(20, 20, 0.1, 5)
    rows, cols = A.nonzero()
    serial = approx_derivative(P.rational, x0)
    sparse_serial = approx_derivative(P.structured, np.ones(20), sparsity=A,
                                      args=(rows, cols))
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        assert_array_equal(approx_derivative(P.rational, x0, workers=ex.map),
                           serial)
    with concurrent.futures.ProcessPoolExecutor(
            2, mp_context=multiprocessing.get_context("forkserver")) as ex:
        assert_array_equal(approx_derivative(P.rational, x0, workers=ex.map),
                           serial)
        J = approx_derivative(P.structured, np.ones(20), sparsity=A,
                              args=(rows, cols), workers=ex.map)
        assert_array_equal(J.toarray(), sparse_serial.toarray())
    assert_array_equal(approx_derivative(P.rational, x0,
                                         workers=P.vectorised_map), serial)


def test_workers_exception_propagates_unchanged(pool):
    with pytest.raises(P.UserError, match="too large"):
        approx_derivative(P.raises_far_out, np.array([1.0, 1.0]),
                          workers=pool.map)
    with pytest.raises(P.UserError, match="too large"):
        approx_derivative(P.raises_far_out, np.array([1.0, 1.0]))


def test_workers_short_map_is_an_error():
    def short_map(f, xs):
        return [f(x) for x in list(xs)[:-1]]
    with pytest.raises(ValueError, match="`workers` returned 5 results for "
                                         "6 points"):
        approx_derivative(P.polynomial, np.ones(3), workers=short_map)


@pytest.mark.parametrize("workers,error,match", [
    ("four", TypeError, "`workers` must be None, an int or a map-like"),
    (-3, ValueError, "`workers` must be -1, 0, 1"),
    (True, TypeError, "`workers` must be None, an int or a map-like"),
])
def test_workers_bad(workers, error, match):
    with pytest.raises(error, match=match):
        approx_derivative(P.polynomial, np.ones(3), workers=workers)


# ---------------------------------------------------------- bad input ----
@pytest.mark.parametrize("kwargs,error,match", [
    ({"method": "4-point"}, ValueError, "Unknown method '4-point'. "),
    ({"x0": np.ones((2, 2))}, ValueError, "`x0` must have at most 1 dim"),
    ({"x0": [1.0, np.nan, 2.0]}, ValueError, r"`x0` must be finite; x0\[1\]"),
    ({"x0": None}, TypeError, "`x0` must be array_like"),
    ({"x0": []}, ValueError, "`x0` must have at least one element"),
    ({"x0": [1j, 2.0, 3.0]}, TypeError, "`x0` must be real"),
    ({"bounds": ([0, 0], [1, 1])}, ValueError,
     "Inconsistent shapes between bounds and `x0`"),
    ({"bounds": (1.0, 0.0)}, ValueError, r"`bounds` has lb\[0\] = 1.0 greater"),
    ({"bounds": (0.0,)}, ValueError, "`bounds` must be a pair"),
    ({"bounds": (np.nan, 1.0)}, ValueError, "`bounds` must not contain NaN"),
    ({"bounds": (2.0, 3.0)}, ValueError, "`x0` violates bound constraints"),
    ({"rel_step": [1e-3, 1e-3]}, ValueError, r"`rel_step` must be a scalar "
                                             r"or have shape \(3,\)"),
    ({"abs_step": np.inf}, ValueError, "`abs_step` must be finite"),
    ({"f0": np.ones((3, 1))}, ValueError, "`f0` passed has more than 1 dim"),
    ({"sparsity": np.ones((2, 3))}, ValueError, r"`sparsity` has shape "
                                                r"\(2, 3\); the Jacobian has "
                                                r"shape \(3, 3\)"),
    ({"sparsity": (np.ones((3, 3)), [0, 0, 1])}, ValueError,
     "`sparsity` groups are invalid: columns 0 and 1"),
    ({"sparsity": (np.eye(3), [0, 1])}, ValueError, r"`sparsity` groups must "
                                                     r"be integers of shape"),
    ({"as_linear_operator": True, "bounds": (0.0, 5.0)}, ValueError,
     "Bounds not supported when `as_linear_operator` is True."),
    ({"kwargs": [1]}, TypeError, "`kwargs` must be a dict"),
])
def test_bad_input(kwargs, error, match):
    call = {"x0": np.ones(3)}
    call.update(kwargs)
    with pytest.raises(error, match=match):
        approx_derivative(P.polynomial, **call)


def test_bad_fun():
    with pytest.raises(TypeError, match="`fun` must be callable"):
        approx_derivative("polynomial", np.ones(3))
    with pytest.raises(ValueError, match="`fun` return value has more than 1 "
                                         "dimension"):
        approx_derivative(lambda x: np.outer(x, x), np.ones(3))
    calls = []

    def changes_size(x):
        calls.append(1)
        return np.ones(2 + (len(calls) > 1))

    with pytest.raises(ValueError, match=r"`fun` returned shape \(3,\) at an "
                                         r"evaluation point but shape \(2,\)"):
        approx_derivative(changes_size, np.ones(2))
    with pytest.raises(TypeError, match="`fun` returned complex values"):
        approx_derivative(lambda x: x + 1j, np.ones(2))


def test_real_only_function_with_complex_step_raises_its_own_error():
    def real_only(x):
        if np.iscomplexobj(x):
            raise TypeError("real input only")
        return x
    with pytest.raises(TypeError, match="real input only"):
        approx_derivative(real_only, np.ones(1), method="cs")


# ---------------------------------------------------- check_derivative ----
def jac_polynomial(x):
    return np.array([[3 * x[0] ** 2 + 2 * x[1], 2 * x[0], 0.0],
                     [-x[2] ** 2, 2 * x[1], -2 * x[0] * x[2]],
                     [1.0, 1.0, 4 * x[2] ** 3]])


def test_check_derivative_dense():
    x0 = np.array([0.7, -1.3, 2.1])
    good = check_derivative(P.polynomial, jac_polynomial, x0)
    assert good == pytest.approx(scipy_check(P.polynomial, jac_polynomial, x0),
                                 rel=1e-6, abs=1e-15)
    assert good < 1e-6
    bad = check_derivative(P.polynomial, lambda x: jac_polynomial(x) + 0.1, x0)
    assert bad == pytest.approx(0.1, rel=1e-3)


def test_check_derivative_sparse():
    x0 = np.array([0.7, -1.3, 2.1])
    jac = lambda x: csr_array(jac_polynomial(x))  # noqa: E731
    ours = check_derivative(P.polynomial, jac, x0)
    assert ours == pytest.approx(scipy_check(P.polynomial, jac, x0),
                                 rel=1e-6, abs=1e-15)
    assert ours < 1e-6


def test_check_derivative_sparse_exact_is_zero():
    # At x0 = 0 the central difference of a linear map with power-of-two
    # slopes is exact.  SciPy 1.17.1 raises there; fastopt reports 0.
    def linear(x):
        return np.array([2.0 * x[0], 4.0 * x[1]])
    jac = lambda x: csr_array(np.diag([2.0, 4.0]))  # noqa: E731
    x0 = np.zeros(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError):
            scipy_check(linear, jac, x0)
    assert check_derivative(linear, jac, x0) == 0.0


def test_check_derivative_bad_jac():
    with pytest.raises(TypeError, match="`jac` must be callable"):
        check_derivative(P.polynomial, None, np.ones(3))
    with pytest.raises(ValueError, match=r"`jac` returned shape \(2, 2\)"):
        check_derivative(P.polynomial, lambda x: np.eye(2), np.ones(3))


# ------------------------------------------------------ sparsity cache ----
def test_sparsity_preparation_is_reused_and_revalidated():
    from fastopt import _sparsity
    A = random_structure(25, 25, 0.1, 11)
    rows, cols = A.nonzero()
    x0 = np.linspace(0, 1, 25)
    first = approx_derivative(P.structured, x0, sparsity=A, args=(rows, cols))
    plan = _sparsity.prepare_sparsity(A, 25, 25)
    assert _sparsity.prepare_sparsity(A, 25, 25) is plan
    again = approx_derivative(P.structured, x0, sparsity=A, args=(rows, cols))
    assert_array_equal(again.toarray(), first.toarray())
    # The result owns its index arrays: changing it leaves the next alone.
    again.indices[:] = 0
    third = approx_derivative(P.structured, x0, sparsity=A, args=(rows, cols))
    assert_array_equal(third.toarray(), first.toarray())
    # An in-place change of the structure is noticed.
    A.indices[0] = (A.indices[0] + 1) % 25
    A.sum_duplicates()
    assert _sparsity.prepare_sparsity(A, 25, 25) is not plan


def test_groups_as_list_and_gaps_in_group_numbers():
    A = np.eye(4)
    x0 = np.arange(4.0)
    fun = lambda x: x ** 2  # noqa: E731
    J, info = approx_derivative(fun, x0, sparsity=(A, [0, 0, 0, 0]),
                                full_output=True)
    assert_allclose(J.toarray(), np.diag(2 * x0), atol=1e-7)
    # Group 1 is empty; SciPy still evaluates it, and so does fastopt.
    J, info = approx_derivative(fun, x0, sparsity=(A, [0, 2, 0, 2]),
                                method="2-point", full_output=True)
    _, their_info = scipy_approx(fun, x0, sparsity=(A, [0, 2, 0, 2]),
                                 method="2-point", full_output=True)
    assert info["nfev"] == their_info["nfev"] == 4
    assert_allclose(J.toarray(), np.diag(2 * x0), atol=1e-6)
