"""Finite-difference derivatives with SciPy's API: ``approx_derivative``.

The wrapper validates and normalises input, chooses how the function is
evaluated, and leaves the arithmetic to the kernels in
:mod:`fastopt._kernels`:

* a numba ``@njit`` function (with any numba-typed ``args``, no ``kwargs``,
  no ``workers``, float64 ``x0``) is differentiated entirely in compiled
  code, through kernels that are compiled once and cached on disk;
* any other callable is evaluated from Python, block by block, on points the
  kernels generate; ``workers`` evaluates a block at once.
"""
import functools
import math

import numpy as np

from . import _kernels  # noqa: F401  (package docstring; kernels below)
from ._compiled_fun import compiled_addresses, is_compiled
from ._kernels.dense import (dense_assemble, dense_assemble_cs,
                             dense_difference_at, dense_difference_cs_at,
                             dense_difference_default_at,
                             dense_points, dense_points_cs,
                             points_per_column)
from ._kernels.sparse import (sparse_assemble, sparse_assemble_cs,
                              sparse_difference_at, sparse_difference_cs_at,
                              sparse_points, sparse_points_cs)
from ._sparsity import prepare_sparsity
from ._kernels.steps import (METHOD_2POINT, METHOD_3POINT, METHOD_CS,
                             STEP_ABSOLUTE, STEP_DEFAULT, STEP_RELATIVE,
                             absolute_steps, difference_steps)
from ._workers import Evaluator, validate_workers, worker_map

__all__ = ["approx_derivative", "check_derivative"]

METHODS = {"2-point": METHOD_2POINT, "3-point": METHOD_3POINT,
           "cs": METHOD_CS}

# Largest block of evaluation points generated at once (elements); bounds
# the memory of a dense difference with many variables.
BLOCK_ELEMENTS = 1 << 20

_NO_BOUNDS = (-np.inf, np.inf)
_EMPTY = np.empty(0)


@functools.lru_cache
def _eps_for_method(x0_dtype, f0_dtype, method):
    """Default relative step for the dtypes and method.

    ``EPS**(1/2)`` for '2-point' and 'cs', ``EPS**(1/3)`` for '3-point',
    where EPS is the machine epsilon of ``x0``'s floating dtype, or of
    ``f0``'s when that is a smaller inexact type (SciPy's rule).
    """
    eps = np.finfo(np.float64).eps
    x0_inexact = np.issubdtype(x0_dtype, np.inexact)
    if x0_inexact:
        eps = np.finfo(x0_dtype).eps
    if (x0_inexact and np.issubdtype(f0_dtype, np.inexact)
            and np.dtype(f0_dtype).itemsize < np.dtype(x0_dtype).itemsize):
        eps = np.finfo(f0_dtype).eps
    return float(eps ** 0.5 if method in ("2-point", "cs") else eps ** (1 / 3))


def _all_finite(x):
    # x @ x is finite iff every entry is, barring overflow of the squares;
    # it is several times cheaper than np.isfinite(x).all() on short
    # vectors, which matters for the per-call overhead.
    if x.size <= 64:
        return math.isfinite(x.dot(x)) or bool(np.isfinite(x).all())
    return bool(np.isfinite(x).all())


def _prepare_x0(x0):
    # x0 as a 1-D array, keeping a real floating dtype (float32 included).
    if (type(x0) is np.ndarray and x0.ndim == 1 and x0.dtype.kind == "f"
            and x0.size and x0.flags.c_contiguous and x0.flags.writeable
            and _all_finite(x0)):
        return x0
    if x0 is None:
        raise TypeError("`x0` must be array_like of real numbers, not None.")
    x0 = np.atleast_1d(x0)
    if x0.dtype.kind == "c":
        raise TypeError("`x0` must be real; the complex step method "
                        "perturbs a real `x0` along the imaginary axis.")
    if x0.dtype.kind != "f":
        try:
            x0 = x0.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError("`x0` must be array_like of real numbers; got "
                            f"dtype {x0.dtype}.") from None
    if x0.ndim > 1:
        raise ValueError("`x0` must have at most 1 dimension.")
    if x0.size == 0:
        raise ValueError("`x0` must have at least one element.")
    # One memory layout for the kernels: C-contiguous and writeable.
    x0 = np.array(x0, dtype=x0.dtype, order="C")
    finite = np.isfinite(x0)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise ValueError(f"`x0` must be finite; x0[{bad}] is {x0[bad]}.")
    return x0


def _prepare_bounds(bounds, x0):
    # (lb, ub) as float64 arrays of x0's shape, checked.
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        # scipy.optimize.Bounds stores scalars as 1-element arrays.
        bounds = tuple(b if np.size(b) != 1 else np.ravel(b)[0]
                       for b in (bounds.lb, bounds.ub))
    try:
        lb, ub = bounds
    except (TypeError, ValueError):
        raise ValueError("`bounds` must be a pair (lb, ub) of scalars or "
                         "arrays shaped like `x0`.") from None
    try:
        lb = np.asarray(lb, dtype=float)
        ub = np.asarray(ub, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("`bounds` must hold real numbers.") from None
    if lb.ndim == 0:
        lb = np.full(x0.shape, lb)
    if ub.ndim == 0:
        ub = np.full(x0.shape, ub)
    if lb.shape != x0.shape or ub.shape != x0.shape:
        raise ValueError("Inconsistent shapes between bounds and `x0`.")
    if np.isnan(lb).any() or np.isnan(ub).any():
        raise ValueError("`bounds` must not contain NaN.")
    crossed = lb > ub
    if crossed.any():
        i = int(np.argmax(crossed))
        raise ValueError(f"`bounds` has lb[{i}] = {lb[i]} greater than "
                         f"ub[{i}] = {ub[i]}.")
    return np.ascontiguousarray(lb), np.ascontiguousarray(ub)


def _user_step(step, n, name):
    try:
        step = np.asarray(step, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a real scalar or array.") from None
    if step.ndim == 0:
        step = np.full(n, step)
    elif step.shape != (n,):
        raise ValueError(f"`{name}` must be a scalar or have shape ({n},); "
                         f"got shape {step.shape}.")
    if not np.isfinite(step).all():
        raise ValueError(f"`{name}` must be finite.")
    return np.ascontiguousarray(step)


def _as_values(value, where):
    # A function value as a 1-D inexact array, with SciPy's dimension rule.
    f = np.atleast_1d(value)
    if f.ndim > 1:
        raise ValueError("`fun` return value has more than 1 dimension "
                         f"(shape {f.shape}) {where}.")
    if f.dtype.kind not in "fc":
        try:
            f = f.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError("`fun` must return real (or, for 'cs', complex) "
                            f"numbers; got dtype {f.dtype} {where}.") from None
    return f


def _evaluate_block(fun, args, kwargs, points, m, complex_values, mapper):
    """Evaluate ``fun`` at every row of ``points``.

    Returns
    -------
    values : ndarray of float64 or complex128, shape (k, m)
    """
    k = points.shape[0]
    if mapper is None:
        if args or kwargs:
            results = [fun(p, *args, **kwargs) for p in points]
        else:
            results = list(map(fun, points))
    else:
        results = list(mapper(Evaluator(fun, args, kwargs), iter(points)))
        if len(results) != k:
            raise ValueError(f"`workers` returned {len(results)} results for "
                             f"{k} points.")
    try:
        values = np.asarray(results)
    except ValueError:
        values = None
    if values is not None and values.shape == (k, m) and values.dtype.kind in "fc":
        pass
    elif values is not None and m == 1 and values.shape in ((k,), (k, 1)):
        values = values.reshape(k, 1)
    else:
        for value in results:
            f = _as_values(value, "at an evaluation point")
            if f.shape != (m,):
                raise ValueError(f"`fun` returned shape {f.shape} at an "
                                 f"evaluation point but shape ({m},) at "
                                 "`x0`.")
        values = np.asarray([_as_values(v, "") for v in results])
    if complex_values:
        return np.asarray(values, dtype=np.complex128)
    if values.dtype.kind == "c":
        raise TypeError("`fun` returned complex values; use method='cs' "
                        "for complex-analytic functions.")
    return np.asarray(values, dtype=np.float64)


def _block_size(per_item, n):
    # Columns (or groups) per block of evaluation points.
    return max(1, BLOCK_ELEMENTS // max(1, per_item * n))


def _linear_operator(fun, args, kwargs, x0, f0, rel_step, method):
    # SciPy's directional differences; `rel_step` is the absolute step
    # along the unit direction.
    from scipy.sparse.linalg import LinearOperator

    m, n = f0.size, x0.size
    dtype = x0.dtype

    def value(x):
        if x.dtype.kind == "f":
            x = x.astype(dtype)
        f = _as_values(fun(x, *args, **kwargs), "in a matvec")
        if f.shape != (m,):
            raise ValueError(f"`fun` returned shape {f.shape} in a matvec "
                             f"but shape ({m},) at `x0`.")
        return f

    def matvec(p):
        p = np.ravel(p)
        if not np.any(p):
            return np.zeros(m)
        norm = np.linalg.norm(p)
        if method == "2-point":
            dx = rel_step / norm
            return (value(x0 + dx * p) - f0) / dx
        if method == "3-point":
            dx = 2 * rel_step / norm
            return (value(x0 + (dx / 2) * p) - value(x0 - (dx / 2) * p)) / dx
        dx = rel_step / norm
        return value(x0 + dx * p * 1j).imag / dx

    return LinearOperator((m, n), matvec)


def _dense_python(fun, args, kwargs, x0, x64, f64, h, one_sided, code,
                  mapper):
    n, m = x64.size, f64.size
    jac_t = np.empty((n, m))
    k = points_per_column(code)
    block = _block_size(k, n)
    for start in range(0, n, block):
        stop = min(n, start + block)
        if code == METHOD_CS:
            points = dense_points_cs(x64, h, start, stop)
            values = _evaluate_block(fun, args, kwargs, points, m, True,
                                     mapper)
            dense_assemble_cs(values, h, start, jac_t)
            continue
        points = dense_points(x64, h, one_sided, code, start, stop)
        if x0.dtype != np.float64:
            points = points.astype(x0.dtype)
        values = _evaluate_block(fun, args, kwargs, points, m, False, mapper)
        dense_assemble(values, points.astype(np.float64, copy=False), x64,
                       f64, one_sided, code, start, jac_t)
    return jac_t, k * n


def _sparse_python(fun, args, kwargs, x0, x64, f64, h, one_sided, code,
                   plan, mapper):
    n, m = x64.size, f64.size
    data = np.empty(plan.csc_indices.size)
    k = points_per_column(code)
    block = _block_size(k, n)
    pattern = (plan.csc_indptr, plan.csc_indices, plan.position,
               plan.group_ptr, plan.members)
    for start in range(0, plan.n_groups, block):
        stop = min(plan.n_groups, start + block)
        if code == METHOD_CS:
            points = sparse_points_cs(x64, h, plan.group_ptr, plan.members,
                                      start, stop)
            values = _evaluate_block(fun, args, kwargs, points, m, True,
                                     mapper)
            sparse_assemble_cs(values, h, *pattern, start, data)
            continue
        points = sparse_points(x64, h, one_sided, code, plan.group_ptr,
                               plan.members, start, stop)
        if x0.dtype != np.float64:
            points = points.astype(x0.dtype)
        values = _evaluate_block(fun, args, kwargs, points, m, False, mapper)
        sparse_assemble(values, points.astype(np.float64, copy=False), x64,
                        f64, one_sided, code, *pattern, start, data)
    return data, k * plan.n_groups


def approx_derivative(fun, x0, method="3-point", rel_step=None,
                      abs_step=None, f0=None, bounds=_NO_BOUNDS,
                      sparsity=None, as_linear_operator=False, args=(),
                      kwargs=None, full_output=False, workers=None):
    """Compute a finite-difference approximation of a Jacobian.

    A drop-in replacement for ``scipy.optimize._numdiff.approx_derivative``
    (SciPy 1.17 semantics) whose stencils, step rules and sparse assembly
    are compiled.  Use it to differentiate any ``fun(x, *args, **kwargs)``
    that returns a scalar or a 1-D array; when ``fun`` is a numba ``@njit``
    function the whole difference runs in compiled code.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args, **kwargs)`` with ``x`` of shape (n,), returning a
        scalar or array_like of shape (m,).  A numba ``@njit`` function is
        called from compiled code (float64 ``x0``, numba-typed ``args``, no
        ``kwargs`` and no ``workers``); anything else from Python.
    x0 : array_like of shape (n,) or float
        Point of differentiation.  A real floating dtype is kept (points are
        rounded to it before ``fun`` sees them); other dtypes become
        float64.
    method : {'3-point', '2-point', 'cs'}, optional
        Forward differences ('2-point'), central differences with a
        second-order one-sided scheme near bounds ('3-point'), or the
        complex step ('cs'; ``fun`` must be complex-analytic and accept
        complex128 input).
    rel_step : None or array_like, optional
        Relative step; the absolute step is ``rel_step * sign(x0) * |x0|``.
        Default ``EPS**(1/2)`` ('2-point', 'cs') or ``EPS**(1/3)``
        ('3-point') times ``max(1, |x0|)``, EPS from the dtypes of ``x0``
        and ``f0``.  With ``as_linear_operator`` it is the step along the
        unit direction.
    abs_step : None or array_like, optional
        Absolute step; takes precedence over ``rel_step``.  Where a step
        vanishes in floating point (``(x0 + h) - x0 == 0``) the default
        relative step is used instead.
    f0 : None or array_like, optional
        ``fun(x0)`` if already known (saves one evaluation).
    bounds : tuple of array_like or `scipy.optimize.Bounds`, optional
        Lower and upper bounds; steps are shrunk or flipped so that every
        evaluation point is feasible ('cs' ignores them).
    sparsity : {None, array_like, sparse array, 2-tuple}, optional
        Sparsity structure of the Jacobian, or ``(structure, groups)`` with
        precomputed column groups.  Without groups they come from
        :func:`fastopt.group_columns` with its best-of ordering.  The result
        is then a ``csr_array`` (``csr_matrix`` when the structure is a
        sparse matrix).
    as_linear_operator : bool, optional
        Return a `scipy.sparse.linalg.LinearOperator` computing directional
        derivatives (no bounds allowed).
    args, kwargs : tuple and dict, optional
        Extra arguments of ``fun``.
    full_output : bool, optional
        Also return ``{'nfev': int}``.
    workers : None, int or map-like callable, optional
        Evaluate the points of a block in parallel: -1 or an int > 1 makes a
        process pool of that size (all cores for -1), 0, 1 and None evaluate
        in this process, a callable is used as ``workers(fun, iterable)``
        (``multiprocessing.Pool().map``, an executor's ``map``, or a
        vectorised map).  ``fun`` must then be picklable for process pools.

    Returns
    -------
    J : ndarray, csr_array, csr_matrix or LinearOperator
        The Jacobian, shape (m, n); (n,) when m == 1, (m, 1) when n == 1.
    info : dict
        Only with ``full_output``: ``{'nfev': number of evaluations}``.

    Raises
    ------
    ValueError, TypeError
        For invalid arguments; the message names the argument.  Exceptions
        raised by ``fun`` (also inside a worker) propagate unchanged.

    See Also
    --------
    check_derivative, group_columns

    Notes
    -----
    Differences from SciPy 1.17.1, all deliberate:

    * the divided differences use the step actually taken after ``x`` is
      rounded to ``x0``'s dtype, so float32 ``x0`` gives accurate
      derivatives (SciPy divides by the unrounded float64 step);
    * a dense ``sparsity`` with two rows is a structure, not a
      ``(structure, groups)`` pair; a pair must be a tuple;
    * invalid bounds (``lb > ub``, NaN), a non-finite ``x0``, steps of the
      wrong shape, user groups that are not a valid grouping, and a ``fun``
      returning 2-D values raise ``ValueError`` before differencing;
    * a map-like ``workers`` that returns too few results raises
      ``ValueError`` (SciPy leaks ``StopIteration``).

    References
    ----------
    .. [1] A. Curtis, M. J. D. Powell and J. Reid, "On the estimation of
       sparse Jacobian matrices", J. Inst. Math. Appl. 13 (1974) 117-120.
    .. [2] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.,
       Springer (2006), section 8.1.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt import approx_derivative
    >>> def f(x, c1, c2):
    ...     return np.array([x[0] * np.sin(c1 * x[1]),
    ...                      x[0] * np.cos(c2 * x[1])])
    >>> approx_derivative(f, np.array([1.0, 0.5 * np.pi]), args=(1, 2))
    array([[ 1.        ,  0.        ],
           [-1.        ,  0.        ]])
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"Unknown method '{method}'. ")
    if not callable(fun):
        raise TypeError(f"`fun` must be callable; got {type(fun).__name__}.")
    code = METHODS[method]
    x0 = _prepare_x0(x0)
    n = x0.size
    if not isinstance(args, tuple):
        args = (args,)
    kwargs = {} if kwargs is None else kwargs
    if not isinstance(kwargs, dict):
        raise TypeError("`kwargs` must be a dict or None.")
    bounded = bounds is not _NO_BOUNDS
    if bounded:
        lb, ub = _prepare_bounds(bounds, x0)
        bounded = bool(np.isfinite(lb).any() or np.isfinite(ub).any())
        if bounded and ((x0 < lb) | (x0 > ub)).any():
            raise ValueError("`x0` violates bound constraints.")
    if not bounded:
        lb = ub = _EMPTY
    if as_linear_operator and bounded:
        raise ValueError("Bounds not supported when `as_linear_operator` "
                         "is True.")
    workers = validate_workers(workers)
    if abs_step is not None:
        step_kind, step = STEP_ABSOLUTE, _user_step(abs_step, n, "abs_step")
    elif rel_step is not None and not as_linear_operator:
        step_kind, step = STEP_RELATIVE, _user_step(rel_step, n, "rel_step")
    else:
        step_kind, step = STEP_DEFAULT, _EMPTY

    addresses = None
    if (workers is None and not kwargs and x0.dtype == np.float64
            and is_compiled(fun)):
        addresses = compiled_addresses(fun, args, code == METHOD_CS)
    nfev = 0
    if f0 is not None:
        f0 = np.atleast_1d(f0)
        if f0.ndim > 1:
            raise ValueError("`f0` passed has more than 1 dimension.")
    elif addresses is None or sparsity is not None or as_linear_operator:
        f0 = _as_values(fun(x0.copy(), *args, **kwargs), "at `x0`")
        nfev = 1
    rstep = _eps_for_method(x0.dtype, np.float64 if f0 is None else f0.dtype,
                            method)

    if as_linear_operator:
        if rel_step is None:
            rel_step = rstep
        J = _linear_operator(fun, args, kwargs, x0, f0, rel_step, method)
        return (J, {"nfev": nfev}) if full_output else J

    x64 = x0 if x0.dtype == np.float64 else x0.astype(np.float64)
    if f0 is None:
        f64 = _EMPTY  # the compiled kernel evaluates it
    else:
        if f0.dtype.kind == "c" and code != METHOD_CS:
            raise TypeError("`fun` returned complex values; use method='cs' "
                            "for complex-analytic functions.")
        f64 = f0.real if code == METHOD_CS else f0
        if not (f64.dtype == np.float64 and f64.flags.c_contiguous):
            f64 = np.ascontiguousarray(f64, dtype=np.float64)
    per_point = 2 if code == METHOD_3POINT else 1

    if sparsity is None:
        if addresses is not None:
            if code == METHOD_CS:
                m = -1 if f0 is None else f0.size
                jac_t = dense_difference_cs_at(*addresses, args, x64, m,
                                               rstep, step, step_kind)
            elif f0 is None and step_kind == STEP_DEFAULT and not bounded:
                jac_t = dense_difference_default_at(*addresses, args, x64,
                                                    rstep, code)
            else:
                jac_t = dense_difference_at(*addresses, args, x64, f64,
                                            rstep, step, step_kind, lb, ub,
                                            code)
            nfev += per_point * n + (f0 is None)
        else:
            h, one_sided = _steps(x64, rstep, step, step_kind, lb, ub,
                                  bounded, code)
            with worker_map(workers) as mapper:
                jac_t, count = _dense_python(fun, args, kwargs, x0, x64, f64,
                                             h, one_sided, code, mapper)
            nfev += count
        if jac_t.shape[1] == 1:
            jac_t = jac_t.ravel()
        J = jac_t.T
    else:
        m = f64.size
        plan = prepare_sparsity(sparsity, m, n)
        pattern = (plan.csc_indptr, plan.csc_indices, plan.position,
                   plan.group_ptr, plan.members)
        if addresses is not None:
            if code == METHOD_CS:
                data = sparse_difference_cs_at(*addresses, args, x64, m,
                                               rstep, step, step_kind,
                                               *pattern)
            else:
                data = sparse_difference_at(*addresses, args, x64, f64, rstep,
                                            step, step_kind, lb, ub, code,
                                            *pattern)
            nfev += per_point * plan.n_groups
        else:
            h, one_sided = _steps(x64, rstep, step, step_kind, lb, ub,
                                  bounded, code)
            with worker_map(workers) as mapper:
                data, count = _sparse_python(fun, args, kwargs, x0, x64, f64,
                                             h, one_sided, code, plan, mapper)
            nfev += count
        J = plan.jacobian(data)
    return (J, {"nfev": nfev}) if full_output else J


def _steps(x64, rstep, step, step_kind, lb, ub, bounded, code):
    if code == METHOD_CS:
        # The complex step needs no bound adjustment: x stays real.
        return (absolute_steps(x64, rstep, step, step_kind),
                np.zeros(x64.size, dtype=bool))
    return difference_steps(x64, rstep, step, step_kind, lb, ub, bounded,
                            code)


def check_derivative(fun, jac, x0, bounds=_NO_BOUNDS, args=(), kwargs=None):
    """Check a Jacobian (or gradient) function against finite differences.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args, **kwargs)``, as for :func:`approx_derivative`.
    jac : callable
        ``jac(x, *args, **kwargs)`` returning the Jacobian of ``fun`` as an
        array_like of shape (m, n) (or (n,) for a scalar ``fun``) or a sparse
        array.
    x0 : array_like of shape (n,) or float
        Point of comparison.
    bounds : 2-tuple of array_like, optional
        Bounds that limit where ``fun`` is evaluated.
    args, kwargs : tuple and dict, optional
        Extra arguments of ``fun`` and ``jac``.

    Returns
    -------
    accuracy : float
        The largest error between ``jac`` and a '3-point' difference, relative
        for entries larger than 1 in magnitude and absolute otherwise.  A
        value around 1e-6 or smaller suggests ``jac`` is right.

    Notes
    -----
    A sparse ``jac`` is compared on the non-zeros of its difference with the
    finite-difference Jacobian computed with ``sparsity=jac``.  When the two
    agree exactly the result is 0.0 (SciPy 1.17.1 raises there).

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt import check_derivative
    >>> def f(x):
    ...     return np.array([x[0] ** 2, np.sin(x[1])])
    >>> def jac(x):
    ...     return np.array([[2 * x[0], 0.0], [0.0, np.cos(x[1])]])
    >>> check_derivative(f, jac, np.array([1.0, 2.0])) < 1e-8
    True
    """
    from scipy.sparse import csr_array, find, issparse

    if not callable(jac):
        raise TypeError(f"`jac` must be callable; got {type(jac).__name__}.")
    if not isinstance(args, tuple):
        args = (args,)
    kwargs = {} if kwargs is None else kwargs
    J_to_test = jac(x0, *args, **kwargs)
    if issparse(J_to_test):
        J_diff = approx_derivative(fun, x0, bounds=bounds, sparsity=J_to_test,
                                   args=args, kwargs=kwargs)
        error = csr_array(J_to_test) - J_diff
        rows, cols, error_data = find(error)
        if error_data.size == 0:
            return 0.0
        diff_data = np.asarray(J_diff[rows, cols]).ravel()
        return float(np.max(np.abs(error_data)
                            / np.maximum(1, np.abs(diff_data))))
    J_diff = approx_derivative(fun, x0, bounds=bounds, args=args,
                               kwargs=kwargs)
    J_to_test = np.asarray(J_to_test)
    try:
        np.broadcast_shapes(J_to_test.shape, J_diff.shape)
    except ValueError:
        raise ValueError(f"`jac` returned shape {J_to_test.shape}; the "
                         f"finite-difference Jacobian has shape "
                         f"{J_diff.shape}.") from None
    abs_err = np.abs(J_to_test - J_diff)
    return float(np.max(abs_err / np.maximum(1, np.abs(J_diff))))
