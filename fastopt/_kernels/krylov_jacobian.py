"""The Jacobian-free Newton-Krylov strategy of the nonlin driver, compiled.

:class:`fastopt._krylov_jacobian.KrylovJacobian` as kernels, for an ``@njit``
residual given by its addresses (:mod:`fastopt._kernels.funcptr`): the
driver's SETUP/UPDATE (the point, the residual and the difference step
``omega``) and SOLVE (one inner solve of :mod:`fastopt._kernels.krylov`,
driven here with the finite-difference products served in compiled code,
plus fastopt's lgmres safeguards).  The arithmetic follows the Python
class step for step, so the two paths take the same iterations and the
same number of evaluations of ``F``.

State, made by :func:`kj_new`:

``kiw, krw``
    the inner solver's workspace (:func:`fastopt._kernels.krylov.
    krylov_workspace`; lgmres's augmentation vectors persist in it);
``kj``
    float64: a header (``K_*`` slots: the options, ``omega``, evaluation
    count), then lgmres's Gram matrix of the augmentation vectors
    (``outer_cap`` squared).

The current point ``x0`` and residual ``f0`` are not copied: the driver
keeps them, and passes the arrays it gave to SETUP/UPDATE to each SOLVE
(the nonlin driver's own ``x`` and ``F``, which do not change between an
update and the next solve).  Nor does the strategy own its scratch
vectors (the product's evaluation point, the residual of the breakdown
check): each SOLVE borrows ``2n`` floats the driver does not use during
the solve (its trial point and trial residual).  At n = 10^6 each vector
saved is 8 MB less at the solve's peak.  So memory is the inner solver's
workspace and a small matrix: O(n * (inner_m + outer_k)); nothing is n
by n.

Options (``kopts``, float64, ``KO_*`` slots, length ``NKO``): the inner
method code, gmres's restart length (``min(restart, n)`` is applied here)
or lgmres's ``inner_m``, ``outer_k``, ``store_outer_Av``,
``prepend_outer_v``, ``rdiff``, ``rtol`` (nan: the driver's forcing
term), ``atol``, ``maxiter`` (nan: SciPy's default for the method) and
minres's ``shift``.

:func:`kj_solve` returns 0 or one of the ``KJ_*`` failure codes, where the
Python class raises (the caller raises the same exception).
"""
import math

import numpy as np

from ._jit import inline_kernel, kernel
from .funcptr import as_function, call_with
from .jacobians import _dot, _lu_solve
from . import krylov as kr

__all__ = ["kj_new", "kj_new_in", "kj_workspace_size", "kj_setup",
           "kj_update", "kj_solve", "NKO",
           "KJ_NONFINITE", "KJ_BAD_SIZE", "KJ_INNER"]

# kopts slots
KO_METHOD = 0
KO_RESTART = 1
KO_OUTER_K = 2
KO_STORE_AV = 3
KO_PREPEND = 4
KO_RDIFF = 5
KO_RTOL = 6
KO_ATOL = 7
KO_MAXITER = 8
KO_SHIFT = 9
NKO = 10

# kj header slots
K_N = 0
K_METHOD = 1
K_RDIFF = 2
K_RTOL = 3
K_ATOL = 4
K_MAXITER = 5
K_SHIFT = 6
K_OMEGA = 7
K_NFEV = 8      # evaluations of F by the products (added to the driver's)
K_FSIZE = 9     # size of a residual of the wrong size
K_INFO = 10     # the inner solver's error info
K_CAP = 11      # lgmres's outer_cap (Gram matrix order)
K_SETUP = 12    # 1 once set up
NKH = 16

# failures (where KrylovJacobian raises)
KJ_NONFINITE = 1    # ValueError('Function returned non-finite results')
KJ_BAD_SIZE = 2     # a residual of the wrong size
KJ_INNER = 3        # the inner solver's own error (info in kj[K_INFO])

# An augmentation vector whose distance to the span of the kept unit
# vectors is below this adds no direction but makes lgmres's least-squares
# problem singular (KrylovJacobian._INDEPENDENCE).
_INDEPENDENCE = 1e-4


@kernel
def kj_new(n, kopts):
    """The state ``(kiw, krw, kj)`` of a compiled KrylovJacobian for ``n``
    unknowns and the options ``kopts``."""
    krw = np.empty(kj_workspace_size(n, kopts))
    kiw, kj = kj_new_in(krw, n, kopts)
    return kiw, krw, kj


@inline_kernel
def _solver_sizes(n, kopts):
    # (method, restart, outer_k) of the inner solver
    method = int(kopts[KO_METHOD])
    restart = int(kopts[KO_RESTART])
    if method == kr.METHOD_GMRES:
        restart = min(restart, n)
    return method, restart, int(kopts[KO_OUTER_K])


@kernel
def kj_workspace_size(n, kopts):
    """The length of :func:`kj_new`'s ``krw``, for a caller that allocates
    it itself (see :func:`kj_new_in`)."""
    method, restart, outer_k = _solver_sizes(n, kopts)
    return kr.krylov_workspace_size(method, n, restart, outer_k,
                                    outer_k + 1, int(kopts[KO_STORE_AV]))


@kernel
def kj_new_in(krw, n, kopts):
    """:func:`kj_new` with ``krw`` given (uninitialised, of
    :func:`kj_workspace_size` entries); returns ``(kiw, kj)``."""
    method, restart, outer_k = _solver_sizes(n, kopts)
    kiw = kr.krylov_workspace_in(krw, method, n, restart, outer_k,
                                 outer_k + 1, int(kopts[KO_STORE_AV]),
                                 kopts[KO_PREPEND] != 0.0, False, 0)
    cap = kiw[kr.I_OUTER_CAP]
    kj = np.zeros(NKH + cap * cap)
    kj[K_N] = n
    kj[K_METHOD] = method
    kj[K_RDIFF] = kopts[KO_RDIFF]
    kj[K_RTOL] = kopts[KO_RTOL]
    kj[K_ATOL] = kopts[KO_ATOL]
    if np.isnan(kopts[KO_MAXITER]):
        # SciPy's default maxiter of each method
        if method == kr.METHOD_LGMRES:
            maxiter = 1000
        elif method == kr.METHOD_MINRES:
            maxiter = 5 * n
        else:
            maxiter = 10 * n
    else:
        maxiter = int(kopts[KO_MAXITER])
    kj[K_MAXITER] = maxiter
    kj[K_SHIFT] = kopts[KO_SHIFT]
    kj[K_CAP] = cap
    return kiw, kj


@inline_kernel
def _max_abs(v):
    m = 0.0
    for i in range(v.size):
        a = abs(v[i])
        if a > m or a != a:
            m = a
    return m


@inline_kernel
def _diff_step(kj, x0, f0, n):
    # KrylovJacobian._update_diff_step: SciPy's step, floored at
    # rdiff**1.5 relative to x so the perturbation survives rounding
    mx = _max_abs(x0) if n > 0 else 0.0
    mf = _max_abs(f0) if n > 0 else 0.0
    rdiff = kj[K_RDIFF]
    scale = max(1.0, mx)
    kj[K_OMEGA] = max(rdiff * scale / max(1.0, mf), rdiff ** 1.5 * scale)


@kernel
def kj_setup(kj, x, f):
    """SETUP: start at ``x`` with residual ``f`` (kept by the caller, see
    the module docstring)."""
    kj_update(kj, x, f)
    kj[K_SETUP] = 1.0


@kernel
def kj_update(kj, x, f):
    """UPDATE: move to ``x`` with residual ``f`` (kept by the caller):
    the new difference step."""
    _diff_step(kj, x, f, int(kj[K_N]))


@inline_kernel
def _matvec(fun, args, kj, x0, f0, v, y, xp, n):
    # KrylovJacobian.matvec: y = (F(x0 + omega v / |v|) - f0) |v| / omega,
    # the point built in the borrowed xp; returns 0 or a KJ_* failure
    nv = math.sqrt(_dot(v, v))
    if nv == 0.0:
        for i in range(n):
            y[i] = 0.0
        return 0
    sc = kj[K_OMEGA] / nv
    for i in range(n):
        xp[i] = v[i] * sc + x0[i]
    f = call_with(fun, xp, args)
    kj[K_NFEV] += 1.0
    if f.size != n:
        kj[K_FSIZE] = f.size
        return KJ_BAD_SIZE
    finite = True
    for i in range(n):
        r = (f[i] - f0[i]) / sc
        y[i] = r
        if r - r != 0.0:
            finite = False
    if not finite:
        for i in range(n):
            if v[i] - v[i] != 0.0:
                return 0      # v itself not finite: no error (as Python)
        return KJ_NONFINITE
    return 0


@inline_kernel
def _inner(fun, args, kiw, krw, kj, x0, f0, rhs, rtol, xp, n):
    # one solve of the inner method from x = 0; returns a KJ_* failure
    # or 0 (x at krw[kiw[I_X]:])
    # krylov_start in two parts: minres's shift must be in place before
    # the first step (x0 is unused without has_x0)
    kr.krylov_reset(kiw, krw, rhs, rhs, False, rtol, kj[K_ATOL],
                    int(kj[K_MAXITER]))
    krw[kr.R_SHIFT] = kj[K_SHIFT]
    code = kr.krylov_step(kiw, krw)
    while code != kr.DONE:
        src = kiw[kr.I_SRC]
        dst = kiw[kr.I_DST]
        if code == kr.MATVEC:
            status = _matvec(fun, args, kj, x0, f0, krw[src:src + n],
                             krw[dst:dst + n], xp, n)
            if status != 0:
                return status
        elif code == kr.PSOLVE:
            # no preconditioner on this path: the kernel never asks, but
            # the identity is the only meaning the request can have
            for i in range(n):
                krw[dst + i] = krw[src + i]
        code = kr.krylov_step(kiw, krw)
    info = kiw[kr.I_INFO]
    if (info == kr.INFO_ZERO_PRECOND or info == kr.INFO_INDEFINITE_PRECOND
            or info == kr.INFO_NONSYMMETRIC or info == kr.INFO_NONFINITE_RHS):
        kj[K_INFO] = info
        return KJ_INNER
    return 0


@inline_kernel
def _prune_outer(kiw, krw, kj, n):
    # KrylovJacobian._prune_outer: drop a newly appended augmentation
    # vector numerically in the span of the kept ones (keeps lgmres's
    # least-squares problem regular); the Gram matrix is kept up to date
    nout = kiw[kr.I_NOUTER]
    if nout == 0 or kiw[kr.I_NAPPEND] == 0:
        return
    cap = kiw[kr.I_OUTER_CAP]
    start = kiw[kr.I_OUTER_START]
    oz = kiw[kr.I_OZ]
    o = NKH
    G = kj[o:o + cap * cap].reshape((cap, cap))
    new = (start + nout - 1) % cap
    znew = krw[oz + new * n:oz + (new + 1) * n]
    g = np.empty(nout)
    for i in range(nout):
        s = (start + i) % cap
        g[i] = _dot(krw[oz + s * n:oz + (s + 1) * n], znew)
    for i in range(nout):
        s = (start + i) % cap
        G[new, s] = g[i]
        G[s, new] = g[i]
    m = nout - 1
    if m == 0:
        return
    Gold = np.empty((m, m))
    gold = g[:m].copy()
    for i in range(m):
        si = (start + i) % cap
        for j in range(m):
            Gold[i, j] = G[si, (start + j) % cap]
    c, ok = _lu_solve(Gold, gold)
    if ok:
        dist2 = G[new, new] - _dot(gold, c)
    else:
        dist2 = 0.0
    if not (dist2 >= _INDEPENDENCE ** 2 * G[new, new]):
        kiw[kr.I_NOUTER] = nout - 1


@kernel
def kj_solve(c_addr, jit_addr, args, kiw, krw, kj, x0, f0, rhs, tol, out,
             work):
    """SOLVE: ``out`` = an approximate ``J^-1 rhs`` by the inner method to
    relative residual ``tol`` (or the ``rtol`` option), for the compiled
    ``F`` at the addresses, at the point ``x0`` with residual ``f0`` of
    the last SETUP/UPDATE, with ``work`` (``2n`` floats, overwritten) as
    scratch; lgmres with fastopt's safeguards (the plain
    GMRES re-solve after a useless augmented solve, the pruning of
    dependent augmentation vectors).  Returns 0 or a ``KJ_*`` failure;
    the evaluations of ``F`` are counted in ``kj[K_NFEV]``."""
    n = int(kj[K_N])
    xp = work[:n]
    # the witness fixes the point's type: C-contiguous float64, whatever
    # the layout of rhs
    fun = as_function(c_addr, jit_addr, np.empty(0), args)
    rtol = kj[K_RTOL]
    if np.isnan(rtol):
        rtol = tol
    lgmres = kiw[kr.I_METHOD] == kr.METHOD_LGMRES
    had_outer = lgmres and kiw[kr.I_NOUTER] > 0
    status = _inner(fun, args, kiw, krw, kj, x0, f0, rhs, rtol, xp, n)
    if status != 0:
        return status
    ox = kiw[kr.I_X]
    x = krw[ox:ox + n]
    if lgmres:
        finite = True
        zero = True
        for i in range(n):
            if x[i] - x[i] != 0.0:
                finite = False
            if x[i] != 0.0:
                zero = False
        rhs_zero = True
        for i in range(n):
            if rhs[i] != 0.0:
                rhs_zero = False
                break
        failed = not finite or (zero and not rhs_zero)
        if had_outer and not failed and kiw[kr.I_BREAKDOWN] != 0:
            # a breakdown with augmentation vectors may come from a rank-
            # deficient search space rather than an exact solve: the true
            # residual decides (one evaluation of F, only here)
            r = work[n:2 * n]
            status = _matvec(fun, args, kj, x0, f0, x, r, xp, n)
            if status != 0:
                return status
            for i in range(n):
                r[i] -= rhs[i]
            rn = math.sqrt(_dot(r, r))
            bn = math.sqrt(_dot(rhs, rhs))
            failed = rn > max(rtol, 0.5) * bn
        if had_outer and failed:
            kiw[kr.I_NOUTER] = 0
            kiw[kr.I_OUTER_START] = 0
            status = _inner(fun, args, kiw, krw, kj, x0, f0, rhs, rtol,
                            xp, n)
            if status != 0:
                return status
        _prune_outer(kiw, krw, kj, n)
    for i in range(n):
        out[i] = x[i]
    return 0
