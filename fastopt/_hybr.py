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
import numpy as np

from ._compiled_fun import compiled_addresses, is_compiled
from ._kernels import hybrd as K

__all__ = ["solve_hybr", "HYBR_MESSAGES"]

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
_NO_JAC = np.empty((0, 0))
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
        diag_arr = np.ascontiguousarray(diag, dtype=np.float64).ravel()
        if diag_arr.size != n:
            raise ValueError(f"`diag` must have one entry per variable "
                             f"({n}), not {diag_arr.size}.")
    maxfev = int(maxfev)
    if maxfev == 0:
        maxfev = (100 if use_jac else 200) * (n + 1)
    epsfcn = _EPS if eps is None else float(eps)
    return ml, mu, mode, diag_arr, maxfev, epsfcn


def _result(x, fvec, fjac, r, qtf, status, nfev, njev, use_jac, maxfev,
            xtol):
    msg = HYBR_MESSAGES.get(status, "An error occurred.")
    if status == 2 or status == 3:
        msg = msg.format(maxfev=maxfev, xtol=xtol)
    return {"x": x, "fun": fvec, "status": status,
            "success": status == 1, "nfev": nfev,
            "njev": njev if use_jac else None,
            "fjac": fjac, "r": r, "qtf": qtf,
            "message": msg}


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


def _solve_python(fun, jac, x0, args, xtol, maxfev, ml, mu, epsfcn, factor,
                  mode, diag, use_jac, col_deriv, default_eps=False):
    n = x0.size
    block = not use_jac and n > 1
    iw, rw = K.hybr_start(x0, xtol, maxfev, ml, mu, epsfcn, factor, mode,
                          diag, use_jac, col_deriv, block)
    oe = K.NSCALAR + 8 * n
    xe = rw[oe:oe + n]
    advance = K.hybr_advance
    advance_f = K.hybr_advance_f
    EVALUATE_F = K.EVALUATE_F
    EVALUATE_BLOCK = K.EVALUATE_BLOCK
    no_jac = _NO_JAC
    shape = (n,)
    action = int(iw[K.I_ACTION])
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
        action = advance(iw, rw, f, no_jac)
    first_j = True
    block_views = None
    while action:
        if action == EVALUATE_F:
            value = fun(xe.copy(), *args)
            # fast path: the kernel only takes a C-contiguous float64
            # vector of n entries; anything else is converted (or
            # rejected) by _as_f
            try:
                action = advance_f(iw, rw, value)
            except TypeError:
                action = -1
            if action < 0:
                action = advance(iw, rw, _as_f(value, n, fun, False),
                                 no_jac)
        elif action == EVALUATE_BLOCK:
            # every point of a finite-difference Jacobian, then one call
            if block_views is None:
                block_views = K.hybr_block(iw, rw)
            points, values = block_views
            for k in range(points.shape[0]):
                value = fun(points[k].copy(), *args)
                if not (type(value) is _NDARRAY and value.dtype is _FLOAT64
                        and value.shape == shape):
                    value = _as_f(value, n, fun, False)
                values[k] = value
            action = advance_f(iw, rw, _NO_F)
        else:
            J = _as_jac(jac(xe.copy(), *args), n, jac, first_j, col_deriv)
            first_j = False
            action = advance(iw, rw, _NO_F, J)
    ox = K.NSCALAR
    of = ox + n
    oq = ox + 3 * n
    oj = ox + 9 * n
    orr = oj + n * n
    x = rw[ox:of].copy()
    fvec = rw[of:of + n].copy()
    fjac = rw[oj:orr].reshape(n, n).T.copy()
    r = rw[orr:orr + (n * (n + 1)) // 2].copy()
    qtf = rw[oq:oq + n].copy()
    return (x, fvec, fjac, r, qtf, int(iw[K.I_STATUS]), int(iw[K.I_NFEV]),
            int(iw[K.I_NJEV]), float(rw[K.R_FNORM0]))


def _solve_compiled(fun, jac, x0, args, xtol, maxfev, ml, mu, epsfcn,
                    factor, mode, diag, use_jac, col_deriv):
    """The compiled driver, or None when the functions do not compile."""
    if not is_compiled(fun) or (use_jac and not is_compiled(jac)):
        return None
    faddr = compiled_addresses(fun, args)
    if faddr is None:
        return None
    if use_jac:
        jaddr = compiled_addresses(jac, args, matrix=True)
        if jaddr is None:
            return None
        out = K.hybrj_at(faddr[0], faddr[1], jaddr[0], jaddr[1], args, x0,
                         xtol, maxfev, factor, mode, diag, bool(col_deriv))
    else:
        out = K.hybrd_at(faddr[0], faddr[1], args, x0, xtol, maxfev, ml, mu,
                         epsfcn, factor, mode, diag)
    n = x0.size
    p = 2 * n + n * n
    q = p + (n * (n + 1)) // 2
    tail = out[q + n:].tolist()
    fnorm0 = tail[0]
    status = int(tail[1])
    if status >= K.STATUS_BAD_F_SIZE:
        if status == K.STATUS_BAD_F_SIZE:
            raise _shape_error("func", fun, (n,), (int(tail[4]),))
        if status == K.STATUS_F_SIZE_CHANGED:
            raise _changed_size()
        if status == K.STATUS_BAD_JAC_SHAPE:
            raise _shape_error("fprime", jac, (n, n),
                               (int(tail[4]), int(tail[5])))
    return (out[:n], out[n:2 * n], out[2 * n:p].reshape(n, n), out[p:q],
            out[q:q + n], status, int(tail[2]), int(tail[3]), fnorm0)


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
    x0 = np.asarray(x0, dtype=np.float64).flatten()
    if not isinstance(args, tuple):
        args = (args,)
    use_jac = jac is not None
    ml, mu, mode, diag_arr, maxfev, epsfcn = _options(
        x0, band, diag, maxfev, eps, use_jac)
    opts = (x0, args, float(xtol), maxfev, ml, mu, epsfcn, float(factor),
            mode, diag_arr, use_jac, bool(col_deriv))
    out = _solve_compiled(fun, jac, *opts)
    if out is None:
        out = _solve_python(fun, jac, *opts, default_eps=eps is None)
    x, fvec, fjac, r, qtf, status, nfev, njev, fnorm0 = out
    result = _result(x, fvec, fjac, r, qtf, status, nfev, njev, use_jac,
                     maxfev, xtol)
    result["fnorm0"] = fnorm0
    return result
