"""The SLSQP iteration (Kraft 1988) as a reverse-communication kernel.

D. Kraft, "A software package for sequential quadratic programming",
DFVLR-FB 88-28 (1988), and ACM TOMS 20 (1994) 262-281 (algorithm 733).

One major iteration solves the quadratic subproblem

    min 1/2 s'Bs + g's   s.t.  C[:meq] s + d[:meq] = 0,
                               C[meq:] s + d[meq:] >= 0,
                               xl - x <= s <= xu - x

with :func:`fastopt._kernels.lsq.lsq` (B is a packed L D L' factor,
:mod:`fastopt._kernels.ldl`), falls back to Kraft's augmented problem when
the linearisation is inconsistent (one extra variable xi in [0, 1] relaxing
every constraint, weight rho = 100, 1000, ...), takes an inexact line
search on the L1 merit function ``f + sum mu_j viol_j`` and updates B by
BFGS with Powell's damping, resetting it to the identity when the update
is singular or the search direction is not a descent direction (at most
five resets, then a relaxed convergence test).

Calling convention (as SciPy's ``_slsqplib.slsqp``)::

    nrw, niw = slsqp_work_sizes(n, m, meq)
    rw = np.zeros(nrw); iw = np.zeros(niw, np.int64)
    slsqp_init(rw, iw, n, m, meq, ftol, maxiter)
    f, g, C, d = ... at x                      # x inside the bounds
    while True:
        mode = slsqp_iterate(rw, iw, f, g, C, d, x, xl, xu, mult)
        if mode == EVALUATE_F:     f, d = ... at x   (x was moved)
        elif mode == EVALUATE_G:   g, C = ... at x   (x unchanged)
        else: break                # 0 converged, 2..10 failures

Arrays: ``g`` float64[n], ``C`` float64[m, n] C-contiguous (rows:
equalities first), ``d`` float64[m], ``x`` float64[n] (updated in place,
clamped to the finite bounds before every EVALUATE_F), ``xl``/``xu``
float64[n] (NaN or an infinity: no bound), ``mult`` float64[m + 2n]
(written: ``[:m]`` constraint multipliers, equalities first, inequalities
>= 0; ``[m:m+n]`` lower-bound and ``[m+n:]`` upper-bound multipliers, >= 0,
with ``g = C' mult[:m] + mult[m:m+n] - mult[m+n:]`` at a solution).  The
caller must not change ``rw``, ``iw`` or ``mult`` between calls.  The
major-iteration counter is ``iw[I_ITER]``.

Modes: -1/1 as above; 0 converged; 2-9 SciPy's exit modes; 10 (fastopt) a
non-finite objective, gradient, constraint or constraint Jacobian value
(at a trial point of the line search a non-finite value first shortens the
step, as a merit increase would).

Differences from SciPy 1.17's C port, on purpose: the "linearisation was
inconsistent" flag persists until the next subproblem (SciPy's is a local
variable reset on every call, so its convergence test B never sees it),
and mode 10.
"""
import numpy as np

from ._jit import kernel
from .borrow import borrowed, borrowed_matrix
from .ldl import ldl_identity, ldl_multiply, ldl_update
from .lsq import lsq, lsq_work_size

__all__ = ["slsqp_work_sizes", "slsqp_init", "slsqp_iterate",
           "max_violation",
           "EVALUATE_F", "EVALUATE_G", "MODE_NONFINITE", "I_ITER",
           "I_MODE", "I_RESET", "I_LINE", "I_INCONSISTENT", "I_BADLIN"]

EVALUATE_F = 1
EVALUATE_G = -1
MODE_NONFINITE = 10

# Integer state
I_MODE = 0           # state of the reverse communication (SciPy's mode)
I_ITER = 1           # major iterations started
I_ITERMAX = 2
I_N = 3
I_M = 4
I_MEQ = 5
I_RESET = 6          # BFGS resets so far
I_LINE = 7           # trial points of the current line search
I_INCONSISTENT = 8   # rho increases in the last augmented subproblem
I_BADLIN = 9         # the last subproblem's linearisation was inconsistent
NIW = 12

# Scalar state at the head of rw
R_ACC = 0
R_TOL = 1
R_ALPHA = 2
R_F0 = 3
R_GS = 4
R_H1 = 5
R_H2 = 6
R_H3 = 7
R_H4 = 8
R_T = 9
R_T0 = 10
NRS = 12

# Labels of the state machine (Kraft's goto targets)
_START = 0
_RESET = 1
_ITER = 2
_LINE = 3
_AFTER_F = 4
_AFTER_G = 5
_RELAXED = 6


@kernel
def _offsets(n, m):
    # Start of each array in rw, and the total length without the LSQ work
    # (a tuple: an array would be allocated on every slsqp_iterate call).
    n1 = n + 1
    o0 = NRS                                     # bfgs  n(n+1)/2
    o1 = o0 + n * (n + 1) // 2                   # x0    n
    o2 = o1 + n                                  # mu    m
    o3 = o2 + m                                  # s     n+1
    o4 = o3 + n1                                 # u     n+1
    o5 = o4 + n1                                 # v     n+1
    o6 = o5 + n1                                 # aug. factor (n+1)(n+2)/2
    o7 = o6 + n1 * (n1 + 1) // 2                 # aug. C  m(n+1)
    o8 = o7 + m * n1                             # aug. g  n+1
    o9 = o8 + n1                                 # aug. xl n+1
    o10 = o9 + n1                                # aug. xu n+1
    o11 = o10 + n1                               # aug. mult m+2(n+1)
    o12 = o11 + m + 2 * n1                       # ldl scratch n+1
    o13 = o12 + n1                               # LSQ work
    return (o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12, o13)


@kernel
def slsqp_work_sizes(n, m, meq):
    """Lengths ``(nrw, niw)`` of the float64 and int64 state arrays of an
    SLSQP solve with ``n`` variables, ``m`` constraints, ``meq`` of them
    equalities."""
    o = _offsets(n, m)
    work = max(lsq_work_size(m, meq, n), lsq_work_size(m, meq, n + 1))
    return o[13] + work, NIW


@kernel
def slsqp_init(rw, iw, n, m, meq, ftol, maxiter):
    """Start a solve: store the sizes, ``acc = |ftol|``, ``tol = 10 acc``
    and the iteration limit; the next :func:`slsqp_iterate` call takes the
    values at the starting point."""
    for k in range(rw.size):
        rw[k] = 0.0
    for k in range(iw.size):
        iw[k] = 0
    iw[I_N] = n
    iw[I_M] = m
    iw[I_MEQ] = meq
    iw[I_ITERMAX] = maxiter
    rw[R_ACC] = abs(ftol)
    rw[R_TOL] = 10.0 * abs(ftol)


@kernel
def max_violation(d, meq, x, lb, ub):
    """Largest violation at ``x``: ``|d_j|`` (j < meq), ``-d_j`` (j >=
    meq), ``lb - x`` and ``x - ub`` (0 if none; inf if any is NaN)."""
    v = 0.0
    for j in range(d.size):
        t = abs(d[j]) if j < meq else -d[j]
        if t != t:
            return np.inf
        v = max(v, t)
    for i in range(x.size):
        v = max(v, lb[i] - x[i], x[i] - ub[i])
    return v


@kernel
def _violation(d, meq):
    # L1 norm of the constraint violation.
    h = 0.0
    for j in range(d.size):
        h += max(-d[j], d[j] if j < meq else 0.0)
    return h


@kernel
def _merit_penalty(d, mu, meq):
    # sum mu_j viol_j
    h = 0.0
    for j in range(d.size):
        h += mu[j] * max(-d[j], d[j] if j < meq else 0.0)
    return h


@kernel
def _all_finite(a):
    for k in range(a.size):
        if not np.isfinite(a[k]):
            return False
    return True


@kernel
def _all_finite_2d(a):
    for j in range(a.shape[0]):
        for i in range(a.shape[1]):
            if not np.isfinite(a[j, i]):
                return False
    return True


@kernel
def _lagrangian_gradient(g, C, mult, out):
    # out = g - C' mult[:m]
    n = g.size
    for i in range(n):
        out[i] = g[i]
    for j in range(C.shape[0]):
        mj = mult[j]
        if mj != 0.0:
            for i in range(n):
                out[i] -= C[j, i] * mj


@kernel
def _norm2(s, n):
    # Scaled two-norm of s[:n].
    scale = 0.0
    for i in range(n):
        scale = max(scale, abs(s[i]))
    if scale == 0.0 or not np.isfinite(scale):
        return scale
    sm = 0.0
    for i in range(n):
        t = s[i] / scale
        sm += t * t
    return scale * np.sqrt(sm)


@kernel
def _clamp(x, xl, xu):
    for i in range(x.size):
        if np.isfinite(xl[i]) and x[i] < xl[i]:
            x[i] = xl[i]
        elif np.isfinite(xu[i]) and x[i] > xu[i]:
            x[i] = xu[i]


@kernel
def _augmented_qp(rw, o, n, m, meq, g, C, d, u, v, s, mult, work):
    # Kraft's problem for an inconsistent linearisation: an extra variable
    # xi in [0, 1], no gradient, weight rho (the factor's last diagonal is
    # rho^2, as Kraft's E has rho there), constraint columns -d (eq) and
    # max(-d, 0) (ineq), so s = 0, xi = 1 is feasible.  rho grows tenfold
    # while the subproblem stays inconsistent, at most five times.
    n1 = n + 1
    bfgs = rw[o[0]:o[1]]
    ldl = rw[o[6]:o[7]]
    Ca = borrowed_matrix(rw, o[7], m, n1)
    ga = rw[o[8]:o[9]]
    xla = rw[o[9]:o[10]]
    xua = rw[o[10]:o[11]]
    ma = rw[o[11]:o[12]]
    for j in range(m):
        for i in range(n):
            Ca[j, i] = C[j, i]
        Ca[j, n] = -d[j] if j < meq else max(-d[j], 0.0)
    for i in range(n):
        ga[i] = g[i]
        xla[i] = u[i]
        xua[i] = v[i]
    ga[n] = 0.0
    xla[n] = 0.0
    xua[n] = 1.0
    # Column j of the order-n factor has n - j entries, of the order-(n+1)
    # factor n + 1 - j: copy and append a zero L[n, j].
    src = 0
    dst = 0
    for j in range(n):
        for k in range(n - j):
            ldl[dst + k] = bfgs[src + k]
        ldl[dst + n - j] = 0.0
        src += n - j
        dst += n + 1 - j
    rho = 100.0
    iw_incons = 0
    mode = 4
    while True:
        ldl[dst] = rho * rho
        for i in range(n1):
            s[i] = 0.0
        s[n] = 1.0
        mode = lsq(ldl, ga, Ca, d, meq, xla, xua, s, ma, work)
        if mode == 4:
            rho *= 10.0
            iw_incons += 1
            if iw_incons > 5:
                break
            continue
        break
    if mode == 1:
        for j in range(m):
            mult[j] = ma[j]
        for i in range(n):
            mult[m + i] = ma[m + i]
            mult[m + n + i] = ma[m + n1 + i]
    return mode, iw_incons


@kernel
def slsqp_iterate(rw, iw, f, g, C, d, x, xl, xu, mult):
    """Advance the SLSQP iteration until it needs values (module docstring).

    Returns
    -------
    mode : int
        1: evaluate ``f`` and ``d`` at the new ``x`` and call again;
        -1: evaluate ``g`` and ``C`` at ``x`` and call again; 0: converged;
        2-9: SciPy's exit modes; 10: non-finite values.
    """
    # Views of borrowed arrays skip numba's atomic reference counting,
    # which otherwise costs more than the arithmetic at small n; the
    # caller's arrays outlive this call.
    rw, iw, g, C = borrowed(rw), borrowed(iw), borrowed(g), borrowed(C)
    d = borrowed(d)
    x, xl, xu, mult = borrowed(x), borrowed(xl), borrowed(xu), borrowed(mult)
    n = iw[I_N]
    m = iw[I_M]
    meq = iw[I_MEQ]
    o = _offsets(n, m)
    bfgs = rw[o[0]:o[1]]
    x0 = rw[o[1]:o[2]]
    mu = rw[o[2]:o[3]]
    s = rw[o[3]:o[4]]
    u = rw[o[4]:o[5]]
    v = rw[o[5]:o[6]]
    wl = rw[o[12]:o[13]]
    work = rw[o[13]:]
    acc = rw[R_ACC]

    state = iw[I_MODE]
    if state == EVALUATE_F:
        label = _AFTER_F
    elif state == EVALUATE_G:
        label = _AFTER_G
    else:
        label = _START

    while True:
        if label == _START:
            if not (np.isfinite(f) and _all_finite(g) and _all_finite(d)
                    and _all_finite_2d(C)):
                iw[I_MODE] = MODE_NONFINITE
                return MODE_NONFINITE
            iw[I_ITER] = 0
            iw[I_RESET] = 0
            iw[I_BADLIN] = 0
            for i in range(s.size):
                s[i] = 0.0
            for j in range(m):
                mu[j] = 0.0
            for k in range(mult.size):
                mult[k] = 0.0
            label = _RESET

        elif label == _RESET:
            iw[I_RESET] += 1
            if iw[I_RESET] > 5:
                label = _RELAXED
                continue
            ldl_identity(bfgs)
            label = _ITER

        elif label == _ITER:
            if iw[I_ITER] >= iw[I_ITERMAX]:
                iw[I_MODE] = 9
                return 9
            iw[I_ITER] += 1
            # the quadratic subproblem, bounds relative to x
            for i in range(n):
                u[i] = xl[i] - x[i]
                v[i] = xu[i] - x[i]
            rw[R_H4] = 1.0
            sn = s[:n]
            mode = lsq(bfgs, g, C, d, meq, u[:n], v[:n], sn, mult, work)
            iw[I_BADLIN] = 0
            if mode == 6 and n == meq:
                mode = 4
            if mode == 4:
                iw[I_BADLIN] = 1
                rw[R_H3] = 0.0
                mode, incons = _augmented_qp(rw, o, n, m, meq, g, C, d, u,
                                             v, s, mult, work)
                iw[I_INCONSISTENT] = incons
                if mode != 1:
                    iw[I_MODE] = mode
                    return mode
                rw[R_H4] = 1.0 - s[n]
            elif mode != 1:
                iw[I_MODE] = mode
                return mode
            # the step stays inside the bounds
            for i in range(n):
                if np.isfinite(u[i]) and s[i] < u[i]:
                    s[i] = u[i]
                elif np.isfinite(v[i]) and s[i] > v[i]:
                    s[i] = v[i]
            # multipliers for the L1 test
            _lagrangian_gradient(g, C, mult, v)
            rw[R_F0] = f
            for i in range(n):
                x0[i] = x[i]
            gs = 0.0
            for i in range(n):
                gs += g[i] * s[i]
            rw[R_GS] = gs
            h1 = abs(gs)
            h2 = 0.0
            for j in range(m):
                h2 += max(-d[j], d[j] if j < meq else 0.0)
                h3 = abs(mult[j])
                mu[j] = max(h3, (mu[j] + h3) / 2.0)
                h1 += h3 * abs(d[j])
            # convergence test A
            if h1 < acc and h2 < acc and iw[I_BADLIN] == 0 and f == f:
                rw[R_H1] = h1
                rw[R_H2] = h2
                iw[I_MODE] = 0
                return 0
            h1 = _merit_penalty(d, mu, meq)
            rw[R_H1] = h1
            rw[R_H2] = h2
            rw[R_T0] = f + h1
            h3 = gs - h1 * rw[R_H4]
            rw[R_H3] = h3
            if h3 >= 0.0:
                # not a descent direction of the merit function
                label = _RESET
                continue
            iw[I_LINE] = 0
            rw[R_ALPHA] = 1.0
            label = _LINE

        elif label == _LINE:
            iw[I_LINE] += 1
            alpha = rw[R_ALPHA]
            rw[R_H3] = alpha * rw[R_H3]
            for i in range(n):
                s[i] = alpha * s[i]
                x[i] = x0[i] + s[i]
            _clamp(x, xl, xu)
            iw[I_MODE] = EVALUATE_F
            return EVALUATE_F

        elif label == _AFTER_F:
            finite = np.isfinite(f) and _all_finite(d)
            h3 = rw[R_H3]
            if finite:
                t = f + _merit_penalty(d, mu, meq)
                rw[R_T] = t
                h1 = t - rw[R_T0]
            else:
                # a non-finite value at a trial point: an infinite merit
                # increase, so the step is cut to a tenth
                if iw[I_LINE] > 10:
                    iw[I_MODE] = MODE_NONFINITE
                    return MODE_NONFINITE
                h1 = np.inf
            rw[R_H1] = h1
            if h1 > h3 / 10.0 and iw[I_LINE] <= 10:
                if finite:
                    rw[R_ALPHA] = max(h3 / (2.0 * (h3 - h1)), 0.1)
                else:
                    rw[R_ALPHA] = 0.1
                label = _LINE
                continue
            # convergence test B
            h3 = _violation(d, meq)
            rw[R_H3] = h3
            if ((abs(f - rw[R_F0]) < acc or _norm2(s, n) < acc)
                    and h3 < acc and iw[I_BADLIN] == 0 and f == f):
                iw[I_MODE] = 0
                return 0
            iw[I_MODE] = EVALUATE_G
            return EVALUATE_G

        elif label == _RELAXED:
            tol = rw[R_TOL]
            h3 = _violation(d, meq)
            rw[R_H3] = h3
            if ((abs(f - rw[R_F0]) < tol or _norm2(s, n) < tol)
                    and h3 < tol and iw[I_BADLIN] == 0 and f == f):
                iw[I_MODE] = 0
                return 0
            iw[I_MODE] = 8
            return 8

        else:  # _AFTER_G: BFGS update with Powell's damping
            if not (_all_finite(g) and _all_finite_2d(C)):
                iw[I_MODE] = MODE_NONFINITE
                return MODE_NONFINITE
            _lagrangian_gradient(g, C, mult, u)
            for i in range(n):
                u[i] -= v[i]
            sn = s[:n]
            vn = v[:n]
            ldl_multiply(bfgs, sn, vn)
            h1 = 0.0
            h2 = 0.0
            for i in range(n):
                h1 += s[i] * u[i]
                h2 += s[i] * v[i]
            h3 = 0.2 * h2
            if h1 < h3:
                h4 = (h2 - h3) / (h2 - h1)
                h1 = h3
                for i in range(n):
                    u[i] = h4 * u[i] + (1.0 - h4) * v[i]
                rw[R_H4] = h4
            rw[R_H1] = h1
            rw[R_H2] = h2
            rw[R_H3] = h3
            if h1 == 0.0 or h2 == 0.0:
                label = _RESET
                continue
            un = u[:n]
            wn = wl[:n]
            ldl_update(bfgs, un, 1.0 / h1, wn)
            ldl_update(bfgs, vn, -1.0 / h2, wn)
            label = _ITER
