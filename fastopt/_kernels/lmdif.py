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

State: two work arrays
----------------------
The whole state of a run is two 1-D arrays, so that a reverse-communication
step from Python costs one cheap call (numba unboxes three arrays, not a
tuple of fourteen): ``rw`` (float64) and ``iw`` (int64).  Each starts with
scalar slots (``R_*`` in ``rw``, ``I_*`` in ``iw``); then come the arrays,
stored contiguously, at the offsets given by :func:`lm_offsets` ``(n, m)``
(a tuple indexed by the ``O_*`` constants) for ``rw``, and at
``N_IW`` (``ipvt``, n entries) for ``iw``:

=========  ==========  ==================================================
slot       shape       contents
=========  ==========  ==================================================
O_X        (n,)        current iterate
O_FVEC     (m,)        f(x)
O_FJT      (n, m)      Jacobian transposed, then its QR factors (C order)
O_DIAG     (n,)        scaling
O_QTF      (n,)        first n entries of Q^T fvec
O_WA1..3   (n,) each   work vectors
O_WA4      (m,)        work vector
O_XE       (n,)        the point to evaluate (EVALUATE_F, EVALUATE_JAC)
O_ACNORM   (n,)        column norms of the last Jacobian
O_H        (n,)        forward-difference steps of the last Jacobian
O_XB       (n, n)      forward-difference points (EVALUATE_BLOCK); work
O_COV      (n, n)      SciPy leastsq's ``cov_x`` once finished (status
                       1-4 and ``iw[I_COVOK]``), else zeros
O_END                  size of ``rw``
=========  ==========  ==================================================

``iw[N_IW:N_IW + n]`` is ``ipvt``, the 0-based column permutation.
:func:`lm_view` gives these as NumPy views (Python side).

The Python driver keeps ``iw`` and ``rw`` in one float64 array (iw as
int64 bit patterns, then rw) and passes it to :func:`lm_init_at`,
:func:`lm_step_at` and :func:`lm_packed_at` as its address; those take the
forward-difference points one per EVALUATE_F (at ``O_XE``) instead of as
one EVALUATE_BLOCK, and write each point to evaluate into the driver's
point array too (its address is ``iw[I_POINT]``).

Reverse communication
---------------------
``rw, iw = lm_start(x0, m, ...)``, then::

    values = np.empty(0)   # or f(x0), shape (m,): saves one round trip
    while True:
        action = lm_advance(rw, iw, values)
        if action == EVALUATE_F:       # values = f(xe), shape (m,)
            values = f(lm_view(rw, iw, O_XE))
        elif action == EVALUATE_BLOCK: # forward-difference Jacobian
            xb = lm_view(rw, iw, O_XB)             # (n, n)
            values = np.array([f(p) for p in xb]).ravel()  # (n, m)
        elif action == EVALUATE_JAC:   # values = J(xe).ravel()
            values = jac(lm_view(rw, iw, O_XE)).ravel()
            # (m, n), or (n, m) if col_deriv
        else:                          # DONE
            break

EVALUATE_BLOCK asks for f at the n rows of the (n, n) block ``O_XB``, row
``j`` being ``x + h_j e_j`` with MINPACK fdjac2's step ``h_j = sqrt(max(
epsfcn, epsmch)) |x_j|`` (``sqrt(...)`` if that is 0); the answer is the
(n, m) block of the n values, row by row, flattened.  Column ``j`` of the
Jacobian is then ``(f(x + h_j e_j) - fvec) / h_j`` and ``nfev`` grows by
n, exactly as fdjac2 does column by column (bit-identical results; one
call per Jacobian instead of n).

Status (``iw[I_INFO]``, MINPACK's ``info``, plus 9 and 10):

0 improper input; 1 ftol satisfied (actual and predicted relative
reductions of the sum of squares at most ftol); 2 xtol satisfied (relative
error between two consecutive iterates at most xtol); 3 both 1 and 2;
4 gtol satisfied (cosine of the angle between fvec and any column of the
Jacobian at most gtol in absolute value); 5 maxfev reached; 6 ftol too
small; 7 xtol too small; 8 gtol too small; 9 non-finite function value at
the starting point or in a Jacobian (analytic, or a finite-difference
column; all n points of a forward-difference Jacobian are evaluated and
counted) -- MINPACK would carry on with NaNs and could report success;
10 a function or Jacobian value of the wrong size (a driver turns it into
an exception).  A non-finite value at a *trial* point is handled as
MINPACK does: its norm compares as not smaller than the current one, so
the step is rejected and the trust region shrinks; accepted iterates hence
always have finite residuals.
"""
import math

import numpy as np
from numba import njit
from numba.core import types
from numba.extending import overload

from ._jit import OPTIONS, driver, kernel
from .borrow import borrowed_matrix, borrowed_vector
from .funcptr import as_function, as_function_returning, call_with
from numba.core.unsafe.refcount import get_refcount

from .borrow import borrowed
from .minpack_qr import enorm_at, qrfac_into, vector_at

__all__ = ["EVALUATE_F", "EVALUATE_JAC", "EVALUATE_BLOCK", "DONE", "qrsolv",
           "lmpar", "lm_start", "lm_advance", "lm_solve", "lm_solve_at",
           "lm_packed", "lm_init_at", "lm_step_at", "lm_packed_at",
           "lm_covariance", "lm_offsets", "lm_view", "INFO_NONFINITE",
           "INFO_SIZE"]

# Actions returned by lm_advance.
DONE = 0
EVALUATE_F = 1
EVALUATE_JAC = 2
EVALUATE_BLOCK = 3

INFO_NONFINITE = 9
INFO_SIZE = 10

# Float scalar slots of rw.
R_FTOL, R_XTOL, R_GTOL, R_EPSFCN, R_FACTOR, R_FNORM, R_FNORM1, R_PAR, \
    R_DELTA, R_XNORM, R_PNORM, R_GNORM, R_RATIO, R_ACTRED, R_PRERED, \
    R_FNORM0 = range(16)
N_RW = 16

# Integer scalar slots of iw; ipvt follows at N_IW.
I_M, I_N, I_MODE, I_MAXFEV, I_NFEV, I_NJEV, I_ITER, I_INFO, I_PHASE, \
    I_USEJAC, I_COLDERIV, I_COVOK, I_FDCOLUMNS, I_FDK, I_FDBAD, \
    I_POINT = range(16)
N_IW = 16
# I_FDCOLUMNS: forward differences one point per EVALUATE_F (Python
# driver) instead of EVALUATE_BLOCK; I_FDK: the column being evaluated;
# I_FDBAD: a non-finite value met in this Jacobian; I_POINT: the address of
# the Python driver's point array (0: none).

# Array slots of rw: indices into the tuple returned by lm_offsets.
O_X, O_FVEC, O_FJT, O_DIAG, O_QTF, O_WA1, O_WA2, O_WA3, O_WA4, O_XE, \
    O_ACNORM, O_H, O_XB, O_COV, O_END = range(15)


def _inline(function):
    # A helper inlined into its callers at numba-IR level.  Every array
    # argument of a call that is not inlined costs the callee two calls
    # into numba's reference counting (no-ops on the borrowed work-array
    # views, but calls all the same): inlining the views, norms, lmpar and
    # qrsolv took the compiled solve of Rosenbrock from 12.1 to 11.1 us.
    return njit(inline="always", **OPTIONS)(function)


def lm_offsets(n, m):
    """Offsets in ``rw`` of its arrays (index the result with ``O_*``;
    ``[O_END]`` is the size of ``rw``)."""
    o_x = N_RW
    o_fvec = o_x + n
    o_fjt = o_fvec + m
    o_diag = o_fjt + n * m
    o_qtf = o_diag + n
    o_wa1 = o_qtf + n
    o_wa2 = o_wa1 + n
    o_wa3 = o_wa2 + n
    o_wa4 = o_wa3 + n
    o_xe = o_wa4 + m
    o_acnorm = o_xe + n
    o_h = o_acnorm + n
    o_xb = o_h + n
    o_cov = o_xb + n * n
    return (o_x, o_fvec, o_fjt, o_diag, o_qtf, o_wa1, o_wa2, o_wa3, o_wa4,
            o_xe, o_acnorm, o_h, o_xb, o_cov, o_cov + n * n)


_offsets = _inline(lm_offsets)

# Shapes of the arrays, (n, m) -> shape; None: a vector of length n.
_MATRIX = {O_FJT: "nm", O_XB: "nn", O_COV: "nn", O_FVEC: "m", O_WA4: "m"}


def lm_view(rw, iw, slot):
    """NumPy view of array ``slot`` (an ``O_*`` constant) of the state;
    ``slot = 'ipvt'`` gives ``iw``'s (int64) ``ipvt``."""
    n = int(iw[I_N])
    if slot == "ipvt":
        return iw[N_IW:N_IW + n]
    m = max(int(iw[I_M]), 0)
    start = lm_offsets(n, m)[slot]
    kind = _MATRIX.get(slot, "n")
    if kind == "nm":
        return rw[start:start + n * m].reshape(n, m)
    if kind == "nn":
        return rw[start:start + n * n].reshape(n, n)
    size = m if kind == "m" else n
    return rw[start:start + size]


EPSMCH = np.finfo(np.float64).eps
DWARF = np.finfo(np.float64).tiny


@_inline
def _norm(x):
    # MINPACK's enorm of the vector x (minpack_qr.enorm, inlined)
    return enorm_at(x, 0, 1, x.size)

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
    dxnorm = _norm(wa2)
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
        temp = _norm(wa1)
        parl = ((fp / delta) / temp) / temp
    # Upper bound paru.
    for j in range(n):
        s = 0.0
        for i in range(j + 1):
            s += rt[j, i] * qtb[i]
        wa1[j] = s / diag[ipvt[j]]
    gnorm = _norm(wa1)
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
        _qrsolv_inline(rt, ipvt, wa1, qtb, x, sdiag, wa2)
        for j in range(n):
            wa2[j] = diag[j] * x[j]
        dxnorm = _norm(wa2)
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
        temp = _norm(wa1)
        parc = ((fp / delta) / temp) / temp
        if fp > 0.0:
            parl = max(parl, par)
        if fp < 0.0:
            paru = min(paru, par)
        par = max(parl, par + parc)
    return par


# qrsolv and lmpar inlined into their callers in the iteration (see
# _inline); the kernels above stay for direct use.
_qrsolv_inline = _inline(qrsolv.py_func)
_lmpar_inline = _inline(lmpar.py_func)


# Phases: what the next lm_advance call receives.
PH_START = 0      # nothing (or f(x0)); validate and ask for f(x0)
PH_F0 = 1         # f(x0)
PH_FD = 2         # the forward-difference block
PH_JAC = 3        # analytic Jacobian at x
PH_TRIAL = 4      # f at the trial point
PH_DONE = 5
PH_FDCOL = 6      # f at the forward-difference point of column iw[I_FDK]


@_inline
def _vec(rw, offsets, slot, size):
    return borrowed_vector(rw, offsets[slot], size)


@_inline
def _mat(rw, offsets, slot, rows, cols):
    return borrowed_matrix(rw, offsets[slot], rows, cols)


@_inline
def _ipvt(iw):
    return borrowed_vector(iw, N_IW, iw[I_N])


@kernel
def lm_start(x0, m, use_jac, col_deriv, ftol, xtol, gtol, maxfev, epsfcn,
             factor, diag):
    """State ``(rw, iw)`` for a run from ``x0`` with ``m`` residuals.

    ``maxfev == 0`` means 200 (n + 1) without Jacobian, 100 (n + 1) with;
    an empty ``diag`` means internal scaling (MINPACK mode 1), otherwise
    ``diag`` (n,) is used as given (mode 2).  Input is validated by the
    first :func:`lm_advance` call (status 0 for improper input).
    """
    n = x0.size
    rw = np.zeros(_offsets(n, max(m, 0))[O_END])
    iw = np.zeros(N_IW + n, dtype=np.int64)
    _start_into(rw, iw, x0, m, use_jac, col_deriv, ftol, xtol, gtol, maxfev,
                epsfcn, factor, diag)
    return rw, iw


@kernel
def _start_into(rw, iw, x0, m, use_jac, col_deriv, ftol, xtol, gtol, maxfev,
                epsfcn, factor, diag):
    # lm_start's initialisation of the zeroed rw and iw.
    n = x0.size
    o = _offsets(n, max(m, 0))
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
    x = _vec(rw, o, O_X, n)
    d = _vec(rw, o, O_DIAG, n)
    for j in range(n):
        x[j] = x0[j]
        d[j] = 1.0
    if diag.size > 0:
        iw[I_MODE] = 2
        for j in range(min(n, diag.size)):
            d[j] = diag[j]
        if diag.size != n:
            iw[I_MODE] = -1  # improper
    else:
        iw[I_MODE] = 1
    iw[I_PHASE] = PH_START


@kernel
def _all_finite(v):
    for i in range(v.size):
        if not np.isfinite(v[i]):
            return False
    return True


@kernel
def _covariance_into(fjt, ipvt, cov, inv):
    # cov = P R^{-1} R^{-T} P^T from the final fjt (see lm_covariance);
    # inv (n, n) is work.  Returns False (cov untouched) if R is singular.
    n = fjt.shape[0]
    for j in range(n):
        if fjt[j, j] == 0.0:
            return False
    inv[:, :] = 0.0
    # Inverse of the upper triangular R, column by column.
    for j in range(n):
        inv[j, j] = 1.0 / fjt[j, j]
        for k in range(j):
            i = j - 1 - k
            s = 0.0
            for l in range(i + 1, j + 1):
                s += fjt[l, i] * inv[l, j]
            inv[i, j] = -s / fjt[i, i]
    # Row a of inv is row ipvt[a] of P R^{-1}.
    for a in range(n):
        for b in range(n):
            s = 0.0
            for l in range(n):
                s += inv[a, l] * inv[b, l]
            cov[ipvt[a], ipvt[b]] = s
    return True


@kernel
def _finish(rw, iw, info):
    iw[I_INFO] = info
    iw[I_PHASE] = PH_DONE
    if 1 <= info <= 4:
        n = iw[I_N]
        m = iw[I_M]
        o = _offsets(n, m)
        ok = _covariance_into(_mat(rw, o, O_FJT, n, m), _ipvt(iw),
                              _mat(rw, o, O_COV, n, n),
                              _mat(rw, o, O_XB, n, n))
        iw[I_COVOK] = 1 if ok else 0
    return DONE


@kernel
def _request_jacobian(rw, iw, o):
    # Ask for the Jacobian at x: analytic, or the forward-difference block
    # (MINPACK fdjac2's points and steps).
    n = iw[I_N]
    x = _vec(rw, o, O_X, n)
    if iw[I_USEJAC]:
        xe = _vec(rw, o, O_XE, n)
        for j in range(n):
            xe[j] = x[j]
        iw[I_PHASE] = PH_JAC
        return EVALUATE_JAC
    hs = _vec(rw, o, O_H, n)
    eps = math.sqrt(max(rw[R_EPSFCN], EPSMCH))
    if iw[I_FDCOLUMNS]:
        # the same points and steps, asked for one by one
        xe = _vec(rw, o, O_XE, n)
        for j in range(n):
            temp = x[j]
            h = eps * abs(temp)
            if h == 0.0:
                h = eps
            hs[j] = h
            xe[j] = temp
        xe[0] = x[0] + hs[0]
        iw[I_FDK] = 0
        iw[I_FDBAD] = 0
        iw[I_PHASE] = PH_FDCOL
        return EVALUATE_F
    xb = _mat(rw, o, O_XB, n, n)
    for j in range(n):
        for k in range(n):
            xb[j, k] = x[k]
        temp = x[j]
        h = eps * abs(temp)
        if h == 0.0:
            h = eps
        hs[j] = h
        xb[j, j] = temp + h
    iw[I_PHASE] = PH_FD
    return EVALUATE_BLOCK


@kernel
def _after_jacobian(rw, iw, o):
    # QR of the Jacobian, scaling, Q^T f, gradient test; then the first
    # trial step.
    n = iw[I_N]
    m = iw[I_M]
    x = _vec(rw, o, O_X, n)
    fvec = _vec(rw, o, O_FVEC, m)
    fjt = _mat(rw, o, O_FJT, n, m)
    diag = _vec(rw, o, O_DIAG, n)
    qtf = _vec(rw, o, O_QTF, n)
    ipvt = _ipvt(iw)
    wa1 = _vec(rw, o, O_WA1, n)
    wa3 = _vec(rw, o, O_WA3, n)
    wa4 = _vec(rw, o, O_WA4, m)
    acnorm = _vec(rw, o, O_ACNORM, n)
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
        rw[R_XNORM] = _norm(wa3)
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
        return _finish(rw, iw, 4)
    if iw[I_MODE] != 2:
        for j in range(n):
            diag[j] = max(diag[j], acnorm[j])
    return _trial_step(rw, iw, o)


@kernel
def _trial_step(rw, iw, o):
    # lmpar, then ask for f at x + p.
    n = iw[I_N]
    m = iw[I_M]
    x = _vec(rw, o, O_X, n)
    fjt = _mat(rw, o, O_FJT, n, m)
    diag = _vec(rw, o, O_DIAG, n)
    qtf = _vec(rw, o, O_QTF, n)
    ipvt = _ipvt(iw)
    wa1 = _vec(rw, o, O_WA1, n)
    wa2 = _vec(rw, o, O_WA2, n)
    wa3 = _vec(rw, o, O_WA3, n)
    xe = _vec(rw, o, O_XE, n)
    # wa2, wa3 and wa4[:n] are scratch here (sdiag and work).
    rw[R_PAR] = _lmpar_inline(fjt, ipvt, diag, qtf, rw[R_DELTA],
                              rw[R_PAR], wa1, wa2, wa3, _vec(rw, o, O_WA4, n))
    for j in range(n):
        wa1[j] = -wa1[j]
        xe[j] = x[j] + wa1[j]
        wa3[j] = diag[j] * wa1[j]
    rw[R_PNORM] = _norm(wa3)
    if iw[I_ITER] == 1:
        rw[R_DELTA] = min(rw[R_DELTA], rw[R_PNORM])
    iw[I_PHASE] = PH_TRIAL
    return EVALUATE_F


@kernel
def _after_trial(rw, iw, o, fnew):
    n = iw[I_N]
    m = iw[I_M]
    x = _vec(rw, o, O_X, n)
    fvec = _vec(rw, o, O_FVEC, m)
    fjt = _mat(rw, o, O_FJT, n, m)
    diag = _vec(rw, o, O_DIAG, n)
    ipvt = _ipvt(iw)
    wa1 = _vec(rw, o, O_WA1, n)
    wa2 = _vec(rw, o, O_WA2, n)
    wa3 = _vec(rw, o, O_WA3, n)
    wa4 = _vec(rw, o, O_WA4, m)
    xe = _vec(rw, o, O_XE, n)
    iw[I_NFEV] += 1
    for i in range(m):
        wa4[i] = fnew[i]
    fnorm = rw[R_FNORM]
    fnorm1 = _norm(wa4)
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
    temp1 = _norm(wa3) / fnorm
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
        rw[R_XNORM] = _norm(wa2)
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
        return _finish(rw, iw, info)
    if iw[I_NFEV] >= iw[I_MAXFEV]:
        info = 5
    if abs(actred) <= EPSMCH and prered <= EPSMCH and 0.5 * ratio <= 1.0:
        info = 6
    if delta <= EPSMCH * xnorm:
        info = 7
    if rw[R_GNORM] <= EPSMCH:
        info = 8
    if info != 0:
        return _finish(rw, iw, info)
    if ratio >= 1e-4:
        return _request_jacobian(rw, iw, o)
    return _trial_step(rw, iw, o)


@kernel
def _after_f0(rw, iw, o, values):
    m = iw[I_M]
    fvec = _vec(rw, o, O_FVEC, m)
    iw[I_NFEV] = 1
    for i in range(m):
        fvec[i] = values[i]
    if not _all_finite(values):
        rw[R_FNORM0] = np.nan
        return _finish(rw, iw, INFO_NONFINITE)
    rw[R_FNORM] = _norm(fvec)
    rw[R_FNORM0] = rw[R_FNORM]
    rw[R_PAR] = 0.0
    iw[I_ITER] = 1
    return _request_jacobian(rw, iw, o)


@kernel
def _fd_column(rw, iw, o, values):
    # f at x + h_k e_k: column k of the Jacobian as EVALUATE_BLOCK's
    # (the same arithmetic), then the next point, or, after the last, the
    # Jacobian's nfev and non-finite test as for a block.
    n = iw[I_N]
    m = iw[I_M]
    k = iw[I_FDK]
    fjt = _mat(rw, o, O_FJT, n, m)
    fvec = _vec(rw, o, O_FVEC, m)
    x = _vec(rw, o, O_X, n)
    xe = _vec(rw, o, O_XE, n)
    hs = _vec(rw, o, O_H, n)
    h = hs[k]
    for i in range(m):
        fjt[k, i] = (values[i] - fvec[i]) / h
    if not _all_finite(values):
        iw[I_FDBAD] = 1
    xe[k] = x[k]
    k += 1
    if k < n:
        iw[I_FDK] = k
        xe[k] = x[k] + hs[k]
        return EVALUATE_F
    iw[I_NFEV] += n
    if iw[I_FDBAD]:
        return _finish(rw, iw, INFO_NONFINITE)
    return _after_jacobian(rw, iw, o)


@kernel
def lm_advance(rw, iw, values):
    """One step of the reverse-communication LM iteration.

    ``values`` (1-D float64) answers the previous action: f at the point
    ``O_XE`` (shape (m,)) after EVALUATE_F; f at the n rows of ``O_XB``,
    as an (n, m) block flattened in C order, after EVALUATE_BLOCK; the
    Jacobian at ``O_XE`` flattened in C order from (m, n), or from (n, m)
    when ``col_deriv``, after EVALUATE_JAC.  On the first call it is
    either f(x0) (shape (m,)) or anything else (say ``np.empty(0)``), in
    which case f(x0) is asked for.  Returns the next action (EVALUATE_F,
    EVALUATE_BLOCK, EVALUATE_JAC or DONE; the status is then
    ``iw[I_INFO]``).
    """
    n = iw[I_N]
    m = iw[I_M]
    phase = iw[I_PHASE]
    if phase == PH_DONE:
        return DONE
    o = _offsets(n, max(m, 0))
    # Borrowed (meminfo-free) aliases: the helpers below then pass arrays
    # around without reference counting (see fastopt._kernels.borrow).
    rw = borrowed_vector(rw, 0, rw.size)
    iw = borrowed_vector(iw, 0, iw.size)
    values = borrowed_vector(values, 0, values.size)
    if phase == PH_START:
        improper = (n <= 0 or m < n or rw[R_FTOL] < 0.0
                    or rw[R_XTOL] < 0.0 or rw[R_GTOL] < 0.0
                    or iw[I_MAXFEV] <= 0 or rw[R_FACTOR] <= 0.0
                    or iw[I_MODE] < 0)
        if iw[I_MODE] == 2:
            diag = _vec(rw, o, O_DIAG, n)
            for j in range(n):
                if diag[j] <= 0.0:
                    improper = True
        if improper:
            return _finish(rw, iw, 0)
        if values.size == m:
            return _after_f0(rw, iw, o, values)
        xe = _vec(rw, o, O_XE, n)
        x = _vec(rw, o, O_X, n)
        for j in range(n):
            xe[j] = x[j]
        iw[I_PHASE] = PH_F0
        return EVALUATE_F
    if phase == PH_JAC:
        if values.size != m * n:
            return _finish(rw, iw, INFO_SIZE)
        fjt = _mat(rw, o, O_FJT, n, m)
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
            return _finish(rw, iw, INFO_NONFINITE)
        return _after_jacobian(rw, iw, o)
    if phase == PH_FD:
        if values.size != n * m:
            return _finish(rw, iw, INFO_SIZE)
        fjt = _mat(rw, o, O_FJT, n, m)
        fvec = _vec(rw, o, O_FVEC, m)
        hs = _vec(rw, o, O_H, n)
        for j in range(n):
            h = hs[j]
            for i in range(m):
                fjt[j, i] = (values[j * m + i] - fvec[i]) / h
        iw[I_NFEV] += n
        if not _all_finite(values):
            return _finish(rw, iw, INFO_NONFINITE)
        return _after_jacobian(rw, iw, o)
    if values.size != m:
        return _finish(rw, iw, INFO_SIZE)
    if phase == PH_FDCOL:
        return _fd_column(rw, iw, o, values)
    if phase == PH_F0:
        return _after_f0(rw, iw, o, values)
    # PH_TRIAL
    return _after_trial(rw, iw, o, values)


def _as_values(value):
    pass


@overload(_as_values, inline="always")
def _ov_as_values(value):
    # A user's value as a C-contiguous float64 vector (itself if it is
    # one, as every function fastopt._compiled_fun hands over returns).
    # Inlined: a call would cost atomic reference-count updates of the
    # value.
    if (isinstance(value, types.Array) and value.dtype == types.float64
            and value.layout == "C"):
        if value.ndim == 1:
            return lambda value: value
        return lambda value: value.ravel()
    return lambda value: np.ascontiguousarray(value).astype(
        np.float64).ravel()


@kernel
def _result(rw, iw, f0):
    # Owned views (plain slices): these leave the kernels.
    n = iw[I_N]
    m = iw[I_M]
    o = _offsets(n, max(m, 0))
    fvec = rw[o[O_FVEC]:o[O_FVEC] + m] if m >= n else f0
    return (rw[o[O_X]:o[O_X] + n], fvec,
            rw[o[O_FJT]:o[O_FJT] + n * m].reshape((n, m)),
            iw[N_IW:N_IW + n], rw[o[O_QTF]:o[O_QTF] + n], iw[I_INFO],
            iw[I_NFEV], iw[I_NJEV], rw[R_FNORM0])


def _iterate(fun, jac, args, x0, use_jac, col_deriv, ftol, xtol, gtol,
             maxfev, epsfcn, factor, diag):
    # The compiled LM iteration: the final (rw, iw) and f(x0).  Compiled
    # twice below, as a cached kernel for first-class functions
    # (lm_solve_at) and as a driver for users' dispatchers (lm_solve): one
    # dispatcher serving both would make numba convert a dispatcher into
    # the first-class function type.
    n = x0.size
    # The point handed to the user's function: one array reused across
    # calls, a new one when something other than this loop still holds it
    # (the function kept its argument), as minpack_qr.fill_point does.  Not
    # rebound on every call: a rebinding costs an atomic reference-count
    # pair around the user's call that numba does not prune.
    xs = x0.copy()
    f0 = _as_values(call_with(fun, xs, args))
    m = f0.size
    rw, iw = lm_start(x0, m, use_jac, col_deriv, ftol, xtol, gtol, maxfev,
                      epsfcn, factor, diag)
    # Borrowed aliases (rw and iw stay alive: they are returned): passing
    # them to lm_advance costs no reference counting.
    brw = borrowed_vector(rw, 0, rw.size)
    biw = borrowed_vector(iw, 0, iw.size)
    o = _offsets(n, m)
    oxe = o[O_XE]
    oxb = o[O_XB]
    block = np.empty(0 if use_jac else n * m)
    bblock = borrowed(block)
    values = f0
    while True:
        # values borrowed (this loop holds it): passing an owned array to
        # the non-inlined lm_advance would cost atomic reference counting
        action = lm_advance(brw, biw, borrowed(values))
        if action == EVALUATE_BLOCK:
            for j in range(n):
                if get_refcount(xs) != 1:
                    xs = np.empty(n)
                start = oxb + j * n
                for i in range(n):
                    xs[i] = brw[start + i]
                v = _as_values(call_with(fun, xs, args))
                if v.size != m:
                    raise ValueError("The array returned by a function "
                                     "changed size between calls")
                for i in range(m):
                    bblock[j * m + i] = v[i]
            values = bblock
        elif action == EVALUATE_F:
            if get_refcount(xs) != 1:
                xs = np.empty(n)
            for i in range(n):
                xs[i] = brw[oxe + i]
            values = _as_values(call_with(fun, xs, args))
            if values.size != m:
                raise ValueError("The array returned by a function "
                                 "changed size between calls")
        elif action == EVALUATE_JAC:
            if get_refcount(xs) != 1:
                xs = np.empty(n)
            for i in range(n):
                xs[i] = brw[oxe + i]
            values = _as_values(call_with(jac, xs, args))
            if values.size != m * n:
                raise ValueError("The Jacobian returned by `jac` has the "
                                 "wrong shape")
        else:
            return rw, iw, f0


_solve = kernel(_iterate)
_solve_generic = driver(_iterate)


@driver
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
        (The arrays are views of one work array.)
    """
    rw, iw, f0 = _solve_generic(fun, jac, args, x0, use_jac, col_deriv,
                                ftol, xtol, gtol, maxfev, epsfcn, factor,
                                diag)
    return _result(rw, iw, f0)


@kernel
def lm_packed(rw, iw):
    """The final state for the Python layer, cheap to box: ``(out, ipvt,
    info, nfev, njev, m, covok, fnorm0, fnorm)`` with ``out`` one float64
    array holding x (n), fvec (m), fjac (n*m, the (n, m) ``fjt``), qtf (n)
    and, if ``covok``, cov_x (n*n); ``ipvt`` int32, 0-based.  For m < n
    only ``m`` is meaningful."""
    n = iw[I_N]
    m = max(iw[I_M], 0)
    o = _offsets(n, m)
    covok = 0
    info = iw[I_INFO]
    if 1 <= info <= 4 and iw[I_COVOK] != 0:
        covok = 1
    size = n + m + n * m + n + covok * n * n
    if m < n:
        size = 0
    out = np.empty(size)
    ipvt = np.empty(n if m >= n else 0, np.int32)
    if m >= n:
        p = 0
        for j in range(n):
            out[p + j] = rw[o[O_X] + j]
        p += n
        for i in range(m):
            out[p + i] = rw[o[O_FVEC] + i]
        p += m
        for k in range(n * m):
            out[p + k] = rw[o[O_FJT] + k]
        p += n * m
        for j in range(n):
            out[p + j] = rw[o[O_QTF] + j]
        p += n
        for k in range(covok * n * n):
            out[p + k] = rw[o[O_COV] + k]
        for j in range(n):
            ipvt[j] = iw[N_IW + j]
    return (out, ipvt, info, iw[I_NFEV], iw[I_NJEV], iw[I_M], covok,
            rw[R_FNORM0], rw[R_FNORM])


@kernel
def lm_solve_at(c_addr, jit_addr, jc_addr, jjit_addr, args, x0, use_jac,
                col_deriv, ftol, xtol, gtol, maxfev, epsfcn, factor, diag):
    """:func:`lm_solve` for the compiled function (and Jacobian) at the
    given addresses (see :mod:`fastopt._kernels.funcptr`); the Jacobian
    addresses are ignored (pass 0) unless ``use_jac``.

    Returns :func:`lm_packed` of the final state; if m < n, ``m`` says so
    (and the status is 0).
    """
    fun = as_function(c_addr, jit_addr, x0, args)
    jac = as_function_returning(jc_addr, jjit_addr, np.empty((0, 0)),
                                x0, args)
    rw, iw, f0 = _solve(fun, jac, args, x0, use_jac, col_deriv, ftol,
                        xtol, gtol, maxfev, epsfcn, factor, diag)
    return lm_packed(rw, iw)


# --- entries for the Python driver, taking the state by its address -------

def lm_state_size(n, m):
    """Entries of the Python driver's one-array state (see
    :func:`lm_init_at`) for n variables and m residuals."""
    return N_IW + n + lm_offsets(n, m)[O_END]


def _state_at(address):
    # iw and rw of the one-array state at ``address``.
    head = vector_at(address, N_IW, np.int64)
    n = max(head[I_N], 0)
    m = max(head[I_M], 0)
    iw = vector_at(address, N_IW + n, np.int64)
    rw = vector_at(address + 8 * (N_IW + n), _offsets(n, m)[O_END],
                   np.float64)
    return iw, rw


_state_at = njit(inline="always", **OPTIONS)(_state_at)


def _put_point(rw, iw, action):
    # After an action asking for f: the point into the driver's array.
    if action == EVALUATE_F and iw[I_POINT] != 0:
        n = iw[I_N]
        oxe = _offsets(n, max(iw[I_M], 0))[O_XE]
        point = vector_at(iw[I_POINT], n, np.float64)
        for j in range(n):
            point[j] = rw[oxe + j]
    return action


_put_point = njit(inline="always", **OPTIONS)(_put_point)


def _lm_init_at(address, point, x0, m, use_jac, col_deriv, ftol, xtol, gtol,
                maxfev, epsfcn, factor, diag):
    # See lm_init_at.
    n = x0.size
    iw = vector_at(address, N_IW + n, np.int64)
    rw = vector_at(address + 8 * (N_IW + n), _offsets(n, max(m, 0))[O_END],
                   np.float64)
    _start_into(rw, iw, x0, m, use_jac, col_deriv, ftol, xtol, gtol, maxfev,
                epsfcn, factor, diag)
    iw[I_FDCOLUMNS] = 0 if use_jac else 1
    if point.size == n:
        iw[I_POINT] = point.ctypes.data


lm_init_at = njit(
    types.void(types.int64, types.float64[::1], types.float64[::1],
               types.int64, types.boolean, types.boolean, types.float64,
               types.float64, types.float64, types.int64, types.float64,
               types.float64, types.float64[::1]),
    **OPTIONS)(_lm_init_at)
_lm_init_at.__doc__ = lm_init_at.__doc__ = """:func:`lm_start` into the
zeroed one-array state at ``address`` (float64, :func:`lm_state_size`
entries: iw as int64 bit patterns, then rw), for the Python driver, which
gets its first :func:`lm_step_at` call with f(x0).  Forward differences
come one point per EVALUATE_F; ``point`` (float64, n) is the array the
driver hands the user's function: :func:`lm_step_at` writes each point to
evaluate into it (its address is kept in ``iw[I_POINT]``; the driver
replaces it there when it gives the function a new array)."""
lm_init_at.disable_compile()


def _lm_step_at(address, values):
    # See lm_step_at.
    iw, rw = _state_at(address)
    phase = iw[I_PHASE]
    expected = iw[I_M] * iw[I_N] if phase == PH_JAC else iw[I_M]
    if phase == PH_DONE or values.size != expected:
        return -1
    if values.size <= 1 or values.strides[0] == 8:
        # contiguous: the values in place, without an owner
        contiguous = vector_at(values.ctypes.data, values.size, np.float64)
    else:
        contiguous = np.ascontiguousarray(values)
    return _put_point(rw, iw, lm_advance(rw, iw, contiguous))


lm_step_at = njit(types.int64(types.int64, types.float64[:]),
                  **OPTIONS)(_lm_step_at)
_lm_step_at.__doc__ = lm_step_at.__doc__ = """:func:`lm_advance` on the
state at ``address`` (see :func:`lm_init_at`), with ``values`` of any
stride, writing the next point into the driver's point array; -1 (nothing
done) if ``values`` does not have the size the action asked for (m, or
m n after EVALUATE_JAC) or the run is over."""
lm_step_at.disable_compile()


@kernel
def lm_packed_at(address):
    """:func:`lm_packed` of the state at ``address`` (see
    :func:`lm_init_at`)."""
    iw, rw = _state_at(address)
    return lm_packed(rw, iw)


@kernel
def lm_covariance(fjt, ipvt):
    """SciPy leastsq's ``cov_x`` from the final ``fjac`` and ``ipvt``.

    ``R`` = upper triangle of ``fjt[:, :n].T``; returns ``(cov, ok)`` with
    ``cov = P R^{-1} R^{-T} P^T`` (``Rinv[ipvt] = Rinv``) and ``ok`` False
    (cov undefined) if R has a zero diagonal entry, as LAPACK trtri.  (A
    finished run with status 1-4 has it already: ``O_COV``.)
    """
    n = fjt.shape[0]
    cov = np.zeros((n, n))
    ok = _covariance_into(fjt, ipvt, cov, np.zeros((n, n)))
    return cov, ok
