"""Sparse finite differences: one evaluation (pair) per column group.

Columns in one group share no row of the sparsity structure, so one
perturbation of all of them at once gives every non-zero of those columns
(Curtis, Powell and Reid 1974).  The structure is held in CSC form
(``indptr``, ``indices``); the Jacobian's values are produced in the same
order, and :func:`csc_to_csr` converts the result.

As in :mod:`fastopt._kernels.dense`, the work is split for reverse
communication (:func:`sparse_points` / :func:`sparse_assemble`) and offered
as a compiled driver (:func:`sparse_difference`).
"""
import numpy as np
from numba import njit

from .dense import points_per_column
from .funcptr import as_function
from .steps import METHOD_2POINT, absolute_steps, difference_steps

__all__ = ["group_members", "check_groups", "sparse_points",
           "sparse_points_cs", "sparse_assemble", "sparse_assemble_cs", "sparse_difference",
           "sparse_difference_at", "csc_to_csr", "dense_to_csc"]


@njit(cache=True)
def group_members(groups, n_groups):
    """Columns of each group, as CSR-like ``(group_ptr, members)``.

    ``members[group_ptr[g]:group_ptr[g+1]]`` are the columns of group ``g``
    in increasing order.
    """
    n = groups.size
    group_ptr = np.zeros(n_groups + 1, dtype=np.int64)
    for j in range(n):
        group_ptr[groups[j] + 1] += 1
    for g in range(n_groups):
        group_ptr[g + 1] += group_ptr[g]
    fill = group_ptr[:-1].copy()
    members = np.empty(n, dtype=np.int64)
    for j in range(n):
        g = groups[j]
        members[fill[g]] = j
        fill[g] += 1
    return group_ptr, members


@njit(cache=True)
def check_groups(m, indptr, indices, groups, n_groups):
    """First conflict in a grouping, or ``(-1, -1, -1)`` if it is valid.

    Returns
    -------
    row, col_a, col_b : int
        Two columns of one group that share ``row``.
    """
    seen = np.full(m, -1, dtype=np.int64)
    group_ptr, members = group_members(groups, n_groups)
    for g in range(n_groups):
        for p in range(group_ptr[g], group_ptr[g + 1]):
            j = members[p]
            for q in range(indptr[j], indptr[j + 1]):
                i = indices[q]
                if seen[i] >= 0 and groups[seen[i]] == g and seen[i] != j:
                    return i, seen[i], j
                seen[i] = j
    return -1, -1, -1


@njit(cache=True)
def sparse_points(x0, h, one_sided, method, group_ptr, members, start, stop):
    """Evaluation points for groups ``start <= g < stop``.

    Returns
    -------
    points : ndarray of float64, shape (k * (stop - start), n)
        '2-point': ``x0 + sum_{j in g} h[j] e_j``.  '3-point': two rows per
        group, each column of the group moved as in the dense scheme
        (central ``-h, +h`` or one-sided ``+h, +2h``).
    """
    k = points_per_column(method)
    n = x0.size
    points = np.empty((k * (stop - start), n))
    for r in range(stop - start):
        g = start + r
        for q in range(k):
            points[k * r + q, :] = x0
        for p in range(group_ptr[g], group_ptr[g + 1]):
            j = members[p]
            if method == METHOD_2POINT:
                points[r, j] = x0[j] + h[j]
            elif one_sided[j]:
                points[2 * r, j] = x0[j] + h[j]
                points[2 * r + 1, j] = x0[j] + 2.0 * h[j]
            else:
                points[2 * r, j] = x0[j] - h[j]
                points[2 * r + 1, j] = x0[j] + h[j]
    return points


@njit(cache=True)
def sparse_points_cs(x0, h, group_ptr, members, start, stop):
    """Complex-step points ``x0 + i sum_{j in g} h[j] e_j``."""
    n = x0.size
    points = np.empty((stop - start, n), dtype=np.complex128)
    for r in range(stop - start):
        g = start + r
        points[r, :] = x0
        for p in range(group_ptr[g], group_ptr[g + 1]):
            j = members[p]
            points[r, j] = x0[j] + 1j * h[j]
    return points


@njit(cache=True)
def _group_values(values, r, points, x0, f0, h, one_sided, method,
                  indptr, indices, group_ptr, members, g, data):
    # Divided differences of one group, written at the group's non-zeros.
    # values/points hold this group's k rows starting at row k*r.
    for p in range(group_ptr[g], group_ptr[g + 1]):
        j = members[p]
        if method == METHOD_2POINT:
            dx = points[r, j] - x0[j]
            for q in range(indptr[j], indptr[j + 1]):
                i = indices[q]
                data[q] = (values[r, i] - f0[i]) / dx
        elif one_sided[j]:
            dx = points[2 * r + 1, j] - x0[j]
            for q in range(indptr[j], indptr[j + 1]):
                i = indices[q]
                data[q] = (-3.0 * f0[i] + 4.0 * values[2 * r, i]
                           - values[2 * r + 1, i]) / dx
        else:
            dx = points[2 * r + 1, j] - points[2 * r, j]
            for q in range(indptr[j], indptr[j + 1]):
                i = indices[q]
                data[q] = (values[2 * r + 1, i] - values[2 * r, i]) / dx


@njit(cache=True)
def _group_values_cs(values, r, h, indptr, indices, group_ptr, members, g,
                     data):
    # Complex-step quotients of one group (row r of values).
    for p in range(group_ptr[g], group_ptr[g + 1]):
        j = members[p]
        for q in range(indptr[j], indptr[j + 1]):
            data[q] = values[r, indices[q]].imag / h[j]


@njit(cache=True)
def sparse_assemble(values, points, x0, f0, h, one_sided, method, indptr,
                    indices, group_ptr, members, start, data):
    """Fill ``data`` (CSC order) for the groups starting at ``start``.

    Parameters
    ----------
    values : ndarray of float64, shape (k * ngroups, m)
        Function values at ``points``.
    points : ndarray of float64, shape (k * ngroups, n)
        The points as evaluated.
    data : ndarray of float64, shape (nnz,)
        Written in place.
    """
    k = points_per_column(method)
    for r in range(values.shape[0] // k):
        _group_values(values, r, points, x0, f0, h, one_sided, method,
                      indptr, indices, group_ptr, members, start + r, data)


@njit(cache=True)
def sparse_assemble_cs(values, h, indptr, indices, group_ptr, members, start,
                       data):
    """Complex-step version of :func:`sparse_assemble` (complex values)."""
    for r in range(values.shape[0]):
        _group_values_cs(values, r, h, indptr, indices, group_ptr, members,
                         start + r, data)


@njit(cache=True)
def _check_size(f, m):
    if f.size != m:
        raise ValueError("`fun` returned an array whose size differs "
                         "from its value at `x0`.")


@njit(cache=True)
def sparse_difference(fun, args, x0, f0, h, one_sided, method, indptr,
                      indices, groups, n_groups):
    """Sparse Jacobian values of a compiled ``fun(x, *args)``.

    Real methods only ('2-point', '3-point'); see
    :func:`sparse_difference_cs` for the complex step.

    Returns
    -------
    data : ndarray of float64, shape (nnz,)
        Values at the structure's non-zeros, in CSC order.
    """
    m = f0.size
    k = points_per_column(method)
    group_ptr, members = group_members(groups, n_groups)
    data = np.empty(indices.size)
    values = np.empty((k, m))
    for g in range(n_groups):
        points = sparse_points(x0, h, one_sided, method, group_ptr, members,
                               g, g + 1)
        for q in range(k):
            f = fun(points[q].copy(), *args)
            _check_size(f, m)
            values[q, :] = f
        _group_values(values, 0, points, x0, f0, h, one_sided, method,
                      indptr, indices, group_ptr, members, g, data)
    return data


@njit(cache=True)
def sparse_difference_cs(fun, args, x0, m, h, indptr, indices, groups,
                         n_groups):
    """Sparse complex-step Jacobian values of a compiled ``fun(z, *args)``."""
    group_ptr, members = group_members(groups, n_groups)
    data = np.empty(indices.size)
    values = np.empty((1, m), dtype=np.complex128)
    for g in range(n_groups):
        z = sparse_points_cs(x0, h, group_ptr, members, g, g + 1)
        f = fun(z[0].copy(), *args)
        _check_size(f, m)
        values[0, :] = f
        _group_values_cs(values, 0, h, indptr, indices, group_ptr, members, g,
                         data)
    return data


@njit(cache=True)
def sparse_difference_at(c_addr, jit_addr, args, x0, f0, rstep, step,
                         step_kind, lb, ub, method, indptr, indices, groups,
                         n_groups):
    """Steps plus sparse '2-point'/'3-point' difference at the addresses.

    As :func:`fastopt._kernels.dense.dense_difference_at`: an empty ``f0``
    is evaluated here, empty ``lb``/``ub`` mean no bounds.  Returns the
    CSC values and ``f0``.
    """
    fun = as_function(c_addr, jit_addr, x0.copy(), args)
    if f0.size == 0:
        f0 = fun(x0.copy(), args)
    h, one_sided = difference_steps(x0, rstep, step, step_kind, lb, ub,
                                    lb.size > 0, method)
    data = sparse_difference(fun, (args,), x0, f0, h, one_sided, method,
                             indptr, indices, groups, n_groups)
    return data, f0


@njit(cache=True)
def sparse_difference_cs_at(c_addr, jit_addr, args, x0, m, rstep, step,
                            step_kind, indptr, indices, groups, n_groups):
    """Steps plus sparse complex-step difference at the addresses
    (``m < 0``: evaluate once at ``x0`` to find it)."""
    fun = as_function(c_addr, jit_addr, x0.astype(np.complex128), args)
    if m < 0:
        m = fun(x0.astype(np.complex128), args).size
    h = absolute_steps(x0, rstep, step, step_kind)
    return sparse_difference_cs(fun, (args,), x0, m, h, indptr, indices,
                                groups, n_groups)


@njit(cache=True)
def csc_to_csr(m, n, indptr, indices, data):
    """Transpose CSC storage into CSR storage of the same matrix.

    Column indices within each CSR row come out sorted.

    Returns
    -------
    csr_indptr : ndarray of int64, shape (m + 1,)
    csr_indices : ndarray of int64, shape (nnz,)
    csr_data : ndarray of float64, shape (nnz,)
    """
    nnz = indices.size
    csr_indptr = np.zeros(m + 1, dtype=np.int64)
    for q in range(nnz):
        csr_indptr[indices[q] + 1] += 1
    for i in range(m):
        csr_indptr[i + 1] += csr_indptr[i]
    fill = csr_indptr[:-1].copy()
    csr_indices = np.empty(nnz, dtype=np.int64)
    csr_data = np.empty(nnz)
    for j in range(n):
        for q in range(indptr[j], indptr[j + 1]):
            i = indices[q]
            dest = fill[i]
            csr_indices[dest] = j
            csr_data[dest] = data[q]
            fill[i] += 1
    return csr_indptr, csr_indices, csr_data


@njit(cache=True)
def dense_to_csc(pattern):
    """CSC index arrays of the non-zeros of a dense boolean pattern (m, n)."""
    m, n = pattern.shape
    indptr = np.zeros(n + 1, dtype=np.int64)
    for j in range(n):
        count = 0
        for i in range(m):
            if pattern[i, j]:
                count += 1
        indptr[j + 1] = indptr[j] + count
    indices = np.empty(indptr[n], dtype=np.int64)
    q = 0
    for j in range(n):
        for i in range(m):
            if pattern[i, j]:
                indices[q] = i
                q += 1
    return indptr, indices
