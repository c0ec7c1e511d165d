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

Work-array layout
-----------------
``iw`` (int64, length IW_SIZE): slots ``I_*`` below (n, ml, mu, maxfev,
mode, use_jac, col_deriv, phase, nfev, njev, iter, ncsuc, ncfail, nslow1,
nslow2, jeval, status, the finite-difference group k, msum, action).

``rw`` (float64): ``NSCALAR`` scalars (slots ``R_*``: xtol, factor,
epsfcn, delta, fnorm, xnorm, pnorm, sqrt(max(epsfcn, epsmch)), and
||f(x0)||) followed by
the vectors x, fvec, diag, qtf, wa1, wa2, wa3, wa4, xe (n each; ``xe`` is
the point to evaluate), then fjac (n*n, row-major, ``fjac[i, j]`` =
J[i, j] before the QR, then Q[i, j]) and r (n(n+1)/2, R packed by rows).
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

from ._jit import kernel
from .funcptr import as_function, as_function_returning
from .minpack_qr import enorm, qrfac_into, qform, r1updt, r1mpyq

__all__ = ["hybr_start", "hybr_advance", "hybr_layout", "hybr_result",
           "hybr_solve", "hybrd_at", "hybrj_at",
           "EVALUATE_F", "EVALUATE_JAC", "DONE", "IW_SIZE", "NSCALAR"]

# actions
DONE = 0
EVALUATE_F = 1
EVALUATE_JAC = 2

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
IW_SIZE = 20

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


@kernel
def hybr_layout(n):
    """Offsets in ``rw``: (x, fvec, diag, qtf, wa1, wa2, wa3, wa4, xe,
    fjac, r, total length)."""
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
    total = r + (n * (n + 1)) // 2
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
    r = rw[orr:total]
    return x, fvec, diag, qtf, wa1, wa2, wa3, wa4, xe, fjac, r


@kernel
def _all_finite(v):
    for i in range(v.size):
        if not np.isfinite(v[i]):
            return False
    return True


@kernel
def _finish(iw, status):
    iw[I_STATUS] = status
    iw[I_PHASE] = P_DONE
    iw[I_ACTION] = DONE
    return DONE


@kernel
def hybr_start(x0, xtol, maxfev, ml, mu, epsfcn, factor, mode, diag,
               use_jac, col_deriv):
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

    Returns
    -------
    iw, rw : the state (see the module docstring); ``iw[I_ACTION]`` is the
        first action: EVALUATE_F at ``x0``, or DONE with status 0.
    """
    n = x0.size
    iw = np.zeros(IW_SIZE, np.int64)
    total = hybr_layout(max(n, 0))[-1]
    rw = np.zeros(total)
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
        return iw, rw
    x, fvec, dg, qtf, wa1, wa2, wa3, wa4, xe, fjac, r = _views(iw, rw)
    x[:] = x0
    xe[:] = x0
    bad = (xtol < 0.0 or maxfev <= 0 or factor <= 0.0
           or (not use_jac and (ml < 0 or mu < 0)))
    if mode == 2:
        if diag.size != n:
            bad = True
        else:
            for j in range(n):
                dg[j] = diag[j]
                if diag[j] <= 0.0:
                    bad = True
    if bad:
        _finish(iw, 0)
        return iw, rw
    iw[I_MSUM] = min(ml + mu + 1, n)
    iw[I_PHASE] = P_F0
    iw[I_ACTION] = EVALUATE_F
    return iw, rw


@kernel
def _fd_step(eps, xj):
    h = eps * abs(xj)
    if h == 0.0:
        h = eps
    return h


@kernel
def _fd_point(iw, rw, k):
    # Place the k-th finite-difference point (fdjac1) in xe.
    n = iw[I_N]
    msum = iw[I_ML] + iw[I_MU] + 1
    x, fvec, dg, qtf, wa1, wa2, wa3, wa4, xe, fjac, r = _views(iw, rw)
    eps = rw[R_EPS]
    xe[:] = x
    if msum >= n:
        xe[k] = x[k] + _fd_step(eps, x[k])
    else:
        for j in range(k, n, msum):
            xe[j] = x[j] + _fd_step(eps, x[j])


@kernel
def _fd_consume(iw, rw, k, fval):
    # Turn the value at the k-th point into Jacobian column(s).
    n = iw[I_N]
    ml = iw[I_ML]
    mu = iw[I_MU]
    msum = ml + mu + 1
    x, fvec, dg, qtf, wa1, wa2, wa3, wa4, xe, fjac, r = _views(iw, rw)
    eps = rw[R_EPS]
    if msum >= n:
        h = _fd_step(eps, x[k])
        for i in range(n):
            fjac[i, k] = (fval[i] - fvec[i]) / h
    else:
        for j in range(k, n, msum):
            h = _fd_step(eps, x[j])
            for i in range(n):
                if i >= j - mu and i <= j + ml:
                    fjac[i, j] = (fval[i] - fvec[i]) / h
                else:
                    fjac[i, j] = 0.0


@kernel
def _begin_jacobian(iw, rw):
    iw[I_JEVAL] = 1
    if iw[I_USEJAC]:
        x, fvec, dg, qtf, wa1, wa2, wa3, wa4, xe, fjac, r = _views(iw, rw)
        xe[:] = x
        iw[I_PHASE] = P_JAC
        iw[I_ACTION] = EVALUATE_JAC
        return EVALUATE_JAC
    iw[I_K] = 0
    _fd_point(iw, rw, 0)
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
    # Gauss-Newton direction by back substitution
    jj = (n * (n + 1)) // 2
    for k in range(1, n + 1):
        j = n - k           # 0-based row
        jj -= k             # 0-based position of R[j, j]
        l = jj + 1
        s = 0.0
        for i in range(j + 1, n):
            s = s + r[l] * x[i]
            l += 1
        temp = r[jj]
        if temp == 0.0:
            # singular: replace the pivot by a small multiple of the
            # column's largest entry
            l = j
            for i in range(j + 1):
                temp = max(temp, abs(r[l]))
                l += n - i - 1
            temp = EPSMCH * temp
            if temp == 0.0:
                temp = EPSMCH
        x[j] = (qtb[j] - s) / temp
    for j in range(n):
        wa1[j] = 0.0
        wa2[j] = diag[j] * x[j]
    qnorm = enorm(wa2)
    if qnorm <= delta:
        return
    # scaled gradient direction
    l = 0
    for j in range(n):
        temp = qtb[j]
        for i in range(j, n):
            wa1[i] = wa1[i] + r[l] * temp
            l += 1
        wa1[j] = wa1[j] / diag[j]
    gnorm = enorm(wa1)
    sgnorm = 0.0
    alpha = delta / qnorm
    if gnorm != 0.0:
        # point along the scaled gradient minimising the quadratic
        for j in range(n):
            wa1[j] = (wa1[j] / gnorm) / diag[j]
        l = 0
        for j in range(n):
            s = 0.0
            for i in range(j, n):
                s = s + r[l] * wa1[i]
                l += 1
            wa2[j] = s
        temp = enorm(wa2)
        sgnorm = (gnorm / temp) / temp
        alpha = 0.0
        if sgnorm < delta:
            # the dogleg point on the boundary
            bnorm = enorm(qtb)
            temp = (bnorm / gnorm) * (bnorm / qnorm) * (sgnorm / delta)
            temp = (temp - (delta / qnorm) * (sgnorm / delta) ** 2
                    + np.sqrt((temp - (delta / qnorm)) ** 2
                              + (1.0 - (delta / qnorm) ** 2)
                              * (1.0 - (sgnorm / delta) ** 2)))
            alpha = ((delta / qnorm) * (1.0 - (sgnorm / delta) ** 2)) / temp
    temp = (1.0 - alpha) * min(sgnorm, delta)
    for j in range(n):
        x[j] = temp * wa1[j] + alpha * x[j]


@kernel
def _trial(iw, rw):
    # Dogleg step from the current factorisation; ask for f(x + p).
    x, fvec, dg, qtf, wa1, wa2, wa3, wa4, xe, fjac, r = _views(iw, rw)
    n = iw[I_N]
    dogleg(r, dg, qtf, rw[R_DELTA], wa1, wa2, wa3)
    for j in range(n):
        wa1[j] = -wa1[j]
        wa2[j] = x[j] + wa1[j]
        wa3[j] = dg[j] * wa1[j]
    pnorm = enorm(wa3)
    rw[R_PNORM] = pnorm
    if iw[I_ITER] == 1:
        rw[R_DELTA] = min(rw[R_DELTA], pnorm)
    xe[:] = wa2
    iw[I_PHASE] = P_TRIAL
    iw[I_ACTION] = EVALUATE_F
    return EVALUATE_F


@kernel
def _after_jacobian(iw, rw):
    # fjac holds the Jacobian: factorise, form qtf, r and Q; first trial.
    x, fvec, dg, qtf, wa1, wa2, wa3, wa4, xe, fjac, r = _views(iw, rw)
    n = iw[I_N]
    ipvt = np.empty(n, np.int64)
    qrfac_into(fjac, False, ipvt, wa1, wa2, wa3)
    if iw[I_ITER] == 1:
        if iw[I_MODE] != 2:
            for j in range(n):
                dg[j] = wa2[j]
                if wa2[j] == 0.0:
                    dg[j] = 1.0
        for j in range(n):
            wa3[j] = dg[j] * x[j]
        xnorm = enorm(wa3)
        rw[R_XNORM] = xnorm
        delta = rw[R_FACTOR] * xnorm
        if delta == 0.0:
            delta = rw[R_FACTOR]
        rw[R_DELTA] = delta
    # qtf = Q^T fvec
    for i in range(n):
        qtf[i] = fvec[i]
    for j in range(n):
        if fjac[j, j] != 0.0:
            s = 0.0
            for i in range(j, n):
                s = s + fjac[i, j] * qtf[i]
            temp = -s / fjac[j, j]
            for i in range(j, n):
                qtf[i] = qtf[i] + fjac[i, j] * temp
    # R into the packed r
    for j in range(n):
        l = j
        for i in range(j):
            r[l] = fjac[i, j]
            l += n - i - 1
        r[l] = wa1[j]
    qform(fjac, n)
    if iw[I_MODE] != 2:
        for j in range(n):
            dg[j] = max(dg[j], wa2[j])
    return _trial(iw, rw)


@kernel
def _after_trial(iw, rw):
    # wa4 = f(x + p) (finite): MINPACK's inner-loop body after the call.
    x, fvec, dg, qtf, wa1, wa2, wa3, wa4, xe, fjac, r = _views(iw, rw)
    n = iw[I_N]
    fnorm = rw[R_FNORM]
    pnorm = rw[R_PNORM]
    delta = rw[R_DELTA]
    fnorm1 = enorm(wa4)
    actred = -1.0
    if fnorm1 < fnorm:
        actred = 1.0 - (fnorm1 / fnorm) ** 2
    # scaled predicted reduction: wa3 = R p + qtf
    l = 0
    for i in range(n):
        s = 0.0
        for j in range(i, n):
            s = s + r[l] * wa1[j]
            l += 1
        wa3[i] = qtf[i] + s
    temp = enorm(wa3)
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
            x[j] = wa2[j]
            wa2[j] = dg[j] * x[j]
            fvec[j] = wa4[j]
        rw[R_XNORM] = enorm(wa2)
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
            s = s + fjac[i, j] * wa4[i]
        wa2[j] = (s - wa3[j]) / pnorm
        wa1[j] = dg[j] * ((dg[j] * wa1[j]) / pnorm)
        if ratio >= 1e-4:
            qtf[j] = s
    r1updt(r, wa1, wa2, wa3, n, n)
    r1mpyq(fjac, wa2, wa3)
    r1mpyq(qtf.reshape((1, n)), wa2, wa3)
    iw[I_JEVAL] = 0
    return _trial(iw, rw)


@kernel
def hybr_advance(iw, rw, fval, jval):
    """Consume the value just evaluated at ``xe`` and return the next
    action (EVALUATE_F, EVALUATE_JAC or DONE; also stored in
    ``iw[I_ACTION]``).

    Parameters
    ----------
    iw, rw : the state from :func:`hybr_start`, updated in place
    fval : ndarray of float64, shape (n,)
        ``f(xe)`` after EVALUATE_F (ignored otherwise).
    jval : ndarray of float64, shape (n, n), C-contiguous
        The Jacobian at ``xe`` after EVALUATE_JAC (its transpose if
        ``col_deriv``; ignored otherwise).
    """
    phase = iw[I_PHASE]
    if phase == P_DONE:
        return DONE
    n = iw[I_N]
    x, fvec, dg, qtf, wa1, wa2, wa3, wa4, xe, fjac, r = _views(iw, rw)
    if phase == P_JAC:
        iw[I_NJEV] += 1
        if iw[I_COLDERIV]:
            for i in range(n):
                for j in range(n):
                    fjac[i, j] = jval[j, i]
        else:
            for i in range(n):
                for j in range(n):
                    fjac[i, j] = jval[i, j]
        if not _all_finite(fjac.ravel()):
            return _finish(iw, STATUS_NONFINITE)
        return _after_jacobian(iw, rw)
    if not _all_finite(fval):
        if phase != P_FD:
            iw[I_NFEV] += 1
        else:
            iw[I_NFEV] += iw[I_K] + 1
        return _finish(iw, STATUS_NONFINITE)
    if phase == P_F0:
        fvec[:] = fval
        iw[I_NFEV] = 1
        rw[R_FNORM] = enorm(fvec)
        rw[R_FNORM0] = rw[R_FNORM]
        iw[I_ITER] = 1
        iw[I_NCSUC] = 0
        iw[I_NCFAIL] = 0
        iw[I_NSLOW1] = 0
        iw[I_NSLOW2] = 0
        return _begin_jacobian(iw, rw)
    if phase == P_FD:
        k = iw[I_K]
        _fd_consume(iw, rw, k, fval)
        k += 1
        if k < iw[I_MSUM]:
            iw[I_K] = k
            _fd_point(iw, rw, k)
            return EVALUATE_F
        iw[I_NFEV] += iw[I_MSUM]
        return _after_jacobian(iw, rw)
    # P_TRIAL
    wa4[:] = fval
    iw[I_NFEV] += 1
    return _after_trial(iw, rw)


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
    return lambda jac, x, args: jac(x, *args)


@kernel
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
    iw, rw = hybr_start(x0, xtol, maxfev, ml, mu, epsfcn, factor, mode,
                        diag, use_jac, col_deriv)
    n = x0.size
    info = np.zeros(5, np.int64)
    oe = hybr_layout(max(n, 0))[8]
    xe = rw[oe:oe + max(n, 0)]
    fbuf = np.empty(max(n, 0))
    nojac = np.empty((0, 0))
    nof = np.empty(0)
    action = iw[I_ACTION]
    first = True
    while action != DONE:
        if action == EVALUATE_F:
            f = fun(xe.copy(), *args)
            if f.size != n:
                info[3] = f.size
                _finish(iw, STATUS_BAD_F_SIZE if first
                        else STATUS_F_SIZE_CHANGED)
                iw[I_NFEV] += 1
                break
            first = False
            for i in range(n):
                fbuf[i] = f[i]
            action = hybr_advance(iw, rw, fbuf, nojac)
        else:
            J = _jac_value(jac, xe.copy(), args)
            if J.ndim != 2 or J.shape[0] != n or J.shape[1] != n:
                info[3] = J.shape[0]
                info[4] = J.shape[1]
                iw[I_NJEV] += 1
                _finish(iw, STATUS_BAD_JAC_SHAPE)
                break
            Jc = np.empty((n, n))
            for i in range(n):
                for j in range(n):
                    Jc[i, j] = J[i, j]
            action = hybr_advance(iw, rw, nof, Jc)
    info[0] = iw[I_STATUS]
    info[1] = iw[I_NFEV]
    info[2] = iw[I_NJEV]
    x, fvec, fjac, r, qtf = hybr_result(iw, rw)
    return x, fvec, fjac, r, qtf, info, rw[R_FNORM0]


@kernel
def hybrd_at(c_addr, jit_addr, args, x0, xtol, maxfev, ml, mu, epsfcn,
             factor, mode, diag):
    """:func:`hybr_solve` without a Jacobian for the compiled function at
    the given addresses (see :mod:`fastopt._kernels.funcptr`): typed only
    on the type of ``args``, so compiled once and cached."""
    fun = as_function(c_addr, jit_addr, x0.copy(), args)
    return hybr_solve(fun, None, (args,), x0, xtol, maxfev, ml, mu, epsfcn,
                      factor, mode, diag, False, False)


@kernel
def hybrj_at(fc_addr, fjit_addr, jc_addr, jjit_addr, args, x0, xtol,
             maxfev, factor, mode, diag, col_deriv):
    """:func:`hybr_solve` with the analytic Jacobian, both functions given
    by their addresses (the Jacobian's adapter returns a C float64
    matrix)."""
    fun = as_function(fc_addr, fjit_addr, x0.copy(), args)
    jac = as_function_returning(jc_addr, jjit_addr, np.empty((0, 0)),
                                x0.copy(), args)
    return hybr_solve(fun, jac, (args,), x0, xtol, maxfev, 0, 0, 0.0,
                      factor, mode, diag, True, col_deriv)
