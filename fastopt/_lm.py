"""Levenberg-Marquardt (MINPACK lmdif/lmder), SciPy's ``root(method='lm')``
and ``leastsq`` contract; private driver around :mod:`._kernels.lmdif`.

Two drivers run the same reverse-communication kernel:

* a Python loop (any callable), which calls ``fun(x, *args)`` between
  :func:`~._kernels.lmdif.lm_advance` steps (the whole state is two work
  arrays, so a step is a cheap call; a value that is already a
  C-contiguous float64 vector of the right size is passed on as it is;
  a forward-difference Jacobian is one EVALUATE_BLOCK step, its n values
  written into the rows of one buffer reused across Jacobians; the kernel
  entry points are memoised, see :func:`fastopt._hybr.call_kernel`);
* a compiled loop (:func:`~._kernels.lmdif.lm_solve_at`) when ``fun`` (and
  ``jac``, if given) are ``@njit`` dispatchers that compile for ``args``.

``nfev`` is MINPACK's count (``leastsq``'s ``infodict['nfev']``): the value
at ``x0``, which is computed once to learn ``m``, is reused as MINPACK's
first evaluation.  (``root(method='lm')`` reports two more: it counts real
calls, and SciPy evaluates ``x0`` once more for a shape check and the
final ``x`` once more after MINPACK returns.)
"""
import numpy as np
from numba import types

from ._compiled_fun import compiled_addresses
from ._hybr import (_addresses, _kernel_key, call_kernel, compiled_kind,
                    kernel_vector)
from ._kernels import lmdif as _lm

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


_ADVANCE = []


def _advance():
    # lm_advance's compiled entry point for the one signature the Python
    # driver uses (float64, int64 and float64 C-contiguous vectors; every
    # ``values`` it passes is one), called directly: numba's dispatcher
    # would otherwise resolve the argument types on every step.  The
    # dispatcher itself if that is not possible.
    if not _ADVANCE:
        vector = types.Array(types.float64, 1, "C")
        try:
            entry = _lm.lm_advance.compile(
                (vector, types.Array(types.int64, 1, "C"), vector))
        except Exception:  # pragma: no cover - numba internals changed
            entry = None
        _ADVANCE.append(entry if callable(entry) else _lm.lm_advance)
    return _ADVANCE[0]


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


def _block_row(value, m):
    # One function value at a forward-difference point that is not an (m,)
    # float64 array: as a vector through _as_vector, which raises the
    # usual conversion errors, and then of the right size.
    row = _as_vector(value)
    if row.size != m:
        raise ValueError(_CHANGED)
    return row


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
        addr = _addresses(fun, args)
        jaddr = (0, 0)
        if addr is not None and use_jac:
            jaddr = compiled_addresses(jac, args, matrix=True)
        if addr is not None and jaddr is not None:
            # the arrays are writeable aligned C vectors (kernel_vector,
            # _NO_DIAG): the types depend on args and on
            # whether maxiter is an int64 only (see call_kernel)
            return _unpack(call_kernel(
                _lm.lm_solve_at, _kernel_key(args, maxiter),
                (addr[0], addr[1], jaddr[0], jaddr[1], args, x0) + options),
                n)

    # Python driver.
    values = fun(x0.copy(), *args)
    if not (values.__class__ is np.ndarray and values.dtype is _F64
            and values.ndim == 1 and values.strides == (8,)):
        values = _as_vector(values)
    m = values.size
    if m < n:
        raise _improper(n, m)
    rw, iw = call_kernel(_lm.lm_start, _kernel_key((), maxiter),
                         (x0, m) + options)
    o = _lm.lm_offsets(n, m)
    start = o[_lm.O_XE]
    xe = rw[start:start + n]
    start = o[_lm.O_XB]
    # the rows of the (n, n) block of points (slices: cheaper than
    # iterating over a reshaped view)
    points = () if use_jac else [rw[start + k * n:start + (k + 1) * n]
                                 for k in range(n)]
    advance = _advance()
    EVALUATE_F = _lm.EVALUATE_F
    EVALUATE_BLOCK = _lm.EVALUATE_BLOCK
    EVALUATE_JAC = _lm.EVALUATE_JAC
    ndarray = np.ndarray
    F64 = _F64
    shape = (m,)
    STRIDE = (8,)
    block = np.empty(0 if use_jac else n * m)
    block_rows = block.reshape(-1, m) if m else block
    # values = f(x0) on the first call.
    while True:
        action = advance(rw, iw, values)
        if action == EVALUATE_F:
            values = fun(xe.copy(), *args) if args else fun(xe.copy())
            # (an (m,) float64 array with strides (8,) is C-contiguous)
            if not (values.__class__ is ndarray and values.dtype is F64
                    and values.shape == shape and values.strides == STRIDE):
                values = _as_vector(values)
                if values.size != m:
                    raise ValueError(_CHANGED)
        elif action == EVALUATE_BLOCK:
            # All n forward-difference points in one go: one kernel call
            # per Jacobian.  The values go straight into the rows of one
            # reused buffer (the kernel copies them out), cheaper than
            # stacking a list of them into a new array.
            k = 0
            for p in points:
                row = fun(p.copy(), *args) if args else fun(p.copy())
                if not (row.__class__ is ndarray and row.dtype is F64
                        and row.shape == shape):
                    row = _block_row(row, m)
                block_rows[k] = row
                k += 1
            values = block
        elif action == EVALUATE_JAC:
            values = _jac_values(jac(xe.copy(), *args), m, n, col_deriv)
        else:
            break
    return _unpack(call_kernel(_lm.lm_packed, (), (rw, iw)), n)


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
