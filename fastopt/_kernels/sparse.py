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
from ._jit import driver, kernel

from .dense import check_size, perturb_column, points_per_column
from .funcptr import as_function, call_with
from .steps import METHOD_2POINT, absolute_steps, difference_steps

__all__ = ["group_members", "check_groups", "sparse_points",
           "sparse_points_cs", "sparse_assemble", "sparse_assemble_cs",
           "sparse_difference", "sparse_difference_cs", "sparse_difference_at",
           "sparse_difference_cs_at", "transpose_pattern",
           "pattern_fingerprint", "dense_to_csc"]


@kernel
def group_members(groups, n_groups):
    """Columns of each group, as CSR-like ``(group_ptr, members)``.

    ``members[group_ptr[g]:group_ptr[g+1]]`` are the columns of group ``g``
    in increasing order.
    """
    # Column j is the only entry of "row" j, with "column" groups[j]: the
    # members are the transpose of that pattern.
    group_ptr, members, _ = transpose_pattern(
        n_groups, np.arange(groups.size + 1), groups)
    return group_ptr, members


@kernel
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


@kernel
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
            perturb_column(points, k * r, members[p], x0, h, one_sided,
                           method)
    return points


@kernel
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


@kernel
def _group_quotients(f1, f2, x1, x2, x0, f0, one_sided, method, indptr,
                     indices, position, group_ptr, members, g, data):
    # Divided differences of group g, written at data[position[q]] for its
    # CSC non-zeros q.  f1, f2 are the values at the group's points x1, x2
    # (for '2-point' only f1, x1).
    for p in range(group_ptr[g], group_ptr[g + 1]):
        j = members[p]
        if method == METHOD_2POINT:
            dx = x1[j] - x0[j]
            for q in range(indptr[j], indptr[j + 1]):
                i = indices[q]
                data[position[q]] = (f1[i] - f0[i]) / dx
        elif one_sided[j]:
            dx = x2[j] - x0[j]
            for q in range(indptr[j], indptr[j + 1]):
                i = indices[q]
                data[position[q]] = (-3.0 * f0[i] + 4.0 * f1[i]
                                     - f2[i]) / dx
        else:
            dx = x2[j] - x1[j]
            for q in range(indptr[j], indptr[j + 1]):
                i = indices[q]
                data[position[q]] = (f2[i] - f1[i]) / dx


@kernel
def _group_quotients_cs(f1, h, indptr, indices, position, group_ptr, members,
                        g, data):
    # Complex-step quotients Im f / h of group g, written as above.
    for p in range(group_ptr[g], group_ptr[g + 1]):
        j = members[p]
        for q in range(indptr[j], indptr[j + 1]):
            data[position[q]] = f1[indices[q]].imag / h[j]


@kernel
def sparse_assemble(values, points, x0, f0, one_sided, method, indptr,
                    indices, position, group_ptr, members, start, data):
    """Fill ``data`` for the groups starting at ``start``.

    Parameters
    ----------
    values : ndarray of float64, shape (k * ngroups, m)
        Function values at ``points``.
    points : ndarray of float64, shape (k * ngroups, n)
        The points as evaluated.
    indptr, indices : ndarray of int64
        CSC structure.
    position : ndarray of int64, shape (nnz,)
        Where in ``data`` each CSC entry goes (the CSR order of the result).
    data : ndarray of float64, shape (nnz,)
        Written in place.
    """
    k = points_per_column(method)
    for r in range(values.shape[0] // k):
        a, b = k * r, k * r + k - 1
        _group_quotients(values[a], values[b], points[a], points[b], x0, f0,
                         one_sided, method, indptr, indices, position,
                         group_ptr, members, start + r, data)


@kernel
def sparse_assemble_cs(values, h, indptr, indices, position, group_ptr,
                       members, start, data):
    """Complex-step version of :func:`sparse_assemble` (complex values)."""
    for r in range(values.shape[0]):
        _group_quotients_cs(values[r], h, indptr, indices, position,
                            group_ptr, members, start + r, data)


@driver
def sparse_difference(fun, args, x0, f0, h, one_sided, method, indptr,
                      indices, position, group_ptr, members):
    """Sparse Jacobian values of a compiled ``fun(x, *args)``.

    Real methods only ('2-point', '3-point'); see
    :func:`sparse_difference_cs` for the complex step.

    Parameters
    ----------
    fun : compiled function
        ``fun(x, *args) -> ndarray of float64, shape (m,)``.
    args : tuple
    x0 : ndarray of float64, shape (n,)
    f0 : ndarray of float64, shape (m,)
    h : ndarray of float64, shape (n,)
    one_sided : ndarray of bool, shape (n,)
    method : int
    indptr, indices : ndarray of int64
        CSC structure of the Jacobian.
    position : ndarray of int64, shape (nnz,)
        Output slot of each CSC entry.
    group_ptr, members : ndarray of int64
        Columns of each group, from :func:`group_members`.

    Returns
    -------
    data : ndarray of float64, shape (nnz,)
    """
    m = f0.size
    data = np.empty(indices.size)
    # Work vectors perturbed in the group's columns and restored after it:
    # no allocation per group besides the function's own result.
    x1 = x0.copy()
    x2 = x0.copy()
    for g in range(group_ptr.size - 1):
        for p in range(group_ptr[g], group_ptr[g + 1]):
            j = members[p]
            if method == METHOD_2POINT:
                x1[j] = x0[j] + h[j]
            elif one_sided[j]:
                x1[j] = x0[j] + h[j]
                x2[j] = x0[j] + 2.0 * h[j]
            else:
                x1[j] = x0[j] - h[j]
                x2[j] = x0[j] + h[j]
        f1 = call_with(fun, x1, args)
        check_size(f1, m)
        f2 = f1
        if method != METHOD_2POINT:
            f2 = call_with(fun, x2, args)
            check_size(f2, m)
        _group_quotients(f1, f2, x1, x2, x0, f0, one_sided, method, indptr,
                         indices, position, group_ptr, members, g, data)
        for p in range(group_ptr[g], group_ptr[g + 1]):
            j = members[p]
            x1[j] = x0[j]
            x2[j] = x0[j]
    return data


@driver
def sparse_difference_cs(fun, args, x0, m, h, indptr, indices, position,
                         group_ptr, members):
    """Sparse complex-step Jacobian values of a compiled ``fun(z, *args)``;
    arguments as :func:`sparse_difference`."""
    data = np.empty(indices.size)
    z = x0.astype(np.complex128)
    for g in range(group_ptr.size - 1):
        for p in range(group_ptr[g], group_ptr[g + 1]):
            j = members[p]
            z[j] = x0[j] + 1j * h[j]
        f1 = call_with(fun, z, args)
        check_size(f1, m)
        _group_quotients_cs(f1, h, indptr, indices, position, group_ptr,
                            members, g, data)
        for p in range(group_ptr[g], group_ptr[g + 1]):
            z[members[p]] = x0[members[p]]
    return data


@kernel
def sparse_difference_at(c_addr, jit_addr, args, x0, f0, rstep, step,
                         step_kind, lb, ub, method, indptr, indices, position,
                         group_ptr, members):
    """Steps plus sparse '2-point'/'3-point' difference at the addresses.

    As :func:`fastopt._kernels.dense.dense_difference_at`; empty ``lb`` and
    ``ub`` mean no bounds.  Returns the values (see
    :func:`sparse_difference`).
    """
    fun = as_function(c_addr, jit_addr, x0.copy(), args)
    h, one_sided = difference_steps(x0, rstep, step, step_kind, lb, ub,
                                    lb.size > 0, method)
    return sparse_difference(fun, args, x0, f0, h, one_sided, method,
                             indptr, indices, position, group_ptr, members)


@kernel
def sparse_difference_cs_at(c_addr, jit_addr, args, x0, m, rstep, step,
                            step_kind, indptr, indices, position, group_ptr,
                            members):
    """Steps plus sparse complex-step difference at the addresses."""
    fun = as_function(c_addr, jit_addr, x0.astype(np.complex128), args)
    h = absolute_steps(x0, rstep, step, step_kind)
    return sparse_difference_cs(fun, args, x0, m, h, indptr, indices,
                                position, group_ptr, members)


@kernel
def transpose_pattern(n_minor, indptr, indices):
    """Transpose a compressed pattern (CSR <-> CSC), remembering positions.

    Parameters
    ----------
    n_minor : int
        Number of distinct minor indices (columns of a CSR pattern).
    indptr, indices : ndarray of int64
        The pattern: major ``k`` has minor indices
        ``indices[indptr[k]:indptr[k + 1]]``.

    Returns
    -------
    t_indptr, t_indices : ndarray of int64
        The transposed pattern; minor indices come out sorted.
    position : ndarray of int64, shape (nnz,)
        ``position[t]`` is the index into ``indices`` of the entry stored at
        ``t`` in the transpose.
    """
    nnz = indices.size
    t_indptr = np.zeros(n_minor + 1, dtype=np.int64)
    for q in range(nnz):
        t_indptr[indices[q] + 1] += 1
    for i in range(n_minor):
        t_indptr[i + 1] += t_indptr[i]
    fill = t_indptr[:-1].copy()
    t_indices = np.empty(nnz, dtype=np.int64)
    position = np.empty(nnz, dtype=np.int64)
    for k in range(indptr.size - 1):
        for q in range(indptr[k], indptr[k + 1]):
            dest = fill[indices[q]]
            t_indices[dest] = k
            position[dest] = q
            fill[indices[q]] += 1
    return t_indptr, t_indices, position


@kernel
def pattern_fingerprint(indptr, indices):
    """64-bit FNV-1a hash of a compressed pattern's index arrays."""
    h = np.uint64(14695981039346656037)
    prime = np.uint64(1099511628211)
    for v in indptr:
        h = (h ^ np.uint64(v)) * prime
    for v in indices:
        h = (h ^ np.uint64(v)) * prime
    return h


@kernel
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
