"""Krylov linear solvers (gmres, lgmres, bicgstab, cgs, minres) as
reverse-communication kernels.

These are the inner solvers of ``root(method='krylov')``.  Each follows the
numerics of the ``scipy.sparse.linalg`` solver of the same name (SciPy
1.17): the same stopping rule, the same treatment of ``x0``, the same
iteration counting, the same ``info`` values and the same breakdown tests,
so the iterates agree with SciPy's to rounding.  The algorithms are from
Barrett et al., *Templates for the Solution of Linear Systems* (1994)
(BiCGSTAB, CGS, restarted GMRES with modified Gram-Schmidt and Givens
rotations), Baker, Jessup and Manteuffel, *A technique for accelerating the
convergence of restarted GMRES*, SIAM J. Matrix Anal. Appl. 26 (2005)
(LGMRES) and Paige and Saunders, *Solution of sparse indefinite systems of
linear equations*, SIAM J. Numer. Anal. 12 (1975) (MINRES).

Reverse communication
---------------------
The kernels never call ``A`` or the preconditioner ``M``.  The whole state
lives in two work arrays, ``iw`` (int64) and ``rw`` (float64), and a step
function returns a request code::

    iw, rw = krylov_workspace(method, n, restart, outer_k, outer_cap,
                              store_outer_av, prepend_outer_v, use_m,
                              callback_mode)
    code = krylov_start(iw, rw, b, x0, has_x0, rtol, atol, maxiter)
    while code != DONE:
        src, dst = iw[I_SRC], iw[I_DST]
        if code == MATVEC:        # y = A @ v
            rw[dst:dst + n] = A @ rw[src:src + n]
        elif code == PSOLVE:      # z = M @ v
            rw[dst:dst + n] = M @ rw[src:src + n]
        else:                     # NOTIFY: x is current; optional callback
            callback(rw[iw[I_X]:iw[I_X] + n])
        code = krylov_step(iw, rw)
    x = rw[iw[I_X]:iw[I_X] + n]       # the solution (a view: copy it)
    info = iw[I_INFO]

Request codes (return value of :func:`krylov_start`/:func:`krylov_step`):

``DONE`` (0)
    finished; ``iw[I_INFO]`` holds ``info``, ``x`` is at ``rw[iw[I_X]:]``.
``MATVEC`` (1)
    write ``A @ v`` to ``rw[iw[I_DST]:iw[I_DST] + n]`` where
    ``v = rw[iw[I_SRC]:iw[I_SRC] + n]``.  The two ranges never overlap.
    Where SciPy multiplies a zero ``x`` (lgmres's first residual, or any
    method's with ``x0 = 0`` given) the kernel uses ``A @ 0 = 0`` itself
    and asks nothing, so with ``x0 = 0`` a finite-difference matvec does
    not see ``v = 0``; it should still return zeros for an exactly zero
    ``v``, as KrylovJacobian does, since the algorithms do not exclude it.
    Nothing else in ``rw`` may be changed.
``PSOLVE`` (2)
    the same with the preconditioner: write ``M @ v`` to the ``I_DST``
    range.  Issued only if the workspace was made with ``use_m=True``
    (otherwise the kernel copies ``v``).  ``M`` is applied where SciPy
    applies it: gmres and lgmres precondition on the left (``M @ r`` and
    ``M @ (A @ v)``; gmres also asks for ``M @ b`` once, for its inner
    tolerance), bicgstab and cgs on the right (``A @ (M @ p)``), minres
    uses ``M`` as a symmetric positive definite approximation of
    ``inv(A)``.
``NOTIFY`` (3)
    only with ``callback_mode != 0``: the point where SciPy calls the
    callback.  ``callback_mode=1``: ``callback(x)`` (bicgstab, cgs, minres:
    after each iteration; lgmres: at the start of each outer iteration;
    gmres: after each restart cycle, SciPy's ``callback_type='x'``).
    ``callback_mode=2`` (gmres only, ``callback_type='pr_norm'``): after
    each inner iteration with ``rw[R_PRNORM]`` = the preconditioned
    residual norm relative to ``||b||``.  ``callback_mode=3`` (gmres only,
    SciPy's ``callback_type='legacy'``): as 2, and the solve also stops
    after ``maxiter`` inner iterations as SciPy's legacy mode does.
    Change nothing; call ``krylov_step`` again.

Methods (``method`` argument): ``METHOD_GMRES`` (0), ``METHOD_LGMRES`` (1),
``METHOD_BICGSTAB`` (2), ``METHOD_CGS`` (3), ``METHOD_MINRES`` (4).

Workspace (:func:`krylov_workspace`)
    ``restart``: gmres's restart length (the caller applies SciPy's
    ``min(restart, n)``), lgmres's ``inner_m``; ignored otherwise.
    ``outer_k``, ``outer_cap``, ``store_outer_av``, ``prepend_outer_v``:
    lgmres only, see below.  ``use_m``: issue PSOLVE requests.
    ``callback_mode``: 0 to 3 as above.  Sizes: ``iw`` has
    ``IW_HEAD + 2 * (outer_cap + restart + 1) + mmax + 1`` entries, ``rw``
    has ``RW_HEAD`` scalars and then

    - gmres: ``(restart + 6) * n + restart**2 + 5 * restart + 2``
    - lgmres: ``(mmax + 5 + outer_cap * (1 + (store_outer_av != 0))) * n
      + 2 * mmax * (mmax + 1) + 6 * mmax + 4`` with
      ``mmax = max(1, restart + outer_cap - 1)``
    - bicgstab: ``9 n``, cgs: ``11 n``, minres: ``9 n``

    so memory is O(n * restart) or O(n * (inner_m + outer_k)), never n x n.
    ``rw`` is allocated with ``np.empty`` (every vector is written before
    it is read).  One workspace serves any number of solves of the same
    size (:func:`krylov_start` resets everything except lgmres's outer
    vectors); ``iw[I_USE_M]`` (0/1) and ``iw[I_CALLBACK]`` may be changed
    between solves.

Start (:func:`krylov_start`)
    ``b`` and ``x0`` (C-contiguous float64, shape (n,)) are copied in;
    ``has_x0=False`` means SciPy's ``x0=None`` (``x0`` may then be any
    float64 array).  ``rtol``, ``atol`` and ``maxiter`` as in SciPy (the
    caller applies SciPy's default ``maxiter``: ``10 n`` for gmres (restart
    cycles), bicgstab and cgs, ``1000`` for lgmres (outer iterations),
    ``5 n`` for minres).  minres has no ``atol`` (SciPy's has none); its
    ``shift`` is ``rw[R_SHIFT]`` (set it after ``krylov_start``, before the
    first ``krylov_step``; :func:`krylov_start` sets it to 0 and already
    returns the first request, so for a shift use :func:`krylov_reset`
    + ``rw[R_SHIFT] = shift`` + ``krylov_step``).

Stopping rule and ``info``
    ``tol = max(atol, rtol * ||b||)``; converged when ``||b - A x|| < tol``
    (bicgstab, cgs, gmres's first test) or ``<= tol`` (gmres after a
    cycle, lgmres), exactly as SciPy.  minres uses SciPy's MINRES tests
    (``istop`` in ``iw[I_ISTOP]``).  ``info`` is SciPy's: 0 converged,
    ``maxiter`` (> 0) not converged within ``maxiter`` iterations (for
    lgmres also ``k + 1`` when the inner least-squares problem became
    non-finite in outer iteration k), -10 (rho breakdown) and -11 (omega
    or ``<r~, v> = 0`` breakdown) for bicgstab and cgs.  Where SciPy raises
    instead, the kernel stops with:

    - ``INFO_NONFINITE_RHS`` (-101): lgmres, ``b`` not finite
      (``ValueError('RHS must contain only finite numbers')``);
    - ``INFO_ZERO_PRECOND`` (-102): lgmres, ``M @ r == 0``
      (``RuntimeError('Preconditioner returned a zero vector; ...')``);
    - ``INFO_INDEFINITE_PRECOND`` (-103): minres, ``r' M r < 0``
      (``ValueError('indefinite preconditioner')``);
    - ``INFO_NONSYMMETRIC`` (-104): minres, ``beta < 0``
      (``ValueError('non-symmetric matrix')``).

    Non-finite values: as soon as the residual (norm) of bicgstab, cgs,
    gmres or minres is not finite the kernel stops with ``info = maxiter``
    (SciPy iterates on NaN until ``maxiter`` and returns the same ``info``;
    ``x`` is then the last iterate and may differ from SciPy's NaN-filled
    one).  lgmres reports ``k + 1`` as SciPy does.

    If ``b == 0`` (and, for minres, ``r' M r == 0``) ``x`` is the zero
    vector (minres: ``x0``) and ``info`` 0, with no request.

Counters
    ``iw[I_ITER]``: SciPy's iteration count (bicgstab and cgs iterations,
    gmres restart cycles, lgmres outer iterations, minres ``itn``);
    ``iw[I_INNER]``: gmres inner iterations (SciPy's legacy count) or
    lgmres Arnoldi steps; ``iw[I_NMATVEC]``, ``iw[I_NPSOLVE]``: requests
    issued.

Recipe for ``KrylovJacobian`` (what SciPy passes to each method, with
``inner_maxiter`` default 20, ``outer_k`` default 10, ``tol`` the forcing
term): one workspace per Jacobian object, ``krylov_start(iw, rw, rhs,
zeros, False, tol, 0.0, maxiter)`` per Newton step.

- gmres: ``restart = min(inner_maxiter, n)``, ``maxiter = 1``;
- lgmres: ``restart = inner_m`` (30 unless ``inner_inner_m``),
  ``outer_k``, ``outer_cap = outer_k + 1``, ``store_outer_av = 0``,
  ``prepend_outer_v = True``, ``maxiter = 1`` (so ``info`` is 1 unless the
  right-hand side is already solved; SciPy ignores it);
- bicgstab, cgs: ``maxiter = inner_maxiter``, ``atol = 0``;
- minres: ``maxiter = inner_maxiter`` (no atol);
- ``use_m = inner_M is not None``; ``callback_mode = 0``.

A compiled caller serves MATVEC with its finite difference of ``F`` into
``rw[iw[I_DST]:]`` from ``rw[iw[I_SRC]:]`` (zeros for a zero v) and,
without ``inner_M``, never sees PSOLVE.  :func:`krylov_solve_csr` and
:func:`krylov_solve_dense` are complete examples of such a caller.

lgmres's outer vectors
    SciPy's ``outer_v`` list lives in the workspace and persists across
    solves (:func:`krylov_start` does not clear it; :func:`krylov_workspace`
    starts it empty).  ``iw[I_NOUTER]`` vectors; logical vector ``i``
    (0 = oldest) is in physical slot ``p = (iw[I_OUTER_START] + i) %
    outer_cap``, its ``z`` at ``rw[iw[I_OZ] + p * n:][:n]``, its ``A z``
    (left-preconditioned; storage exists if ``store_outer_av`` is 1 (store
    it for each new vector, SciPy's ``store_outer_Av=True``) or 2 (room for
    vectors loaded by the caller, new ones get none); 0: no storage) at
    ``rw[iw[I_OAV] + p * n:][:n]`` when ``iw[IW_HEAD + p] == 1``.  After
    each outer iteration the new ``dx / ||dx||`` is appended and the oldest
    are dropped down to ``outer_k`` (SciPy's rule; ``outer_cap`` must be
    at least ``max(outer_k, initial count) + 1``).  ``iw[I_NAPPEND]``
    counts the vectors this solve appended (the newest
    ``min(iw[I_NAPPEND], iw[I_NOUTER])`` are still there).  KrylovJacobian
    uses ``prepend_outer_v=True, store_outer_av=False``.
"""
import math

import numpy as np

from ._jit import inline_kernel, kernel, reduction_kernel

__all__ = ["krylov_workspace", "krylov_workspace_size", "krylov_workspace_in",
           "krylov_start", "krylov_reset",
           "krylov_solve_csr", "krylov_solve_dense",
           "krylov_step", "DONE", "MATVEC", "PSOLVE", "NOTIFY",
           "METHOD_GMRES", "METHOD_LGMRES", "METHOD_BICGSTAB", "METHOD_CGS",
           "METHOD_MINRES"]

# request codes
DONE = 0
MATVEC = 1
PSOLVE = 2
NOTIFY = 3

METHOD_GMRES = 0
METHOD_LGMRES = 1
METHOD_BICGSTAB = 2
METHOD_CGS = 3
METHOD_MINRES = 4

INFO_NONFINITE_RHS = -101
INFO_ZERO_PRECOND = -102
INFO_INDEFINITE_PRECOND = -103
INFO_NONSYMMETRIC = -104

# integer slots
I_METHOD = 0
I_N = 1
I_PHASE = 2
I_SRC = 3
I_DST = 4
I_INFO = 5
I_ITER = 6
I_INNER = 7
I_NMATVEC = 8
I_NPSOLVE = 9
I_MAXITER = 10
I_USE_M = 11
I_CALLBACK = 12
I_RESTART = 13
I_OUTER_K = 14
I_OUTER_CAP = 15
I_NOUTER = 16
I_OUTER_START = 17
I_STORE_AV = 18
I_PREPEND = 19
I_COL = 20
I_BREAKDOWN = 21
I_NV = 22
I_M = 23
I_K = 24
I_ISTOP = 25
I_B = 26
I_X = 27
I_R = 28
I_OZ = 29
I_OAV = 30
I_V = 31      # first Krylov basis vector (gmres, lgmres)
I_V1 = 32     # further vectors / small arrays, method-specific
I_V2 = 33
I_V3 = 34
I_V4 = 35
I_V5 = 36
I_V6 = 37
I_V7 = 38
I_V8 = 39
I_V9 = 40
I_V10 = 41
I_V11 = 42
I_MMAX = 43
I_NAPPEND = 44   # lgmres: outer vectors appended by this solve
IW_HEAD = 48   # then outer_cap has-Av flags, then column z sources

# float slots
R_RTOL = 0
R_ATOL = 1     # max(atol, rtol * ||b||)
R_BNRM = 2
R_EPS = 3
R_PRNORM = 4
R_SHIFT = 5
R_RNORM = 6
R_PTOL = 7
R_PMF = 8      # ptol_max_factor
R_PRESID = 9
R_RHO = 10
R_RHO_PREV = 11
R_ALPHA = 12
R_OMEGA = 13
R_INNER0 = 14
R_GAMMA0 = 15  # minres scalars from here
RW_HEAD = 48

EPS = np.finfo(np.float64).eps
RHOTOL = EPS * EPS
SAFMIN = 2.0 ** -1022
SAFMAX = 1.0 / SAFMIN
RTMIN = math.sqrt(SAFMIN)
RTMAX = math.sqrt(SAFMAX / 2)

# phases
P_IDLE = 0
P_START = 1
# bicgstab
P_BI_R0 = 10
P_BI_LOOP = 11
P_BI_P1 = 12
P_BI_P2 = 13
P_BI_P3 = 14
P_BI_P4 = 15
P_BI_P5 = 16
P_BI_NOTIFIED = 17
# cgs
P_CG_R0 = 20
P_CG_LOOP = 21
P_CG_C1 = 22
P_CG_C2 = 23
P_CG_C3 = 24
P_CG_C4 = 25
P_CG_C5 = 26
# gmres
P_GM_MB = 30
P_GM_R0 = 31
P_GM_OUTER = 32
P_GM_V0 = 33
P_GM_COL = 34
P_GM_AV = 35
P_GM_W = 36
P_GM_NEXT = 37
P_GM_R = 38
P_GM_AFTER = 39
P_GM_DONE = 40
# lgmres
P_LG_OUTER = 50
P_LG_R = 51
P_LG_CHECK = 52
P_LG_V0 = 53
P_LG_J = 54
P_LG_AZ = 55
P_LG_ORTH = 56
# minres
P_MR_R0 = 70
P_MR_Y0 = 71
P_MR_LOOP = 72
P_MR_Y = 73
P_MR_BETA = 74
P_MR_END = 75


@reduction_kernel
def _dot(rw, a, b, n):
    # Views, not rw[a + i]: a computed index needs a negative-index check
    # per element, which blocks vectorisation.
    x = rw[a:a + n]
    y = rw[b:b + n]
    s = 0.0
    for i in range(n):
        s += x[i] * y[i]
    return s


@kernel
def _nrm(rw, a, n):
    return math.sqrt(_dot(rw, a, a, n))


@kernel
def _copy(rw, src, dst, n):
    v_dst = rw[dst:dst + n]
    v_src = rw[src:src + n]
    for i in range(n):
        v_dst[i] = v_src[i]


@kernel
def _axpy(rw, alpha, src, dst, n):
    # rw[dst] += alpha * rw[src]
    v_dst = rw[dst:dst + n]
    v_src = rw[src:src + n]
    for i in range(n):
        v_dst[i] += alpha * v_src[i]


@kernel
def _scal(rw, alpha, a, n):
    v_a = rw[a:a + n]
    for i in range(n):
        v_a[i] *= alpha


@kernel
def _is_zero(rw, a, n):
    v_a = rw[a:a + n]
    for i in range(n):
        if v_a[i] != 0.0:
            return False
    return True


@inline_kernel
def _zero(rw, a, n):
    v_a = rw[a:a + n]
    for i in range(n):
        v_a[i] = 0.0


@inline_kernel
def _sub(rw, a, b, dst, n):
    # rw[dst] = rw[a] - rw[b]; dst may be b
    v_dst = rw[dst:dst + n]
    v_a = rw[a:a + n]
    v_b = rw[b:b + n]
    for i in range(n):
        v_dst[i] = v_a[i] - v_b[i]


@kernel
def _lartg(f, g):
    """LAPACK dlartg (3.10): c, s, r with [c s; -s c] [f; g] = [r; 0]."""
    if g == 0.0:
        return 1.0, 0.0, f
    if f == 0.0:
        return 0.0, math.copysign(1.0, g), abs(g)
    f1 = abs(f)
    g1 = abs(g)
    if f1 > RTMIN and f1 < RTMAX and g1 > RTMIN and g1 < RTMAX:
        d = math.sqrt(f * f + g * g)
        c = f1 / d
        r = math.copysign(d, f)
        s = g / r
        return c, s, r
    u = min(SAFMAX, max(SAFMIN, max(f1, g1)))
    fs = f / u
    gs = g / u
    d = math.sqrt(fs * fs + gs * gs)
    c = abs(fs) / d
    r = math.copysign(d, f)
    s = gs / r
    return c, s, r * u


@kernel
def _request(iw, code, src, dst, phase):
    iw[I_SRC] = src
    iw[I_DST] = dst
    iw[I_PHASE] = phase
    if code == MATVEC:
        iw[I_NMATVEC] += 1
    elif code == PSOLVE:
        iw[I_NPSOLVE] += 1
    return code


@kernel
def _psolve(iw, rw, src, dst, phase):
    """Request z = M v, or (no preconditioner) copy v: True if requested."""
    if iw[I_USE_M] != 0:
        _request(iw, PSOLVE, src, dst, phase)
        return True
    _copy(rw, src, dst, iw[I_N])
    iw[I_PHASE] = phase
    return False


@kernel
def _finish(iw, info):
    iw[I_INFO] = info
    iw[I_PHASE] = P_IDLE
    return DONE


@inline_kernel
def _solved_by_zero(iw, rw):
    """Set ``||b||`` and the tolerance ``max(atol, rtol ||b||)``; True if
    ``b == 0``, with ``x = b`` (the caller finishes with info 0)."""
    n = iw[I_N]
    ob = iw[I_B]
    bnrm = _nrm(rw, ob, n)
    rw[R_BNRM] = bnrm
    rw[R_ATOL] = max(rw[R_ATOL], rw[R_RTOL] * bnrm)
    if bnrm == 0.0:
        _copy(rw, ob, iw[I_X], n)
        return True
    return False


@inline_kernel
def _request_ax0(iw, rw, phase):
    """Start the first residual: request ``r = A x0`` (True) or, for a
    zero ``x0``, set ``r = b`` without a request; either way ``phase``
    comes next, where :func:`_first_residual` completes it."""
    if not _is_zero(rw, iw[I_X], iw[I_N]):
        _request(iw, MATVEC, iw[I_X], iw[I_R], phase)
        return True
    _copy(rw, iw[I_B], iw[I_R], iw[I_N])
    iw[I_PHASE] = phase
    return False


@inline_kernel
def _first_residual(iw, rw):
    # after _request_ax0: r holds A x0 if a matvec was issued, else b
    if iw[I_NMATVEC] > 0:
        _sub(rw, iw[I_B], iw[I_R], iw[I_R], iw[I_N])


@inline_kernel
def _bicg_r0(iw, rw, ort, loop):
    # bicgstab's and cgs's r0 = b - A x0 and r~ = r0
    _first_residual(iw, rw)
    _copy(rw, iw[I_R], ort, iw[I_N])
    iw[I_PHASE] = loop


@inline_kernel
def _mgs(rw, ovv, nv, ow, hc, n):
    """Modified Gram-Schmidt of ``w`` against the first ``nv`` basis
    vectors: ``h[:nv]`` to ``rw[hc:]``, ``h[nv] = ||w||`` after; returns
    ``(||w|| before, ||w|| after)``.  gmres and lgmres then decide
    breakdown and normalise ``w`` each as SciPy does."""
    # One pass per basis vector, not two: the pass that subtracts h_k v_k
    # from w also sums v_{k+1} . w for the next coefficient (the first
    # pass sums ||w||^2 and v_0 . w, the last ||w||^2 again).  The same
    # arithmetic as a dot then an axpy per vector, in half the passes over
    # w; only the order within each sum differs.
    if nv == 0:
        before = _nrm(rw, ow, n)
        rw[hc] = before
        return before, before
    ss, t = _dots2(rw, ow, ow, ovv, n)
    before = math.sqrt(ss)
    for k in range(nv):
        rw[hc + k] = t
        nxt = ovv + (k + 1) * n if k + 1 < nv else ow
        t = _axpy_dot(rw, -t, ovv + k * n, ow, nxt, n)
    after = math.sqrt(t)
    rw[hc + nv] = after
    return before, after


@reduction_kernel
def _dots2(rw, a, b, c, n):
    # (a . b, a . c) in one pass
    x = rw[a:a + n]
    y = rw[b:b + n]
    z = rw[c:c + n]
    s = 0.0
    t = 0.0
    for i in range(n):
        s += x[i] * y[i]
        t += x[i] * z[i]
    return s, t


@reduction_kernel
def _axpy_dot(rw, alpha, src, dst, nxt, n):
    # rw[dst] += alpha * rw[src], then the dot of rw[nxt] (which may be
    # dst itself) with the new rw[dst], in one pass
    v_dst = rw[dst:dst + n]
    v_src = rw[src:src + n]
    v_nxt = rw[nxt:nxt + n]
    s = 0.0
    if nxt == dst:
        for i in range(n):
            d = v_dst[i] + alpha * v_src[i]
            v_dst[i] = d
            s += d * d
    else:
        for i in range(n):
            d = v_dst[i] + alpha * v_src[i]
            v_dst[i] = d
            s += v_nxt[i] * d
    return s


@inline_kernel
def _givens_column(rw, og, hc, col):
    """Apply the ``col`` stored rotations (``c, s`` pairs at ``rw[og:]``)
    to the Hessenberg column at ``rw[hc:]``, then make, store and apply
    the rotation that zeroes ``h[col + 1]``; returns its ``(c, s)``."""
    for k in range(col):
        c = rw[og + 2 * k]
        s = rw[og + 2 * k + 1]
        n0 = rw[hc + k]
        n1 = rw[hc + k + 1]
        rw[hc + k] = c * n0 + s * n1
        rw[hc + k + 1] = -s * n0 + c * n1
    c, s, mag = _lartg(rw[hc + col], rw[hc + col + 1])
    rw[og + 2 * col] = c
    rw[og + 2 * col + 1] = s
    rw[hc + col] = mag
    rw[hc + col + 1] = 0.0
    return c, s


@inline_kernel
def _bicg_test(iw, rw, ort, n):
    """bicgstab's and cgs's tests at the top of an iteration: ``(stop,
    info, rho)`` with ``rho = <r~, r>``."""
    if iw[I_ITER] >= iw[I_MAXITER]:
        return True, iw[I_MAXITER], 0.0
    orr = iw[I_R]
    rnorm = _nrm(rw, orr, n)
    if rnorm < rw[R_ATOL]:
        return True, 0, 0.0
    if not np.isfinite(rnorm):
        # SciPy iterates on NaN up to maxiter: same info, sooner
        return True, iw[I_MAXITER], 0.0
    rho = _dot(rw, ort, orr, n)
    if abs(rho) < RHOTOL:
        return True, -10, rho
    return False, 0, rho


@inline_kernel
def _bicg_next(iw, rw, loop):
    # end of a bicgstab/cgs iteration: True if the caller is notified
    rw[R_RHO_PREV] = rw[R_RHO]
    iw[I_ITER] += 1
    iw[I_PHASE] = loop
    return iw[I_CALLBACK] != 0


@kernel
def _layout(method, n, restart, outer_cap, store_av):
    # offsets of the vectors and the total length of rw
    o = RW_HEAD
    ob = o
    ox = ob + n
    orr = ox + n
    offs = np.zeros(12, dtype=np.int64)
    o = orr + n
    oz = 0
    oav = 0
    mmax = 0
    if method == METHOD_GMRES:
        # v1 av, v (restart+1) n, v2 h, v3 givens, v4 S, v5 y, v6 scratch
        offs[1] = o
        o += n
        offs[0] = o
        o += (restart + 1) * n
        offs[2] = o
        o += restart * (restart + 1)
        offs[3] = o
        o += 2 * restart
        offs[4] = o
        o += restart + 1
        offs[5] = o
        o += restart + 1
        offs[6] = o
        o += n
    elif method == METHOD_LGMRES:
        mmax = restart + outer_cap - 1
        if mmax < 1:
            mmax = 1
        # v1 tmp (A z before M; untouched without M), v (mmax+1) n, v3 H,
        # v4 R, v5 givens, v6 g, v7 y, v8 hcur, v9 q (for Av); the update
        # dx is built in the free outer slot
        offs[1] = o
        o += n
        offs[0] = o
        o += (mmax + 1) * n
        oz = o
        o += outer_cap * n
        oav = o
        if store_av != 0:
            o += outer_cap * n
        offs[3] = o
        o += (mmax + 1) * mmax
        offs[4] = o
        o += (mmax + 1) * mmax
        offs[5] = o
        o += 2 * mmax
        offs[6] = o
        o += mmax + 1
        offs[7] = o
        o += mmax + 1
        offs[8] = o
        o += mmax + 1
        offs[9] = o
        o += mmax + 1
    else:
        # bicgstab: v rtilde, v1 p, v2 v, v3 phat, v4 shat, v5 t;
        # cgs: v rtilde, v1 p, v2 u, v3 q, v4 phat, v5 vhat, v6 uhat,
        # v7 tmp; minres: v r1, v1 r2, v2 y, v3 v, v4 w, v5 w2
        for k in range(8 if method == METHOD_CGS else 6):
            offs[k] = o
            o += n
    return ob, ox, orr, oz, oav, offs, mmax, o



@inline_kernel
def _sizes(method, restart, outer_k, outer_cap):
    # the (restart, outer_k, outer_cap) a method actually uses
    if method != METHOD_LGMRES:
        outer_cap = 0
        outer_k = 0
    elif outer_cap < outer_k + 1:
        outer_cap = outer_k + 1
    if method != METHOD_GMRES and method != METHOD_LGMRES:
        restart = 0
    return restart, outer_k, outer_cap


@kernel
def krylov_workspace_size(method, n, restart, outer_k, outer_cap,
                          store_outer_av):
    """The length of the ``rw`` that :func:`krylov_workspace` allocates,
    for a caller that allocates it (see :func:`krylov_workspace_in`)."""
    restart, outer_k, outer_cap = _sizes(method, restart, outer_k,
                                         outer_cap)
    return _layout(method, n, restart, outer_cap, store_outer_av)[-1]


@kernel
def krylov_workspace(method, n, restart, outer_k, outer_cap, store_outer_av,
                     prepend_outer_v, use_m, callback_mode):
    """Allocate and initialise the work arrays ``(iw, rw)`` of one solver.

    See the module docstring for the arguments and sizes; lgmres's outer
    vector list starts empty.
    """
    # np.empty: every vector is written before it is read, and touching
    # O(n * restart) zeros would cost as much as a short solve
    rw = np.empty(krylov_workspace_size(method, n, restart, outer_k,
                                        outer_cap, store_outer_av))
    iw = krylov_workspace_in(rw, method, n, restart, outer_k, outer_cap,
                             store_outer_av, prepend_outer_v, use_m,
                             callback_mode)
    return iw, rw


@kernel
def krylov_workspace_in(rw, method, n, restart, outer_k, outer_cap,
                        store_outer_av, prepend_outer_v, use_m,
                        callback_mode):
    """:func:`krylov_workspace` in a given (uninitialised) ``rw`` of
    :func:`krylov_workspace_size` entries; returns ``iw``."""
    restart, outer_k, outer_cap = _sizes(method, restart, outer_k,
                                         outer_cap)
    ob, ox, orr, oz, oav, offs, mmax, total = _layout(
        method, n, restart, outer_cap, store_outer_av)
    iw = np.zeros(IW_HEAD + 2 * (outer_cap + restart + 1) + mmax + 1,
                  dtype=np.int64)
    rw[:RW_HEAD] = 0.0
    iw[I_METHOD] = method
    iw[I_N] = n
    iw[I_RESTART] = restart
    iw[I_OUTER_K] = outer_k
    iw[I_OUTER_CAP] = outer_cap
    iw[I_STORE_AV] = store_outer_av
    iw[I_PREPEND] = 1 if prepend_outer_v else 0
    iw[I_USE_M] = 1 if use_m else 0
    iw[I_CALLBACK] = callback_mode
    iw[I_B] = ob
    iw[I_X] = ox
    iw[I_R] = orr
    iw[I_OZ] = oz
    iw[I_OAV] = oav
    iw[I_MMAX] = mmax
    for k in range(12):
        iw[I_V + k] = offs[k]
    rw[R_EPS] = EPS
    return iw


@kernel
def krylov_reset(iw, rw, b, x0, has_x0, rtol, atol, maxiter):
    """Load ``b``, ``x0`` and the tolerances and reset the counters, without
    issuing the first request (call :func:`krylov_step` next)."""
    n = iw[I_N]
    ob = iw[I_B]
    ox = iw[I_X]
    v_ob = rw[ob:ob + n]
    v_ox = rw[ox:ox + n]
    for i in range(n):
        v_ob[i] = b[i]
        v_ox[i] = x0[i] if has_x0 else 0.0
    iw[I_K] = 1 if has_x0 else 0      # minres needs to know
    iw[I_INFO] = 0
    iw[I_ITER] = 0
    iw[I_INNER] = 0
    iw[I_NMATVEC] = 0
    iw[I_NPSOLVE] = 0
    iw[I_ISTOP] = 0
    iw[I_NAPPEND] = 0
    iw[I_MAXITER] = maxiter
    iw[I_PHASE] = P_START
    rw[R_RTOL] = rtol
    rw[R_ATOL] = atol
    rw[R_SHIFT] = 0.0


@kernel
def krylov_start(iw, rw, b, x0, has_x0, rtol, atol, maxiter):
    """Start a solve of ``A x = b``: load ``b``, ``x0`` and the tolerances
    and return the first request code (see the module docstring)."""
    krylov_reset(iw, rw, b, x0, has_x0, rtol, atol, maxiter)
    return krylov_step(iw, rw)


@kernel
def krylov_step(iw, rw):
    """Advance the solver after the last request was served: return the
    next request code (``DONE``, ``MATVEC``, ``PSOLVE`` or ``NOTIFY``)."""
    method = iw[I_METHOD]
    if iw[I_PHASE] == P_IDLE:
        return DONE
    if method == METHOD_GMRES:
        return _gmres_step(iw, rw)
    if method == METHOD_LGMRES:
        return _lgmres_step(iw, rw)
    if method == METHOD_BICGSTAB:
        return _bicgstab_step(iw, rw)
    if method == METHOD_CGS:
        return _cgs_step(iw, rw)
    return _minres_step(iw, rw)


# ---------------------------------------------------------------- bicgstab
@kernel
def _bicgstab_step(iw, rw):
    n = iw[I_N]
    ox = iw[I_X]
    orr = iw[I_R]
    ort = iw[I_V]
    op = iw[I_V1]
    ov = iw[I_V2]
    oph = iw[I_V3]
    osh = iw[I_V4]
    ot = iw[I_V5]
    while True:
        ph = iw[I_PHASE]
        if ph == P_START:
            if _solved_by_zero(iw, rw):
                return _finish(iw, 0)
            if _request_ax0(iw, rw, P_BI_R0):
                return MATVEC
            continue
        if ph == P_BI_R0:
            _bicg_r0(iw, rw, ort, P_BI_LOOP)
            continue
        if ph == P_BI_LOOP:
            stop, info, rho = _bicg_test(iw, rw, ort, n)
            if stop:
                return _finish(iw, info)
            if iw[I_ITER] > 0:
                omega = rw[R_OMEGA]
                if abs(omega) < RHOTOL:
                    return _finish(iw, -11)
                beta = (rho / rw[R_RHO_PREV]) * (rw[R_ALPHA] / omega)
                v_op = rw[op:op + n]
                v_ov = rw[ov:ov + n]
                v_orr = rw[orr:orr + n]
                for i in range(n):
                    pi = v_op[i] - omega * v_ov[i]
                    pi *= beta
                    v_op[i] = pi + v_orr[i]
            else:
                _copy(rw, orr, op, n)
            rw[R_RHO] = rho
            if _psolve(iw, rw, op, oph, P_BI_P1):
                return PSOLVE
            continue
        if ph == P_BI_P1:
            return _request(iw, MATVEC, oph, ov, P_BI_P2)
        if ph == P_BI_P2:
            rv = _dot(rw, ort, ov, n)
            if rv == 0.0:
                return _finish(iw, -11)
            alpha = rw[R_RHO] / rv
            rw[R_ALPHA] = alpha
            _axpy(rw, -alpha, ov, orr, n)
            # SciPy's s is a copy of r at this point: r itself serves
            if _nrm(rw, orr, n) < rw[R_ATOL]:
                _axpy(rw, alpha, oph, ox, n)
                return _finish(iw, 0)
            if _psolve(iw, rw, orr, osh, P_BI_P3):
                return PSOLVE
            continue
        if ph == P_BI_P3:
            return _request(iw, MATVEC, osh, ot, P_BI_P4)
        if ph == P_BI_P4:
            omega = _dot(rw, ot, orr, n) / _dot(rw, ot, ot, n)
            rw[R_OMEGA] = omega
            alpha = rw[R_ALPHA]
            _axpy(rw, alpha, oph, ox, n)
            _axpy(rw, omega, osh, ox, n)
            _axpy(rw, -omega, ot, orr, n)
            if _bicg_next(iw, rw, P_BI_LOOP):
                return NOTIFY
            continue
        return _finish(iw, 0)


# --------------------------------------------------------------------- cgs
@kernel
def _cgs_step(iw, rw):
    n = iw[I_N]
    ob = iw[I_B]
    ox = iw[I_X]
    orr = iw[I_R]
    ort = iw[I_V]
    op = iw[I_V1]
    ou = iw[I_V2]
    oq = iw[I_V3]
    oph = iw[I_V4]
    ovh = iw[I_V5]
    ouh = iw[I_V6]
    otmp = iw[I_V7]
    while True:
        ph = iw[I_PHASE]
        if ph == P_START:
            if _solved_by_zero(iw, rw):
                return _finish(iw, 0)
            if _request_ax0(iw, rw, P_CG_R0):
                return MATVEC
            continue
        if ph == P_CG_R0:
            _bicg_r0(iw, rw, ort, P_CG_LOOP)
            continue
        if ph == P_CG_LOOP:
            stop, info, rho = _bicg_test(iw, rw, ort, n)
            if stop:
                return _finish(iw, info)
            if iw[I_ITER] > 0:
                beta = rho / rw[R_RHO_PREV]
                v_oq = rw[oq:oq + n]
                v_orr = rw[orr:orr + n]
                v_ou = rw[ou:ou + n]
                v_op = rw[op:op + n]
                for i in range(n):
                    qi = v_oq[i]
                    ui = v_orr[i] + beta * qi
                    v_ou[i] = ui
                    pi = v_op[i] * beta
                    pi += qi
                    pi *= beta
                    v_op[i] = pi + ui
            else:
                _copy(rw, orr, op, n)
                _copy(rw, orr, ou, n)
            rw[R_RHO] = rho
            if _psolve(iw, rw, op, oph, P_CG_C1):
                return PSOLVE
            continue
        if ph == P_CG_C1:
            return _request(iw, MATVEC, oph, ovh, P_CG_C2)
        if ph == P_CG_C2:
            rv = _dot(rw, ort, ovh, n)
            if rv == 0.0:
                return _finish(iw, -11)
            alpha = rw[R_RHO] / rv
            rw[R_ALPHA] = alpha
            v_ou = rw[ou:ou + n]
            v_ovh = rw[ovh:ovh + n]
            v_oq = rw[oq:oq + n]
            v_otmp = rw[otmp:otmp + n]
            for i in range(n):
                qi = v_ou[i] - alpha * v_ovh[i]
                v_oq[i] = qi
                v_otmp[i] = v_ou[i] + qi
            if _psolve(iw, rw, otmp, ouh, P_CG_C3):
                return PSOLVE
            continue
        if ph == P_CG_C3:
            _axpy(rw, rw[R_ALPHA], ouh, ox, n)
            # SciPy recomputes the true residual (one matvec)
            return _request(iw, MATVEC, ox, otmp, P_CG_C4)
        if ph == P_CG_C4:
            _sub(rw, ob, otmp, orr, n)
            if _bicg_next(iw, rw, P_CG_LOOP):
                return NOTIFY
            continue
        return _finish(iw, 0)


# ------------------------------------------------------------------- gmres
@kernel
def _gmres_step(iw, rw):
    n = iw[I_N]
    ob = iw[I_B]
    ox = iw[I_X]
    orr = iw[I_R]
    ovv = iw[I_V]
    oav = iw[I_V1]
    oh = iw[I_V2]
    og = iw[I_V3]
    os_ = iw[I_V4]
    oy = iw[I_V5]
    odx = iw[I_V6]
    restart = iw[I_RESTART]
    ldh = restart + 1
    while True:
        ph = iw[I_PHASE]
        if ph == P_START:
            if _solved_by_zero(iw, rw):
                return _finish(iw, 0)
            # ||M b|| for the inner tolerance (gh-8400)
            if _psolve(iw, rw, ob, ovv, P_GM_MB):
                return PSOLVE
            continue
        if ph == P_GM_MB:
            mb = _nrm(rw, ovv, n)
            rw[R_PMF] = 1.0
            rw[R_PTOL] = mb * min(1.0, rw[R_ATOL] / rw[R_BNRM])
            rw[R_PRESID] = 0.0
            if _request_ax0(iw, rw, P_GM_R0):
                return MATVEC
            continue
        if ph == P_GM_R0:
            _first_residual(iw, rw)
            rnorm = _nrm(rw, orr, n)
            rw[R_RNORM] = rnorm
            if iw[I_MAXITER] > 0 and rnorm < rw[R_ATOL]:
                return _finish(iw, 0)
            if not np.isfinite(rnorm):
                return _finish(iw, iw[I_MAXITER])
            iw[I_PHASE] = P_GM_OUTER
            continue
        if ph == P_GM_OUTER:
            if iw[I_ITER] >= iw[I_MAXITER]:
                info = 0 if rw[R_RNORM] <= rw[R_ATOL] else iw[I_MAXITER]
                return _finish(iw, info)
            if _psolve(iw, rw, orr, ovv, P_GM_V0):
                return PSOLVE
            continue
        if ph == P_GM_V0:
            tmp = _nrm(rw, ovv, n)
            _scal(rw, 1.0 / tmp, ovv, n)
            _zero(rw, os_, restart + 1)
            rw[os_] = tmp
            _zero(rw, oh, restart * ldh)
            iw[I_BREAKDOWN] = 0
            iw[I_COL] = 0
            iw[I_PHASE] = P_GM_COL
            continue
        if ph == P_GM_COL:
            col = iw[I_COL]
            return _request(iw, MATVEC, ovv + col * n, oav, P_GM_W)
        if ph == P_GM_W:
            col = iw[I_COL]
            if _psolve(iw, rw, oav, ovv + (col + 1) * n, P_GM_NEXT):
                return PSOLVE
            continue
        if ph == P_GM_NEXT:
            col = iw[I_COL]
            ow = ovv + (col + 1) * n
            hc = oh + col * ldh
            h0, h1 = _mgs(rw, ovv, col + 1, ow, hc, n)
            breakdown = False
            if h1 <= EPS * h0:
                # exact solution indicator
                rw[hc + col + 1] = 0.0
                breakdown = True
            else:
                _scal(rw, 1.0 / h1, ow, n)
            c, s = _givens_column(rw, og, hc, col)
            tmp = -s * rw[os_ + col]
            rw[os_ + col] = c * rw[os_ + col]
            rw[os_ + col + 1] = tmp
            presid = abs(tmp)
            rw[R_PRESID] = presid
            iw[I_INNER] += 1
            iw[I_BREAKDOWN] = 1 if breakdown else 0
            # SciPy's legacy callback also stops after maxiter inner steps
            legacy_stop = (iw[I_CALLBACK] == 3
                           and iw[I_INNER] == iw[I_MAXITER])
            if (legacy_stop or presid <= rw[R_PTOL] or breakdown
                    or col + 1 == restart):
                iw[I_PHASE] = P_GM_R
            else:
                iw[I_COL] = col + 1
                iw[I_PHASE] = P_GM_COL
            if iw[I_CALLBACK] >= 2:
                rw[R_PRNORM] = presid / rw[R_BNRM]
                return NOTIFY
            continue
        if ph == P_GM_R:
            col = iw[I_COL]
            # solve the triangular system h[:col+1, :col+1].T y = S
            if rw[oh + col * ldh + col] == 0.0:
                rw[os_ + col] = 0.0
            for k in range(col + 1):
                rw[oy + k] = rw[os_ + k]
            for k in range(col, 0, -1):
                if rw[oy + k] != 0.0:
                    rw[oy + k] /= rw[oh + k * ldh + k]
                    t = rw[oy + k]
                    for i in range(k):
                        rw[oy + i] -= t * rw[oh + k * ldh + i]
            if rw[oy] != 0.0:
                rw[oy] /= rw[oh]
            # x += y @ v[:col+1]
            _zero(rw, odx, n)
            for k in range(col + 1):
                _axpy(rw, rw[oy + k], ovv + k * n, odx, n)
            _axpy(rw, 1.0, odx, ox, n)
            return _request(iw, MATVEC, ox, orr, P_GM_AFTER)
        if ph == P_GM_AFTER:
            _sub(rw, ob, orr, orr, n)
            rnorm = _nrm(rw, orr, n)
            rw[R_RNORM] = rnorm
            iw[I_ITER] += 1
            atol = rw[R_ATOL]
            presid = rw[R_PRESID]
            if iw[I_CALLBACK] == 3 and iw[I_INNER] == iw[I_MAXITER]:
                iw[I_PHASE] = P_GM_DONE
                iw[I_INFO] = 0 if rnorm <= atol else iw[I_MAXITER]
            elif rnorm <= atol:
                iw[I_PHASE] = P_GM_DONE
                iw[I_INFO] = 0
            elif iw[I_BREAKDOWN] != 0 or not np.isfinite(rnorm):
                # breakdown (exact solution) but the true residual fails,
                # or NaN (SciPy would run on to maxiter, same info)
                iw[I_PHASE] = P_GM_DONE
                iw[I_INFO] = iw[I_MAXITER]
            else:
                if presid <= rw[R_PTOL]:
                    rw[R_PMF] = max(EPS, 0.25 * rw[R_PMF])
                else:
                    rw[R_PMF] = min(1.0, 1.5 * rw[R_PMF])
                rw[R_PTOL] = presid * min(rw[R_PMF], atol / rnorm)
                iw[I_PHASE] = P_GM_OUTER
            if iw[I_CALLBACK] == 1:
                return NOTIFY
            continue
        if ph == P_GM_DONE:
            return _finish(iw, iw[I_INFO])
        return _finish(iw, 0)


# ------------------------------------------------------------------ lgmres
@kernel
def _lgmres_step(iw, rw):
    n = iw[I_N]
    ob = iw[I_B]
    ox = iw[I_X]
    orr = iw[I_R]
    ovv = iw[I_V]
    otmp = iw[I_V1]
    oH = iw[I_V3]
    oR = iw[I_V4]
    og = iw[I_V5]
    ogg = iw[I_V6]
    ohc = iw[I_V8]
    oz = iw[I_OZ]
    oav = iw[I_OAV]
    cap = iw[I_OUTER_CAP]
    mmax = iw[I_MMAX]
    ldh = mmax + 1
    izs = IW_HEAD + cap   # per column: where its z is (>= 0 basis index,
    #                       < 0: -(1 + outer physical slot))
    while True:
        ph = iw[I_PHASE]
        if ph == P_START:
            v_ob = rw[ob:ob + n]
            for i in range(n):
                if not np.isfinite(v_ob[i]):
                    return _finish(iw, INFO_NONFINITE_RHS)
            if _solved_by_zero(iw, rw):
                return _finish(iw, 0)
            rw[R_PMF] = 1.0
            iw[I_PHASE] = P_LG_OUTER
            continue
        if ph == P_LG_OUTER:
            if iw[I_ITER] >= iw[I_MAXITER]:
                return _finish(iw, iw[I_MAXITER])
            if not _is_zero(rw, ox, n):
                return _request(iw, MATVEC, ox, orr, P_LG_R)
            _zero(rw, orr, n)
            iw[I_PHASE] = P_LG_R
            continue
        if ph == P_LG_R:
            # r_outer = A x - b
            _axpy(rw, -1.0, ob, orr, n)
            iw[I_PHASE] = P_LG_CHECK
            if iw[I_CALLBACK] != 0:
                return NOTIFY
            continue
        if ph == P_LG_CHECK:
            rnorm = _nrm(rw, orr, n)
            rw[R_RNORM] = rnorm
            if rnorm <= rw[R_ATOL]:
                return _finish(iw, 0)
            if _psolve(iw, rw, orr, ovv, P_LG_V0):
                return PSOLVE
            continue
        if ph == P_LG_V0:
            _scal(rw, -1.0, ovv, n)
            inner0 = _nrm(rw, ovv, n)
            if inner0 == 0.0:
                return _finish(iw, INFO_ZERO_PRECOND)
            _scal(rw, 1.0 / inner0, ovv, n)
            rw[R_INNER0] = inner0
            rw[R_PTOL] = min(rw[R_PMF], rw[R_ATOL] / rw[R_RNORM])
            nout = iw[I_NOUTER]
            iw[I_K] = nout
            iw[I_M] = iw[I_RESTART] + nout
            iw[I_COL] = 0
            iw[I_NV] = 1
            iw[I_BREAKDOWN] = 0
            iw[I_PHASE] = P_LG_J
            continue
        if ph == P_LG_J:
            j = iw[I_COL]
            m = iw[I_M]
            kk = iw[I_K]
            nv = iw[I_NV]
            slot = -1
            if iw[I_PREPEND] != 0:
                if j < kk:
                    slot = (iw[I_OUTER_START] + j) % cap
                    zsrc = -1 - slot
                elif j == kk:
                    zsrc = 0
                else:
                    zsrc = nv - 1
            else:
                if j >= m - kk:
                    slot = (iw[I_OUTER_START] + j - (m - kk)) % cap
                    zsrc = -1 - slot
                else:
                    zsrc = nv - 1
            iw[izs + j] = zsrc
            ow = ovv + nv * n
            if slot >= 0 and iw[IW_HEAD + slot] != 0:
                _copy(rw, oav + slot * n, ow, n)
                iw[I_PHASE] = P_LG_ORTH
                continue
            if zsrc >= 0:
                zo = ovv + zsrc * n
            else:
                zo = oz + slot * n
            if iw[I_USE_M] == 0:
                # M is the identity: A z goes straight into the new basis
                # slot, so the tmp vector is never touched (n floats less
                # resident at n = 10^6)
                return _request(iw, MATVEC, zo, ow, P_LG_ORTH)
            return _request(iw, MATVEC, zo, otmp, P_LG_AZ)
        if ph == P_LG_AZ:
            nv = iw[I_NV]
            if _psolve(iw, rw, otmp, ovv + nv * n, P_LG_ORTH):
                return PSOLVE
            continue
        if ph == P_LG_ORTH:
            j = iw[I_COL]
            nv = iw[I_NV]
            m = iw[I_M]
            ow = ovv + nv * n
            w_norm, hlast = _mgs(rw, ovv, nv, ow, ohc, n)
            alpha = 1.0 / hlast
            if np.isfinite(alpha):
                _scal(rw, alpha, ow, n)
            if not (hlast > EPS * w_norm):
                iw[I_BREAKDOWN] = 1
            iw[I_NV] = nv + 1
            iw[I_INNER] += 1
            # column j of H (kept unrotated for A z = V H y), then of R
            hcol = oH + j * ldh
            rcol = oR + j * ldh
            for i in range(j + 2):
                rw[hcol + i] = rw[ohc + i]
                rw[rcol + i] = rw[ohc + i]
            c, s = _givens_column(rw, og, rcol, j)
            # g = G e_1: the first row of SciPy's Q
            if j == 0:
                rw[ogg] = 1.0
            gj = rw[ogg + j]
            rw[ogg + j] = c * gj
            rw[ogg + j + 1] = -s * gj
            res = abs(rw[ogg + j + 1])
            if res < rw[R_PTOL] or iw[I_BREAKDOWN] != 0 or j + 1 >= m:
                ok = _lgmres_finish_inner(iw, rw, j, res)
                if not ok:
                    return _finish(iw, iw[I_ITER] + 1)
                iw[I_ITER] += 1
                iw[I_PHASE] = P_LG_OUTER
                continue
            iw[I_COL] = j + 1
            iw[I_PHASE] = P_LG_J
            continue
        return _finish(iw, 0)


@kernel
def _lgmres_finish_inner(iw, rw, j, res):
    """Solve the small least-squares problem, update the outer vectors and
    x; False if the solution is not finite (SciPy's LinAlgError)."""
    n = iw[I_N]
    ox = iw[I_X]
    ovv = iw[I_V]
    oH = iw[I_V3]
    oR = iw[I_V4]
    ogg = iw[I_V6]
    oy = iw[I_V7]
    oq = iw[I_V9]
    oz = iw[I_OZ]
    oav = iw[I_OAV]
    cap = iw[I_OUTER_CAP]
    ldh = iw[I_MMAX] + 1
    izs = IW_HEAD + cap
    m1 = j + 1
    if not np.isfinite(rw[oR + j * ldh + j]):
        return False
    # y = R[:j+1, :j+1]^-1 g[:j+1]; SciPy uses lstsq (SVD), which only
    # differs from back substitution for a (numerically) singular R.
    dmax = 0.0
    dmin = math.inf
    for k in range(m1):
        d = abs(rw[oR + k * ldh + k])
        dmax = max(dmax, d)
        dmin = min(dmin, d)
    if dmin > EPS * m1 * dmax:
        for k in range(m1 - 1, -1, -1):
            t = rw[ogg + k]
            for c in range(k + 1, m1):
                t -= rw[oR + c * ldh + k] * rw[oy + c]
            rw[oy + k] = t / rw[oR + k * ldh + k]
    else:
        a = np.empty((m1, m1))
        for r in range(m1):
            for c in range(m1):
                # R is upper triangular; below it rw holds stale values
                a[r, c] = rw[oR + c * ldh + r] if r <= c else 0.0
        rhs = np.empty(m1)
        for k in range(m1):
            rhs[k] = rw[ogg + k]
        sol = np.linalg.lstsq(a, rhs, rcond=EPS * m1)[0]
        for k in range(m1):
            rw[oy + k] = sol[k]
    inner0 = rw[R_INNER0]
    for k in range(m1):
        rw[oy + k] *= inner0
        if not np.isfinite(rw[oy + k]):
            return False
    # inner tolerance control
    if res > rw[R_PTOL]:
        rw[R_PMF] = min(1.0, 1.5 * rw[R_PMF])
    else:
        rw[R_PMF] = max(1e-16, 0.25 * rw[R_PMF])
    # dx = sum z_k y_k, built in the outer slot it is appended to: that
    # slot is free (outer_cap > outer_k) and no z of this cycle lives
    # there, so no separate dx vector is needed
    nout = iw[I_NOUTER]
    slot = (iw[I_OUTER_START] + nout) % cap
    odx = oz + slot * n
    _zero(rw, odx, n)
    for k in range(m1):
        zsrc = iw[izs + k]
        if zsrc >= 0:
            zo = ovv + zsrc * n
        else:
            zo = oz + (-1 - zsrc) * n
        _axpy(rw, rw[oy + k], zo, odx, n)
    nx = _nrm(rw, odx, n)
    _axpy(rw, 1.0, odx, ox, n)
    outer_k = iw[I_OUTER_K]
    if nx > 0.0:
        # append (dx / nx, [A dx / nx]) as the newest outer vector
        v_zo = rw[odx:odx + n]
        for i in range(n):
            v_zo[i] = v_zo[i] / nx
        if iw[I_STORE_AV] == 1:
            # q = H y; A dx = V[:j+2] q
            for r in range(j + 2):
                t = 0.0
                for c in range(m1):
                    if r <= c + 1:
                        t += rw[oH + c * ldh + r] * rw[oy + c]
                rw[oq + r] = t
            ao = oav + slot * n
            _zero(rw, ao, n)
            for r in range(j + 2):
                _axpy(rw, rw[oq + r], ovv + r * n, ao, n)
            v_ao = rw[ao:ao + n]
            for i in range(n):
                v_ao[i] = v_ao[i] / nx
            iw[IW_HEAD + slot] = 1
        else:
            iw[IW_HEAD + slot] = 0
        iw[I_NOUTER] = nout + 1
        iw[I_NAPPEND] += 1
    while iw[I_NOUTER] > outer_k:
        iw[I_OUTER_START] = (iw[I_OUTER_START] + 1) % cap
        iw[I_NOUTER] -= 1
    return True


# ------------------------------------------------------------------ minres
# minres scalars in rw[R_GAMMA0 + k]
M_BETA1 = R_GAMMA0
M_OLDB = R_GAMMA0 + 1
M_BETA = R_GAMMA0 + 2
M_DBAR = R_GAMMA0 + 3
M_EPSLN = R_GAMMA0 + 4
M_PHIBAR = R_GAMMA0 + 5
M_RHS1 = R_GAMMA0 + 6
M_RHS2 = R_GAMMA0 + 7
M_TNORM2 = R_GAMMA0 + 8
M_GMAX = R_GAMMA0 + 9
M_GMIN = R_GAMMA0 + 10
M_CS = R_GAMMA0 + 11
M_SN = R_GAMMA0 + 12
M_ALFA = R_GAMMA0 + 13


@kernel
def _minres_step(iw, rw):
    n = iw[I_N]
    ob = iw[I_B]
    ox = iw[I_X]
    orr = iw[I_R]
    or1 = iw[I_V]
    or2 = iw[I_V1]
    oy = iw[I_V2]
    ov = iw[I_V3]
    ow = iw[I_V4]
    ow2 = iw[I_V5]
    while True:
        ph = iw[I_PHASE]
        if ph == P_START:
            # SciPy: r1 = b if x0 is None else b - A @ x0
            if iw[I_K] != 0 and not _is_zero(rw, ox, n):
                return _request(iw, MATVEC, ox, orr, P_MR_R0)
            _copy(rw, ob, or1, n)
            iw[I_PHASE] = P_MR_Y0
            if _psolve(iw, rw, or1, oy, P_MR_Y0):
                return PSOLVE
            continue
        if ph == P_MR_R0:
            _sub(rw, ob, orr, or1, n)
            if _psolve(iw, rw, or1, oy, P_MR_Y0):
                return PSOLVE
            continue
        if ph == P_MR_Y0:
            beta1 = _dot(rw, or1, oy, n)
            if beta1 < 0.0:
                return _finish(iw, INFO_INDEFINITE_PRECOND)
            elif beta1 == 0.0:
                return _finish(iw, 0)
            bnorm = _nrm(rw, ob, n)
            rw[R_BNRM] = bnorm
            if bnorm == 0.0:
                _copy(rw, ob, ox, n)
                return _finish(iw, 0)
            beta1 = math.sqrt(beta1)
            rw[M_BETA1] = beta1
            rw[M_OLDB] = 0.0
            rw[M_BETA] = beta1
            rw[M_DBAR] = 0.0
            rw[M_EPSLN] = 0.0
            rw[M_PHIBAR] = beta1
            rw[M_RHS1] = beta1
            rw[M_RHS2] = 0.0
            rw[M_TNORM2] = 0.0
            rw[M_GMAX] = 0.0
            rw[M_GMIN] = np.finfo(np.float64).max
            rw[M_CS] = -1.0
            rw[M_SN] = 0.0
            _zero(rw, ow, n)
            _zero(rw, ow2, n)
            _copy(rw, or1, or2, n)
            iw[I_PHASE] = P_MR_LOOP
            continue
        if ph == P_MR_LOOP:
            if iw[I_ITER] >= iw[I_MAXITER]:
                return _finish(iw, iw[I_MAXITER] if iw[I_ISTOP] == 6 else 0)
            iw[I_ITER] += 1
            s = 1.0 / rw[M_BETA]
            v_ov = rw[ov:ov + n]
            v_oy = rw[oy:oy + n]
            for i in range(n):
                v_ov[i] = s * v_oy[i]
            return _request(iw, MATVEC, ov, oy, P_MR_Y)
        if ph == P_MR_Y:
            itn = iw[I_ITER]
            shift = rw[R_SHIFT]
            beta = rw[M_BETA]
            v_oy = rw[oy:oy + n]
            v_ov = rw[ov:ov + n]
            for i in range(n):
                v_oy[i] = v_oy[i] - shift * v_ov[i]
            if itn >= 2:
                f = beta / rw[M_OLDB]
                v_oy = rw[oy:oy + n]
                v_or1 = rw[or1:or1 + n]
                for i in range(n):
                    v_oy[i] = v_oy[i] - f * v_or1[i]
            alfa = _dot(rw, ov, oy, n)
            rw[M_ALFA] = alfa
            f = alfa / beta
            v_oy = rw[oy:oy + n]
            v_or2 = rw[or2:or2 + n]
            v_or1 = rw[or1:or1 + n]
            for i in range(n):
                yi = v_oy[i] - f * v_or2[i]
                v_or1[i] = v_or2[i]
                v_or2[i] = yi
            if _psolve(iw, rw, or2, oy, P_MR_BETA):
                return PSOLVE
            continue
        if ph == P_MR_BETA:
            itn = iw[I_ITER]
            alfa = rw[M_ALFA]
            oldb = rw[M_BETA]
            rw[M_OLDB] = oldb
            beta = _dot(rw, or2, oy, n)
            if beta < 0.0:
                return _finish(iw, INFO_NONSYMMETRIC)
            beta = math.sqrt(beta)
            rw[M_BETA] = beta
            tnorm2 = rw[M_TNORM2] + alfa ** 2 + oldb ** 2 + beta ** 2
            rw[M_TNORM2] = tnorm2
            istop = iw[I_ISTOP]
            if itn == 1:
                if beta / rw[M_BETA1] <= 10 * EPS:
                    istop = -1
            cs = rw[M_CS]
            sn = rw[M_SN]
            dbar = rw[M_DBAR]
            oldeps = rw[M_EPSLN]
            delta = cs * dbar + sn * alfa
            gbar = sn * dbar - cs * alfa
            epsln = sn * beta
            dbar = -cs * beta
            root = math.sqrt(gbar * gbar + dbar * dbar)
            gamma = math.sqrt(gbar * gbar + beta * beta)
            gamma = max(gamma, EPS)
            cs = gbar / gamma
            sn = beta / gamma
            phibar = rw[M_PHIBAR]
            phi = cs * phibar
            phibar = sn * phibar
            denom = 1.0 / gamma
            ynorm2 = 0.0
            v_ow2 = rw[ow2:ow2 + n]
            v_ow = rw[ow:ow + n]
            v_ov = rw[ov:ov + n]
            v_ox = rw[ox:ox + n]
            for i in range(n):
                w1 = v_ow2[i]
                w2 = v_ow[i]
                wi = (v_ov[i] - oldeps * w1 - delta * w2) * denom
                v_ow2[i] = w2
                v_ow[i] = wi
                xi = v_ox[i] + phi * wi
                v_ox[i] = xi
                ynorm2 += xi * xi
            gmax = max(rw[M_GMAX], gamma)
            gmin = min(rw[M_GMIN], gamma)
            z = rw[M_RHS1] / gamma
            rw[M_RHS1] = rw[M_RHS2] - delta * z
            rw[M_RHS2] = -epsln * z
            anorm = math.sqrt(tnorm2)
            ynorm = math.sqrt(ynorm2)
            epsx = anorm * ynorm * EPS
            rnorm = phibar
            if ynorm == 0.0 or anorm == 0.0:
                test1 = math.inf
            else:
                test1 = rnorm / (anorm * ynorm)
            if anorm == 0.0:
                test2 = math.inf
            else:
                test2 = root / anorm
            acond = gmax / gmin
            if istop == 0:
                rtol = rw[R_RTOL]
                t1 = 1 + test1
                t2 = 1 + test2
                if t2 <= 1:
                    istop = 2
                if t1 <= 1:
                    istop = 1
                if itn >= iw[I_MAXITER]:
                    istop = 6
                if acond >= 0.1 / EPS:
                    istop = 4
                if epsx >= rw[M_BETA1]:
                    istop = 3
                if test2 <= rtol:
                    istop = 2
                if test1 <= rtol:
                    istop = 1
            if not (np.isfinite(rnorm) and np.isfinite(ynorm)):
                # SciPy iterates on NaN up to maxiter: same info, sooner
                istop = 6
            iw[I_ISTOP] = istop
            rw[M_CS] = cs
            rw[M_SN] = sn
            rw[M_DBAR] = dbar
            rw[M_EPSLN] = epsln
            rw[M_PHIBAR] = phibar
            rw[M_GMAX] = gmax
            rw[M_GMIN] = gmin
            rw[R_RNORM] = rnorm
            iw[I_PHASE] = P_MR_END if istop != 0 else P_MR_LOOP
            if iw[I_CALLBACK] != 0:
                return NOTIFY
            continue
        if ph == P_MR_END:
            return _finish(iw, iw[I_MAXITER] if iw[I_ISTOP] == 6 else 0)
        return _finish(iw, 0)


# -------------------------------------------------- compiled matrix drivers
@kernel
def _csr_matvec(indptr, indices, data, rw, src, dst, n):
    x = rw[src:src + n]
    y = rw[dst:dst + n]
    for i in range(n):
        s = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            s += data[k] * x[indices[k]]
        y[i] = s


@kernel
def _dense_matvec(a, rw, src, dst, n):
    x = rw[src:src + n]
    y = rw[dst:dst + n]
    for i in range(n):
        s = 0.0
        for k in range(n):
            s += a[i, k] * x[k]
        y[i] = s


@kernel
def krylov_solve_csr(iw, rw, indptr, indices, data, b, x0, has_x0, rtol,
                     atol, maxiter):
    """Solve ``A x = b`` in the workspace ``(iw, rw)`` (made with
    ``use_m=False, callback_mode=0``) for the CSR matrix ``A`` given by
    ``indptr``, ``indices`` (int64) and ``data`` (float64), entirely in
    compiled code.  Read ``x`` and ``info`` from the workspace afterwards.
    For minres the shift is 0."""
    n = iw[I_N]
    code = krylov_start(iw, rw, b, x0, has_x0, rtol, atol, maxiter)
    while code != DONE:
        if code == MATVEC:
            _csr_matvec(indptr, indices, data, rw, iw[I_SRC], iw[I_DST], n)
        elif code == PSOLVE:
            _copy(rw, iw[I_SRC], iw[I_DST], n)
        code = krylov_step(iw, rw)
    return iw[I_INFO]


@kernel
def krylov_solve_dense(iw, rw, a, b, x0, has_x0, rtol, atol, maxiter):
    """As :func:`krylov_solve_csr` for a dense C-contiguous float64 matrix
    ``a`` of shape (n, n)."""
    n = iw[I_N]
    code = krylov_start(iw, rw, b, x0, has_x0, rtol, atol, maxiter)
    while code != DONE:
        if code == MATVEC:
            _dense_matvec(a, rw, iw[I_SRC], iw[I_DST], n)
        elif code == PSOLVE:
            _copy(rw, iw[I_SRC], iw[I_DST], n)
        code = krylov_step(iw, rw)
    return iw[I_INFO]
