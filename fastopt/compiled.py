"""Finite differences callable from your own ``@njit`` code.

These are numba-compiled functions: call them from inside a function you
compile with ``numba.njit``, passing your compiled residual ``fun`` itself.
``fun(x, *args)`` must take a float64 C-contiguous vector ``x`` (complex128
for the complex step) and return a 1-D array of the same dtype.  They follow
:func:`fastopt.approx_derivative`'s rules for steps and bounds.

Real methods are integer codes, :data:`METHOD_2POINT` and
:data:`METHOD_3POINT`; the complex step has functions of its own (``*_cs``)
because it needs ``fun`` to accept complex input.

Examples
--------
>>> import numpy as np
>>> from numba import njit
>>> from fastopt.compiled import approx_jacobian, METHOD_3POINT
>>> @njit
... def residual(x, a):
...     return np.array([x[0] ** 2 - a, x[0] * x[1]])
>>> @njit
... def jacobians_at(points, a):
...     out = np.empty((points.shape[0], 2, 2))
...     for k in range(points.shape[0]):
...         out[k] = approx_jacobian(residual, points[k].copy(), (a,),
...                                  METHOD_3POINT)
...     return out
>>> J = jacobians_at(np.array([[1.0, 2.0], [3.0, 4.0]]), 2.0)
>>> np.allclose(J[1], [[6.0, 0.0], [4.0, 3.0]])
True
"""
import numpy as np
from ._kernels._jit import kernel

from ._kernels.dense import dense_difference, dense_difference_cs
from ._kernels.sparse import (group_members, sparse_difference,
                              sparse_difference_cs)
from ._kernels.steps import (METHOD_2POINT, METHOD_3POINT, METHOD_CS,
                             STEP_DEFAULT, absolute_steps, difference_steps)

__all__ = ["METHOD_2POINT", "METHOD_3POINT", "METHOD_CS", "default_rel_step",
           "approx_jacobian", "approx_jacobian_bounded", "approx_jacobian_cs",
           "approx_jacobian_sparse", "approx_jacobian_sparse_cs"]

_EPS = np.finfo(np.float64).eps


@kernel
def default_rel_step(method):
    """Default relative step for float64: EPS**(1/3) for '3-point', else
    EPS**(1/2).

    Parameters
    ----------
    method : int
        METHOD_2POINT, METHOD_3POINT or METHOD_CS.

    Returns
    -------
    float
    """
    if method == METHOD_3POINT:
        return _EPS ** (1.0 / 3.0)
    return _EPS ** 0.5


@kernel
def _check_method(method):
    if method != METHOD_2POINT and method != METHOD_3POINT:
        raise ValueError("`method` must be METHOD_2POINT or METHOD_3POINT; "
                         "use the *_cs functions for the complex step.")


@kernel
def _jacobian(fun, x0, args, method, lb, ub, bounded):
    _check_method(method)
    x0 = np.ascontiguousarray(x0).astype(np.float64)
    h, one_sided = difference_steps(x0, default_rel_step(method), np.empty(0),
                                    STEP_DEFAULT, lb, ub, bounded, method)
    f0 = fun(x0.copy(), *args)
    jac_t = dense_difference(fun, args, x0, f0, h, one_sided, method)
    return np.ascontiguousarray(jac_t.T)


@kernel
def approx_jacobian(fun, x0, args, method):
    """Dense Jacobian of ``fun(x, *args)`` at ``x0`` with default steps.

    Parameters
    ----------
    fun : numba-compiled function
        ``fun(x, *args) -> ndarray of float64, shape (m,)``.
    x0 : ndarray of float64, shape (n,)
    args : tuple
        Extra arguments (``()`` for none).
    method : int
        METHOD_2POINT or METHOD_3POINT.

    Returns
    -------
    J : ndarray of float64, shape (m, n)
        C-contiguous.  Costs ``n`` ('2-point') or ``2n`` ('3-point')
        evaluations plus one at ``x0``.
    """
    empty = np.empty(0)
    return _jacobian(fun, x0, args, method, empty, empty, False)


@kernel
def approx_jacobian_bounded(fun, x0, args, method, lb, ub):
    """Dense Jacobian with evaluation points kept inside ``[lb, ub]``.

    As :func:`approx_jacobian`; ``lb`` and ``ub`` are float64 arrays of
    shape (n,) with ``-inf``/``inf`` where unbounded, and ``x0`` must lie
    within them.
    """
    for i in range(x0.size):
        if not (lb[i] <= x0[i] <= ub[i]):
            raise ValueError("`x0` violates bound constraints.")
    return _jacobian(fun, x0, args, method, lb, ub, True)


@kernel
def approx_jacobian_cs(fun, x0, args):
    """Dense complex-step Jacobian of ``fun(z, *args)`` at real ``x0``.

    ``fun`` takes complex128 ``z`` of shape (n,) and returns complex128 of
    shape (m,); it must be complex-analytic.  Costs ``n`` evaluations.

    Returns
    -------
    J : ndarray of float64, shape (m, n)
    """
    x0 = np.ascontiguousarray(x0).astype(np.float64)
    h = absolute_steps(x0, default_rel_step(METHOD_CS), np.empty(0),
                       STEP_DEFAULT)
    m = fun(x0.astype(np.complex128), *args).size
    return np.ascontiguousarray(dense_difference_cs(fun, args, x0, m, h).T)


@kernel
def _group_layout(indices, groups):
    # Identity output order (CSC) and the columns of each group.
    n_groups = groups.max() + 1 if groups.size else 0
    group_ptr, members = group_members(groups, n_groups)
    return np.arange(indices.size), group_ptr, members


@kernel
def approx_jacobian_sparse(fun, x0, args, method, indptr, indices, groups):
    """Sparse Jacobian values at a CSC structure, by column groups.

    Parameters
    ----------
    fun : numba-compiled function
        ``fun(x, *args) -> ndarray of float64, shape (m,)``.
    x0 : ndarray of float64, shape (n,)
    args : tuple
    method : int
        METHOD_2POINT or METHOD_3POINT.
    indptr, indices : ndarray of int64
        CSC structure of the Jacobian (shape (m, n)).
    groups : ndarray of int64, shape (n,)
        Column groups, for example from :func:`fastopt.group_columns`.

    Returns
    -------
    data : ndarray of float64, shape (nnz,)
        Jacobian values in the structure's CSC order, so
        ``scipy.sparse.csc_array((data, indices, indptr), shape=(m, n))``
        is the Jacobian.
    """
    _check_method(method)
    x0 = np.ascontiguousarray(x0).astype(np.float64)
    empty = np.empty(0)
    h, one_sided = difference_steps(x0, default_rel_step(method), empty,
                                    STEP_DEFAULT, empty, empty, False, method)
    f0 = fun(x0.copy(), *args)
    position, group_ptr, members = _group_layout(indices, groups)
    return sparse_difference(fun, args, x0, f0, h, one_sided, method,
                             indptr, indices, position, group_ptr, members)


@kernel
def approx_jacobian_sparse_cs(fun, x0, args, indptr, indices, groups):
    """Sparse complex-step Jacobian values; see
    :func:`approx_jacobian_sparse` and :func:`approx_jacobian_cs`."""
    x0 = np.ascontiguousarray(x0).astype(np.float64)
    h = absolute_steps(x0, default_rel_step(METHOD_CS), np.empty(0),
                       STEP_DEFAULT)
    m = fun(x0.astype(np.complex128), *args).size
    position, group_ptr, members = _group_layout(indices, groups)
    return sparse_difference_cs(fun, args, x0, m, h, indptr, indices,
                                position, group_ptr, members)
