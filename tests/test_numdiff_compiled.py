"""The compiled path: @njit user functions and fastopt.compiled."""
import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_allclose
from scipy.optimize._numdiff import approx_derivative as scipy_approx
from scipy.sparse import csc_array, diags_array

import problems as P
from fastopt import approx_derivative, group_columns
from fastopt import compiled
from fastopt._kernels import dense as dense_kernels
from fastopt._kernels import sparse as sparse_kernels

RTOL, ATOL = 1e-12, 1e-13


@pytest.mark.parametrize("method", ["2-point", "3-point", "cs"])
@pytest.mark.parametrize("fun,args", [(P.jit_polynomial, ()),
                                      (P.jit_with_args, (2.0, np.array([3.0]))),
                                      (P.jit_scalar, ())],
                         ids=["no_args", "args", "scalar"])
def test_njit_dense_matches_scipy(fun, args, method):
    x0 = np.array([0.7, -1.3, 2.1])[:2 if fun is P.jit_with_args else 3]
    ours, info = approx_derivative(fun, x0, method=method, args=args,
                                   full_output=True)
    theirs, their_info = scipy_approx(fun, x0, method=method, args=args,
                                      full_output=True)
    assert ours.shape == theirs.shape
    assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    assert info["nfev"] == their_info["nfev"]


@pytest.mark.parametrize("method", ["2-point", "3-point"])
def test_njit_dense_bounds_steps_and_f0(method):
    x0 = np.array([0.0, 1.0, 2.0])
    kw = dict(method=method, bounds=([0.0, 0.0, -1.0], [1.0, 1.0, 2.0]),
              rel_step=1e-4, f0=P.jit_polynomial(x0))
    ours, info = approx_derivative(P.jit_polynomial, x0, full_output=True,
                                   **kw)
    theirs, their_info = scipy_approx(P.jit_polynomial, x0, full_output=True,
                                      **kw)
    assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    assert info["nfev"] == their_info["nfev"]


@pytest.mark.parametrize("method", ["2-point", "3-point", "cs"])
def test_njit_sparse_matches_scipy(method):
    n = 300
    A = diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)],
                    offsets=[-1, 0, 1]).tocsr()
    groups = group_columns(A, order=0)
    x0 = np.linspace(-1, 1, n)
    fun = P.jit_tridiagonal if method != "cs" else jit_tridiagonal_c
    ours, info = approx_derivative(fun, x0, method=method,
                                   sparsity=(A, groups), full_output=True)
    theirs, their_info = scipy_approx(fun, x0, method=method,
                                      sparsity=(A, groups), full_output=True)
    assert_allclose(ours.toarray(), theirs.toarray(), rtol=RTOL, atol=ATOL)
    assert info["nfev"] == their_info["nfev"]


@njit
def jit_tridiagonal_c(x):
    n = x.size
    f = np.empty(n, dtype=x.dtype)
    for i in range(n):
        left = x[i - 1] if i > 0 else 0.0
        right = x[i + 1] if i < n - 1 else 0.0
        f[i] = (3.0 - 2.0 * x[i]) * x[i] - left - 2.0 * right + 1.0
    return f


def test_njit_user_exception_propagates():
    with pytest.raises(ValueError, match="jit user error"):
        approx_derivative(P.jit_raises, np.array([1.0, 0.0]))


def test_njit_real_only_function_under_complex_step():
    @njit
    def real_only(x):
        return np.array([np.float64(x[0]) * 2.0])  # no complex overload

    # Compilation for complex input fails; the call falls back to Python
    # and the user sees numba's own typing error for their function.
    from numba.core.errors import TypingError
    with pytest.raises(TypingError):
        approx_derivative(real_only, np.ones(1), method="cs")


def test_new_user_function_does_not_recompile_kernels():
    x0 = np.array([0.5, 1.5])

    @njit
    def first(x, a):
        return np.array([a * x[0], x[1] ** 2])

    @njit
    def second(x, a):
        return np.array([np.sin(a * x[0]), x[0] * x[1]])

    approx_derivative(first, x0, args=(2.0,))
    before = len(dense_kernels.dense_difference_at.signatures)
    J = approx_derivative(second, x0, args=(3.0,))
    assert len(dense_kernels.dense_difference_at.signatures) == before
    assert_allclose(J, [[3 * np.cos(1.5), 0.0], [1.5, 0.5]], rtol=1e-8)


def test_kernels_call_the_users_function_itself_when_its_result_fits():
    # A function returning a C-contiguous float64 vector is called through
    # its own compiled code (no adapter to compile); one returning anything
    # else goes through an adapter converting the result.  Both give
    # SciPy's Jacobian.
    from fastopt import _compiled_fun

    @njit
    def exact(x, a, b):
        return np.array([a * x[0] ** 2 + x[1], b[0] * np.sin(x[0]) * x[1]])

    @njit
    def strided(x, a, b):
        out = np.empty(4)
        out[0] = a * x[0] ** 2 + x[1]
        out[2] = b[0] * np.sin(x[0]) * x[1]
        return out[::2]

    x0 = np.array([0.7, -1.3])
    args = (2.0, np.array([3.0]))
    for fun, adapted in [(exact, False), (strided, True)]:
        J = approx_derivative(fun, x0, args=args)
        assert_allclose(J, scipy_approx(fun, x0, args=args), rtol=RTOL,
                        atol=ATOL)
        [(target, _)] = _compiled_fun._ADDRESSES[fun].values()
        assert (target is not None) is adapted


def test_functions_with_fixed_signatures():
    # compiled for exactly the kernels' types: called as they are; for
    # others (numba may not compile them anew): called from Python
    from fastopt import _compiled_fun

    def residual(x):
        return np.array([x[0] ** 2 - 2.0 * x[1], np.sin(x[1])])

    contiguous = njit("float64[::1](float64[::1])")(residual)
    any_layout = njit("float64[:](float64[:])")(residual)
    x0 = np.array([0.7, -1.3])
    expected = np.array([[1.4, -2.0], [0.0, np.cos(-1.3)]])
    for fun, compiled_path in [(contiguous, True), (any_layout, False)]:
        J = approx_derivative(fun, x0, method="3-point")
        assert_allclose(J, expected, rtol=1e-8, atol=1e-10)
        [entry] = _compiled_fun._ADDRESSES[fun].values()
        assert (entry is not None) is compiled_path


def test_njit_with_kwargs_or_float32_uses_python_path():
    x0 = np.array([0.7, -1.3, 2.1], dtype=np.float32)
    ours = approx_derivative(P.jit_polynomial, x0)
    exact = approx_derivative(P.polynomial, x0.astype(np.float64))
    assert_allclose(ours, exact, rtol=2e-3, atol=2e-3)


def test_njit_changing_output_size_is_an_error():
    @njit
    def grows(x):
        return np.ones(2 if x[0] == 1.0 else 3)
    with pytest.raises(ValueError, match="size differs from its value at"):
        approx_derivative(grows, np.array([1.0, 1.0]))


# ------------------------------------------------------ fastopt.compiled ----
@njit
def residual(x, a):
    return np.array([x[0] ** 2 - a, x[0] * x[1], np.exp(x[1])])


@njit
def residual_c(z, a):
    return np.array([z[0] ** 2 - a, z[0] * z[1], np.exp(z[1])])


@njit
def jacobians(points, a, method):
    out = np.empty((points.shape[0], 3, 2))
    for k in range(points.shape[0]):
        out[k] = compiled.approx_jacobian(residual, points[k].copy(), (a,),
                                          method)
    return out


def exact_jacobian(x):
    return np.array([[2 * x[0], 0.0], [x[1], x[0]], [0.0, np.exp(x[1])]])


@pytest.mark.parametrize("method", [compiled.METHOD_2POINT,
                                    compiled.METHOD_3POINT])
def test_compiled_api_dense(method):
    points = np.array([[1.0, 2.0], [3.0, -1.0]])
    J = jacobians(points, 2.0, method)
    name = {compiled.METHOD_2POINT: "2-point",
            compiled.METHOD_3POINT: "3-point"}[method]
    for k in range(2):
        theirs = scipy_approx(residual, points[k], method=name, args=(2.0,))
        assert_allclose(J[k], theirs, rtol=RTOL, atol=ATOL)


def test_compiled_api_bounded_cs_and_sparse():
    x0 = np.array([1.0, 2.0])
    lb, ub = np.array([1.0, -np.inf]), np.array([1.0 + 1e-9, 2.0])
    J = njit(lambda x: compiled.approx_jacobian_bounded(
        residual, x, (2.0,), compiled.METHOD_3POINT, lb, ub))(x0)
    theirs = scipy_approx(residual, x0, args=(2.0,), bounds=(lb, ub))
    assert_allclose(J, theirs, rtol=RTOL, atol=ATOL)
    J = njit(lambda x: compiled.approx_jacobian_cs(residual_c, x, (2.0,)))(x0)
    assert_allclose(J, exact_jacobian(x0), rtol=1e-14)

    structure = csc_array(exact_jacobian(x0) != 0)
    groups = group_columns(structure)
    indptr = structure.indptr.astype(np.int64)
    indices = structure.indices.astype(np.int64)
    data = njit(lambda x: compiled.approx_jacobian_sparse(
        residual, x, (2.0,), compiled.METHOD_2POINT, indptr, indices,
        groups))(x0)
    J = csc_array((data, indices, indptr), shape=(3, 2)).toarray()
    assert_allclose(J, exact_jacobian(x0), rtol=1e-7)
    data = njit(lambda x: compiled.approx_jacobian_sparse_cs(
        residual_c, x, (2.0,), indptr, indices, groups))(x0)
    J = csc_array((data, indices, indptr), shape=(3, 2)).toarray()
    assert_allclose(J, exact_jacobian(x0), rtol=1e-14)


def test_compiled_api_errors():
    with pytest.raises(ValueError, match="`method` must be METHOD_2POINT"):
        jacobians(np.ones((1, 2)), 2.0, 7)
    f = njit(lambda x: compiled.approx_jacobian_bounded(
        residual, x, (2.0,), compiled.METHOD_2POINT, np.zeros(2), np.ones(2)))
    with pytest.raises(ValueError, match="`x0` violates bound constraints"):
        f(np.array([2.0, 0.5]))


# --------------------------------------------------- kernels vs references ----
def test_step_kernels_match_scipy_helpers():
    from scipy.optimize._numdiff import (_adjust_scheme_to_bounds,
                                         _compute_absolute_step)
    from fastopt._kernels.steps import (STEP_DEFAULT, STEP_RELATIVE,
                                        absolute_steps, adjust_one_sided,
                                        adjust_two_sided)
    rng = np.random.default_rng(1)
    for _ in range(50):
        x0 = rng.standard_normal(6) * 10.0 ** rng.integers(-3, 4)
        lb = x0 - np.abs(rng.standard_normal(6)) * rng.choice([1e-9, 1e-3, 1])
        ub = x0 + np.abs(rng.standard_normal(6)) * rng.choice([1e-9, 1e-3, 1])
        lb[rng.random(6) < 0.3] = -np.inf
        rel = np.abs(rng.standard_normal(6)) * 1e-4
        for method, rstep in (("2-point", 1.49e-8), ("3-point", 6.06e-6)):
            assert_allclose(absolute_steps(x0, rstep, np.empty(0),
                                           STEP_DEFAULT),
                            rstep * np.where(x0 >= 0, 1, -1)
                            * np.maximum(1, np.abs(x0)), rtol=1e-15)
            theirs = _compute_absolute_step(rel, x0, x0, method)
            ours = absolute_steps(x0, _eps(method), rel, STEP_RELATIVE)
            assert_allclose(ours, theirs, rtol=1e-15)
            h_theirs, _ = _adjust_scheme_to_bounds(x0, theirs.copy(), 1,
                                                   "1-sided", lb, ub)
            assert_allclose(adjust_one_sided(x0, theirs.copy(), 1, lb, ub),
                            h_theirs, rtol=1e-15)
            h_theirs, side_theirs = _adjust_scheme_to_bounds(
                x0, theirs.copy(), 1, "2-sided", lb, ub)
            side = np.zeros(6, dtype=bool)
            assert_allclose(adjust_two_sided(x0, theirs.copy(), 1, lb, ub,
                                             side), h_theirs, rtol=1e-15)
            np.testing.assert_array_equal(side, side_theirs)


def _eps(method):
    eps = np.finfo(float).eps
    return eps ** 0.5 if method == "2-point" else eps ** (1 / 3)


def test_sparse_pattern_kernels():
    from scipy.sparse import csr_array, random_array
    A = random_array((30, 20), density=0.2, format="csc", rng=4)
    indptr = A.indptr.astype(np.int64)
    indices = A.indices.astype(np.int64)
    # transpose_pattern: CSC -> CSR with the CSC slot of each CSR entry.
    ptr, idx, position = sparse_kernels.transpose_pattern(30, indptr, indices)
    B = csr_array((A.data[position], idx, ptr), shape=(30, 20))
    np.testing.assert_array_equal(B.toarray(), A.toarray())
    assert all((np.diff(idx[ptr[i]:ptr[i + 1]]) > 0).all() for i in range(30))
    # group_members and check_groups against direct numpy answers.
    groups = group_columns(A)
    n_groups = groups.max() + 1
    gptr, members = sparse_kernels.group_members(groups, n_groups)
    for g in range(n_groups):
        np.testing.assert_array_equal(members[gptr[g]:gptr[g + 1]],
                                      np.flatnonzero(groups == g))
    assert sparse_kernels.check_groups(30, indptr, indices, groups,
                                       n_groups)[0] == -1
    bad = np.zeros(20, dtype=np.int64)
    row, a, b = sparse_kernels.check_groups(30, indptr, indices, bad, 1)
    assert row >= 0 and a != b and A[row, a] != 0 and A[row, b] != 0
    ptr2, idx2 = sparse_kernels.dense_to_csc(A.toarray() != 0)
    np.testing.assert_array_equal(ptr2, indptr)
    np.testing.assert_array_equal(idx2, indices)
    # The fingerprint changes with any index.
    base = sparse_kernels.pattern_fingerprint(indptr, indices)
    changed = indices.copy()
    changed[5] += 1
    assert sparse_kernels.pattern_fingerprint(indptr, changed) != base
    assert sparse_kernels.pattern_fingerprint(indptr, indices.copy()) == base


def test_strided_and_readonly_x0_use_the_same_kernel():
    base = np.array([0.7, 9.0, -1.3, 9.0, 2.1])
    approx_derivative(P.jit_polynomial, base[::2].copy())
    before = len(dense_kernels.dense_difference_default_at.signatures)
    strided = approx_derivative(P.jit_polynomial, base[::2])
    readonly = base[::2].copy()
    readonly.flags.writeable = False
    J = approx_derivative(P.jit_polynomial, readonly)
    assert len(dense_kernels.dense_difference_default_at.signatures) == before
    assert_allclose(strided, J, rtol=0)
