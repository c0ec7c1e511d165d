"""Powell's hybrid method (``root(method='hybr')``): the Python layer.

:func:`solve_hybr` runs the reverse-communication kernels of
:mod:`fastopt._kernels.hybrd`, calling the user's function from Python, or,
when ``fun`` (and ``jac``, if given) are numba ``@njit`` dispatchers that
compile for the argument types, runs the whole iteration in compiled code
(:func:`fastopt._kernels.hybrd.hybrd_at` / ``hybrj_at``).

``nfev`` counts the calls made to ``fun`` by the iteration, as MINPACK
does.  (SciPy's ``root`` reports one more: its shape check calls ``fun``
once before MINPACK starts; fastopt checks the shape on the first
iteration call instead.)
"""
import weakref

import numpy as np
from numba import types

from ._compiled_fun import _args_key, compiled_addresses, is_compiled
from ._kernels import hybrd as K

__all__ = ["solve_hybr", "run_hybr", "HYBR_MESSAGES", "call_kernel"]

HYBR_MESSAGES = {
    0: "Improper input parameters were entered.",
    1: "The solution converged.",
    2: "The number of calls to function has reached maxfev = {maxfev}.",
    3: "xtol={xtol:f} is too small, no further improvement in the "
       "approximate\n solution is possible.",
    4: "The iteration is not making good progress, as measured by the \n "
       "improvement from the last five Jacobian evaluations.",
    5: "The iteration is not making good progress, as measured by the \n "
       "improvement from the last ten iterations.",
    6: "A function or Jacobian value was not finite (inf or nan).",
}

_NO_F = np.empty(0)
_FLOAT64 = np.dtype(np.float64)
_EPS = float(np.finfo(np.float64).eps)
_NDARRAY = np.ndarray


def _name(fun):
    return getattr(fun, "__name__", None)


def _shape_error(argname, fun, expected, got):
    msg = ("fsolve: there is a mismatch between the input and output "
           f"shape of the '{argname}' argument")
    name = _name(fun)
    msg += f" '{name}'." if name else "."
    msg += f"Shape should be {expected} but it is {got}."
    return TypeError(msg)


def _changed_size():
    return ValueError("The array returned by a function changed size "
                      "between calls")


def _options(x0, band, diag, maxfev, eps, use_jac):
    n = x0.size
    if band is None:
        ml = mu = max(n - 1, 0)
    else:
        try:
            ml, mu = band[:2]
        except (TypeError, ValueError):
            raise ValueError("`band` must be None or a pair (ml, mu) of "
                             "non-negative integers.") from None
        booleans = (bool, np.bool_)
        if (isinstance(ml, booleans) or isinstance(mu, booleans)
                or not isinstance(ml, (int, np.integer))
                or not isinstance(mu, (int, np.integer))
                or ml < 0 or mu < 0):
            raise ValueError("`band` must be None or a pair (ml, mu) of "
                             "non-negative integers.")
        ml, mu = int(ml), int(mu)
    if diag is None:
        mode = 1
        diag_arr = x0            # ignored in mode 1
    else:
        mode = 2
        diag_arr = kernel_vector(diag)
        if diag_arr.size != n:
            raise ValueError(f"`diag` must have one entry per variable "
                             f"({n}), not {diag_arr.size}.")
    maxfev = int(maxfev)
    if maxfev == 0:
        maxfev = (100 if use_jac else 200) * (n + 1)
    epsfcn = _EPS if eps is None else float(eps)
    return ml, mu, mode, diag_arr, maxfev, epsfcn


def kernel_vector(values):
    """``values`` (``x0``, ``diag``) as the 1-D C-contiguous float64 array
    the kernels take: the array itself when it already is one, writeable
    and aligned (the kernels never write to it), else a copy.  A read-only
    or unaligned input is copied, so that every array the kernels get has
    the one numba type their memoised entry points (see
    :func:`call_kernel`) are compiled for."""
    if (type(values) is _NDARRAY and values.dtype is _FLOAT64
            and values.ndim == 1):
        flags = values.flags
        if flags.c_contiguous and flags.writeable and flags.aligned:
            return values
    return np.array(values, dtype=np.float64).ravel()


def _as_f(value, n, fun, first):
    if (type(value) is np.ndarray and value.dtype == np.float64
            and value.shape == (n,) and value.flags.c_contiguous):
        return value
    f = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if first and f.shape != (n,) and n != 1:
        raise _shape_error("func", fun, (n,), f.shape)
    if f.size != n:
        if first:
            raise _shape_error("func", fun, (n,), f.shape)
        raise _changed_size()
    return np.ascontiguousarray(f.ravel())


def _output_eps(value):
    # SciPy's default epsfcn: the machine epsilon of the output dtype.
    if type(value) is _NDARRAY and value.dtype is _FLOAT64:
        return _EPS
    dtype = np.asarray(value).dtype
    if np.issubdtype(dtype, np.inexact):
        return float(np.finfo(dtype).eps)
    return None


def _as_jac(value, n, jac, first, col_deriv):
    J = np.asarray(value, dtype=np.float64)
    if J.shape != (n, n):
        if J.size == n * n and J.ndim <= 2 and n == 1:
            J = J.reshape(1, 1)
        elif first:
            raise _shape_error("fprime", jac, (n, n), J.shape)
        else:
            raise _changed_size()
    return np.ascontiguousarray(J)


_ENTRY = []


def _entries():
    # Compiled entries (see hybrd.entry_point) of the three kernels the
    # Python driver calls, each for the one signature it uses: numba's
    # argument-type dispatch would cost more than the call itself.  The
    # driver passes exactly these types (int64/float64 C vectors, a float64
    # vector of any stride for the value, Python scalars).
    if not _ENTRY:
        vector = types.Array(types.float64, 1, "C")
        ivector = types.Array(types.int64, 1, "C")
        init = K.hybr_init.compile(
            (ivector, vector, vector, types.float64, types.int64,
             types.int64, types.int64, types.float64, types.float64,
             types.int64, vector, types.boolean, types.boolean,
             types.boolean))
        packed = K.hybr_packed.compile((ivector, vector))
        if not (callable(init) and callable(packed)):  # pragma: no cover
            init, packed = K.hybr_init, K.hybr_packed  # numba changed
        _ENTRY.extend((init, K.entry_point(K.hybr_step), packed))
    return _ENTRY


# (n, nblock) -> work spaces of the Python driver free for reuse (see
# _workspace); only small ones, whose allocation is a visible part of a
# solve, are kept.
_WORKSPACES = {}
_MAX_WORKSPACE = 4096     # float64 entries
_MAX_WORKSPACE_KEYS = 32


def _workspace(n, nblock):
    """``(state, iw, rw, xe, points, values)`` for the Python driver: one
    zeroed float64 array (iw as int64 bit patterns, then rw; the
    per-evaluation entry, hybr_step, then converts two arrays, not three)
    and the views of it that the driver uses.  A space released by
    :func:`_release` is reused (zeroed again) instead of building new
    arrays and views: about a microsecond, a tenth of a small solve's
    fixed cost.  ``pop`` takes a space atomically, so a nested or
    concurrent solve never shares one."""
    free = _WORKSPACES.get((n, nblock))
    if free:
        try:
            space = free.pop()
        except IndexError:   # taken by another thread meanwhile
            pass
        else:
            space[0].fill(0.0)
            return space
    state = np.zeros(K.IW_SIZE + K.NSCALAR + 9 * n + n * n
                     + (n * (n + 1)) // 2 + 2 * nblock * n)
    iw = state[:K.IW_SIZE].view(np.int64)
    rw = state[K.IW_SIZE:]
    oe = K.NSCALAR + 8 * n
    ob = rw.size - 2 * nblock * n
    points = [rw[ob + k * n:ob + (k + 1) * n] for k in range(nblock)]
    values = rw[ob + nblock * n:].reshape(nblock, n)
    return state, iw, rw, rw[oe:oe + n], points, values


def _release(space, n, nblock):
    # A finished solve's work space, for _workspace to reuse (nothing the
    # caller gets refers to it: hybr_packed copies the results out).  A
    # solve that raised does not come here: its space is dropped.
    if space[0].size > _MAX_WORKSPACE:
        return
    free = _WORKSPACES.get((n, nblock))
    if free is None:
        if len(_WORKSPACES) >= _MAX_WORKSPACE_KEYS:
            _WORKSPACES.clear()
        free = _WORKSPACES.setdefault((n, nblock), [])
    if len(free) < 2:
        free.append(space)


def _solve_python(fun, jac, x0, args, xtol, maxfev, ml, mu, epsfcn, factor,
                  mode, diag, use_jac, col_deriv, default_eps=False):
    n = x0.size
    block = not use_jac and n > 1
    nblock = max(min(ml + mu + 1, n), 1) if block else 0
    space = _workspace(n, nblock)
    state, iw, rw, xe, points, block_values = space
    init, advance, packed = _ENTRY or _entries()
    action = init(iw, rw, x0, xtol, maxfev, ml, mu, epsfcn, factor, mode,
                  diag, use_jac, col_deriv, block)
    EVALUATE_F = K.EVALUATE_F
    EVALUATE_BLOCK = K.EVALUATE_BLOCK
    ndarray = _NDARRAY
    F64 = _FLOAT64
    if action == EVALUATE_F:
        # the first value: full checks (and SciPy's float32 default step)
        value = fun(xe.copy(), *args)
        f = _as_f(value, n, fun, True)
        if default_eps:
            eps = _output_eps(value)
            if eps is not None and eps != epsfcn:
                # float32 output: SciPy's larger default step
                rw[K.R_EPSFCN] = eps
                rw[K.R_EPS] = np.sqrt(max(eps, K.EPSMCH))
        action = advance(state, f)
    first_j = True
    shape = (n,)
    copy = xe.copy
    while action:
        if action == EVALUATE_F:
            value = fun(copy(), *args) if args else fun(copy())
            # The entry takes exactly a float64 vector (any stride; -1
            # if its size is not n); anything else goes through _as_f.
            try:
                if value.dtype is F64 and value.ndim == 1:
                    action = advance(state, value)
                    if action >= 0:
                        continue
            except (AttributeError, TypeError):
                pass   # not an ndarray
            action = advance(state, _as_f(value, n, fun, False))
        elif action == EVALUATE_BLOCK:
            # every point of a finite-difference Jacobian, then one call
            k = 0
            for point in points:
                value = fun(point.copy(), *args)
                if not (value.__class__ is ndarray and value.dtype is F64
                        and value.shape == shape):
                    value = _as_f(value, n, fun, False)
                block_values[k] = value
                k += 1
            action = advance(state, _NO_F)
        else:
            J = _as_jac(jac(xe.copy(), *args), n, jac, first_j, col_deriv)
            first_j = False
            action = K.hybr_advance(iw, rw, _NO_F, J)
    result = packed(iw, rw)
    _release(space, n, nblock)
    return result


# (kernel dispatcher, argument key) -> the compiled entry point of the
# overload those arguments select (see call_kernel).
_KERNEL_ENTRIES = {}
_MAX_KERNEL_ENTRIES = 256
_INT64_MIN = -2 ** 63
_INT64_MAX = 2 ** 63 - 1


def call_kernel(dispatcher, key, arguments):
    """``dispatcher(*arguments)``, through the memoised compiled entry
    point of the overload that the dispatcher picked the first time.

    Numba's dispatcher resolves the type of every argument on every call
    (0.2-0.5 us for the dozen arguments of the compiled drivers).  The
    caller passes a ``key`` that determines those types, which it must: an
    entry point converts its arguments by its own signature without
    checking them.  The drivers' arrays are always writeable, aligned,
    C-contiguous float64 vectors (see :func:`kernel_vector`), their scalars Python
    ints (within int64, see :func:`_kernel_key`), floats and bools in
    fixed positions, so only ``args`` varies, and ``key`` is
    :func:`~fastopt._compiled_fun._args_key` of it (None: no memo, the
    dispatcher every time).  The overload is looked up after a call
    through the dispatcher, never compiled here.
    """
    if key is not None:
        entry = _KERNEL_ENTRIES.get((dispatcher, key))
        if entry is not None:
            return entry(*arguments)
    result = dispatcher(*arguments)
    if key is not None:
        signature = tuple(map(dispatcher.typeof_pyval, arguments))
        overload = dispatcher.overloads.get(signature)
        if overload is not None:
            if len(_KERNEL_ENTRIES) >= _MAX_KERNEL_ENTRIES:
                _KERNEL_ENTRIES.clear()
            _KERNEL_ENTRIES[(dispatcher, key)] = overload.entry_point
    return result


def _kernel_key(args, maxfev, memo=True):
    # call_kernel's key: _args_key(args) (no call for the common empty
    # args), or None if maxfev (or, memo False, another integer argument)
    # does not fit in int64: numba would type it otherwise.
    if not (memo and _INT64_MIN <= maxfev <= _INT64_MAX):
        return None
    return _args_key(args) if args else ()


_COMPILED_CLASS = {}


def compiled_kind(fun):
    """:func:`~fastopt._compiled_fun.is_compiled`, memoised per class
    (``isinstance`` against numba's dispatcher class costs more)."""
    cls = fun.__class__
    flag = _COMPILED_CLASS.get(cls)
    if flag is None:
        flag = _COMPILED_CLASS[cls] = is_compiled(fun)
    return flag


_LAST = [(None, None, None)]   # [(weakref to fun, matrix flag, addresses)]


def _addresses(fun, args, matrix=False):
    # compiled_addresses with a one-entry memo for the common call without
    # extra arguments (repeated solves of one function); the entry is one
    # tuple, replaced at once, so threads never see a mixed entry.
    if args:
        return compiled_addresses(fun, args, matrix=matrix)
    ref, flag, addr = _LAST[0]
    if ref is not None and flag is matrix and ref() is fun:
        return addr
    addr = compiled_addresses(fun, args, matrix=matrix)
    _LAST[0] = (weakref.ref(fun), matrix, addr)
    return addr


def run_hybr(fun, x0, args, jac, col_deriv, xtol, maxfev, band, eps, factor,
             diag):
    """The hybrid method on ``fun`` (see :func:`solve_hybr`), as raw
    outputs: ``(x, fvec, fjac, r, qtf, status, nfev, njev, fnorm0, fnorm,
    maxfev)`` (the arrays are views of one array; ``maxfev`` with SciPy's
    default applied; ``fnorm`` = ||f(x)||).  Raises the shape errors."""
    x0 = kernel_vector(x0)
    use_jac = jac is not None
    small_ints = True
    if band is None and diag is None and eps is None:
        # the common case, without _options' checks
        n = x0.size
        ml = mu = n - 1 if n > 0 else 0
        mode = 1
        diag_arr = x0
        epsfcn = _EPS
        maxfev = int(maxfev)
        if maxfev == 0:
            maxfev = (100 if use_jac else 200) * (n + 1)
    else:
        ml, mu, mode, diag_arr, maxfev, epsfcn = _options(
            x0, band, diag, maxfev, eps, use_jac)
        if ml > _INT64_MAX or mu > _INT64_MAX:
            small_ints = False   # not int64s: no memoised entry point
    xtol = float(xtol)
    factor = float(factor)
    packed = None
    if compiled_kind(fun):
        # the compiled driver, when the functions compile for these types
        faddr = _addresses(fun, args)
        if faddr is None:
            pass
        elif not use_jac:
            packed = call_kernel(
                K.hybrd_at, _kernel_key(args, maxfev, small_ints),
                (faddr[0], faddr[1], args, x0, xtol, maxfev, ml, mu, epsfcn,
                 factor, mode, diag_arr))
        elif compiled_kind(jac):
            jaddr = compiled_addresses(jac, args, matrix=True)
            if jaddr is not None:
                packed = call_kernel(
                    K.hybrj_at, _kernel_key(args, maxfev, small_ints),
                    (faddr[0], faddr[1], jaddr[0], jaddr[1], args, x0, xtol,
                     maxfev, factor, mode, diag_arr, bool(col_deriv)))
    if packed is None:
        packed = _solve_python(fun, jac, x0, args, xtol, maxfev, ml, mu,
                               epsfcn, factor, mode, diag_arr, use_jac,
                               bool(col_deriv), default_eps=eps is None)
    out, fnorm0, fnorm, status, nfev, njev, shape0, shape1 = packed
    n = x0.size
    if status >= K.STATUS_BAD_F_SIZE:
        if status == K.STATUS_BAD_F_SIZE:
            raise _shape_error("func", fun, (n,), (shape0,))
        if status == K.STATUS_F_SIZE_CHANGED:
            raise _changed_size()
        if status == K.STATUS_BAD_JAC_SHAPE:
            raise _shape_error("fprime", jac, (n, n), (shape0, shape1))
    p = 2 * n + n * n
    q = p + (n * (n + 1)) // 2
    return (out[:n], out[n:2 * n], out[2 * n:p].reshape(n, n), out[p:q],
            out[q:q + n], status, nfev, njev, fnorm0, fnorm, maxfev)


def solve_hybr(fun, x0, args=(), jac=None, col_deriv=0, xtol=1.49012e-08,
               maxfev=0, band=None, eps=None, factor=100, diag=None):
    """Find a root of ``fun(x, *args)`` (n equations, n unknowns) by
    Powell's hybrid method, as SciPy's ``root(method='hybr')``.

    Parameters as SciPy's ``_root_hybr``: ``jac(x, *args)`` is the
    Jacobian (its transpose with ``col_deriv``); ``band=(ml, mu)`` the
    bandwidths for the finite-difference Jacobian; ``eps`` the relative
    error of ``fun`` (None: float64 machine epsilon); ``diag`` the variable
    scales (None: internal scaling).

    Returns
    -------
    dict with keys x, fun, status, success, nfev, njev (None without
    ``jac``), fjac (Q transposed), r (R packed by rows), qtf, message,
    fnorm0 (``||f(x0)||``; 0.0 if f(x0) was not evaluated or not
    finite).
    Status 0-5 as MINPACK; 6: a non-finite function or Jacobian value
    stopped the iteration.
    """
    if not isinstance(args, tuple):
        args = (args,)
    (x, fvec, fjac, r, qtf, status, nfev, njev, fnorm0, _,
     maxfev) = run_hybr(fun, x0, args, jac, col_deriv, xtol, maxfev, band,
                        eps, factor, diag)
    msg = HYBR_MESSAGES.get(status, "An error occurred.")
    if status == 2 or status == 3:
        msg = msg.format(maxfev=maxfev, xtol=xtol)
    return {"x": x, "fun": fvec, "status": status,
            "success": status == 1, "nfev": nfev,
            "njev": njev if jac is not None else None,
            "fjac": fjac, "r": r, "qtf": qtf, "message": msg,
            "fnorm0": fnorm0}
