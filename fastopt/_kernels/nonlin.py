"""The inexact-Newton driver of the ``nonlin`` family, as a reverse-
communication state machine.

:func:`nonlin_start` builds the state ``(iw, rw)``; each call of
:func:`nonlin_advance` runs until the driver needs something from its
caller and returns the request (``iw[I_ACTION]``):

``EVALUATE_F``
    evaluate F at ``rw[OX + 3n : OX + 4n]`` and pass the value in ``f``;
``SETUP``, ``SOLVE``, ``UPDATE``
    only for a Jacobian implemented in Python (``generic``): call its
    ``setup(x, F)``, write ``-solve(F, tol=rw[R_TOL])`` into the step
    slot, or call ``update(x, F)``;  a built-in approximation
    (:mod:`fastopt._kernels.jacobians`) is run inside the driver instead;
``RESIZE``
    the built-in approximation's history must grow
    (:func:`fastopt._kernels.jacobians.jac_resize`);
``NORMS``
    a user-supplied ``tol_norm``: write the norms of F, x and the step into
    ``rw[R_NF]``, ``rw[R_NX]``, ``rw[R_NDX]``;
``REPORT``
    an iteration is complete (for ``callback`` and ``verbose``);
``DONE``
    ``iw[I_STATUS]`` says why.

The driver owns everything SciPy's ``nonlin_solve`` does: the termination
test (``f_tol``, ``f_rtol``, ``x_tol``, ``x_rtol``, ``iter``, ``maxiter``,
max- or 2-norm), the Eisenstat-Walker forcing terms of the inner
tolerance, the line searches on ``phi(s) = |F(x + s dx)|^2`` ('armijo':
quadratic then cubic backtracking, Nocedal & Wright (1999) pp. 56-57;
'wolfe': the More-Thuente DCSRCH search), and the detection of non-finite
residuals and steps.  References: C. T. Kelley, "Iterative Methods for
Linear and Nonlinear Equations", SIAM (1995); S. C. Eisenstat and H. F.
Walker, SIAM J. Sci. Comput. 17 (1996); J. J. More and D. J. Thuente, ACM
TOMS 20 (1994).

:func:`nonlin_at` runs the whole iteration in compiled code for a user
function given by its addresses (see :mod:`fastopt._kernels.funcptr`);
:func:`nonlin_krylov_at` / :func:`nonlin_krylov_run` do the same with the
Jacobian-free Newton-Krylov strategy
(:mod:`fastopt._kernels.krylov_jacobian`) answering the SETUP, SOLVE and
UPDATE requests in compiled code.
"""
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ._jit import inline_kernel, kernel
from .borrow import borrowed
from .jacobians import _dot
from .reductions import INF_BITS, abs_max_bits
from .funcptr import as_function, call_with
from .jacobians import jac_prepare, jac_resize, jac_setup, jac_solve, jac_update
from .jacobians import jac_capacity, jac_init, jac_size
from . import krylov as kr
from .krylov_jacobian import (K_NFEV, NKH, kj_new_in, kj_setup, kj_solve,
                              kj_update, kj_workspace_size)

__all__ = ["nonlin_start", "nonlin_start_in", "nonlin_advance", "nonlin_at",
           "nonlin_run",
           "nonlin_krylov_at", "nonlin_krylov_run",
           "O_KIND", "O_ALPHA", "O_RED", "O_MAXRANK", "O_TORETAIN", "O_W0",
           "O_M", "O_ALPHAMAX", "O_FTOL", "O_FRTOL", "O_XTOL", "O_XRTOL",
           "O_ITERLIM", "O_MAXITER", "O_LS", "O_NORM", "NO"]

# requests
DONE = 0
EVALUATE_F = 1
SETUP = 2
SOLVE = 3
UPDATE = 4
RESIZE = 5
REPORT = 6
NORMS = 7

# statuses
CONVERGED = 1
ITER_REACHED = 2       # the `iter` count (never raises)
EXHAUSTED = 3          # maxiter iterations without convergence
NONFINITE_F = 4
NONFINITE_STEP = 5
ZERO_STEP = 6
BAD_F_SIZE = 7
KRYLOV_FAILED = 8      # the compiled Krylov Jacobian stopped: its KJ_* code
                       # in iw[I_DETAIL] (where the Python class raises)

# line searches
LS_NONE = 0
LS_ARMIJO = 1
LS_WOLFE = 2

# norms
NORM_MAX = 0
NORM_TWO = 1
NORM_EXTERNAL = 2

# iw slots
I_ACTION = 0
I_PHASE = 1
I_STATUS = 2
I_NFEV = 3
I_ITER = 4        # TerminationCondition.iteration (nit)
I_NLOOP = 5       # completed steps
I_MAXITER = 6
I_ITERLIM = 7     # `iter`, -1 for None
I_LS = 8
I_NORM = 9
I_GENERIC = 10
I_REPORT = 11
I_STORE = 12
I_LSIT = 13
I_BRACKT = 14
I_STAGE = 15
I_NEXT = 16
I_LSFAIL = 17
I_FSIZE = 18
I_DETAIL = 19
NI = 20

# rw slots
R_FTOL = 0
R_FRTOL = 1
R_XTOL = 2
R_XRTOL = 3
R_ETA = 4
R_FNORM = 5
R_FNORM_NEW = 6
R_F0NORM = 7
R_HAVE_F0 = 8
R_S = 9
R_TMPS = 10
R_TMPPHI = 11
R_PHI0 = 12
R_DERPHI0 = 13
R_SNORM = 14
R_PHIVAL = 15
R_PHIS = 16
R_A0 = 17
R_A1 = 18
R_A2 = 19
R_PA0 = 20
R_PA1 = 21
R_STP = 22
R_PHI1 = 23
R_DERPHI1 = 24
R_DS = 25
R_GINIT = 26
R_GTEST = 27
R_GX = 28
R_GY = 29
R_FINIT = 30
R_FX = 31
R_FY = 32
R_STX = 33
R_STY = 34
R_STMIN = 35
R_STMAX = 36
R_WIDTH = 37
R_WIDTH1 = 38
R_NF = 39
R_NX = 40
R_NDX = 41
R_TOL = 42
R_PPLUS = 43
R_TMPNRM = 44     # ||Ft||_2 of the stored line-search residual
R_TMPFIN = 45     # 1 if that residual is finite
R_KNOWN = 46      # 1 if F is the stored residual: its norm is known
NR = 48
OX = NR           # x, F, dx, xe (evaluation point), Ft (line-search F)

# the options vector of nonlin_run: one float64 array instead of ~16
# scalar arguments (each argument of a call from Python costs ~0.2 us)
O_KIND = 0
O_ALPHA = 1
O_RED = 2
O_MAXRANK = 3
O_TORETAIN = 4
O_W0 = 5
O_M = 6
O_ALPHAMAX = 7
O_FTOL = 8
O_FRTOL = 9
O_XTOL = 10
O_XRTOL = 11
O_ITERLIM = 12     # -1: None
O_MAXITER = 13     # nan: the default (iter + 1, or 100 (n + 1))
O_LS = 14
O_NORM = 15
NO = 16

# phases
P_START = 0
P_F0 = 1
P_CHECK = 2
P_NORMS_DONE = 3
P_SOLVED = 4
P_FULL = 5
P_LS_START = 6
P_ARM0 = 7
P_ARM1 = 8
P_ARMLOOP = 9
P_ARM2 = 10
P_W_D0 = 11
P_W_ITER = 12
P_W_PHI = 13
P_W_DER = 14
P_W_DER2 = 15
P_LS_END = 16
P_LS_FEVAL = 17
P_ACCEPT = 18
P_UPDATE = 19
P_UPDATED = 20
P_REPORTED = 21
P_PHI_EVAL = 22

# line-search constants (SciPy's _nonlin_line_search)
_C1 = 1e-4
_C2 = 0.9
_AMIN = 1e-2
_AMAX = 50.0
_WOLFE_XTOL = 1e-2
_RDIFF = 1e-8
_WOLFE_MAXITER = 100

# Eisenstat-Walker forcing terms (choice 2 of the 1996 paper)
_GAMMA = 0.9
_ETA_MAX = 0.9999
_ETA_THRESHOLD = 0.1
_ETA0 = 1e-3

# DCSRCH tasks
_T_FG = 1
_T_CONV = 2
_T_WARN = 3
_T_ERROR = 4


@kernel
def nonlin_start(x0, f_tol, f_rtol, x_tol, x_rtol, iterlim, maxiter,
                 line_search, norm_kind, generic, report):
    """The driver's state ``(iw, rw)`` for the start ``x0`` (C float64).

    ``iterlim`` is SciPy's ``iter`` (-1 for None), ``line_search`` one of
    LS_NONE/LS_ARMIJO/LS_WOLFE, ``norm_kind`` NORM_MAX/NORM_TWO/
    NORM_EXTERNAL, ``generic`` whether the Jacobian is run from Python,
    ``report`` whether to stop with REPORT after every iteration."""
    return nonlin_start_in(np.empty(NR + 5 * x0.size), x0, f_tol, f_rtol,
                           x_tol, x_rtol, iterlim, maxiter, line_search,
                           norm_kind, generic, report)


@kernel
def nonlin_start_in(buffer, x0, f_tol, f_rtol, x_tol, x_rtol, iterlim,
                    maxiter, line_search, norm_kind, generic, report):
    """:func:`nonlin_start` with ``rw`` the first ``NR + 5 n`` entries of
    ``buffer`` (a C float64 vector, uninitialised)."""
    iw = np.zeros(NI, np.int64)
    rw = buffer[:NR + 5 * x0.size]
    rw[:] = 0.0
    _init_state(iw, rw, x0, f_tol, f_rtol, x_tol, x_rtol, iterlim, maxiter,
                line_search, norm_kind, generic, report)
    return iw, rw


@inline_kernel
def _init_state(iw, rw, x0, f_tol, f_rtol, x_tol, x_rtol, iterlim, maxiter,
                line_search, norm_kind, generic, report):
    # nonlin_start into a zeroed iw (NI) and rw (NR + 5 n)
    n = x0.size
    iw[I_MAXITER] = maxiter
    iw[I_ITERLIM] = iterlim
    iw[I_LS] = line_search
    iw[I_NORM] = norm_kind
    iw[I_GENERIC] = 1 if generic else 0
    iw[I_REPORT] = 1 if report else 0
    iw[I_PHASE] = P_START
    rw[R_FTOL] = f_tol
    rw[R_FRTOL] = f_rtol
    rw[R_XTOL] = x_tol
    rw[R_XRTOL] = x_rtol
    rw[R_ETA] = _ETA0
    rw[OX:OX + n] = x0
    rw[OX + 2 * n:OX + 3 * n] = np.inf      # SciPy's initial dx


@inline_kernel
def _copy(dst, src):
    # an explicit loop: a slice assignment costs ~40 ns per call in numba
    for i in range(dst.size):
        dst[i] = src[i]


@inline_kernel
def _norm2(v):
    return np.sqrt(_dot(v, v))


@inline_kernel
def _nan_or_inf_sum(v):
    # sum of v * 0: nan iff some entry is nan or inf (a branch-free loop
    # with eight partial sums, which vectorises)
    n = v.size
    m = n - n % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for i in range(0, m, 8):
        s0 += v[i] * 0.0
        s1 += v[i + 1] * 0.0
        s2 += v[i + 2] * 0.0
        s3 += v[i + 3] * 0.0
        s4 += v[i + 4] * 0.0
        s5 += v[i + 5] * 0.0
        s6 += v[i + 6] * 0.0
        s7 += v[i + 7] * 0.0
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for i in range(m, n):
        s += v[i] * 0.0
    return s


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float64 whose IEEE bit pattern is the int64 ``bits``."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(bits), codegen


@inline_kernel
def _tol_norm(v, kind):
    if kind != NORM_MAX:
        return _norm2(v)
    # the max-norm and the finiteness test in one pass over the bit
    # patterns (see abs_max_bits)
    m = abs_max_bits(v)
    if m < INF_BITS:
        return _float_from_bits(m)
    # non-finite entries: nan wins (as numpy's max), else inf
    if m > INF_BITS:
        return np.nan
    return np.inf


@inline_kernel
def _finite_norm2(v):
    # (all entries finite, |v|_2) in one pass: the lanes of
    # _nan_or_inf_sum and of _dot side by side, so both results are
    # bitwise those of _all_finite and _norm2
    n = v.size
    m = n - n % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    z0 = z1 = z2 = z3 = z4 = z5 = z6 = z7 = 0.0
    for i in range(0, m, 8):
        a0 = v[i]
        a1 = v[i + 1]
        a2 = v[i + 2]
        a3 = v[i + 3]
        a4 = v[i + 4]
        a5 = v[i + 5]
        a6 = v[i + 6]
        a7 = v[i + 7]
        s0 += a0 * a0
        s1 += a1 * a1
        s2 += a2 * a2
        s3 += a3 * a3
        s4 += a4 * a4
        s5 += a5 * a5
        s6 += a6 * a6
        s7 += a7 * a7
        z0 += a0 * 0.0
        z1 += a1 * 0.0
        z2 += a2 * 0.0
        z3 += a3 * 0.0
        z4 += a4 * 0.0
        z5 += a5 * 0.0
        z6 += a6 * 0.0
        z7 += a7 * 0.0
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    z = ((z0 + z1) + (z2 + z3)) + ((z4 + z5) + (z6 + z7))
    for i in range(m, n):
        s += v[i] * v[i]
        z += v[i] * 0.0
    return z == 0.0, np.sqrt(s)


@inline_kernel
def _all_finite(v):
    return _nan_or_inf_sum(v) == 0.0


@inline_kernel
def _request_phi(iw, rw, n, s, store, nextphase):
    # phi(s) = |F(x + s dx)|^2 (inf if not finite), reusing the stored
    # value when s is the stored step.  True: an evaluation was requested.
    if s == rw[R_TMPS]:
        rw[R_PHIVAL] = rw[R_TMPPHI]
        iw[I_PHASE] = nextphase
        return False
    x = rw[OX:OX + n]
    dx = rw[OX + 2 * n:OX + 3 * n]
    xe = rw[OX + 3 * n:OX + 4 * n]
    for i in range(n):
        xe[i] = x[i] + s * dx[i]
    rw[R_PHIS] = s
    iw[I_STORE] = 1 if store else 0
    iw[I_NEXT] = nextphase
    iw[I_PHASE] = P_PHI_EVAL
    iw[I_ACTION] = EVALUATE_F
    return True


@kernel
def _dcstep(stx, fx, dx, sty, fy, dy, stp, fp, dp, brackt, stpmin, stpmax):
    # More & Thuente's safeguarded step (MINPACK-2 dcstep)
    sgnd = np.sign(dp) * np.sign(dx)
    if fp > fx:
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * np.sqrt((theta / s) ** 2 - (dx / s) * (dp / s))
        if stp < stx:
            gamma = -gamma
        p = (gamma - dx) + theta
        q = ((gamma - dx) + gamma) + dp
        r = p / q
        stpc = stx + r * (stp - stx)
        stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
        if abs(stpc - stx) <= abs(stpq - stx):
            stpf = stpc
        else:
            stpf = stpc + (stpq - stpc) / 2.0
        brackt = True
    elif sgnd < 0.0:
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * np.sqrt((theta / s) ** 2 - (dx / s) * (dp / s))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + dx
        r = p / q
        stpc = stp + r * (stx - stp)
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if abs(stpc - stp) > abs(stpq - stp):
            stpf = stpc
        else:
            stpf = stpq
        brackt = True
    elif abs(dp) < abs(dx):
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * np.sqrt(max(0.0, (theta / s) ** 2 - (dx / s) * (dp / s)))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = (gamma + (dx - dp)) + gamma
        r = p / q
        if r < 0 and gamma != 0:
            stpc = stp + r * (stx - stp)
        elif stp > stx:
            stpc = stpmax
        else:
            stpc = stpmin
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if brackt:
            if abs(stpc - stp) < abs(stpq - stp):
                stpf = stpc
            else:
                stpf = stpq
            if stp > stx:
                stpf = min(stp + 0.66 * (sty - stp), stpf)
            else:
                stpf = max(stp + 0.66 * (sty - stp), stpf)
        else:
            if abs(stpc - stp) > abs(stpq - stp):
                stpf = stpc
            else:
                stpf = stpq
            stpf = min(max(stpf, stpmin), stpmax)
    else:
        if brackt:
            theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp
            s = max(abs(theta), abs(dy), abs(dp))
            gamma = s * np.sqrt((theta / s) ** 2 - (dy / s) * (dp / s))
            if stp > sty:
                gamma = -gamma
            p = (gamma - dp) + theta
            q = ((gamma - dp) + gamma) + dy
            r = p / q
            stpc = stp + r * (sty - stp)
            stpf = stpc
        elif stp > stx:
            stpf = stpmax
        else:
            stpf = stpmin
    if fp > fx:
        sty = stp
        fy = fp
        dy = dp
    else:
        if sgnd < 0:
            sty = stx
            fy = fx
            dy = dx
        stx = stp
        fx = fp
        dx = dp
    return stx, fx, dx, sty, fy, dy, stpf, brackt


@kernel
def _dcsrch(iw, rw, stp, f, g, start):
    # One call of More & Thuente's DCSRCH (MINPACK-2) with ftol=c1,
    # gtol=c2, xtol, stpmin=amin, stpmax=amax; returns (stp, task).
    ftol = _C1
    gtol = _C2
    xtol = _WOLFE_XTOL
    stpmin = _AMIN
    stpmax = _AMAX
    if start:
        if stp < stpmin or stp > stpmax or g >= 0:
            return stp, _T_ERROR
        iw[I_BRACKT] = 0
        iw[I_STAGE] = 1
        rw[R_FINIT] = f
        rw[R_GINIT] = g
        rw[R_GTEST] = ftol * g
        rw[R_WIDTH] = stpmax - stpmin
        rw[R_WIDTH1] = (stpmax - stpmin) / 0.5
        rw[R_STX] = 0.0
        rw[R_FX] = f
        rw[R_GX] = g
        rw[R_STY] = 0.0
        rw[R_FY] = f
        rw[R_GY] = g
        rw[R_STMIN] = 0.0
        rw[R_STMAX] = stp + 4.0 * stp
        return stp, _T_FG
    brackt = iw[I_BRACKT] != 0
    gtest = rw[R_GTEST]
    ftest = rw[R_FINIT] + stp * gtest
    stmin = rw[R_STMIN]
    stmax = rw[R_STMAX]
    if iw[I_STAGE] == 1 and f <= ftest and g >= 0:
        iw[I_STAGE] = 2
    task = 0
    if brackt and (stp <= stmin or stp >= stmax):
        task = _T_WARN
    if brackt and stmax - stmin <= xtol * stmax:
        task = _T_WARN
    if stp == stpmax and f <= ftest and g <= gtest:
        task = _T_WARN
    if stp == stpmin and (f > ftest or g >= gtest):
        task = _T_WARN
    if f <= ftest and abs(g) <= gtol * (-rw[R_GINIT]):
        task = _T_CONV
    if task != 0:
        return stp, task
    stx = rw[R_STX]
    sty = rw[R_STY]
    if iw[I_STAGE] == 1 and f <= rw[R_FX] and f > ftest:
        fm = f - stp * gtest
        fxm = rw[R_FX] - stx * gtest
        fym = rw[R_FY] - sty * gtest
        gm = g - gtest
        gxm = rw[R_GX] - gtest
        gym = rw[R_GY] - gtest
        stx, fxm, gxm, sty, fym, gym, stp, brackt = _dcstep(
            stx, fxm, gxm, sty, fym, gym, stp, fm, gm, brackt, stmin, stmax)
        rw[R_FX] = fxm + stx * gtest
        rw[R_FY] = fym + sty * gtest
        rw[R_GX] = gxm + gtest
        rw[R_GY] = gym + gtest
    else:
        stx, fx, gx, sty, fy, gy, stp, brackt = _dcstep(
            stx, rw[R_FX], rw[R_GX], sty, rw[R_FY], rw[R_GY], stp, f, g,
            brackt, stmin, stmax)
        rw[R_FX] = fx
        rw[R_GX] = gx
        rw[R_FY] = fy
        rw[R_GY] = gy
    rw[R_STX] = stx
    rw[R_STY] = sty
    if brackt:
        if abs(sty - stx) >= 0.66 * rw[R_WIDTH1]:
            stp = stx + 0.5 * (sty - stx)
        rw[R_WIDTH1] = rw[R_WIDTH]
        rw[R_WIDTH] = abs(sty - stx)
        stmin = min(stx, sty)
        stmax = max(stx, sty)
    else:
        stmin = stp + 1.1 * (stp - stx)
        stmax = stp + 4.0 * (stp - stx)
    rw[R_STMIN] = stmin
    rw[R_STMAX] = stmax
    iw[I_BRACKT] = 1 if brackt else 0
    stp = min(max(stp, stpmin), stpmax)
    if (brackt and (stp <= stmin or stp >= stmax)) or (
            brackt and stmax - stmin <= xtol * stmax):
        stp = stx
    return stp, _T_FG


@kernel
def nonlin_advance(iw, rw, f, jr, hist, dense):
    """Advance the driver to its next request (see the module docstring);
    ``f`` is F at the requested point after EVALUATE_F (otherwise
    ignored); ``(jr, hist, dense)`` the built-in Jacobian's state (dummies
    for a Python Jacobian).  Returns the request."""
    # Borrowed aliases (the caller keeps the arrays alive; nothing here
    # outlives the call): every view taken below, of the state and of the
    # history rows, would otherwise cost an atomic increment and decrement
    # of its owner's count -- at n = 100 those were four times the
    # driver's own arithmetic.
    iw = borrowed(iw)
    rw = borrowed(rw)
    f = borrowed(f)
    jr = borrowed(jr)
    hist = borrowed(hist)
    dense = borrowed(dense)
    n = (rw.size - NR) // 5
    x = rw[OX:OX + n]
    F = rw[OX + n:OX + 2 * n]
    dx = rw[OX + 2 * n:OX + 3 * n]
    xe = rw[OX + 3 * n:OX + 4 * n]
    Ft = rw[OX + 4 * n:OX + 5 * n]
    generic = iw[I_GENERIC] != 0
    while True:
        phase = iw[I_PHASE]
        if phase == P_START:
            _copy(xe, x)
            iw[I_PHASE] = P_F0
            iw[I_ACTION] = EVALUATE_F
            return EVALUATE_F
        elif phase == P_F0:
            iw[I_NFEV] += 1
            _copy(F, f)
            finite, nrm = _finite_norm2(F)
            if not finite:
                iw[I_STATUS] = NONFINITE_F
                break
            rw[R_FNORM] = nrm
            iw[I_PHASE] = P_CHECK
            if generic:
                iw[I_ACTION] = SETUP
                return SETUP
            jac_setup(jr, hist, dense, x, F)
        elif phase == P_CHECK:
            if iw[I_NLOOP] >= iw[I_MAXITER]:
                iw[I_STATUS] = EXHAUSTED
                break
            iw[I_ITER] += 1
            iw[I_PHASE] = P_NORMS_DONE
            kind = iw[I_NORM]
            if kind == NORM_EXTERNAL:
                iw[I_ACTION] = NORMS
                return NORMS
            rw[R_NF] = _tol_norm(F, kind)
            rw[R_NX] = _tol_norm(x, kind)
            rw[R_NDX] = _tol_norm(dx, kind)
        elif phase == P_NORMS_DONE:
            nf = rw[R_NF]
            if rw[R_HAVE_F0] == 0.0:
                rw[R_F0NORM] = nf
                rw[R_HAVE_F0] = 1.0
            if nf == 0:
                iw[I_STATUS] = CONVERGED
                break
            if iw[I_ITERLIM] >= 0:
                if iw[I_ITER] > iw[I_ITERLIM]:
                    iw[I_STATUS] = ITER_REACHED
                    break
            elif (nf <= rw[R_FTOL] and nf / rw[R_FRTOL] <= rw[R_F0NORM]
                  and rw[R_NDX] <= rw[R_XTOL]
                  and rw[R_NDX] / rw[R_XRTOL] <= rw[R_NX]):
                iw[I_STATUS] = CONVERGED
                break
            eta = rw[R_ETA]
            rw[R_TOL] = min(eta, eta * rw[R_FNORM])
            iw[I_PHASE] = P_SOLVED
            if generic:
                iw[I_ACTION] = SOLVE
                return SOLVE
            jac_solve(jr, hist, dense, F, dx)
            for i in range(n):
                dx[i] = -dx[i]
        elif phase == P_SOLVED:
            finite, ndx = _finite_norm2(dx)
            if not finite:
                iw[I_STATUS] = NONFINITE_STEP
                break
            if ndx == 0:
                iw[I_STATUS] = ZERO_STEP
                break
            ls = iw[I_LS]
            if ls == LS_NONE:
                rw[R_S] = 1.0
                for i in range(n):
                    xe[i] = x[i] + dx[i]
                iw[I_PHASE] = P_FULL
                iw[I_ACTION] = EVALUATE_F
                return EVALUATE_F
            rw[R_TMPS] = 0.0
            rw[R_PHIS] = np.nan     # no point of this line search yet
            fn = rw[R_FNORM]
            rw[R_TMPPHI] = fn * fn
            _copy(Ft, F)
            rw[R_TMPNRM] = fn
            rw[R_TMPFIN] = 1.0
            rw[R_SNORM] = _norm2(x) / ndx
            iw[I_LSFAIL] = 0
            rw[R_PHI0] = rw[R_TMPPHI]
            if ls == LS_ARMIJO:
                rw[R_DERPHI0] = -rw[R_PHI0]
                rw[R_A0] = 1.0
                if _request_phi(iw, rw, n, 1.0, True, P_ARM0):
                    return EVALUATE_F
            else:
                ds = (0.0 + rw[R_SNORM] + 1.0) * _RDIFF
                rw[R_DS] = ds
                if _request_phi(iw, rw, n, 0.0 + ds, False, P_W_D0):
                    return EVALUATE_F
        elif phase == P_PHI_EVAL:
            iw[I_NFEV] += 1
            finite, nrm = _finite_norm2(f)
            p = nrm * nrm if finite else np.inf
            if iw[I_STORE] != 0:
                rw[R_TMPS] = rw[R_PHIS]
                rw[R_TMPPHI] = p
                _copy(Ft, f)
                rw[R_TMPNRM] = nrm
                rw[R_TMPFIN] = 1.0 if finite else 0.0
            rw[R_PHIVAL] = p
            iw[I_PHASE] = iw[I_NEXT]
        elif phase == P_FULL:
            iw[I_NFEV] += 1
            _copy(x, xe)
            _copy(F, f)
            iw[I_PHASE] = P_ACCEPT
        # ---- armijo: scalar_search_armijo(phi, phi0, -phi0, amin=1e-2)
        elif phase == P_ARM0:
            phi0 = rw[R_PHI0]
            derphi0 = rw[R_DERPHI0]
            a0 = rw[R_A0]
            pa0 = rw[R_PHIVAL]
            rw[R_PA0] = pa0
            if pa0 <= phi0 + _C1 * a0 * derphi0:
                rw[R_S] = a0
                iw[I_PHASE] = P_LS_END
                continue
            a1 = -derphi0 * a0 ** 2 / 2.0 / (pa0 - phi0 - derphi0 * a0)
            rw[R_A1] = a1
            if _request_phi(iw, rw, n, a1, True, P_ARM1):
                return EVALUATE_F
        elif phase == P_ARM1:
            pa1 = rw[R_PHIVAL]
            rw[R_PA1] = pa1
            a1 = rw[R_A1]
            if pa1 <= rw[R_PHI0] + _C1 * a1 * rw[R_DERPHI0]:
                rw[R_S] = a1
                iw[I_PHASE] = P_LS_END
                continue
            iw[I_PHASE] = P_ARMLOOP
        elif phase == P_ARMLOOP:
            a0 = rw[R_A0]
            a1 = rw[R_A1]
            if not a1 > _AMIN:
                iw[I_LSFAIL] = 1
                iw[I_PHASE] = P_LS_END
                continue
            phi0 = rw[R_PHI0]
            derphi0 = rw[R_DERPHI0]
            pa0 = rw[R_PA0]
            pa1 = rw[R_PA1]
            factor = a0 ** 2 * a1 ** 2 * (a1 - a0)
            a = a0 ** 2 * (pa1 - phi0 - derphi0 * a1) - \
                a1 ** 2 * (pa0 - phi0 - derphi0 * a0)
            a = a / factor
            b = -a0 ** 3 * (pa1 - phi0 - derphi0 * a1) + \
                a1 ** 3 * (pa0 - phi0 - derphi0 * a0)
            b = b / factor
            a2 = (-b + np.sqrt(abs(b ** 2 - 3 * a * derphi0))) / (3.0 * a)
            rw[R_A2] = a2
            if _request_phi(iw, rw, n, a2, True, P_ARM2):
                return EVALUATE_F
        elif phase == P_ARM2:
            pa2 = rw[R_PHIVAL]
            a1 = rw[R_A1]
            a2 = rw[R_A2]
            if pa2 <= rw[R_PHI0] + _C1 * a2 * rw[R_DERPHI0]:
                rw[R_S] = a2
                iw[I_PHASE] = P_LS_END
                continue
            if (a1 - a2) > a1 / 2.0 or (1 - a2 / a1) < 0.96:
                a2 = a1 / 2.0
            rw[R_A0] = a1
            rw[R_A1] = a2
            rw[R_PA0] = rw[R_PA1]
            rw[R_PA1] = pa2
            iw[I_PHASE] = P_ARMLOOP
        # ---- wolfe: scalar_search_wolfe1(phi, derphi, phi0, xtol=1e-2,
        # amin=1e-2), derphi a forward difference
        elif phase == P_W_D0:
            # derphi(0) = (phi(ds) - phi(0)) / ds; phi(0) is stored
            rw[R_DERPHI0] = (rw[R_PHIVAL] - rw[R_TMPPHI]) / rw[R_DS]
            rw[R_STP] = 1.0
            rw[R_PHI1] = rw[R_PHI0]
            rw[R_DERPHI1] = rw[R_DERPHI0]
            iw[I_LSIT] = 0
            iw[I_PHASE] = P_W_ITER
        elif phase == P_W_ITER:
            it = iw[I_LSIT]
            if it >= _WOLFE_MAXITER:
                iw[I_LSFAIL] = 1
                iw[I_PHASE] = P_LS_END
                continue
            stp, task = _dcsrch(iw, rw, rw[R_STP], rw[R_PHI1],
                                rw[R_DERPHI1], it == 0)
            iw[I_LSIT] = it + 1
            if not np.isfinite(stp):
                iw[I_LSFAIL] = 1
                iw[I_PHASE] = P_LS_END
                continue
            if task == _T_FG:
                rw[R_STP] = stp
                if _request_phi(iw, rw, n, stp, True, P_W_PHI):
                    return EVALUATE_F
            elif task == _T_CONV:
                rw[R_S] = stp
                iw[I_PHASE] = P_LS_END
            else:
                iw[I_LSFAIL] = 1
                iw[I_PHASE] = P_LS_END
        elif phase == P_W_PHI:
            rw[R_PHI1] = rw[R_PHIVAL]
            stp = rw[R_STP]
            ds = (abs(stp) + rw[R_SNORM] + 1.0) * _RDIFF
            rw[R_DS] = ds
            if _request_phi(iw, rw, n, stp + ds, False, P_W_DER):
                return EVALUATE_F
        elif phase == P_W_DER:
            rw[R_PPLUS] = rw[R_PHIVAL]
            if _request_phi(iw, rw, n, rw[R_STP], True, P_W_DER2):
                return EVALUATE_F
        elif phase == P_W_DER2:
            rw[R_DERPHI1] = (rw[R_PPLUS] - rw[R_PHIVAL]) / rw[R_DS]
            iw[I_PHASE] = P_W_ITER
        elif phase == P_LS_END:
            if iw[I_LSFAIL] != 0:
                # no suitable step: take the full step (SciPy's choice)
                rw[R_S] = 1.0
            s = rw[R_S]
            # xe already holds x + s dx when s was the last point asked
            # for (the same expression): one pass saved
            ready = s == rw[R_PHIS]
            if s == rw[R_TMPS]:
                if ready:
                    _copy(x, xe)
                else:
                    for i in range(n):
                        x[i] = x[i] + s * dx[i]
                _copy(F, Ft)
                rw[R_KNOWN] = 1.0
                iw[I_PHASE] = P_ACCEPT
            else:
                if not ready:
                    for i in range(n):
                        xe[i] = x[i] + s * dx[i]
                iw[I_PHASE] = P_LS_FEVAL
                iw[I_ACTION] = EVALUATE_F
                return EVALUATE_F
        elif phase == P_LS_FEVAL:
            iw[I_NFEV] += 1
            _copy(x, xe)
            _copy(F, f)
            iw[I_PHASE] = P_ACCEPT
        elif phase == P_ACCEPT:
            if rw[R_KNOWN] != 0.0:
                # F is the stored line-search residual, whose norm was
                # computed when it was evaluated (bitwise the same)
                rw[R_KNOWN] = 0.0
                finite = rw[R_TMPFIN] != 0.0
                nrm = rw[R_TMPNRM]
            else:
                finite, nrm = _finite_norm2(F)
            if not finite:
                iw[I_STATUS] = NONFINITE_F
                break
            rw[R_FNORM_NEW] = nrm
            if generic:
                iw[I_PHASE] = P_UPDATED
                iw[I_ACTION] = UPDATE
                return UPDATE
            iw[I_PHASE] = P_UPDATE
        elif phase == P_UPDATE:
            if jac_prepare(jr, hist, dense):
                iw[I_ACTION] = RESIZE
                return RESIZE
            jac_update(jr, hist, dense, x, F)
            iw[I_PHASE] = P_UPDATED
        elif phase == P_UPDATED:
            iw[I_PHASE] = P_REPORTED
            if iw[I_REPORT] != 0:
                iw[I_ACTION] = REPORT
                return REPORT
        elif phase == P_REPORTED:
            # Eisenstat-Walker forcing term for the next inner solve
            fnew = rw[R_FNORM_NEW]
            fold = rw[R_FNORM]
            eta = rw[R_ETA]
            eta_a = _GAMMA * fnew ** 2 / fold ** 2
            if _GAMMA * eta ** 2 < _ETA_THRESHOLD:
                eta = min(_ETA_MAX, eta_a)
            else:
                eta = min(_ETA_MAX, max(eta_a, _GAMMA * eta ** 2))
            rw[R_ETA] = eta
            rw[R_FNORM] = fnew
            iw[I_NLOOP] += 1
            iw[I_PHASE] = P_CHECK
        else:
            iw[I_STATUS] = -1
            break
    iw[I_ACTION] = DONE
    return DONE


@inline_kernel
def _evaluate(fun, args, point, iw, n):
    # F at the point; a residual of the wrong size stops the driver
    f = call_with(fun, point, args)
    if f.size != n:
        iw[I_STATUS] = BAD_F_SIZE
        iw[I_FSIZE] = f.size
        iw[I_ACTION] = DONE
        return f, False
    return f, True


@inline_kernel
def _start_with(iw, rw, x0, opts, generic):
    # _init_state with the options vector of nonlin_run; maxiter's
    # default is SciPy's: iter + 1, or 100 (n + 1)
    iterlim = int(opts[O_ITERLIM])
    if np.isnan(opts[O_MAXITER]):
        maxiter = iterlim + 1 if iterlim >= 0 else 100 * (x0.size + 1)
    else:
        maxiter = int(opts[O_MAXITER])
    _init_state(iw, rw, x0, opts[O_FTOL], opts[O_FRTOL], opts[O_XTOL],
                opts[O_XRTOL], iterlim, maxiter, int(opts[O_LS]),
                int(opts[O_NORM]), generic, False)


@kernel
def nonlin_at(c_addr, jit_addr, args, x0, iw, rw, jr, hist, dense):
    """Run the driver to completion for the compiled function at the given
    addresses (``fun(x, *args)``), with a built-in Jacobian; typed only on
    the type of ``args``, so compiled once and cached.  Returns the
    (possibly resized) ``(hist, dense)``; a residual of the wrong size
    stops with status BAD_F_SIZE and its size in ``iw[I_FSIZE]``."""
    # (the empty vector is the type of the point, a C float64 vector)
    fun = as_function(c_addr, jit_addr, np.empty(0), args)
    n = x0.size
    f = np.empty(0)
    # F gets a copy of each point (it may overwrite its argument), always
    # in the same buffer: one allocation per solve, not per evaluation
    point = np.empty(n)
    # (the requested point through a borrowed alias: a view of rw itself
    # would cost an atomic reference-count update per evaluation)
    brw = borrowed(rw)
    while True:
        action = nonlin_advance(iw, rw, f, jr, hist, dense)
        if action == EVALUATE_F:
            _copy(point, brw[OX + 3 * n:OX + 4 * n])
            f, ok = _evaluate(fun, args, point, iw, n)
            if not ok:
                break
        elif action == RESIZE:
            hist, dense = jac_resize(jr, hist, dense)
        else:
            break
    return hist, dense


@kernel
def nonlin_workspace_size(n, opts):
    """The length of the work array :func:`nonlin_run` needs for ``n``
    unknowns and the options ``opts``."""
    cap = jac_capacity(int(opts[O_KIND]), n, opts[O_MAXRANK], opts[O_M])
    return jac_size(n) + NR + 5 * n + 2 * cap * n


@kernel
def nonlin_run(c_addr, jit_addr, args, x0, opts, arena):
    """A whole solve for the compiled function at the given addresses with
    a built-in Jacobian, in one call: the Jacobian state
    (:func:`fastopt._kernels.jacobians.jac_new`), the driver state
    (:func:`nonlin_start`) and :func:`nonlin_at`, options packed in
    ``opts`` (``O_*`` slots, length ``NO``).  ``arena`` is the work array
    (uninitialised, :func:`nonlin_workspace_size` entries), or an empty
    array for the kernel to allocate it.  Returns ``(x, F, status, nit,
    nfev, fsize)``: copies of the final iterate and residual and the
    integers the caller reports (``fsize`` the size of a residual of the
    wrong size, for status BAD_F_SIZE); nothing more, since each returned
    array costs a boxing on the way to Python."""
    n = x0.size
    kind = int(opts[O_KIND])
    # The Jacobian's state, the driver's vectors and the history in one
    # block, not three: glibc's malloc returns a freed block to the
    # system when it exceeds twice the largest block freed before, and
    # three blocks of (5 + 5 + 2 M) n doubles do (for Anderson's M = 5), so
    # every later solve page-faulted on fresh memory again -- at n = 10**5
    # about 4,000 faults, half the time of a short solve.  One block is
    # reused from the heap, up to the ~32 MB above which malloc maps every
    # block afresh; the caller passes larger ones, allocated by NumPy, which
    # asks for transparent huge pages.
    total = nonlin_workspace_size(n, opts)
    if arena.size < total:
        arena = np.empty(total)
    njr = jac_size(n)
    nrw = NR + 5 * n
    cap = jac_capacity(kind, n, opts[O_MAXRANK], opts[O_M])
    jr = arena[:njr]
    rw = arena[njr:njr + nrw]
    for i in range(njr + nrw):
        arena[i] = 0.0
    hist = arena[njr + nrw:total].reshape((2 * cap, n))
    dense = jac_init(jr, kind, n, opts[O_ALPHA], int(opts[O_RED]),
                     opts[O_MAXRANK], opts[O_TORETAIN], opts[O_W0],
                     opts[O_M], opts[O_ALPHAMAX])
    iw = np.zeros(NI, np.int64)
    _start_with(iw, rw, x0, opts, False)
    nonlin_at(c_addr, jit_addr, args, x0, iw, rw, jr, hist, dense)
    x = rw[OX:OX + n].copy()
    F = rw[OX + n:OX + 2 * n].copy()
    return x, F, iw[I_STATUS], iw[I_ITER], iw[I_NFEV], iw[I_FSIZE]


@kernel
def nonlin_krylov_at(c_addr, jit_addr, args, x0, iw, rw, kiw, krw, kj):
    """Run the driver (started with ``generic=True``) to completion for the
    compiled function at the given addresses, with the compiled
    Jacobian-free Newton-Krylov strategy ``(kiw, krw, kj)``
    (:func:`fastopt._kernels.krylov_jacobian.kj_new`) serving SETUP,
    SOLVE and UPDATE.  The products' evaluations of F are added to
    ``iw[I_NFEV]``.  A residual of the wrong size stops with BAD_F_SIZE,
    a failure of the strategy with KRYLOV_FAILED (code in
    ``iw[I_DETAIL]``, sizes and infos in ``kj``)."""
    n = x0.size
    fun = as_function(c_addr, jit_addr, np.empty(0), args)
    f = np.empty(0)
    no_f = f
    jr = np.empty(0)
    none = np.empty((0, 0))
    x = rw[OX:OX + n]
    F = rw[OX + n:OX + 2 * n]
    dx = rw[OX + 2 * n:OX + 3 * n]
    # the driver's trial point and trial residual are idle during a solve:
    # the strategy's scratch
    work = rw[OX + 3 * n:OX + 5 * n]
    # and the inner solver's residual vector is idle between solves: the
    # copy of each point handed to F lives there instead of in a fresh
    # array (one vector less at the peak; F may overwrite its argument)
    orr = kiw[kr.I_R]
    xcopy = krw[orr:orr + n]
    while True:
        action = nonlin_advance(iw, rw, f, jr, none, none)
        # the driver has copied f: holding it through a solve would keep
        # one more vector alive at the solve's peak
        f = no_f
        if action == EVALUATE_F:
            _copy(xcopy, rw[OX + 3 * n:OX + 4 * n])
            f, ok = _evaluate(fun, args, xcopy, iw, n)
            if not ok:
                break
        elif action == SOLVE:
            # the strategy keeps no copy of x and F (they do not change
            # between an update and the next solve)
            status = kj_solve(c_addr, jit_addr, args, kiw, krw, kj, x, F, F,
                              rw[R_TOL], dx, work)
            iw[I_NFEV] += int(kj[K_NFEV])
            kj[K_NFEV] = 0.0
            if status != 0:
                iw[I_STATUS] = KRYLOV_FAILED
                iw[I_DETAIL] = status
                iw[I_ACTION] = DONE
                break
            for i in range(n):
                dx[i] = -dx[i]
        elif action == UPDATE:
            kj_update(kj, x, F)
        elif action == SETUP:
            kj_setup(kj, x, F)
        else:
            break


@kernel
def nonlin_krylov_run(c_addr, jit_addr, args, x0, opts, kopts, krw):
    """A whole Newton-Krylov solve for the compiled function at the given
    addresses in one call: driver options ``opts`` as for
    :func:`nonlin_run` (the Jacobian slots unused), the Krylov Jacobian's
    ``kopts`` (:mod:`fastopt._kernels.krylov_jacobian`), and its
    uninitialised workspace ``krw`` of
    :func:`~fastopt._kernels.krylov_jacobian.kj_workspace_size` entries,
    or of ``NR + 5 n`` more, which then hold the driver's ``rw`` too.

    The caller allocates ``krw`` (fastopt._spare_work's array, kept
    between solves): at 10^5 unknowns lgmres's workspace is above the size
    from which malloc maps fresh memory on every call, and faulting it in
    4 kB pages took a quarter of the solve.

    Returns ``(rw, iw, kiw, krw_head, kj_head)``: the driver's states (x
    and F at ``rw[OX:OX + n]`` and ``rw[OX + n:OX + 2 * n]``; copy them
    before handing ``krw`` back when ``rw`` is a part of it), the
    Jacobian's integer state and the scalar heads of its real states (what
    the caller needs to report a failure)."""
    n = x0.size
    nk = kj_workspace_size(n, kopts)
    nrw = NR + 5 * n
    if krw.size >= nk + nrw:
        # the driver's state in the caller's array too
        rw = krw[nk:nk + nrw]
        rw[:] = 0.0
        krw = krw[:nk]
    else:
        rw = np.zeros(nrw)
    kiw, kj = kj_new_in(krw, n, kopts)
    iw = np.zeros(NI, np.int64)
    _start_with(iw, rw, x0, opts, True)
    nonlin_krylov_at(c_addr, jit_addr, args, x0, iw, rw, kiw, krw, kj)
    krw_head = krw[:kr.RW_HEAD].copy()
    kj_head = kj[:NKH].copy()
    return rw, iw, kiw, krw_head, kj_head
