"""Levenberg-Marquardt least squares (MINPACK lmdif / lmder) as kernels.

Written from the descriptions in the MINPACK user guide (More, Garbow and
Hillstrom, 1980) and More (1978), "The Levenberg-Marquardt algorithm:
implementation and theory".  This is the algorithm behind
``scipy.optimize.leastsq`` and ``scipy.optimize.root(method='lm')``.

Storage convention
------------------
MINPACK keeps the m-by-n Jacobian ``fjac`` in column-major order.  Here it
is kept as its transpose ``fjt`` of shape (n, m), C-contiguous, so that
``fjt[j, :]`` is column ``j`` of the Jacobian (contiguous in memory, as in
Fortran) and ``fjt`` is exactly SciPy's ``infodict['fjac']``.  The n-by-n
upper triangular matrix ``R`` is read as ``R[i, j] = fjt[j, i]`` (i <= j);
:func:`qrsolv` and :func:`lmpar` take ``R`` in that transposed form
(argument ``rt``, shape (n, >= n)).  They overwrite MINPACK's strict lower
triangle ``r[i, j]`` (i > j), which here is ``rt[j, i]``, with the
transposed strict upper triangle of their triangular ``S``, as MINPACK
does.  The QR factorisation itself is the shared
:func:`fastopt._kernels.minpack_qr.qrfac_into`, applied to ``fjt.T`` (the
m-by-n matrix, an F-ordered view: no copy).

Reverse communication
---------------------
``state = lm_start(x0, m, ...)`` builds the state, then::

    values = np.empty(0)
    while True:
        action = lm_advance(state, values)
        if action == EVALUATE_F:     # values = f(xe), shape (m,)
            values = f(state[XE])
        elif action == EVALUATE_JAC: # values = J(xe).ravel()
            values = jac(state[XE]).ravel()   # (m, n), or (n, m) if col_deriv
        else:                        # DONE
            break

``state`` is a tuple of arrays (indices below): ``RW`` float64 scalars,
``IW`` int64 scalars, ``X`` current iterate, ``FVEC`` f(X), ``FJT``
Jacobian / QR factors (n, m), ``DIAG`` scaling, ``QTF`` first n entries of
Q^T fvec, ``IPVT`` int64 0-based column permutation, ``WA1``..``WA3``
(n,) and ``WA4`` (m,) work vectors, ``XE`` the point to evaluate,
``ACNORM`` the column norms of the last Jacobian.

Status (``state[IW][I_INFO]``, MINPACK's ``info``, plus 9 and 10):

0 improper input; 1 ftol satisfied (actual and predicted relative
reductions of the sum of squares at most ftol); 2 xtol satisfied (relative
error between two consecutive iterates at most xtol); 3 both 1 and 2;
4 gtol satisfied (cosine of the angle between fvec and any column of the
Jacobian at most gtol in absolute value); 5 maxfev reached; 6 ftol too
small; 7 xtol too small; 8 gtol too small; 9 non-finite function value at
the starting point or in a Jacobian (analytic, or a finite-difference
column) -- MINPACK would carry on with NaNs and could report success;
10 a function or Jacobian value of the wrong size (a driver turns it into
an exception).  A non-finite value at a *trial* point is handled as
MINPACK does: its norm compares as not smaller than the current one, so
the step is rejected and the trust region shrinks; accepted iterates hence
always have finite residuals.
"""
import math

import numpy as np

from ._jit import kernel
from .funcptr import as_function, as_function_returning
from .minpack_qr import enorm, qrfac_into

__all__ = ["EVALUATE_F", "EVALUATE_JAC", "DONE", "qrsolv",
           "lmpar", "lm_start", "lm_advance", "lm_solve", "lm_solve_at",
           "lm_covariance", "INFO_NONFINITE", "INFO_SIZE"]

# Actions returned by lm_advance.
DONE = 0
EVALUATE_F = 1
EVALUATE_JAC = 2

INFO_NONFINITE = 9
INFO_SIZE = 10

# Indices into the state tuple.
RW, IW, X, FVEC, FJT, DIAG, QTF, IPVT, WA1, WA2, WA3, WA4, XE, ACNORM = range(14)

# Float slots of state[RW].
R_FTOL, R_XTOL, R_GTOL, R_EPSFCN, R_FACTOR, R_FNORM, R_FNORM1, R_PAR, \
    R_DELTA, R_XNORM, R_PNORM, R_GNORM, R_RATIO, R_ACTRED, R_PRERED, \
    R_H, R_XJ, R_FNORM0 = range(18)
N_RW = 18

# Integer slots of state[IW].
I_M, I_N, I_MODE, I_MAXFEV, I_NFEV, I_NJEV, I_ITER, I_INFO, I_PHASE, \
    I_JCOL, I_USEJAC, I_COLDERIV = range(12)
N_IW = 12

# Phases: what the next lm_advance call receives.
PH_START = 0      # nothing; validate and ask for f(x0)
PH_F0 = 1         # f(x0)
PH_FD = 2         # f at x + h e_jcol (forward-difference column)
PH_JAC = 3        # analytic Jacobian at x
PH_TRIAL = 4      # f at the trial point
PH_DONE = 5

EPSMCH = np.finfo(np.float64).eps
DWARF = np.finfo(np.float64).tiny

@kernel
def qrsolv(rt, ipvt, diag, qtb, x, sdiag, wa):
    """Solve ``min || [A; D] x - [b; 0] ||`` given ``A P = Q R``.

    MINPACK qrsolv.  ``rt`` (n, >= n): the transposed R (``R[i, j] =
    rt[j, i]``, upper triangle read); on return the upper triangle of R is
    unchanged, its diagonal restored, and the strict lower triangle
    (``rt[j, i]``, i > j) holds the transposed strict upper triangle of the
    triangular S with ``P^T (A^T A + D D) P = S^T S``.  ``ipvt`` 0-based,
    ``diag`` the diagonal of D, ``qtb`` the first n entries of Q^T b.
    Outputs ``x`` (n,) and ``sdiag`` (n,) the diagonal of S; ``wa`` (n,)
    work.
    """
    n = diag.size
    # Copy R and Q^T b; save the diagonal of R in x.
    for j in range(n):
        for i in range(j, n):
            rt[j, i] = rt[i, j]
        x[j] = rt[j, j]
        wa[j] = qtb[j]
    # Eliminate D with Givens rotations.
    for j in range(n):
        l = ipvt[j]
        if diag[l] != 0.0:
            for k in range(j, n):
                sdiag[k] = 0.0
            sdiag[j] = diag[l]
            qtbpj = 0.0
            for k in range(j, n):
                if sdiag[k] == 0.0:
                    continue
                rkk = rt[k, k]
                if abs(rkk) < abs(sdiag[k]):
                    cotan = rkk / sdiag[k]
                    sin = 0.5 / math.sqrt(0.25 + 0.25 * cotan * cotan)
                    cos = sin * cotan
                else:
                    tan = sdiag[k] / rkk
                    cos = 0.5 / math.sqrt(0.25 + 0.25 * tan * tan)
                    sin = cos * tan
                rt[k, k] = cos * rkk + sin * sdiag[k]
                temp = cos * wa[k] + sin * qtbpj
                qtbpj = -sin * wa[k] + cos * qtbpj
                wa[k] = temp
                for i in range(k + 1, n):
                    temp = cos * rt[k, i] + sin * sdiag[i]
                    sdiag[i] = -sin * rt[k, i] + cos * sdiag[i]
                    rt[k, i] = temp
        sdiag[j] = rt[j, j]
        rt[j, j] = x[j]
    # Solve S z = Q^T b (least squares if singular).
    nsing = n
    for j in range(n):
        if sdiag[j] == 0.0 and nsing == n:
            nsing = j
        if nsing < n:
            wa[j] = 0.0
    for k in range(nsing):
        j = nsing - 1 - k
        s = 0.0
        for i in range(j + 1, nsing):
            s += rt[j, i] * wa[i]
        wa[j] = (wa[j] - s) / sdiag[j]
    for j in range(n):
        x[ipvt[j]] = wa[j]


@kernel
def lmpar(rt, ipvt, diag, qtb, delta, par, x, sdiag, wa1, wa2):
    """The Levenberg-Marquardt parameter (MINPACK lmpar).

    Finds ``par >= 0`` such that ``x`` solving ``min ||[A; sqrt(par) D] x
    - [b; 0]||`` has ``| ||D x|| - delta | <= 0.1 delta``, or ``par = 0``
    when the Gauss-Newton step has ``||D x|| <= 1.1 delta`` (More's
    safeguarded Newton iteration, at most 10 solves).  Arguments as
    :func:`qrsolv` (``rt`` modified the same way); ``par`` is the initial
    estimate.  Writes ``x`` and ``sdiag``; ``wa1``, ``wa2`` (n,) work.

    Returns
    -------
    par : float
    """
    n = diag.size
    # Gauss-Newton direction (least squares if R singular).
    nsing = n
    for j in range(n):
        wa1[j] = qtb[j]
        if rt[j, j] == 0.0 and nsing == n:
            nsing = j
        if nsing < n:
            wa1[j] = 0.0
    for k in range(nsing):
        j = nsing - 1 - k
        wa1[j] /= rt[j, j]
        temp = wa1[j]
        for i in range(j):
            wa1[i] -= rt[j, i] * temp
    for j in range(n):
        x[ipvt[j]] = wa1[j]
    it = 0
    for j in range(n):
        wa2[j] = diag[j] * x[j]
    dxnorm = enorm(wa2)
    fp = dxnorm - delta
    if fp <= 0.1 * delta:
        return 0.0
    # Lower bound parl from the Newton step (zero if rank deficient).
    parl = 0.0
    if nsing >= n:
        for j in range(n):
            l = ipvt[j]
            wa1[j] = diag[l] * (wa2[l] / dxnorm)
        for j in range(n):
            s = 0.0
            for i in range(j):
                s += rt[j, i] * wa1[i]
            wa1[j] = (wa1[j] - s) / rt[j, j]
        temp = enorm(wa1)
        parl = ((fp / delta) / temp) / temp
    # Upper bound paru.
    for j in range(n):
        s = 0.0
        for i in range(j + 1):
            s += rt[j, i] * qtb[i]
        wa1[j] = s / diag[ipvt[j]]
    gnorm = enorm(wa1)
    paru = gnorm / delta
    if paru == 0.0:
        paru = DWARF / min(delta, 0.1)
    par = max(par, parl)
    par = min(par, paru)
    if par == 0.0:
        par = gnorm / dxnorm
    while True:
        it += 1
        if par == 0.0:
            par = max(DWARF, 0.001 * paru)
        temp = math.sqrt(par)
        for j in range(n):
            wa1[j] = temp * diag[j]
        qrsolv(rt, ipvt, wa1, qtb, x, sdiag, wa2)
        for j in range(n):
            wa2[j] = diag[j] * x[j]
        dxnorm = enorm(wa2)
        temp = fp
        fp = dxnorm - delta
        if (abs(fp) <= 0.1 * delta or (parl == 0.0 and fp <= temp
                                       and temp < 0.0) or it == 10):
            break
        # Newton correction.
        for j in range(n):
            l = ipvt[j]
            wa1[j] = diag[l] * (wa2[l] / dxnorm)
        for j in range(n):
            wa1[j] /= sdiag[j]
            temp = wa1[j]
            for i in range(j + 1, n):
                wa1[i] -= rt[j, i] * temp
        temp = enorm(wa1)
        parc = ((fp / delta) / temp) / temp
        if fp > 0.0:
            parl = max(parl, par)
        if fp < 0.0:
            paru = min(paru, par)
        par = max(parl, par + parc)
    return par


@kernel
def lm_start(x0, m, use_jac, col_deriv, ftol, xtol, gtol, maxfev, epsfcn,
             factor, diag):
    """State for a Levenberg-Marquardt run from ``x0`` with ``m`` residuals.

    ``maxfev == 0`` means 200 (n + 1) without Jacobian, 100 (n + 1) with;
    an empty ``diag`` means internal scaling (MINPACK mode 1), otherwise
    ``diag`` (n,) is used as given (mode 2).  Input is validated by the
    first :func:`lm_advance` call (status 0 for improper input).
    """
    n = x0.size
    mm = max(m, 0)
    rw = np.zeros(N_RW)
    iw = np.zeros(N_IW, dtype=np.int64)
    rw[R_FTOL] = ftol
    rw[R_XTOL] = xtol
    rw[R_GTOL] = gtol
    rw[R_EPSFCN] = epsfcn
    rw[R_FACTOR] = factor
    iw[I_M] = m
    iw[I_N] = n
    if maxfev == 0:
        maxfev = (100 if use_jac else 200) * (n + 1)
    iw[I_MAXFEV] = maxfev
    iw[I_USEJAC] = 1 if use_jac else 0
    iw[I_COLDERIV] = 1 if col_deriv else 0
    d = np.ones(n)
    if diag.size > 0:
        iw[I_MODE] = 2
        for j in range(min(n, diag.size)):
            d[j] = diag[j]
        if diag.size != n:
            iw[I_MODE] = -1  # improper
    else:
        iw[I_MODE] = 1
    iw[I_PHASE] = PH_START
    x = np.ascontiguousarray(x0).astype(np.float64)
    return (rw, iw, x, np.zeros(mm), np.zeros((n, mm)), d, np.zeros(n),
            np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n),
            np.zeros(n), np.zeros(mm), x.copy(), np.zeros(n))


@kernel
def _all_finite(v):
    for i in range(v.size):
        if not np.isfinite(v[i]):
            return False
    return True


@kernel
def _finish(state, info):
    state[IW][I_INFO] = info
    state[IW][I_PHASE] = PH_DONE
    return DONE


@kernel
def _request_jacobian(state):
    # Start a Jacobian evaluation at x: analytic, or the first
    # forward-difference column.
    rw, iw, x, xe = state[RW], state[IW], state[X], state[XE]
    xe[:] = x
    if iw[I_USEJAC]:
        iw[I_PHASE] = PH_JAC
        return EVALUATE_JAC
    iw[I_JCOL] = 0
    _perturb(state, 0)
    iw[I_PHASE] = PH_FD
    return EVALUATE_F


@kernel
def _perturb(state, j):
    rw, x, xe = state[RW], state[X], state[XE]
    eps = math.sqrt(max(rw[R_EPSFCN], EPSMCH))
    temp = x[j]
    h = eps * abs(temp)
    if h == 0.0:
        h = eps
    rw[R_H] = h
    xe[j] = temp + h


@kernel
def _after_jacobian(state):
    # QR of the Jacobian, scaling, Q^T f, gradient test; then the first
    # trial step.
    rw, iw = state[RW], state[IW]
    x, fvec, fjt, diag, qtf, ipvt = (state[X], state[FVEC], state[FJT],
                                     state[DIAG], state[QTF], state[IPVT])
    wa1, wa2, wa3, wa4, acnorm = (state[WA1], state[WA2], state[WA3],
                                  state[WA4], state[ACNORM])
    n = iw[I_N]
    m = iw[I_M]
    # The shared qrfac works on the m-by-n matrix; fjt.T is that matrix
    # (an F-ordered view), so no copy is made.
    qrfac_into(fjt.T, True, ipvt, wa1, acnorm, wa3)
    if iw[I_ITER] == 1:
        if iw[I_MODE] != 2:
            for j in range(n):
                diag[j] = acnorm[j]
                if acnorm[j] == 0.0:
                    diag[j] = 1.0
        for j in range(n):
            wa3[j] = diag[j] * x[j]
        rw[R_XNORM] = enorm(wa3)
        rw[R_DELTA] = rw[R_FACTOR] * rw[R_XNORM]
        if rw[R_DELTA] == 0.0:
            rw[R_DELTA] = rw[R_FACTOR]
    # Q^T fvec, first n entries in qtf; R's diagonal into fjt.
    for i in range(m):
        wa4[i] = fvec[i]
    for j in range(n):
        if fjt[j, j] != 0.0:
            s = 0.0
            for i in range(j, m):
                s += fjt[j, i] * wa4[i]
            temp = -s / fjt[j, j]
            for i in range(j, m):
                wa4[i] += fjt[j, i] * temp
        fjt[j, j] = wa1[j]
        qtf[j] = wa4[j]
    # Norm of the scaled gradient.
    fnorm = rw[R_FNORM]
    gnorm = 0.0
    if fnorm != 0.0:
        for j in range(n):
            l = ipvt[j]
            if acnorm[l] != 0.0:
                s = 0.0
                for i in range(j + 1):
                    s += fjt[j, i] * (qtf[i] / fnorm)
                gnorm = max(gnorm, abs(s / acnorm[l]))
    rw[R_GNORM] = gnorm
    if gnorm <= rw[R_GTOL]:
        return _finish(state, 4)
    if iw[I_MODE] != 2:
        for j in range(n):
            diag[j] = max(diag[j], acnorm[j])
    return _trial_step(state)


@kernel
def _trial_step(state):
    # lmpar, then ask for f at x + p.
    rw, iw = state[RW], state[IW]
    x, fjt, diag, qtf, ipvt = (state[X], state[FJT], state[DIAG],
                               state[QTF], state[IPVT])
    wa1, wa2, wa3, xe = state[WA1], state[WA2], state[WA3], state[XE]
    n = iw[I_N]
    # wa2, wa3 and wa4[:n] are scratch here (sdiag and work).
    rw[R_PAR] = lmpar(fjt, ipvt, diag, qtf, rw[R_DELTA], rw[R_PAR], wa1,
                      wa2, wa3, state[WA4][:n])
    for j in range(n):
        wa1[j] = -wa1[j]
        xe[j] = x[j] + wa1[j]
        wa3[j] = diag[j] * wa1[j]
    rw[R_PNORM] = enorm(wa3)
    if iw[I_ITER] == 1:
        rw[R_DELTA] = min(rw[R_DELTA], rw[R_PNORM])
    iw[I_PHASE] = PH_TRIAL
    return EVALUATE_F


@kernel
def _after_trial(state, fnew):
    rw, iw = state[RW], state[IW]
    x, fvec, fjt, diag, ipvt = (state[X], state[FVEC], state[FJT],
                                state[DIAG], state[IPVT])
    wa1, wa2, wa3, wa4, xe = (state[WA1], state[WA2], state[WA3],
                              state[WA4], state[XE])
    n = iw[I_N]
    m = iw[I_M]
    iw[I_NFEV] += 1
    for i in range(m):
        wa4[i] = fnew[i]
    fnorm = rw[R_FNORM]
    fnorm1 = enorm(wa4)
    pnorm = rw[R_PNORM]
    par = rw[R_PAR]
    delta = rw[R_DELTA]
    actred = -1.0
    if 0.1 * fnorm1 < fnorm:
        actred = 1.0 - (fnorm1 / fnorm) ** 2
    # Predicted reduction and directional derivative.
    for j in range(n):
        wa3[j] = 0.0
        l = ipvt[j]
        temp = wa1[l]
        for i in range(j + 1):
            wa3[i] += fjt[j, i] * temp
    temp1 = enorm(wa3[:n]) / fnorm
    temp2 = (math.sqrt(par) * pnorm) / fnorm
    prered = temp1 * temp1 + temp2 * temp2 / 0.5
    dirder = -(temp1 * temp1 + temp2 * temp2)
    ratio = 0.0
    if prered != 0.0:
        ratio = actred / prered
    # Update the step bound.
    if ratio <= 0.25:
        if actred >= 0.0:
            temp = 0.5
        else:
            temp = 0.5 * dirder / (dirder + 0.5 * actred)
        if 0.1 * fnorm1 >= fnorm or temp < 0.1:
            temp = 0.1
        delta = temp * min(delta, pnorm / 0.1)
        par = par / temp
    elif par == 0.0 or ratio >= 0.75:
        delta = pnorm / 0.5
        par = 0.5 * par
    rw[R_DELTA] = delta
    rw[R_PAR] = par
    rw[R_RATIO] = ratio
    rw[R_ACTRED] = actred
    rw[R_PRERED] = prered
    rw[R_FNORM1] = fnorm1
    if ratio >= 1e-4:
        # Successful iteration.
        for j in range(n):
            x[j] = xe[j]
            wa2[j] = diag[j] * x[j]
        for i in range(m):
            fvec[i] = wa4[i]
        rw[R_XNORM] = enorm(wa2)
        rw[R_FNORM] = fnorm1
        iw[I_ITER] += 1
    xnorm = rw[R_XNORM]
    ftol = rw[R_FTOL]
    info = 0
    if abs(actred) <= ftol and prered <= ftol and 0.5 * ratio <= 1.0:
        info = 1
    if delta <= rw[R_XTOL] * xnorm:
        info = 2
    if (abs(actred) <= ftol and prered <= ftol and 0.5 * ratio <= 1.0
            and info == 2):
        info = 3
    if info != 0:
        return _finish(state, info)
    if iw[I_NFEV] >= iw[I_MAXFEV]:
        info = 5
    if abs(actred) <= EPSMCH and prered <= EPSMCH and 0.5 * ratio <= 1.0:
        info = 6
    if delta <= EPSMCH * xnorm:
        info = 7
    if rw[R_GNORM] <= EPSMCH:
        info = 8
    if info != 0:
        return _finish(state, info)
    if ratio >= 1e-4:
        return _request_jacobian(state)
    return _trial_step(state)


@kernel
def lm_advance(state, values):
    """One step of the reverse-communication LM iteration.

    ``values`` answers the previous action: f at ``state[XE]`` (shape
    (m,)) after EVALUATE_F; the Jacobian at ``state[XE]`` flattened in C
    order from (m, n), or from (n, m) when ``col_deriv``, after
    EVALUATE_JAC; ignored on the first call.  Returns the next action
    (EVALUATE_F, EVALUATE_JAC or DONE; the status is then
    ``state[IW][I_INFO]``).
    """
    rw, iw = state[RW], state[IW]
    n = iw[I_N]
    m = iw[I_M]
    phase = iw[I_PHASE]
    if phase == PH_DONE:
        return DONE
    if phase == PH_START:
        improper = (n <= 0 or m < n or rw[R_FTOL] < 0.0
                    or rw[R_XTOL] < 0.0 or rw[R_GTOL] < 0.0
                    or iw[I_MAXFEV] <= 0 or rw[R_FACTOR] <= 0.0
                    or iw[I_MODE] < 0)
        if iw[I_MODE] == 2:
            for j in range(n):
                if state[DIAG][j] <= 0.0:
                    improper = True
        if improper:
            return _finish(state, 0)
        state[XE][:] = state[X]
        iw[I_PHASE] = PH_F0
        return EVALUATE_F
    if phase == PH_JAC:
        if values.size != m * n:
            return _finish(state, INFO_SIZE)
        fjt = state[FJT]
        if iw[I_COLDERIV]:
            for j in range(n):
                for i in range(m):
                    fjt[j, i] = values[j * m + i]
        else:
            for i in range(m):
                for j in range(n):
                    fjt[j, i] = values[i * n + j]
        iw[I_NJEV] += 1
        if not _all_finite(values):
            return _finish(state, INFO_NONFINITE)
        return _after_jacobian(state)
    if values.size != m:
        return _finish(state, INFO_SIZE)
    if phase == PH_F0:
        iw[I_NFEV] = 1
        state[FVEC][:] = values
        if not _all_finite(values):
            rw[R_FNORM0] = np.nan
            return _finish(state, INFO_NONFINITE)
        rw[R_FNORM] = enorm(state[FVEC])
        rw[R_FNORM0] = rw[R_FNORM]
        rw[R_PAR] = 0.0
        iw[I_ITER] = 1
        return _request_jacobian(state)
    if phase == PH_FD:
        j = iw[I_JCOL]
        fjt, fvec, x, xe = state[FJT], state[FVEC], state[X], state[XE]
        h = rw[R_H]
        for i in range(m):
            fjt[j, i] = (values[i] - fvec[i]) / h
        xe[j] = x[j]
        if not _all_finite(values):
            iw[I_NFEV] += j + 1
            return _finish(state, INFO_NONFINITE)
        j += 1
        iw[I_JCOL] = j
        if j < n:
            _perturb(state, j)
            return EVALUATE_F
        iw[I_NFEV] += n
        return _after_jacobian(state)
    # PH_TRIAL
    return _after_trial(state, values)


@kernel
def _evaluate(fun, args, xe, m):
    values = np.ascontiguousarray(fun(xe.copy(), *args)).astype(np.float64)
    if values.size != m:
        raise ValueError("The array returned by a function changed size "
                         "between calls")
    return values


@kernel
def _jacobian_values(jac, args, xe, m):
    J = np.ascontiguousarray(jac(xe.copy(), *args)).astype(np.float64)
    if J.size != m * xe.size:
        raise ValueError("The Jacobian returned by `jac` has the wrong "
                         "shape")
    return J.ravel()


@kernel
def _result(state, f0):
    iw = state[IW]
    fvec = state[FVEC] if f0.size >= state[X].size else f0
    return (state[X], fvec, state[FJT], state[IPVT], state[QTF],
            iw[I_INFO], iw[I_NFEV], iw[I_NJEV], state[RW][R_FNORM0])


@kernel
def lm_solve(fun, jac, args, x0, use_jac, col_deriv, ftol, xtol, gtol,
             maxfev, epsfcn, factor, diag):
    """Compiled driver: LM on ``fun(x, *args)`` (and ``jac(x, *args)``).

    For users' own ``@njit`` code: ``fun`` and ``jac`` are numba
    dispatchers (or first-class functions); ``jac`` is never called unless
    ``use_jac`` (pass ``fun`` then).  The number of residuals is that of
    ``fun(x0)``, whose value is reused as the first evaluation.  Raises
    ValueError if a value changes size.

    Returns
    -------
    x, fvec, fjt, ipvt, qtf, info, nfev, njev, fnorm0
        ``fjt`` is (n, m) (SciPy's ``fjac``); ``ipvt`` int64, 0-based;
        ``fnorm0`` = ||f(x0)|| (NaN if f(x0) is not finite).
        If m < n, info is 0 and ``fvec`` has the m entries of f(x0).
    """
    f0 = np.ascontiguousarray(fun(x0.copy(), *args)).astype(np.float64)
    m = f0.size
    state = lm_start(x0, m, use_jac, col_deriv, ftol, xtol, gtol, maxfev,
                     epsfcn, factor, diag)
    values = np.empty(0)
    first = True
    while True:
        action = lm_advance(state, values)
        if action == EVALUATE_F:
            if first:
                values = f0
                first = False
            else:
                values = _evaluate(fun, args, state[XE], m)
        elif action == EVALUATE_JAC:
            values = _jacobian_values(jac, args, state[XE], m)
        else:
            return _result(state, f0)


@kernel
def lm_solve_at(c_addr, jit_addr, jc_addr, jjit_addr, args, x0, use_jac,
                col_deriv, ftol, xtol, gtol, maxfev, epsfcn, factor, diag):
    """:func:`lm_solve` for the compiled function (and Jacobian) at the
    given addresses (see :mod:`fastopt._kernels.funcptr`); the Jacobian
    addresses are ignored (pass 0) unless ``use_jac``.

    The loop is repeated here rather than calling :func:`lm_solve`: numba
    would otherwise try to convert a user's dispatcher passed to
    ``lm_solve`` into the first-class function type of this
    specialisation (and fail on the packed-arguments signature).
    """
    fun = as_function(c_addr, jit_addr, x0.copy(), args)
    jac = as_function_returning(jc_addr, jjit_addr, np.empty((0, 0)),
                                x0.copy(), args)
    f0 = fun(x0.copy(), args)
    m = f0.size
    state = lm_start(x0, m, use_jac, col_deriv, ftol, xtol, gtol, maxfev,
                     epsfcn, factor, diag)
    values = np.empty(0)
    first = True
    while True:
        action = lm_advance(state, values)
        if action == EVALUATE_F:
            if first:
                values = f0
                first = False
            else:
                values = fun(state[XE].copy(), args)
                if values.size != m:
                    raise ValueError("The array returned by a function "
                                     "changed size between calls")
        elif action == EVALUATE_JAC:
            J = jac(state[XE].copy(), args)
            if J.size != m * x0.size:
                raise ValueError("The Jacobian returned by `jac` has the "
                                 "wrong shape")
            values = J.ravel()
        else:
            return _result(state, f0)


@kernel
def lm_covariance(fjt, ipvt):
    """SciPy leastsq's ``cov_x`` from the final ``fjac`` and ``ipvt``.

    ``R`` = upper triangle of ``fjt[:, :n].T``; returns ``(cov, ok)`` with
    ``cov = P R^{-1} R^{-T} P^T`` (``Rinv[ipvt] = Rinv``) and ``ok`` False
    (cov undefined) if R has a zero diagonal entry, as LAPACK trtri.
    """
    n = fjt.shape[0]
    cov = np.zeros((n, n))
    inv = np.zeros((n, n))
    for j in range(n):
        if fjt[j, j] == 0.0:
            return cov, False
    # Inverse of the upper triangular R, column by column.
    for j in range(n):
        inv[j, j] = 1.0 / fjt[j, j]
        for k in range(j):
            i = j - 1 - k
            s = 0.0
            for l in range(i + 1, j + 1):
                s += fjt[l, i] * inv[l, j]
            inv[i, j] = -s / fjt[i, i]
    perm = np.zeros((n, n))
    for i in range(n):
        perm[ipvt[i], :] = inv[i, :]
    for i in range(n):
        for j in range(n):
            s = 0.0
            for l in range(n):
                s += perm[i, l] * perm[j, l]
            cov[i, j] = s
    return cov, True
