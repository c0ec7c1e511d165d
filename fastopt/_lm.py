"""Levenberg-Marquardt (MINPACK lmdif/lmder), SciPy's ``root(method='lm')``
and ``leastsq`` contract; private driver around :mod:`._kernels.lmdif`.

Two drivers run the same reverse-communication kernel:

* a Python loop (any callable), which calls ``fun(x, *args)`` between
  :func:`~._kernels.lmdif.lm_step_at` steps: the whole state is one work
  array, passed as its address, so a step is a cheap call of a compiled
  entry point; a float64 vector value is passed on as it is; the
  forward-difference points come one per step; the function gets one
  point array that the kernel refills, replaced by a new one whenever the
  function kept a reference to it (no copy per call);
* a compiled loop (:func:`~._kernels.lmdif.lm_solve_at`) when ``fun`` (and
  ``jac``, if given) are ``@njit`` dispatchers that compile for ``args``.

``nfev`` is MINPACK's count (``leastsq``'s ``infodict['nfev']``): the value
at ``x0``, which is computed once to learn ``m``, is reused as MINPACK's
first evaluation.  (``root(method='lm')`` reports two more: it counts real
calls, and SciPy evaluates ``x0`` once more for a shape check and the
final ``x`` once more after MINPACK returns.)
"""
import sys

import numpy as np
from numba import types

from ._compiled_fun import compiled_addresses
from ._kernel_calls import (INT64_MAX, UNSHARED, call_kernel,
                            compiled_kind, kernel_key, kernel_vector,
                            last_addresses)
from ._kernels import lmdif as _lm
from ._kernels.entry import array_address, entry_point
from ._workspace_pool import WorkspacePool

__all__ = ["solve_lm", "run_lm", "MESSAGES"]

MESSAGES = {
    0: "Improper input parameters.",
    1: "Both actual and predicted relative reductions in the sum of squares "
       "are at most ftol.",
    2: "The relative error between two consecutive iterates is at most xtol.",
    3: "Both actual and predicted relative reductions in the sum of squares "
       "are at most ftol and the relative error between two consecutive "
       "iterates is at most xtol.",
    4: "The cosine of the angle between func(x) and any column of the "
       "Jacobian is at most gtol in absolute value.",
    5: "Number of calls to function has reached maxfev.",
    6: "ftol is too small, no further reduction in the sum of squares is "
       "possible.",
    7: "xtol is too small, no further improvement in the approximate "
       "solution is possible.",
    8: "gtol is too small, func(x) is orthogonal to the columns of the "
       "Jacobian to machine precision.",
    9: "A non-finite function value (NaN or inf) was encountered at the "
       "starting point or in the Jacobian.",
}

_CHANGED = "The array returned by a function changed size between calls"

_F64 = np.dtype(np.float64)
_NO_DIAG = np.empty(0)


_ENTRY = []


def _entries():
    # Compiled entries of the kernels the Python driver calls, each for the
    # one signature it uses (see fastopt._kernels.entry.entry_point): the
    # driver passes exactly those types (the state's address, float64 C
    # vectors, a float64 vector of any stride for the values, Python
    # scalars).
    if not _ENTRY:
        packed = _lm.lm_packed_at.compile((types.int64,))
        if not callable(packed):  # pragma: no cover - numba changed
            packed = _lm.lm_packed_at
        # one slice assignment: threads racing here store the same entries
        _ENTRY[:] = (entry_point(_lm.lm_init_at),
                     entry_point(_lm.lm_step_at), packed,
                     entry_point(array_address))
    return _ENTRY


# (n, m) -> work spaces of the Python driver free for reuse
_WORKSPACES = WorkspacePool()


def _workspace(n, m):
    """``(state, address, iw, xe)``: one zeroed float64 array holding the
    driver's state (see lmdif.lm_init_at), its address (which the kernels
    take instead of the array), the int64 view of its integer part and
    the view of the point ``O_XE``; a spare one from :data:`_WORKSPACES`
    if there is one."""
    space = _WORKSPACES.take((n, m))
    if space is not None:
        return space
    state = np.zeros(_lm.lm_state_size(n, m))
    iw = state[:_lm.N_IW + n].view(np.int64)
    start = _lm.N_IW + n + _lm.lm_offsets(n, m)[_lm.O_XE]
    address = (_ENTRY or _entries())[3](state)
    return state, address, iw, state[start:start + n]


def _as_vector(value):
    return np.ascontiguousarray(np.atleast_1d(value), dtype=np.float64).ravel()


def _improper(n, m):
    return TypeError(f"Improper input: func input vector length N={n} must "
                     f"not exceed func output vector length M={m}")


def _unpack(packed, n):
    # lm_packed's output as run_lm's tuple (views of one array).
    out, ipvt, info, nfev, njev, m, covok, fnorm0, fnorm = packed
    if m < n:
        raise _improper(n, m)
    p = n + m
    q = p + n * m
    cov = out[q + n:].reshape(n, n) if covok else None
    return (out[:n], out[n:p], out[p:q].reshape(n, m), ipvt, out[q:q + n],
            cov, info, nfev, njev, fnorm0, fnorm)


def _jac_values(J, m, n, col_deriv):
    J = np.atleast_2d(np.asarray(J, dtype=np.float64))
    shape = (n, m) if col_deriv else (m, n)
    if J.shape != shape:
        raise TypeError(f"lm: there is a mismatch between the input and "
                        f"output shape of the 'jac' argument. Shape should "
                        f"be {shape} but it is {J.shape}.")
    return np.ascontiguousarray(J).ravel()


def run_lm(fun, x0, args, jac, col_deriv, xtol, ftol, gtol, maxiter, eps,
           factor, diag):
    """Levenberg-Marquardt on ``fun`` (see :func:`solve_lm`) as raw
    outputs: ``(x, fvec, fjac, ipvt, qtf, cov_x, status, nfev, njev,
    fnorm0, fnorm)``, the arrays views of one array (``ipvt`` int32;
    ``fnorm`` = ||f(x)||).  Raises SciPy's TypeError for m < n."""
    x0 = kernel_vector(x0)
    n = x0.size
    if diag is None:
        diag_arr = _NO_DIAG
    else:
        diag_arr = kernel_vector(diag)
        if diag_arr.size != n:
            raise ValueError(f"`diag` must have length n={n}, "
                             f"got {diag_arr.size}.")
    use_jac = jac is not None
    maxiter = int(maxiter)
    options = (use_jac, bool(col_deriv), float(ftol), float(xtol),
               float(gtol), maxiter, float(eps), float(factor), diag_arr)

    if compiled_kind(fun) and (not use_jac or compiled_kind(jac)):
        addr = last_addresses(fun, args)
        jaddr = (0, 0)
        if addr is not None and use_jac:
            jaddr = compiled_addresses(jac, args, matrix=True)
        if addr is not None and jaddr is not None:
            # the arrays are writeable aligned C vectors (kernel_vector,
            # _NO_DIAG): the types depend on args and on
            # whether maxiter is an int64 only (see call_kernel)
            return _unpack(call_kernel(
                _lm.lm_solve_at, kernel_key(args, maxiter),
                (addr[0], addr[1], jaddr[0], jaddr[1], args, x0) + options),
                n)

    return _unpack(_solve_python(fun, x0, args, jac, col_deriv, options), n)


def _solve_python(fun, x0, args, jac, col_deriv, options):
    # The reverse-communication loop.  The function gets `point`, which the
    # kernels refill with each point to evaluate (the forward-difference
    # points too, one per EVALUATE_F), unless the function kept a
    # reference to it: then it keeps its values and the next call gets a
    # new array.
    n = x0.size
    init, step, packed, array_address = _ENTRY or _entries()
    unshared = UNSHARED
    getrefcount = sys.getrefcount
    point = x0.copy()
    values = fun(point, *args)
    if not (values.__class__ is np.ndarray and values.dtype is _F64
            and values.ndim == 1):
        values = _as_vector(values)
    m = values.size
    if m < n:
        raise _improper(n, m)
    space = _workspace(n, m)
    state, address, iw, xe = space
    if getrefcount(point) != unshared:
        point = np.empty(n)
    use_jac, col_deriv, ftol, xtol, gtol, maxfev, epsfcn, factor, diag = \
        options
    # the entry takes an int64: a larger maxfev is never reached (and a
    # negative one is improper input either way)
    maxfev = min(max(maxfev, -1), INT64_MAX)
    init(address, point, x0, m, use_jac, col_deriv, ftol, xtol, gtol, maxfev,
         epsfcn, factor, diag)
    # values = f(x0) on the first call
    action = step(address, values)
    EVALUATE_F = _lm.EVALUATE_F
    EVALUATE_JAC = _lm.EVALUATE_JAC
    F64 = _F64
    while action:
        while action == EVALUATE_F:
            value = fun(point, *args) if args else fun(point)
            if getrefcount(point) != unshared:
                # kept (or returned, or viewed by the value): the kernel
                # must not overwrite it
                point = np.empty(n)
                iw[_lm.I_POINT] = array_address(point)
            # The entry takes exactly a float64 vector (any stride; -1 if
            # its size is not m); anything else goes through _as_vector.
            try:
                if value.dtype is F64 and value.ndim == 1:
                    action = step(address, value)
                    if action >= 0:
                        continue
            except (AttributeError, TypeError):
                pass   # not an ndarray
            value = _as_vector(value)
            if value.size != m:
                raise ValueError(_CHANGED)
            action = step(address, value)
        if action == EVALUATE_JAC:
            action = step(address, _jac_values(jac(xe.copy(), *args), m, n,
                                               col_deriv))
        elif action:   # pragma: no cover - the kernels return no other
            raise RuntimeError(f"lm: unexpected kernel action {action}")
    result = packed(address)
    # (lm_packed_at copied the results out)
    _WORKSPACES.give((n, m), space)
    return result


def solve_lm(fun, x0, args=(), jac=None, col_deriv=0, xtol=1.49012e-08,
             ftol=1.49012e-08, gtol=0.0, maxiter=0, eps=0.0, factor=100,
             diag=None):
    """Minimise ``sum(fun(x, *args)**2)`` by Levenberg-Marquardt.

    Parameters mirror ``scipy.optimize.root(method='lm')`` options
    (``maxiter`` is MINPACK's ``maxfev``, 0 meaning 200 (n + 1) without
    ``jac``, 100 (n + 1) with; ``eps`` is ``epsfcn``).

    Returns
    -------
    dict
        ``x``, ``fun`` (fvec), ``status`` (MINPACK info 0-8, or 9 for a
        non-finite value at ``x0`` or in a Jacobian), ``success``,
        ``message``, ``nfev``, ``njev`` (None without ``jac``), ``fjac``
        (n, m), ``ipvt`` (int32, 0-based), ``qtf`` (n,), ``cov_x`` (None
        unless status is 1-4 and R is nonsingular), ``fnorm0`` (the
        2-norm of f(x0), NaN if not finite).  The arrays are views of one
        array of their own.
    """
    if args.__class__ is not tuple:
        args = args if isinstance(args, tuple) else (args,)
    (x, fvec, fjac, ipvt, qtf, cov, info, nfev, njev, fnorm0,
     _) = run_lm(fun, x0, args, jac, col_deriv, xtol, ftol, gtol, maxiter,
                 eps, factor, diag)
    return {"x": x, "fun": fvec, "status": info, "nfev": nfev,
            "njev": njev if jac is not None else None, "fjac": fjac,
            "ipvt": ipvt, "qtf": qtf, "cov_x": cov,
            "success": 1 <= info <= 4, "fnorm0": fnorm0,
            "message": MESSAGES.get(info, "An error occurred.")}
