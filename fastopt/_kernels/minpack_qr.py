"""MINPACK's dense linear-algebra building blocks, as compiled kernels.

Written from the descriptions in the MINPACK-1 user guide (Moré, Garbow and
Hillstrom, ANL-80-74, 1980), keeping MINPACK's order of floating-point
operations so that solvers built on them take the same steps as SciPy's
MINPACK wrappers.

Conventions
-----------
* Matrices are C-contiguous float64 arrays in *mathematical* orientation:
  ``a[i, j]`` is row ``i``, column ``j`` (MINPACK stores them column-major;
  only the memory order differs, not the arithmetic).
* Index vectors (``ipvt``) are int64 and 0-based.
* Packed triangles (``s`` in :func:`r1updt`) follow MINPACK: an m-by-n
  lower-trapezoidal matrix S stored by columns, which for m == n is the
  same as the upper-triangular R = S^T stored by rows:
  ``r[k]`` for ``k = i*n - i*(i-1)/2 + (j - i)`` holds ``R[i, j]``,
  ``j >= i`` (length n(n+1)/2).

Kernels
-------
enorm(x)                         overflow/underflow-safe Euclidean norm
qrfac(a, pivot)                  Householder QR, in place; returns
                                 (ipvt, rdiag, acnorm)
qrfac_into(a, pivot, ipvt, rdiag, acnorm, wa)   the same, no allocation
qform(q, n)                      accumulate Q (m-by-m) from qrfac's output
r1updt(s, u, v, w, m, n)         rank-one update of a packed triangle
r1mpyq(a, v, w)                  apply r1updt's rotations to a from the right
"""
import numpy as np
from numba import njit
from numba.core import cgutils, types
from numba.core.errors import TypingError
from numba.core.unsafe.refcount import get_refcount
from numba.extending import intrinsic

from ._jit import OPTIONS, kernel

__all__ = ["enorm", "enorm_at", "fill_point", "vector_at", "qrfac", "qrfac_into", "qform", "r1updt", "r1mpyq",
           "packed_index", "RDWARF", "RGIANT"]

# MINPACK's constants for enorm: squares of values in (RDWARF, RGIANT/n)
# are summed directly; smaller and larger ones are scaled.
RDWARF = 3.834e-20
RGIANT = 1.304e19
EPSMCH = np.finfo(np.float64).eps


def _inline(function):
    # Inlined into its callers at numba-IR level: the arrays it takes then
    # cost no reference counting per call.
    return njit(inline="always", **OPTIONS)(function)


@_inline
def enorm_at(a, start, stride, count):
    """MINPACK's ``enorm`` of ``a[start::stride]`` (``count`` entries of a
    1-D array): the Euclidean norm, overflow/underflow safe.

    The squares of small, intermediate and large components are summed in
    three separate accumulators, the small and large ones scaled by the
    running largest such component, so that no intermediate overflows or
    underflows destructively.  A NaN component gives NaN.  (Inlined: the
    solvers call it on offsets of their work arrays.)
    """
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    x1max = 0.0
    x3max = 0.0
    agiant = RGIANT / count if count > 0 else RGIANT
    for k in range(count):
        xabs = abs(a[start + k * stride])
        if xabs > RDWARF and xabs < agiant:
            # intermediate components
            s2 += xabs * xabs
        elif xabs <= RDWARF:
            # small components
            if xabs > x3max:
                s3 = 1.0 + s3 * (x3max / xabs) ** 2
                x3max = xabs
            elif xabs != 0.0:
                s3 += (xabs / x3max) ** 2
        else:
            # large components (and NaN)
            if xabs > x1max:
                s1 = 1.0 + s1 * (x1max / xabs) ** 2
                x1max = xabs
            else:
                s1 += (xabs / x1max) ** 2
    if s1 != 0.0:
        return x1max * np.sqrt(s1 + (s2 / x1max) / x1max)
    if s2 != 0.0:
        if s2 >= x3max:
            return np.sqrt(s2 * (1.0 + (x3max / s2) * (x3max * s3)))
        return np.sqrt(x3max * ((s2 / x3max) + (x3max * s3)))
    return x3max * np.sqrt(s3)


@kernel
def enorm(x):
    """Euclidean norm of the 1-D array ``x``, MINPACK's ``enorm`` (see
    :func:`enorm_at`)."""
    return enorm_at(x, 0, 1, x.size)


@_inline
def _column_norm(a, j, start):
    # enorm of a[start:, j] (a strided column view: no temporary), inlined
    # into qrfac_into: a call per column would cost reference counting.
    column = a[start:, j]
    return enorm_at(column, 0, 1, column.size)


@_inline
def fill_point(xs, src, start, n):
    """``xs`` (float64, n) refilled with ``src[start:start + n]`` and
    returned, or a new array so filled if something other than the caller
    still holds ``xs``: one point array reused across calls of a user's
    function, yet a function that keeps its argument keeps its values, as
    with a fresh copy per call.  (The compiled drivers of hybrd and lmdif
    do the same without rebinding their point variable on every call,
    which would cost an atomic reference-count pair per call.)"""
    if get_refcount(xs) != 1:
        xs = np.empty(n)
    for j in range(n):
        xs[j] = src[start + j]
    return xs


@intrinsic
def vector_at(typingctx, address, size, dtype):
    """The C vector of ``size`` entries of ``dtype`` (``np.float64`` or
    ``np.int64``) at the machine ``address`` (an int64), without an owner
    (as :mod:`fastopt._kernels.borrow`'s views: no reference counting).

    For the Python drivers, which pass their work arrays to the compiled
    step kernels as one integer instead of as arrays: converting an array
    argument costs a memory-owner allocation per call (about 25 ns, a
    tenth of a small solver step).  The caller keeps the array at
    ``address`` alive and guarantees its size and type."""
    if not isinstance(dtype, types.NumberClass):
        raise TypingError(f"vector_at takes a NumPy number type; got {dtype}")
    if not isinstance(address, types.Integer):
        raise TypingError(f"vector_at takes an integer address; got {address}")
    ret = types.Array(dtype.instance_type, 1, "C")

    def codegen(context, builder, signature, args):
        out = context.make_array(ret)(context, builder)
        item = context.get_value_type(ret.dtype)
        data = builder.inttoptr(args[0], item.as_pointer())
        itemsize = context.get_abi_sizeof(item)
        intp_t = context.get_value_type(types.intp)
        size = context.cast(builder, args[1], signature.args[1], types.intp)
        context.populate_array(
            out, data=data, shape=cgutils.pack_array(builder, [size], intp_t),
            strides=cgutils.pack_array(
                builder, [intp_t(itemsize)], intp_t),
            itemsize=intp_t(itemsize), meminfo=None, parent=None)
        return out._getvalue()
    return ret(address, size, dtype), codegen


@kernel
def qrfac_into(a, pivot, ipvt, rdiag, acnorm, wa):
    """Householder QR of the m-by-n ``a`` with optional column pivoting,
    MINPACK's ``qrfac``, writing into preallocated arrays.

    Computes Q (m-by-m orthogonal), R (m-by-n upper trapezoidal) and a
    permutation P with ``a P = Q R``; with ``pivot`` the columns are chosen
    in order of decreasing (updated) norm, so ``|R[k, k]|`` decreases.

    On return (storage, all 0-based):

    * ``a[k:, k]`` for ``k < min(m, n)`` holds the Householder vector
      ``u_k`` (with ``a[i, k] = 0`` implied for ``i < k``), scaled so that
      ``u_k[k]`` is its largest-magnitude pivot entry plus one; Q is
      ``H_0 H_1 ... H_{p-1}``, ``H_k = I - u_k u_k^T / u_k[k]``
      (:func:`qform` forms it).  A zero column gives ``u_k = 0`` and
      ``H_k = I``.
    * The strict upper trapezoid ``a[i, j]``, ``i < j``, holds the strict
      upper part of R (for the permuted columns).
    * ``rdiag[k] = R[k, k]`` for ``k < min(m, n)``.
    * ``acnorm[j]`` = Euclidean norm of column ``j`` of the *input* a
      (unpermuted).
    * ``ipvt[k]`` = original index of the k-th column of ``a P``
      (``arange(n)`` when ``pivot`` is false).
    * ``wa`` (length n) is workspace.
    """
    m, n = a.shape
    for j in range(n):
        acnorm[j] = _column_norm(a, j, 0)
        rdiag[j] = acnorm[j]
        wa[j] = rdiag[j]
        ipvt[j] = j
    minmn = min(m, n)
    for j in range(minmn):
        if pivot:
            # bring the column of largest remaining norm into pivot position
            kmax = j
            for k in range(j, n):
                if rdiag[k] > rdiag[kmax]:
                    kmax = k
            if kmax != j:
                for i in range(m):
                    temp = a[i, j]
                    a[i, j] = a[i, kmax]
                    a[i, kmax] = temp
                rdiag[kmax] = rdiag[j]
                wa[kmax] = wa[j]
                k = ipvt[j]
                ipvt[j] = ipvt[kmax]
                ipvt[kmax] = k
        # Householder transformation reducing column j to a multiple of e_j
        ajnorm = _column_norm(a, j, j)
        if ajnorm != 0.0:
            if a[j, j] < 0.0:
                ajnorm = -ajnorm
            for i in range(j, m):
                a[i, j] = a[i, j] / ajnorm
            a[j, j] = a[j, j] + 1.0
            # apply it to the remaining columns and update their norms
            for k in range(j + 1, n):
                s = 0.0
                for i in range(j, m):
                    s = s + a[i, j] * a[i, k]
                temp = s / a[j, j]
                for i in range(j, m):
                    a[i, k] = a[i, k] - temp * a[i, j]
                if pivot and rdiag[k] != 0.0:
                    temp = a[j, k] / rdiag[k]
                    rdiag[k] = rdiag[k] * np.sqrt(max(0.0, 1.0 - temp * temp))
                    if 0.05 * (rdiag[k] / wa[k]) ** 2 <= EPSMCH:
                        rdiag[k] = _column_norm(a, k, j + 1)
                        wa[k] = rdiag[k]
        rdiag[j] = -ajnorm


@kernel
def qrfac(a, pivot):
    """Householder QR of ``a`` (m-by-n, modified in place), MINPACK's
    ``qrfac``; see :func:`qrfac_into` for the exact storage.

    Returns
    -------
    ipvt : ndarray of int64, shape (n,)
        0-based permutation: column k of ``a P`` is column ``ipvt[k]`` of a.
    rdiag : ndarray of float64, shape (n,)
        Diagonal of R (entries past min(m, n) are unspecified).
    acnorm : ndarray of float64, shape (n,)
        Column norms of the input a.
    """
    n = a.shape[1]
    ipvt = np.empty(n, np.int64)
    rdiag = np.empty(n)
    acnorm = np.empty(n)
    wa = np.empty(n)
    qrfac_into(a, pivot, ipvt, rdiag, acnorm, wa)
    return ipvt, rdiag, acnorm


@kernel
def qform(q, n):
    """Accumulate the orthogonal Q from :func:`qrfac`'s output, MINPACK's
    ``qform``.

    Parameters
    ----------
    q : ndarray of float64, shape (m, m)
        On input its first ``n`` columns hold the a returned by
        :func:`qrfac` (an m-by-n factored matrix); the remaining columns
        are ignored.  On output it holds the m-by-m Q.
    n : int
        Number of columns that were factored.
    """
    m = q.shape[0]
    minmn = min(m, n)
    wa = np.empty(m)
    # zero the strict upper triangle of the first min(m, n) columns
    for j in range(1, minmn):
        for i in range(j):
            q[i, j] = 0.0
    # remaining columns start as those of the identity
    for j in range(n, m):
        for i in range(m):
            q[i, j] = 0.0
        q[j, j] = 1.0
    # accumulate Q = H_0 ... H_{p-1} from the back
    for l in range(minmn):
        k = minmn - 1 - l
        for i in range(k, m):
            wa[i] = q[i, k]
            q[i, k] = 0.0
        q[k, k] = 1.0
        if wa[k] != 0.0:
            for j in range(k, m):
                s = 0.0
                for i in range(k, m):
                    s = s + q[i, j] * wa[i]
                temp = s / wa[k]
                for i in range(k, m):
                    q[i, j] = q[i, j] - temp * wa[i]


@kernel
def packed_index(i, j, n):
    """Position of R[i, j] (``j >= i``) in the row-wise packed triangle."""
    return i * n - (i * (i - 1)) // 2 + (j - i)


@kernel
def r1updt(s, u, v, w, m, n):
    """Rank-one update of a lower-trapezoidal matrix, MINPACK's ``r1updt``.

    Given the m-by-n lower-trapezoidal S (m >= n) packed by columns in
    ``s`` (length n(2m-n+1)/2; for m == n this is an upper-triangular
    R = S^T packed by rows), an m-vector ``u`` and an n-vector ``v``,
    finds an orthogonal Q (a product of 2(n-1) Givens rotations) such that
    ``(S + u v^T) Q`` is again lower trapezoidal, and overwrites ``s`` with
    it.  In R terms (m == n): ``Q^T (R + v u^T)`` is upper triangular.

    Parameters
    ----------
    s : ndarray of float64, modified in place
    u : ndarray of float64, shape (m,), not modified
    v : ndarray of float64, shape (n,)
        On output ``v[j]`` (j < n-1) encodes the j-th rotation of the first
        set (the ``v``/``w`` encoding read by :func:`r1mpyq`); ``v[n-1]``
        holds the last component of the rotated v.
    w : ndarray of float64, shape (m,)
        On output ``w[j]`` (j < n-1) encodes the rotations of the second
        set; the rest is workspace.
    m, n : int

    Returns
    -------
    sing : bool
        Whether a diagonal element of the updated matrix is zero.
    """
    giant = np.finfo(np.float64).max
    # 0-based position of S[n-1, n-1]
    jj = (n * (2 * m - n + 1)) // 2 - (m - n) - 1
    # move the nontrivial part of the last column of s into w
    l = jj
    for i in range(n - 1, m):
        w[i] = s[l]
        l += 1
    # rotate v into a multiple of e_{n-1}, introducing a spike into w
    for nmj in range(1, n):
        j = n - 1 - nmj
        jj -= m - j
        w[j] = 0.0
        if v[j] != 0.0:
            if abs(v[n - 1]) < abs(v[j]):
                cotan = v[n - 1] / v[j]
                sin = 0.5 / np.sqrt(0.25 + 0.25 * cotan * cotan)
                cos = sin * cotan
                tau = 1.0
                if abs(cos) * giant > 1.0:
                    tau = 1.0 / cos
            else:
                tan = v[j] / v[n - 1]
                cos = 0.5 / np.sqrt(0.25 + 0.25 * tan * tan)
                sin = cos * tan
                tau = sin
            v[n - 1] = sin * v[j] + cos * v[n - 1]
            v[j] = tau
            l = jj
            for i in range(j, m):
                temp = cos * s[l] - sin * w[i]
                w[i] = sin * s[l] + cos * w[i]
                s[l] = temp
                l += 1
    # add the spike from the rank-one update to w
    for i in range(m):
        w[i] = w[i] + v[n - 1] * u[i]
    # eliminate the spike
    sing = False
    for j in range(n - 1):
        if w[j] != 0.0:
            if abs(s[jj]) < abs(w[j]):
                cotan = s[jj] / w[j]
                sin = 0.5 / np.sqrt(0.25 + 0.25 * cotan * cotan)
                cos = sin * cotan
                tau = 1.0
                if abs(cos) * giant > 1.0:
                    tau = 1.0 / cos
            else:
                tan = w[j] / s[jj]
                cos = 0.5 / np.sqrt(0.25 + 0.25 * tan * tan)
                sin = cos * tan
                tau = sin
            l = jj
            for i in range(j, m):
                temp = cos * s[l] + sin * w[i]
                w[i] = -sin * s[l] + cos * w[i]
                s[l] = temp
                l += 1
            w[j] = tau
        if s[jj] == 0.0:
            sing = True
        jj += m - j
    # move w back into the last column of s
    l = jj
    for i in range(n - 1, m):
        s[l] = w[i]
        l += 1
    if s[jj] == 0.0:
        sing = True
    return sing


@kernel
def r1mpyq(a, v, w):
    """Apply the rotations encoded by :func:`r1updt` to ``a`` (m-by-n, in
    place) from the right, MINPACK's ``r1mpyq``: ``a <- a G_v G_w``.

    For each j < n-1, rotation j acts on columns j and n-1; an encoded
    value t gives (cos, sin) = (1/t, sqrt(1 - 1/t^2)) if |t| > 1, else
    (sqrt(1 - t^2), t).  The first set (``v``) is applied for
    j = n-2, ..., 0, then the second (``w``) for j = 0, ..., n-2.  For a
    vector, pass ``vec.reshape((1, n))``.
    """
    m, n = a.shape
    for nmj in range(1, n):
        j = n - 1 - nmj
        if abs(v[j]) > 1.0:
            cos = 1.0 / v[j]
            sin = np.sqrt(1.0 - cos * cos)
        else:
            sin = v[j]
            cos = np.sqrt(1.0 - sin * sin)
        for i in range(m):
            temp = cos * a[i, j] - sin * a[i, n - 1]
            a[i, n - 1] = sin * a[i, j] + cos * a[i, n - 1]
            a[i, j] = temp
    for j in range(n - 1):
        if abs(w[j]) > 1.0:
            cos = 1.0 / w[j]
            sin = np.sqrt(1.0 - cos * cos)
        else:
            sin = w[j]
            cos = np.sqrt(1.0 - sin * sin)
        for i in range(m):
            temp = cos * a[i, j] + sin * a[i, n - 1]
            a[i, n - 1] = -sin * a[i, j] + cos * a[i, n - 1]
            a[i, j] = temp
