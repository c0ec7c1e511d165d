"""Packed LDL' factors for SLSQP's quasi-Newton matrix (Kraft 1988).

Layout (Kraft's): B = L D L' with L unit lower triangular, stored column
by column in a float64 vector of length n(n+1)/2.  Column j starts at
``start_j = j*(2n-j+1)//2``; position ``start_j`` holds ``D[j]`` and
position ``start_j + (i-j)`` holds ``L[i, j]`` for ``i > j``.

The rank-one update is the composite-t method of R. Fletcher and
M. J. D. Powell, "On the modification of LDL' factorizations", Math.
Comp. 28 (1974) 1067-1087: method C1 for ``sigma > 0`` and, for
``sigma < 0``, the t-values computed first backwards so that the factor
stays positive definite even when rounding would make
``B + sigma z z'`` indefinite.

Kernels
-------
ldl_identity(ldl)                 B = I
ldl_update(ldl, z, sigma, w)      B <- B + sigma z z'  (z overwritten)
ldl_multiply(ldl, v, out)         out = B v
ldl_to_dense(ldl, B)              the dense matrix (tests, debugging)
"""
from ._jit import kernel

__all__ = ["ldl_identity", "ldl_update", "ldl_multiply", "ldl_to_dense",
           "packed_size", "EPSMACH"]

EPSMACH = 2.220446049250313e-16


@kernel
def packed_size(n):
    """Length n(n+1)/2 of a packed factor of order n."""
    return n * (n + 1) // 2


@kernel
def _order(size):
    # n with n(n+1)/2 == size.
    n = 0
    while n * (n + 1) // 2 < size:
        n += 1
    return n


@kernel
def ldl_identity(ldl):
    """Set the packed factor ``ldl`` (float64[n(n+1)/2]) to the identity:
    D = 1, L = I."""
    n = _order(ldl.size)
    for k in range(ldl.size):
        ldl[k] = 0.0
    pos = 0
    for j in range(n):
        ldl[pos] = 1.0
        pos += n - j


@kernel
def ldl_update(ldl, z, sigma, w):
    """Rank-one update ``B <- B + sigma z z'`` of the packed factor, in place.

    Parameters
    ----------
    ldl : float64[n(n+1)/2]
        Packed L D L' (module docstring); updated in place.
    z : float64[n]
        The update vector; overwritten (destroyed).
    sigma : float
        The weight; 0 does nothing.  For ``sigma < 0`` the result is kept
        positive definite: if ``B + sigma z z'`` is not (numerically), the
        update is scaled down so that the last t-value is ``eps/sigma``.
    w : float64[n]
        Scratch (the t-values of the negative update).
    """
    n = z.size
    if sigma == 0.0:
        return
    t = 1.0 / sigma
    if sigma < 0.0:
        # Solve L p = z (p in w) and accumulate t_{n+1} = 1/sigma + sum
        # p_i^2/d_i; then run the t-recurrence backwards from a safe end
        # value so that every t_i keeps the sign it must have.
        for i in range(n):
            w[i] = z[i]
        pos = 0
        for i in range(n):
            v = w[i]
            t += v * v / ldl[pos]
            for j in range(i + 1, n):
                w[j] -= v * ldl[pos + j - i]
            pos += n - i
        if t >= 0.0:
            t = EPSMACH / sigma
        for i in range(n):
            j = n - 1 - i
            pos -= i + 1
            u = w[j]
            w[j] = t
            t -= u * u / ldl[pos]
    pos = 0
    for i in range(n):
        v = z[i]
        delta = v / ldl[pos]
        if sigma < 0.0:
            tp = w[i]
        else:
            tp = t + delta * v
        alpha = tp / t
        ldl[pos] = alpha * ldl[pos]
        if i == n - 1:
            break
        beta = delta / tp
        if alpha > 4.0:
            # Large growth of d: the alternative form is more accurate.
            gamma = t / tp
            for j in range(i + 1, n):
                k = pos + j - i
                u = ldl[k]
                ldl[k] = gamma * u + beta * z[j]
                z[j] -= v * u
        else:
            for j in range(i + 1, n):
                k = pos + j - i
                z[j] -= v * ldl[k]
                ldl[k] += beta * z[j]
        pos += n - i
        t = tp


@kernel
def ldl_multiply(ldl, v, out):
    """``out = B v`` for the packed factor ``ldl`` of B = L D L'.

    ``v`` and ``out`` are float64[n] and must not be the same array.
    """
    n = v.size
    # out = D L' v, column by column.
    pos = 0
    for j in range(n):
        sm = v[j]
        for i in range(j + 1, n):
            sm += ldl[pos + i - j] * v[i]
        out[j] = ldl[pos] * sm
        pos += n - j
    # out = L out, from the last row up so each entry is read before it
    # is overwritten.
    for i in range(n - 1, 0, -1):
        pos = 0
        sm = out[i]
        for j in range(i):
            sm += ldl[pos + i - j] * out[j]
            pos += n - j
        out[i] = sm


@kernel
def ldl_to_dense(ldl, B):
    """Write the dense ``B = L D L'`` (float64[n, n]) of the packed factor."""
    n = B.shape[0]
    for i in range(n):
        for j in range(n):
            B[i, j] = 0.0
    pos = 0
    for k in range(n):
        d = ldl[pos]
        # B += d * l_k l_k' with l_k = column k of L.
        for i in range(k, n):
            li = 1.0 if i == k else ldl[pos + i - k]
            for j in range(k, n):
                lj = 1.0 if j == k else ldl[pos + j - k]
                B[i, j] += d * li * lj
        pos += n - k
