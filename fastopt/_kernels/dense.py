"""Dense finite differences: one column of the Jacobian per stencil.

Two ways to run the same stencils:

* reverse communication, for Python callables and ``workers``:
  :func:`dense_points` writes the evaluation points of a block of columns,
  the caller evaluates them however it likes, and :func:`dense_assemble`
  turns the values into Jacobian columns;
* :func:`dense_difference`, a compiled driver that calls a compiled
  function itself, with no Python between evaluations.

Both read the step actually taken from the evaluation points, so a point
rounded to the caller's dtype (float32, say) is divided by the step it
really represents.
"""
import numpy as np
from ._jit import driver, kernel

from .funcptr import as_function, call_with
from .steps import (METHOD_2POINT, METHOD_3POINT, STEP_DEFAULT,
                    absolute_steps, difference_steps)

__all__ = ["points_per_column", "check_size", "perturb_column", "dense_points", "dense_points_cs",
           "dense_assemble", "dense_assemble_cs", "dense_difference",
           "dense_difference_cs", "dense_difference_at",
           "dense_difference_default_at",
           "dense_difference_cs_at"]


@kernel
def points_per_column(method):
    """Evaluations per column: 2 for '3-point', else 1."""
    return 2 if method == METHOD_3POINT else 1


@kernel
def perturb_column(points, row, j, x0, h, one_sided, method):
    """Move coordinate ``j`` of the stencil points starting at ``row``.

    '2-point': ``points[row, j] = x0[j] + h[j]``.  '3-point': rows ``row``
    and ``row + 1`` get ``x0[j] -/+ h[j]`` (central) or ``x0[j] + h[j]``
    and ``x0[j] + 2 h[j]`` (one-sided).
    """
    if method == METHOD_2POINT:
        points[row, j] = x0[j] + h[j]
    elif one_sided[j]:
        points[row, j] = x0[j] + h[j]
        points[row + 1, j] = x0[j] + 2.0 * h[j]
    else:
        points[row, j] = x0[j] - h[j]
        points[row + 1, j] = x0[j] + h[j]


@kernel
def dense_points(x0, h, one_sided, method, start, stop):
    """Evaluation points for columns ``start <= j < stop``.

    Returns
    -------
    points : ndarray of float64, shape (k * (stop - start), n)
        For '2-point' row ``r`` is ``x0 + h[j] e_j`` (j = start + r).  For
        '3-point' rows ``2r`` and ``2r+1`` are ``x0 -/+ h[j] e_j`` (central)
        or ``x0 + h[j] e_j`` and ``x0 + 2 h[j] e_j`` (one-sided).
    """
    k = points_per_column(method)
    n = x0.size
    points = np.empty((k * (stop - start), n))
    for r in range(stop - start):
        for q in range(k):
            points[k * r + q, :] = x0
        perturb_column(points, k * r, start + r, x0, h, one_sided, method)
    return points


@kernel
def dense_points_cs(x0, h, start, stop):
    """Complex-step points ``x0 + i h[j] e_j`` for ``start <= j < stop``."""
    n = x0.size
    points = np.empty((stop - start, n), dtype=np.complex128)
    for r in range(stop - start):
        j = start + r
        points[r, :] = x0
        points[r, j] = x0[j] + 1j * h[j]
    return points


@kernel
def dense_assemble(values, points, x0, f0, one_sided, method, start, jac_t):
    """Write columns ``start..`` of the Jacobian (as rows of ``jac_t``).

    Parameters
    ----------
    values : ndarray of float64, shape (k * ncols, m)
        Function values at ``points``, row for row.
    points : ndarray of float64, shape (k * ncols, n)
        The points as the function received them (after any rounding).
    x0 : ndarray of float64, shape (n,)
    f0 : ndarray of float64, shape (m,)
    one_sided : ndarray of bool, shape (n,)
    method : int
    start : int
        First column of the block.
    jac_t : ndarray of float64, shape (n, m)
        Transposed Jacobian, written in place.
    """
    m = f0.size
    k = points_per_column(method)
    ncols = points.shape[0] // k
    for r in range(ncols):
        j = start + r
        if method == METHOD_2POINT:
            dx = points[r, j] - x0[j]
            for i in range(m):
                jac_t[j, i] = (values[r, i] - f0[i]) / dx
        elif one_sided[j]:
            dx = points[2 * r + 1, j] - x0[j]
            for i in range(m):
                jac_t[j, i] = (-3.0 * f0[i] + 4.0 * values[2 * r, i]
                               - values[2 * r + 1, i]) / dx
        else:
            dx = points[2 * r + 1, j] - points[2 * r, j]
            for i in range(m):
                jac_t[j, i] = (values[2 * r + 1, i] - values[2 * r, i]) / dx


@kernel
def dense_assemble_cs(values, h, start, jac_t):
    """Complex-step columns: ``Im f(x0 + i h e_j) / h[j]``."""
    m = jac_t.shape[1]
    for r in range(values.shape[0]):
        j = start + r
        for i in range(m):
            jac_t[j, i] = values[r, i].imag / h[j]


@kernel
def check_size(f, m):
    """Raise ValueError unless the function value ``f`` has ``m`` entries."""
    if f.size != m:
        raise ValueError("`fun` returned an array whose size differs "
                         "from its value at `x0`.")


@driver
def dense_difference(fun, args, x0, f0, h, one_sided, method):
    """Dense Jacobian of a compiled ``fun(x, *args)`` ('2-point'/'3-point').

    Parameters
    ----------
    fun : compiled function
        ``fun(x, *args) -> ndarray of float64, shape (m,)``; a numba
        dispatcher or first-class function.
    args : tuple
    x0 : ndarray of float64, shape (n,)
    f0 : ndarray of float64, shape (m,)
        ``fun(x0, *args)``.
    h : ndarray of float64, shape (n,)
    one_sided : ndarray of bool, shape (n,)
    method : int
        METHOD_2POINT or METHOD_3POINT.

    Returns
    -------
    jac_t : ndarray of float64, shape (n, m)
        The transposed Jacobian.
    """
    n = x0.size
    m = f0.size
    jac_t = np.empty((n, m))
    # Two work vectors, perturbed in one coordinate and restored after each
    # column; each value is consumed before its point is changed again.
    x1 = x0.copy()
    x2 = x0.copy()
    for j in range(n):
        if method == METHOD_2POINT:
            x1[j] = x0[j] + h[j]
            dx = x1[j] - x0[j]
            f1 = call_with(fun, x1, args)
            check_size(f1, m)
            for i in range(m):
                jac_t[j, i] = (f1[i] - f0[i]) / dx
            x1[j] = x0[j]
            continue
        if one_sided[j]:
            x1[j] = x0[j] + h[j]
            x2[j] = x0[j] + 2.0 * h[j]
            dx = x2[j] - x0[j]
        else:
            x1[j] = x0[j] - h[j]
            x2[j] = x0[j] + h[j]
            dx = x2[j] - x1[j]
        f1 = call_with(fun, x1, args)
        check_size(f1, m)
        f2 = call_with(fun, x2, args)
        check_size(f2, m)
        if one_sided[j]:
            for i in range(m):
                jac_t[j, i] = (-3.0 * f0[i] + 4.0 * f1[i] - f2[i]) / dx
        else:
            for i in range(m):
                jac_t[j, i] = (f2[i] - f1[i]) / dx
        x1[j] = x0[j]
        x2[j] = x0[j]
    return jac_t


@driver
def dense_difference_cs(fun, args, x0, m, h):
    """Dense complex-step Jacobian of a compiled ``fun(z, *args)``.

    ``fun`` maps complex128 ``z`` of shape (n,) to complex128 of shape (m,).
    Returns the transposed Jacobian, float64 of shape (n, m).
    """
    n = x0.size
    jac_t = np.empty((n, m))
    z = x0.astype(np.complex128)
    for j in range(n):
        z[j] = x0[j] + 1j * h[j]
        f1 = call_with(fun, z, args)
        check_size(f1, m)
        for i in range(m):
            jac_t[j, i] = f1[i].imag / h[j]
        z[j] = x0[j]
    return jac_t


@kernel
def dense_difference_at(c_addr, jit_addr, args, x0, f0, rstep, step,
                        step_kind, lb, ub, method):
    """Steps plus dense '2-point'/'3-point' difference of the compiled
    function at the given addresses.

    The entry point used from Python for ``@njit`` user functions: one call,
    typed only on the types of ``args``, so it is compiled once and cached
    (see :mod:`fastopt._kernels.funcptr`).  An empty ``f0`` is evaluated
    here; empty ``lb``/``ub`` mean no bounds.

    Returns
    -------
    jac_t : ndarray of float64, shape (n, m)
        The transposed Jacobian.
    """
    fun = as_function(c_addr, jit_addr, x0.copy(), args)
    if f0.size == 0:
        f0 = call_with(fun, x0.copy(), args)
    h, one_sided = difference_steps(x0, rstep, step, step_kind, lb, ub,
                                    lb.size > 0, method)
    return dense_difference(fun, args, x0, f0, h, one_sided, method)


@kernel
def dense_difference_default_at(c_addr, jit_addr, args, x0, rstep, method):
    """:func:`dense_difference_at` for the most common call: default steps,
    no bounds, ``f0`` evaluated here.  Fewer arguments to convert from
    Python, which is most of the cost on small problems."""
    fun = as_function(c_addr, jit_addr, x0.copy(), args)
    f0 = call_with(fun, x0.copy(), args)
    empty = np.empty(0)
    h, one_sided = difference_steps(x0, rstep, empty, STEP_DEFAULT, empty,
                                    empty, False, method)
    return dense_difference(fun, args, x0, f0, h, one_sided, method)


@kernel
def dense_difference_cs_at(c_addr, jit_addr, args, x0, m, rstep, step,
                           step_kind):
    """Steps plus dense complex-step difference at the given addresses.

    ``m < 0`` means the number of outputs is unknown: the function is then
    evaluated once at ``x0`` (as a complex point) to find it.

    Returns
    -------
    jac_t : ndarray of float64, shape (n, m)
    """
    fun = as_function(c_addr, jit_addr, x0.astype(np.complex128), args)
    if m < 0:
        m = call_with(fun, x0.astype(np.complex128), args).size
    h = absolute_steps(x0, rstep, step, step_kind)
    return dense_difference_cs(fun, args, x0, m, h)
