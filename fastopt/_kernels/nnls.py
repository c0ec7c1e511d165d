"""Non-negative least squares, Lawson & Hanson's active-set algorithm.

Written from the description of algorithm NNLS in C. L. Lawson and
R. J. Hanson, *Solving Least Squares Problems*, SIAM 1995, chapter 23:
``min ||A x - b||_2`` subject to ``x >= 0``.

The passive set P (free variables) is kept as an upper-triangular system
produced by Householder reflections; a variable enters P when its dual
``w_j = (A' (b - A x))_j`` is the largest positive one, the pivot is
numerically independent of P (``|pivot| > 100 * spacing(||column in P
rows||)``) and its trial coefficient is positive; variables leave P by an
interpolation step and Givens rotations restore the triangle.

Storage: the kernel works on the *transpose* of A (row j of the working
matrix is column j of A) so that every Householder and Givens operation
runs over contiguous memory.  The index sets are held as float64 values in
the workspace (exact for any index below 2**53), so no integer scratch is
needed.

Kernels
-------
nnls_work_size(m, n)                     float64 workspace length for nnls
nnls(A, b, x, w, maxiter, work)          -> (rnorm, info)
nnls_solve(A, b, maxiter)                -> (x, rnorm, info), allocating;
                                         info -1 for NaN/inf input
nnls_transposed(at, b, x, w, zz, index, maxiter)
                                         the in-place core (at is A')
"""
import math

import numpy as np

from ._jit import inline_kernel, kernel
from .householder import (borrowed, dot, givens, givens_apply,
                          house_apply, house_apply_contiguous,
                          house_apply_pair, house_apply_quad, house_make)

__all__ = ["nnls_work_size", "nnls", "nnls_solve", "nnls_transposed",
           "spacing"]


@inline_kernel
def spacing(x):
    """``numpy.spacing(|x|)`` for finite ``x``: the gap from ``|x|`` to the
    next larger float64 (the smallest subnormal for 0)."""
    x = abs(x)
    if x == 0.0:
        return 5e-324
    mantissa, exponent = math.frexp(x)
    gap = math.ldexp(1.0, exponent - 53)
    return gap if gap > 5e-324 else 5e-324


@kernel
def nnls_work_size(m, n):
    """float64 workspace length :func:`nnls` needs for an m-by-n ``A``."""
    return m * n + 2 * m + n


@inline_kernel
def _solve_triangle(at, zz, index, nsetp):
    # Back substitution R z = zz for the passive set: R[i, k] is
    # at[index[k], i] (row i of column index[k] of the transformed A).
    jj = 0
    for l in range(nsetp):
        ip = nsetp - 1 - l
        if l != 0:
            zip1 = zz[ip + 1]
            for ii in range(ip + 1):
                zz[ii] -= at[jj, ii] * zip1
        jj = int(index[ip])
        zz[ip] /= at[jj, ip]


@inline_kernel
def _dual(at, b, w, index, iz1, nsetp):
    # w on Z from the untransformed part of b: w_j = at[j, nsetp:] . b[nsetp:]
    bt = b[nsetp:]
    for iz in range(iz1, index.size):
        j = int(index[iz])
        w[j] = dot(at[j, nsetp:], bt)


@kernel
def nnls_transposed(at, b, x, w, zz, index, maxiter):
    """Lawson-Hanson NNLS on the transposed matrix, destroying its inputs.

    Parameters
    ----------
    at : float64[n, m]
        ``A.T`` (C-contiguous); overwritten by the transformed matrix.
    b : float64[m]
        Right-hand side; overwritten by ``Q' b``.
    x : float64[n]
        Output: the solution.
    w : float64[n]
        Output: the dual vector ``A' (b - A x)`` (<= 0 on the zero set at
        a solution, 0 on the passive set).
    zz : float64[m]
        Scratch.
    index : float64[n]
        Scratch: the permutation of the variables, passive set first.
    maxiter : int
        Iteration limit: the counter is incremented on entry to each
        inner (feasibility) step and reaching ``maxiter`` stops with
        info 3 (so ``maxiter <= 1`` always stops).

    Returns
    -------
    rnorm : float
        ``||A x - b||_2``.
    info : int
        1 solved, 2 ``m <= 0`` or ``n <= 0`` (x zeros, rnorm ``||b||``),
        3 iteration limit.
    """
    n, m = at.shape
    for j in range(n):
        x[j] = 0.0
        w[j] = 0.0
    if m <= 0 or n <= 0:
        sm = 0.0
        for i in range(m):
            sm += b[i] * b[i]
        return math.sqrt(sm), 2
    for j in range(n):
        index[j] = j
    iz1 = 0          # positions iz1..n-1 of index hold the zero set Z
    nsetp = 0        # positions 0..nsetp-1 hold the passive set P
    it = 0
    info = 1
    done = False
    # True when w on Z is up to date without a fresh computation: after a
    # column enters P and the reflection H is applied to the columns c of
    # Z and to b, the new dual c'[p+1:] . b'[p+1:] is the old one minus
    # the pivot-row product c'[p] b'[p] (H is orthogonal on rows p:), an
    # O(1) update instead of an inner product.  A fresh w is computed
    # after any removal or rejection, and before concluding that no
    # positive dual is left.
    dual_valid = False
    while not done:
        if iz1 >= n or nsetp >= m:
            break
        fresh = not dual_valid
        if fresh:
            _dual(at, b, w, index, iz1, nsetp)
        dual_valid = False
        # Find a variable to enter P.
        entered = False
        rejected = False
        up = 0.0
        izmax = -1
        j = -1
        while True:
            wmax = 0.0
            izmax = -1
            for iz in range(iz1, n):
                jz = int(index[iz])
                if w[jz] > wmax:
                    wmax = w[jz]
                    izmax = iz
            if izmax < 0:
                if not fresh:
                    _dual(at, b, w, index, iz1, nsetp)
                    fresh = True
                    continue
                break
            j = int(index[izmax])
            col = at[j]
            asave = col[nsetp]
            up = house_make(col, nsetp, nsetp + 1)
            unorm = 0.0
            for l in range(nsetp):
                unorm += col[l] * col[l]
            unorm = math.sqrt(unorm)
            if abs(col[nsetp]) > 100.0 * spacing(unorm):
                # Independent column: is its trial coefficient positive?
                for l in range(m):
                    zz[l] = b[l]
                house_apply(col, nsetp, nsetp + 1, up, zz)
                ztest = zz[nsetp] / col[nsetp]
                if ztest > 0.0:
                    entered = True
                    break
            # Reject: restore the column and never pick it this round.
            col[nsetp] = asave
            w[j] = 0.0
            rejected = True
        if not entered:
            break
        # Move j from Z to P and transform the remaining columns of Z.
        for l in range(m):
            b[l] = zz[l]
        index[izmax] = index[iz1]
        index[iz1] = j
        iz1 += 1
        nsetp += 1
        col = at[j]
        p = nsetp - 1
        bp = b[p]
        iz = iz1
        # Four columns at a time, each computed as house_apply_pair does
        # (the grouping does not change the arithmetic).
        while iz + 3 < n:
            ja = int(index[iz])
            jb = int(index[iz + 1])
            jc = int(index[iz + 2])
            jd = int(index[iz + 3])
            house_apply_quad(col, p, nsetp, up, at[ja], at[jb], at[jc],
                             at[jd])
            w[ja] -= at[ja, p] * bp
            w[jb] -= at[jb, p] * bp
            w[jc] -= at[jc, p] * bp
            w[jd] -= at[jd, p] * bp
            iz += 4
        if iz + 1 < n:
            jz = int(index[iz])
            jy = int(index[iz + 1])
            house_apply_pair(col, p, nsetp, up, at[jz], at[jy])
            w[jz] -= at[jz, p] * bp
            w[jy] -= at[jy, p] * bp
            iz += 2
        if iz < n:
            jz = int(index[iz])
            house_apply_contiguous(col, p, nsetp, up, at[jz])
            w[jz] -= at[jz, p] * bp
        dual_valid = not rejected
        for l in range(nsetp, m):
            col[l] = 0.0
        w[j] = 0.0
        for l in range(m):
            zz[l] = b[l]
        _solve_triangle(at, zz, index, nsetp)
        # Inner loop: step towards the unconstrained solution on P,
        # dropping the variables that hit zero.
        while True:
            it += 1
            if it >= maxiter:
                info = 3
                done = True
                break
            alpha = 2.0
            jj = -1
            for ip in range(nsetp):
                l = int(index[ip])
                if zz[ip] <= 0.0:
                    t = -x[l] / (zz[ip] - x[l])
                    if alpha > t:
                        alpha = t
                        jj = ip
            if alpha == 2.0:
                break
            for ip in range(nsetp):
                l = int(index[ip])
                x[l] = x[l] + alpha * (zz[ip] - x[l])
            i = int(index[jj])
            dual_valid = False
            while True:
                # Remove variable i (at position jj) from P.
                x[i] = 0.0
                for jp in range(jj + 1, nsetp):
                    ii = int(index[jp])
                    index[jp - 1] = ii
                    c, s, r = givens(at[ii, jp - 1], at[ii, jp])
                    at[ii, jp - 1] = r
                    at[ii, jp] = 0.0
                    for l in range(n):
                        if l != ii:
                            at[l, jp - 1], at[l, jp] = givens_apply(
                                c, s, at[l, jp - 1], at[l, jp])
                    b[jp - 1], b[jp] = givens_apply(c, s, b[jp - 1], b[jp])
                nsetp -= 1
                iz1 -= 1
                index[iz1] = i
                # Round-off may leave other nonpositive values in P.
                again = False
                for jp in range(nsetp):
                    i = int(index[jp])
                    if x[i] <= 0.0:
                        jj = jp
                        again = True
                        break
                if not again:
                    break
            for l in range(m):
                zz[l] = b[l]
            _solve_triangle(at, zz, index, nsetp)
        if done:
            break
        for ip in range(nsetp):
            x[int(index[ip])] = zz[ip]
    sm = 0.0
    for l in range(nsetp, m):
        sm += b[l] * b[l]
    return math.sqrt(sm), info


@kernel
def nnls(A, b, x, w, maxiter, work):
    """Solve ``min ||A x - b||_2`` subject to ``x >= 0`` (Lawson-Hanson).

    Parameters
    ----------
    A : float64[m, n]
        C-contiguous; not modified.
    b : float64[m]
        Not modified.
    x : float64[n]
        Output: the solution.
    w : float64[n]
        Output: the dual vector ``A' (b - A x)``.
    maxiter : int
        Iteration limit (see :func:`nnls_transposed`; SciPy uses ``3 n``).
    work : float64[nnls_work_size(m, n)]
        Scratch.

    Returns
    -------
    rnorm : float
        ``||A x - b||_2``.
    info : int
        1 solved, 2 empty problem (``m == 0`` or ``n == 0``: x zeros,
        rnorm ``||b||``), 3 iteration limit reached.
    """
    m, n = A.shape
    work = borrowed(work)
    at = work[:m * n].reshape((n, m))
    for i in range(m):
        for j in range(n):
            at[j, i] = A[i, j]
    bb = work[m * n:m * n + m]
    for i in range(m):
        bb[i] = b[i]
    zz = work[m * n + m:m * n + 2 * m]
    index = work[m * n + 2 * m:m * n + 2 * m + n]
    return nnls_transposed(at, bb, borrowed(x), borrowed(w), zz, index,
                           maxiter)



@kernel
def nnls_solve(A, b, maxiter):
    """:func:`nnls` with its own arrays, for the Python wrapper.

    Checks that ``A`` (float64[m, n], C-contiguous) and ``b`` (float64[m])
    are finite first: info -1 (x zeros) if not.  Returns
    ``(x, rnorm, info)`` with info as in :func:`nnls`.
    """
    m, n = A.shape
    x = np.zeros(n)
    for i in range(m):
        if not math.isfinite(b[i]):
            return x, 0.0, -1
        for j in range(n):
            if not math.isfinite(A[i, j]):
                return x, 0.0, -1
    w = np.empty(n)
    work = np.empty(nnls_work_size(m, n))
    rnorm, info = nnls(A, b, x, w, maxiter, work)
    return x, rnorm, info
