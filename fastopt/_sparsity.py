"""The ``sparsity`` argument: parsed, grouped and remembered.

A sparse difference needs the structure column by column (CSC) to perturb
and divide, the output's CSR layout, the map between the two, and the
column groups.  Preparing these costs about as much as the difference
itself on large problems, and solvers differentiate many times with the
same structure, so the preparation of recently seen sparse structures is
kept, keyed by the structure object and checked against a fingerprint of its
index arrays (an in-place change of the structure is noticed).
"""
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ._group_columns import _best_groups_csc
from ._kernels.sparse import (check_groups, dense_to_csc, group_members,
                              pattern_fingerprint, transpose_pattern)

__all__ = ["SparsityPlan", "prepare_sparsity"]

# How many sparse structures' preparations are remembered.
CACHE_SIZE = 8
_CACHE = OrderedDict()


@dataclass(frozen=True)
class SparsityPlan:
    """Everything a sparse difference needs about the structure.

    Attributes
    ----------
    shape : tuple of int
        (m, n).
    csc_indptr, csc_indices : ndarray of int64
        The structure by columns.
    position : ndarray of int64, shape (nnz,)
        CSR slot of each CSC entry.
    csr_indptr, csr_indices : ndarray
        The output's CSR index arrays (copied for each result).
    groups : ndarray of int64, shape (n,)
    group_ptr, members : ndarray of int64
        Columns of each group (see ``group_members``).
    as_matrix : bool
        Return ``csr_matrix`` (the structure was a sparse matrix) rather
        than ``csr_array``.
    """

    shape: tuple
    csc_indptr: np.ndarray
    csc_indices: np.ndarray
    position: np.ndarray
    csr_indptr: np.ndarray
    csr_indices: np.ndarray
    groups: np.ndarray
    group_ptr: np.ndarray
    members: np.ndarray
    as_matrix: bool

    @property
    def n_groups(self):
        return self.group_ptr.size - 1

    def jacobian(self, data):
        """The result: CSR with this structure and values ``data``."""
        from scipy.sparse import csr_array, csr_matrix

        cls = csr_matrix if self.as_matrix else csr_array
        return cls((data, self.csr_indices.copy(), self.csr_indptr.copy()),
                   shape=self.shape)


def _split(sparsity):
    # (structure, groups or None); a pair must be a tuple whose first item
    # is 2-D, so a dense structure with two rows is never taken for a pair.
    from scipy.sparse import issparse

    if (isinstance(sparsity, tuple) and len(sparsity) == 2
            and (issparse(sparsity[0]) or np.ndim(sparsity[0]) == 2)):
        return sparsity
    return sparsity, None


def _sparse_pattern(structure, m, n):
    # The structure as a canonical csr_array without explicit zeros (a
    # copy only when the input is not already so).
    from scipy.sparse import csr_array

    if structure.ndim != 2 or structure.shape != (m, n):
        raise ValueError(f"`sparsity` has shape {structure.shape}; the "
                         f"Jacobian has shape ({m}, {n}).")
    pattern = csr_array(structure)
    if (pattern is structure or not pattern.has_canonical_format
            or not pattern.data.all()):
        pattern = pattern.copy()
        pattern.sum_duplicates()
        pattern.eliminate_zeros()
    return pattern


def _checked_groups(groups, m, n, indptr, indices):
    groups = np.atleast_1d(np.asarray(groups))
    if groups.shape != (n,) or groups.dtype.kind not in "iu":
        raise ValueError(f"`sparsity` groups must be integers of shape ({n},)"
                         f"; got {groups.dtype} of shape {groups.shape}.")
    if groups.min() < 0:
        raise ValueError("`sparsity` groups must be non-negative.")
    groups = groups.astype(np.int64)
    n_groups = int(groups.max()) + 1
    row, a, b = check_groups(m, indptr, indices, groups, n_groups)
    if row >= 0:
        raise ValueError(f"`sparsity` groups are invalid: columns {a} and {b} "
                         f"are both in group {groups[a]} and share row "
                         f"{row}.")
    return groups


def _build(structure, groups, m, n, csr_pattern, as_matrix):
    if csr_pattern is None:
        try:
            dense = np.atleast_2d(np.asarray(structure)) != 0
        except (TypeError, ValueError):
            raise TypeError("`sparsity` must be a sparse array, an "
                            "array_like structure or a pair (structure, "
                            "groups).") from None
        if dense.ndim != 2 or dense.shape != (m, n):
            raise ValueError(f"`sparsity` has shape {dense.shape}; the "
                             f"Jacobian has shape ({m}, {n}).")
        csc_indptr, csc_indices = dense_to_csc(np.ascontiguousarray(dense))
        csr_indptr, csr_indices, position = transpose_pattern(
            m, csc_indptr, csc_indices)
        # transpose_pattern maps CSR slots to CSC entries; invert it.
        inverse = np.empty_like(position)
        inverse[position] = np.arange(position.size)
        position = inverse
    else:
        csr_indptr = csr_pattern.indptr.astype(np.int64)
        csr_indices = csr_pattern.indices.astype(np.int64)
        csc_indptr, csc_indices, position = transpose_pattern(
            n, csr_indptr, csr_indices)
    if groups is None:
        groups = _best_groups_csc(m, n, csc_indptr, csc_indices)
    else:
        groups = _checked_groups(groups, m, n, csc_indptr, csc_indices)
    group_ptr, members = group_members(groups, int(groups.max()) + 1)
    index_type = np.int32 if max(m, n, csr_indices.size) < 2 ** 31 else np.int64
    return SparsityPlan((m, n), csc_indptr, csc_indices, position,
                        csr_indptr.astype(index_type),
                        csr_indices.astype(index_type), groups, group_ptr,
                        members, as_matrix)


def prepare_sparsity(sparsity, m, n):
    """The :class:`SparsityPlan` of ``sparsity`` for an (m, n) Jacobian.

    Parameters
    ----------
    sparsity : array_like, sparse array or tuple
        A structure, or ``(structure, groups)``.
    m, n : int
        Shape of the Jacobian.

    Returns
    -------
    SparsityPlan
    """
    from scipy.sparse import issparse, isspmatrix

    structure, groups = _split(sparsity)
    if not issparse(structure):
        return _build(structure, groups, m, n, None, False)
    csr_pattern = _sparse_pattern(structure, m, n)
    key = (id(structure), None if groups is None else id(groups))
    fingerprint = (pattern_fingerprint(csr_pattern.indptr,
                                       csr_pattern.indices),
                   None if groups is None else np.asarray(groups).tobytes())
    entry = _CACHE.get(key)
    if entry is not None:
        refs, cached_fingerprint, plan = entry
        if (all(ref() is obj for ref, obj in zip(refs, (structure, groups)))
                and cached_fingerprint == fingerprint and plan.shape == (m, n)):
            _CACHE.move_to_end(key)
            return plan
    plan = _build(structure, groups, m, n, csr_pattern, isspmatrix(structure))
    refs = (weakref.ref(structure),
            (lambda: None) if groups is None else _ref_or_none(groups))
    _CACHE[key] = (refs, fingerprint, plan)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return plan


def _ref_or_none(obj):
    try:
        return weakref.ref(obj)
    except TypeError:  # a list of groups cannot be weakly referenced
        return lambda: None
