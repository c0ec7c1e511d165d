"""The quadratic-programming core of SLSQP: LDP, LSI, LSEI, HFTI and LSQ.

Written from C. L. Lawson and R. J. Hanson, *Solving Least Squares
Problems*, SIAM 1995 (LDP and LSI: chapter 23; LSEI by elimination of the
equality constraints with orthogonal transformations: chapters 20-22;
HFTI: chapter 14) and D. Kraft, "A software package for sequential
quadratic programming", DFVLR-FB 88-28, 1988 (the LSQ subproblem of
SLSQP).

Workspace
---------
Every kernel takes one float64 ``work`` array whose length is given by the
matching ``*_work_size`` kernel (callable from Python or compiled code).
No integer workspace is needed anywhere: the few index vectors (NNLS's
active-set permutation, HFTI's column permutation) are stored as float64
values inside ``work`` (exact below 2**53).  No kernel here allocates.

Kernels
-------
ldp(G, h, x, mult, work) -> mode
    ``min ||x||`` s.t. ``G x >= h``; G float64[mg, n], h [mg], x [n],
    mult [mg].  Work: ``ldp_work_size(mg, n)``.
lsi(E, f, G, h, x, mult, work) -> mode
    ``min ||E x - f||`` s.t. ``G x >= h``; E [me, n] with me >= n and full
    column rank.  Work: ``lsi_work_size(me, mg, n)``.
lsei(C, d, E, f, G, h, x, mult, work) -> mode
    ``min ||E x - f||`` s.t. ``C x = d``, ``G x >= h``; C [mc, n];
    mult [mc + mg] (equality multipliers first).  Work:
    ``lsei_work_size(mc, me, mg, n)``.
hfti(A, b, x, tau, work) -> rank
    rank-revealing minimum-length least squares ``min ||A x - b||``
    (Householder QR with column pivoting, relative tolerance tau).  Work:
    ``hfti_work_size(m, n)``; b is overwritten.
lsq(ldl, g, C, d, meq, xl, xu, s, mult, work) -> mode
    SLSQP's subproblem ``min 1/2 s'Bs + g's`` s.t. ``C[:meq] s + d[:meq]
    = 0``, ``C[meq:] s + d[meq:] >= 0``, ``xl <= s <= xu``, with B given
    by its packed LDL' factor (:mod:`fastopt._kernels.ldl`).  Work:
    ``lsq_work_size(m, meq, n)``.

Inputs of ldp/lsi/lsei/lsq are not modified (they copy into ``work``).

LSI's QR factorisation and its triangular solve ``G R^-1`` (the bulk of the
work for large problems) keep E row-major and G transposed and run their
loops along rows, over blocks of columns that stay in cache: the inner
products of the reflections and of the substitution are then elementwise
vector loops, each summed in row order (Lawson-Hanson's H12 order).

Multipliers follow the KKT sign convention ``grad = C' mu + G' lam`` with
``lam >= 0``: for LDP ``x = G' lam``, for LSI/LSEI
``E'(E x - f) = C' mu + G' lam``, for LSQ ``B s + g = C' mult[:m] +
mult[m:m+n] - mult[m+n:]``.

Modes (SLSQP's): 1 success; 2 more equality constraints than variables
(or ldp with n == 0); 3 NNLS iteration limit in LDP; 4 inequality
constraints incompatible (also NaN in them); 5 singular matrix E in LSI
(a diagonal of its R below eps, or NaN); 6 singular equality matrix C (a
diagonal below eps, or NaN); 7 rank-deficient least-squares problem
without inequalities (HFTI; also NaN in it).
"""
import math

from ._jit import inline_kernel, kernel
from .borrow import borrowed, borrowed_matrix
from .householder import (dot, house_apply, house_apply_contiguous,
                          house_make)
from .nnls import nnls_transposed

__all__ = ["ldp", "lsi", "lsei", "hfti", "lsq", "ldp_work_size",
           "lsi_work_size", "lsei_work_size", "hfti_work_size",
           "lsq_work_size", "EPSMACH", "HFTI_RCOND"]

EPSMACH = 2.220446049250313e-16
# Relative rank tolerance of the unconstrained least-squares solve
# (SciPy's dgelsy call uses rcond = sqrt(eps)).
HFTI_RCOND = 1.4901161193847656e-08


# ------------------------------------------------------------- helpers


@inline_kernel
def _take(work, o, k):
    # The next k entries of a work array, and the offset after them.
    return work[o:o + k], o + k


@inline_kernel
def _take_matrix(work, o, rows, cols):
    # The next rows * cols entries as a C-contiguous (rows, cols) matrix,
    # and the offset after them; borrowed, as reshape's run-time helper
    # and the view's reference count cost more than a small problem's
    # arithmetic (the work arrays are sized by lsq_work_size).
    return borrowed_matrix(work, o, rows, cols), o + rows * cols


@inline_kernel
def _reflect_rows(u, p, up, M, first):
    # Apply the reflection (u, pivot p, tail p + 1:) to rows first: of M.
    for r in range(first, M.shape[0]):
        house_apply_contiguous(u, p, p + 1, up, M[r])


@inline_kernel
def _singular_diagonal(M, k):
    # True if one of M[0, 0], ..., M[k-1, k-1] is below eps in magnitude
    # (NaN counts as singular).
    for j in range(k):
        if not abs(M[j, j]) >= EPSMACH:
            return True
    return False


@inline_kernel
def _undo_right_reflections(C, up, y, x):
    # x = Q y for the reflections from the right that made C Q = [L 0]
    # (row i of C holds the i-th, applied last to first).
    for j in range(x.size):
        x[j] = y[j]
    for i in range(C.shape[0] - 1, -1, -1):
        house_apply_contiguous(C[i], i, i + 1, up[i], x)


# Width of the column blocks of the vectorised kernels below: a block of
# a matrix (rows x _BLOCK float64, 256 KB for 500 rows) stays in L2 cache
# while many reflections or substitution steps pass over it.
_BLOCK = 64


@inline_kernel
def _reflect_block(E, j, up, r0, r1, t):
    # Apply the reflection held in column j of E (pivot j, tail j + 1:,
    # from house_make) to the columns r0:r1 (r0 > j) of the row-major E.
    # Each column's inner product runs down the rows in order
    # (Lawson-Hanson's H2 order), but the loops run along rows: contiguous
    # and elementwise, so they vectorise, where a column-by-column inner
    # product is a serial reduction.  t (r1 - r0 long) is scratch.
    me = E.shape[0]
    if up == 0.0:
        return
    b = up * E[j, j]
    if not b < 0.0:
        return
    w = r1 - r0
    ej = E[j, r0:r1]
    for r in range(w):
        t[r] = ej[r] * up
    i = j + 1
    while i + 4 <= me:
        # four rows per pass over t, added in row order
        u0 = E[i, j]
        u1 = E[i + 1, j]
        u2 = E[i + 2, j]
        u3 = E[i + 3, j]
        e0 = E[i, r0:r1]
        e1 = E[i + 1, r0:r1]
        e2 = E[i + 2, r0:r1]
        e3 = E[i + 3, r0:r1]
        for r in range(w):
            t[r] = (((t[r] + u0 * e0[r]) + u1 * e1[r]) + u2 * e2[r]
                    + u3 * e3[r])
        i += 4
    while i < me:
        ui = E[i, j]
        ei = E[i, r0:r1]
        for r in range(w):
            t[r] += ui * ei[r]
        i += 1
    for r in range(w):
        t[r] = t[r] / b
    for r in range(w):
        ej[r] += t[r] * up
    for i in range(j + 1, me):
        ui = E[i, j]
        ei = E[i, r0:r1]
        for r in range(w):
            ei[r] += t[r] * ui


@inline_kernel
def _householder_qr(E, f, up, t):
    # E = Q R in place for the row-major E (me x n, me >= n): R in the
    # upper triangle, reflection j in column j (pivot j, tail j + 1:) with
    # its pivot element in up[j]; f <- Q' f.  Left-looking over blocks of
    # _BLOCK columns: a block receives every earlier reflection while it
    # sits in cache, then is factored itself, so the matrix is streamed
    # from memory once per block instead of once per column.  Every
    # column receives the same reflections in the same order as
    # column-by-column Householder QR, computed the same way
    # (_reflect_block), so the result does not depend on the blocking.
    # t (min(n, _BLOCK) long) is scratch.
    n = E.shape[1]
    for r0 in range(0, n, _BLOCK):
        r1 = min(r0 + _BLOCK, n)
        for j in range(r0):
            _reflect_block(E, j, up[j], r0, r1, t)
        for j in range(r0, r1):
            col = E[:, j]
            up[j] = house_make(col, j, j + 1)
            if j + 1 < r1:
                _reflect_block(E, j, up[j], j + 1, r1, t)
            house_apply(col, j, j + 1, up[j], f)


@inline_kernel
def _solve_rows_right(E, Gt, h, f, acc, rc):
    # G <- G R^-1 and h <- h - G R^-1 f[:n] for G held transposed (Gt,
    # n x mg) and R the upper triangle of E[:n] (row-major): column j of
    # G R^-1 is (G[:, j] - sum_{l<j} (G R^-1)[:, l] R[l, j]) / R[j, j].
    # The loops run along the rows of Gt, a block of constraints at a
    # time (vectorised; the block stays in cache for all j); acc and rc
    # (mg and n long) are scratch.
    n = Gt.shape[0]
    mg = Gt.shape[1]
    for i0 in range(0, mg, _BLOCK):
        i1 = min(i0 + _BLOCK, mg)
        w = i1 - i0
        ab = acc[:w]
        for j in range(n):
            for l in range(j):
                rc[l] = E[l, j]
            for c in range(w):
                ab[c] = 0.0
            l = 0
            while l + 4 <= j:
                r0 = rc[l]
                r1 = rc[l + 1]
                r2 = rc[l + 2]
                r3 = rc[l + 3]
                g0 = Gt[l, i0:i1]
                g1 = Gt[l + 1, i0:i1]
                g2 = Gt[l + 2, i0:i1]
                g3 = Gt[l + 3, i0:i1]
                for c in range(w):
                    ab[c] = (((ab[c] + r0 * g0[c]) + r1 * g1[c])
                             + r2 * g2[c] + r3 * g3[c])
                l += 4
            while l < j:
                rl = rc[l]
                gl = Gt[l, i0:i1]
                for c in range(w):
                    ab[c] += rl * gl[c]
                l += 1
            gj = Gt[j, i0:i1]
            d = E[j, j]
            for c in range(w):
                gj[c] = (gj[c] - ab[c]) / d
        for c in range(w):
            ab[c] = 0.0
        for j in range(n):
            fj = f[j]
            gj = Gt[j, i0:i1]
            for c in range(w):
                ab[c] += gj[c] * fj
        hb = h[i0:i1]
        for c in range(w):
            hb[c] -= ab[c]


# ---------------------------------------------------------------- sizes

@kernel
def ldp_work_size(mg, n):
    """float64 workspace length of :func:`ldp` for G of shape (mg, n)."""
    return mg * (n + 1) + 2 * (n + 1) + 3 * mg


@kernel
def _lsi_core_size(me, mg, n):
    # float64 workspace length of the in-place LSI core.
    return n + ldp_work_size(mg, n)


@kernel
def hfti_work_size(m, n):
    """float64 workspace length of :func:`hfti` for A of shape (m, n)."""
    return m * n + _hfti_core_size(m, n)


@kernel
def _hfti_core_size(m, n):
    # float64 workspace length of the in-place (transposed) HFTI core.
    return 4 * n + n * n + 0 * m


@kernel
def _lsei_core_size(mc, me, mg, n):
    k = n - mc if n > mc else 0
    inner = _lsi_core_size(me, mg, k)
    other = _hfti_core_size(me, k)
    if other > inner:
        inner = other
    return mc + n + me * k + me + mg * k + mg + me + inner


@kernel
def lsei_work_size(mc, me, mg, n):
    """float64 workspace length of :func:`lsei` (C (mc, n), E (me, n),
    G (mg, n))."""
    return ((mc + me + mg) * (n + 1)
            + _lsei_core_size(mc, me, mg, n))


@kernel
def lsi_work_size(me, mg, n):
    """float64 workspace length of :func:`lsi` (E (me, n), G (mg, n))."""
    return (me + mg) * (n + 1) + _lsi_core_size(me, mg, n)


@kernel
def lsq_work_size(m, meq, n):
    """float64 workspace length of :func:`lsq` for m constraints (meq of
    them equalities) on n variables."""
    mg = m - meq + 2 * n
    if mg < 0:
        mg = 0
    return (n * n + n + meq * (n + 1) + mg * (n + 1) + meq + mg
            + _lsei_core_size(meq, n, mg, n))


# ------------------------------------------------------------------ LDP

@inline_kernel
def _ldp_dual(at, h, mult, work, mg, n, maxiter):
    # The dual NNLS problem of LDP on at = [G h] (already filled, the
    # first mg * (n + 1) entries of work); on success mult = u / fac, the
    # multipliers.  Returns the mode.
    n1 = n + 1
    o = mg * n1
    rhs, o = _take(work, o, n1)
    zz, o = _take(work, o, n1)
    index, o = _take(work, o, mg)
    w, o = _take(work, o, mg)
    u, o = _take(work, o, mg)
    for j in range(n):
        rhs[j] = 0.0
    rhs[n] = 1.0
    if maxiter <= 0:
        maxiter = 3 * mg
    rnorm, info = nnls_transposed(at, rhs, u, w, zz, index, maxiter)
    if info == 3:
        return 3
    if not rnorm > 0.0:
        return 4
    fac = 1.0
    for i in range(mg):
        fac -= h[i] * u[i]
    # fac = 1 - h'u is the last residual component; it vanishes (to
    # working precision) exactly when the constraints are incompatible.
    if not (1.0 + fac) - 1.0 > 0.0:
        return 4
    for i in range(mg):
        mult[i] = u[i] / fac
    return 1


@kernel
def _ldp(G, h, x, mult, work, maxiter):
    # min ||x|| s.t. G x >= h through the dual NNLS problem
    # min ||[G'; h'] u - e_{n+1}||, u >= 0 (Lawson-Hanson ch. 23).
    mg, n = G.shape
    for i in range(mg):
        mult[i] = 0.0
    if n <= 0:
        return 2
    for j in range(n):
        x[j] = 0.0
    if mg == 0:
        return 1
    at, o = _take_matrix(work, 0, mg, n + 1)
    for i in range(mg):
        for j in range(n):
            at[i, j] = G[i, j]
        at[i, n] = h[i]
    mode = _ldp_dual(at, h, mult, work, mg, n, maxiter)
    if mode != 1:
        return mode
    for i in range(mg):
        ui = mult[i]
        if ui != 0.0:
            for j in range(n):
                x[j] += G[i, j] * ui
    return 1


@kernel
def _ldp_transposed(Gt, h, x, mult, work, maxiter):
    # _ldp for G held transposed (Gt = G', n x mg): the same operations in
    # the same order, with x = G' mult summed along the rows of Gt.
    n, mg = Gt.shape
    for i in range(mg):
        mult[i] = 0.0
    if n <= 0:
        return 2
    for j in range(n):
        x[j] = 0.0
    if mg == 0:
        return 1
    at, o = _take_matrix(work, 0, mg, n + 1)
    for j in range(n):
        gj = Gt[j]
        for i in range(mg):
            at[i, j] = gj[i]
    for i in range(mg):
        at[i, n] = h[i]
    mode = _ldp_dual(at, h, mult, work, mg, n, maxiter)
    if mode != 1:
        return mode
    for j in range(n):
        gj = Gt[j]
        sm = 0.0
        for i in range(mg):
            ui = mult[i]
            if ui != 0.0:
                sm += gj[i] * ui
        x[j] = sm
    return 1


@kernel
def ldp(G, h, x, mult, work):
    """Least distance programming: ``min ||x||_2`` s.t. ``G x >= h``.

    Parameters
    ----------
    G : float64[mg, n]
    h : float64[mg]
    x : float64[n]
        Output: the solution.
    mult : float64[mg]
        Output: the multipliers (``x = G' mult``, ``mult >= 0``).
    work : float64[ldp_work_size(mg, n)]

    Returns
    -------
    mode : int
        1 success (``mg == 0`` gives x = 0); 2 ``n == 0``; 3 NNLS
        iteration limit (3 mg); 4 incompatible constraints.
    """
    return _ldp(borrowed(G), borrowed(h), borrowed(x), borrowed(mult),
                borrowed(work), 0)


# ------------------------------------------------------------------ LSI

@kernel
def _lsi_inplace(E, f, Gt, h, x, mult, work, maxiter):
    # min ||E x - f|| s.t. G x >= h, destroying E, f, Gt = G', h: with
    # E = Q R, z = R x - Q1'f turns it into LDP(G R^-1, h - G R^-1 Q1'f).
    # E is row-major and G is held transposed so that the reflections
    # and the triangular solve run along contiguous rows over blocks of
    # columns (see _householder_qr, _solve_rows_right); R[i, j] (i <= j)
    # is then E[i, j].
    me, n = E.shape
    mg = Gt.shape[1]
    for i in range(mg):
        mult[i] = 0.0
    for j in range(n):
        x[j] = 0.0
    if n > me:
        return 5
    z = work[:n]
    # scratch: z and the LDP work, neither in use yet
    _householder_qr(E, f, z, work[n:n + min(n, _BLOCK)])
    if _singular_diagonal(E, n):
        return 5
    if mg > 0:
        _solve_rows_right(E, Gt, h, f, work[n:n + mg],
                          work[n + mg:n + mg + n])
    mode = _ldp_transposed(Gt, h, z, mult, work[n:], maxiter)
    if mode != 1:
        return mode
    for i in range(n - 1, -1, -1):
        sm = z[i] + f[i]
        ei = E[i]
        for j in range(i + 1, n):
            sm -= ei[j] * x[j]
        x[i] = sm / E[i, i]
    return 1


@kernel
def lsi(E, f, G, h, x, mult, work):
    """Least squares with inequalities: ``min ||E x - f||`` s.t. ``G x >= h``.

    Parameters
    ----------
    E : float64[me, n]
        Full column rank, ``me >= n``.
    f : float64[me]
    G : float64[mg, n]
    h : float64[mg]
    x : float64[n]
        Output: the solution.
    mult : float64[mg]
        Output: multipliers, ``E'(E x - f) = G' mult``, ``mult >= 0``.
    work : float64[lsi_work_size(me, mg, n)]

    Returns
    -------
    mode : int
        1 success; 3 NNLS iteration limit; 4 incompatible constraints;
        5 E singular (``me < n`` or a diagonal of its R below eps).
    """
    me, n = E.shape
    mg = G.shape[0]
    work = borrowed(work)
    Ew, o = _take_matrix(work, 0, me, n)
    fw, o = _take(work, o, me)
    Gt, o = _take_matrix(work, o, n, mg)
    hw, o = _take(work, o, mg)
    Ew[:, :] = E
    fw[:] = f
    for i in range(mg):
        for j in range(n):
            Gt[j, i] = G[i, j]
    hw[:] = h
    return _lsi_inplace(Ew, fw, Gt, hw, borrowed(x), borrowed(mult),
                        work[o:], 0)


# ----------------------------------------------------------------- HFTI

@kernel
def _hfti_transposed(At, b, x, tau, work):
    # HFTI on At = A' (n, m), destroying At and b; R[i, j] = At[j, i].
    n, m = At.shape
    mn = m if m < n else n
    perm, o = _take(work, 0, n)
    up, o = _take(work, o, n)
    tmp, o = _take(work, o, n)
    gr, o = _take(work, o, n)
    R, o = _take_matrix(work, o, n, n)
    for j in range(n):
        perm[j] = j
        x[j] = 0.0
    for j in range(mn):
        # Pivot: the column with the largest remaining norm.
        best = j
        lmax = -1.0
        for c in range(j, n):
            sm = dot(At[c, j:], At[c, j:])
            if sm > lmax:
                lmax = sm
                best = c
        if best != j:
            for i in range(m):
                At[j, i], At[best, i] = At[best, i], At[j, i]
            perm[j], perm[best] = perm[best], perm[j]
        col = At[j]
        up[j] = house_make(col, j, j + 1)
        _reflect_rows(col, j, up[j], At, j + 1)
        house_apply_contiguous(col, j, j + 1, up[j], b)
    kr = 0
    if mn > 0:
        r0 = abs(At[0, 0])
        for j in range(mn):
            if r0 > 0.0 and abs(At[j, j]) > tau * r0:
                kr += 1
            else:
                break
    # The first kr rows of R, row-major.
    for i in range(kr):
        for j in range(n):
            R[i, j] = At[j, i] if j >= i else 0.0
    # [R11 R12] K = [W 0]: reflections from the right, last row first.
    if kr < n:
        for i in range(kr - 1, -1, -1):
            row = R[i]
            gr[i] = house_make(row, i, kr)
            for r in range(i):
                house_apply(row, i, kr, gr[i], R[r])
    for j in range(n):
        tmp[j] = 0.0
    for i in range(kr - 1, -1, -1):
        sm = b[i]
        for j in range(i + 1, kr):
            sm -= R[i, j] * tmp[j]
        tmp[i] = sm / R[i, i]
    if kr < n:
        for i in range(kr):
            house_apply(R[i], i, kr, gr[i], tmp)
    for j in range(n):
        x[int(perm[j])] = tmp[j]
    return kr


@kernel
def hfti(A, b, x, tau, work):
    """Rank-revealing minimum-length least squares (Lawson-Hanson HFTI).

    Householder QR with column pivoting ``A P = Q R``; the pseudo-rank k is
    the number of leading diagonals with ``|R[j, j]| > tau * |R[0, 0]|``;
    the trailing columns of the first k rows are removed by reflections
    from the right, giving the minimum-length solution of the rank-k
    problem.

    Parameters
    ----------
    A : float64[m, n]
        Not modified.
    b : float64[m]
        Overwritten (by ``Q' b``).
    x : float64[n]
        Output: the solution.
    tau : float
        Relative rank tolerance.
    work : float64[hfti_work_size(m, n)]

    Returns
    -------
    rank : int
        The pseudo-rank (NaN in A gives a rank below n).
    """
    m, n = A.shape
    work = borrowed(work)
    At = borrowed_matrix(work, 0, n, m)
    for i in range(m):
        for j in range(n):
            At[j, i] = A[i, j]
    return _hfti_transposed(At, borrowed(b), borrowed(x), tau, work[m * n:])


# ----------------------------------------------------------------- LSEI

@kernel
def _lsei_inplace(C, d, E, f, G, h, x, mult, work, maxiter):
    # min ||E x - f|| s.t. C x = d, G x >= h, destroying C, d, E, f, G, h.
    # Reflections from the right make C Q = [L 0]; with x = Q y the
    # equalities fix y1 = L^-1 d and the rest is an LSI (or, without
    # inequalities, an HFTI) problem in y2.
    mc, n = C.shape
    me = E.shape[0]
    mg = G.shape[0]
    for i in range(mc + mg):
        mult[i] = 0.0
    if mc > n:
        return 2
    for j in range(n):
        x[j] = 0.0
    k = n - mc
    up, o = _take(work, 0, mc)
    y, o = _take(work, o, n)
    # (E Q)[:, mc:], transposed for HFTI (mg == 0), row-major for LSI
    E2, o = _take(work, o, k * me)
    f2, o = _take(work, o, me)
    G2t, o = _take_matrix(work, o, k, mg)     # (G Q)[:, mc:] transposed
    h2, o = _take(work, o, mg)
    res, o = _take(work, o, me)
    inner = work[o:]
    for i in range(mc):
        row = C[i]
        up[i] = house_make(row, i, i + 1)
        _reflect_rows(row, i, up[i], C, i + 1)
        _reflect_rows(row, i, up[i], E, 0)
        _reflect_rows(row, i, up[i], G, 0)
    if _singular_diagonal(C, mc):
        return 6
    for i in range(mc):
        sm = d[i]
        for j in range(i):
            sm -= C[i, j] * y[j]
        y[i] = sm / C[i, i]
    for j in range(mc, n):
        y[j] = 0.0
    if k > 0:
        for r in range(me):
            sm = f[r]
            for j in range(mc):
                sm -= E[r, j] * y[j]
            f2[r] = sm
        y2 = y[mc:]
        if mg == 0:
            E2t = borrowed_matrix(E2, 0, k, me)
            for r in range(me):
                for j in range(k):
                    E2t[j, r] = E[r, mc + j]
            rank = _hfti_transposed(E2t, f2, y2, HFTI_RCOND, inner)
            if rank != k:
                _undo_right_reflections(C, up, y, x)
                return 7
        else:
            E2r = borrowed_matrix(E2, 0, me, k)
            for r in range(me):
                for j in range(k):
                    E2r[r, j] = E[r, mc + j]
            for r in range(mg):
                sm = h[r]
                for j in range(mc):
                    sm -= G[r, j] * y[j]
                h2[r] = sm
                for j in range(k):
                    G2t[j, r] = G[r, mc + j]
            mode = _lsi_inplace(E2r, f2, G2t, h2, y2, mult[mc:], inner,
                                maxiter)
            if mode != 1:
                return mode
    if mc > 0:
        # Equality multipliers from the first mc rows of the transformed
        # stationarity condition: L' mu = E~1'(E~ y - f) - G~1' lam.
        for r in range(me):
            res[r] = dot(E[r], y) - f[r]
        for i in range(mc - 1, -1, -1):
            sm = 0.0
            for r in range(me):
                sm += E[r, i] * res[r]
            for r in range(mg):
                sm -= G[r, i] * mult[mc + r]
            for j in range(i + 1, mc):
                sm -= C[j, i] * mult[j]
            mult[i] = sm / C[i, i]
    _undo_right_reflections(C, up, y, x)
    return 1


@kernel
def lsei(C, d, E, f, G, h, x, mult, work):
    """Least squares with equality and inequality constraints.

    ``min ||E x - f||_2`` s.t. ``C x = d`` and ``G x >= h``.

    Parameters
    ----------
    C : float64[mc, n]
        Equality constraints, full row rank, ``mc <= n``.
    d : float64[mc]
    E : float64[me, n]
        Least-squares matrix; ``E Q2`` (Q2 spanning the null space of C)
        must have full column rank.
    f : float64[me]
    G : float64[mg, n]
    h : float64[mg]
    x : float64[n]
        Output: the solution.
    mult : float64[mc + mg]
        Output: equality then inequality multipliers,
        ``E'(E x - f) = C' mult[:mc] + G' mult[mc:]``, ``mult[mc:] >= 0``.
    work : float64[lsei_work_size(mc, me, mg, n)]

    Returns
    -------
    mode : int
        1 success; 2 ``mc > n``; 3 NNLS iteration limit; 4 incompatible
        inequalities; 5 singular least-squares part (with inequalities);
        6 singular C; 7 rank-deficient least-squares part (without
        inequalities; x is then HFTI's minimum-length solution).
    """
    mc, n = C.shape
    me = E.shape[0]
    mg = G.shape[0]
    work = borrowed(work)
    Cw, o = _take_matrix(work, 0, mc, n)
    dw, o = _take(work, o, mc)
    Ew, o = _take_matrix(work, o, me, n)
    fw, o = _take(work, o, me)
    Gw, o = _take_matrix(work, o, mg, n)
    hw, o = _take(work, o, mg)
    Cw[:, :] = C
    dw[:] = d
    Ew[:, :] = E
    fw[:] = f
    Gw[:, :] = G
    hw[:] = h
    return _lsei_inplace(Cw, dw, Ew, fw, Gw, hw, borrowed(x), borrowed(mult),
                         work[o:], 0)


# ------------------------------------------------------------------ LSQ

@inline_kernel
def _has_bound(v):
    return v == v and not math.isinf(v)


@kernel
def _lsq(ldl, g, C, d, meq, xl, xu, s, mult, work, maxiter):
    n = g.size
    m = C.shape[0]
    for i in range(m + 2 * n):
        mult[i] = 0.0
    if meq > n:
        return 2
    nl = 0
    nu = 0
    for i in range(n):
        if _has_bound(xl[i]):
            nl += 1
        if _has_bound(xu[i]):
            nu += 1
    mineq = m - meq
    mg = mineq + nl + nu
    A, o = _take_matrix(work, 0, n, n)
    b, o = _take(work, o, n)
    E, o = _take_matrix(work, o, meq, n)
    f, o = _take(work, o, meq)
    # lsq_work_size leaves room for a bound on both sides of every
    # variable (m - meq + 2 n inequalities); only mg are used.
    spare = (m - meq + 2 * n) - mg
    G, o = _take_matrix(work, o, mg, n)
    o += spare * n
    h, o = _take(work, o, mg)
    o += spare
    y, o = _take(work, o, meq + mg)
    o += spare
    inner = work[o:]
    # 1/2 s'Bs + g's = 1/2 ||A s - b||^2 + const with A = D^1/2 L' and
    # b = -D^-1/2 L^-1 g.
    for i in range(n):
        b[i] = g[i]
        for j in range(n):
            A[i, j] = 0.0
    pos = 0
    for j in range(n):
        sd = math.sqrt(ldl[pos])
        A[j, j] = sd
        bj = b[j]
        for i in range(j + 1, n):
            lij = ldl[pos + i - j]
            A[j, i] = sd * lij
            b[i] -= lij * bj
        b[j] = -bj / sd
        pos += n - j
    for i in range(meq):
        for j in range(n):
            E[i, j] = C[i, j]
        f[i] = -d[i]
    for i in range(mineq):
        for j in range(n):
            G[i, j] = C[meq + i, j]
        h[i] = -d[meq + i]
    # bounds as rows of G: s_i >= xl_i, then -s_i >= -xu_i
    r = mineq
    for side in range(2):
        bound = xl if side == 0 else xu
        sign = 1.0 if side == 0 else -1.0
        for i in range(n):
            if _has_bound(bound[i]):
                for j in range(n):
                    G[r, j] = 0.0
                G[r, i] = sign
                h[r] = sign * bound[i]
                r += 1
    mode = _lsei_inplace(E, f, A, b, G, h, s, y, inner, maxiter)
    if mode == 1:
        for i in range(m):
            mult[i] = y[i]
        r = m
        for side in range(2):
            bound = xl if side == 0 else xu
            for i in range(n):
                if _has_bound(bound[i]):
                    mult[m + side * n + i] = y[r]
                    r += 1
    for i in range(n):
        if _has_bound(xl[i]) and s[i] < xl[i]:
            s[i] = xl[i]
        if _has_bound(xu[i]) and s[i] > xu[i]:
            s[i] = xu[i]
    return mode


@kernel
def lsq(ldl, g, C, d, meq, xl, xu, s, mult, work):
    """SLSQP's quadratic subproblem (Kraft 1988), through LSEI.

    ``min 1/2 s'Bs + g's`` s.t. ``C[:meq] s + d[:meq] = 0``,
    ``C[meq:] s + d[meq:] >= 0`` and ``xl <= s <= xu``.

    Parameters
    ----------
    ldl : float64[n(n+1)/2]
        B = L D L', packed by columns (:mod:`fastopt._kernels.ldl`), D > 0.
    g : float64[n]
    C : float64[m, n]
        C-contiguous; m may be 0 (shape (0, n)).
    d : float64[m]
    meq : int
        Number of leading equality rows of C.
    xl, xu : float64[n]
        Bounds on s; NaN or +-inf means no bound on that side.
    s : float64[n]
        Output: the step, clamped into [xl, xu].
    mult : float64[m + 2n]
        Output: ``mult[:meq]`` equality, ``mult[meq:m]`` inequality
        (>= 0), ``mult[m:m+n]`` lower-bound and ``mult[m+n:]`` upper-bound
        multipliers (>= 0, 0 where unbounded), with
        ``B s + g = C' mult[:m] + mult[m:m+n] - mult[m+n:]``.  All zero
        unless mode is 1.
    work : float64[lsq_work_size(m, meq, n)]

    Returns
    -------
    mode : int
        1 success; 2 ``meq > n``; 3 NNLS iteration limit (in LDP); 4
        inequalities incompatible; 5 singular E in LSI; 6 singular
        equality constraints; 7 rank-deficient subproblem without
        inequalities (HFTI).
    """
    return _lsq(borrowed(ldl), borrowed(g), borrowed(C), borrowed(d),
                meq, borrowed(xl), borrowed(xu), borrowed(s),
                borrowed(mult), borrowed(work), 0)
