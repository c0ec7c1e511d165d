"""Finite differences and root finders callable from your own ``@njit`` code.

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
from ._kernels._jit import driver, kernel

from ._kernels.dense import dense_difference, dense_difference_cs
from ._kernels.sparse import (group_members, sparse_difference,
                              sparse_difference_cs)
from ._kernels.hybrd import hybr_solve
from ._kernels.lmdif import lm_solve
from ._kernels.steps import (METHOD_2POINT, METHOD_3POINT, METHOD_CS,
                             STEP_DEFAULT, absolute_steps, difference_steps)

__all__ = ["METHOD_2POINT", "METHOD_3POINT", "METHOD_CS", "default_rel_step",
           "approx_jacobian", "approx_jacobian_bounded", "approx_jacobian_cs",
           "approx_jacobian_sparse", "approx_jacobian_sparse_cs",
           "root_hybr", "root_lm"]

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


@driver
def _jacobian(fun, x0, args, method, lb, ub, bounded):
    _check_method(method)
    x0 = np.ascontiguousarray(x0).astype(np.float64)
    h, one_sided = difference_steps(x0, default_rel_step(method), np.empty(0),
                                    STEP_DEFAULT, lb, ub, bounded, method)
    f0 = fun(x0.copy(), *args)
    jac_t = dense_difference(fun, args, x0, f0, h, one_sided, method)
    return np.ascontiguousarray(jac_t.T)


@driver
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


@driver
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


@driver
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


@driver
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


@driver
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


@kernel
def _honest(status_ok, fvec, fnorm0, xtol):
    # root's success rule: MINPACK converged and the residual is small.
    if not status_ok:
        return False
    limit = np.sqrt(max(xtol, _EPS)) * max(1.0, fnorm0)
    return np.sqrt(np.dot(fvec, fvec)) <= limit


@driver
def root_hybr(fun, x0, args, xtol, maxfev):
    """Solve ``fun(x, *args) = 0`` by Powell's hybrid method (MINPACK hybrd).

    The compiled counterpart of ``fastopt.root(fun, x0, args,
    method='hybr', options={'xtol': xtol, 'maxfev': maxfev})`` with a
    forward-difference Jacobian, for solving many systems inside your own
    ``@njit`` loops.

    Parameters
    ----------
    fun : numba-compiled function
        ``fun(x, *args) -> ndarray of float64, shape (n,)``.
    x0 : ndarray of float64, shape (n,)
    args : tuple
        Extra arguments (``()`` for none); this is how parameters reach
        ``fun``.
    xtol : float
        Relative step tolerance (SciPy's default is 1.49012e-08).
    maxfev : int
        Most evaluations; 0 means 200 * (n + 1).

    Returns
    -------
    x : ndarray of float64, shape (n,)
    fvec : ndarray of float64, shape (n,)
        ``fun(x, *args)``.
    status : int
        MINPACK's status (1 converged; 2-5 see ``fastopt.root``; 6
        non-finite value).
    nfev : int
    success : bool
        ``status == 1`` and ``||fvec|| <= sqrt(xtol) * max(1, ||f(x0)||)``,
        the rule of ``fastopt.root``.
    """
    x0 = np.ascontiguousarray(x0).astype(np.float64)
    n = x0.size
    x, fvec, _, _, _, info, fnorm0 = hybr_solve(
        fun, None, args, x0, xtol, maxfev, max(n - 1, 0), max(n - 1, 0),
        _EPS, 100.0, 1, np.empty(0), False, False)
    status = info[0]
    return (x, fvec, status, info[1],
            _honest(status == 1, fvec, fnorm0, xtol))


@driver
def root_lm(fun, x0, args, xtol, ftol, maxfev):
    """Solve ``fun(x, *args) = 0`` (or least squares, m >= n) by
    Levenberg-Marquardt (MINPACK lmdif) from compiled code.

    The compiled counterpart of ``fastopt.root(fun, x0, args, method='lm',
    options={'xtol': xtol, 'ftol': ftol, 'maxiter': maxfev})``.

    Parameters
    ----------
    fun : numba-compiled function
        ``fun(x, *args) -> ndarray of float64, shape (m,)``, ``m >= n``.
    x0 : ndarray of float64, shape (n,)
    args : tuple
    xtol, ftol : float
        MINPACK's tolerances (SciPy's defaults are 1.49012e-08).
    maxfev : int
        Most evaluations; 0 means 200 * (n + 1).

    Returns
    -------
    x : ndarray of float64, shape (n,)
    fvec : ndarray of float64, shape (m,)
    status : int
        MINPACK's info (1-4 converged, 5-8 failures, 0 improper input, 9
        non-finite value).
    nfev : int
    success : bool
        Status 1-4 and, for square systems, ``||fvec|| <= sqrt(xtol) *
        max(1, ||f(x0)||)``.
    """
    x0 = np.ascontiguousarray(x0).astype(np.float64)
    x, fvec, _, _, _, info, nfev, _, fnorm0 = lm_solve(
        fun, fun, args, x0, False, False, ftol, xtol, 0.0, maxfev, 0.0,
        100.0, np.empty(0))
    converged = 1 <= info <= 4
    if fvec.size == x0.size:
        success = _honest(converged, fvec, fnorm0, xtol)
    else:
        success = converged
    return x.copy(), fvec.copy(), info, nfev, success
