"""Jacobian approximations of the inexact-Newton driver, as compiled kernels.

One interface serves every approximation (the strategy is chosen by the
``kind`` stored in the state, not by separate copies of the driver):

``jac_new(kind, n, ...) -> (jr, hist, dense)``
    the state: ``jr`` a float64 vector (a header, then the vectors last_x,
    last_f, diag, and two temporaries), ``hist`` a (2 * cap, n) history of
    vector pairs kept as a ring buffer, ``dense`` a square matrix used only
    when a Broyden matrix collapses to dense form (rank > n) or, for
    Anderson, the Gram matrix of the differences of f.
``jac_setup``, ``jac_solve``, ``jac_prepare``/``jac_resize``/``jac_update``
    SciPy's ``setup(x0, f0)``, ``solve(f)`` (an approximation of
    ``J^-1 f``) and ``update(x, f)``.  ``jac_prepare`` does the work that
    precedes an update (Broyden's rank reduction) and says whether the
    history buffers must grow first; ``jac_resize`` returns larger buffers.
    So memory stays O(n * history): the history grows by doubling up to
    its limit, and a dense n x n matrix exists only once a Broyden matrix
    has more than n rank-one terms (where SciPy collapses it too).
``jac_matvec``, ``jac_rmatvec``, ``jac_rsolve``, ``jac_todense``
    the other methods of SciPy's classes.

Kinds: BROYDEN1, BROYDEN2 (the inverse Jacobian ``H = -alpha I + sum c_k
d_k^T`` of van der Rotten's limited-memory Broyden methods, with Woodbury
solves for ``J v``), ANDERSON (Eyert's extended Anderson mixing),
LINEARMIXING, DIAGBROYDEN, EXCITINGMIXING.  See Kelley (1995),
"Iterative Methods for Linear and Nonlinear Equations", ch. 7-8, and
B. A. van der Rotten, PhD thesis, Leiden (2003).
"""
import numpy as np


from ._jit import inline_kernel, kernel
from .reductions import (INF_BITS, LONG_VECTOR, abs_max_bits, long_dot,
                         long_dots4)

# The small per-iteration helpers are inline_kernels, inlined into their
# callers at numba-IR level: a call between separately compiled kernels
# costs ~100 ns for the reference counting of its array arguments, more
# than the work itself on small systems.  jac_setup, jac_solve and
# jac_update are plain kernels: the driver calls each once per iteration
# with borrowed arrays (no reference counting), and inlining all three
# into it cost 40 s of its 67 s of compilation (see fastopt._kernels._jit).

__all__ = ["BROYDEN1", "BROYDEN2", "ANDERSON", "LINEARMIXING",
           "DIAGBROYDEN", "EXCITINGMIXING", "RESTART", "SIMPLE", "SVD",
           "jac_new", "jac_new_in", "jac_state_entries", "jac_setup",
           "jac_solve", "jac_prepare", "jac_resize",
           "jac_update", "jac_matvec", "jac_rmatvec", "jac_rsolve",
           "jac_todense", "jac_size", "jac_capacity", "jac_init", "NJH"]

BROYDEN1 = 1
BROYDEN2 = 2
ANDERSON = 3
LINEARMIXING = 4
DIAGBROYDEN = 5
EXCITINGMIXING = 6

RESTART = 0
SIMPLE = 1
SVD = 2

# header of jr
J_KIND = 0
J_N = 1
J_ALPHA = 2        # the alpha in use (after autoscaling)
J_ALPHA_GIVEN = 3  # nan: None (autoscale at setup)
J_RED = 4          # reduction method
J_MAXRANK = 5      # inf: none
J_TORETAIN = 6     # nan: None
J_W0 = 7
J_M = 8
J_ALPHAMAX = 9
J_COUNT = 10       # pairs in the history
J_START = 11       # ring-buffer start
J_CAP = 12         # pairs the buffer holds now
J_COLLAPSED = 13   # 1 once the Broyden matrix is dense
J_MAXPAIRS = 14    # most pairs ever held
J_SINGULAR = 15    # set by matvec when a small system was singular
NJH = 16

_INITIAL_CAP = 8


@inline_kernel
def _dot(a, b):
    # A plain loop, not BLAS: a BLAS call on a shared machine can cost
    # milliseconds of thread wake-up, and for short vectors its call
    # overhead exceeds the work.  Eight partial sums (as BLAS keeps) let
    # the compiler vectorise part of the reduction without fastmath; long
    # vectors go to the fully vectorised long_dot (1.8x faster at 10^5).
    n = a.size
    if n >= LONG_VECTOR:
        return long_dot(a, b)
    m = n - n % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for i in range(0, m, 8):
        s0 += a[i] * b[i]
        s1 += a[i + 1] * b[i + 1]
        s2 += a[i + 2] * b[i + 2]
        s3 += a[i + 3] * b[i + 3]
        s4 += a[i + 4] * b[i + 4]
        s5 += a[i + 5] * b[i + 5]
        s6 += a[i + 6] * b[i + 6]
        s7 += a[i + 7] * b[i + 7]
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for i in range(m, n):
        s += a[i] * b[i]
    return s


@inline_kernel
def _gemv(A, v, transpose, out):
    # out = A v or A^T v for the (small) collapsed dense Broyden matrix,
    # without allocating; out must not be v
    m = A.shape[0]
    if transpose:
        out[:] = 0.0
        for i in range(m):
            vi = v[i]
            for j in range(m):
                out[j] += A[i, j] * vi
    else:
        for i in range(m):
            s = 0.0
            for j in range(m):
                s += A[i, j] * v[j]
            out[i] = s


@kernel
def jac_new(kind, n, alpha, red, max_rank, to_retain, w0, M, alphamax):
    """A fresh state ``(jr, hist, dense)`` for ``kind`` and ``n`` unknowns.

    ``alpha`` nan means None (autoscale); ``max_rank`` inf means none;
    ``to_retain`` nan means SciPy's default; ``M`` Anderson's history."""
    jr = np.zeros(jac_size(n))
    hist = np.empty((2 * jac_capacity(kind, n, max_rank, M), n))
    dense = jac_init(jr, kind, n, alpha, red, max_rank, to_retain, w0, M,
                     alphamax)
    return jr, hist, dense


@kernel
def jac_state_entries(kind, n, max_rank, M):
    """The float64 entries of a fresh state's ``jr`` and ``hist`` (see
    :func:`jac_new_in`)."""
    return jac_size(n) + 2 * jac_capacity(kind, n, max_rank, M) * n


@kernel
def jac_new_in(kind, n, alpha, red, max_rank, to_retain, w0, M, alphamax,
               buffer):
    """:func:`jac_new` with ``jr`` and the history in the first
    :func:`jac_state_entries` entries of ``buffer`` (a C float64 vector,
    uninitialised)."""
    nj = jac_size(n)
    rows = 2 * jac_capacity(kind, n, max_rank, M)
    jr = buffer[:nj]
    jr[:] = 0.0
    hist = buffer[nj:nj + rows * n].reshape((rows, n))
    dense = jac_init(jr, kind, n, alpha, red, max_rank, to_retain, w0, M,
                     alphamax)
    return jr, hist, dense


@inline_kernel
def jac_size(n):
    """The length of ``jr`` for ``n`` unknowns."""
    return NJH + 5 * n


@inline_kernel
def _max_pairs(kind, n, max_rank, M):
    if kind == BROYDEN1 or kind == BROYDEN2:
        # at most max_rank pairs after an append; more than n collapses
        maxpairs = float(n + 1)
        if max_rank < maxpairs:
            maxpairs = max(max_rank, 1.0)
        return maxpairs
    if kind == ANDERSON:
        return max(M, 0.0)
    return 0.0


@inline_kernel
def jac_capacity(kind, n, max_rank, M):
    """The pairs the history of a fresh state holds (``hist`` has twice as
    many rows of ``n``; :func:`jac_resize` grows it later if needed)."""
    return int(min(_max_pairs(kind, n, max_rank, M), float(_INITIAL_CAP)))


@inline_kernel
def jac_init(jr, kind, n, alpha, red, max_rank, to_retain, w0, M,
             alphamax):
    """:func:`jac_new` into a zeroed ``jr`` of :func:`jac_size` entries
    (the history is ``hist``, :func:`jac_capacity` pairs, uninitialised);
    returns ``dense``."""
    jr[J_KIND] = kind
    jr[J_N] = n
    jr[J_ALPHA] = alpha
    jr[J_ALPHA_GIVEN] = alpha
    jr[J_RED] = red
    jr[J_MAXRANK] = max_rank
    jr[J_TORETAIN] = to_retain
    jr[J_W0] = w0
    jr[J_M] = M
    jr[J_ALPHAMAX] = alphamax
    jr[J_MAXPAIRS] = _max_pairs(kind, n, max_rank, M)
    cap = jac_capacity(kind, n, max_rank, M)
    jr[J_CAP] = cap
    if kind == ANDERSON:
        return np.zeros((cap, cap))
    return np.empty((0, 0))


@kernel
def jac_setup(jr, hist, dense, x, f):
    """SciPy's ``setup(x0, f0)``: remember the point, autoscale alpha
    (``0.5 max(|x0|, 1) / |f0|``, 1 if f0 = 0) and clear the history."""
    n = int(jr[J_N])
    kind = int(jr[J_KIND])
    o = NJH
    jr[o:o + n] = x
    jr[o + n:o + 2 * n] = f
    if np.isnan(jr[J_ALPHA]):
        normf0 = np.sqrt(_dot(f, f))
        if normf0 != 0.0:
            jr[J_ALPHA] = 0.5 * max(np.sqrt(_dot(x, x)), 1.0) / normf0
        else:
            jr[J_ALPHA] = 1.0
    alpha = jr[J_ALPHA]
    jr[J_COUNT] = 0
    jr[J_START] = 0
    jr[J_COLLAPSED] = 0
    diag = jr[o + 2 * n:o + 3 * n]
    if kind == DIAGBROYDEN:
        diag[:] = 1.0 / alpha
    elif kind == EXCITINGMIXING:
        diag[:] = alpha


@inline_kernel
def _slot(jr, k):
    # physical pair index of logical pair k
    cap = int(jr[J_CAP])
    return (int(jr[J_START]) + k) % cap


# The history passes are plain loops: measured at n = 10**5, blocking them
# (so each block of v stays in cache while the rows visit it) ran 1.5-2x
# slower per row, the blocked inner loops vectorising worse.  At that size
# a pass costs its memory traffic, so the sums of rows take up to four
# rows per pass over ``out`` (adding them to each entry in the same order
# as one pass per row would: the results are bitwise the same), which
# reads and writes ``out`` once instead of once per row.


@inline_kernel
def _hist_dots(jr, hist, which, v, count):
    # out[k] = hist[2 slot(k) + which] . v for k < count; long vectors four
    # rows per pass over v (long_dots4; the sums are long_dot's to
    # rounding, not bitwise)
    out = np.empty(count)
    k = 0
    if v.size >= LONG_VECTOR:
        while k + 4 <= count:
            out[k], out[k + 1], out[k + 2], out[k + 3] = long_dots4(
                v, hist[2 * _slot(jr, k) + which],
                hist[2 * _slot(jr, k + 1) + which],
                hist[2 * _slot(jr, k + 2) + which],
                hist[2 * _slot(jr, k + 3) + which])
            k += 4
    for j in range(k, count):
        out[j] = _dot(hist[2 * _slot(jr, j) + which], v)
    return out


@inline_kernel
def _hist_combine(jr, hist, which, coef, a0, v, out):
    # out = a0 v + sum_k coef[k] hist[2 slot(k) + which] (terms in order
    # of k for each entry); out must not be v or a history row used
    n = v.size
    count = coef.size
    if count == 0:
        for i in range(n):
            out[i] = a0 * v[i]
        return
    # the first pass starts from a0 v and adds up to three rows
    k = min(count, 3)
    r0 = hist[2 * _slot(jr, 0) + which]
    r1 = hist[2 * _slot(jr, 1) + which] if k > 1 else r0
    r2 = hist[2 * _slot(jr, 2) + which] if k > 2 else r0
    if k == 1:
        c0 = coef[0]
        for i in range(n):
            out[i] = a0 * v[i] + c0 * r0[i]
    elif k == 2:
        c0 = coef[0]
        c1 = coef[1]
        for i in range(n):
            out[i] = (a0 * v[i] + c0 * r0[i]) + c1 * r1[i]
    else:
        c0 = coef[0]
        c1 = coef[1]
        c2 = coef[2]
        for i in range(n):
            out[i] = ((a0 * v[i] + c0 * r0[i]) + c1 * r1[i]) + c2 * r2[i]
    while k < count:
        _add_rows(jr, hist, which, coef, k, min(count - k, 4), out)
        k += 4


@inline_kernel
def _add_rows(jr, hist, which, coef, k, r, out):
    # out += sum of coef[j] hist[2 slot(j) + which] for j = k .. k + r - 1
    # (1 <= r <= 4), in order of j for each entry, in one pass
    n = out.size
    r0 = hist[2 * _slot(jr, k) + which]
    r1 = hist[2 * _slot(jr, k + 1) + which] if r > 1 else r0
    r2 = hist[2 * _slot(jr, k + 2) + which] if r > 2 else r0
    r3 = hist[2 * _slot(jr, k + 3) + which] if r > 3 else r0
    c0 = coef[k]
    if r == 1:
        for i in range(n):
            out[i] += c0 * r0[i]
    elif r == 2:
        c1 = coef[k + 1]
        for i in range(n):
            out[i] = (out[i] + c0 * r0[i]) + c1 * r1[i]
    elif r == 3:
        c1 = coef[k + 1]
        c2 = coef[k + 2]
        for i in range(n):
            out[i] = ((out[i] + c0 * r0[i]) + c1 * r1[i]) + c2 * r2[i]
    else:
        c1 = coef[k + 1]
        c2 = coef[k + 2]
        c3 = coef[k + 3]
        for i in range(n):
            out[i] = (((out[i] + c0 * r0[i]) + c1 * r1[i]) + c2 * r2[i]
                      + c3 * r3[i])


@inline_kernel
def _lowrank_matvec(jr, hist, v, out, transpose):
    # out = Gm v (or Gm^T v), Gm = -alpha I + sum c_k d_k^T, pairs in order
    count = int(jr[J_COUNT])
    if transpose:
        coef = _hist_dots(jr, hist, 0, v, count)
        _hist_combine(jr, hist, 1, coef, -jr[J_ALPHA], v, out)
    else:
        coef = _hist_dots(jr, hist, 1, v, count)
        _hist_combine(jr, hist, 0, coef, -jr[J_ALPHA], v, out)


@kernel
def _lu_solve(A, b):
    # Gaussian elimination with partial pivoting (LAPACK getrf/getrs's
    # algorithm); returns (x, ok), ok False for an exactly zero pivot,
    # where LAPACK reports a singular matrix.
    m = b.size
    A = A.copy()
    x = b.copy()
    for k in range(m):
        p = k
        big = abs(A[k, k])
        for i in range(k + 1, m):
            if abs(A[i, k]) > big:
                big = abs(A[i, k])
                p = i
        if A[p, k] == 0.0:
            return x, False
        if p != k:
            for j in range(m):
                t = A[k, j]
                A[k, j] = A[p, j]
                A[p, j] = t
            t = x[k]
            x[k] = x[p]
            x[p] = t
        piv = A[k, k]
        for i in range(k + 1, m):
            l = A[i, k] / piv
            A[i, k] = l
            for j in range(k + 1, m):
                A[i, j] -= l * A[k, j]
            x[i] -= l * x[k]
    for k in range(m - 1, -1, -1):
        s = x[k]
        for j in range(k + 1, m):
            s -= A[k, j] * x[j]
        x[k] = s / A[k, k]
    return x, True


@kernel
def _lowrank_solve(jr, hist, v, out, transpose):
    # out = Gm^-1 v by the Woodbury formula
    # (a I + C D^T)^-1 = I/a - C (a I + D^T C)^-1 D^T / a
    n = v.size
    count = int(jr[J_COUNT])
    a0 = -jr[J_ALPHA]
    for i in range(n):
        out[i] = v[i] / a0
    if count == 0:
        return True
    ci = 1 if transpose else 0
    di = 0 if transpose else 1
    A = np.zeros((count, count))
    q = np.zeros(count)
    for i in range(count):
        d = hist[2 * _slot(jr, i) + di]
        A[i, i] = a0
        for j in range(count):
            c = hist[2 * _slot(jr, j) + ci]
            A[i, j] += _dot(d, c)
        q[i] = _dot(d, v) / a0
    q, ok = _lu_solve(A, q)
    for k in range(count):
        c = hist[2 * _slot(jr, k) + ci]
        for i in range(n):
            out[i] -= q[k] * c[i]
    return ok


@inline_kernel
def _anderson_solve(jr, hist, dense, f, out):
    # -alpha f + sum gamma_m (dx_m + alpha df_m), a gamma = [df_i . f]
    n = f.size
    alpha = jr[J_ALPHA]
    count = int(jr[J_COUNT])
    for i in range(n):
        out[i] = -alpha * f[i]
    if count == 0:
        return
    w2 = jr[J_W0] ** 2
    a = np.empty((count, count))
    for i in range(count):
        for j in range(count):
            a[i, j] = dense[i, j]
        a[i, i] *= 1.0 + w2
    b = _hist_dots(jr, hist, 1, f, count)
    gamma, ok = _lu_solve(a, b)
    if not ok:
        # singular: forget the history (SciPy's reset)
        jr[J_COUNT] = 0
        jr[J_START] = 0
        return
    m = 0
    while m < count:
        _add_anderson_terms(jr, hist, gamma, alpha, m, min(count - m, 4),
                            out)
        m += 4


@inline_kernel
def _add_anderson_terms(jr, hist, gamma, alpha, m, r, out):
    # out += gamma[j] (dx_j + alpha df_j) for j = m .. m + r - 1 (1 <= r
    # <= 4), in order of j for each entry, in one pass (see _add_rows)
    n = out.size
    p0 = _slot(jr, m)
    p1 = _slot(jr, m + 1) if r > 1 else p0
    p2 = _slot(jr, m + 2) if r > 2 else p0
    p3 = _slot(jr, m + 3) if r > 3 else p0
    x0 = hist[2 * p0]
    f0 = hist[2 * p0 + 1]
    x1 = hist[2 * p1]
    f1 = hist[2 * p1 + 1]
    x2 = hist[2 * p2]
    f2 = hist[2 * p2 + 1]
    x3 = hist[2 * p3]
    f3 = hist[2 * p3 + 1]
    g0 = gamma[m]
    if r == 1:
        for i in range(n):
            out[i] += g0 * (x0[i] + alpha * f0[i])
    elif r == 2:
        g1 = gamma[m + 1]
        for i in range(n):
            out[i] = ((out[i] + g0 * (x0[i] + alpha * f0[i]))
                      + g1 * (x1[i] + alpha * f1[i]))
    elif r == 3:
        g1 = gamma[m + 1]
        g2 = gamma[m + 2]
        for i in range(n):
            out[i] = (((out[i] + g0 * (x0[i] + alpha * f0[i]))
                       + g1 * (x1[i] + alpha * f1[i]))
                      + g2 * (x2[i] + alpha * f2[i]))
    else:
        g1 = gamma[m + 1]
        g2 = gamma[m + 2]
        g3 = gamma[m + 3]
        for i in range(n):
            out[i] = ((((out[i] + g0 * (x0[i] + alpha * f0[i]))
                        + g1 * (x1[i] + alpha * f1[i]))
                       + g2 * (x2[i] + alpha * f2[i]))
                      + g3 * (x3[i] + alpha * f3[i]))


@kernel
def jac_solve(jr, hist, dense, f, out):
    """``out = solve(f)``: the approximation of ``J^-1 f`` (the driver's
    step is ``-out``).  A Broyden matrix giving a non-finite result is
    reset (SciPy's behaviour), as is a singular Anderson system."""
    n = f.size
    kind = int(jr[J_KIND])
    o = NJH
    if kind == BROYDEN1 or kind == BROYDEN2:
        if jr[J_COLLAPSED] != 0.0:
            _gemv(dense, f, False, out)
        else:
            _lowrank_matvec(jr, hist, f, out, False)
        # (a vectorised finiteness test: a loop that stops at the first
        # non-finite entry is scalar, 0.1 ms at 10^5 entries)
        if abs_max_bits(out) >= INF_BITS:
            jac_setup(jr, hist, dense, jr[o:o + n].copy(),
                      jr[o + n:o + 2 * n].copy())
            _lowrank_matvec(jr, hist, f, out, False)
    elif kind == ANDERSON:
        _anderson_solve(jr, hist, dense, f, out)
    elif kind == LINEARMIXING:
        alpha = jr[J_ALPHA]
        for i in range(n):
            out[i] = -f[i] * alpha
    elif kind == DIAGBROYDEN:
        d = jr[o + 2 * n:o + 3 * n]
        for i in range(n):
            out[i] = -f[i] / d[i]
    else:
        beta = jr[o + 2 * n:o + 3 * n]
        for i in range(n):
            out[i] = -f[i] * beta[i]


@kernel
def _svd_reduce(jr, hist, max_rank, to_retain):
    # van der Rotten's Broyden Rank Reduction: keep the q most significant
    # SVD components of C D^T (computed from an m x m problem).
    n = int(jr[J_N])
    p = max_rank
    q = p - 2.0 if np.isnan(to_retain) else to_retain
    count = int(jr[J_COUNT])
    if count > 0:
        p = min(p, float(n))
    q = max(0.0, min(q, p - 1.0))
    m = count
    if m < p:
        return
    C = np.empty((n, m))
    D = np.empty((n, m))
    for k in range(m):
        s = _slot(jr, k)
        C[:, k] = hist[2 * s]
        D[:, k] = hist[2 * s + 1]
    Q, R = np.linalg.qr(D)
    Q = np.ascontiguousarray(Q)
    C = np.dot(C, np.ascontiguousarray(R.T))
    U, S, WH = np.linalg.svd(C, full_matrices=False)
    C = np.dot(C, np.ascontiguousarray(np.linalg.inv(WH)))
    D = np.dot(Q, np.ascontiguousarray(WH.T))
    nq = int(q)
    for k in range(nq):
        hist[2 * k] = C[:, k]
        hist[2 * k + 1] = D[:, k]
    jr[J_START] = 0
    jr[J_COUNT] = nq


@inline_kernel
def jac_prepare(jr, hist, dense):
    """The part of ``update`` before the new pair is stored (Broyden's rank
    reduction, done first to keep the secant condition); True if the
    buffers must grow (:func:`jac_resize`) before :func:`jac_update`.
    Idempotent, so it may be called again after resizing."""
    kind = int(jr[J_KIND])
    n = int(jr[J_N])
    count = int(jr[J_COUNT])
    cap = int(jr[J_CAP])
    if kind == BROYDEN1 or kind == BROYDEN2:
        if jr[J_COLLAPSED] != 0.0:
            return False
        rank = jr[J_MAXRANK] - 1.0
        red = int(jr[J_RED])
        if red == RESTART:
            if count > rank:
                jr[J_COUNT] = 0
                jr[J_START] = 0
        elif red == SIMPLE:
            while jr[J_COUNT] > rank:
                jr[J_START] = (jr[J_START] + 1) % cap
                jr[J_COUNT] -= 1
        else:
            _svd_reduce(jr, hist, rank, jr[J_TORETAIN])
        count = int(jr[J_COUNT])
        if count + 1 > n and dense.shape[0] != n:
            return True
        return count == cap
    if kind == ANDERSON:
        M = jr[J_M]
        if M <= 0.0:
            return False
        return count == cap and cap < M
    return False


@kernel
def jac_resize(jr, hist, dense):
    """Larger buffers (the history doubled, up to its limit; Broyden's dense
    matrix when it is about to collapse), contents kept in order."""
    kind = int(jr[J_KIND])
    n = int(jr[J_N])
    count = int(jr[J_COUNT])
    cap = int(jr[J_CAP])
    newcap = int(min(jr[J_MAXPAIRS], max(2.0 * cap, float(_INITIAL_CAP))))
    if newcap < cap:
        newcap = cap
    newhist = np.empty((2 * newcap, n))
    for k in range(count):
        s = _slot(jr, k)
        newhist[2 * k] = hist[2 * s]
        newhist[2 * k + 1] = hist[2 * s + 1]
    if kind == ANDERSON:
        newdense = np.zeros((newcap, newcap))
        newdense[:count, :count] = dense[:count, :count]
    elif count + 1 > n and dense.shape[0] != n:
        newdense = np.zeros((n, n))
    else:
        newdense = dense
    jr[J_CAP] = newcap
    jr[J_START] = 0
    return newhist, newdense


@inline_kernel
def _anderson_update(jr, hist, dense, x, f, last_x, last_f):
    # jac_update for Anderson: the new pair (dx, df) is written straight
    # into its history slot in the same pass that remembers (x, f), one
    # pass over the vectors instead of three, then its Gram row
    n = x.size
    M = int(jr[J_M]) if np.isfinite(jr[J_M]) else 1 << 62
    if M <= 0:
        for i in range(n):
            last_x[i] = x[i]
            last_f[i] = f[i]
        return
    count = int(jr[J_COUNT])
    cap = int(jr[J_CAP])
    if count == M:
        # drop the oldest pair and its row/column of the Gram matrix
        jr[J_START] = (jr[J_START] + 1) % cap
        count -= 1
        for i in range(count):
            for j in range(count):
                dense[i, j] = dense[i + 1, j + 1]
    p = (int(jr[J_START]) + count) % cap
    dx = hist[2 * p]
    df = hist[2 * p + 1]
    for i in range(n):
        xi = x[i]
        fi = f[i]
        dx[i] = xi - last_x[i]
        df[i] = fi - last_f[i]
        last_x[i] = xi
        last_f[i] = fi
    count += 1
    jr[J_COUNT] = count
    gram = _hist_dots(jr, hist, 1, df, count)
    for i in range(count):
        g = gram[i]
        dense[i, count - 1] = g
        dense[count - 1, i] = g


@kernel
def jac_update(jr, hist, dense, x, f):
    """SciPy's ``update(x, f)`` after :func:`jac_prepare` (returned False):
    dx = x - last_x, df = f - last_f, the kind's update, then remember
    (x, f)."""
    n = int(jr[J_N])
    kind = int(jr[J_KIND])
    o = NJH
    last_x = jr[o:o + n]
    last_f = jr[o + n:o + 2 * n]
    diag = jr[o + 2 * n:o + 3 * n]
    dx = jr[o + 3 * n:o + 4 * n]
    df = jr[o + 4 * n:o + 5 * n]
    if kind == ANDERSON:
        _anderson_update(jr, hist, dense, x, f, last_x, last_f)
        return
    for i in range(n):
        dx[i] = x[i] - last_x[i]
        df[i] = f[i] - last_f[i]
    alpha = jr[J_ALPHA]
    if kind == BROYDEN1 or kind == BROYDEN2:
        collapsed = jr[J_COLLAPSED] != 0.0
        if collapsed:
            # no allocation: c overwrites dx and d df (both scratch), and
            # the products go in the first two history rows (unused once
            # collapsed): Broyden 1's v = Gm^T dx and Gm df
            if kind == BROYDEN1:
                # d = v / (df . v)
                d = hist[0]
                _gemv(dense, dx, True, d)
            else:
                d = df
            Gdf = hist[1]
            _gemv(dense, df, False, Gdf)
            c = dx
            for i in range(n):
                c[i] = dx[i] - Gdf[i]
            if kind == BROYDEN1:
                den = _dot(df, d)
                for i in range(n):
                    d[i] = d[i] / den
            else:
                # d = df / |df|^2, in place
                nrm = np.sqrt(_dot(df, df))
                den = nrm * nrm
                for i in range(n):
                    d[i] = df[i] / den
            for i in range(n):
                ci = c[i]
                for j in range(n):
                    dense[i, j] += ci * d[j]
        else:
            # the new pair goes straight into its slot (not one of the
            # count pairs read here: jac_prepare made room), computed from
            # the old pairs: c = dx - Gm df, d = Gm^T dx / (df . Gm^T dx)
            # (Broyden 1) or df / |df|^2 (Broyden 2)
            count = int(jr[J_COUNT])
            p = _slot(jr, count)
            c = hist[2 * p]
            d = hist[2 * p + 1]
            a0 = -alpha
            coef = _hist_dots(jr, hist, 1, df, count)
            if kind == BROYDEN1:
                coef_t = _hist_dots(jr, hist, 0, dx, count)
            _hist_combine(jr, hist, 0, coef, a0, df, c)
            for i in range(n):
                c[i] = dx[i] - c[i]
            if kind == BROYDEN1:
                _hist_combine(jr, hist, 1, coef_t, a0, dx, d)
                den = _dot(df, d)
                for i in range(n):
                    d[i] = d[i] / den
            else:
                nrm = np.sqrt(_dot(df, df))
                den = nrm * nrm
                for i in range(n):
                    d[i] = df[i] / den
            count += 1
            jr[J_COUNT] = count
            if count > n:
                # more terms than unknowns: the dense form is cheaper
                dense[:, :] = 0.0
                for i in range(n):
                    dense[i, i] = a0
                for k in range(count):
                    s = _slot(jr, k)
                    ck = hist[2 * s]
                    dk = hist[2 * s + 1]
                    for i in range(n):
                        cki = ck[i]
                        for j in range(n):
                            dense[i, j] += cki * dk[j]
                jr[J_COLLAPSED] = 1.0
                jr[J_COUNT] = 0
    elif kind == DIAGBROYDEN:
        nrm = np.sqrt(_dot(dx, dx))
        den = nrm * nrm
        for i in range(n):
            diag[i] -= (df[i] + diag[i] * dx[i]) * dx[i] / den
    elif kind == EXCITINGMIXING:
        amax = jr[J_ALPHAMAX]
        for i in range(n):
            if f[i] * last_f[i] > 0:
                b = diag[i] + alpha
            else:
                b = alpha
            diag[i] = min(max(b, 0.0), amax)
    for i in range(n):
        last_x[i] = x[i]
        last_f[i] = f[i]


@kernel
def jac_matvec(jr, hist, dense, v, out):
    """``out = J v`` (SciPy's ``matvec``); False if a small system
    (Anderson's, or Broyden's Woodbury system) was singular."""
    n = v.size
    kind = int(jr[J_KIND])
    o = NJH
    alpha = jr[J_ALPHA]
    if kind == BROYDEN1 or kind == BROYDEN2:
        if jr[J_COLLAPSED] != 0.0:
            out[:] = np.linalg.solve(dense, v)
            return True
        return _lowrank_solve(jr, hist, v, out, False)
    if kind == ANDERSON:
        count = int(jr[J_COUNT])
        for i in range(n):
            out[i] = -v[i] / alpha
        if count == 0:
            return True
        w2a = jr[J_W0] ** 2 * alpha
        b = np.empty((count, count))
        rhs = np.empty(count)
        for i in range(count):
            dfi = hist[2 * _slot(jr, i) + 1]
            rhs[i] = _dot(dfi, v)
            for j in range(count):
                b[i, j] = _dot(dfi, hist[2 * _slot(jr, j)])
            if jr[J_W0] != 0.0:
                b[i, i] -= _dot(dfi, dfi) * w2a
        gamma, ok = _lu_solve(b, rhs)
        if not ok:
            return False
        for m in range(count):
            p = _slot(jr, m)
            dxm = hist[2 * p]
            dfm = hist[2 * p + 1]
            for i in range(n):
                out[i] += gamma[m] * (dfm[i] + dxm[i] / alpha)
        return True
    if kind == LINEARMIXING:
        for i in range(n):
            out[i] = -v[i] / alpha
    elif kind == DIAGBROYDEN:
        d = jr[o + 2 * n:o + 3 * n]
        for i in range(n):
            out[i] = -v[i] * d[i]
    else:
        beta = jr[o + 2 * n:o + 3 * n]
        for i in range(n):
            out[i] = -v[i] / beta[i]
    return True


@kernel
def jac_rmatvec(jr, hist, dense, v, out):
    """``out = J^T v`` (SciPy's ``rmatvec``; not for Anderson)."""
    kind = int(jr[J_KIND])
    if kind == BROYDEN1 or kind == BROYDEN2:
        if jr[J_COLLAPSED] != 0.0:
            out[:] = np.linalg.solve(dense.T.copy(), v)
            return True
        return _lowrank_solve(jr, hist, v, out, True)
    return jac_matvec(jr, hist, dense, v, out)


@kernel
def jac_rsolve(jr, hist, dense, v, out):
    """``out = J^-T v`` (SciPy's ``rsolve``; not for Anderson)."""
    kind = int(jr[J_KIND])
    if kind == BROYDEN1 or kind == BROYDEN2:
        if jr[J_COLLAPSED] != 0.0:
            _gemv(dense, v, True, out)
        else:
            _lowrank_matvec(jr, hist, v, out, True)
        return
    jac_solve(jr, hist, dense, v, out)


@kernel
def jac_todense(jr, hist, dense):
    """The dense Jacobian approximation (SciPy's ``todense``; for Broyden
    the inverse of the dense inverse-Jacobian matrix)."""
    n = int(jr[J_N])
    kind = int(jr[J_KIND])
    o = NJH
    J = np.zeros((n, n))
    alpha = jr[J_ALPHA]
    if kind == BROYDEN1 or kind == BROYDEN2:
        if jr[J_COLLAPSED] != 0.0:
            return np.linalg.inv(dense)
        G = np.zeros((n, n))
        for i in range(n):
            G[i, i] = -alpha
        for k in range(int(jr[J_COUNT])):
            s = _slot(jr, k)
            G += np.outer(hist[2 * s], hist[2 * s + 1])
        return np.linalg.inv(G)
    d = jr[o + 2 * n:o + 3 * n]
    for i in range(n):
        if kind == LINEARMIXING:
            J[i, i] = -1.0 / alpha
        elif kind == DIAGBROYDEN:
            J[i, i] = -d[i]
        else:
            J[i, i] = -1.0 / d[i]
    return J
