"""``root``, ``fsolve`` and ``show_options``: SciPy's nonlinear-equation API.

The dispatcher normalises arguments as ``scipy.optimize.root`` does and
hands the problem to a method's solver (:mod:`fastopt._hybr`,
:mod:`fastopt._lm`), which returns the raw MINPACK outputs; this module
turns them into SciPy's ``OptimizeResult`` with SciPy's messages.

One deliberate difference: ``success`` is honest.  MINPACK's "converged"
tests look at the step and the trust region, not at ``f``; near a local
minimiser of ``||f||`` that is not a root the trust region collapses and
SciPy reports success at a point that is not a root.  fastopt keeps
MINPACK's iteration and statuses but reports ``success=True`` only if the
final residual is also small: ``||f(x)||_2 <= sqrt(xtol) * max(1,
||f(x0)||_2)`` (square systems); otherwise the status becomes
:data:`NOT_A_ROOT` with a message saying so.
"""
import math
import warnings

import numpy as np

__all__ = ["root", "fsolve", "show_options", "NOT_A_ROOT"]

# Statuses fastopt adds to MINPACK's.
NON_FINITE = 9          # (lm; hybr uses 6) the function returned nan/inf
NOT_A_ROOT = 10         # converged by MINPACK's tests, but ||f|| is not small

NONLIN_METHODS = ("broyden1", "broyden2", "anderson", "linearmixing",
                  "diagbroyden", "excitingmixing", "krylov")
ALL_METHODS = ("hybr", "lm") + NONLIN_METHODS + ("df-sane",)


def _not_a_root_message(fnorm, limit):
    return ("The iteration converged by the step-size test to a point that "
            f"is not a root: ||f(x)|| = {fnorm:g} exceeds "
            f"sqrt(xtol) * max(1, ||f(x0)||) = {limit:g}.  x is probably a "
            "local minimiser of ||f||; try another starting point.")


def _hybr_message(status, xtol, maxfev):
    # Only the message needed is formatted: this runs on every solve.
    if status == 2:
        return f"The number of calls to function has reached maxfev = {maxfev}."
    if status == 3:
        return (f"xtol={xtol:f} is too small, no further improvement in the "
                "approximate\n solution is possible.")
    return _HYBR_FIXED.get(status, "An error occurred.")


_HYBR_FIXED = {
    0: "Improper input parameters were entered.",
    1: "The solution converged.",
    4: "The iteration is not making good progress, as measured by the \n"
       " improvement from the last five Jacobian evaluations.",
    5: "The iteration is not making good progress, as measured by the \n"
       " improvement from the last ten iterations.",
    6: "The function returned a non-finite value (nan or inf).",
}


def _lm_message(status, ftol, xtol, gtol, maxfev):
    # Only the message needed is formatted: this runs on every solve.
    if status == 1:
        return ("Both actual and predicted relative reductions in the sum of "
                f"squares\n  are at most {ftol:f}")
    if status == 2:
        return ("The relative error between two consecutive iterates is at "
                f"most {xtol:f}")
    if status == 3:
        return ("Both actual and predicted relative reductions in the sum of "
                f"squares\n  are at most {ftol:f} and the relative error "
                "between two consecutive iterates is at \n  most "
                f"{xtol:f}")
    if status == 4:
        return ("The cosine of the angle between func(x) and any column of "
                f"the\n  Jacobian is at most {gtol:f} in absolute value")
    if status == 5:
        return f"Number of calls to function has reached maxfev = {maxfev}."
    if status == 6:
        return (f"ftol={ftol:f} is too small, no further reduction in the "
                "sum of squares\n  is possible.")
    if status == 7:
        return (f"xtol={xtol:f} is too small, no further improvement in the "
                "approximate\n  solution is possible.")
    if status == 8:
        return (f"gtol={gtol:f} is too small, func(x) is orthogonal to the "
                "columns of\n  the Jacobian to machine precision.")
    if status == 0:
        return "Improper input parameters."
    if status == NON_FINITE:
        return "The function returned a non-finite value (nan or inf)."
    return "An error occurred."


class _FunAndJac:
    """``fun`` returning ``(f, J)`` split into a function and a Jacobian
    that share one evaluation per point (SciPy's ``jac=True``)."""

    def __init__(self, fun):
        self.fun = fun
        self.x = None
        self.jac_value = None

    def _compute(self, x, args):
        f, J = self.fun(x, *args)
        self.x = np.array(x, copy=True)
        self.jac_value = J
        return f

    def __call__(self, x, *args):
        return self._compute(x, args)

    def derivative(self, x, *args):
        if self.x is None or not np.array_equal(x, self.x):
            self._compute(x, args)
        return self.jac_value


def _warn_unknown(options):
    if options:
        from scipy.optimize import OptimizeWarning
        warnings.warn("Unknown solver options: " + ", ".join(options),
                      OptimizeWarning, stacklevel=4)


_EPS = float(np.finfo(float).eps)


def _residual_limit(fnorm0, xtol):
    return math.sqrt(max(xtol, _EPS)) * max(1.0, fnorm0)


def _result_class():
    # scipy.optimize costs ~0.4 s to import: imported on first use.
    global _OPTIMIZE_RESULT
    if _OPTIMIZE_RESULT is None:
        from scipy.optimize import OptimizeResult
        _OPTIMIZE_RESULT = OptimizeResult
    return _OPTIMIZE_RESULT


_OPTIMIZE_RESULT = None

# The solvers' modules load numba kernels (about a second): imported on
# first use, and looked up in this dict afterwards (a function-level import
# statement costs a microsecond per solve).
_RUNNERS = {}


def _runner(method):
    if method == "hybr":
        from ._hybr import run_hybr as run
    elif method == "lm":
        from ._lm import run_lm as run
    elif method == "df-sane":
        from ._dfsane import root_df_sane as run
    else:
        from ._nonlin import root_nonlin as run
    _RUNNERS[method] = run
    return run


def _root_hybr(func, x0, args=(), jac=None, col_deriv=0, xtol=1.49012e-08,
               maxfev=0, band=None, eps=None, factor=100, diag=None,
               **unknown_options):
    """
    Find the roots of a multivariate function using MINPACK's hybrd and
    hybrj routines (modified Powell method), compiled.

    Options
    -------
    col_deriv : bool
        Specify whether the Jacobian function computes derivatives down
        the columns (faster, because there is no transpose operation).
    xtol : float
        The calculation will terminate if the relative error between two
        consecutive iterates is at most `xtol`.
    maxfev : int
        The maximum number of calls to the function. If zero, then
        ``200*(N+1)`` without `jac` and ``100*(N+1)`` with it, where N is
        the number of elements in `x0` (SciPy's actual defaults).
    band : tuple
        If set to a two-sequence containing the number of sub- and
        super-diagonals within the band of the Jacobi matrix, the
        Jacobi matrix is considered banded (only for ``jac=None``).
    eps : float
        A suitable step length for the forward-difference
        approximation of the Jacobian (for ``jac=None``). If
        `eps` is less than the machine precision, it is assumed
        that the relative errors in the functions are of the order of
        the machine precision.
    factor : float
        A parameter determining the initial step bound
        (``factor * || diag * x||``). Should be in the interval
        ``(0.1, 100)``.
    diag : sequence
        N positive entries that serve as a scale factors for the
        variables.

    Notes
    -----
    ``success`` additionally requires ``||f(x)||_2 <= sqrt(xtol) * max(1,
    ||f(x0)||_2)``; a point that passes MINPACK's step test without that
    gets status 10 and ``success=False``.  Status 6 means the function
    returned nan or inf.
    """
    if unknown_options:
        _warn_unknown(unknown_options)
    run = _RUNNERS.get("hybr") or _runner("hybr")
    (x, fvec, fjac, r, qtf, status, nfev, njev, fnorm0, fnorm,
     maxfev) = run(func, x0, args, jac, col_deriv, xtol, maxfev, band, eps,
                   factor, diag)
    if status == 1:
        message = "The solution converged."
        # _residual_limit, inline (this runs on every solve)
        limit = math.sqrt(max(xtol, _EPS)) * max(1.0, fnorm0)
        if not fnorm <= limit:
            status, message = NOT_A_ROOT, _not_a_root_message(fnorm, limit)
    else:
        message = _hybr_message(status, xtol, maxfev)
    result = {"x": x, "success": status == 1, "status": status,
              "method": "hybr", "fun": fvec, "nfev": nfev, "fjac": fjac,
              "r": r, "qtf": qtf, "message": message}
    if jac is not None:
        result["njev"] = njev
    return _result_class()(result)


def _root_leastsq(fun, x0, args=(), jac=None, col_deriv=0, xtol=1.49012e-08,
                  ftol=1.49012e-08, gtol=0.0, maxiter=0, eps=0.0, factor=100,
                  diag=None, **unknown_options):
    """
    Solve for least squares with Levenberg-Marquardt (MINPACK's lmdif and
    lmder), compiled.

    Options
    -------
    col_deriv : bool
        non-zero to specify that the Jacobian function computes derivatives
        down the columns (faster, because there is no transpose operation).
    ftol : float
        Relative error desired in the sum of squares.
    xtol : float
        Relative error desired in the approximate solution.
    gtol : float
        Orthogonality desired between the function vector and the columns
        of the Jacobian.
    maxiter : int
        The maximum number of calls to the function. If zero, then
        200*(N+1) without `jac` and 100*(N+1) with it, where N is the
        number of elements in x0.
    eps : float
        A suitable step length for the forward-difference approximation of
        the Jacobian (for Dfun=None). If `eps` is less than the machine
        precision, it is assumed that the relative errors in the functions
        are of the order of the machine precision.
    factor : float
        A parameter determining the initial step bound
        (``factor * || diag * x||``). Should be in interval ``(0.1, 100)``.
    diag : sequence
        N positive entries that serve as a scale factors for the variables.

    Notes
    -----
    For a square system, ``success`` additionally requires ``||f(x)||_2 <=
    sqrt(xtol) * max(1, ||f(x0)||_2)`` (status 10 otherwise); status 9
    means the function returned nan or inf (SciPy reports success there).
    """
    if unknown_options:
        _warn_unknown(unknown_options)
    run = _RUNNERS.get("lm") or _runner("lm")
    (x, fvec, fjac, ipvt, qtf, cov_x, status, nfev, njev, fnorm0,
     fnorm) = run(fun, x0, args, jac, col_deriv, xtol, ftol, gtol, maxiter,
                  eps, factor, diag)
    n = x.size
    maxfev = maxiter or (100 if jac is not None else 200) * (n + 1)
    message = _lm_message(status, ftol, xtol, gtol, maxfev)
    success = 1 <= status <= 4
    if success and fvec.size == n:
        limit = _residual_limit(fnorm0, xtol)
        if not fnorm <= limit:
            success = False
            status, message = NOT_A_ROOT, _not_a_root_message(fnorm, limit)
    result = {"x": x, "message": message, "status": status,
              "success": success, "cov_x": cov_x, "fun": fvec,
              "method": "lm", "nfev": nfev, "fjac": fjac, "ipvt": ipvt,
              "qtf": qtf}
    if jac is not None:
        result["njev"] = njev
    return _result_class()(result)


def _minpack(solver):
    # hybr and lm: SciPy's root warns about a callback, unpacks jac=True and
    # maps tol to xtol.
    def solve(fun, x0, args, jac, tol, callback, method, options):
        if callback is not None:
            warnings.warn(f"Method {method} does not accept callback.",
                          RuntimeWarning, stacklevel=3)
        if not callable(jac):
            if bool(jac):
                fun = _FunAndJac(fun)
                jac = fun.derivative
            else:
                jac = None
        if tol is not None:
            options.setdefault("xtol", tol)
        return solver(fun, x0, args=args, jac=jac, **options)
    return solve


def _df_sane(fun, x0, args, jac, tol, callback, method, options):
    root_df_sane = _RUNNERS.get("df-sane") or _runner("df-sane")
    if jac is not None:
        warnings.warn(f"Method {method} does not use the jacobian (jac).",
                      RuntimeWarning, stacklevel=3)
    if tol is not None:
        options.setdefault("ftol", tol)
    return root_df_sane(fun, x0, args=args, callback=callback, **options)


def _nonlin(fun, x0, args, jac, tol, callback, method, options):
    # root_nonlin maps tol, unpacks jac=True and gives root's warnings.
    root_nonlin = _RUNNERS.get("nonlin") or _runner("nonlin")
    return root_nonlin(fun, x0, args=args, jac=jac, callback=callback,
                       method=method.lower(), tol=tol, **options)


_SOLVERS = {"hybr": _minpack(_root_hybr), "lm": _minpack(_root_leastsq),
            "df-sane": _df_sane}
_SOLVERS.update((name, _nonlin) for name in NONLIN_METHODS)


def root(fun, x0, args=(), method="hybr", jac=None, tol=None, callback=None,
         options=None):
    """Find a root of a vector function, as `scipy.optimize.root`.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> ndarray, shape (n,)`` (``(m,)`` with ``m >= n``
        for 'lm').  With ``jac=True`` it returns ``(f, J)``.  A numba
        ``@njit`` function (and Jacobian) is solved entirely in compiled
        code.
    x0 : array_like, shape (n,)
        Initial guess.
    args : tuple, optional
        Extra arguments of ``fun`` and ``jac``.
    method : str, optional
        'hybr' (default; Powell's hybrid method, MINPACK hybrd/hybrj),
        'lm' (Levenberg-Marquardt, MINPACK lmdif/lmder), the inexact-Newton
        family 'broyden1', 'broyden2', 'anderson', 'linearmixing',
        'diagbroyden', 'excitingmixing', 'krylov' (see
        :func:`nonlin_solve`), or 'df-sane' (the derivative-free spectral
        residual method).
    jac : bool or callable, optional
        The Jacobian ``jac(x, *args) -> (n, n)``, or ``True`` if ``fun``
        returns ``(f, J)``; otherwise forward differences.
    tol : float, optional
        As SciPy maps it: ``xtol`` for 'hybr' and 'lm', ``ftol`` for
        'df-sane', ``xtol`` (with ``xatol``, ``ftol`` and ``fatol`` set to
        inf) for the inexact-Newton family, unless the options give them.
    callback : callable, optional
        ``callback(x, f)`` after each iteration of the inexact-Newton
        family and 'df-sane'; not used by 'hybr' and 'lm' (a
        ``RuntimeWarning`` says so, as in SciPy).
    options : dict, optional
        Method options; see :func:`show_options`.

    Returns
    -------
    scipy.optimize.OptimizeResult
        With SciPy's fields for the method: ``x``, ``fun``, ``success``,
        ``status``, ``message``, ``nfev`` (and ``njev``), ``fjac``, ``r``,
        ``qtf`` for 'hybr'; ``cov_x``, ``fjac``, ``ipvt``, ``qtf`` for 'lm';
        ``nit`` (and ``x`` in ``x0``'s shape) for the inexact-Newton family
        and 'df-sane'.

    Notes
    -----
    ``success`` is honest: a point where MINPACK's step test stops but
    ``||f(x)||`` is not small is reported with status 10 and
    ``success=False`` (SciPy reports success there).  A function returning
    nan or inf stops with status 6 ('hybr') or 9 ('lm').

    References
    ----------
    .. [1] J. J. Moré, B. S. Garbow and K. E. Hillstrom, "User Guide for
       MINPACK-1", Argonne National Laboratory report ANL-80-74 (1980).

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt import root
    >>> def fun(x):
    ...     return [x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
    ...             0.5 * (x[1] - x[0]) ** 3 + x[1]]
    >>> sol = root(fun, [0, 0], method='hybr')
    >>> sol.success, np.round(sol.x, 6)
    (True, array([0.841164, 0.158836]))
    """
    if not isinstance(args, tuple):
        args = (args,)
    if not isinstance(method, str):
        raise TypeError("`method` must be a string naming the solver.")
    meth = method.lower()
    if meth not in ALL_METHODS:
        raise ValueError(f"Unknown solver {method}")
    if options is None:
        options = {}
    elif not isinstance(options, dict):
        raise TypeError("`options` must be a dict or None; got "
                        f"{type(options).__name__}.")
    else:
        options = dict(options)
    if not callable(fun):
        raise TypeError(f"`fun` must be callable; got {type(fun).__name__}.")
    return _SOLVERS[meth](fun, x0, args, jac, tol, callback, method, options)


def fsolve(func, x0, args=(), fprime=None, full_output=0, col_deriv=0,
           xtol=1.49012e-08, maxfev=0, band=None, epsfcn=None, factor=100,
           diag=None):
    """Find the roots of a function, as `scipy.optimize.fsolve`.

    Powell's hybrid method (MINPACK hybrd, or hybrj with ``fprime``) on
    fastopt's compiled kernels; see :func:`root` with ``method='hybr'``.

    Parameters
    ----------
    func : callable
        ``func(x, *args) -> ndarray, shape (n,)``.
    x0 : ndarray, shape (n,)
        Starting estimate.
    args : tuple, optional
        Extra arguments of ``func`` and ``fprime``.
    fprime : callable, optional
        Jacobian ``fprime(x, *args) -> (n, n)``.
    full_output : bool, optional
        Return ``(x, infodict, ier, mesg)`` instead of ``x``.
    col_deriv, xtol, maxfev, band, epsfcn, factor, diag
        As the options of :func:`root` with ``method='hybr'`` (``epsfcn``
        is its ``eps``).

    Returns
    -------
    x : ndarray
        The solution (or the last iterate).
    infodict : dict
        With ``full_output``: ``nfev``, ``njev`` (with ``fprime``),
        ``fjac``, ``r``, ``qtf``, ``fvec``.
    ier : int
        With ``full_output``: the status (1 means a root was found).
    mesg : str
        With ``full_output``: the message.

    Warns
    -----
    RuntimeWarning
        Without ``full_output``, when the solver did not converge (statuses
        2-5 and 10); status 0 and the non-finite status raise ``TypeError``
        as SciPy does for its error statuses.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt import fsolve
    >>> def func(x):
    ...     return [x[0] * np.cos(x[1]) - 4, x[1] * x[0] - x[1] - 5]
    >>> np.round(fsolve(func, [1, 1]), 6)
    array([6.504096, 0.908414])
    """
    res = _root_hybr(func, x0, args, jac=fprime, col_deriv=col_deriv,
                     xtol=xtol, maxfev=maxfev, band=band, eps=epsfcn,
                     factor=factor, diag=diag)
    if full_output:
        info = {k: res[k] for k in ("nfev", "njev", "fjac", "r", "qtf")
                if k in res}
        info["fvec"] = res["fun"]
        return res["x"], info, res["status"], res["message"]
    status = res["status"]
    if status == 0:
        raise TypeError(res["message"])
    if status in (2, 3, 4, 5, NOT_A_ROOT):
        warnings.warn(res["message"], RuntimeWarning, stacklevel=2)
    elif status != 1:
        raise TypeError(res["message"])
    return res["x"]


def _option_docs(solver):
    # {method: text} for a solver; the modules are imported only here.
    import inspect

    if solver == "minimize":
        from ._slsqp import minimize_slsqp
        return {"slsqp": inspect.getdoc(minimize_slsqp)}
    from . import _krylov_jacobian, _nonlin
    from ._dfsane import root_df_sane

    common = inspect.getdoc(_nonlin.root_nonlin)
    classes = {"broyden1": _nonlin.BroydenFirst,
               "broyden2": _nonlin.BroydenSecond,
               "anderson": _nonlin.Anderson,
               "linearmixing": _nonlin.LinearMixing,
               "diagbroyden": _nonlin.DiagBroyden,
               "excitingmixing": _nonlin.ExcitingMixing,
               "krylov": _krylov_jacobian.KrylovJacobian}
    docs = {"hybr": inspect.getdoc(_root_hybr),
            "lm": inspect.getdoc(_root_leastsq)}
    docs.update((name, f"{common}\n\njac_options\n-----------\n\n"
                 f"{inspect.getdoc(cls)}") for name, cls in classes.items())
    docs["df-sane"] = inspect.getdoc(root_df_sane)
    return docs


def show_options(solver=None, method=None, disp=True):
    """Show the options of a fastopt solver method, as SciPy's.

    Parameters
    ----------
    solver : {'root', 'minimize'}, optional
        The solver; both when omitted.
    method : str, optional
        A method of that solver ('hybr', 'lm', 'broyden1', ..., 'df-sane'
        for 'root'; 'slsqp' for 'minimize'); all its methods when omitted.
    disp : bool, optional
        Print the text (default) or return it.

    Returns
    -------
    str or None
        The text when ``disp`` is False.

    Raises
    ------
    ValueError
        For an unknown solver or method.
    """
    if solver is None:
        text = "".join(f"\n\n{name}\n{'=' * len(name)}\n"
                       + show_options(name, disp=False)
                       for name in ("minimize", "root"))
    elif not isinstance(solver, str) or solver.lower() not in ("root",
                                                               "minimize"):
        raise ValueError(f"Unknown solver {solver!r}")
    else:
        docs = _option_docs(solver.lower())
        if method is None:
            text = "".join(f"\n\n{name}\n{'-' * len(name)}\n\n{doc}"
                           for name, doc in docs.items())
        elif not isinstance(method, str) or method.lower() not in docs:
            raise ValueError(f"Unknown method {method!r}")
        else:
            text = docs[method.lower()]
    if disp:
        print(text)
        return None
    return text
