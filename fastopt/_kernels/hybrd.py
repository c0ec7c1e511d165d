"""Powell's hybrid method (MINPACK ``hybrd``/``hybrj``) as compiled kernels.

Written from the MINPACK-1 user guide (Moré, Garbow and Hillstrom, 1980),
keeping MINPACK's order of operations so that the iterates, ``nfev`` and
the status agree with SciPy's ``root(method='hybr')``.

Reverse communication
---------------------
The iteration lives in two work arrays and never calls the user's function
itself::

    iw, rw = hybr_start(x0, xtol, maxfev, ml, mu, epsfcn, factor, mode,
                        diag, use_jac, col_deriv)
    action = iw[I_ACTION]
    while action != DONE:
        xe = rw[point slice]                      # see hybr_layout
        if action == EVALUATE_F:
            action = hybr_advance(iw, rw, fun(xe), NO_JAC)
        else:                                     # EVALUATE_JAC
            action = hybr_advance(iw, rw, NO_F, jac(xe))
    status = iw[I_STATUS]

``fval`` must be float64 of shape (n,), ``jval`` C-contiguous float64 of
shape (n, n) (``jac(x)[i, j] = d f_i / d x_j``, or its transpose with
``col_deriv``); the argument not used by the action may be any array of
the right type (``np.empty(0)``, ``np.empty((0, 0))``).

With ``hybr_start(..., block=True)`` (no Jacobian) a finite-difference
Jacobian is asked for in one action, EVALUATE_BLOCK: evaluate
``values[k] = fun(points[k])`` for the msum = min(ml + mu + 1, n) rows of
``points, values = hybr_block(iw, rw)`` and call ``hybr_advance`` once.
``nfev`` counts every call as MINPACK does (msum per Jacobian).
:func:`hybr_advance_f` is a cheaper entry for Python drivers after
EVALUATE_F or EVALUATE_BLOCK; cheaper still, :func:`hybr_init_at`,
:func:`hybr_step_at`, :func:`hybr_jac_at` and :func:`hybr_packed_at` take
a one-array state by its address and write each point to evaluate into
the driver's own point array (fastopt's Python driver uses these).

Internally the iteration addresses ``rw`` by offsets and runs on a view
without a memory reference (:mod:`fastopt._kernels.borrow`): array views and array arguments
of non-inlined kernels cost atomic reference-count updates, which for
small systems cost more than MINPACK's arithmetic.

Work-array layout
-----------------
``iw`` (int64, length IW_SIZE): slots ``I_*`` below (n, ml, mu, maxfev,
mode, use_jac, col_deriv, phase, nfev, njev, iter, ncsuc, ncfail, nslow1,
nslow2, jeval, status, the finite-difference group k, msum, action,
block mode, and the address of the Python driver's point array, see
:func:`hybr_init_at`).

``rw`` (float64): ``NSCALAR`` scalars (slots ``R_*``: xtol, factor,
epsfcn, delta, fnorm, xnorm, pnorm, sqrt(max(epsfcn, epsmch)), and
||f(x0)||) followed by
the vectors x, fvec, diag, qtf, wa1, wa2, wa3, wa4, xe (n each; ``xe`` is
the point to evaluate), then fjac (n*n, row-major, ``fjac[i, j]`` =
J[i, j] before the QR, then Q[i, j]) and r (n(n+1)/2, R packed by rows),
and in block mode msum points and msum values (n each).
:func:`hybr_layout` gives the offsets.

Status codes (``iw[I_STATUS]`` once ``DONE``)
---------------------------------------------
0 improper input (n <= 0, xtol < 0, maxfev < 0, ml or mu < 0 without a
  Jacobian, factor <= 0, or mode 2 with some diag <= 0); nothing evaluated
1 converged: delta <= xtol * ||diag * x||, or ||f|| == 0
2 nfev >= maxfev
3 xtol too small: 0.1 max(0.1 delta, pnorm) <= epsmch ||diag * x||
4 not making progress over the last five Jacobian evaluations
5 not making progress over the last ten iterations
6 a function (or Jacobian) value was not finite: fastopt stops there
  instead of iterating on NaN (MINPACK has no such test); x and fvec are
  the last accepted ones
7, 8 (compiled drivers only) the function's output had the wrong size on
  the first call (7) or changed size later (8); ``info[3:5]`` hold the
  offending shape (the Python layer turns these into exceptions)
9 (compiled drivers only) the Jacobian did not have shape (n, n)
"""
import numpy as np
from numba import types
from numba.extending import overload

from numba import njit

from ._jit import OPTIONS, driver, kernel
from .borrow import borrowed, borrowed_int64_vector, borrowed_vector
from .funcptr import as_function, as_function_returning, call_with
from numba.core.unsafe.refcount import get_refcount

from .minpack_qr import enorm_at, vector_at

__all__ = ["hybr_start", "hybr_init", "hybr_advance", "hybr_layout",
           "hybr_result", "hybr_packed", "hybr_solve", "hybrd_at", "hybrj_at",
           "hybr_block", "hybr_advance_f", "hybr_step", "hybr_init_at",
           "hybr_step_at", "hybr_jac_at", "hybr_packed_at", "packed_size",
           "EVALUATE_F",
           "EVALUATE_JAC", "EVALUATE_BLOCK", "DONE", "IW_SIZE", "NSCALAR"]

# actions
DONE = 0
EVALUATE_F = 1
EVALUATE_JAC = 2
EVALUATE_BLOCK = 3

# integer slots
I_N = 0
I_ML = 1
I_MU = 2
I_MAXFEV = 3
I_MODE = 4
I_USEJAC = 5
I_COLDERIV = 6
I_PHASE = 7
I_NFEV = 8
I_NJEV = 9
I_ITER = 10
I_NCSUC = 11
I_NCFAIL = 12
I_NSLOW1 = 13
I_NSLOW2 = 14
I_JEVAL = 15
I_STATUS = 16
I_K = 17
I_MSUM = 18
I_ACTION = 19
I_BLOCK = 20
I_POINT = 21
IW_SIZE = 22

# float slots
R_XTOL = 0
R_FACTOR = 1
R_EPSFCN = 2
R_DELTA = 3
R_FNORM = 4
R_XNORM = 5
R_PNORM = 6
R_EPS = 7
R_FNORM0 = 8
NSCALAR = 9

# phases: what the value handed to hybr_advance is
P_DONE = 0
P_F0 = 1      # f(x0)
P_FD = 2      # f at the finite-difference point of group k
P_JAC = 3     # analytic Jacobian at x
P_TRIAL = 4   # f(x + p)

STATUS_NONFINITE = 6
STATUS_BAD_F_SIZE = 7
STATUS_F_SIZE_CHANGED = 8
STATUS_BAD_JAC_SHAPE = 9

EPSMCH = np.finfo(np.float64).eps


def _inline(function):
    # A kernel inlined into its callers at numba-IR level: the arrays it
    # takes then cost no reference counting per call.
    return njit(inline="always", **OPTIONS)(function)


@kernel
def hybr_layout(n, nblock=0):
    """Offsets in ``rw``: (x, fvec, diag, qtf, wa1, wa2, wa3, wa4, xe,
    fjac, r, total length).  With ``nblock`` > 0 (block mode, see
    :func:`hybr_block`) ``rw`` ends with ``nblock`` points and then
    ``nblock`` values, n each, after r."""
    o = NSCALAR
    x = o
    fvec = o + n
    diag = o + 2 * n
    qtf = o + 3 * n
    wa1 = o + 4 * n
    wa2 = o + 5 * n
    wa3 = o + 6 * n
    wa4 = o + 7 * n
    xe = o + 8 * n
    fjac = o + 9 * n
    r = fjac + n * n
    total = r + (n * (n + 1)) // 2 + 2 * nblock * n
    return x, fvec, diag, qtf, wa1, wa2, wa3, wa4, xe, fjac, r, total


@kernel
def _views(iw, rw):
    n = iw[I_N]
    (ox, of, od, oq, o1, o2, o3, o4, oe, oj, orr,
     total) = hybr_layout(n)
    x = rw[ox:ox + n]
    fvec = rw[of:of + n]
    diag = rw[od:od + n]
    qtf = rw[oq:oq + n]
    wa1 = rw[o1:o1 + n]
    wa2 = rw[o2:o2 + n]
    wa3 = rw[o3:o3 + n]
    wa4 = rw[o4:o4 + n]
    xe = rw[oe:oe + n]
    fjac = rw[oj:oj + n * n].reshape((n, n))
    r = rw[orr:orr + (n * (n + 1)) // 2]
    return x, fvec, diag, qtf, wa1, wa2, wa3, wa4, xe, fjac, r


# The iteration below addresses ``rw`` by offsets instead of through array
# views: every view (and every array passed to a kernel that is not
# inlined) costs reference-count updates, which on small systems cost more
# than the arithmetic.  The arithmetic, and its order, is MINPACK's.

@_inline
def _finite_at(rw, start, count):
    for i in range(start, start + count):
        if not np.isfinite(rw[i]):
            return False
    return True


@_inline
def _finish(iw, status):
    iw[I_STATUS] = status
    iw[I_PHASE] = P_DONE
    iw[I_ACTION] = DONE
    return DONE


@kernel
def hybr_start(x0, xtol, maxfev, ml, mu, epsfcn, factor, mode, diag,
               use_jac, col_deriv, block=False):
    """Initialise the hybrid-method state.

    Parameters
    ----------
    x0 : ndarray of float64, shape (n,)
    xtol : float
    maxfev : int
        0 means 200 (n + 1) without a Jacobian, 100 (n + 1) with one.
    ml, mu : int
        Lower and upper bandwidths for the finite-difference Jacobian
        (``ml + mu + 1 >= n`` means dense); ignored with ``use_jac``.
    epsfcn : float
        Relative error of the function values; step
        ``sqrt(max(epsfcn, epsmch)) |x_j|``.
    factor : float
        Initial step bound factor.
    mode : int
        1: scale by the column norms of the Jacobian (running max);
        2: use ``diag``.
    diag : ndarray of float64, shape (n,)
        Scaling for mode 2 (ignored for mode 1).
    use_jac, col_deriv : bool
    block : bool
        Ask for the points of a finite-difference Jacobian all at once
        (EVALUATE_BLOCK, see :func:`hybr_block`) instead of one by one.

    Returns
    -------
    iw, rw : the state (see the module docstring); ``iw[I_ACTION]`` is the
        first action: EVALUATE_F at ``x0``, or DONE with status 0.
    """
    n = x0.size
    nblock = 0
    if block and not use_jac and n > 0:
        nblock = max(min(ml + mu + 1, n), 1)
    iw = np.zeros(IW_SIZE, np.int64)
    rw = np.zeros(hybr_layout(max(n, 0), nblock)[-1])
    _start_into(iw, rw, x0, xtol, maxfev, ml, mu, epsfcn, factor, mode,
                diag, use_jac, col_deriv, block)
    return iw, rw


@_inline
def _start_into(iw, rw, x0, xtol, maxfev, ml, mu, epsfcn, factor, mode,
                diag, use_jac, col_deriv, block):
    # hybr_start's initialisation of the zeroed iw and rw.
    n = x0.size
    if block and not use_jac and n > 0:
        iw[I_BLOCK] = 1
    iw[I_N] = n
    iw[I_ML] = ml
    iw[I_MU] = mu
    if maxfev == 0:
        maxfev = (100 if use_jac else 200) * (n + 1)
    iw[I_MAXFEV] = maxfev
    iw[I_MODE] = mode
    iw[I_USEJAC] = 1 if use_jac else 0
    iw[I_COLDERIV] = 1 if col_deriv else 0
    rw[R_XTOL] = xtol
    rw[R_FACTOR] = factor
    rw[R_EPSFCN] = epsfcn
    rw[R_EPS] = np.sqrt(max(epsfcn, EPSMCH))
    if n <= 0:
        _finish(iw, 0)
        return
    ox = NSCALAR
    od = ox + 2 * n
    oe = ox + 8 * n
    for j in range(n):
        rw[ox + j] = x0[j]
        rw[oe + j] = x0[j]
    bad = (xtol < 0.0 or maxfev <= 0 or factor <= 0.0
           or (not use_jac and (ml < 0 or mu < 0)))
    if mode == 2:
        if diag.size != n:
            bad = True
        else:
            for j in range(n):
                rw[od + j] = diag[j]
                if diag[j] <= 0.0:
                    bad = True
    if bad:
        _finish(iw, 0)
        return
    iw[I_MSUM] = min(ml + mu + 1, n)
    iw[I_PHASE] = P_F0
    iw[I_ACTION] = EVALUATE_F


@_inline
def _fd_step(eps, xj):
    h = eps * abs(xj)
    if h == 0.0:
        h = eps
    return h


@_inline
def _fd_point(iw, rw, k, oe):
    # Place the k-th finite-difference point (fdjac1) at rw[oe:oe + n].
    n = iw[I_N]
    msum = iw[I_ML] + iw[I_MU] + 1
    ox = NSCALAR
    eps = rw[R_EPS]
    for j in range(n):
        rw[oe + j] = rw[ox + j]
    if msum >= n:
        rw[oe + k] = rw[ox + k] + _fd_step(eps, rw[ox + k])
    else:
        for j in range(k, n, msum):
            rw[oe + j] = rw[ox + j] + _fd_step(eps, rw[ox + j])


@_inline
def _fd_consume(iw, rw, k, ov):
    # Turn the value at the k-th point (at rw[ov:ov + n]) into Jacobian
    # column(s).
    n = iw[I_N]
    ml = iw[I_ML]
    mu = iw[I_MU]
    msum = ml + mu + 1
    ox = NSCALAR
    of = ox + n
    oj = ox + 9 * n
    eps = rw[R_EPS]
    if msum >= n:
        h = _fd_step(eps, rw[ox + k])
        for i in range(n):
            rw[oj + i * n + k] = (rw[ov + i] - rw[of + i]) / h
    else:
        for j in range(k, n, msum):
            h = _fd_step(eps, rw[ox + j])
            for i in range(n):
                if i >= j - mu and i <= j + ml:
                    rw[oj + i * n + j] = (rw[ov + i] - rw[of + i]) / h
                else:
                    rw[oj + i * n + j] = 0.0


@_inline
def _begin_jacobian(iw, rw):
    iw[I_JEVAL] = 1
    n = iw[I_N]
    oe = NSCALAR + 8 * n
    if iw[I_USEJAC]:
        for j in range(n):
            rw[oe + j] = rw[NSCALAR + j]
        iw[I_PHASE] = P_JAC
        iw[I_ACTION] = EVALUATE_JAC
        return EVALUATE_JAC
    iw[I_K] = 0
    if iw[I_BLOCK]:
        ob = rw.size - 2 * iw[I_MSUM] * n
        for k in range(iw[I_MSUM]):
            _fd_point(iw, rw, k, ob + k * n)
        iw[I_PHASE] = P_FD
        iw[I_ACTION] = EVALUATE_BLOCK
        return EVALUATE_BLOCK
    _fd_point(iw, rw, 0, oe)
    iw[I_PHASE] = P_FD
    iw[I_ACTION] = EVALUATE_F
    return EVALUATE_F


@kernel
def dogleg(r, diag, qtb, delta, x, wa1, wa2):
    """MINPACK's ``dogleg``: the convex combination of the Gauss-Newton
    and scaled gradient directions minimising ``||R x - qtb||`` in the
    ellipsoid ``||diag * x|| <= delta``; ``r`` is R packed by rows.  The
    result, written to ``x``, is the *negative* of the step."""
    n = x.size
    _dogleg_at(r, 0, diag, 0, qtb, 0, delta, x, 0, wa1, 0, wa2, 0, n)


@_inline
def _dogleg_at(ra, orr, da, od, qa, oq, delta, xa, ox, w1, o1, w2, o2, n):
    # dogleg on a[o:o + ...] slices given by (array, offset) pairs.
    # Gauss-Newton direction by back substitution
    jj = (n * (n + 1)) // 2
    for k in range(1, n + 1):
        j = n - k           # 0-based row
        jj -= k             # 0-based position of R[j, j]
        l = jj + 1
        s = 0.0
        for i in range(j + 1, n):
            s = s + ra[orr + l] * xa[ox + i]
            l += 1
        temp = ra[orr + jj]
        if temp == 0.0:
            # singular: replace the pivot by a small multiple of the
            # column's largest entry
            l = j
            for i in range(j + 1):
                temp = max(temp, abs(ra[orr + l]))
                l += n - i - 1
            temp = EPSMCH * temp
            if temp == 0.0:
                temp = EPSMCH
        xa[ox + j] = (qa[oq + j] - s) / temp
    for j in range(n):
        w1[o1 + j] = 0.0
        w2[o2 + j] = da[od + j] * xa[ox + j]
    qnorm = enorm_at(w2, o2, 1, n)
    if qnorm <= delta:
        return
    # scaled gradient direction
    l = 0
    for j in range(n):
        temp = qa[oq + j]
        for i in range(j, n):
            w1[o1 + i] = w1[o1 + i] + ra[orr + l] * temp
            l += 1
        w1[o1 + j] = w1[o1 + j] / da[od + j]
    gnorm = enorm_at(w1, o1, 1, n)
    sgnorm = 0.0
    alpha = delta / qnorm
    if gnorm != 0.0:
        # point along the scaled gradient minimising the quadratic
        for j in range(n):
            w1[o1 + j] = (w1[o1 + j] / gnorm) / da[od + j]
        l = 0
        for j in range(n):
            s = 0.0
            for i in range(j, n):
                s = s + ra[orr + l] * w1[o1 + i]
                l += 1
            w2[o2 + j] = s
        temp = enorm_at(w2, o2, 1, n)
        sgnorm = (gnorm / temp) / temp
        alpha = 0.0
        if sgnorm < delta:
            # the dogleg point on the boundary
            bnorm = enorm_at(qa, oq, 1, n)
            temp = (bnorm / gnorm) * (bnorm / qnorm) * (sgnorm / delta)
            temp = (temp - (delta / qnorm) * (sgnorm / delta) ** 2
                    + np.sqrt((temp - (delta / qnorm)) ** 2
                              + (1.0 - (delta / qnorm) ** 2)
                              * (1.0 - (sgnorm / delta) ** 2)))
            alpha = ((delta / qnorm) * (1.0 - (sgnorm / delta) ** 2)) / temp
    temp = (1.0 - alpha) * min(sgnorm, delta)
    for j in range(n):
        xa[ox + j] = temp * w1[o1 + j] + alpha * xa[ox + j]


@_inline
def _trial(iw, rw):
    # Dogleg step from the current factorisation; ask for f(x + p).
    n = iw[I_N]
    ox = NSCALAR
    od = ox + 2 * n
    oq = ox + 3 * n
    o1 = ox + 4 * n
    o2 = ox + 5 * n
    o3 = ox + 6 * n
    oe = ox + 8 * n
    orr = ox + 9 * n + n * n
    _dogleg_at(rw, orr, rw, od, rw, oq, rw[R_DELTA], rw, o1, rw, o2, rw, o3,
               n)
    for j in range(n):
        rw[o1 + j] = -rw[o1 + j]
        rw[o2 + j] = rw[ox + j] + rw[o1 + j]
        rw[o3 + j] = rw[od + j] * rw[o1 + j]
    pnorm = enorm_at(rw, o3, 1, n)
    rw[R_PNORM] = pnorm
    if iw[I_ITER] == 1:
        rw[R_DELTA] = min(rw[R_DELTA], pnorm)
    for j in range(n):
        rw[oe + j] = rw[o2 + j]
    iw[I_PHASE] = P_TRIAL
    iw[I_ACTION] = EVALUATE_F
    return EVALUATE_F


@_inline
def _qrfac_at(rw, oa, n, ord_, oan, ow):
    # qrfac_into(a, False, ...) for the n-by-n a at rw[oa:], row-major;
    # rdiag, acnorm and the workspace at rw[ord_:], rw[oan:], rw[ow:].
    m = n
    for j in range(n):
        rw[oan + j] = enorm_at(rw, oa + j, n, m)
        rw[ord_ + j] = rw[oan + j]
        rw[ow + j] = rw[ord_ + j]
    for j in range(n):
        ajnorm = enorm_at(rw, oa + j * n + j, n, m - j)
        if ajnorm != 0.0:
            if rw[oa + j * n + j] < 0.0:
                ajnorm = -ajnorm
            for i in range(j, m):
                rw[oa + i * n + j] = rw[oa + i * n + j] / ajnorm
            rw[oa + j * n + j] = rw[oa + j * n + j] + 1.0
            for k in range(j + 1, n):
                s = 0.0
                for i in range(j, m):
                    s = s + rw[oa + i * n + j] * rw[oa + i * n + k]
                temp = s / rw[oa + j * n + j]
                for i in range(j, m):
                    rw[oa + i * n + k] = (rw[oa + i * n + k]
                                          - temp * rw[oa + i * n + j])
        rw[ord_ + j] = -ajnorm


@_inline
def _qform_at(rw, oq, n, ow):
    # qform(q, n) for the n-by-n q at rw[oq:], workspace rw[ow:ow + n].
    m = n
    for j in range(1, n):
        for i in range(j):
            rw[oq + i * n + j] = 0.0
    for l in range(n):
        k = n - 1 - l
        for i in range(k, m):
            rw[ow + i] = rw[oq + i * n + k]
            rw[oq + i * n + k] = 0.0
        rw[oq + k * n + k] = 1.0
        if rw[ow + k] != 0.0:
            for j in range(k, m):
                s = 0.0
                for i in range(k, m):
                    s = s + rw[oq + i * n + j] * rw[ow + i]
                temp = s / rw[ow + k]
                for i in range(k, m):
                    rw[oq + i * n + j] = rw[oq + i * n + j] - temp * rw[ow + i]


@_inline
def _r1updt_at(rw, os_, ou, ov, ow, n):
    # r1updt(s, u, v, w, n, n) with s, u, v, w at rw offsets.
    m = n
    giant = np.finfo(np.float64).max
    jj = (n * (2 * m - n + 1)) // 2 - (m - n) - 1
    l = jj
    for i in range(n - 1, m):
        rw[ow + i] = rw[os_ + l]
        l += 1
    for nmj in range(1, n):
        j = n - 1 - nmj
        jj -= m - j
        rw[ow + j] = 0.0
        vj = rw[ov + j]
        if vj != 0.0:
            vn = rw[ov + n - 1]
            if abs(vn) < abs(vj):
                cotan = vn / vj
                sin = 0.5 / np.sqrt(0.25 + 0.25 * cotan * cotan)
                cos = sin * cotan
                tau = 1.0
                if abs(cos) * giant > 1.0:
                    tau = 1.0 / cos
            else:
                tan = vj / vn
                cos = 0.5 / np.sqrt(0.25 + 0.25 * tan * tan)
                sin = cos * tan
                tau = sin
            rw[ov + n - 1] = sin * vj + cos * vn
            rw[ov + j] = tau
            l = jj
            for i in range(j, m):
                temp = cos * rw[os_ + l] - sin * rw[ow + i]
                rw[ow + i] = sin * rw[os_ + l] + cos * rw[ow + i]
                rw[os_ + l] = temp
                l += 1
    for i in range(m):
        rw[ow + i] = rw[ow + i] + rw[ov + n - 1] * rw[ou + i]
    sing = False
    for j in range(n - 1):
        wj = rw[ow + j]
        if wj != 0.0:
            sjj = rw[os_ + jj]
            if abs(sjj) < abs(wj):
                cotan = sjj / wj
                sin = 0.5 / np.sqrt(0.25 + 0.25 * cotan * cotan)
                cos = sin * cotan
                tau = 1.0
                if abs(cos) * giant > 1.0:
                    tau = 1.0 / cos
            else:
                tan = wj / sjj
                cos = 0.5 / np.sqrt(0.25 + 0.25 * tan * tan)
                sin = cos * tan
                tau = sin
            l = jj
            for i in range(j, m):
                temp = cos * rw[os_ + l] + sin * rw[ow + i]
                rw[ow + i] = -sin * rw[os_ + l] + cos * rw[ow + i]
                rw[os_ + l] = temp
                l += 1
            rw[ow + j] = tau
        if rw[os_ + jj] == 0.0:
            sing = True
        jj += m - j
    l = jj
    for i in range(n - 1, m):
        rw[os_ + l] = rw[ow + i]
        l += 1
    if rw[os_ + jj] == 0.0:
        sing = True
    return sing


@_inline
def _r1mpyq_at(rw, oa, m, n, ov, ow):
    # r1mpyq(a, v, w) for the m-by-n row-major a at rw[oa:].
    for nmj in range(1, n):
        j = n - 1 - nmj
        vj = rw[ov + j]
        if abs(vj) > 1.0:
            cos = 1.0 / vj
            sin = np.sqrt(1.0 - cos * cos)
        else:
            sin = vj
            cos = np.sqrt(1.0 - sin * sin)
        for i in range(m):
            row = oa + i * n
            temp = cos * rw[row + j] - sin * rw[row + n - 1]
            rw[row + n - 1] = sin * rw[row + j] + cos * rw[row + n - 1]
            rw[row + j] = temp
    for j in range(n - 1):
        wj = rw[ow + j]
        if abs(wj) > 1.0:
            cos = 1.0 / wj
            sin = np.sqrt(1.0 - cos * cos)
        else:
            sin = wj
            cos = np.sqrt(1.0 - sin * sin)
        for i in range(m):
            row = oa + i * n
            temp = cos * rw[row + j] + sin * rw[row + n - 1]
            rw[row + n - 1] = -sin * rw[row + j] + cos * rw[row + n - 1]
            rw[row + j] = temp


@kernel
def _after_jacobian(iw, rw):
    # fjac holds the Jacobian: factorise, form qtf, r and Q; first trial.
    # Not inlined: _advance calls it from three places, and three inlined
    # copies of the factorisation cost 40 s of compilation (see
    # fastopt._kernels._jit); called once per Jacobian with borrowed
    # arrays, the call is free.
    n = iw[I_N]
    ox = NSCALAR
    of = ox + n
    od = ox + 2 * n
    oq = ox + 3 * n
    o1 = ox + 4 * n
    o2 = ox + 5 * n
    o3 = ox + 6 * n
    oj = ox + 9 * n
    orr = oj + n * n
    _qrfac_at(rw, oj, n, o1, o2, o3)
    if iw[I_ITER] == 1:
        if iw[I_MODE] != 2:
            for j in range(n):
                rw[od + j] = rw[o2 + j]
                if rw[o2 + j] == 0.0:
                    rw[od + j] = 1.0
        for j in range(n):
            rw[o3 + j] = rw[od + j] * rw[ox + j]
        xnorm = enorm_at(rw, o3, 1, n)
        rw[R_XNORM] = xnorm
        delta = rw[R_FACTOR] * xnorm
        if delta == 0.0:
            delta = rw[R_FACTOR]
        rw[R_DELTA] = delta
    # qtf = Q^T fvec
    for i in range(n):
        rw[oq + i] = rw[of + i]
    for j in range(n):
        fjj = rw[oj + j * n + j]
        if fjj != 0.0:
            s = 0.0
            for i in range(j, n):
                s = s + rw[oj + i * n + j] * rw[oq + i]
            temp = -s / fjj
            for i in range(j, n):
                rw[oq + i] = rw[oq + i] + rw[oj + i * n + j] * temp
    # R into the packed r
    for j in range(n):
        l = j
        for i in range(j):
            rw[orr + l] = rw[oj + i * n + j]
            l += n - i - 1
        rw[orr + l] = rw[o1 + j]
    _qform_at(rw, oj, n, o1)
    if iw[I_MODE] != 2:
        for j in range(n):
            rw[od + j] = max(rw[od + j], rw[o2 + j])
    return _trial(iw, rw)


@_inline
def _after_trial(iw, rw):
    # wa4 = f(x + p) (finite): MINPACK's inner-loop body after the call.
    n = iw[I_N]
    ox = NSCALAR
    of = ox + n
    od = ox + 2 * n
    oq = ox + 3 * n
    o1 = ox + 4 * n
    o2 = ox + 5 * n
    o3 = ox + 6 * n
    o4 = ox + 7 * n
    oj = ox + 9 * n
    orr = oj + n * n
    fnorm = rw[R_FNORM]
    pnorm = rw[R_PNORM]
    delta = rw[R_DELTA]
    fnorm1 = enorm_at(rw, o4, 1, n)
    actred = -1.0
    if fnorm1 < fnorm:
        actred = 1.0 - (fnorm1 / fnorm) ** 2
    # scaled predicted reduction: wa3 = R p + qtf
    l = 0
    for i in range(n):
        s = 0.0
        for j in range(i, n):
            s = s + rw[orr + l] * rw[o1 + j]
            l += 1
        rw[o3 + i] = rw[oq + i] + s
    temp = enorm_at(rw, o3, 1, n)
    prered = 0.0
    if temp < fnorm:
        prered = 1.0 - (temp / fnorm) ** 2
    ratio = 0.0
    if prered > 0.0:
        ratio = actred / prered
    # trust-region radius
    if ratio < 0.1:
        iw[I_NCSUC] = 0
        iw[I_NCFAIL] += 1
        delta = 0.5 * delta
    else:
        iw[I_NCFAIL] = 0
        iw[I_NCSUC] += 1
        if ratio >= 0.5 or iw[I_NCSUC] > 1:
            delta = max(delta, pnorm / 0.5)
        if abs(ratio - 1.0) <= 0.1:
            delta = pnorm / 0.5
    rw[R_DELTA] = delta
    if ratio >= 1e-4:
        # successful iteration
        for j in range(n):
            rw[ox + j] = rw[o2 + j]
            rw[o2 + j] = rw[od + j] * rw[ox + j]
            rw[of + j] = rw[o4 + j]
        rw[R_XNORM] = enorm_at(rw, o2, 1, n)
        fnorm = fnorm1
        rw[R_FNORM] = fnorm
        iw[I_ITER] += 1
    # progress monitors
    iw[I_NSLOW1] += 1
    if actred >= 0.001:
        iw[I_NSLOW1] = 0
    if iw[I_JEVAL]:
        iw[I_NSLOW2] += 1
    if actred >= 0.1:
        iw[I_NSLOW2] = 0
    xnorm = rw[R_XNORM]
    if delta <= rw[R_XTOL] * xnorm or fnorm == 0.0:
        return _finish(iw, 1)
    status = 0
    if iw[I_NFEV] >= iw[I_MAXFEV]:
        status = 2
    if 0.1 * max(0.1 * delta, pnorm) <= EPSMCH * xnorm:
        status = 3
    if iw[I_NSLOW2] == 5:
        status = 4
    if iw[I_NSLOW1] == 10:
        status = 5
    if status != 0:
        return _finish(iw, status)
    if iw[I_NCFAIL] == 2:
        return _begin_jacobian(iw, rw)
    # Broyden rank-one update of R, Q and qtf
    for j in range(n):
        s = 0.0
        for i in range(n):
            s = s + rw[oj + i * n + j] * rw[o4 + i]
        rw[o2 + j] = (s - rw[o3 + j]) / pnorm
        rw[o1 + j] = rw[od + j] * ((rw[od + j] * rw[o1 + j]) / pnorm)
        if ratio >= 1e-4:
            rw[oq + j] = s
    _r1updt_at(rw, orr, o1, o2, o3, n)
    _r1mpyq_at(rw, oj, n, n, o2, o3)
    _r1mpyq_at(rw, oq, 1, n, o2, o3)
    iw[I_JEVAL] = 0
    return _trial(iw, rw)


@kernel
def _advance(iw, rw):
    """:func:`hybr_advance` with the value already in place: f(xe) in
    ``wa4`` (EVALUATE_F), the msum values in the block area
    (EVALUATE_BLOCK), or the Jacobian (not transposed) in ``fjac``."""
    phase = iw[I_PHASE]
    if phase == P_DONE:
        return DONE
    iw = borrowed(iw)
    rw = borrowed(rw)
    n = iw[I_N]
    ox = NSCALAR
    of = ox + n
    o4 = ox + 7 * n
    oj = ox + 9 * n
    if phase == P_JAC:
        iw[I_NJEV] += 1
        if not _finite_at(rw, oj, n * n):
            return _finish(iw, STATUS_NONFINITE)
        return _after_jacobian(iw, rw)
    if phase == P_FD and iw[I_ACTION] == EVALUATE_BLOCK:
        msum = iw[I_MSUM]
        ob = rw.size - msum * n
        for k in range(msum):
            if not _finite_at(rw, ob + k * n, n):
                # all msum points were evaluated
                iw[I_NFEV] += msum
                return _finish(iw, STATUS_NONFINITE)
            _fd_consume(iw, rw, k, ob + k * n)
        iw[I_NFEV] += msum
        return _after_jacobian(iw, rw)
    if not _finite_at(rw, o4, n):
        if phase != P_FD:
            iw[I_NFEV] += 1
        else:
            iw[I_NFEV] += iw[I_K] + 1
        return _finish(iw, STATUS_NONFINITE)
    if phase == P_F0:
        for j in range(n):
            rw[of + j] = rw[o4 + j]
        iw[I_NFEV] = 1
        rw[R_FNORM] = enorm_at(rw, of, 1, n)
        rw[R_FNORM0] = rw[R_FNORM]
        iw[I_ITER] = 1
        iw[I_NCSUC] = 0
        iw[I_NCFAIL] = 0
        iw[I_NSLOW1] = 0
        iw[I_NSLOW2] = 0
        return _begin_jacobian(iw, rw)
    if phase == P_FD:
        k = iw[I_K]
        _fd_consume(iw, rw, k, o4)
        k += 1
        if k < iw[I_MSUM]:
            iw[I_K] = k
            _fd_point(iw, rw, k, ox + 8 * n)
            return EVALUATE_F
        iw[I_NFEV] += iw[I_MSUM]
        return _after_jacobian(iw, rw)
    # P_TRIAL
    iw[I_NFEV] += 1
    return _after_trial(iw, rw)


@kernel
def hybr_advance(iw, rw, fval, jval):
    """Consume the value just evaluated at ``xe`` and return the next
    action (EVALUATE_F, EVALUATE_JAC, EVALUATE_BLOCK or DONE; also stored
    in ``iw[I_ACTION]``).

    Parameters
    ----------
    iw, rw : the state from :func:`hybr_start`, updated in place
    fval : ndarray of float64, shape (n,)
        ``f(xe)`` after EVALUATE_F (ignored otherwise).
    jval : ndarray of float64, shape (n, n), C-contiguous
        The Jacobian at ``xe`` after EVALUATE_JAC (its transpose if
        ``col_deriv``; ignored otherwise).

    After EVALUATE_BLOCK the values are written into ``rw`` directly (see
    :func:`hybr_block`) and both ``fval`` and ``jval`` are ignored.
    """
    phase = iw[I_PHASE]
    if phase == P_DONE:
        return DONE
    n = iw[I_N]
    if phase == P_JAC:
        oj = NSCALAR + 9 * n
        if iw[I_COLDERIV]:
            for i in range(n):
                for j in range(n):
                    rw[oj + i * n + j] = jval[j, i]
        else:
            for i in range(n):
                for j in range(n):
                    rw[oj + i * n + j] = jval[i, j]
    elif iw[I_ACTION] != EVALUATE_BLOCK:
        o4 = NSCALAR + 7 * n
        for j in range(n):
            rw[o4 + j] = fval[j]
    return _advance(iw, rw)


def _hybr_advance_f(iw, rw, fval):
    # See hybr_advance_f.
    action = iw[I_ACTION]
    if action == EVALUATE_F:
        n = iw[I_N]
        if fval.size != n:
            return -1
        o4 = NSCALAR + 7 * n
        for j in range(n):
            rw[o4 + j] = fval[j]
    elif action != EVALUATE_BLOCK:
        return -1
    return _advance(iw, rw)


hybr_advance_f = njit(
    types.int64(types.int64[::1], types.float64[::1], types.float64[:]),
    **OPTIONS)(_hybr_advance_f)
_hybr_advance_f.__doc__ = hybr_advance_f.__doc__ = """:func:`hybr_advance` after EVALUATE_F or
EVALUATE_BLOCK, for Python drivers: compiled for one signature only (float64
vectors, ``fval`` of any stride), so that a Python driver can call its
compiled entry point directly (see
:func:`fastopt._kernels.entry.entry_point`); returns -1,
leaving the state untouched, if ``fval`` does not have n entries (after
EVALUATE_F) or the action was another one."""
hybr_advance_f.disable_compile()


def _hybr_step(state, fval):
    # See hybr_step.
    iw = borrowed_int64_vector(state, 0, IW_SIZE)
    rw = borrowed_vector(state, IW_SIZE, state.size - IW_SIZE)
    return hybr_advance_f(iw, rw, fval)


hybr_step = njit(types.int64(types.float64[::1], types.float64[:]),
                 **OPTIONS)(_hybr_step)
_hybr_step.__doc__ = hybr_step.__doc__ = """:func:`hybr_advance_f` on a
one-array state: ``state`` (float64) holds ``iw`` in its first IW_SIZE
entries (as int64 bit patterns: ``iw = state[:IW_SIZE].view(np.int64)``)
and ``rw`` after them (``rw = state[IW_SIZE:]``).  One array argument less
to convert per call, for Python drivers calling its compiled entry."""
hybr_step.disable_compile()


# --- entries for the Python driver, taking the state by its address -------
#
# The Python driver keeps the whole state in one float64 array (iw as int64
# bit patterns, then rw, without the block area) and passes it to these
# kernels as its address: an int converts in a few nanoseconds, an array
# costs a memory-owner allocation and release per call.  The driver also
# hands the user's function one point array, reused while nobody else holds
# it, whose address is ``iw[I_POINT]``: these kernels write the next point
# there, so that the driver needs no copy per evaluation.

@_inline
def _state_at(address):
    # iw and rw of the one-array state at ``address`` (see above).
    iw = vector_at(address, IW_SIZE, np.int64)
    n = max(iw[I_N], 0)
    nblock = iw[I_MSUM] if iw[I_BLOCK] else 0
    rw = vector_at(address + 8 * IW_SIZE, hybr_layout(n, nblock)[-1],
                   np.float64)
    return iw, rw


@_inline
def _put_point(iw, rw, action):
    # After an action asking for f: the point into the driver's array.
    if action == EVALUATE_F and iw[I_POINT] != 0:
        n = iw[I_N]
        oe = NSCALAR + 8 * n
        point = vector_at(iw[I_POINT], n, np.float64)
        for j in range(n):
            point[j] = rw[oe + j]
    return action


def _hybr_init_at(address, point, x0, xtol, maxfev, ml, mu, epsfcn, factor,
                  mode, diag, use_jac, col_deriv):
    # See hybr_init_at.
    iw = vector_at(address, IW_SIZE, np.int64)
    rw = vector_at(address + 8 * IW_SIZE, hybr_layout(max(x0.size, 0))[-1],
                   np.float64)
    _start_into(iw, rw, x0, xtol, maxfev, ml, mu, epsfcn, factor, mode,
                diag, use_jac, col_deriv, False)
    if point.size == iw[I_N]:
        iw[I_POINT] = point.ctypes.data
    return _put_point(iw, rw, iw[I_ACTION])


hybr_init_at = njit(
    types.int64(types.int64, types.float64[::1], types.float64[::1],
                types.float64, types.int64, types.int64, types.int64,
                types.float64, types.float64, types.int64,
                types.float64[::1], types.boolean, types.boolean),
    **OPTIONS)(_hybr_init_at)
_hybr_init_at.__doc__ = hybr_init_at.__doc__ = """:func:`hybr_init` into
the zeroed one-array state at ``address`` (float64, IW_SIZE +
``hybr_layout(n)[-1]`` entries: iw as int64 bit patterns, then rw; no
block mode), for the Python driver; ``point`` (float64, n) is the array
the driver hands the user's function: the kernels write each point to
evaluate into it (its address is kept in ``iw[I_POINT]``; the driver
replaces it there when it gives the function a new array).  Returns the
first action."""
hybr_init_at.disable_compile()


def _hybr_step_at(address, fval):
    # See hybr_step_at.
    iw, rw = _state_at(address)
    # fval borrowed (the caller holds it): passing the owned array to the
    # non-inlined hybr_advance_f would cost atomic reference counting
    return _put_point(iw, rw, hybr_advance_f(iw, rw, borrowed(fval)))


hybr_step_at = njit(types.int64(types.int64, types.float64[:]),
                    **OPTIONS)(_hybr_step_at)
_hybr_step_at.__doc__ = hybr_step_at.__doc__ = """:func:`hybr_advance_f` on
the state at ``address`` (see :func:`hybr_init_at`), writing the next
point into the driver's point array; -1 (nothing done) if ``fval`` does
not have n entries or the action was not EVALUATE_F."""
hybr_step_at.disable_compile()


def _hybr_jac_at(address, jval):
    # See hybr_jac_at.
    iw, rw = _state_at(address)
    n = iw[I_N]
    if (iw[I_ACTION] != EVALUATE_JAC or jval.shape[0] != n
            or jval.shape[1] != n):
        return -1
    return _put_point(iw, rw, hybr_advance(iw, rw, jval[0], jval))


hybr_jac_at = njit(types.int64(types.int64, types.float64[:, ::1]),
                   **OPTIONS)(_hybr_jac_at)
_hybr_jac_at.__doc__ = hybr_jac_at.__doc__ = """:func:`hybr_advance` after
EVALUATE_JAC on the state at ``address`` (see :func:`hybr_init_at`) with
the (n, n) Jacobian ``jval``; -1 (nothing done) if it has another shape or
the action was another one."""
hybr_jac_at.disable_compile()


@kernel
def hybr_packed_at(address, out):
    """The final state at ``address`` (see :func:`hybr_init_at`) as
    :func:`hybrd_at` gives it: ``out`` (float64, :func:`packed_size`
    entries, from the caller: boxing an array the kernel allocated costs
    more than allocating it in Python) filled, and ``(fnorm0, fnorm,
    status, nfev, njev, 0, 0)`` returned."""
    iw, rw = _state_at(address)
    info = np.zeros(5, np.int64)
    info[0] = iw[I_STATUS]
    info[1] = iw[I_NFEV]
    info[2] = iw[I_NJEV]
    return _packed_into(iw, rw, info, borrowed(out))


@kernel
def hybr_init(iw, rw, x0, xtol, maxfev, ml, mu, epsfcn, factor, mode, diag,
              use_jac, col_deriv, block):
    """:func:`hybr_start` into given arrays: ``iw`` (int64, IW_SIZE) and
    ``rw`` (float64, of the size :func:`hybr_layout` gives, with ``nblock
    = max(min(ml + mu + 1, n), 1)`` if ``block``), both zeroed; returns the
    first action."""
    _start_into(iw, rw, x0, xtol, maxfev, ml, mu, epsfcn, factor, mode,
                diag, use_jac, col_deriv, block)
    return iw[I_ACTION]


@kernel
def hybr_packed(iw, rw):
    """The final state as ``(out, fnorm0, fnorm, status, nfev, njev, 0,
    0)`` (``out`` as :func:`hybrd_at` fills it)."""
    info = np.zeros(5, np.int64)
    info[0] = iw[I_STATUS]
    info[1] = iw[I_NFEV]
    info[2] = iw[I_NJEV]
    return _packed_result(iw, rw, info)


@kernel
def hybr_block(iw, rw):
    """After EVALUATE_BLOCK: ``(points, values)``, two (msum, n) views of
    ``rw``; evaluate ``values[k] = f(points[k])`` for every k, then call
    :func:`hybr_advance` (whose ``fval`` and ``jval`` are then ignored)."""
    n = iw[I_N]
    msum = iw[I_MSUM]
    ob = rw.size - 2 * msum * n
    points = rw[ob:ob + msum * n].reshape((msum, n))
    values = rw[ob + msum * n:ob + 2 * msum * n].reshape((msum, n))
    return points, values


@kernel
def hybr_result(iw, rw):
    """Copies of (x, fvec, fjac, r, qtf) in SciPy's conventions: ``fjac``
    is Q transposed (``fjac[j, i] = Q[i, j]``, the C view of MINPACK's
    column-major Q), ``r`` R packed by rows, ``qtf`` = Q^T fvec."""
    x, fvec, dg, qtf, wa1, wa2, wa3, wa4, xe, fjac, r = _views(iw, rw)
    return (x.copy(), fvec.copy(), np.ascontiguousarray(fjac.T), r.copy(),
            qtf.copy())


# --- compiled drivers ----------------------------------------------------

def _jac_value(jac, x, args):
    pass


@overload(_jac_value)
def _ov_jac_value(jac, x, args):
    if isinstance(jac, types.NoneType):
        return lambda jac, x, args: np.empty((0, 0))
    return lambda jac, x, args: call_with(jac, x, args)


@_inline
def _take_f(iw, rw, f, info, first):
    # f(xe) from a compiled driver into wa4; False (and the state DONE
    # with status 7 or 8) if it has the wrong size.
    n = iw[I_N]
    if f.size != n:
        info[3] = f.size
        _finish(iw, STATUS_BAD_F_SIZE if first else STATUS_F_SIZE_CHANGED)
        iw[I_NFEV] += 1
        return False
    o4 = NSCALAR + 7 * n
    for i in range(n):
        rw[o4 + i] = f[i]
    return True


@_inline
def _take_jac(iw, rw, J, info):
    # The Jacobian from a compiled driver into fjac; False (and the state
    # DONE with status 9) if it is not n-by-n.
    n = iw[I_N]
    if J.ndim != 2 or J.shape[0] != n or J.shape[1] != n:
        info[3] = J.shape[0]
        info[4] = J.shape[1]
        iw[I_NJEV] += 1
        _finish(iw, STATUS_BAD_JAC_SHAPE)
        return False
    oj = NSCALAR + 9 * n
    if iw[I_COLDERIV]:
        for i in range(n):
            for j in range(n):
                rw[oj + i * n + j] = J[j, i]
    else:
        for i in range(n):
            for j in range(n):
                rw[oj + i * n + j] = J[i, j]
    return True


def _iterate(fun, jac, args, x0, xtol, maxfev, ml, mu, epsfcn, factor,
             mode, diag, use_jac, col_deriv):
    # The compiled iteration: the final state (iw, rw) and info (status,
    # nfev, njev, and for status 7-9 the offending shape).  Compiled twice
    # below: as a cached kernel for first-class functions (hybrd_at,
    # hybrj_at) and as a driver for users' dispatchers (hybr_solve); one
    # dispatcher serving both would make numba convert a dispatcher into
    # the first-class function type.
    iw, rw = hybr_start(x0, xtol, maxfev, ml, mu, epsfcn, factor, mode,
                        diag, use_jac, col_deriv)
    n = max(x0.size, 0)
    info = np.zeros(5, np.int64)
    # Borrowed aliases (iw, rw and info stay alive: they are returned):
    # passing them to the non-inlined _advance, and to the inlined helpers
    # around the user's call, costs no reference counting.
    biw = borrowed(iw)
    brw = borrowed(rw)
    binfo = borrowed(info)
    oe = NSCALAR + 8 * n
    # One point array reused across calls instead of a copy of xe per
    # call; a new one when something other than this loop still holds it
    # (the function kept its argument), as fill_point does.  Not rebound
    # on every pass: a rebinding costs an atomic reference-count pair
    # around the user's call that numba does not prune.
    xs = np.empty(n)
    action = iw[I_ACTION]
    first = True
    while action != DONE:
        if get_refcount(xs) != 1:
            xs = np.empty(n)
        for j in range(n):
            xs[j] = brw[oe + j]
        if action == EVALUATE_F:
            f = call_with(fun, xs, args)
            if not _take_f(biw, brw, f, binfo, first):
                break
            first = False
        elif not _take_jac(biw, brw, _jac_value(jac, xs, args), binfo):
            break
        action = _advance(biw, brw)
    info[0] = iw[I_STATUS]
    info[1] = iw[I_NFEV]
    info[2] = iw[I_NJEV]
    return iw, rw, info


_solve = kernel(_iterate)
_solve_generic = driver(_iterate)


@driver
def hybr_solve(fun, jac, args, x0, xtol, maxfev, ml, mu, epsfcn, factor,
               mode, diag, use_jac, col_deriv):
    """Run the hybrid method on a compiled ``fun(x, *args)`` (and
    ``jac(x, *args)`` if ``use_jac``; ``jac`` may be None otherwise).

    ``fun`` and ``jac`` are numba dispatchers or first-class functions;
    options as in :func:`hybr_start`.

    Returns
    -------
    x, fvec, fjac, r, qtf : as :func:`hybr_result`
    info : ndarray of int64, shape (5,)
        status, nfev, njev, and for status 7-9 the offending shape.
    fnorm0 : float
        ``||f(x0)||`` (0 if f(x0) was not evaluated or not finite).
    """
    iw, rw, info = _solve_generic(fun, jac, args, x0, xtol, maxfev, ml, mu,
                                  epsfcn, factor, mode, diag, use_jac,
                                  col_deriv)
    x, fvec, fjac, r, qtf = hybr_result(iw, rw)
    return x, fvec, fjac, r, qtf, info, rw[R_FNORM0]


@_inline
def packed_size(n):
    """Entries of the packed result (see :func:`hybrd_at`) for n
    variables."""
    n = max(n, 0)
    return 3 * n + n * n + (n * (n + 1)) // 2


@kernel
def _packed_result(iw, rw, info):
    # What the Python layer needs, cheap to box: one array (x, fvec, fjac
    # as Q^T row-major, r, qtf) and scalars (fnorm0, ||f(x)||, status,
    # nfev, njev, and the offending shape for status 7-9).
    out = np.empty(packed_size(iw[I_N]))
    return (out,) + _packed_into(iw, rw, info, out)


@kernel
def _packed_into(iw, rw, info, out):
    # _packed_result into the caller's ``out`` (packed_size(n) entries;
    # nothing written if it has another size), returning the scalars.
    n = max(iw[I_N], 0)
    nr = (n * (n + 1)) // 2
    if out.size != packed_size(n):
        n = 0
        nr = 0
    ox = NSCALAR
    of = ox + n
    oq = ox + 3 * n
    oj = ox + 9 * n
    orr = oj + n * n
    for j in range(n):
        out[j] = rw[ox + j]
        out[n + j] = rw[of + j]
    p = 2 * n
    for j in range(n):
        for i in range(n):
            out[p + j * n + i] = rw[oj + i * n + j]
    p += n * n
    for l in range(nr):
        out[p + l] = rw[orr + l]
    p += nr
    for j in range(n):
        out[p + j] = rw[oq + j]
    return (rw[R_FNORM0], rw[R_FNORM], info[0], info[1], info[2], info[3],
            info[4])


@kernel
def hybrd_at(c_addr, jit_addr, args, x0, xtol, maxfev, ml, mu, epsfcn,
             factor, mode, diag, out):
    """:func:`hybr_solve` without a Jacobian for the compiled function at
    the given addresses (see :mod:`fastopt._kernels.funcptr`): typed only
    on the type of ``args``, so compiled once and cached.

    Fills ``out`` (float64, ``packed_size(n)`` entries, from the caller:
    boxing an array allocated here would cost more) with x, fvec, fjac (as
    :func:`hybr_result`, row-major), r and qtf, and returns ``(fnorm0,
    fnorm, status, nfev, njev, shape0, shape1)``: ||f(x0)||, ||f(x)||
    and :func:`hybr_solve`'s ``info``."""
    fun = as_function(c_addr, jit_addr, x0, args)
    iw, rw, info = _solve(fun, None, args, x0, xtol, maxfev, ml, mu,
                          epsfcn, factor, mode, diag, False, False)
    return _packed_into(borrowed(iw), borrowed(rw), borrowed(info),
                        borrowed(out))


@kernel
def hybrj_at(fc_addr, fjit_addr, jc_addr, jjit_addr, args, x0, xtol,
             maxfev, factor, mode, diag, col_deriv, out):
    """:func:`hybr_solve` with the analytic Jacobian, both functions given
    by their addresses (the Jacobian returns a C float64 matrix, see
    fastopt._compiled_fun); fills ``out`` and returns as :func:`hybrd_at`."""
    fun = as_function(fc_addr, fjit_addr, x0, args)
    jac = as_function_returning(jc_addr, jjit_addr, np.empty((0, 0)),
                                x0, args)
    iw, rw, info = _solve(fun, jac, args, x0, xtol, maxfev, 0, 0, 0.0,
                          factor, mode, diag, True, col_deriv)
    return _packed_into(borrowed(iw), borrowed(rw), borrowed(info),
                        borrowed(out))
