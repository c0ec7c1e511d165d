"""DF-SANE (``root(method='df-sane')``): the Python layer.

:func:`root_df_sane` validates the options as SciPy's ``_root_df_sane``
does, then runs the reverse-communication kernel of
:mod:`fastopt._kernels.dfsane` from a Python loop that calls the user's
function (and ``fnorm``, ``eta_strategy``, ``callback``, ``disp``), or,
for a real ``@njit`` function with 1-D ``x0`` and none of those hooks, runs
the whole iteration in compiled code (:func:`~fastopt._kernels.dfsane.
dfsane_at`), with no recompilation of fastopt for a new function.
"""
import math
import sys
import warnings
import weakref

import numpy as np

from ._compiled_fun import (_args_key, compiled_addresses, compiled_entry,
                            is_compiled)
from ._kernels import dfsane as K

__all__ = ["root_df_sane", "DFSANE_MESSAGES"]

DFSANE_MESSAGES = {
    K.STATUS_CONVERGED: "successful convergence",
    K.STATUS_MAXFEV: "too many function evaluations required",
    K.STATUS_NONFINITE_X0: "the residual at x0 is not finite (inf or nan); "
                           "the iteration cannot start",
}

_EMPTY = np.empty(0)
_FLOAT64 = np.dtype(np.float64)
_NDARRAY = np.ndarray
# A window as long as the run (M=None): one slot per possible iteration.
_MAX_UNBOUNDED_WINDOW = 10_000_000
# maxfev=inf (or beyond int64) means no limit.
_NO_LIMIT = 2 ** 62

# dispatcher -> {args key: whether fun returns complex values for real x}
_RETURNS_COMPLEX = weakref.WeakKeyDictionary()

# id(dispatcher) -> (weak reference to it, {args key: what
# _resolve_compiled found}); a plain dictionary keyed by id, as a look-up
# in a WeakKeyDictionary costs ~0.3 us (it builds a weak reference).
_COMPILED = {}

# (type, value) of each numeric option and line_search -> the validated
# options tuple (see _options).
_OPTIONS = {}
_MAX_OPTIONS = 64

# Vectors shorter than this use the kernels' fma_dot instead of a BLAS call
# (None: not yet checked in this process).
_DOT_LIMIT = None
_FMA_BLOCK = 16


def _dot_limit():
    """16 if ``fma_dot`` reproduces NumPy's (SciPy's) dot products below
    16 entries on this machine's BLAS, else 0 (always BLAS)."""
    global _DOT_LIMIT
    if _DOT_LIMIT is None:
        rng = np.random.default_rng(20060101)
        agrees = True
        for n in range(1, _FMA_BLOCK):
            for _ in range(4):
                a = rng.standard_normal(n) * 10.0 ** rng.uniform(-8, 8, n)
                b = rng.standard_normal(n)
                if (K.fma_dot(a, b) != np.vdot(a, b)
                        or K.fma_dot(a, a) != a.dot(a)):
                    agrees = False
        _DOT_LIMIT = _FMA_BLOCK if agrees else 0
    return _DOT_LIMIT


# dfsane_advance's compiled entry point (None: not looked up yet).  The
# Python loop calls it once per evaluation; calling it directly skips the
# dispatcher's type resolution (~0.1 us of a ~0.4 us call), which is safe
# because the loop passes only its own state arrays and residuals that
# _is_kernel_vector accepted, i.e. exactly the compiled signature's types.
_ADVANCE = None
_STRIDE_1D = (8,)


def _advance_entry():
    global _ADVANCE
    if _ADVANCE is None:
        from numba import types

        vector = types.Array(types.float64, 1, "C")
        signature = (types.Array(types.int64, 1, "C"), vector, vector,
                     types.float64)
        _ADVANCE = compiled_entry(K.dfsane_advance, signature)
    return _ADVANCE


_FEED = None


def _feed_entry():
    # dfsane_feed's compiled entry point, called directly as _ADVANCE is
    global _FEED
    if _FEED is None:
        from numba import types

        vector = types.Array(types.float64, 1, "C")
        signature = (vector, vector, vector)
        _FEED = compiled_entry(K.dfsane_feed, signature)
    return _FEED


def _is_kernel_vector(value):
    # A C-contiguous 1-D float64 ndarray (strides (8,) implies both).
    return (type(value) is _NDARRAY and value.dtype is _FLOAT64
            and value.strides == _STRIDE_1D)


_RESULT_CLASS = None


def _optimize_result(**fields):
    global _RESULT_CLASS
    if _RESULT_CLASS is None:
        # lazily (scipy.optimize costs ~0.4 s to import), then kept: the
        # import statement alone is ~0.5 us of every solve
        from scipy.optimize import OptimizeResult

        _RESULT_CLASS = OptimizeResult
    return _RESULT_CLASS(**fields)


def _warn_unknown(unknown_options):
    from scipy.optimize import OptimizeWarning

    names = ", ".join(map(str, unknown_options.keys()))
    # stacklevel 3: the caller of root() when called through fastopt.root
    warnings.warn(f"Unknown solver options: {names}", OptimizeWarning,
                  stacklevel=3)


def _maxfev(maxfev):
    if isinstance(maxfev, (bool, np.bool_)):
        raise TypeError(f"`maxfev` must be a number, not {maxfev!r}.")
    try:
        value = float(maxfev)
    except (TypeError, ValueError):
        raise TypeError(f"`maxfev` must be a number, not {maxfev!r}."
                        ) from None
    if math.isnan(value):
        raise ValueError("`maxfev` must not be nan.")
    if value >= _NO_LIMIT:
        return _NO_LIMIT
    # SciPy stops when nfev >= maxfev: a fractional limit rounds up.
    return max(math.ceil(value), 0)


def _window(M, maxfev):
    if M is None:
        # collections.deque(maxlen=None): every iterate is remembered
        if maxfev > _MAX_UNBOUNDED_WINDOW:
            raise ValueError("`M=None` (an unbounded window) needs a finite "
                             f"`maxfev` of at most {_MAX_UNBOUNDED_WINDOW}.")
        return max(maxfev, 1)
    if (isinstance(M, (bool, np.bool_))
            or not isinstance(M, (int, np.integer)) or M < 1):
        raise ValueError(f"`M` must be a positive integer or None, not {M!r}.")
    return int(M)


def _real_number(name, value):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a real number, not {value!r}."
                        ) from None


def _check_callable(name, value):
    if value is not None and not callable(value):
        raise TypeError(f"`{name}` must be callable or None, not {value!r}.")


def _start_point(x0):
    if x0 is None:
        raise TypeError("`x0` must be an array_like of numbers, not None.")
    x0 = np.asarray(x0)
    if x0.dtype.kind not in "biufc":
        raise TypeError(f"`x0` must be an array_like of numbers; got an "
                        f"array of dtype {x0.dtype}.")
    if x0.size == 0:
        raise ValueError("`x0` must have at least one element.")
    # no copy when x0 is already a C-contiguous float64/complex128 array:
    # the kernels copy it into their state, and the first evaluation gets
    # x0 itself, as in SciPy
    if x0.dtype.kind == "c":
        return np.ascontiguousarray(x0, dtype=np.complex128), True
    return np.ascontiguousarray(x0, dtype=np.float64), False


def _real_view(z):
    # _complex2real: interleaved real and imaginary parts
    return np.ascontiguousarray(z, dtype=np.complex128).ravel().view(
        np.float64)


def _returned_real(value):
    # F(x) of a real problem as a C-contiguous float64 vector
    if _is_kernel_vector(value):
        return value
    F = np.asarray(value)
    if F.dtype.kind == "c":
        raise TypeError("`fun` returned complex values, but its value at x0 "
                        "was real; make F(x0) complex (or x0 complex) to "
                        "solve a complex problem.")
    return np.ascontiguousarray(F, dtype=np.float64).ravel()


def _size_error(n, m):
    return ValueError(f"`fun` must return one residual per unknown: x0 has "
                      f"{n} (real) entries but fun returned {m}.")


def _changed_size():
    return ValueError("The array returned by a function changed size "
                      "between calls")


def _returns_complex(fun, args):
    # Whether the @njit fun returns complex values for a real vector (then
    # the problem is complex and runs through the Python loop).
    key = _args_key(args)
    per_function = _RETURNS_COMPLEX.setdefault(fun, {})
    if key is not None and key in per_function:
        return per_function[key]
    import numba
    from ._compiled_fun import FLOAT_VECTOR

    sig = (FLOAT_VECTOR,) + tuple(numba.typeof(args).types)
    own = fun.overloads.get(sig)
    if own is None:
        return None
    returned = own.signature.return_type
    answer = isinstance(getattr(returned, "dtype", returned),
                        numba.types.Complex)
    if key is not None:
        per_function[key] = answer
    return answer


def _forget_function(key):
    # weakref callback: the user's function is gone
    def forget(_):
        _COMPILED.pop(key, None)
    return forget


def _resolve_compiled(func, args):
    # (entry point, c_addr, jit_addr) of dfsane_at for func and the types
    # of args, or None when func runs through the Python loop.
    addresses = compiled_addresses(func, args)
    if addresses is None:
        return None
    complex_out = _returns_complex(func, args)
    if complex_out is None or complex_out:
        return None
    import numba
    from numba import types
    from ._compiled_fun import FLOAT_VECTOR

    signature = (types.int64, types.int64, numba.typeof(args), FLOAT_VECTOR,
                 types.float64, types.float64, types.int64, types.int64,
                 types.float64, types.float64, types.boolean, types.float64,
                 types.float64, types.int64)
    return (compiled_entry(K.dfsane_at, signature),) + addresses


def _compiled_entry(func, args):
    """Memoised :func:`_resolve_compiled`: one dictionary look-up per solve
    instead of the address, return-type and dispatcher resolutions (about
    2 us, a tenth of a small solve)."""
    key = _args_key(args)
    slot = _COMPILED.get(id(func))
    if slot is not None and slot[0]() is func:
        if key is not None:
            found = slot[1].get(key, False)
            if found is not False:
                return found
    else:
        slot = (weakref.ref(func, _forget_function(id(func))), {})
        _COMPILED[id(func)] = slot
    found = _resolve_compiled(func, args)
    if key is not None:
        slot[1][key] = found
    return found


def _solve_compiled(func, x0, args, opts):
    """The compiled iteration, or None when ``func`` does not compile."""
    entry = _compiled_entry(func, args)
    if entry is None:
        return None
    call, c_addr, jit_addr = entry
    if not x0.flags.aligned:
        # the entry point is typed for aligned arrays; the dispatcher
        # compiles for whatever x0 is
        call = K.dfsane_at
    ftol, fatol, maxfev, window, sigma_0, sigma_eps, cheng = opts
    out = call(c_addr, jit_addr, args, x0, ftol, fatol, maxfev, window,
               sigma_0, sigma_eps, cheng, 2.0, 0.5, _dot_limit())
    n = x0.size
    status, nfev, nit, bad = map(int, out[2 * n:2 * n + 4].tolist())
    if status == K.STATUS_BAD_F_SIZE:
        if nfev == 1:
            raise _size_error(n, bad)
        raise _changed_size()
    return out[:n], out[n:2 * n], status, nfev, nit


def _validated_options(ftol, fatol, maxfev, M, sigma_eps, sigma_0,
                       line_search):
    maxfev = _maxfev(maxfev)
    window = _window(M, maxfev)
    sigma_eps = _real_number("sigma_eps", sigma_eps)
    if not sigma_eps > 0:
        raise ValueError(f"`sigma_eps` must be positive, not {sigma_eps!r}.")
    return (_real_number("ftol", ftol), _real_number("fatol", fatol),
            maxfev, window, _real_number("sigma_0", sigma_0), sigma_eps,
            line_search == 'cheng')


def _options(ftol, fatol, maxfev, M, sigma_eps, sigma_0, line_search):
    """The kernels' options ``(ftol, fatol, maxfev, window, sigma_0,
    sigma_eps, cheng)``, validated once per distinct set of values (the
    validation costs ~1 us, a tenth of a small compiled solve)."""
    # Types are part of the key: True == 1 == 1.0 hash alike, but
    # maxfev=True is an error and maxfev=1 is not.
    key = (type(ftol), ftol, type(fatol), fatol, type(maxfev), maxfev,
           type(M), M, type(sigma_eps), sigma_eps, type(sigma_0), sigma_0,
           line_search)
    try:
        found = _OPTIONS.get(key)
    except TypeError:  # an unhashable value: validation decides
        return _validated_options(ftol, fatol, maxfev, M, sigma_eps, sigma_0,
                                  line_search)
    if found is None:
        found = _validated_options(ftol, fatol, maxfev, M, sigma_eps,
                                   sigma_0, line_search)
        if len(_OPTIONS) >= _MAX_OPTIONS:
            _OPTIONS.clear()
        _OPTIONS[key] = found
    return found


def _solve_python(func, x0, shape, is_complex, F0, args, opts, fnorm,
                  eta_strategy, callback, disp):
    ftol, fatol, maxfev, window, sigma_0, sigma_eps, cheng = opts
    x = _real_view(x0) if is_complex else x0.ravel()
    n = x.size
    if F0.size != n:
        raise _size_error(n, F0.size)
    user_norm = fnorm is not None
    top = user_norm or callback is not None or bool(disp)
    plain = not is_complex and len(shape) == 1
    if plain and not top and eta_strategy is None and n > K.LONG_DOT:
        return _solve_held(func, x, F0, args, opts)
    f0norm = float(fnorm(F0.copy())) if user_norm else 0.0
    iw, rw = K.dfsane_start(x, F0, ftol, fatol, maxfev, window, sigma_0,
                            sigma_eps, cheng, user_norm, f0norm,
                            eta_strategy is not None, top, 2.0, 0.5,
                            _dot_limit())
    ns = K.NSCALAR + window
    xs = (rw[ns:ns + n], rw[ns + 2 * n:ns + 3 * n])
    fs = (rw[ns + n:ns + 2 * n], rw[ns + 3 * n:ns + 4 * n])
    advance = _advance_entry()
    x0_trial, x1_trial = xs
    EVALUATE_0, EVALUATE_1 = K.EVALUATE_SLOT
    TOP, DONE = K.TOP, K.DONE
    I_CUR, I_K = K.I_CUR, K.I_K
    action = int(iw[K.I_ACTION])
    if action == EVALUATE_0 and iw[I_CUR] == 0:
        action = EVALUATE_1
    if plain and not top and eta_strategy is None:
        # The common case, where the only actions are EVALUATE and DONE
        # (== 0): the per-evaluation overhead is most of the solver's cost
        # on small problems, so this loop does the minimum.
        if action:
            feed = _feed_entry()
            state = K.dfsane_pack(iw, rw)
            # The kernel writes each trial point into `trial`, the array the
            # function got last time, unless the function kept a reference
            # to it (then a new array): the reference count of an array
            # held by one local variable only, measured here because it
            # depends on the Python version.
            probe = np.empty(0)
            unshared = sys.getrefcount(probe)
            trial = (x1_trial if action == EVALUATE_1 else x0_trial).copy()
            while action:
                value = func(trial, *args) if args else func(trial)
                if not (type(value) is _NDARRAY and value.dtype is _FLOAT64
                        and value.strides == _STRIDE_1D):
                    value = _returned_real(value)
                if sys.getrefcount(trial) != unshared:
                    # kept (or returned, or viewed by the result)
                    trial = np.empty(n)
                action = feed(state, value, trial)
            K.dfsane_unpack(state, iw, rw)
    while action != DONE:
        if action == EVALUATE_0 or action == EVALUATE_1:
            # a copy: the trial buffer is reused, the user may keep x
            trial = (x0_trial if action == EVALUATE_0 else x1_trial).copy()
            if plain:
                value = _returned_real(func(trial, *args))
                action = advance(iw, rw, value, 0.0)
            elif is_complex:
                value = func(trial.view(np.complex128).reshape(shape), *args)
                action = advance(iw, rw, _real_view(np.asarray(value)), 0.0)
            else:
                value = func(trial.reshape(shape), *args)
                action = advance(iw, rw, _returned_real(value), 0.0)
        elif action == TOP:
            cur = iw[I_CUR]
            if user_norm:
                norm = float(fnorm(fs[cur].copy()))
            else:
                norm = rw[K.R_FKNORM]
            if disp:
                print(f"iter {iw[I_K]}: ||F|| = {norm:g}, "
                      f"sigma = {rw[K.R_SIGMA]:g}")
            if callback is not None:
                callback(xs[cur].copy(), fs[cur].copy())
            action = advance(iw, rw, _EMPTY, norm)
        else:  # ETA
            cur = iw[I_CUR]
            eta = float(eta_strategy(int(iw[I_K]), xs[cur].copy(),
                                     fs[cur].copy()))
            action = advance(iw, rw, _EMPTY, eta)
    status = int(iw[K.I_STATUS])
    if status == K.STATUS_BAD_F_SIZE:
        raise _changed_size()
    cur = iw[I_CUR]
    return (xs[cur].copy(), fs[cur].copy(), status, int(iw[K.I_NFEV]),
            int(iw[K.I_K]))


def _solve_held(func, x, F0, args, opts):
    # _solve_python's common case for long vectors: this loop holds x_k,
    # F_k, the trial point and the user's residuals (kept as returned, as
    # the compiled driver keeps them), and the kernel only reads and writes
    # them -- the state array's copies of F and of the trial point were a
    # third of an iteration's memory traffic at n = 10**5.
    ftol, fatol, maxfev, window, sigma_0, sigma_eps, cheng = opts
    n = x.size
    xk = x.copy()
    Fk = F0.copy()    # it may be the function's own buffer
    xt = np.empty(n)
    iw, rw = K.dfsane_held_start(xk, Fk, xt, ftol, fatol, maxfev, window,
                                 sigma_0, sigma_eps, cheng, 2.0, 0.5,
                                 _dot_limit())
    step = K.dfsane_held_step
    EVALUATE, MOVED_EVALUATE, MOVED_DONE = (K.EVALUATE, K.MOVED_EVALUATE,
                                            K.MOVED_DONE)
    probe = np.empty(0)
    unshared = sys.getrefcount(probe)   # (see _solve_python)
    action = int(iw[K.I_ACTION])
    while action == EVALUATE or action == MOVED_EVALUATE:
        value = func(xt, *args) if args else func(xt)
        if not (type(value) is _NDARRAY and value.dtype is _FLOAT64
                and value.strides == _STRIDE_1D):
            value = _returned_real(value)
        if sys.getrefcount(xt) != unshared:
            # the function kept its argument (or returned it): it is the
            # user's now, and the loop goes on with a copy
            xt = xt.copy()
        if value.base is not None or sys.getrefcount(value) != unshared:
            # a view, or an array someone else holds (the function's own
            # buffer, say, which its next call overwrites): a copy of it
            value = value.copy()
        action = step(iw, rw, xk, Fk, xt, value)
        if action == MOVED_EVALUATE or action == MOVED_DONE:
            xk, xt = xt, xk
            Fk = value
    if int(iw[K.I_STATUS]) == K.STATUS_BAD_F_SIZE:
        raise _changed_size()
    return (xk.copy(), Fk.copy(), int(iw[K.I_STATUS]),
            int(iw[K.I_NFEV]), int(iw[K.I_K]))


def root_df_sane(func, x0, args=(), ftol=1e-8, fatol=1e-300, maxfev=1000,
                 fnorm=None, callback=None, disp=False, M=10,
                 eta_strategy=None, sigma_eps=1e-10, sigma_0=1.0,
                 line_search='cruz', **unknown_options):
    r"""Solve ``func(x) = 0`` with DF-SANE, the derivative-free spectral
    residual method, as SciPy's ``root(method='df-sane')``.

    Use it for large systems whose Jacobian is unavailable or too big to
    store: each iteration costs one or a few evaluations of ``func`` and
    O(n) work, and memory is O(n + M).

    Parameters
    ----------
    func : callable
        ``func(x, *args) -> array_like, shape (n,)``; ``x`` has the shape
        of `x0`.  A numba ``@njit`` function runs entirely in compiled code
        when `x0` is real and 1-D and `fnorm`, `eta_strategy`, `callback`
        and `disp` are not used.
    x0 : array_like, shape (...)
        Initial guess, real or complex.
    args : tuple, optional
        Extra arguments of `func`.
    ftol : float, optional
        Relative norm tolerance.
    fatol : float, optional
        Absolute norm tolerance.  The iteration stops when
        ``fnorm(F(x_k)) < fatol + ftol * fnorm(F(x_0))``.
    maxfev : int, optional
        Maximum number of evaluations of `func`, the first included.
    fnorm : callable, optional
        ``fnorm(F) -> float``, the norm of the convergence test, called on
        the (real-view) residual; default the 2-norm.
    callback : callable, optional
        ``callback(x, F)`` at the start of every iteration, the first
        included, with the raveled (real-view) iterate and residual.
    disp : bool, optional
        Print ``iter k: ||F|| = ..., sigma = ...`` every iteration.
    M : int or None, optional
        Number of past merit values in the nonmonotone line search
        ('cruz'); None: all of them.
    eta_strategy : callable, optional
        ``eta_strategy(k, x, F) -> float``, the allowed growth ``eta_k`` of
        ``||F||^2`` at iteration ``k``; should be positive and summable.
        Default ``||F(x_0)||^2 / (1 + k)^2``.
    sigma_eps : float, optional
        The spectral coefficient is kept in ``sigma_eps <= |sigma| <=
        1/sigma_eps``.
    sigma_0 : float, optional
        Initial spectral coefficient.
    line_search : {'cruz', 'cheng'}, optional
        La Cruz, Martinez and Raydan's nonmonotone line search [1]_, or
        Cheng and Li's [3]_.
    **unknown_options
        Ignored, with an ``OptimizeWarning``, as in SciPy.

    Returns
    -------
    OptimizeResult
        ``x`` (shape of `x0`; complex for a complex problem), ``success``,
        ``message`` ('successful convergence' or 'too many function
        evaluations required'), ``fun`` (the residual at ``x``, raveled),
        ``nfev``, ``nit``, ``method='df-sane'`` and ``status`` (not in
        SciPy): 0 converged, 1 `maxfev` reached, 2 ``F(x0)`` not finite.

    Raises
    ------
    ValueError
        An invalid `line_search` (before any evaluation, with SciPy's
        message), an empty `x0`, ``M < 1``, ``sigma_eps <= 0``, or a
        residual with a different number of (real) entries than `x0`.
    TypeError
        `x0` None or not numeric; a non-callable `fnorm`, `eta_strategy`
        or `callback`.

    Notes
    -----
    The iteration is SciPy 1.17's step for step: the same trial points,
    the same floating-point operations (BLAS dot products, NumPy's way of
    computing ``||F||^2``, libm's ``pow``), so ``x``, ``nfev`` and ``nit``
    agree exactly with SciPy's, up to 10**4 (real) unknowns.  Beyond that
    OpenBLAS splits dot products between threads, so SciPy's own iterates
    depend on its thread count; fastopt then uses its own single-threaded
    dot products, correct to rounding but not bit-equal, and its iterates
    differ from SciPy's by rounding.  A complex problem is solved on the
    interleaved real view of ``x`` and ``F``, as SciPy does.

    Differences from SciPy, all where SciPy crashes, loops uselessly or
    reports a non-answer:

    * ``maxfev`` is enforced without raising an exception inside the
      evaluation: the counts are SciPy's.
    * If ``F(x0)`` is not finite the solver stops at once with status 2
      (SciPy spends all `maxfev` evaluations and reports a failure).
    * A trial point whose residual contains nan is rejected like one whose
      residual is infinite (the step shrinks); SciPy's step length turns
      nan and the rest of that search runs on one side only.  Problems
      without nan trial residuals are unaffected.  ``success`` is never
      True at a non-finite residual.
    * An empty `x0` raises ``ValueError`` (SciPy reports success); `x0`
      None raises ``TypeError``; ``M < 1`` and ``sigma_eps <= 0`` raise
      ``ValueError`` before any evaluation (SciPy fails later or divides
      by zero); a residual of the wrong size raises ``ValueError``.
    * `x0` is converted to float64 (complex128 if complex) before the first
      evaluation; SciPy passes an integer `x0` unconverted to the first
      call (which, as in SciPy, gets `x0` itself when it is already such
      an array).  Later calls of a Python ``func``, and ``fnorm``,
      ``eta_strategy`` and ``callback``, receive arrays of their own, so
      keeping them is safe (without those hooks, ``func`` gets the array
      of its previous call again, refilled, when it kept no reference to
      it); a compiled ``func`` gets the solver's trial vector itself, as
      SciPy passes its own trial array, and its result is kept without a
      copy.
    * ``status`` is added to the result.

    References
    ----------
    .. [1] W. La Cruz, J. M. Martinez, M. Raydan, "Spectral residual
           method without gradient information for solving large-scale
           nonlinear systems of equations", Math. Comp. 75, 1429 (2006).
    .. [2] W. La Cruz, Opt. Meth. Software 29, 24 (2014).
    .. [3] W. Cheng, D.-H. Li, IMA J. Numer. Anal. 29, 814 (2009).

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt._dfsane import root_df_sane
    >>> def broyden(x):
    ...     f = (3 - 2 * x) * x + 1
    ...     f[1:] -= x[:-1]
    ...     f[:-1] -= 2 * x[1:]
    ...     return f
    >>> sol = root_df_sane(broyden, -np.ones(10))
    >>> sol.success, sol.nfev, sol.nit
    (True, 78, 41)
    """
    if unknown_options:
        _warn_unknown(unknown_options)
    if line_search not in ('cheng', 'cruz'):
        raise ValueError(f"Invalid value {line_search!r} for 'line_search'")
    hooks = fnorm is not None or eta_strategy is not None or \
        callback is not None
    if hooks:
        for name, value in (("fnorm", fnorm), ("eta_strategy", eta_strategy),
                            ("callback", callback)):
            _check_callable(name, value)
    if not isinstance(args, tuple):
        args = (args,)
    opts = _options(ftol, fatol, maxfev, M, sigma_eps, sigma_0, line_search)
    x0, complex_x = _start_point(x0)
    shape = x0.shape

    out = None
    if (is_compiled(func) and not complex_x and x0.ndim == 1
            and fnorm is None and eta_strategy is None and callback is None
            and not disp):
        out = _solve_compiled(func, x0, args, opts)
        is_complex = False
    if out is None:
        value = np.asarray(func(x0, *args))
        is_complex = complex_x or value.dtype.kind == "c"
        if is_complex:
            x0 = np.asarray(x0, dtype=np.complex128)
            F0 = _real_view(value)
        else:
            F0 = np.ascontiguousarray(value, dtype=np.float64).ravel()
        out = _solve_python(func, x0, shape, is_complex, F0, args, opts,
                            fnorm, eta_strategy, callback, disp)
    x, F, status, nfev, nit = out
    if is_complex:
        x = x.view(np.complex128)
        F = F.view(np.complex128)
    return _optimize_result(x=x.reshape(shape), success=status == 0,
                            message=DFSANE_MESSAGES[status], fun=F,
                            nfev=nfev, nit=nit, method="df-sane",
                            status=status)
