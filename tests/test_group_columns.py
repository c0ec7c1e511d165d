"""Tests of fastopt.group_columns and its colouring kernels."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from scipy.optimize._numdiff import group_columns as scipy_group_columns

from fastopt._group_columns import _best_groups_csc, group_columns
from fastopt._kernels import coloring as K

ORDER_NAMES = ["best", "natural", "random", "largest_first", "smallest_last",
               "incidence_degree"]


# ---------------------------------------------------------------- helpers

def random_structure(m, n, density, seed):
    """Dense boolean m x n structure with about `density` non-zeros."""
    rng = np.random.default_rng(seed)
    return rng.random((m, n)) < density


def csc_int64(B):
    """int64 CSC index arrays of a dense boolean structure."""
    A = sp.csc_array(B)
    return (A.indptr.astype(np.int64), A.indices.astype(np.int64))


def tridiag(n, half_bandwidth=1):
    offsets = range(-half_bandwidth, half_bandwidth + 1)
    return sp.diags_array([np.ones(n - abs(k)) for k in offsets],
                          offsets=offsets, shape=(n, n), format="csc")


def laplacian_2d(nx, ny):
    def second_difference(k):
        return sp.diags_array([np.ones(k - 1), -2 * np.ones(k),
                               np.ones(k - 1)], offsets=[-1, 0, 1])
    return (sp.kron(sp.eye_array(ny), second_difference(nx))
            + sp.kron(second_difference(ny), sp.eye_array(nx))).tocsc()


def laplacian_3d(k):
    d = sp.diags_array([np.ones(k - 1), -2 * np.ones(k), np.ones(k - 1)],
                       offsets=[-1, 0, 1])
    i = sp.eye_array(k)
    return (sp.kron(sp.kron(i, i), d) + sp.kron(sp.kron(i, d), i)
            + sp.kron(sp.kron(d, i), i)).tocsc()


def dense_bool(A):
    if sp.issparse(A):
        A = A.toarray()
    return np.atleast_2d(np.asarray(A)) != 0


def adjacency(B):
    """Dense adjacency matrix of the column-intersection graph."""
    Bi = B.astype(np.int64)
    G = (Bi.T @ Bi) > 0
    np.fill_diagonal(G, False)
    return G


def assert_valid(B, groups):
    """No two columns of a group share a row; groups numbered 0..k-1."""
    n = B.shape[1]
    assert isinstance(groups, np.ndarray)
    assert groups.dtype == np.int64
    assert groups.shape == (n,)
    if n == 0:
        return
    n_groups = groups.max() + 1
    assert groups.min() >= 0
    assert_array_equal(np.unique(groups), np.arange(n_groups))
    for g in range(n_groups):
        assert B[:, groups == g].sum(axis=1).max(initial=0) <= 1


def n_groups(groups):
    return int(groups.max()) + 1 if groups.size else 0


def naive_first_fit(B, order):
    """First fit in `order`: the smallest colour no neighbour has."""
    G = adjacency(B)
    n = B.shape[1]
    colors = np.full(n, -1, dtype=np.int64)
    for j in order:
        used = {colors[k] for k in range(n) if G[j, k] and colors[k] >= 0}
        c = 0
        while c in used:
            c += 1
        colors[j] = c
    return colors


def naive_cpr(B, order):
    """Curtis-Powell-Reid sequential grouping, as described by SciPy."""
    n = B.shape[1]
    groups = np.full(n, -1, dtype=np.int64)
    current = 0
    while (groups < 0).any():
        union = np.zeros(B.shape[0], dtype=bool)
        for j in order:
            if groups[j] < 0 and not (union & B[:, j]).any():
                groups[j] = current
                union |= B[:, j]
        current += 1
    return groups


def is_first_fit_like(B, colors):
    """Every column of colour c has neighbours of all colours < c."""
    G = adjacency(B)
    for j in range(B.shape[1]):
        seen = set(colors[G[j]])
        if not all(c in seen for c in range(colors[j])):
            return False
    return True


STRUCTURES = [
    # (m, n, density, seed): square, wide (m < n), tall (m > n), dense-ish.
    (20, 20, 0.15, 0),
    (15, 40, 0.1, 1),
    (50, 12, 0.2, 2),
    (30, 30, 0.4, 3),
    (8, 8, 0.0, 4),
    (1, 10, 0.5, 5),
    (40, 25, 0.05, 6),
]


# ------------------------------------------------- (a) equality with SciPy

@pytest.mark.parametrize("transform", [
    np.asarray, sp.csr_array, sp.csc_array, sp.lil_array, sp.coo_array,
    sp.csr_matrix, sp.csc_matrix, sp.coo_matrix])
def test_scipy_reference_case(transform):
    # The case of SciPy's own test suite: a 7 x 6 band with an empty row.
    structure = np.array([
        [1, 1, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 0, 1, 1, 1, 0],
        [0, 0, 0, 1, 1, 1],
        [0, 0, 0, 0, 1, 1],
        [0, 0, 0, 0, 0, 0]])
    A = transform(structure)
    assert_array_equal(group_columns(A, np.arange(6)), [0, 1, 2, 0, 1, 2])
    assert_array_equal(group_columns(A, [1, 2, 4, 3, 5, 0]),
                       [2, 0, 1, 2, 0, 1])
    assert_array_equal(group_columns(A, "natural"), [0, 1, 2, 0, 1, 2])
    assert_array_equal(group_columns(A), [0, 1, 2, 0, 1, 2])
    assert_array_equal(group_columns(A), group_columns(A))


@pytest.mark.parametrize("m, n, density, seed", STRUCTURES)
@pytest.mark.parametrize("transform", [
    np.asarray, sp.csc_array, sp.csr_array, sp.coo_array, sp.csr_matrix])
def test_equals_scipy_seeds_and_permutations(m, n, density, seed, transform):
    B = random_structure(m, n, density, seed)
    A = transform(B.astype(np.float64))
    for order in [0, 1, 12345, np.int64(7)]:
        assert_array_equal(group_columns(A, order),
                           scipy_group_columns(A, order))
    # 'random' is SciPy's default order=0.
    assert_array_equal(group_columns(A, "random"), scipy_group_columns(A))
    rng = np.random.default_rng(seed)
    for _ in range(3):
        perm = rng.permutation(n)
        expected = scipy_group_columns(A, perm)
        assert_array_equal(group_columns(A, perm), expected)
        assert_array_equal(group_columns(A, list(perm)), expected)
        assert_array_equal(group_columns(A, perm.astype(np.int32)), expected)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_equals_scipy_np_matrix_and_lists():
    B = random_structure(12, 9, 0.3, 10)
    for A in [np.matrix(B.astype(float)), B.tolist(), B.astype(np.int8),
              B.astype(complex)]:
        for order in [0, 3, np.arange(9)[::-1]]:
            assert_array_equal(group_columns(A, order),
                               scipy_group_columns(A, order))


def test_equals_naive_cpr_and_first_fit():
    # First fit in an order == CPR sequential grouping in that order.
    rng = np.random.default_rng(11)
    for trial in range(20):
        m, n = rng.integers(1, 25, size=2)
        B = random_structure(m, n, rng.uniform(0.05, 0.5), trial)
        order = rng.permutation(n)
        expected = naive_cpr(B, order)
        assert_array_equal(naive_first_fit(B, order), expected)
        assert_array_equal(group_columns(B, order), expected)


def test_explicit_zeros_ignored_and_input_untouched():
    B = random_structure(20, 15, 0.3, 12)
    A = sp.csc_array(B.astype(float))
    # Store explicit zeros at some positions that are zero in B.
    rows, cols = np.nonzero(~B)
    coo = sp.coo_array(
        (np.r_[A.tocoo().data, np.zeros(10)],
         (np.r_[A.tocoo().row, rows[:10]], np.r_[A.tocoo().col, cols[:10]])),
        shape=B.shape)
    for A_zeros in [coo.tocsc(), coo.tocsr(), coo]:
        nnz = A_zeros.nnz
        data = A_zeros.data.copy()
        assert nnz == B.sum() + 10
        for order in [0, 5, np.arange(15)]:
            assert_array_equal(group_columns(A_zeros, order),
                               scipy_group_columns(A, order))
        assert_valid(B, group_columns(A_zeros))
        assert A_zeros.nnz == nnz
        assert_array_equal(A_zeros.data, data)


def test_non_canonical_csc_input():
    # Repeated entries within columns and unsorted rows.
    B = random_structure(15, 12, 0.3, 13)
    A = sp.csc_array(B.astype(float))
    indptr, indices = A.indptr, A.indices
    new_indices, new_indptr = [], [0]
    for j in range(12):
        col = list(indices[indptr[j]:indptr[j + 1]])
        col = col[::-1] + col[:1]
        new_indices += col
        new_indptr.append(len(new_indices))
    A_dup = sp.csc_array((np.ones(len(new_indices)), new_indices, new_indptr),
                         shape=B.shape)
    assert not A_dup.has_canonical_format
    for order in ORDER_NAMES + [0, 3]:
        assert_array_equal(group_columns(A_dup, order),
                           group_columns(A, order))


def test_unseeded_none_is_valid():
    B = random_structure(20, 30, 0.1, 14)
    groups = group_columns(B, None)
    assert_valid(B, groups)


def test_low_dimensional_dense_input():
    assert_array_equal(group_columns(5), scipy_group_columns(5))
    assert_array_equal(group_columns(0.0), [0])
    row = [1, 0, 2, 3]
    for order in [0, [3, 2, 1, 0]]:
        assert_array_equal(group_columns(row, order),
                           scipy_group_columns(row, order))
    # A 1-D input is one row, sparse or dense.
    assert_array_equal(group_columns(row), [0, 0, 1, 2])
    assert_array_equal(group_columns(sp.coo_array(np.array(row))),
                       [0, 0, 1, 2])


@pytest.mark.parametrize("shape", [(0, 0), (0, 5), (5, 0), (1, 1)])
@pytest.mark.parametrize("sparse", [False, True])
def test_empty(shape, sparse):
    A = np.zeros(shape)
    if sparse:
        A = sp.csc_array(A)
    n = shape[1]
    for order in ORDER_NAMES + [0, None, np.arange(n)]:
        groups = group_columns(A, order)
        assert groups.dtype == np.int64
        assert_array_equal(groups, np.zeros(n, dtype=np.int64))


def test_more_than_62_groups():
    # A dense row forces 70 groups: the bit-mask kernels overflow and the
    # mark-array fallback takes over, with identical results.
    B = random_structure(10, 70, 0.2, 15)
    B[3] = True
    A = sp.csr_array(B)
    for order in [0, 1, np.arange(70)[::-1]]:
        assert_array_equal(group_columns(A, order),
                           scipy_group_columns(A, order))
    for order in ORDER_NAMES:
        groups = group_columns(A, order)
        assert_valid(B, groups)
        assert n_groups(groups) == 70


# --------------------------------------- (b) validity on random structures

@pytest.mark.parametrize("order", ORDER_NAMES + [0, 3])
def test_valid_on_random_structures(order):
    rng = np.random.default_rng(16)
    for trial in range(25):
        m, n = rng.integers(1, 60, size=2)
        density = rng.choice([0.02, 0.05, 0.1, 0.3, 0.6])
        B = random_structure(m, n, density, 100 + trial)
        A = sp.csc_array(B) if trial % 2 else B
        groups = group_columns(A, order)
        assert_valid(B, groups)
        assert n_groups(groups) >= B.sum(axis=1).max(initial=0)


def test_valid_on_larger_sparse_structures():
    rng = np.random.default_rng(17)
    for m, n, nnz in [(2000, 1500, 6000), (500, 3000, 9000),
                      (3000, 3000, 15000)]:
        A = sp.csc_array((np.ones(nnz), (rng.integers(0, m, nnz),
                                         rng.integers(0, n, nnz))),
                         shape=(m, n))
        counts = np.diff(A.tocsr().indptr)
        for order in ORDER_NAMES:
            groups = group_columns(A, order)
            # Sparse validity check: per group, at most one entry per row.
            assert groups.shape == (n,) and groups.dtype == np.int64
            G = sp.csc_array((np.ones(n), (np.arange(n), groups)),
                             shape=(n, groups.max() + 1))
            per_row_group = (A != 0).astype(np.int64) @ G
            assert per_row_group.max() <= 1
            assert n_groups(groups) >= counts.max()


# ------------------------------------- (c) quality: never worse than SciPy

def test_best_never_worse_than_scipy_default():
    rng = np.random.default_rng(18)
    for trial in range(60):
        m, n = rng.integers(2, 80, size=2)
        density = rng.choice([0.02, 0.05, 0.1, 0.2, 0.4])
        B = random_structure(m, n, density, 200 + trial)
        best = group_columns(B)
        assert_valid(B, best)
        assert n_groups(best) <= n_groups(scipy_group_columns(B))
        assert n_groups(best) >= B.sum(axis=1).max(initial=0)


@pytest.mark.parametrize("half_bandwidth", [1, 2, 3])
@pytest.mark.parametrize("n", [5, 50, 1000])
def test_best_optimal_on_banded(half_bandwidth, n):
    A = tridiag(n, half_bandwidth)
    groups = group_columns(A)
    assert_valid(dense_bool(A), groups)
    assert n_groups(groups) == min(2 * half_bandwidth + 1, n)
    assert n_groups(group_columns(A, "natural")) == n_groups(groups)
    assert n_groups(groups) <= n_groups(scipy_group_columns(A))


@pytest.mark.parametrize("nx, ny", [(10, 10), (100, 100), (30, 70),
                                    (9, 20), (14, 14)])
def test_best_optimal_on_laplacian_2d(nx, ny):
    # (9, 20) and (14, 14): cyclic first fit misses, DSATUR finds 5.
    A = laplacian_2d(nx, ny)
    groups = group_columns(A)
    assert_valid(dense_bool(A), groups)
    assert n_groups(groups) == 5
    assert n_groups(scipy_group_columns(A)) > 5


def test_best_optimal_on_laplacian_3d():
    A = laplacian_3d(12)
    groups = group_columns(A)
    assert_valid(dense_bool(A), groups)
    assert n_groups(groups) == 7


def test_best_groups_csc_helper():
    A = laplacian_2d(12, 12)
    indptr, indices = A.indptr.astype(np.int64), A.indices.astype(np.int64)
    assert_array_equal(_best_groups_csc(144, 144, indptr, indices),
                       group_columns(A))


# -------------------------------------------------------------- (d) errors

def test_error_not_2d():
    with pytest.raises(ValueError, match="`A` must be 2-dimensional."):
        group_columns(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="`A` must be 2-dimensional."):
        group_columns(sp.coo_array(np.ones((2, 3, 4))))


def test_error_order_shape():
    A = np.eye(4)
    for order in [np.arange(3), np.arange(5), np.zeros((2, 2), int),
                  np.array(2)]:
        with pytest.raises(ValueError, match="`order` has incorrect shape."):
            group_columns(A, order)


def test_error_order_not_a_permutation():
    A = np.eye(4)
    with pytest.raises(ValueError, match="`order`.*repeated"):
        group_columns(A, [0, 1, 1, 2])
    with pytest.raises(ValueError, match="`order`.*outside"):
        group_columns(A, [0, 1, 2, 4])
    with pytest.raises(ValueError, match="`order`.*outside"):
        group_columns(A, [-1, 0, 1, 2])
    with pytest.raises(ValueError, match="`order` must contain integers"):
        group_columns(A, [0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="`order` must contain integers"):
        group_columns(A, [True, False, True, False])


def test_error_order_unknown_name():
    with pytest.raises(ValueError,
                       match="`order` must be one of 'best', 'natural'.*"
                             "'incidence_degree'.*got 'fastest'"):
        group_columns(np.eye(3), "fastest")


@pytest.mark.parametrize("order", [1.5, 2.0, {"a": 1}, True, 1j, b"best",
                                   {0, 1, 2}, [object(), 1, 2]])
def test_error_order_type(order):
    with pytest.raises(TypeError, match="`order`"):
        group_columns(np.eye(3), order)


def test_error_bad_seed():
    with pytest.raises(ValueError, match="`order` is not a valid random seed"):
        group_columns(np.eye(3), -1)


# ----------------------------------- (e) kernels vs naive Python references

def small_cases():
    rng = np.random.default_rng(19)
    for trial in range(15):
        m, n = rng.integers(1, 30, size=2)
        B = random_structure(m, n, rng.uniform(0.03, 0.4), 300 + trial)
        yield B


def test_kernel_transpose_and_bound():
    for B in small_cases():
        m = B.shape[0]
        indptr, indices = csc_int64(B)
        rptr, rcol = K.csc_transpose(m, indptr, indices)
        csr = sp.csr_array(B)
        assert_array_equal(rptr, csr.indptr)
        assert_array_equal(rcol, csr.indices)
        bound = B.sum(axis=1).max(initial=0)
        assert K.max_row_count(m, indptr, indices) == bound
        colors = np.empty(B.shape[1], dtype=np.int64)
        k, b = K.natural_color_and_bound(indptr, indices, m, colors)
        assert b == bound
        expected = naive_first_fit(B, range(B.shape[1]))
        assert_array_equal(colors, expected)
        assert k == n_groups(expected)


def test_kernel_bound_with_repeated_entries():
    # Column 0 lists row 1 three times: it still counts once.  Rows:
    # 0 -> {0}, 1 -> {0, 1}, 2 -> {2}.
    indptr = np.array([0, 4, 5, 6], dtype=np.int64)
    indices = np.array([1, 0, 1, 1, 1, 2], dtype=np.int64)
    assert K.max_row_count(3, indptr, indices) == 2
    colors = np.empty(3, dtype=np.int64)
    assert K.natural_color_and_bound(indptr, indices, 3, colors) == (2, 2)
    assert_array_equal(colors, [0, 1, 0])
    rptr, rcol = K.csc_transpose(3, indptr, indices)
    assert_array_equal(K.intersection_degrees(indptr, indices, rptr, rcol),
                       [1, 1, 0])


def test_kernel_greedy_versions_match_naive():
    rng = np.random.default_rng(20)
    for B in small_cases():
        m, n = B.shape
        indptr, indices = csc_int64(B)
        rptr, rcol = K.csc_transpose(m, indptr, indices)
        order = rng.permutation(n).astype(np.int64)
        expected = naive_first_fit(B, order)
        a = np.empty(n, dtype=np.int64)
        b = np.empty(n, dtype=np.int64)
        ka = K.greedy_color_rowmask(order, indptr, indices, a,
                                    np.empty(m, dtype=np.int64), n + 1)
        kb = K.greedy_color(order, indptr, indices, rptr, rcol, b,
                            np.empty(n, dtype=np.int64), n + 1)
        assert_array_equal(a, expected)
        assert_array_equal(b, expected)
        assert ka == kb == n_groups(expected)
        colors, k = K.color_with_order(order, indptr, indices, m)
        assert_array_equal(colors, expected)
        # Limits: asking to beat the result itself fails, beating k + 1
        # succeeds.
        assert K.greedy_color_rowmask(order, indptr, indices, a,
                                      np.empty(m, dtype=np.int64),
                                      k) == K.LIMIT_REACHED
        assert K.greedy_color(order, indptr, indices, rptr, rcol, b,
                              np.empty(n, dtype=np.int64),
                              k) == K.LIMIT_REACHED
        assert K.greedy_color(order, indptr, indices, rptr, rcol, b,
                              np.empty(n, dtype=np.int64), k + 1) == k


def test_kernel_degrees_and_largest_first():
    for B in small_cases():
        m = B.shape[0]
        indptr, indices = csc_int64(B)
        rptr, rcol = K.csc_transpose(m, indptr, indices)
        deg = K.intersection_degrees(indptr, indices, rptr, rcol)
        assert_array_equal(deg, adjacency(B).sum(axis=1))
        assert_array_equal(K.largest_first_order(deg),
                           np.argsort(-deg, kind="stable"))


def test_kernel_smallest_last():
    for B in small_cases():
        m, n = B.shape
        indptr, indices = csc_int64(B)
        rptr, rcol = K.csc_transpose(m, indptr, indices)
        deg = K.intersection_degrees(indptr, indices, rptr, rcol)
        order = K.smallest_last_order(indptr, indices, rptr, rcol, deg)
        assert_array_equal(np.sort(order), np.arange(n))
        # Read backwards, each vertex has minimum degree among the
        # vertices not removed yet.
        G = adjacency(B)
        alive = np.ones(n, dtype=bool)
        for v in order[::-1]:
            degrees = G[:, alive][alive].sum(axis=1)
            assert G[v, alive].sum() == degrees.min()
            alive[v] = False


def test_kernel_incidence_degree():
    for B in small_cases():
        m, n = B.shape
        indptr, indices = csc_int64(B)
        rptr, rcol = K.csc_transpose(m, indptr, indices)
        deg = K.intersection_degrees(indptr, indices, rptr, rcol)
        order = K.incidence_degree_order(indptr, indices, rptr, rcol, deg)
        assert_array_equal(np.sort(order), np.arange(n))
        G = adjacency(B)
        if n:
            assert deg[order[0]] == deg.max()
        ordered = np.zeros(n, dtype=bool)
        for v in order:
            incidence = G[:, ordered].sum(axis=1)
            assert incidence[v] == incidence[~ordered].max()
            ordered[v] = True


def test_kernel_named_order():
    B = random_structure(20, 25, 0.1, 21)
    indptr, indices = csc_int64(B)
    rptr, rcol = K.csc_transpose(20, indptr, indices)
    deg = K.intersection_degrees(indptr, indices, rptr, rcol)
    assert_array_equal(K.named_order(K.ORDER_NATURAL, indptr, indices, 20),
                       np.arange(25))
    assert_array_equal(
        K.named_order(K.ORDER_LARGEST_FIRST, indptr, indices, 20),
        K.largest_first_order(deg))
    assert_array_equal(
        K.named_order(K.ORDER_SMALLEST_LAST, indptr, indices, 20),
        K.smallest_last_order(indptr, indices, rptr, rcol, deg))
    assert_array_equal(
        K.named_order(K.ORDER_INCIDENCE_DEGREE, indptr, indices, 20),
        K.incidence_degree_order(indptr, indices, rptr, rcol, deg))


def test_kernel_dsatur_and_cyclic_valid():
    for B in small_cases():
        m, n = B.shape
        indptr, indices = csc_int64(B)
        rptr, rcol = K.csc_transpose(m, indptr, indices)
        colors = np.empty(n, dtype=np.int64)
        k = K.dsatur_color(indptr, indices, rptr, rcol, colors, n + 1)
        assert k == n_groups(colors)
        assert_valid(B, colors)
        assert is_first_fit_like(B, colors)
        bound = max(B.sum(axis=1).max(initial=0), 1)
        for period in [bound, bound + 2]:
            k = K.cyclic_color_rowmask(np.arange(n), indptr, indices, period,
                                       colors, np.empty(m, dtype=np.int64),
                                       n + 1)
            assert k == n_groups(colors)
            assert_valid(B, colors)


def test_kernel_cyclic_finds_lattice_colouring():
    A = laplacian_2d(20, 20)
    indptr, indices = A.indptr.astype(np.int64), A.indices.astype(np.int64)
    colors = np.empty(400, dtype=np.int64)
    k_natural, bound = K.natural_color_and_bound(indptr, indices, 400, colors)
    assert (k_natural, bound) == (7, 5)
    assert K.cyclic_color_rowmask(np.arange(400), indptr, indices, 5, colors,
                                  np.empty(400, dtype=np.int64), 7) == 5
    assert_valid(dense_bool(A), colors)


def test_kernel_color_best():
    for B in small_cases():
        m, n = B.shape
        indptr, indices = csc_int64(B)
        colors = np.empty(n, dtype=np.int64)
        k, bound = K.color_best(indptr, indices, m, colors)
        assert_valid(B, colors)
        assert k == n_groups(colors)
        assert bound == max(B.sum(axis=1).max(initial=0), 1)
        assert bound <= k <= n_groups(naive_first_fit(B, range(n)))
        # improve_with_order never makes it worse.
        perm = np.random.RandomState(0).permutation(n)
        k2 = K.improve_with_order(perm, indptr, indices, m, colors, k)
        assert k2 <= k
        assert k2 == n_groups(colors)
        assert_valid(B, colors)
