"""The whole SLSQP solve in compiled code, for all-``@njit`` problems.

:func:`slsqp_solve_at` runs the reverse-communication kernel
:func:`fastopt._kernels.slsqp.slsqp_iterate` and answers its requests
itself: the objective, its gradient (a user function or finite
differences), and the constraint blocks, each a user function (with its
Jacobian or finite differences) or rows of a constant matrix (a
``LinearConstraint``).  Every user function arrives as two addresses (of
its own compiled code, or of a small adapter converting its result; see
:mod:`fastopt._compiled_fun`), so the kernel is
typed only on the types of the objective's and the constraints' extra
arguments: compiled once per argument types and cached on disk, never per
user function.

Constraint blocks (see :mod:`fastopt._constraints`) are described by
``blocks[k] = (is_linear, source, raw_size, row_start, size)``: ``source``
is the row of ``functions`` (``(fun_c, fun_jit, jac_c, jac_jit,
has_jac)``) or the first row of the block's matrix in ``A``; the block's
values are ``sign * (y[rows] - offset)`` over its ``size`` entries of
``rows``/``sign``/``offset`` starting at ``row_start``.
"""
import numpy as np

from ._jit import kernel
from .borrow import borrowed
from .funcptr import as_function, as_function_returning, call_with
from .slsqp import (EVALUATE_F, EVALUATE_G, I_ITER, max_violation,
                    slsqp_init, slsqp_iterate, slsqp_work_sizes)
from .steps import METHOD_2POINT, difference_steps

__all__ = ["slsqp_solve_at", "BAD_GRADIENT", "BAD_CONSTRAINT",
           "BAD_JACOBIAN", "BAD_X0"]

# Input errors found in compiled code, reported as statuses (the Python
# wrapper raises with a message naming the argument).
BAD_GRADIENT = -10      # the gradient has the wrong length
BAD_CONSTRAINT = -11    # a constraint function changed its output size
BAD_JACOBIAN = -12      # a constraint Jacobian has the wrong shape
BAD_X0 = -13            # x0 has a non-finite entry


@kernel
def _objective_fd(fun, fargs, x, f0, h, one_sided, method, g):
    # Finite-difference gradient of the scalar objective; returns the
    # number of evaluations.
    n = x.size
    x1 = x.copy()
    count = 0
    for j in range(n):
        if method == METHOD_2POINT:
            x1[j] = x[j] + h[j]
            dx = x1[j] - x[j]
            f1 = call_with(fun, x1, fargs)
            g[j] = (f1 - f0) / dx
            count += 1
        elif one_sided[j]:
            x1[j] = x[j] + h[j]
            f1 = call_with(fun, x1, fargs)
            x1[j] = x[j] + 2.0 * h[j]
            dx = x1[j] - x[j]
            f2 = call_with(fun, x1, fargs)
            g[j] = (-3.0 * f0 + 4.0 * f1 - f2) / dx
            count += 2
        else:
            x1[j] = x[j] - h[j]
            lo = x1[j]
            f1 = call_with(fun, x1, fargs)
            x1[j] = x[j] + h[j]
            dx = x1[j] - lo
            f2 = call_with(fun, x1, fargs)
            g[j] = (f2 - f1) / dx
            count += 2
        x1[j] = x[j]
    return count


@kernel
def _vector_fd(fun, cargs, x, f0, h, one_sided, method, J):
    # Finite-difference Jacobian (rows: outputs) of a vector function;
    # returns False if the output size changed.
    n = x.size
    m = f0.size
    x1 = x.copy()
    for j in range(n):
        if method == METHOD_2POINT:
            x1[j] = x[j] + h[j]
            dx = x1[j] - x[j]
            f1 = call_with(fun, x1, cargs)
            if f1.size != m:
                return False
            for i in range(m):
                J[i, j] = (f1[i] - f0[i]) / dx
        elif one_sided[j]:
            x1[j] = x[j] + h[j]
            f1 = call_with(fun, x1, cargs)
            x1[j] = x[j] + 2.0 * h[j]
            dx = x1[j] - x[j]
            f2 = call_with(fun, x1, cargs)
            if f1.size != m or f2.size != m:
                return False
            for i in range(m):
                J[i, j] = (-3.0 * f0[i] + 4.0 * f1[i] - f2[i]) / dx
        else:
            x1[j] = x[j] - h[j]
            lo = x1[j]
            f1 = call_with(fun, x1, cargs)
            x1[j] = x[j] + h[j]
            dx = x1[j] - lo
            f2 = call_with(fun, x1, cargs)
            if f1.size != m or f2.size != m:
                return False
            for i in range(m):
                J[i, j] = (f2[i] - f1[i]) / dx
        x1[j] = x[j]
    return True


@kernel
def _block_values(functions, cargs, blocks, rows, sign, offset, A, x, raw,
                  d):
    # d (and each block's raw output, in raw) at x; False on a size change.
    rpos = 0
    for k in range(blocks.shape[0]):
        size_raw = blocks[k, 2]
        start = blocks[k, 3]
        size = blocks[k, 4]
        if blocks[k, 0] == 1:
            a0 = blocks[k, 1]
            for i in range(size_raw):
                sm = 0.0
                for j in range(x.size):
                    sm += A[a0 + i, j] * x[j]
                raw[rpos + i] = sm
        else:
            q = blocks[k, 1]
            cf = as_function(functions[q, 0], functions[q, 1], x, cargs)
            y = call_with(cf, x.copy(), cargs)
            if y.size != size_raw:
                return False
            for i in range(size_raw):
                raw[rpos + i] = y[i]
        for r in range(start, start + size):
            d[r] = sign[r] * (raw[rpos + rows[r]] - offset[r])
        rpos += size_raw
    return True


@kernel
def _block_jacobians(functions, cargs, blocks, rows, sign, A, x, raw, C,
                     h, one_sided, method):
    # C at x (raw holds the raw outputs at x); False on a bad shape.
    n = x.size
    rpos = 0
    for k in range(blocks.shape[0]):
        size_raw = blocks[k, 2]
        start = blocks[k, 3]
        size = blocks[k, 4]
        if blocks[k, 0] == 1:
            a0 = blocks[k, 1]
            for r in range(start, start + size):
                for j in range(n):
                    C[r, j] = sign[r] * A[a0 + rows[r], j]
        else:
            q = blocks[k, 1]
            if functions[q, 4] == 1:
                jf = as_function_returning(functions[q, 2], functions[q, 3],
                                           np.empty((0, 0)), x, cargs)
                J = call_with(jf, x.copy(), cargs)
                if J.shape[0] != size_raw or J.shape[1] != n:
                    return False
            else:
                cf = as_function(functions[q, 0], functions[q, 1], x, cargs)
                J = np.empty((size_raw, n))
                if not _vector_fd(cf, cargs, x, raw[rpos:rpos + size_raw],
                                  h, one_sided, method, J):
                    return False
            for r in range(start, start + size):
                for j in range(n):
                    C[r, j] = sign[r] * J[rows[r], j]
        rpos += size_raw
    return True


@kernel
def _solve(fc, fj, gc, gj, has_grad, fargs, functions, cargs, blocks, rows,
           sign, offset, A, x, lb, ub, xl, xu, meq, ftol, maxiter, method,
           rstep, step, step_kind, g, d, mult):
    # The solve loop (see slsqp_solve_at); fills g, d, mult and returns
    # (status, nit, nfev, njev, f).
    n = x.size
    m = rows.size
    fun = as_function_returning(fc, fj, 0.0, x, fargs)
    grad = as_function_returning(gc, gj, x, x, fargs)
    nrw, niw = slsqp_work_sizes(n, m, meq)
    rw = np.zeros(nrw)
    iw = np.zeros(niw, np.int64)
    slsqp_init(rw, iw, n, m, meq, ftol, maxiter)
    C = np.zeros((m, n))
    raw_total = 0
    for k in range(blocks.shape[0]):
        raw_total += blocks[k, 2]
    raw = np.zeros(raw_total)
    bounded = False
    for i in range(n):
        if np.isfinite(lb[i]) or np.isfinite(ub[i]):
            bounded = True
    fd_blocks = False
    for k in range(blocks.shape[0]):
        if blocks[k, 0] == 0 and functions[blocks[k, 1], 4] == 0:
            fd_blocks = True
    nfev = 0
    njev = 0
    f = 0.0
    need_f = True
    need_g = True
    status = 0
    while True:
        if need_f:
            f = call_with(fun, x.copy(), fargs)
            nfev += 1
            if not _block_values(functions, cargs, blocks, rows, sign,
                                 offset, A, x, raw, d):
                status = BAD_CONSTRAINT
                break
        if need_g:
            njev += 1
            if has_grad:
                gv = call_with(grad, x.copy(), fargs)
                if gv.size != n:
                    status = BAD_GRADIENT
                    break
                for i in range(n):
                    g[i] = gv[i]
                if blocks.shape[0] > 0:
                    if fd_blocks:
                        h, one_sided = difference_steps(x, rstep, step,
                                                        step_kind, lb, ub,
                                                        bounded, method)
                    else:       # every Jacobian is given: no steps needed
                        h = x
                        one_sided = np.zeros(0, np.bool_)
                    if not _block_jacobians(functions, cargs, blocks, rows,
                                            sign, A, x, raw, C, h, one_sided,
                                            method):
                        status = BAD_JACOBIAN
                        break
            else:
                h, one_sided = difference_steps(x, rstep, step, step_kind,
                                                lb, ub, bounded, method)
                nfev += _objective_fd(fun, fargs, x, f, h, one_sided, method,
                                      g)
                if not _block_jacobians(functions, cargs, blocks, rows, sign,
                                        A, x, raw, C, h, one_sided, method):
                    status = BAD_JACOBIAN
                    break
        # borrowed (this frame owns them): passing owned arrays costs an
        # atomic increment and decrement each, per call
        status = slsqp_iterate(borrowed(rw), borrowed(iw), f, borrowed(g),
                               borrowed(C), borrowed(d), borrowed(x),
                               borrowed(xl), borrowed(xu), borrowed(mult))
        need_f = status == EVALUATE_F
        need_g = status == EVALUATE_G
        if not (need_f or need_g):
            break
    return status, iw[I_ITER], nfev, njev, f


# Layout of the packed arguments of slsqp_solve_at (set by the Python
# side, fastopt._slsqp): ints[:_NI] are these scalars, then the functions
# table (nf rows of 5), the blocks table (nb rows of 5) and rows (m);
# reals[:_NR] are these scalars, then sign (m), offset (m), lb, ub, xl,
# xu and step (n each).
I_FC, I_FJ, I_GC, I_GJ, I_HAS_GRAD, I_MEQ, I_MAXITER, I_METHOD, \
    I_STEP_KIND, I_NF, I_NB, I_MROWS = range(12)
_NI = 12
R_FTOL, R_RSTEP = range(2)
_NR = 2
# Layout of the output of slsqp_solve_at: these scalars, then g (n),
# d (m) and mult (m + 2n).
O_STATUS, O_NIT, O_NFEV, O_NJEV, O_F, O_MAXCV = range(6)
_NO = 6


@kernel
def slsqp_solve_at(ints, reals, A, x, fargs, cargs):
    """Solve an SLSQP problem whose functions are all compiled.

    The arguments are packed into a few arrays so that a repeat solve
    costs one cheap call (module docstring; layout constants ``I_*``,
    ``R_*``, ``O_*`` of this module).

    Parameters
    ----------
    ints : int64[:]
        Addresses of the objective's function ``f(x, *fargs) -> float64``
        and of the gradient's (``-> float64[n]``, ignored unless
        has_grad), has_grad, meq, maxiter, the finite-difference method
        and step kind, the table of constraint functions
        ``(fun_c, fun_jit, jac_c, jac_jit, has_jac)`` (``fun ->
        float64[k]``, ``jac -> float64[k, n]``), the blocks table and
        ``rows``.
    reals : float64[:]
        ftol, the relative step, then sign, offset, lb, ub (bounds for the
        finite-difference steps, infinite: none), xl, xu (bounds for the
        kernel, NaN: none) and the steps.
    A : float64[:, n]
        The stacked matrices of the linear constraint blocks.
    x : float64[n]
        Starting point, clipped here into the bounds; overwritten with the
        solution.
    fargs, cargs : tuple
        The objective's extra arguments, and those shared by every
        constraint function.

    Returns
    -------
    out : float64[6 + 2n + 2m... ]
        status, nit, nfev, njev, f and the largest constraint or bound
        violation at x, then g (n), d (m) and mult (m + 2n), as
        :func:`fastopt._kernels.slsqp.slsqp_iterate`; status may also be
        one of the input-error statuses BAD_GRADIENT, BAD_CONSTRAINT,
        BAD_JACOBIAN, BAD_X0.
    """
    n = x.size
    nf = ints[I_NF]
    nb = ints[I_NB]
    m = ints[I_MROWS]
    p = _NI
    functions = ints[p:p + 5 * nf].reshape((nf, 5))
    p += 5 * nf
    blocks = ints[p:p + 5 * nb].reshape((nb, 5))
    p += 5 * nb
    rows = ints[p:p + m]
    q = _NR
    sign = reals[q:q + m]
    offset = reals[q + m:q + 2 * m]
    q += 2 * m
    lb = reals[q:q + n]
    ub = reals[q + n:q + 2 * n]
    xl = reals[q + 2 * n:q + 3 * n]
    xu = reals[q + 3 * n:q + 4 * n]
    step = reals[q + 4 * n:q + 5 * n]
    out = np.zeros(_NO + 3 * n + 2 * m)
    g = out[_NO:_NO + n]
    d = out[_NO + n:_NO + n + m]
    mult = out[_NO + n + m:]
    for i in range(n):
        if not np.isfinite(x[i]):
            out[O_STATUS] = BAD_X0
            return out
        if x[i] < lb[i]:
            x[i] = lb[i]
        if x[i] > ub[i]:
            x[i] = ub[i]
    status, nit, nfev, njev, f = _solve(
        ints[I_FC], ints[I_FJ], ints[I_GC], ints[I_GJ],
        ints[I_HAS_GRAD] != 0, fargs, functions, cargs, blocks, rows, sign,
        offset, A, x, lb, ub, xl, xu, ints[I_MEQ], reals[R_FTOL],
        ints[I_MAXITER], ints[I_METHOD], reals[R_RSTEP], step,
        ints[I_STEP_KIND], g, d, mult)
    out[O_STATUS] = status
    out[O_NIT] = nit
    out[O_NFEV] = nfev
    out[O_NJEV] = njev
    out[O_F] = f
    meq = ints[I_MEQ]
    if status >= 0:
        out[O_MAXCV] = max_violation(d, meq, x, lb, ub)
    return out
