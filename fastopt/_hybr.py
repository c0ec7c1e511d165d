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
import sys

import numpy as np
from numba import types

from ._compiled_fun import compiled_addresses
from ._kernel_calls import (INT64_MAX, UNSHARED, call_kernel,
                            compiled_kind, kernel_key, kernel_vector,
                            last_addresses)
from ._kernels import hybrd as K
from ._kernels.entry import array_address, entry_point
from ._workspace_pool import WorkspacePool

__all__ = ["solve_hybr", "run_hybr", "HYBR_MESSAGES"]

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
    # Compiled entries (see fastopt._kernels.entry) of the kernels the
    # Python driver calls, each for the one signature it uses: numba's
    # argument-type dispatch would cost more than the call itself.  The
    # driver passes exactly these types (the state's address, float64 C
    # vectors, a float64 vector of any stride for the value, a C float64
    # matrix for the Jacobian, Python scalars).
    if not _ENTRY:
        packed = K.hybr_packed_at.compile(
            (types.int64, types.Array(types.float64, 1, "C")))
        if not callable(packed):  # pragma: no cover - numba changed
            packed = K.hybr_packed_at
        # one slice assignment: threads racing here store the same entries
        _ENTRY[:] = (entry_point(K.hybr_init_at),
                     entry_point(K.hybr_step_at),
                     entry_point(K.hybr_jac_at), packed,
                     entry_point(array_address))
    return _ENTRY


# n -> work spaces of the Python driver free for reuse (see _workspace)
_WORKSPACES = WorkspacePool()


def _workspace(n):
    """``(state, address, iw, rw, xe)`` for the Python driver: one zeroed
    float64 array (iw as int64 bit patterns, then rw), its address (the
    kernels take the state as that integer, see hybrd.hybr_init_at) and
    the views of it that the driver uses; a spare one from
    :data:`_WORKSPACES` if there is one."""
    space = _WORKSPACES.take(n)
    if space is not None:
        return space
    state = np.zeros(K.IW_SIZE + K.NSCALAR + 9 * n + n * n
                     + (n * (n + 1)) // 2)
    iw = state[:K.IW_SIZE].view(np.int64)
    rw = state[K.IW_SIZE:]
    oe = K.NSCALAR + 8 * n
    address = (_ENTRY or _entries())[4](state)
    return state, address, iw, rw, rw[oe:oe + n]


def _solve_python(fun, jac, x0, args, xtol, maxfev, ml, mu, epsfcn, factor,
                  mode, diag, use_jac, col_deriv, out, default_eps=False):
    # The reverse-communication loop.  The finite-difference points come
    # one per EVALUATE_F (no block mode): each costs one call of the step
    # kernel, less than copying a point and storing its value from Python.
    n = x0.size
    space = _workspace(n)
    state, address, iw, rw, xe = space
    init, step, jac_step, packed, array_address = _ENTRY or _entries()
    # The function gets `point`, which the kernels refill with each point
    # to evaluate, unless the function kept a reference to it: then it
    # keeps its values and the next call gets a new array.
    unshared = UNSHARED
    getrefcount = sys.getrefcount
    point = np.empty(n)
    # The entry takes int64s: a larger maxfev is never reached (and a
    # negative one is improper input either way), bandwidths of n or more
    # mean a dense Jacobian just as n does.
    maxfev = min(max(maxfev, -1), INT64_MAX)
    action = init(address, point, x0, xtol, maxfev, min(ml, n), min(mu, n),
                  epsfcn, factor, mode, diag, use_jac, col_deriv)
    EVALUATE_F = K.EVALUATE_F
    EVALUATE_JAC = K.EVALUATE_JAC
    F64 = _FLOAT64
    if action == EVALUATE_F:
        # the first value: full checks (and SciPy's float32 default step)
        value = fun(point, *args)
        if getrefcount(point) != unshared:
            point = np.empty(n)
            iw[K.I_POINT] = array_address(point)
        if (value.__class__ is _NDARRAY and value.dtype is F64
                and value.ndim == 1 and value.shape[0] == n):
            f = value   # (the step entry takes any stride)
        else:
            f = _as_f(value, n, fun, True)
        if default_eps:
            eps = _output_eps(value)
            if eps is not None and eps != epsfcn:
                # float32 output: SciPy's larger default step
                rw[K.R_EPSFCN] = eps
                rw[K.R_EPS] = np.sqrt(max(eps, K.EPSMCH))
        action = step(address, f)
    first_j = True
    while action:
        while action == EVALUATE_F:
            value = fun(point, *args) if args else fun(point)
            if getrefcount(point) != unshared:
                # kept (or returned, or viewed by the value): the kernel
                # must not overwrite it
                point = np.empty(n)
                iw[K.I_POINT] = array_address(point)
            # The entry takes exactly a float64 vector (any stride; -1
            # if its size is not n); anything else goes through _as_f.
            try:
                if value.dtype is F64 and value.ndim == 1:
                    action = step(address, value)
                    if action >= 0:
                        continue
            except (AttributeError, TypeError):
                pass   # not an ndarray
            action = step(address, _as_f(value, n, fun, False))
        if action == EVALUATE_JAC:
            J = _as_jac(jac(xe.copy(), *args), n, jac, first_j, col_deriv)
            first_j = False
            action = jac_step(address, J)
        elif action:   # pragma: no cover - the kernels return no other
            raise RuntimeError(f"hybr: unexpected kernel action {action}")
    result = packed(address, out)
    # (hybr_packed_at copied the results out: nothing returned refers
    # to the space)
    _WORKSPACES.give(n, space)
    return result


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
        if ml > INT64_MAX or mu > INT64_MAX:
            small_ints = False   # not int64s: no memoised entry point
    xtol = float(xtol)
    factor = float(factor)
    # the packed result (see hybrd.hybrd_at), filled by the kernels
    n = x0.size
    p = 2 * n + n * n
    q = p + (n * (n + 1)) // 2
    out = np.empty(q + n)
    packed = None
    if compiled_kind(fun):
        # the compiled driver, when the functions compile for these types
        faddr = last_addresses(fun, args)
        if faddr is None:
            pass
        elif not use_jac:
            packed = call_kernel(
                K.hybrd_at, kernel_key(args, maxfev, small_ints),
                (faddr[0], faddr[1], args, x0, xtol, maxfev, ml, mu, epsfcn,
                 factor, mode, diag_arr, out))
        elif compiled_kind(jac):
            jaddr = compiled_addresses(jac, args, matrix=True)
            if jaddr is not None:
                packed = call_kernel(
                    K.hybrj_at, kernel_key(args, maxfev, small_ints),
                    (faddr[0], faddr[1], jaddr[0], jaddr[1], args, x0, xtol,
                     maxfev, factor, mode, diag_arr, bool(col_deriv), out))
    if packed is None:
        packed = _solve_python(fun, jac, x0, args, xtol, maxfev, ml, mu,
                               epsfcn, factor, mode, diag_arr, use_jac,
                               bool(col_deriv), out, default_eps=eps is None)
    fnorm0, fnorm, status, nfev, njev, shape0, shape1 = packed
    if status >= K.STATUS_BAD_F_SIZE:
        if status == K.STATUS_BAD_F_SIZE:
            raise _shape_error("func", fun, (n,), (shape0,))
        if status == K.STATUS_F_SIZE_CHANGED:
            raise _changed_size()
        if status == K.STATUS_BAD_JAC_SHAPE:
            raise _shape_error("fprime", jac, (n, n), (shape0, shape1))
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
