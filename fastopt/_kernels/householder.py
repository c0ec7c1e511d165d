"""Householder reflections and Givens rotations (Lawson & Hanson, ch. 10).

Written from the descriptions of the algorithms H1/H2 and G1/G2 in
C. L. Lawson and R. J. Hanson, *Solving Least Squares Problems*, SIAM 1995,
chapter 10.  They are the building blocks of the NNLS / LDP / LSI / LSEI
kernels behind SLSQP (:mod:`fastopt._kernels.nnls`,
:mod:`fastopt._kernels.lsq`).

Householder convention
----------------------
A reflection is built from a 1-D vector ``v`` (a row or column view of a
matrix) with *pivot* index ``p`` and the *zeroed* tail ``v[l:]``
(``l > p``); the entries strictly between ``p`` and ``l`` and before ``p``
are untouched.  :func:`house_make` overwrites ``v[p]`` with the new pivot
value ``s = -sign(v[p]) * ||(v[p], v[l:])||`` (the sign chosen so that no
cancellation occurs in ``up = v[p] - s``), keeps ``v[l:]`` as the tail of
the Householder vector ``u = (up, v[l:])`` and returns ``up``.  The
reflection is ``Q = I + u u' / (s * up)``; :func:`house_apply` applies it
to another vector (:func:`house_apply_contiguous`,
:func:`house_apply_pair` and :func:`house_apply_quad`: the same for
contiguous vectors, one, two or four at a time).  ``up == 0`` means the
identity: returned when the tail is already zero, where Lawson-Hanson's
H1 would flip the sign of ``v[p]``.

Givens convention
-----------------
:func:`givens` returns ``(c, s, r)`` with ``[c s; -s c] [a; b] = [r; 0]``;
:func:`givens_apply` applies ``[c s; -s c]`` to a pair and returns it.

Borrowed arrays
---------------
:func:`borrowed` (from :mod:`fastopt._kernels.borrow`) returns an array without its
reference-counted owner; the public QP and NNLS kernels apply it to their
arguments so that the many row and slice views their loops take cost no
atomic reference-count updates.
"""
import math

from ._jit import inline_kernel
from .borrow import borrowed

__all__ = ["house_make", "house_apply", "house_apply_contiguous",
           "house_apply_pair", "house_apply_quad", "givens", "givens_apply",
           "dot", "borrowed"]


@inline_kernel
def dot(x, y):
    """``x . y`` for 1-D float64 arrays of equal length.

    Four partial sums break the dependency chain of a single running sum
    (without ``fastmath`` the compiler may not reorder the additions
    itself); the loop indexes from 0 so that no negative-index handling
    is generated.  Measured faster than BLAS (``numpy.dot``) below a few
    hundred elements, because of the call overhead.
    """
    n = x.size
    n4 = n // 4
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for k in range(n4):
        i = 4 * k
        s0 += x[i] * y[i]
        s1 += x[i + 1] * y[i + 1]
        s2 += x[i + 2] * y[i + 2]
        s3 += x[i + 3] * y[i + 3]
    for i in range(4 * n4, n):
        s0 += x[i] * y[i]
    return (s0 + s1) + (s2 + s3)


@inline_kernel
def house_make(v, p, l):
    """Construct a Householder reflection in place (Lawson-Hanson H1).

    Parameters
    ----------
    v : float64[:]
        The vector; ``v[p]`` is replaced by the transformed pivot ``s``,
        ``v[l:]`` keeps the tail of the Householder vector.
    p, l : int
        Pivot index and first index of the zeroed tail (``p < l``).

    Returns
    -------
    up : float
        The pivot element of the Householder vector (0: identity).
    """
    n = v.size
    if p < 0 or p >= l or p >= n:
        return 0.0
    tail = 0.0
    for i in range(l, n):
        a = abs(v[i])
        if a > tail or a != a:
            tail = a        # once NaN, stays NaN
    if tail == 0.0:
        # Nothing to annihilate: the identity (Lawson-Hanson's H1 would
        # flip the sign of v[p]; either is a valid reflection for every
        # use here, and the identity costs nothing to apply).
        return 0.0
    cl = abs(v[p])
    if tail > cl or not tail == tail:
        cl = tail
    # Scaled sum of squares: no overflow/underflow in the squares.
    clinv = 1.0 / cl
    sm = (v[p] * clinv) ** 2
    for i in range(l, n):
        sm += (v[i] * clinv) ** 2
    cl = cl * math.sqrt(sm)
    if v[p] > 0.0:
        cl = -cl
    up = v[p] - cl
    v[p] = cl
    return up


@inline_kernel
def _denominator(u, p, up):
    # b = up * s of Q = I + u u' / b; 0.0 where Q is the identity (up == 0)
    # or b is not negative (Lawson-Hanson's H2 then leaves c unchanged).
    if up == 0.0:
        return 0.0
    b = up * u[p]
    if not b < 0.0:
        return 0.0
    return b


@inline_kernel
def house_apply(u, p, l, up, c):
    """Apply the reflection held in ``u`` (from :func:`house_make`) to ``c``.

    Parameters
    ----------
    u : float64[:]
        The vector :func:`house_make` transformed (``u[p]`` the pivot
        value ``s``, ``u[l:]`` the tail).
    p, l : int
        As given to :func:`house_make`.
    up : float
        :func:`house_make`'s return value.
    c : float64[:]
        Vector transformed in place: only ``c[p]`` and ``c[l:]`` change.
    """
    b = _denominator(u, p, up)
    if b == 0.0:
        return
    n = u.size
    sm = c[p] * up
    for i in range(l, n):
        sm += c[i] * u[i]
    if sm != 0.0:
        sm = sm / b
        c[p] += sm * up
        for i in range(l, n):
            c[i] += sm * u[i]


@inline_kernel
def house_apply_contiguous(u, p, l, up, c):
    """:func:`house_apply` for C-contiguous ``u`` and ``c`` (the workhorse
    of NNLS): the inner product with four partial sums (see :func:`dot`)
    and both loops over ``[l:]`` slices indexed from 0, which lets the
    compiler drop negative-index handling and vectorise the update."""
    b = _denominator(u, p, up)
    if b == 0.0:
        return
    cs = c[l:]
    us = u[l:]
    sm = c[p] * up + dot(cs, us)
    if sm != 0.0:
        sm = sm / b
        c[p] += sm * up
        for i in range(cs.size):
            cs[i] += sm * us[i]


@inline_kernel
def house_apply_pair(u, p, l, up, c, d):
    """:func:`house_apply_contiguous` to two vectors ``c`` and ``d`` at once.

    Each element of ``u`` is loaded once for both, which measured about
    1.5x faster per vector than two separate calls (NNLS applies every new
    reflection to all the columns of its zero set)."""
    b = _denominator(u, p, up)
    if b == 0.0:
        return
    cs = c[l:]
    ds = d[l:]
    us = u[l:]
    n = cs.size
    n2 = n // 2
    s0 = 0.0
    s1 = 0.0
    t0 = 0.0
    t1 = 0.0
    for k in range(n2):
        i = 2 * k
        u0 = us[i]
        u1 = us[i + 1]
        s0 += cs[i] * u0
        s1 += cs[i + 1] * u1
        t0 += ds[i] * u0
        t1 += ds[i + 1] * u1
    for i in range(2 * n2, n):
        s0 += cs[i] * us[i]
        t0 += ds[i] * us[i]
    sm = c[p] * up + (s0 + s1)
    tm = d[p] * up + (t0 + t1)
    sm = sm / b
    tm = tm / b
    c[p] += sm * up
    d[p] += tm * up
    for i in range(n):
        ui = us[i]
        cs[i] += sm * ui
        ds[i] += tm * ui


@inline_kernel
def house_apply_quad(u, p, l, up, c, d, e, g):
    """:func:`house_apply_pair` to four vectors at once, each computed
    exactly as :func:`house_apply_pair` computes it (so results do not
    depend on how the vectors are grouped).

    The four inner products are independent chains of additions, which
    the processor overlaps: the inner products are a serial reduction per
    vector (without ``fastmath`` they are not vectorised), so more of them
    in flight is what makes the sweep of NNLS over its zero set faster."""
    b = _denominator(u, p, up)
    if b == 0.0:
        return
    cs = c[l:]
    ds = d[l:]
    es = e[l:]
    gs = g[l:]
    us = u[l:]
    n = cs.size
    n2 = n // 2
    c0 = 0.0
    c1 = 0.0
    d0 = 0.0
    d1 = 0.0
    e0 = 0.0
    e1 = 0.0
    g0 = 0.0
    g1 = 0.0
    for k in range(n2):
        i = 2 * k
        u0 = us[i]
        u1 = us[i + 1]
        c0 += cs[i] * u0
        c1 += cs[i + 1] * u1
        d0 += ds[i] * u0
        d1 += ds[i + 1] * u1
        e0 += es[i] * u0
        e1 += es[i + 1] * u1
        g0 += gs[i] * u0
        g1 += gs[i + 1] * u1
    for i in range(2 * n2, n):
        c0 += cs[i] * us[i]
        d0 += ds[i] * us[i]
        e0 += es[i] * us[i]
        g0 += gs[i] * us[i]
    sc = (c[p] * up + (c0 + c1)) / b
    sd = (d[p] * up + (d0 + d1)) / b
    se = (e[p] * up + (e0 + e1)) / b
    sg = (g[p] * up + (g0 + g1)) / b
    c[p] += sc * up
    d[p] += sd * up
    e[p] += se * up
    g[p] += sg * up
    for i in range(n):
        ui = us[i]
        cs[i] += sc * ui
        ds[i] += sd * ui
        es[i] += se * ui
        gs[i] += sg * ui


@inline_kernel
def givens(a, b):
    """Construct a Givens rotation (Lawson-Hanson G1).

    Returns ``(c, s, r)`` with ``c*a + s*b = r``, ``-s*a + c*b = 0`` and
    ``r = +-hypot(a, b)`` (the sign of the larger of ``a``, ``b``),
    computed without overflow.  ``a == b == 0`` gives ``(0, 1, 0)``.
    """
    if abs(a) > abs(b):
        xr = b / a
        yr = math.sqrt(1.0 + xr * xr)
        c = math.copysign(1.0 / yr, a)
        return c, c * xr, abs(a) * yr
    if b != 0.0:
        xr = a / b
        yr = math.sqrt(1.0 + xr * xr)
        s = math.copysign(1.0 / yr, b)
        return s * xr, s, abs(b) * yr
    return 0.0, 1.0, 0.0


@inline_kernel
def givens_apply(c, s, x, y):
    """Apply the rotation ``[c s; -s c]`` to ``(x, y)`` (Lawson-Hanson G2);
    returns the rotated pair."""
    return c * x + s * y, -s * x + c * y
