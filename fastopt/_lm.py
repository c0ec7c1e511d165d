"""Levenberg-Marquardt (MINPACK lmdif/lmder), SciPy's ``root(method='lm')``
and ``leastsq`` contract; private driver around :mod:`._kernels.lmdif`.

Two drivers run the same reverse-communication kernel:

* a Python loop (any callable), which calls ``fun(x, *args)`` between
  :func:`~._kernels.lmdif.lm_advance` steps;
* a compiled loop (:func:`~._kernels.lmdif.lm_solve_at`) when ``fun`` (and
  ``jac``, if given) are ``@njit`` dispatchers that compile for ``args``.

``nfev`` is MINPACK's count (``leastsq``'s ``infodict['nfev']``): the value
at ``x0``, which is computed once to learn ``m``, is reused as MINPACK's
first evaluation.  (``root(method='lm')`` reports two more: it counts real
calls, and SciPy evaluates ``x0`` once more for a shape check and the
final ``x`` once more after MINPACK returns.)
"""
import numpy as np

from ._compiled_fun import compiled_addresses, is_compiled
from ._kernels import lmdif as _lm

__all__ = ["solve_lm", "MESSAGES"]

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


def _as_vector(value):
    return np.ascontiguousarray(np.atleast_1d(value), dtype=np.float64).ravel()


def _improper(n, m):
    return TypeError(f"Improper input: func input vector length N={n} must "
                     f"not exceed func output vector length M={m}")


def _covariance(fjt, ipvt, info):
    if info not in (1, 2, 3, 4):
        return None
    cov, ok = _lm.lm_covariance(fjt, ipvt)
    return cov if ok else None


def _result(x, fvec, fjt, ipvt, qtf, info, nfev, njev, fnorm0, use_jac):
    ipvt = np.asarray(ipvt, dtype=np.int32)
    return {"x": x, "fun": fvec, "status": int(info), "nfev": int(nfev),
            "njev": int(njev) if use_jac else None, "fjac": fjt,
            "ipvt": ipvt, "qtf": qtf,
            "cov_x": _covariance(fjt, ipvt, info),
            "success": int(info) in (1, 2, 3, 4), "fnorm0": float(fnorm0),
            "message": MESSAGES.get(int(info), "An error occurred.")}


def _jac_values(J, m, n, col_deriv):
    J = np.atleast_2d(np.asarray(J, dtype=np.float64))
    shape = (n, m) if col_deriv else (m, n)
    if J.shape != shape:
        raise TypeError(f"lm: there is a mismatch between the input and "
                        f"output shape of the 'jac' argument. Shape should "
                        f"be {shape} but it is {J.shape}.")
    return np.ascontiguousarray(J).ravel()


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
        2-norm of f(x0), NaN if not finite).
    """
    x0 = np.asarray(x0, dtype=np.float64).flatten()
    n = x0.size
    if not isinstance(args, tuple):
        args = (args,)
    if diag is None:
        diag_arr = np.empty(0)
    else:
        diag_arr = np.ascontiguousarray(diag, dtype=np.float64).ravel()
        if diag_arr.size != n:
            raise ValueError(f"`diag` must have length n={n}, "
                             f"got {diag_arr.size}.")
    use_jac = jac is not None
    options = (bool(use_jac), bool(col_deriv), float(ftol), float(xtol),
               float(gtol), int(maxiter), float(eps), float(factor), diag_arr)

    if is_compiled(fun) and (not use_jac or is_compiled(jac)):
        addr = compiled_addresses(fun, args)
        jaddr = (0, 0)
        if addr is not None and use_jac:
            jaddr = compiled_addresses(jac, args, matrix=True)
        if addr is not None and jaddr is not None:
            out = _lm.lm_solve_at(addr[0], addr[1], jaddr[0], jaddr[1],
                                  args, x0, *options)
            if out[1].size < n:
                raise _improper(n, out[1].size)
            return _result(*out, use_jac)

    # Python driver.
    f0 = _as_vector(fun(x0.copy(), *args))
    m = f0.size
    if m < n:
        raise _improper(n, m)
    state = _lm.lm_start(x0, m, *options)
    xe = state[_lm.XE]
    advance = _lm.lm_advance
    EVALUATE_F = _lm.EVALUATE_F
    EVALUATE_JAC = _lm.EVALUATE_JAC
    values = np.empty(0)
    first = True
    while True:
        action = advance(state, values)
        if action == EVALUATE_F:
            if first:
                values = f0
                first = False
            else:
                values = _as_vector(fun(xe.copy(), *args))
                if values.size != m:
                    raise ValueError(_CHANGED)
        elif action == EVALUATE_JAC:
            values = _jac_values(jac(xe.copy(), *args), m, n, col_deriv)
        else:
            break
    iw = state[_lm.IW]
    return _result(state[_lm.X], state[_lm.FVEC], state[_lm.FJT],
                   state[_lm.IPVT], state[_lm.QTF], iw[_lm.I_INFO],
                   iw[_lm.I_NFEV], iw[_lm.I_NJEV],
                   state[_lm.RW][_lm.R_FNORM0], use_jac)
