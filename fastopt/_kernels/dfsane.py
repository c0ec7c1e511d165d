"""DF-SANE, the derivative-free spectral residual method (La Cruz, Martinez
and Raydan 2006), as a reverse-communication state machine.

The iteration is SciPy's ``_root_df_sane`` step for step, so it visits the
same points and makes the same accept/reject decisions:

* spectral step ``d = -sigma_k F_k`` with ``sigma`` clipped into
  ``[sigma_eps, 1/sigma_eps]`` in absolute value (La Cruz 2014);
* a nonmonotone backtracking line search trying ``x + a d`` and ``x - a d``
  alternately, accepting when ``f(x') <= f_bar + eta_k - gamma a^2 f_k``
  with ``f = ||F||_2^2`` and ``f_bar`` either the largest of the last ``M``
  merit values ('cruz', La Cruz et al. 2006) or Cheng and Li's (2009)
  weighted average ``C`` ('cheng'); rejected steps shrink to the safeguarded
  quadratic interpolant clipped into ``[0.1 a, 0.5 a]``;
* ``sigma_{k+1} = (s.s) / (s.y)`` with ``s = x_{k+1} - x_k`` and
  ``y = F_{k+1} - F_k``.

Bit-for-bit agreement with SciPy needs the same floating-point operations:
dot products go through BLAS ``ddot`` (numba's ``np.dot``, the same
OpenBLAS kernel as NumPy's), the merit is computed as NumPy does it,
``pow(sqrt(F.F), 2)``, and every power is a call of libm's ``pow`` with
the exponent read from the state array -- a literal exponent would let
LLVM replace ``pow(x, 2.0)`` by ``x * x`` and ``pow(x, 0.5)`` by
``sqrt(x)``, which differ from NumPy's scalar power in the last bit.
Below 16 entries OpenBLAS's ``ddot`` is an in-order chain of fused
multiply-adds, which :func:`fma_dot` reproduces at a few ns instead of a
~0.1 us BLAS call; the Python layer enables that (``dot_limit=16``) only
after checking it against NumPy's dot on the running machine.  Above
``LONG_DOT`` entries, where OpenBLAS's threads make NumPy's result depend
on the thread count, the kernels use their own single-threaded
:func:`~fastopt._kernels.reductions.long_dot` and a fused ``s.s``, ``s.y``
pass instead (correct to rounding, not bit-equal to BLAS).

The scalar part of the iteration (tests, line search, window) works on
the state arrays ``(iw, rw)`` only; the vector work is three small helpers
(trial point, merit, spectral quotient).  The Python driver keeps the
vectors inside ``rw`` as well and talks to one entry point; the compiled
driver :func:`dfsane_at` keeps them as local arrays (no copies of the
user's residuals) and calls the same pieces.

Protocol.  :func:`dfsane_start` takes ``x0`` and ``F(x0)`` and returns the
state ``(iw, rw)``; then, while ``iw[I_ACTION] != DONE``, the driver
answers the action with :func:`dfsane_advance`:

``EVALUATE``
    evaluate ``F`` at the trial point ``rw[trial_x_offset(iw):][:n]`` and
    pass it (C-contiguous float64, ``n`` entries);
``TOP``
    (only when the start flag ``top`` is set: a Python callback, ``disp``
    or a user norm) the start of iteration ``k``: the driver reports the
    current point and passes the norm of ``F_k`` (a user ``fnorm``'s
    value, ignored without one);
``ETA``
    (only with a user ``eta_strategy``) pass ``eta_k``.

Without ``TOP`` and ``ETA`` actions a driver may instead pack the state
into one array (:func:`dfsane_pack`) and answer each ``EVALUATE`` with
:func:`dfsane_feed`, which also copies the next trial point into an array
of the driver's; :func:`dfsane_unpack` restores ``(iw, rw)``.

``maxfev`` is enforced before an evaluation is requested, as SciPy does,
so the user's function is never called more than ``maxfev`` times and no
exception is needed to stop.
"""
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ._jit import inline_kernel, kernel
from .borrow import borrowed, borrowed_int64_vector, borrowed_vector
from .funcptr import as_function, call_with
from .reductions import long_difference_dots, long_dot

# The internal helpers are inline_kernels (inlined at the numba IR level
# into the entry points): a call passing the state arrays costs ~40 ns
# (more into a body holding numba's np.dot), which at small n is most of
# an iteration.

# actions
DONE = 0
EVALUATE = 1
TOP = 2
ETA = 3
ACCEPT = 4         # internal: the trial point is the next iterate
EVALUATE_SLOT_1 = 5  # dfsane_advance's EVALUATE with the trial in slot 1
EVALUATE_SLOT = (EVALUATE, EVALUATE_SLOT_1)
# dfsane_held_step's answers after moving to the trial point
MOVED_DONE = 6
MOVED_EVALUATE = 7

# statuses
STATUS_CONVERGED = 0
STATUS_MAXFEV = 1
STATUS_NONFINITE_X0 = 2
STATUS_BAD_F_SIZE = 3

# integer state
I_N = 0
I_M = 1            # window length (the line-search memory)
I_RING_COUNT = 2
I_RING_POS = 3
I_K = 4            # iterations (accepted steps)
I_NFEV = 5
I_MAXFEV = 6
I_ACTION = 7
I_STATUS = 8
I_PLUS = 9         # 1: the pending trial is x + alpha_p d, 0: x - alpha_m d
I_CUR = 10         # which of the two (x, F) slots of rw holds the iterate
I_CHENG = 11
I_USER_NORM = 12
I_USER_ETA = 13
I_TOP = 14
I_BAD_SIZE = 15    # size of a wrongly sized residual
I_NONFINITE = 16   # trial residuals that were not finite
I_DOT_LIMIT = 17   # dots of fewer entries use fma_dot instead of BLAS
NISCALAR = 18

# float state
R_FTOL = 0
R_FATOL = 1
R_SIGMA_EPS = 2
R_SIGMA = 3
R_F0 = 4           # merit ||F(x0)||^2
R_FK = 5           # merit at the iterate
R_F0NORM = 6
R_FKNORM = 7       # default norm of F_k (pow(f_k, 1/2))
R_ETA = 8
R_FBAR = 9
R_C = 10
R_Q = 11
R_ALPHA_P = 12
R_ALPHA_M = 13
R_ALPHA_TP = 14
R_TWO = 15         # exponents kept as data (see the module docstring)
R_HALF = 16
R_FNORM_USED = 17  # the norm the convergence test last used
R_NEG_SIGMA = 18   # -sigma_k after clipping: d = R_NEG_SIGMA * F_k
R_STEP = 19        # the pending trial is x_k + R_STEP * d
R_FP = 20          # merit at the accepted trial point
NSCALAR = 21

GAMMA = 1e-4
TAU_MIN = 0.1
TAU_MAX = 0.5
NU = 0.85


@inline_kernel
def _x_offset(iw):
    return NSCALAR + iw[I_M] + iw[I_CUR] * 2 * iw[I_N]


@inline_kernel
def _trial_offset(iw):
    return NSCALAR + iw[I_M] + (1 - iw[I_CUR]) * 2 * iw[I_N]


@kernel
def x_offset(iw):
    """Offset in ``rw`` of the current iterate ``x_k`` (its residual
    follows it)."""
    return _x_offset(iw)


@kernel
def trial_x_offset(iw):
    """Offset in ``rw`` of the trial point (where ``F`` is wanted)."""
    return _trial_offset(iw)


# --------------------------------------------------------------------------
# vector helpers (shared by both drivers)
# --------------------------------------------------------------------------

@intrinsic
def _fma(typingctx, a, b, c):
    # a * b + c with one rounding (llvm.fma: exact on every target)
    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic(
            "llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)
    return types.float64(types.float64, types.float64, types.float64), \
        codegen


@intrinsic
def _address(typingctx, arr):
    # The data pointer of an array as an integer: ``arr.ctypes.data``
    # without the ctypes object, whose creation and release are an atomic
    # increment and decrement of the array's reference count.
    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder,
                                                    args[0])
        return builder.ptrtoint(ary.data,
                                context.get_value_type(types.intp))
    return types.intp(arr), codegen


@kernel
def _keep_alive(arr):
    """A use of ``arr`` (its size), for the compiled driver: numba releases
    an array after its variable's last use, so the driver calls this after
    the last read through a borrowed view of ``arr`` (see dfsane_at)."""
    return arr.size


@kernel
def fma_dot(a, b):
    """``sum(a * b)`` accumulated in order with fused multiply-adds, which
    is what OpenBLAS's ``ddot`` computes for fewer than 16 entries (its
    vector kernel handles blocks of 16).  The Python layer checks that
    against NumPy's dot at run time before letting the kernels use it for
    short vectors (a BLAS call costs ~0.1 us, this a few ns)."""
    s = 0.0
    for i in range(a.size):
        s = _fma(a[i], b[i], s)
    return s


# Above this many entries OpenBLAS's ddot splits the sum among its threads,
# so NumPy's (SciPy's) dot products -- and with them SciPy's iteration --
# depend on the thread count; there is no single answer to reproduce, and
# a threaded BLAS call on a busy machine costs far more than the sum
# (measured: 10x the whole iteration at n = 10**5).  Longer vectors use
# long_dot and long_difference_dots (see .reductions) instead: same
# algorithm, dot products correct to rounding but not bit-equal to BLAS.
LONG_DOT = 10000


@inline_kernel
def _dot(a, b, limit):
    n = a.size
    if n < limit:
        return fma_dot(a, b)
    if n > LONG_DOT:
        return long_dot(a, b)
    return np.dot(a, b)


@inline_kernel
def _merit(F, two, limit):
    # numpy.linalg.norm(F) ** 2, operation for operation: BLAS ddot, sqrt,
    # libm pow.
    return np.sqrt(_dot(F, F, limit)) ** two


@inline_kernel
def _trial_point(xk, Fk, neg_sigma, step, xt):
    # xt = x_k + step * d with d = -sigma F_k rounded as SciPy's d; a
    # negative step as SciPy's x_k - alpha_m * d.
    n = xk.size
    if step > 0:
        for i in range(n):
            xt[i] = xk[i] + step * (neg_sigma * Fk[i])
    else:
        a = -step
        for i in range(n):
            xt[i] = xk[i] - a * (neg_sigma * Fk[i])


@inline_kernel
def _spectral_quotient(xk, Fk, xt, Ft, limit):
    # (s.s) / (s.y), s = xt - xk and y = Ft - Fk overwriting xk and Fk
    # (the old iterate is not needed any more); BLAS dots as SciPy's vdot.
    n = xk.size
    if n > LONG_DOT:
        # one pass, s and y never stored (see LONG_DOT)
        ss, sy = long_difference_dots(xt, xk, Ft, Fk)
        return ss / sy
    for i in range(n):
        xk[i] = xt[i] - xk[i]
        Fk[i] = Ft[i] - Fk[i]
    return _dot(xk, xk, limit) / _dot(xk, Fk, limit)


# --------------------------------------------------------------------------
# the scalar iteration
# --------------------------------------------------------------------------

@inline_kernel
def _new_state(n, ftol, fatol, maxfev, M, sigma_0, sigma_eps, cheng,
               user_norm, user_eta, top, two, half, dot_limit, vectors):
    iw = np.zeros(NISCALAR, np.int64)
    rw = np.zeros(NSCALAR + M + (4 * n if vectors else 0))
    iw[I_N] = n
    iw[I_M] = M
    iw[I_NFEV] = 1
    iw[I_MAXFEV] = maxfev
    iw[I_CHENG] = 1 if cheng else 0
    iw[I_USER_NORM] = 1 if user_norm else 0
    iw[I_USER_ETA] = 1 if user_eta else 0
    iw[I_TOP] = 1 if top else 0
    iw[I_DOT_LIMIT] = dot_limit
    rw[R_FTOL] = ftol
    rw[R_FATOL] = fatol
    rw[R_SIGMA_EPS] = sigma_eps
    rw[R_SIGMA] = sigma_0
    rw[R_TWO] = two
    rw[R_HALF] = half
    return iw, rw


@inline_kernel
def _first_merit(iw, rw, f0, f0norm):
    # State after F(x0), whose merit is f0: first window entry, Cheng's C,
    # and the first convergence test unless the driver reports first.
    half = rw[R_HALF]
    rw[R_F0] = f0
    rw[R_FK] = f0
    rw[R_FKNORM] = f0 ** half
    rw[R_F0NORM] = f0norm if iw[I_USER_NORM] else f0 ** half
    rw[R_C] = f0
    rw[R_Q] = 1.0
    rw[NSCALAR] = f0
    iw[I_RING_COUNT] = 1
    iw[I_RING_POS] = 1 % iw[I_M]
    if not np.isfinite(f0):
        iw[I_STATUS] = STATUS_NONFINITE_X0
        iw[I_ACTION] = DONE
    elif iw[I_TOP]:
        iw[I_ACTION] = TOP
    else:
        _top(iw, rw, 0.0)


@inline_kernel
def _top(iw, rw, norm):
    # Start of iteration k: convergence test, sigma clipping; then the
    # line search starts (or waits for a user eta).
    if iw[I_USER_NORM]:
        fnorm = norm
    else:
        fnorm = rw[R_FKNORM]
    rw[R_FNORM_USED] = fnorm
    if fnorm < rw[R_FTOL] * rw[R_F0NORM] + rw[R_FATOL]:
        iw[I_STATUS] = STATUS_CONVERGED
        iw[I_ACTION] = DONE
        return
    sigma = rw[R_SIGMA]
    eps = rw[R_SIGMA_EPS]
    if abs(sigma) > 1 / eps:
        sigma = 1 / eps * np.sign(sigma)
    elif abs(sigma) < eps:
        sigma = eps
    rw[R_SIGMA] = sigma
    rw[R_NEG_SIGMA] = -sigma
    if iw[I_USER_ETA]:
        iw[I_ACTION] = ETA
        return
    k1 = 1 + iw[I_K]
    _begin_search(iw, rw, rw[R_F0] / float(k1 * k1))


@inline_kernel
def _begin_search(iw, rw, eta):
    rw[R_ETA] = eta
    if iw[I_CHENG]:
        rw[R_FBAR] = rw[R_C]
    else:
        fbar = rw[NSCALAR]
        for j in range(1, iw[I_RING_COUNT]):
            if rw[NSCALAR + j] > fbar:
                fbar = rw[NSCALAR + j]
        rw[R_FBAR] = fbar
    rw[R_ALPHA_P] = 1.0
    rw[R_ALPHA_M] = 1.0
    iw[I_PLUS] = 1
    _request(iw, rw, 1.0)


@inline_kernel
def _request(iw, rw, step):
    # Ask for F at x_k + step * d, unless maxfev evaluations were made.
    if iw[I_NFEV] >= iw[I_MAXFEV]:
        iw[I_STATUS] = STATUS_MAXFEV
        iw[I_ACTION] = DONE
        return
    rw[R_STEP] = step
    iw[I_ACTION] = EVALUATE


@inline_kernel
def _clip(value, low, high):
    # numpy.clip for scalars (low <= high here).
    if value < low:
        return low
    if value > high:
        return high
    return value


@inline_kernel
def _square(a, two):
    # SciPy's alpha ** 2 (libm pow); the first trial of every search has
    # alpha = 1, whose power is exactly 1 on every libm.
    if a == 1.0:
        return 1.0
    return a ** two


@inline_kernel
def _take_merit(iw, rw, fp):
    # The line search's decision on the trial point with merit fp.
    if np.isnan(fp):
        # A nan residual is a failed trial like an infinite one (SciPy's
        # step length would turn nan and the search would continue on one
        # side only); inf shrinks the step to TAU_MIN times its length.
        iw[I_NONFINITE] += 1
        fp = np.inf
    elif fp == np.inf:
        iw[I_NONFINITE] += 1
    two = rw[R_TWO]
    fk = rw[R_FK]
    bound = rw[R_FBAR] + rw[R_ETA]
    if iw[I_PLUS]:
        a = rw[R_ALPHA_P]
        a2 = _square(a, two)
        if fp <= bound - GAMMA * a2 * fk:
            _accept_scalars(iw, rw, fp)
            return
        rw[R_ALPHA_TP] = a2 * fk / (fp + (2 * a - 1) * fk)
        iw[I_PLUS] = 0
        _request(iw, rw, -rw[R_ALPHA_M])
        return
    a = rw[R_ALPHA_M]
    a2 = _square(a, two)
    if fp <= bound - GAMMA * a2 * fk:
        _accept_scalars(iw, rw, fp)
        return
    alpha_tm = a2 * fk / (fp + (2 * a - 1) * fk)
    ap = rw[R_ALPHA_P]
    rw[R_ALPHA_P] = _clip(rw[R_ALPHA_TP], TAU_MIN * ap, TAU_MAX * ap)
    rw[R_ALPHA_M] = _clip(alpha_tm, TAU_MIN * a, TAU_MAX * a)
    iw[I_PLUS] = 1
    _request(iw, rw, rw[R_ALPHA_P])


@inline_kernel
def _accept_scalars(iw, rw, fp):
    if iw[I_CHENG]:
        q = rw[R_Q]
        q_next = NU * q + 1
        rw[R_C] = (NU * q * (rw[R_C] + rw[R_ETA]) + fp) / q_next
        rw[R_Q] = q_next
    rw[R_FP] = fp
    iw[I_ACTION] = ACCEPT


@inline_kernel
def _accepted(iw, rw, sigma):
    # After the driver moved to the trial point: sigma_{k+1}, window, k+1.
    fp = rw[R_FP]
    rw[R_SIGMA] = sigma
    rw[R_FK] = fp
    rw[R_FKNORM] = fp ** rw[R_HALF]
    if not iw[I_CHENG]:
        M = iw[I_M]
        rw[NSCALAR + iw[I_RING_POS]] = fp
        iw[I_RING_POS] = (iw[I_RING_POS] + 1) % M
        if iw[I_RING_COUNT] < M:
            iw[I_RING_COUNT] += 1
    iw[I_K] += 1
    if iw[I_TOP]:
        iw[I_ACTION] = TOP
    else:
        _top(iw, rw, 0.0)


# --------------------------------------------------------------------------
# the Python driver's entry points (vectors inside rw)
# --------------------------------------------------------------------------

@kernel
def dfsane_start(x0, F0, ftol, fatol, maxfev, M, sigma_0, sigma_eps, cheng,
                 user_norm, f0norm, user_eta, top, two, half, dot_limit):
    """State for DF-SANE from ``x0`` and ``F0 = F(x0)`` (one evaluation).

    Parameters
    ----------
    x0, F0 : ndarray of float64, shape (n,)
        Start point and its residual (real views for complex problems).
    ftol, fatol : float
        Stop when ``||F_k|| < ftol ||F_0|| + fatol``.
    maxfev : int
        Evaluations allowed, ``F0``'s included.
    M : int
        Line-search memory ('cruz'), at least 1.
    sigma_0, sigma_eps : float
        Initial spectral coefficient and its clipping bound (> 0).
    cheng : bool
        Cheng and Li's line search instead of La Cruz et al.'s.
    user_norm : bool
        Norms come from the driver (``f0norm`` now, ``TOP`` answers later).
    f0norm : float
        The user norm of ``F0`` (ignored unless ``user_norm``).
    user_eta : bool
        ``eta_k`` comes from the driver (``ETA`` actions).
    top : bool
        Stop at the start of every iteration (``TOP``).
    two, half : float
        2.0 and 0.5 (see the module docstring).
    dot_limit : int
        Dot products of fewer entries use :func:`fma_dot` (16 when that
        agrees with NumPy's BLAS, else 0).

    Returns
    -------
    iw : ndarray of int64, shape (NISCALAR,)
    rw : ndarray of float64, shape (NSCALAR + M + 4 n,)
        Scalars, the window, then two (x, F) slots.
    """
    n = x0.size
    iw, rw = _new_state(n, ftol, fatol, maxfev, M, sigma_0, sigma_eps, cheng,
                        user_norm, user_eta, top, two, half, dot_limit, True)
    if F0.size != n:
        iw[I_BAD_SIZE] = F0.size
        iw[I_STATUS] = STATUS_BAD_F_SIZE
        iw[I_ACTION] = DONE
        return iw, rw
    ox = _x_offset(iw)
    rw[ox:ox + n] = x0
    rw[ox + n:ox + 2 * n] = F0
    _first_merit(iw, rw, _merit(F0, two, dot_limit), f0norm)
    _vector_step(iw, rw)
    return iw, rw


@inline_kernel
def _vector_step(iw, rw):
    # Carry out an ACCEPT (move to the trial point) and an EVALUATE (write
    # the trial point) on the vectors held in rw.
    n = iw[I_N]
    if iw[I_ACTION] == ACCEPT:
        ox = _x_offset(iw)
        ot = _trial_offset(iw)
        sigma = _spectral_quotient(rw[ox:ox + n], rw[ox + n:ox + 2 * n],
                                   rw[ot:ot + n], rw[ot + n:ot + 2 * n],
                                   iw[I_DOT_LIMIT])
        iw[I_CUR] = 1 - iw[I_CUR]
        _accepted(iw, rw, sigma)
    if iw[I_ACTION] == EVALUATE:
        ox = _x_offset(iw)
        ot = _trial_offset(iw)
        _trial_point(rw[ox:ox + n], rw[ox + n:ox + 2 * n], rw[R_NEG_SIGMA],
                     rw[R_STEP], rw[ot:ot + n])


@inline_kernel
def _count_evaluation(iw, F):
    # Count the answer F to an EVALUATE; False (and DONE) for a residual of
    # the wrong size.
    iw[I_NFEV] += 1
    if F.size != iw[I_N]:
        iw[I_BAD_SIZE] = F.size
        iw[I_STATUS] = STATUS_BAD_F_SIZE
        iw[I_ACTION] = DONE
        return False
    return True


@inline_kernel
def _take_evaluation(iw, rw, F):
    # The answer to an EVALUATE: count it, then store F at the trial slot
    # and take its merit; False (and DONE) for a residual of the wrong size.
    if not _count_evaluation(iw, F):
        return False
    n = iw[I_N]
    ot = _trial_offset(iw)
    rw[ot + n:ot + 2 * n] = F
    _take_merit(iw, rw, _merit(F, rw[R_TWO], iw[I_DOT_LIMIT]))
    return True


@kernel
def dfsane_advance(iw, rw, F, value):
    """Answer the pending action and run to the next one.

    ``F`` is the residual at the trial point for ``EVALUATE`` (ignored
    otherwise); ``value`` the user norm of ``F_k`` for ``TOP`` or
    ``eta_k`` for ``ETA`` (ignored otherwise).  Returns the new action;
    ``EVALUATE`` comes back as ``EVALUATE_SLOT[slot]``, naming which of
    the two slots of ``rw`` holds the trial point, so a Python driver need
    not read the state.
    """
    # Borrowed aliases (the caller keeps the arrays alive): the views and
    # inlined helpers below then cost no atomic reference counting, which
    # was about a third of a call at small n.
    iw = borrowed(iw)
    rw = borrowed(rw)
    F = borrowed(F)
    action = iw[I_ACTION]
    if action == EVALUATE:
        if not _take_evaluation(iw, rw, F):
            return DONE
    elif action == TOP:
        _top(iw, rw, value)
    elif action == ETA:
        _begin_search(iw, rw, value)
    _vector_step(iw, rw)
    action = iw[I_ACTION]
    if action == EVALUATE and iw[I_CUR] == 0:
        return EVALUATE_SLOT_1
    return action


@kernel
def dfsane_pack(iw, rw):
    """``iw`` and ``rw`` in one float64 array (``iw``'s int64 bits first,
    then ``rw``), the state :func:`dfsane_feed` takes."""
    state = np.empty(NISCALAR + rw.size)
    borrowed_int64_vector(state, 0, NISCALAR)[:] = iw
    state[NISCALAR:] = rw
    return state


@kernel
def dfsane_unpack(state, iw, rw):
    """Copy a :func:`dfsane_pack` state back into ``iw`` and ``rw``."""
    iw[:] = borrowed_int64_vector(state, 0, NISCALAR)
    rw[:] = state[NISCALAR:]


@kernel
def dfsane_held_start(x0, F0, xt, ftol, fatol, maxfev, M, sigma_0,
                      sigma_eps, cheng, two, half, dot_limit):
    """State for the Python driver of vectors of more than ``LONG_DOT``
    entries, which holds ``x_k``, ``F_k``, the trial point and its residual
    itself (see :func:`dfsane_held_step`): scalars and the window only.
    The first trial point goes into ``xt``; ``F0`` has ``x0``'s size and
    the arguments are :func:`dfsane_start`'s (no user norm, ``eta`` or
    ``TOP``)."""
    n = x0.size
    iw, rw = _new_state(n, ftol, fatol, maxfev, M, sigma_0, sigma_eps, cheng,
                        False, False, False, two, half, dot_limit, False)
    _first_merit(iw, rw, _merit(F0, two, dot_limit), 0.0)
    if iw[I_ACTION] == EVALUATE:
        _trial_point(x0, F0, rw[R_NEG_SIGMA], rw[R_STEP], xt)
    return iw, rw


@kernel
def dfsane_held_step(iw, rw, xk, Fk, xt, Ft):
    """Answer a pending ``EVALUATE`` of :func:`dfsane_held_start`'s state
    with the residual ``Ft`` at the trial point ``xt`` and run to the next
    action, as :func:`dfsane_at` does it (nothing is copied into the
    state; at this length the spectral quotient writes nothing either).

    Returns ``EVALUATE`` (rejected: the next trial point is in ``xt``),
    ``MOVED_EVALUATE`` (accepted: ``xt`` and ``Ft`` are the new ``x_k`` and
    ``F_k``, and the next trial point is in the old ``xk``), ``DONE`` or
    ``MOVED_DONE`` (done after accepting)."""
    iw = borrowed(iw)
    rw = borrowed(rw)
    xk = borrowed(xk)
    Fk = borrowed(Fk)
    xt = borrowed(xt)
    Ft = borrowed(Ft)
    if not _count_evaluation(iw, Ft):
        return DONE
    limit = iw[I_DOT_LIMIT]
    _take_merit(iw, rw, _merit(Ft, rw[R_TWO], limit))
    if iw[I_ACTION] != ACCEPT:
        if iw[I_ACTION] == EVALUATE:
            _trial_point(xk, Fk, rw[R_NEG_SIGMA], rw[R_STEP], xt)
        return iw[I_ACTION]
    _accepted(iw, rw, _spectral_quotient(xk, Fk, xt, Ft, limit))
    if iw[I_ACTION] == EVALUATE:
        _trial_point(xt, Ft, rw[R_NEG_SIGMA], rw[R_STEP], xk)
        return MOVED_EVALUATE
    return MOVED_DONE


@kernel
def dfsane_feed(state, F, trial):
    """:func:`dfsane_advance` for a pending ``EVALUATE`` on a packed state
    (:func:`dfsane_pack`) without ``TOP`` or ``ETA`` actions: takes ``F``
    and runs to the next action, which it returns (``EVALUATE`` or
    ``DONE``); for ``EVALUATE`` it also copies the new trial point into
    ``trial`` (``n`` entries).

    The Python loop of the common case calls this once per evaluation:
    one state array instead of two is one array conversion less per call
    (~30 ns), and the trial point lands in an array the loop can hand to
    the user's function without a copy (~110 ns).
    """
    iw = borrowed_int64_vector(state, 0, NISCALAR)
    rw = borrowed_vector(state, NISCALAR, state.size - NISCALAR)
    F = borrowed(F)
    if not _take_evaluation(iw, rw, F):
        return DONE
    _vector_step(iw, rw)
    action = iw[I_ACTION]
    if action == EVALUATE:
        n = iw[I_N]
        ot = _trial_offset(iw)
        for i in range(n):
            trial[i] = rw[ot + i]
    return action


# --------------------------------------------------------------------------
# the compiled driver (vectors as local arrays)
# --------------------------------------------------------------------------

@inline_kernel
def _packed(iw, rw, x, F):
    n = x.size
    out = np.empty(2 * n + 5)
    out[:n] = x
    out[n:2 * n] = F
    out[2 * n] = iw[I_STATUS]
    out[2 * n + 1] = iw[I_NFEV]
    out[2 * n + 2] = iw[I_K]
    out[2 * n + 3] = iw[I_BAD_SIZE]
    out[2 * n + 4] = rw[R_FNORM_USED]
    return out


@kernel
def dfsane_result(iw, rw):
    """One float64 array: ``x_k`` (n), ``F_k`` (n), then status, nfev, nit,
    the size of a wrongly sized residual, and the norm the last convergence
    test used (state of :func:`dfsane_start`)."""
    n = iw[I_N]
    ox = _x_offset(iw)
    return _packed(iw, rw, rw[ox:ox + n], rw[ox + n:ox + 2 * n])


@kernel
def dfsane_at(c_addr, jit_addr, args, x0, ftol, fatol, maxfev, M, sigma_0,
              sigma_eps, cheng, two, half, dot_limit):
    """The whole DF-SANE iteration for the compiled function at the given
    addresses (see :mod:`fastopt._kernels.funcptr`) with the default norm
    and ``eta`` sequence: typed only on the type of ``args``, so compiled
    once and cached.  Returns as :func:`dfsane_result`.

    The user's function gets the solver's trial vector itself, as SciPy
    passes its own trial array, and its results are kept, not copied
    (one is copied only if it shares memory with a vector still in use).
    """
    fun = as_function(c_addr, jit_addr, x0[:0].copy(), args)
    n = x0.size
    # Two owned point buffers (one holds x_k, the other the trial point)
    # and the user's residual arrays Fk and Ft are kept alive by these
    # variables, while the loop works on borrowed aliases of them and of
    # the state: an owned array handed to an inlined helper or sliced costs
    # an atomic increment and decrement of its reference count, and those
    # were half of an evaluation's cost at small n.
    xa = x0.copy()
    xb = np.empty(n)
    Fk = call_with(fun, xa, args)
    if _address(Fk) == _address(xa):
        Fk = Fk.copy()    # the function returned its argument
    iw, rw = _new_state(n, ftol, fatol, maxfev, M, sigma_0, sigma_eps, cheng,
                        False, False, False, two, half, dot_limit, False)
    if Fk.size != n:
        iw[I_BAD_SIZE] = Fk.size
        iw[I_STATUS] = STATUS_BAD_F_SIZE
        return _packed(iw, rw, xa, xa)
    biw = borrowed(iw)
    brw = borrowed(rw)
    bxk = borrowed(xa)
    bxt = borrowed(xb)
    bFk = borrowed(Fk)
    trial_in_b = True     # which owned buffer bxt aliases
    _first_merit(biw, brw, _merit(bFk, two, dot_limit), 0.0)
    while biw[I_ACTION] == EVALUATE:
        _trial_point(bxk, bFk, brw[R_NEG_SIGMA], brw[R_STEP], bxt)
        # the owned buffer itself: a function that keeps its argument
        # keeps a counted reference, never a borrowed view
        if trial_in_b:
            Ft = call_with(fun, xb, args)
        else:
            Ft = call_with(fun, xa, args)
        biw[I_NFEV] += 1
        if Ft.size != n:
            biw[I_BAD_SIZE] = Ft.size
            biw[I_STATUS] = STATUS_BAD_F_SIZE
            break
        bFt = borrowed(Ft)
        _take_merit(biw, brw, _merit(bFt, two, dot_limit))
        if biw[I_ACTION] == ACCEPT:
            pt = _address(bFt)
            if pt == _address(bxt) or pt == _address(bxk) or \
                    pt == _address(bFk):
                # the function returned (a view of) one of our vectors
                Ft = Ft.copy()
                bFt = borrowed(Ft)
            sigma = _spectral_quotient(bxk, bFk, bxt, bFt, dot_limit)
            # the old F_k was read through bFk up to here: without this
            # use numba releases it where the branch begins (it is
            # reassigned below and not otherwise used in the branch)
            _keep_alive(Fk)
            bxk, bxt = bxt, bxk
            trial_in_b = not trial_in_b
            Fk = Ft           # the counted reference moves to Fk
            bFk = bFt
            _accepted(biw, brw, sigma)
        _keep_alive(Ft)       # bFt was in use up to here
    out = _packed(iw, rw, bxk, bFk)
    _keep_alive(Fk)
    _keep_alive(xa)
    _keep_alive(xb)
    return out
